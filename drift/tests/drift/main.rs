//! The real `paperlink-drift` binary against loopback servers each test starts: the
//! standalone mock, a proxy in front of it that differs in known ways or cuts connections,
//! servers that answer garbage, close connections or redirect.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod against_the_mock;
mod cleanup;
mod helpers;
mod safety;
mod servers;
mod unusable;

use helpers::Target;

/// The arguments as the helpers take them.
pub fn strings(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// `--base-url URL --key RO --write-key RW --json`.
pub fn full_run(base_url: &str, target: &Target) -> Vec<String> {
    vec![
        "--base-url".into(),
        base_url.into(),
        "--key".into(),
        target.read_only.clone(),
        "--write-key".into(),
        target.read_write.clone(),
        "--json".into(),
    ]
}
