//! Building blocks for test doubles: every value the API can answer with, built in Rust.
//!
//! Code that depends on [`ProductsRead`](crate::ProductsRead) or
//! [`ProductsApi`](crate::ProductsApi) can be tested against a fake. A fake returns products
//! ([`ProductBuilder`]), pages ([`Page::new`](crate::Page::new)), the metadata of a write
//! ([`ResponseMeta`](crate::ResponseMeta)) and every API error ([`ApiErrorBuilder`], with
//! status, code, message, request id, `Retry-After`, rate limit and field details), all
//! without wire JSON. For the wire itself, use `paperlink-mock`.
//!
//! A fake that returns a page of products, then a `429`:
//!
//! ```
//! use std::sync::Mutex;
//! use std::time::Duration;
//! use paperlink_sdk::testing::{ApiErrorBuilder, ProductBuilder};
//! use paperlink_sdk::{
//!     async_trait, Error, ListProducts, Page, Product, ProductId, ProductsRead, Result,
//! };
//!
//! /// Answers the first list with two products, every later one with a 429.
//! struct Flaky {
//!     calls: Mutex<u32>,
//! }
//!
//! #[async_trait]
//! impl ProductsRead for Flaky {
//!     async fn list_products(&self, params: ListProducts) -> Result<Page<Product>> {
//!         let mut calls = self.calls.lock().unwrap();
//!         *calls += 1;
//!         if *calls > 1 {
//!             return Err(ApiErrorBuilder::rate_limited(Duration::from_secs(30)).into_error());
//!         }
//!         let limit = params.get_limit().unwrap_or(20) as usize;
//!         let items = ["Web Design", "Hosting"]
//!             .into_iter()
//!             .map(|name| ProductBuilder::new().name(name).build())
//!             .take(limit)
//!             .collect();
//!         Ok(Page::new(items, Some("cursor-2".into())))
//!     }
//!
//!     async fn get_product(&self, _id: ProductId) -> Result<Product> {
//!         Err(ApiErrorBuilder::not_found().into_error())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use futures_util::StreamExt;
//!
//! let fake = Flaky { calls: Mutex::new(0) };
//! // `stream_products` comes with the trait: it pages through `list_products`.
//! let results: Vec<Result<Product>> = fake.stream_products(ListProducts::new()).collect().await;
//! assert_eq!(results.len(), 3);
//! assert_eq!(results[0].as_ref().map(|p| p.name.as_str()).ok(), Some("Web Design"));
//! match &results[2] {
//!     Err(Error::RateLimited(api)) => {
//!         assert_eq!(api.retry_after(), Some(Duration::from_secs(30)));
//!     }
//!     other => panic!("expected a 429, got {other:?}"),
//! }
//! # }
//! ```

use std::time::Duration;

use rust_decimal::Decimal;
use time::OffsetDateTime;

use crate::codes;
use crate::error::{ApiError, Error, FieldError};
use crate::products::{Product, ProductStatus};
use crate::rate_limit::RateLimit;
use crate::types::{Currency, ProductId};

/// The time a built product is created and updated at unless set: 2025-01-15 10:00:00 UTC,
/// the date of the API's own examples.
pub const DEFAULT_TIMESTAMP: OffsetDateTime =
    match OffsetDateTime::from_unix_timestamp(1_736_935_200) {
        Ok(at) => at,
        Err(_) => OffsetDateTime::UNIX_EPOCH,
    };

/// Builds a [`Product`] as the API would return it, with sensible defaults: a random id,
/// name `Product`, price `1.00 USD`, no description, SKU or tax rate, type `SERVICES`, no unit
/// of measure, active, created and updated at [`DEFAULT_TIMESTAMP`].
///
/// ```
/// use paperlink_sdk::testing::ProductBuilder;
/// use paperlink_sdk::{Decimal, ProductStatus};
///
/// let product = ProductBuilder::new()
///     .name("Web Design")
///     .unit_price(Decimal::new(12010, 2))
///     .sku("WD-001")
///     .status(ProductStatus::Archived)
///     .build();
/// assert_eq!(product.unit_price.to_string(), "120.10");
/// assert_eq!(product.currency.as_str(), "USD");
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ProductBuilder {
    product: Product,
}

impl Default for ProductBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ProductBuilder {
    /// A product with the defaults.
    pub fn new() -> Self {
        Self {
            product: Product {
                id: ProductId::from_uuid(uuid::Uuid::new_v4()),
                name: "Product".to_owned(),
                unit_price: Decimal::new(100, 2),
                currency: Currency::USD,
                description: None,
                sku: None,
                tax_rate: None,
                product_type: "SERVICES".to_owned(),
                unit_of_measure: String::new(),
                status: ProductStatus::Active,
                created_at: DEFAULT_TIMESTAMP,
                updated_at: DEFAULT_TIMESTAMP,
            },
        }
    }

    /// The id.
    pub fn id(mut self, id: ProductId) -> Self {
        self.product.id = id;
        self
    }

    /// The name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.product.name = name.into();
        self
    }

    /// The unit price.
    pub fn unit_price(mut self, price: Decimal) -> Self {
        self.product.unit_price = price;
        self
    }

    /// The currency.
    pub fn currency(mut self, currency: Currency) -> Self {
        self.product.currency = currency;
        self
    }

    /// The description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.product.description = Some(description.into());
        self
    }

    /// The SKU.
    pub fn sku(mut self, sku: impl Into<String>) -> Self {
        self.product.sku = Some(sku.into());
        self
    }

    /// The tax rate.
    pub fn tax_rate(mut self, rate: Decimal) -> Self {
        self.product.tax_rate = Some(rate);
        self
    }

    /// The product type.
    pub fn product_type(mut self, product_type: impl Into<String>) -> Self {
        self.product.product_type = product_type.into();
        self
    }

    /// The unit of measure.
    pub fn unit_of_measure(mut self, unit: impl Into<String>) -> Self {
        self.product.unit_of_measure = unit.into();
        self
    }

    /// The status.
    pub fn status(mut self, status: ProductStatus) -> Self {
        self.product.status = status;
        self
    }

    /// When it was created (also its update time, unless [`updated_at`](Self::updated_at)
    /// is set afterwards).
    pub fn created_at(mut self, at: OffsetDateTime) -> Self {
        self.product.created_at = at;
        self.product.updated_at = at;
        self
    }

    /// When it last changed.
    pub fn updated_at(mut self, at: OffsetDateTime) -> Self {
        self.product.updated_at = at;
        self
    }

    /// The product.
    pub fn build(self) -> Product {
        self.product
    }
}

impl From<ProductBuilder> for Product {
    fn from(builder: ProductBuilder) -> Self {
        builder.build()
    }
}

/// Builds an API error as a response would carry it, and the [`Error`] variant the client
/// would return for it ([`into_error`](Self::into_error) maps the status exactly as the
/// client does: `401` → `Unauthorized`, `429` → `RateLimited`, …).
///
/// ```
/// use std::time::Duration;
/// use paperlink_sdk::testing::ApiErrorBuilder;
/// use paperlink_sdk::{codes, Error, RateLimit};
///
/// let error = ApiErrorBuilder::new(400)
///     .code(codes::VALIDATION_ERROR)
///     .message("the request is invalid")
///     .field("unitPrice", "must be greater than or equal to 0")
///     .request_id("req-1")
///     .into_error();
/// assert!(matches!(&error, Error::Validation(api) if api.details()[0].field == "unitPrice"));
///
/// let limited = ApiErrorBuilder::rate_limited(Duration::from_secs(60))
///     .rate_limit(RateLimit::new(60, 0, None))
///     .into_error();
/// assert!(limited.is_retryable());
/// assert_eq!(limited.api_error().and_then(|e| e.rate_limit()).map(|r| r.remaining), Some(0));
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ApiErrorBuilder {
    error: ApiError,
}

impl ApiErrorBuilder {
    /// An error with this status, the status's reason as its message, and nothing else.
    pub fn new(status: u16) -> Self {
        Self {
            error: ApiError::from_response(status, b"", None, None, None),
        }
    }

    /// `401 unauthorized` ([`codes::UNAUTHORIZED`]): a missing, unknown or revoked key.
    pub fn unauthorized() -> Self {
        Self::new(401)
            .code(codes::UNAUTHORIZED)
            .message("invalid or revoked API key")
    }

    /// `403 scope_insufficient` ([`codes::SCOPE_INSUFFICIENT`]): a write with a Read-only key.
    pub fn scope_insufficient() -> Self {
        Self::new(403)
            .code(codes::SCOPE_INSUFFICIENT)
            .message("this API key is Read-only; writes need a Read & Write key")
    }

    /// `404 product_not_found` ([`codes::PRODUCT_NOT_FOUND`]): no product with this id in the
    /// key's team and mode.
    pub fn not_found() -> Self {
        Self::new(404)
            .code(codes::PRODUCT_NOT_FOUND)
            .message("no product with this id")
    }

    /// `409 sku_conflict` ([`codes::SKU_CONFLICT`]): the SKU is taken in this team and mode.
    pub fn sku_conflict() -> Self {
        Self::new(409)
            .code(codes::SKU_CONFLICT)
            .message("a product with this sku already exists")
    }

    /// `409 idempotency_key_reused` ([`codes::IDEMPOTENCY_KEY_REUSED`]): the key was used with
    /// another body.
    pub fn idempotency_key_reused() -> Self {
        Self::new(409)
            .code(codes::IDEMPOTENCY_KEY_REUSED)
            .message("this Idempotency-Key was used with a different request body")
    }

    /// `400 validation_error` ([`codes::VALIDATION_ERROR`]) on one field.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(400)
            .code(codes::VALIDATION_ERROR)
            .message("the request is invalid")
            .field(field, message)
    }

    /// `429 rate_limit_exceeded` ([`codes::RATE_LIMIT_EXCEEDED`]) with this `Retry-After`.
    pub fn rate_limited(retry_after: Duration) -> Self {
        Self::new(429)
            .code(codes::RATE_LIMIT_EXCEEDED)
            .message("too many requests for this API key")
            .retry_after(retry_after)
    }

    /// A `5xx` (`500`, `502`, `503`, …) as paperlink-mock's fault injection answers it: the
    /// status's reason as its message, and the code the mock sends with that status
    /// ([`codes::INTERNAL_ERROR`], [`codes::BAD_GATEWAY`], [`codes::SERVICE_UNAVAILABLE`],
    /// [`codes::GATEWAY_TIMEOUT`], else [`codes::INJECTED_FAULT`]).
    pub fn server_error(status: u16) -> Self {
        Self::new(status).code(codes::injected(status))
    }

    /// The machine-readable code.
    pub fn code(mut self, code: impl Into<String>) -> Self {
        self.error.code = Some(code.into());
        self
    }

    /// The human-readable message.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.error.message = message.into();
        self
    }

    /// Adds a field-level detail.
    pub fn field(mut self, field: impl Into<String>, message: impl Into<String>) -> Self {
        self.error.details.push(FieldError::new(field, message));
        self
    }

    /// The `X-Request-Id`.
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.error.request_id = Some(id.into());
        self
    }

    /// The `Retry-After`.
    pub fn retry_after(mut self, wait: Duration) -> Self {
        self.error.retry_after = Some(wait);
        self
    }

    /// The `X-RateLimit-*` headers.
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.error.rate_limit = Some(limit);
        self
    }

    /// The error body and metadata.
    pub fn build(self) -> ApiError {
        self.error
    }

    /// The [`Error`] the client returns for this response.
    pub fn into_error(self) -> Error {
        Error::from_api(self.error)
    }
}

impl From<ApiErrorBuilder> for Error {
    fn from(builder: ApiErrorBuilder) -> Self {
        builder.into_error()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shortcut_maps_to_the_variant_the_client_returns() {
        type Check = fn(&Error) -> bool;
        let cases: [(ApiErrorBuilder, Check); 8] = [
            (ApiErrorBuilder::unauthorized(), |e| {
                matches!(e, Error::Unauthorized(_))
            }),
            (ApiErrorBuilder::scope_insufficient(), |e| {
                matches!(e, Error::ScopeInsufficient(_))
            }),
            (ApiErrorBuilder::not_found(), |e| {
                matches!(e, Error::NotFound(_))
            }),
            (ApiErrorBuilder::sku_conflict(), |e| {
                matches!(e, Error::Conflict(_))
            }),
            (ApiErrorBuilder::idempotency_key_reused(), |e| {
                matches!(e, Error::Conflict(_))
            }),
            (ApiErrorBuilder::validation("limit", "too big"), |e| {
                matches!(e, Error::Validation(_))
            }),
            (ApiErrorBuilder::rate_limited(Duration::from_secs(1)), |e| {
                matches!(e, Error::RateLimited(_))
            }),
            (ApiErrorBuilder::server_error(503), |e| {
                matches!(e, Error::Server(_)) && e.is_retryable()
            }),
        ];
        for (builder, check) in cases {
            let error = builder.into_error();
            assert!(check(&error), "{error:?}");
        }
        let plain = ApiErrorBuilder::new(418).build();
        assert_eq!(plain.message(), "i'm a teapot");
        assert_eq!(plain.code(), None);
    }

    #[test]
    fn a_built_product_has_the_defaults() {
        let product = ProductBuilder::new()
            .name("x")
            .tax_rate(Decimal::new(200, 1))
            .build();
        assert_eq!(product.product_type, "SERVICES");
        assert_eq!(product.status, ProductStatus::Active);
        assert_eq!(product.created_at, DEFAULT_TIMESTAMP);
        assert_eq!(DEFAULT_TIMESTAMP.unix_timestamp(), 1_736_935_200);
        assert_ne!(
            ProductBuilder::new().build().id,
            product.id,
            "ids are fresh"
        );
    }
}
