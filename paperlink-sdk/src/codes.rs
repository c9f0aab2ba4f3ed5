//! Every error code the API sends, once, as a named constant.
//!
//! Branch on [`ApiError::code`](crate::ApiError::code) with these instead of string literals:
//! a typo then does not compile, and a fake built with
//! [`testing::ApiErrorBuilder`](crate::testing::ApiErrorBuilder) (whose shortcuts use these
//! constants) says exactly what the server says. The list is the one in the served
//! `openapi.json` (`components.schemas.ErrorCode`), which a test compares with [`ALL`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # use paperlink_mock::{KeyMode, KeyScope, PaperlinkMock};
//! use paperlink_sdk::{codes, ApiKey, Client, Error, ProductId};
//! # let mock = PaperlinkMock::start().await;
//! # let token = mock.token(KeyMode::Test, KeyScope::ReadOnly);
//! let client = Client::builder().api_key(ApiKey::from_secret(token)?).base_url(mock.base_url()).build()?;
//!
//! let missing: ProductId = "a1b2c3d4-e5f6-4890-abcd-ef1234567890".parse()?;
//! match client.products().get(missing).await {
//!     Err(Error::NotFound(api)) if api.code() == Some(codes::PRODUCT_NOT_FOUND) => {}
//!     other => panic!("expected product_not_found, got {other:?}"),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! The server may add codes; treat a code you do not know as its status's general case.

/// `401`: no `Authorization: Bearer` header, a malformed one, or an unknown or revoked key
/// (answered alike).
pub const UNAUTHORIZED: &str = "unauthorized";

/// `403`: a write (`POST`, `PATCH`, `DELETE`) with a Read-only key.
pub const SCOPE_INSUFFICIENT: &str = "scope_insufficient";

/// `429`: over the key's rate limit; `Retry-After` says when a slot frees up.
pub const RATE_LIMIT_EXCEEDED: &str = "rate_limit_exceeded";

/// `400`: the request is invalid (a body, a query value, a cursor, an `Idempotency-Key`);
/// [`ApiError::details`](crate::ApiError::details) names each field.
pub const VALIDATION_ERROR: &str = "validation_error";

/// `404`: no product with this id in the key's team and mode.
pub const PRODUCT_NOT_FOUND: &str = "product_not_found";

/// `409`: the SKU is used by another product of the team and mode, archived ones included.
pub const SKU_CONFLICT: &str = "sku_conflict";

/// `409`: the `Idempotency-Key` came earlier with a different request.
pub const IDEMPOTENCY_KEY_REUSED: &str = "idempotency_key_reused";

/// `413`: the body is over 1 MiB.
pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";

/// `415`: the body is not sent as `Content-Type: application/json`.
pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";

/// `404`: no such route (a path the API does not have; a missing product is
/// [`PRODUCT_NOT_FOUND`]).
pub const NOT_FOUND: &str = "not_found";

/// `405`: the path does not take this method; `Allow` lists the ones it takes.
pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";

/// `408`: the body did not arrive in time (paperlink-mock's standalone server).
pub const REQUEST_TIMEOUT: &str = "request_timeout";

/// `421`: the request's `Host` is not one the server serves.
pub const HOST_NOT_ALLOWED: &str = "host_not_allowed";

/// `503`: the server's storage refused the change, so it was not made; retry with the same
/// `Idempotency-Key`.
pub const STORAGE_UNAVAILABLE: &str = "storage_unavailable";

/// `400`: the request body could not be read (the client broke it off).
pub const BAD_REQUEST: &str = "bad_request";

/// `500`, injected by paperlink-mock's fault injection.
pub const INTERNAL_ERROR: &str = "internal_error";

/// `502`, injected by paperlink-mock's fault injection.
pub const BAD_GATEWAY: &str = "bad_gateway";

/// `503`, injected by paperlink-mock's fault injection.
pub const SERVICE_UNAVAILABLE: &str = "service_unavailable";

/// `504`, injected by paperlink-mock's fault injection.
pub const GATEWAY_TIMEOUT: &str = "gateway_timeout";

/// Any other injected status (`418`, `507`, …), from paperlink-mock's fault injection.
pub const INJECTED_FAULT: &str = "injected_fault";

/// Every code above, in the order of the served document's list.
pub const ALL: &[&str] = &[
    UNAUTHORIZED,
    SCOPE_INSUFFICIENT,
    RATE_LIMIT_EXCEEDED,
    VALIDATION_ERROR,
    PRODUCT_NOT_FOUND,
    SKU_CONFLICT,
    IDEMPOTENCY_KEY_REUSED,
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    REQUEST_TIMEOUT,
    HOST_NOT_ALLOWED,
    STORAGE_UNAVAILABLE,
    BAD_REQUEST,
    INTERNAL_ERROR,
    BAD_GATEWAY,
    SERVICE_UNAVAILABLE,
    GATEWAY_TIMEOUT,
    INJECTED_FAULT,
];

/// The code paperlink-mock's fault injection sends with an injected `status`: what
/// [`ApiErrorBuilder::server_error`](crate::testing::ApiErrorBuilder::server_error) carries.
pub(crate) fn injected(status: u16) -> &'static str {
    match status {
        429 => RATE_LIMIT_EXCEEDED,
        500 => INTERNAL_ERROR,
        502 => BAD_GATEWAY,
        503 => SERVICE_UNAVAILABLE,
        504 => GATEWAY_TIMEOUT,
        _ => INJECTED_FAULT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once_in_snake_case() {
        let unique: std::collections::BTreeSet<&str> = ALL.iter().copied().collect();
        assert_eq!(unique.len(), ALL.len(), "a code is listed twice");
        for code in ALL {
            assert!(
                !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code}"
            );
        }
    }
}
