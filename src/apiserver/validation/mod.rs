//! kube-apiserver v1.32's batch/v1 validation (`pkg/apis/batch/validation`), with the
//! ObjectMeta, name and label validators it calls from apimachinery, in the API server's
//! order and wording.

mod cronjob;
mod job;
mod job_policies;
mod job_update;
mod meta;
pub(crate) mod names;
mod pod;

pub(crate) use cronjob::crashes_parser;
pub(super) use cronjob::validate as cronjob;
pub(super) use job::validate as job;
pub(super) use pod::template_warnings;
