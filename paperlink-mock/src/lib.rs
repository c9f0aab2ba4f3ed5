//! A faithful, stateful mock of the [Paperlink](https://www.paperlink.online) public REST API,
//! for integrators who test offline and still want to catch real mistakes: wrong keys, wrong
//! scopes, revoked keys, bad payloads, pagination bugs, retry bugs.
//!
//! One request-handling core ([`engine::MockCore`]) sits behind two front doors:
//!
//! * [`PaperlinkMock`]: in-process, on a [`wiremock`] server. Each test starts its own (own
//!   state, own port; a start takes a pooled server in under a microsecond, and the state is
//!   built on first use), and keeps wiremock's priorities, mounts and `received_requests()` on
//!   top of the real behaviour.
//! * the `paperlink-mock` binary (default `server` feature): a lean hyper server for a shared
//!   sandbox, with the same behaviour, a control plane under `/__admin`, the API Keys page,
//!   limits for slow, silent and non-reading clients ([`standalone::Limits`]), a guard on the
//!   `Host`, `Origin` and body type it takes, and durable state in SQLite
//!   ([`PaperlinkMockBuilder::data_file`], the `durable` feature).
//!
//! A running binary's control plane is also a typed Rust client, [`remote::ControlPlane`]
//! (the `remote` feature), with a sleeper that moves the binary's clock. The mock's limits,
//! periods and defaults are in [`bounds`].
//!
//! # Start, and use the seeded keys
//!
//! Every mock starts with one team (`default`) and four keys: Live and Test, each Read & Write
//! and Read-only.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # paperlink_sdk::install_crypto_provider();
//! use paperlink_mock::{KeyMode, KeyScope, PaperlinkMock};
//! use secrecy::ExposeSecret;
//!
//! let mock = PaperlinkMock::start().await;
//! let token = mock.token(KeyMode::Test, KeyScope::ReadWrite);
//!
//! let response = reqwest::Client::new()
//!     .post(format!("{}/products", mock.base_url()))
//!     .bearer_auth(token.expose_secret())
//!     .header("content-type", "application/json")
//!     .body(r#"{"name":"Web Design","unitPrice":120.10,"currency":"USD"}"#)
//!     .send()
//!     .await?;
//! assert_eq!(response.status(), 201);
//! assert!(response.text().await?.contains(r#""unitPrice":120.10"#));
//! assert_eq!(mock.products(KeyMode::Test).len(), 1);
//! assert!(mock.products(KeyMode::Live).is_empty()); // modes never see each other
//! # Ok(())
//! # }
//! ```
//!
//! # Keys: create, revoke, inspect
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # paperlink_sdk::install_crypto_provider();
//! use paperlink_mock::{KeyMode, KeyScope, PaperlinkMock};
//! use secrecy::ExposeSecret;
//!
//! let mock = PaperlinkMock::start().await;
//! let ci = mock.create_key("CI Pipeline", KeyMode::Test, KeyScope::ReadOnly)?;
//! let http = reqwest::Client::new();
//! let list = |token: String| http.get(format!("{}/products", mock.base_url())).bearer_auth(token).send();
//!
//! assert_eq!(list(ci.token.expose_secret().to_owned()).await?.status(), 200);
//! mock.revoke_key(ci.info.id)?;
//! assert_eq!(list(ci.token.expose_secret().to_owned()).await?.status(), 401);
//!
//! let listed = mock.keys();
//! let revoked = listed.iter().find(|k| k.id == ci.info.id).ok_or("listed")?;
//! assert!(revoked.revoked_at.is_some() && revoked.last_used_at.is_some());
//! # Ok(())
//! # }
//! ```
//!
//! # Seed products, rate limits, the clock
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # paperlink_sdk::install_crypto_provider();
//! use std::time::Duration;
//! use paperlink_mock::{KeyMode, KeyScope, PaperlinkMock, RateLimitPolicy, SeedProduct};
//! use rust_decimal::Decimal;
//! use secrecy::ExposeSecret;
//!
//! let mock = PaperlinkMock::builder()
//!     .seed(42)
//!     .rate_limit(RateLimitPolicy::new(2, Duration::from_secs(60)))
//!     .product(KeyMode::Test, SeedProduct::new("Hosting", Decimal::new(999, 2), "EUR").sku("HOST-1"))
//!     .start()
//!     .await?;
//! let token = mock.token(KeyMode::Test, KeyScope::ReadOnly);
//! let get = || reqwest::Client::new().get(format!("{}/products", mock.base_url())).bearer_auth(token.expose_secret()).send();
//!
//! assert_eq!(get().await?.status(), 200);
//! assert_eq!(get().await?.status(), 200);
//! let limited = get().await?;
//! assert_eq!(limited.status(), 429);
//! assert_eq!(limited.headers()["retry-after"], "60");
//!
//! mock.advance_clock(Duration::from_secs(60));
//! assert_eq!(get().await?.status(), 200);
//! # Ok(())
//! # }
//! ```
//!
//! The in-process clock is frozen at first use and moves only with
//! [`PaperlinkMock::advance_clock`] (or a [`PaperlinkMock::sleeper`] the code under test
//! waits on): two updates in a row get the same `updatedAt`, so a test that checks
//! `updatedAt` moves advances the clock between them. The standalone server's clock follows
//! real time, plus any advances.
//!
//! # Faults and your own wiremock mocks
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # paperlink_sdk::install_crypto_provider();
//! use paperlink_mock::{KeyMode, KeyScope, PaperlinkMock};
//! use secrecy::ExposeSecret;
//! use wiremock::{Mock, ResponseTemplate, matchers::{method, path}};
//!
//! let mock = PaperlinkMock::start().await;
//! mock.fail_next("GET", "/products", 1, 503, Some(1))?;
//!
//! // A test's own Mock outranks the core (which sits at the lowest priority).
//! Mock::given(method("GET")).and(path("/api/v1/products/00000000-0000-0000-0000-000000000000"))
//!     .respond_with(ResponseTemplate::new(500))
//!     .mount(mock.server())
//!     .await;
//!
//! let token = mock.token(KeyMode::Live, KeyScope::ReadWrite);
//! let http = reqwest::Client::new();
//! let first = http.get(format!("{}/products", mock.base_url())).bearer_auth(token.expose_secret()).send().await?;
//! assert_eq!((first.status().as_u16(), first.headers()["retry-after"].to_str()?), (503, "1"));
//! let second = http.get(format!("{}/products", mock.base_url())).bearer_auth(token.expose_secret()).send().await?;
//! assert_eq!(second.status(), 200);
//! assert_eq!(mock.received_requests().await.len(), 2);
//! assert_eq!(mock.journal().iter().map(|r| r.status).collect::<Vec<_>>(), [503, 200]);
//! # Ok(())
//! # }
//! ```
//!
//! [`Fault::new`] hits every matching request until limited with [`Fault::times`] or
//! [`Fault::with_probability`]; [`FaultKind::Delay`] handles the request and answers late:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # paperlink_sdk::install_crypto_provider();
//! use paperlink_mock::{Fault, FaultKind, KeyMode, KeyScope, PaperlinkMock};
//! use secrecy::ExposeSecret;
//!
//! let mock = PaperlinkMock::start().await;
//! mock.inject(Fault::new("GET", "/products", FaultKind::Delay { millis: 50 }).times(1))?;
//! let token = mock.token(KeyMode::Test, KeyScope::ReadOnly);
//! let list = || reqwest::Client::new().get(format!("{}/products", mock.base_url())).bearer_auth(token.expose_secret()).send();
//! let started = std::time::Instant::now();
//! assert_eq!(list().await?.status(), 200); // late
//! assert!(started.elapsed() >= std::time::Duration::from_millis(50));
//! assert_eq!(list().await?.status(), 200); // the fault is spent
//! # Ok(())
//! # }
//! ```
//!
//! `ProductStatus`, `FieldError` and `MAX_IDEMPOTENCY_KEY` also exist in `paperlink_sdk`, as
//! the types your code gets from the API; these are the mock's own. In a test that uses both,
//! import one crate's by path or rename it (`use paperlink_mock::ProductStatus as MockStatus;`).
//!
//! # One clock for the mock and the code under test
//!
//! [`PaperlinkMock::sleeper`] is a sleep that advances the mock's clock instead of waiting.
//! Given to the SDK (`ClientBuilder::sleep_with(mock.sleeper())`) or to your own code, every
//! wait runs on the mock's clock: a `429` with `Retry-After: 60` is retried after 60 s of mock
//! time, at once, and rate windows, revocation delays and idempotency expiry follow the same
//! clock. Its signature is plain std, so this crate does not depend on the SDK.
//!
//! # Your own mocks in the API's shapes
//!
//! The [`wire`] module renders a product, a page and an error as the mock serves them, for a
//! test's own wiremock `Mock`s.
//!
//! # Team roles, and the API Keys page
//!
//! As in Paperlink, a team's members have a role (`OWNER`, `ADMIN`, `MANAGER`, `MEMBER`),
//! only an Owner or an Admin manages keys, and each team has exactly one Owner (`owner`
//! until ownership is transferred; a call that names no member acts as the Owner):
//! [`PaperlinkMock::add_member`], [`PaperlinkMock::set_member_role`],
//! [`PaperlinkMock::create_key_as`], [`PaperlinkMock::revoke_key_as`], and
//! `/__admin/teams/{team}/members` over HTTP. The standalone server also serves Paperlink's
//! API Keys page at `/__admin/ui` (create a key and see its token once, revoke, see the
//! requests), rendered on the server with no script.
//!
#![doc = include_str!("../ARCHITECTURE.md")]
//!
//! # The control plane
//!
//! Every `/__admin` call, its body and its answer, with examples (checked by a test against
//! the served answers):
//!
#![doc = include_str!("../CONTROL_PLANE.md")]
//!
//! # The choices the mock makes where Paperlink's docs are silent
//!
//! (One source, `DECISIONS.md`, shown here and linked from the README.)
//!
#![doc = include_str!("../DECISIONS.md")]
//!
//! Key management is in Paperlink's dashboard, not its API, so the mock exposes it through its
//! own control plane (the methods of [`PaperlinkMock`], and `/__admin` over HTTP), never under
//! `/api/v1`.

pub mod bounds;
mod builder;
pub mod engine;
mod error;
mod in_process;
mod model;
#[cfg(feature = "durable")]
mod persist;
#[cfg(feature = "remote")]
pub mod remote;
#[cfg(feature = "server")]
pub mod standalone;
#[cfg(test)]
mod tests;
#[cfg(feature = "server")]
mod ui;
pub mod wire;

pub use builder::{NewKey, PaperlinkMockBuilder, parse_seed_file};
pub use engine::faults::{Fault, FaultKind};
pub use engine::journal::RequestRecord;
pub use engine::rate_limit::RateLimitPolicy;
pub use error::MockError;
pub use in_process::PaperlinkMock;
pub use model::{
    FieldError, KeyInfo, KeyMode, KeyScope, Member, Number, ProductRecord, ProductStatus,
    SeedProduct, TeamRole,
};
/// Copies a data file safely, while a server may be writing to it (`paperlink-mock backup`).
#[cfg(feature = "durable")]
pub use persist::backup::backup as backup_data_file;
