//! Rate limits per API key: a sliding window of mock time, the `X-RateLimit-*` headers on
//! every authenticated answer, and the `429` with `Retry-After` past the limit. A request
//! refused for its scope is reported against the window but does not count.

use std::collections::VecDeque;
use std::time::Duration;

use foldhash::HashMap;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::engine::clock::later;
use crate::engine::request::MockResponse;

/// A sliding-window rate limit per API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimitPolicy {
    /// Requests allowed in any window.
    pub limit: u32,
    /// The window length.
    pub window: Duration,
}

impl RateLimitPolicy {
    /// `limit` requests per `window`.
    pub const fn new(limit: u32, window: Duration) -> Self {
        Self { limit, window }
    }
}

impl Default for RateLimitPolicy {
    /// 60 requests per 60 seconds.
    fn default() -> Self {
        Self::new(60, Duration::from_secs(60))
    }
}

/// Where a key stands against its window: the rate-limit headers of one answer, and the wait
/// when it is over the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateStatus {
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    pub(crate) reset: i64,
    pub(crate) retry_after: Option<u64>,
}

/// Each key's requests within its window.
#[derive(Debug, Default)]
pub(crate) struct RateWindows(HashMap<Uuid, VecDeque<OffsetDateTime>>);

impl RateWindows {
    /// Counts a request against the key's window; `None` without a policy. Over the limit,
    /// the status carries the wait and the request is not counted.
    pub(crate) fn count(
        &mut self,
        policy: Option<RateLimitPolicy>,
        key: Uuid,
        now: OffsetDateTime,
    ) -> Option<RateStatus> {
        self.status(policy?, key, now, true)
    }

    /// Reports where the key stands, without counting a request.
    pub(crate) fn peek(
        &mut self,
        policy: Option<RateLimitPolicy>,
        key: Uuid,
        now: OffsetDateTime,
    ) -> Option<RateStatus> {
        self.status(policy?, key, now, false)
    }

    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }

    fn status(
        &mut self,
        policy: RateLimitPolicy,
        key: Uuid,
        now: OffsetDateTime,
        consume: bool,
    ) -> Option<RateStatus> {
        let window = self.0.entry(key).or_default();
        while window
            .front()
            .is_some_and(|t| later(*t, policy.window) <= now)
        {
            window.pop_front();
        }
        let seconds_until = |t: OffsetDateTime| {
            let wait = (t - now).as_seconds_f64().ceil();
            if wait > 0.0 { wait as u64 } else { 0 }
        };
        let ceil_unix = |t: OffsetDateTime| t.unix_timestamp() + i64::from(t.nanosecond() > 0);
        let used = u32::try_from(window.len()).unwrap_or(u32::MAX);
        if used >= policy.limit {
            let frees_at = window.front().map_or(now, |t| later(*t, policy.window));
            return Some(RateStatus {
                limit: policy.limit,
                remaining: 0,
                reset: ceil_unix(frees_at),
                retry_after: Some(seconds_until(frees_at).max(1)),
            });
        }
        if consume {
            window.push_back(now);
        }
        let used = used + u32::from(consume);
        let frees_at = window.front().map_or(now, |t| later(*t, policy.window));
        Some(RateStatus {
            limit: policy.limit,
            remaining: policy.limit.saturating_sub(used),
            reset: ceil_unix(frees_at),
            retry_after: None,
        })
    }
}

/// The 429 of a key over its limit, or `None` within it.
pub(crate) fn refusal(status: Option<RateStatus>) -> Option<MockResponse> {
    let wait = status?.retry_after?;
    Some(
        MockResponse::error(
            429,
            "rate_limit_exceeded",
            "too many requests for this API key",
        )
        .header("retry-after", wait.to_string()),
    )
}

/// Adds the `X-RateLimit-*` headers of an answer.
pub(crate) fn add_headers(status: Option<RateStatus>, response: &mut MockResponse) {
    if let Some(rate) = status {
        let headers = &mut response.headers;
        headers.push(("x-ratelimit-limit", rate.limit.to_string().into()));
        headers.push(("x-ratelimit-remaining", rate.remaining.to_string().into()));
        headers.push(("x-ratelimit-reset", rate.reset.to_string().into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_slides_per_key() {
        let mut windows = RateWindows::default();
        let policy = Some(RateLimitPolicy::new(2, Duration::from_secs(60)));
        let key = Uuid::from_u128(1);
        let t0 = OffsetDateTime::UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(windows.count(policy, key, t0).map(|r| r.remaining), Some(1));
        let second = windows
            .count(policy, key, t0 + Duration::from_secs(30))
            .expect("policy");
        assert_eq!((second.remaining, second.reset), (0, 1_060));
        let over = windows
            .count(policy, key, t0 + Duration::from_secs(59))
            .expect("policy");
        assert_eq!((over.retry_after, over.remaining), (Some(1), 0));
        assert_eq!(
            windows
                .count(policy, Uuid::from_u128(2), t0)
                .map(|r| r.retry_after),
            Some(None)
        );
        let later = windows
            .count(policy, key, t0 + Duration::from_secs(60))
            .expect("policy");
        assert_eq!((later.retry_after, later.remaining), (None, 0));
        assert_eq!(
            windows
                .peek(policy, key, t0 + Duration::from_secs(61))
                .map(|r| r.retry_after),
            Some(Some(29))
        );
        assert_eq!(windows.count(None, key, t0), None, "no policy, no headers");
    }
}
