//! Go's standard library where the API server's messages depend on it: `strconv.Quote`
//! (every `Invalid value: "…"`), `strconv.Atoi` and `time.ParseDuration` (robfig/cron's
//! error texts), and `encoding/json`'s number printing (decode errors). Each is a literal
//! port, checked against Go on the edge cases; none knows about Kubernetes.

mod atoi;
mod duration;
mod json;
mod quote;
mod quote_table;

pub use atoi::{atoi, AtoiError};
pub use duration::parse_go_duration;
pub use json::json_number_text;
pub use quote::{go_quote, is_print};
