//! Placeholder; the server owner replaces it.
fn main() {}
