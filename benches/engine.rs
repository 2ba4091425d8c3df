//! Placeholder; the owner replaces it.
fn main() {}
