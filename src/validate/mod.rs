//! `batchguard validate`: files to documents to findings to a report.
//!
//! STUB: the validate owner replaces this.
