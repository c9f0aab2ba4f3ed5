//! Rate limits per key (a sliding window of mock time) and injected faults: what can answer a
//! request before its route does.

use std::collections::VecDeque;
use std::time::Duration;

use foldhash::HashMap;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::engine::clock::later;
use crate::model::API_PREFIX;

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

/// The rate-limit headers of one response, and the wait when over the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateStatus {
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    pub(crate) reset: i64,
    pub(crate) retry_after: Option<u64>,
}

/// Each key's requests within the window.
pub(crate) type Windows = HashMap<Uuid, VecDeque<OffsetDateTime>>;

/// Counts a request against the key's window (`consume`), or only reports it; `None` without
/// a policy.
pub(crate) fn rate(
    windows: &mut Windows,
    policy: Option<RateLimitPolicy>,
    key: Uuid,
    now: OffsetDateTime,
    consume: bool,
) -> Option<RateStatus> {
    let policy = policy?;
    let window = windows.entry(key).or_default();
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
/// What an injected fault does to a matching request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
#[non_exhaustive]
pub enum FaultKind {
    /// Answer with this status (and `Retry-After`, when given) before the request is handled:
    /// nothing changes.
    Status {
        /// The status, such as 503 or 429.
        status: u16,
        /// `Retry-After` seconds.
        #[serde(default)]
        retry_after: Option<u64>,
    },
    /// Handle the request, then answer after this delay.
    Delay {
        /// The delay in milliseconds.
        millis: u64,
    },
    /// Handle the request (its effects stay), then break the connection instead of answering.
    /// Only the standalone server can do this; in-process it answers normally.
    DropConnection,
}

/// An injected fault: which requests it hits, how often, and what it does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Fault {
    /// Only requests with this method (any method when `None`).
    #[serde(default)]
    pub method: Option<String>,
    /// Only this path; a `*` segment matches any one segment (`/api/v1/products/*`).
    pub path: String,
    /// What happens.
    pub kind: FaultKind,
    /// How many requests it hits before it is spent (`None`: unlimited).
    #[serde(default)]
    pub times: Option<u32>,
    /// The chance that a matching request is hit (1.0: every one).
    #[serde(default = "one")]
    pub probability: f64,
}

fn one() -> f64 {
    1.0
}

impl Fault {
    /// A fault hitting every request with `method` to `path` (`*` matches one segment),
    /// until limited with [`times`](Self::times) or [`with_probability`](Self::with_probability).
    ///
    /// The path may be relative to the base URL (`/products/*`) or in full
    /// (`/api/v1/products/*`): every route lives under `/api/v1`.
    pub fn new(method: &str, path: &str, kind: FaultKind) -> Self {
        Self {
            method: Some(method.to_owned()),
            path: path.to_owned(),
            kind,
            times: None,
            probability: 1.0,
        }
        .in_full()
    }

    /// This fault with its path in full (a path relative to the base URL gets `/api/v1`) and
    /// its method in upper case.
    pub(crate) fn in_full(mut self) -> Self {
        let full = self.path == API_PREFIX
            || self
                .path
                .strip_prefix(API_PREFIX)
                .is_some_and(|rest| rest.starts_with('/'));
        if !full {
            self.path = format!("{API_PREFIX}{}", self.path);
        }
        if let Some(method) = &mut self.method {
            method.make_ascii_uppercase();
        }
        self
    }

    /// The next `times` requests with `method` to `path` get `status` (no state changes).
    pub fn fail_next(
        method: &str,
        path: &str,
        times: u32,
        status: u16,
        retry_after: Option<u64>,
    ) -> Self {
        Self::new(
            method,
            path,
            FaultKind::Status {
                status,
                retry_after,
            },
        )
        .times(times)
    }

    /// Every request with `method` to `path` is answered after `delay`.
    /// The delay is at most [`MAX_FAULT_DELAY`]; a longer one is cut to it.
    pub fn delay(method: &str, path: &str, delay: Duration) -> Self {
        let millis = u64::try_from(delay.min(MAX_FAULT_DELAY).as_millis()).unwrap_or(u64::MAX);
        Self::new(method, path, FaultKind::Delay { millis })
    }

    /// This fault, hitting each matching request with `probability` (0.0 to 1.0).
    pub fn with_probability(mut self, probability: f64) -> Self {
        self.probability = probability.clamp(0.0, 1.0);
        self
    }

    /// This fault, spent after `times` hits.
    pub fn times(mut self, times: u32) -> Self {
        self.times = Some(times);
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        if self
            .method
            .as_deref()
            .is_some_and(|m| !m.eq_ignore_ascii_case(method))
        {
            return false;
        }
        let mut want = self.path.split('/');
        let mut got = path.split('/');
        loop {
            match (want.next(), got.next()) {
                (None, None) => return true,
                (Some("*"), Some(_)) => {}
                (Some(w), Some(g)) if w == g => {}
                _ => return false,
            }
        }
    }
}

/// The longest injected delay (one hour).
pub const MAX_FAULT_DELAY: Duration = Duration::from_secs(3600);

impl Fault {
    /// What makes this fault unusable, if anything: a status outside 100 to 599, or a delay
    /// longer than [`MAX_FAULT_DELAY`].
    pub(crate) fn problem(&self) -> Option<(&'static str, String)> {
        match &self.kind {
            FaultKind::Status { status, .. } if !(100..=599).contains(status) => Some((
                "kind.status",
                "must be an HTTP status from 100 to 599".to_owned(),
            )),
            FaultKind::Delay { millis } if u128::from(*millis) > MAX_FAULT_DELAY.as_millis() => {
                Some((
                    "kind.millis",
                    format!("must be at most {}", MAX_FAULT_DELAY.as_millis()),
                ))
            }
            _ => None,
        }
    }
}

/// The fault that hits this request, if any (spent faults are removed).
pub(crate) fn fault_for(
    faults: &mut Vec<Fault>,
    rng: &mut fastrand::Rng,
    method: &str,
    path: &str,
) -> Option<FaultKind> {
    // Each matching fault rolls its own chance, in the order they were injected.
    let index = (0..faults.len()).find(|&i| {
        let fault = &faults[i];
        fault.matches(method, path) && rng.f64() < fault.probability
    })?;
    let fault = &mut faults[index];
    let kind = fault.kind.clone();
    if let Some(times) = &mut fault.times {
        *times = times.saturating_sub(1);
        if *times == 0 {
            faults.remove(index);
        }
    }
    Some(kind)
}
