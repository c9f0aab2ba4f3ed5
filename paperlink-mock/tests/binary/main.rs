//! The `paperlink-mock` binary, over real processes, sockets and files. (Here rather than in
//! the `paperlink-tests` package because Cargo only tells a package's own tests where its
//! binaries are.) One test binary.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod data_file;
mod helpers;
