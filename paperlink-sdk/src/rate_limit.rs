//! The `X-RateLimit-*` headers, parsed.

use reqwest::header::HeaderMap;
use time::OffsetDateTime;

/// The rate-limit state the server reported on a response.
///
/// Read it from a [`Page`](crate::Page), from [`Client::rate_limit`](crate::Client::rate_limit)
/// after any call, or from a rate-limited error's [`ApiError::rate_limit`](crate::ApiError::rate_limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Requests allowed per window (`X-RateLimit-Limit`).
    pub limit: u32,
    /// Requests left in the current window (`X-RateLimit-Remaining`).
    pub remaining: u32,
    /// When a request slot frees up (`X-RateLimit-Reset`, Unix seconds), if sent.
    pub reset: Option<OffsetDateTime>,
}

impl RateLimit {
    /// A rate-limit state (for fakes: see [`testing`](crate::testing)).
    pub fn new(limit: u32, remaining: u32, reset: Option<OffsetDateTime>) -> Self {
        Self {
            limit,
            remaining,
            reset,
        }
    }

    /// Parses the headers; `None` unless both limit and remaining are present and numeric.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let limit = u32::try_from(number("x-ratelimit-limit")?).ok()?;
        let remaining = u32::try_from(number("x-ratelimit-remaining")?).ok()?;
        let reset = number("x-ratelimit-reset")
            .and_then(|s| i64::try_from(s).ok())
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok());
        Some(Self {
            limit,
            remaining,
            reset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn headers_parse_into_a_rate_limit() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-limit", HeaderValue::from_static("60"));
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static(" 59"));
        headers.insert("x-ratelimit-reset", HeaderValue::from_static("1736935200"));
        let rl = RateLimit::from_headers(&headers).expect("parsed");
        assert_eq!((rl.limit, rl.remaining), (60, 59));
        assert_eq!(rl.reset.map(|t| t.unix_timestamp()), Some(1_736_935_200));

        headers.insert("x-ratelimit-reset", HeaderValue::from_static("soon"));
        assert_eq!(
            RateLimit::from_headers(&headers).and_then(|r| r.reset),
            None
        );
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("-1"));
        assert_eq!(RateLimit::from_headers(&headers), None);
        assert_eq!(RateLimit::from_headers(&HeaderMap::new()), None);
    }
}
