//! A typed async client for the [Paperlink](https://www.paperlink.online) public REST API.
//!
//! * The API key is a secret: it is exposed only to build the `Authorization: Bearer` header
//!   (marked sensitive), and `Debug`/`Display` show only its dashboard hint (`pk_live_AbC…`).
//! * Its [`Mode`] (Live/Test) comes from its prefix; a Read-only key can be held as a
//!   [`ReadOnlyClient`] on which writes do not compile.
//! * Every failure is an [`Error`] variant you can match; API errors carry status, code,
//!   message, request id, `Retry-After`, rate-limit headers and field details.
//! * Connection errors, timeouts, `429` and `502`/`503`/`504` (and `500` on reads) are retried
//!   with backoff and `Retry-After`; writes carry an `Idempotency-Key`, the same on every
//!   attempt, so a retry never creates a duplicate.
//! * Lists come as a [`Page`] or as a lazy `Stream` that follows cursors (and stops on a
//!   repeated cursor or after [`MAX_EMPTY_PAGES`] empty pages in a row).
//! * A hostile or broken server cannot exhaust the client: response bodies are capped
//!   ([`ClientBuilder::max_response_bytes`], default [`DEFAULT_MAX_RESPONSE_BYTES`]), and no
//!   redirect is followed ([`Error::Redirected`]), so a write never leaves for another host.
//!
//! # Quickstart
//!
//! This runs offline against [`paperlink-mock`](https://docs.rs/paperlink-mock); against the
//! real API, use [`Client::from_env`] or [`Client::new`] with your key.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use futures_util::TryStreamExt;
//! use paperlink_sdk::{ApiKey, Client, CreateProduct, Decimal, ListProducts, UpdateProduct};
//! # use paperlink_mock::{KeyMode, KeyScope, PaperlinkMock};
//! # let mock = PaperlinkMock::start().await;
//! # let token = mock.token(KeyMode::Test, KeyScope::ReadWrite);
//!
//! let client = Client::builder()
//!     .api_key(ApiKey::from_secret(token)?)
//!     .base_url(mock.base_url())
//!     .build()?;
//!
//! let created = client
//!     .products()
//!     .create(CreateProduct::new("Web Design", Decimal::new(12010, 2), "USD".parse()?).sku("WD-001"))
//!     .await?;
//! assert_eq!(created.unit_price.to_string(), "120.10");
//!
//! let renamed = client.products().update(created.id, UpdateProduct::new().name("Web Design (hourly)")).await?;
//! assert_eq!(renamed.name, "Web Design (hourly)");
//!
//! let all: Vec<_> = client.products().stream(ListProducts::new().limit(100)).try_collect().await?;
//! assert_eq!(all.len(), 1);
//!
//! let archived = client.products().delete(created.id).await?;
//! assert!(archived.is_some());
//! # Ok(())
//! # }
//! ```
//!
//! # Ids and prices
//!
//! A [`ProductId`] comes from a product (`product.id`), or is parsed from its text (the
//! canonical hyphenated UUID, as the API and the dashboard show it), or wraps a `uuid::Uuid`
//! ([`ProductId::from_uuid`]). Prices are [`Decimal`], re-exported from `rust_decimal`, so
//! `paperlink_sdk::Decimal` is the only import they need; they are exact (`120.10` stays
//! `120.10`), never `f64`.
//!
//! ```
//! use paperlink_sdk::{Decimal, ProductId};
//!
//! let id: ProductId = "a1b2c3d4-e5f6-4890-abcd-ef1234567890".parse()?;
//! assert_eq!(id.to_string(), "a1b2c3d4-e5f6-4890-abcd-ef1234567890");
//! assert!("not-an-id".parse::<ProductId>().is_err());
//! assert_eq!(Decimal::new(12010, 2).to_string(), "120.10");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Errors
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # use paperlink_mock::{KeyMode, KeyScope, PaperlinkMock};
//! use paperlink_sdk::{codes, ApiKey, Client, CreateProduct, Decimal, Error};
//! # let mock = PaperlinkMock::start().await;
//! # let token = mock.token(KeyMode::Test, KeyScope::ReadOnly);
//!
//! // A Read-only key used through the untyped path: the server refuses the write.
//! let client = Client::builder().api_key(ApiKey::from_secret(token)?).base_url(mock.base_url()).build()?;
//! let attempt = client.products().create(CreateProduct::new("x", Decimal::ONE, "EUR".parse()?)).await;
//! match attempt {
//!     Err(Error::ScopeInsufficient(api)) => {
//!         assert_eq!(api.status(), 403);
//!         assert_eq!(api.code(), Some(codes::SCOPE_INSUFFICIENT));
//!         assert!(api.request_id().is_some());
//!     }
//!     other => panic!("expected a scope error, got {other:?}"),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! A [`Client`] holding a Read-only key compiles every write, and the server refuses each one
//! at run time with [`Error::ScopeInsufficient`], as above. Only a [`ReadOnlyClient`]
//! ([`Client::read_only`], [`ClientBuilder::build_read_only`]) is checked at compile time: its
//! handles have no write methods. Give a reporting job a `ReadOnlyClient`.
//!
//! Branch on the variant, and where a variant covers several causes, on
//! [`ApiError::code`] compared with a constant of [`codes`] (every code the API sends, once),
//! never on the message.
//!
//! # Testing your code
//!
//! **Against the mock, on one clock.** Give the client the mock's sleep, and every wait (a
//! backoff, a `Retry-After`) moves the mock's clock instead of sleeping: a `429` with
//! `Retry-After: 60` is retried after 60 s of mock time, at once, with the default
//! [`RetryConfig`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use paperlink_mock::{KeyMode, KeyScope, PaperlinkMock, RateLimitPolicy};
//! use paperlink_sdk::{ApiKey, Client, ListProducts};
//!
//! let mock = PaperlinkMock::builder()
//!     .rate_limit(RateLimitPolicy::new(1, Duration::from_secs(60)))
//!     .start()
//!     .await?;
//! let client = Client::builder()
//!     .api_key(ApiKey::from_secret(mock.token(KeyMode::Test, KeyScope::ReadOnly))?)
//!     .base_url(mock.base_url())
//!     .sleep_with(mock.sleeper())
//!     .build()?;
//! client.products().list(ListProducts::new()).await?;
//! client.products().list(ListProducts::new()).await?; // waited out on the mock's clock
//! assert_eq!(mock.journal().iter().map(|r| r.status).collect::<Vec<_>>(), [200, 429, 200]);
//! # Ok(())
//! # }
//! ```
//!
//! Under tokio's paused time instead, both timers must be off (see
//! [`ClientBuilder::no_timeout`]).
//!
//! **The in-process clock stands still.** `PaperlinkMock`'s clock is frozen at its first use
//! and moves only when something advances it (`mock.advance_clock`, or the client's waits
//! through `sleep_with(mock.sleeper())`). Two updates in a row therefore get the same
//! `updatedAt`; a test that checks `updatedAt` moves advances the clock between them. (The
//! standalone server's clock follows real time, plus any advances.)
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use paperlink_mock::{KeyMode, KeyScope, PaperlinkMock};
//! use paperlink_sdk::{ApiKey, Client, CreateProduct, Decimal, UpdateProduct};
//!
//! let mock = PaperlinkMock::start().await;
//! let client = Client::builder()
//!     .api_key(ApiKey::from_secret(mock.token(KeyMode::Test, KeyScope::ReadWrite))?)
//!     .base_url(mock.base_url())
//!     .build()?;
//! let products = client.products();
//! let created = products.create(CreateProduct::new("Web Design", Decimal::ONE, "EUR".parse()?)).await?;
//! let first = products.update(created.id, UpdateProduct::new().unit_price(Decimal::TWO)).await?;
//! let second = products.update(created.id, UpdateProduct::new().unit_price(Decimal::TEN)).await?;
//! assert_eq!(first.updated_at, second.updated_at); // the clock did not move
//!
//! mock.advance_clock(Duration::from_secs(1));
//! let third = products.update(created.id, UpdateProduct::new().unit_price(Decimal::ONE)).await?;
//! assert_eq!((third.updated_at - second.updated_at).whole_seconds(), 1);
//! # Ok(())
//! # }
//! ```
//!
//! **The same names in both crates.** [`ProductStatus`], [`FieldError`] and
//! [`MAX_IDEMPOTENCY_KEY`] exist in `paperlink_sdk` and in `paperlink_mock`. The SDK's are what
//! your code gets from the API; the mock's describe the mock's own state (`mock.products(..)`)
//! and its wire helpers. They agree, but they are different types: in a test that uses both,
//! import the SDK's and name the mock's by path (or rename one on import).
//!
//! ```
//! use paperlink_mock::ProductStatus as MockStatus;
//! use paperlink_sdk::{MAX_IDEMPOTENCY_KEY, ProductStatus};
//!
//! // The same wire spelling on both sides.
//! assert_eq!(serde_json::to_value(MockStatus::Archived)?, ProductStatus::Archived.as_str());
//! assert_eq!(MAX_IDEMPOTENCY_KEY, paperlink_mock::bounds::MAX_IDEMPOTENCY_KEY);
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! **Against a fake.** Code written against [`ProductsRead`] / [`ProductsApi`] takes a fake in
//! unit tests; [`testing`] builds what the fake returns (products, every API error) and shows
//! a complete one. [`async_trait`](macro@crate::async_trait) is re-exported for implementing the traits.

mod api;
mod auth;
mod client;
pub mod codes;
mod config;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod pagination;
mod products;
mod rate_limit;
mod retry;
mod scope;
pub mod testing;
mod types;

pub use api::{ProductStream, ProductsApi, ProductsRead};
/// Re-exported so that implementing [`ProductsRead`] or [`ProductsApi`] needs no other crate.
pub use async_trait::async_trait;
pub use auth::{ApiKey, KeyError, Mode};
pub use client::{
    Client, Detailed, MAX_IDEMPOTENCY_KEY, ReadOnlyClient, ResponseMeta, WriteOptions,
    idempotency_key_from,
};
pub use config::{
    ClientBuilder, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT, ENV_API_KEY, ENV_BASE_URL, MAX_RESPONSE_BYTES_RANGE, install_crypto_provider,
};
pub use error::{ApiError, ConfigError, Error, FieldError, Result, TransportError};
pub use pagination::{MAX_EMPTY_PAGES, Page};
pub use products::{
    CreateProduct, ListProducts, Patch, Product, ProductStatus, Products, StatusFilter,
    UpdateProduct,
};
pub use rate_limit::RateLimit;
pub use retry::{
    DEFAULT_INITIAL_BACKOFF, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_BACKOFF, DEFAULT_MAX_RETRY_AFTER,
    DEFAULT_TOTAL_DEADLINE, RetryConfig,
};
pub use scope::{ReadOnly, ReadWrite, Scope};
pub use types::{Currency, CurrencyError, ProductId};

/// Re-exported so callers need not depend on `rust_decimal` themselves for prices.
pub use rust_decimal::Decimal;
