//! How long the target asks to wait: `Retry-After` on a `429`, or `X-RateLimit-Remaining: 0`
//! until `X-RateLimit-Reset`. Pure maths on header text and the current Unix time; every
//! number is range-checked where it enters, and the arithmetic is checked.

use std::time::{Duration, SystemTime};

use http::HeaderMap;

use crate::observe::header;

/// The largest wait a header may state and still be taken as meant (a year); past it the
/// value is treated as nonsense rather than waited for.
pub(crate) const MAX_STATED_WAIT_SECS: u64 = 366 * 24 * 3600;
/// `X-RateLimit-Reset` values at or above this are Unix seconds (2001-09-09); below it,
/// seconds from now.
pub(crate) const UNIX_SECONDS_FROM: u64 = 1_000_000_000;
/// The wait after a `429` that states none.
pub(crate) const DEFAULT_429_WAIT: Duration = Duration::from_secs(1);

/// Why the run must wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    /// A `Retry-After` header.
    RetryAfter,
    /// `X-RateLimit-Remaining: 0` and `X-RateLimit-Reset`.
    RateLimitReset,
    /// A `429` without a usable `Retry-After` or reset.
    Unstated,
}

impl Reason {
    /// For a person.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Reason::RetryAfter => "Retry-After",
            Reason::RateLimitReset => "X-RateLimit-Reset",
            Reason::Unstated => "a 429 without Retry-After",
        }
    }
}

/// A wait the target asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wait {
    /// How long.
    pub(crate) duration: Duration,
    /// Why.
    pub(crate) reason: Reason,
}

/// Seconds since the Unix epoch now (0 if the system clock is before it).
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `Retry-After`: delay seconds, or an HTTP date; `None` when absent or out of range.
pub(crate) fn retry_after(headers: &HeaderMap, now_unix: u64) -> Option<Duration> {
    let text = header(headers, "retry-after")?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return (seconds <= MAX_STATED_WAIT_SECS).then(|| Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(text).ok()?;
    let at = at.duration_since(SystemTime::UNIX_EPOCH).ok()?.as_secs();
    let seconds = at.saturating_sub(now_unix);
    (seconds <= MAX_STATED_WAIT_SECS).then(|| Duration::from_secs(seconds))
}

/// `X-RateLimit-Reset`: Unix seconds, or seconds from now; `None` when absent or out of
/// range.
pub(crate) fn until_reset(headers: &HeaderMap, now_unix: u64) -> Option<Duration> {
    let reset = header(headers, "x-ratelimit-reset")?
        .trim()
        .parse::<u64>()
        .ok()?;
    let seconds = if reset >= UNIX_SECONDS_FROM {
        reset.saturating_sub(now_unix)
    } else {
        reset
    };
    (seconds <= MAX_STATED_WAIT_SECS).then(|| Duration::from_secs(seconds))
}

/// Whether the answer says no request is left in the window.
pub(crate) fn exhausted(headers: &HeaderMap) -> bool {
    header(headers, "x-ratelimit-remaining").is_some_and(|r| r.trim() == "0")
}

/// The wait before the next request with the same key, when the answer asks for one.
pub(crate) fn before_next(status: u16, headers: &HeaderMap, now_unix: u64) -> Option<Wait> {
    if status == 429 {
        if let Some(duration) = retry_after(headers, now_unix) {
            return Some(Wait {
                duration,
                reason: Reason::RetryAfter,
            });
        }
        return Some(match until_reset(headers, now_unix) {
            Some(duration) => Wait {
                duration,
                reason: Reason::RateLimitReset,
            },
            None => Wait {
                duration: DEFAULT_429_WAIT,
                reason: Reason::Unstated,
            },
        });
    }
    if exhausted(headers) {
        return until_reset(headers, now_unix).map(|duration| Wait {
            duration,
            reason: Reason::RateLimitReset,
        });
    }
    None
}

/// How `X-RateLimit-Reset` is written.
pub(crate) fn reset_kind(headers: &HeaderMap) -> &'static str {
    match header(headers, "x-ratelimit-reset").map(|r| r.trim().parse::<u64>()) {
        None => "absent",
        Some(Err(_)) => "not a whole number",
        Some(Ok(reset)) if reset >= UNIX_SECONDS_FROM => "Unix seconds",
        Some(Ok(_)) => "seconds from now (not Unix time)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("a header value"));
        }
        map
    }

    const NOW: u64 = 1_750_000_000;

    #[test]
    fn a_429_waits_for_its_retry_after() {
        let wait = before_next(429, &headers(&[("retry-after", "7")]), NOW);
        assert_eq!(
            wait,
            Some(Wait {
                duration: Duration::from_secs(7),
                reason: Reason::RetryAfter
            })
        );
    }

    #[test]
    fn retry_after_as_an_http_date_counts_from_now() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(NOW + 30);
        let date = httpdate::fmt_http_date(at);
        assert_eq!(
            retry_after(&headers(&[("retry-after", &date)]), NOW),
            Some(Duration::from_secs(30))
        );
    }

    #[test]
    fn an_absurd_or_negative_retry_after_is_not_taken() {
        for value in ["99999999999", "-1", "soon", "1.5"] {
            assert_eq!(
                retry_after(&headers(&[("retry-after", value)]), NOW),
                None,
                "{value}"
            );
        }
    }

    #[test]
    fn a_429_without_retry_after_waits_for_the_reset_or_a_second() {
        let reset = (NOW + 12).to_string();
        let by_reset = before_next(429, &headers(&[("x-ratelimit-reset", &reset)]), NOW);
        assert_eq!(by_reset.map(|w| w.duration), Some(Duration::from_secs(12)));
        let bare = before_next(429, &HeaderMap::new(), NOW);
        assert_eq!(bare.map(|w| w.reason), Some(Reason::Unstated));
    }

    #[test]
    fn no_request_left_waits_until_the_reset() {
        let reset = (NOW + 40).to_string();
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", &reset),
        ]);
        assert_eq!(
            before_next(200, &h, NOW).map(|w| w.duration),
            Some(Duration::from_secs(40))
        );
        let left = headers(&[
            ("x-ratelimit-remaining", "3"),
            ("x-ratelimit-reset", &reset),
        ]);
        assert_eq!(before_next(200, &left, NOW), None);
    }

    #[test]
    fn a_reset_in_the_past_waits_nothing_and_a_small_one_is_seconds_from_now() {
        let past = headers(&[("x-ratelimit-reset", "1700000000")]);
        assert_eq!(until_reset(&past, NOW), Some(Duration::ZERO));
        let delta = headers(&[("x-ratelimit-reset", "25")]);
        assert_eq!(until_reset(&delta, NOW), Some(Duration::from_secs(25)));
        assert_eq!(reset_kind(&delta), "seconds from now (not Unix time)");
        assert_eq!(reset_kind(&past), "Unix seconds");
    }
}
