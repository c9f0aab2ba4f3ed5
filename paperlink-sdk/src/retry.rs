//! Retry policy: which failures are retried, and how long to wait between attempts.
//!
//! Everything here is pure (the random number and the clock are parameters), so the maths is
//! unit-tested without sleeping.

use std::time::{Duration, SystemTime};

use reqwest::Method;

use crate::error::Error;

/// How the client retries failed requests.
///
/// Retried: connection errors, timeouts, `429`, `502`, `503`, `504`, and `500` for `GET`.
/// Writes (`POST`, `PATCH`, `DELETE`) are retried only when they carry an `Idempotency-Key`;
/// the client sends one on every write (generated when the caller gives none) and reuses it on
/// every attempt, so a retried write never applies twice.
///
/// The wait before attempt `n + 1` is `Retry-After` when the server sends one (up to
/// [`max_retry_after`](Self::max_retry_after)), otherwise exponential backoff with full jitter:
/// a random duration in `[0, min(max_backoff, initial_backoff * 2^(n-1))]`.
///
/// ```
/// use std::time::Duration;
/// use paperlink_sdk::RetryConfig;
///
/// let retry = RetryConfig::default()
///     .max_attempts(5)
///     .initial_backoff(Duration::from_millis(100))
///     .total_deadline(Some(Duration::from_secs(20)));
/// assert_eq!(retry.attempts(), 5);
/// assert_eq!(RetryConfig::disabled().attempts(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct RetryConfig {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    total_deadline: Option<Duration>,
}

/// Attempts in all (the first try included) unless configured otherwise.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// The backoff ceiling of the first retry.
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(200);
/// The cap on any one computed backoff.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(10);
/// The longest `Retry-After` the client waits out by itself; a longer one ends the retries.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// The default deadline across all attempts of one call, waits included.
pub const DEFAULT_TOTAL_DEADLINE: Duration = Duration::from_secs(120);

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            total_deadline: Some(DEFAULT_TOTAL_DEADLINE),
        }
    }
}

impl RetryConfig {
    /// One attempt, no retries.
    pub fn disabled() -> Self {
        Self::default().max_attempts(1)
    }

    /// Attempts in all, the first one included (`0` is treated as `1`).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The backoff ceiling of the first retry; it doubles with each further retry.
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The cap on any one computed backoff.
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// The longest `Retry-After` waited out; when the server asks for more, the call fails
    /// with the rate-limit (or server) error at once, so the caller decides.
    pub fn max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// A deadline across all attempts and waits of one call (`None`: no deadline). A retry
    /// whose wait would end past the deadline is not made, and the attempt in flight is cut
    /// off when the deadline passes (it fails with [`Error::Timeout`]), with or without a
    /// per-attempt timeout.
    ///
    /// Under tokio's paused time, set it to `None` (see
    /// [`ClientBuilder::no_timeout`](crate::ClientBuilder::no_timeout)), or better, give the
    /// client a mock's sleep ([`ClientBuilder::sleep_with`](crate::ClientBuilder::sleep_with))
    /// and leave time running.
    pub fn total_deadline(mut self, deadline: Option<Duration>) -> Self {
        self.total_deadline = deadline;
        self
    }

    /// Attempts in all.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The configured deadline across attempts.
    pub fn deadline(&self) -> Option<Duration> {
        self.total_deadline
    }

    /// The upper bound of the jittered backoff after failed attempt `attempt` (1-based).
    pub(crate) fn backoff_ceiling(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.initial_backoff
            .saturating_mul(1u32 << doublings)
            .min(self.max_backoff)
    }

    /// The wait before the next attempt, or `None` when the server's `Retry-After` is longer
    /// than we are willing to wait. `unit` is a random number in `[0, 1)`.
    pub(crate) fn delay(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        unit: f64,
    ) -> Option<Duration> {
        match retry_after {
            Some(wait) if wait > self.max_retry_after => None,
            Some(wait) => Some(wait),
            None => Some(self.backoff_ceiling(attempt).mul_f64(unit.clamp(0.0, 1.0))),
        }
    }
}

/// Whether a failed attempt may be retried, given the request's method and whether it carries
/// an idempotency key.
pub(crate) fn is_retryable(error: &Error, method: &Method, idempotent: bool) -> bool {
    let safe = *method == Method::GET || *method == Method::HEAD;
    // The failure class decides (`Error::is_retryable`); a 500 may have half-applied a write,
    // so only reads retry it, and writes retry at all only with an idempotency key.
    (safe || idempotent) && error.is_retryable() && (safe || error.status() != Some(500))
}

/// Parses a `Retry-After` value: delta-seconds or an HTTP date (a date in the past is zero).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    #[test]
    fn the_backoff_ceiling_doubles_and_is_capped() {
        let retry = RetryConfig::default()
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_secs(1));
        let ceilings: Vec<_> = (1..=6)
            .map(|a| retry.backoff_ceiling(a).as_millis())
            .collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(retry.backoff_ceiling(u32::MAX), Duration::from_secs(1));
    }

    #[test]
    fn full_jitter_spans_zero_to_the_ceiling() {
        let retry = RetryConfig::default().initial_backoff(Duration::from_millis(400));
        assert_eq!(retry.delay(2, None, 0.0), Some(Duration::ZERO));
        assert_eq!(retry.delay(2, None, 0.5), Some(Duration::from_millis(400)));
        assert!(
            retry
                .delay(2, None, 0.999_999)
                .is_some_and(|d| d < Duration::from_millis(800))
        );
        assert_eq!(retry.delay(2, None, 7.0), Some(Duration::from_millis(800)));
    }

    #[test]
    fn retry_after_wins_over_backoff_up_to_the_maximum() {
        let retry = RetryConfig::default().max_retry_after(Duration::from_secs(30));
        assert_eq!(
            retry.delay(1, Some(Duration::from_secs(7)), 0.9),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry.delay(1, Some(Duration::from_secs(30)), 0.9),
            Some(Duration::from_secs(30))
        );
        assert_eq!(retry.delay(1, Some(Duration::from_secs(31)), 0.9), None);
    }

    #[test]
    fn retry_after_parses_seconds_and_http_dates() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").expect("date");
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("1.5", now), None);
    }

    fn server(status: u16) -> Error {
        Error::Server(Box::new(ApiError::for_tests(status)))
    }

    #[test]
    fn classification_follows_method_and_idempotency() {
        let get = Method::GET;
        let post = Method::POST;
        assert!(is_retryable(&server(503), &get, false));
        assert!(is_retryable(&server(500), &get, false));
        assert!(!is_retryable(&server(500), &post, true));
        assert!(is_retryable(&server(502), &post, true));
        assert!(!is_retryable(&server(503), &post, false));
        assert!(!is_retryable(&server(501), &get, false));
        assert!(is_retryable(
            &Error::RateLimited(Box::new(ApiError::for_tests(429))),
            &post,
            true
        ));
        assert!(!is_retryable(
            &Error::NotFound(Box::new(ApiError::for_tests(404))),
            &get,
            false
        ));
        assert!(!is_retryable(
            &Error::Conflict(Box::new(ApiError::for_tests(409))),
            &post,
            true
        ));
    }
}
