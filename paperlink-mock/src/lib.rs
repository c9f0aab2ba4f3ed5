//! A faithful, stateful mock of the [Paperlink](https://www.paperlink.online) public REST API,
//! for integrators who test offline and still want to catch real mistakes: wrong keys, wrong
//! scopes, revoked keys, bad payloads, pagination bugs, retry bugs.
//!
//! One request-handling core ([`MockCore`]) sits behind two front doors:
//!
//! * [`PaperlinkMock`]: in-process, on a [`wiremock`] server. Each test starts its own (own
//!   state, own port; a start takes a pooled server in under a microsecond, and the state is
//!   built on first use), and keeps wiremock's priorities, mounts and `received_requests()` on
//!   top of the real behaviour.
//! * the `paperlink-mock` binary (default `server` feature): a lean hyper server for a shared
//!   sandbox, with the same behaviour, a control plane under `/__admin`, limits for slow and
//!   silent clients ([`standalone::Limits`]), and durable state in SQLite
//!   ([`PaperlinkMockBuilder::data_file`], the `durable` feature).
//!
//! # Start, and use the seeded keys
//!
//! Every mock starts with one team (`default`) and four keys: Live and Test, each Read & Write
//! and Read-only.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let _ = rustls::crypto::ring::default_provider().install_default();
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
//! # let _ = rustls::crypto::ring::default_provider().install_default();
//! use paperlink_mock::{KeyMode, KeyScope, PaperlinkMock};
//! use secrecy::ExposeSecret;
//!
//! let mock = PaperlinkMock::start().await;
//! let ci = mock.create_key("CI Pipeline", KeyMode::Test, KeyScope::ReadOnly);
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
//! # let _ = rustls::crypto::ring::default_provider().install_default();
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
//! # Faults and your own wiremock mocks
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let _ = rustls::crypto::ring::default_provider().install_default();
//! use paperlink_mock::{KeyMode, KeyScope, PaperlinkMock};
//! use secrecy::ExposeSecret;
//! use wiremock::{Mock, ResponseTemplate, matchers::{method, path}};
//!
//! let mock = PaperlinkMock::start().await;
//! mock.fail_next("GET", "/products", 1, 503, Some(1));
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
//! # The choices the mock makes where Paperlink's docs are silent
//!
//! | Question | The mock's answer |
//! |---|---|
//! | Token format | `pk_live_`/`pk_test_` + 32 random alphanumerics; only a SHA-256 hash is stored, compared in constant time |
//! | 401 body | `{"error":{"code":"unauthorized","message":…}}` + `WWW-Authenticate: Bearer`; unknown and revoked keys get the same body |
//! | Order of checks | route 404/405, 401, 403, 429, idempotent replay, 413/415/400, 404, 409 |
//! | Validation | 400 `validation_error` with `details: [{field, message}]`; lengths count characters; `currency` must be `^[A-Z]{3}$`; `name` and `sku` must not be blank; numbers must be exact decimals (≤ 28 places) and non-negative (a minus sign, even `-0`, is refused) |
//! | Non-JSON body / over 1 MiB | 415 `unsupported_media_type` / 413 `payload_too_large` |
//! | Duplicate SKU | 409 `sku_conflict`, per (team, mode), archived products included, compared case-sensitively after trimming |
//! | Rate limit | sliding window per key, 60 per 60 s of mock time; `X-RateLimit-Limit/Remaining/Reset` (Unix seconds) on every authenticated response; 429 `rate_limit_exceeded` + `Retry-After`. A 403 does not count |
//! | Idempotency-Key | POST, PATCH, DELETE; scoped to (key, method, path); kept 24 h of mock time; same body (the same fields with the same value text; key order and spacing do not matter, `120.1` is not `120.10`) replays the first 2xx with `Idempotent-Replayed: true`; different body 409 `idempotency_key_reused`; errors are not stored, so a failed call can be retried with the same key |
//! | Ordering and cursors | newest first, ties by id descending; `nextCursor` = last id when `hasMore`, else `null`; an unknown or foreign `after` is 400 |
//! | Non-UUID id | 404 `product_not_found` |
//! | Create | 201 + `Location: /api/v1/products/{id}`; `type` defaults to `SERVICES`, `unitOfMeasure` to `unit` |
//! | Update | partial; `null` clears `description`, `sku`, `taxRate`; `{}` changes nothing (not even `updatedAt`); unknown fields (including `status`) ignored; archived products can be updated |
//! | Delete | archives (soft delete), 200 with the product; again: 200, unchanged |
//! | Revocation | immediate by default, or after a configured delay of mock time; revoked keys listed with `revokedAt`/`revokedBy` for 90 days of mock time |
//! | Request id | `X-Request-Id` (a UUID) on every response |
//! | `openapi.json` | served without auth |
//! | A write the data file refuses (`--data`) | 503 `storage_unavailable`; the change is undone before the answer goes out, so it is never visible afterwards |
//! | Clock | in-process: frozen at first use (`start()`) or at start (`builder()`), moved with `advance_clock`; standalone: real time plus advances; never past [`CLOCK_END`] (9000-01-01; a later advance is a 400, and `advance_clock` stops there) |
//!
//! Key management is in Paperlink's dashboard, not its API, so the mock exposes it through its
//! own control plane (the methods of [`PaperlinkMock`], and `/__admin` over HTTP), never under
//! `/api/v1`.

mod auth;
mod catalog;
mod change;
mod config;
mod control;
mod core;
mod openapi;
#[cfg(feature = "durable")]
mod persist;
mod routes;
mod server;
mod sharded;
#[cfg(feature = "server")]
pub mod standalone;
mod state;

mod model;

pub use auth::{KeyInfo, KeyMode, KeyScope, REVOKED_KEY_RETENTION};
pub use config::{
    DEFAULT_JOURNAL_CAPACITY, DEFAULT_TEAM, MockError, NewKey, PaperlinkMockBuilder, SeedProduct,
    SeededKey, parse_seed_file,
};
pub use core::{API_PREFIX, API_ROUTES, MockCore, MockRequest, MockResponse};
pub use model::{
    FieldError, MAX_BODY, MAX_DESCRIPTION, MAX_NAME, MAX_SHORT, MAX_SKU, Number, ProductRecord,
    ProductStatus,
};
pub use openapi::DOCUMENT as OPENAPI_DOCUMENT;
pub use server::{CORE_PRIORITY, PaperlinkMock};
pub use state::{
    CLOCK_END, Fault, FaultKind, IDEMPOTENCY_RETENTION, JOURNAL_CUT_MARKER, JOURNAL_FIELD_MAX,
    JOURNAL_MAX_BYTES, MAX_PERIOD, RateLimitPolicy, RequestRecord,
};
