//! End-to-end tests: paperlink-sdk against paperlink-mock (and wiremock stubs where a server
//! must misbehave in ways the mock never does).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod bad_input;
mod contract;
mod edges;
mod fake_parity;
mod fakes;
mod front_doors;
mod guides;
mod helpers;
mod hostile;
mod in_process;
mod integrator;
mod keys_page;
mod load;
mod mock_rules;
mod one_clock;
mod remote;
mod roles;
mod sandbox_rules;
mod sdk_mock;
mod sdk_wire;
mod shapes;
