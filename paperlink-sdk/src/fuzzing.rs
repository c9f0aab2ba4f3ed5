//! Entry points for the fuzz targets in `fuzz/`: the SDK's parsers of untrusted input, exactly
//! as the client runs them. Not part of the supported API.

use std::time::SystemTime;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::client::Envelope;
use crate::error::ApiError;
use crate::pagination::WirePage;
use crate::products::Product;
use crate::rate_limit::RateLimit;
use crate::retry::parse_retry_after;

/// Parses `body` as every response shape the client reads: a product, a page of products and
/// an error body. Returns the error's display text (which must never panic).
pub fn response(status: u16, body: &[u8]) -> String {
    let _ = serde_json::from_slice::<Envelope<Product>>(body);
    let _ = serde_json::from_slice::<Envelope<WirePage<Product>>>(body);
    ApiError::from_response(status, body, None, None, None).to_string()
}

/// Parses response headers as the client does: `Retry-After` and `X-RateLimit-*`.
pub fn headers(pairs: &[(&[u8], &[u8])]) {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            map.append(name, value);
        }
    }
    let _ = RateLimit::from_headers(&map);
    if let Some(value) = map.get("retry-after").and_then(|v| v.to_str().ok()) {
        let _ = parse_retry_after(value, SystemTime::now());
    }
}
