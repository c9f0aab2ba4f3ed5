//! End-to-end tests live in `e2e/`. This library only compiles the README's Rust examples, so
//! the README cannot drift from the API.

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
