//! Tests that drive the whole core through a front door: the engine against inputs at its
//! edges, the served document against what the core emits, the data file, and the standalone
//! server over real sockets. A file's own unit tests sit at the end of that file.

mod architecture;
mod contract;
#[cfg(feature = "durable")]
mod data_file;
#[cfg(feature = "durable")]
mod data_file_refusals;
#[cfg(feature = "durable")]
mod data_file_wal;
mod engine;
#[cfg(feature = "server")]
mod standalone;
