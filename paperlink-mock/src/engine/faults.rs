//! Injected faults: which requests they hit, how often, and what they do. A status fault
//! answers before the request is handled (nothing changes); a delay or a dropped connection
//! is applied to the answer after it (the change stays).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::engine::request::MockResponse;
use crate::engine::routes::API_ROUTES;
use crate::error::MockError;
use crate::model::API_PREFIX;

/// The longest injected delay (one hour).
pub const MAX_FAULT_DELAY: Duration = Duration::from_secs(3600);

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

    /// This fault as it is kept: its path in full (a path relative to the base URL gets
    /// `/api/v1`), its method in upper case, its chance within 0 to 1; or why it is refused
    /// (a status or delay out of range, or a method and path that no route can match, so the
    /// fault would never fire).
    fn checked(mut self) -> Result<Self, MockError> {
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
        self.probability = self.probability.clamp(0.0, 1.0);
        let refused =
            |field: &'static str, message: String| MockError::InvalidFault { field, message };
        match &self.kind {
            // An informational status (1xx) is no answer to a request: refused.
            FaultKind::Status { status, .. } if !(200..=599).contains(status) => {
                return Err(refused(
                    "kind.status",
                    "must be an HTTP status from 200 to 599".to_owned(),
                ));
            }
            FaultKind::Delay { millis } if u128::from(*millis) > MAX_FAULT_DELAY.as_millis() => {
                return Err(refused(
                    "kind.millis",
                    format!("must be at most {}", MAX_FAULT_DELAY.as_millis()),
                ));
            }
            _ => {}
        }
        if !self.can_fire() {
            let method = self
                .method
                .as_deref()
                .map_or(String::new(), |m| format!(" with {m}"));
            return Err(refused(
                "path",
                format!(
                    "{}{method} matches no route of the API (routes: /api/v1/openapi.json, \
                     /api/v1/products, /api/v1/products/{{id}})",
                    self.path
                ),
            ));
        }
        Ok(self)
    }

    /// Whether some route of the API, with a method it accepts, can match this fault (its
    /// path in full; `*` matches one segment, and any segment matches a route's `{id}`).
    fn can_fire(&self) -> bool {
        API_ROUTES.iter().any(|(template, methods)| {
            let method_fits = self.method.as_deref().is_none_or(|m| {
                methods
                    .iter()
                    .any(|allowed| allowed.eq_ignore_ascii_case(m))
            });
            let full = format!("{API_PREFIX}{template}");
            method_fits
                && segments_match(&self.path, &full, |want, have| {
                    want == have || want == "*" || (have == "{id}" && !want.is_empty())
                })
        })
    }

    fn hits(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && segments_match(&self.path, path, |want, got| want == got || want == "*")
    }
}

/// Whether two paths have as many segments, each pair agreeing.
fn segments_match(want: &str, have: &str, agree: impl Fn(&str, &str) -> bool) -> bool {
    let (mut want, mut have) = (want.split('/'), have.split('/'));
    loop {
        match (want.next(), have.next()) {
            (None, None) => return true,
            (Some(w), Some(h)) if agree(w, h) => {}
            _ => return false,
        }
    }
}

/// The injected faults, in the order they were injected.
#[derive(Debug, Default)]
pub(crate) struct Faults(Vec<Fault>);

impl Faults {
    /// Keeps a fault, as [`Fault::checked`] has it, or refuses it.
    pub(crate) fn inject(&mut self, fault: Fault) -> Result<Fault, MockError> {
        let fault = fault.checked()?;
        self.0.push(fault.clone());
        Ok(fault)
    }

    pub(crate) fn list(&self) -> &[Fault] {
        &self.0
    }

    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }

    /// The fault that hits this request, if any: each matching fault rolls its own chance, in
    /// the order they were injected; a fault is spent after its last hit.
    pub(crate) fn hit(
        &mut self,
        rng: &mut fastrand::Rng,
        method: &str,
        path: &str,
    ) -> Option<FaultKind> {
        let faults = &mut self.0;
        let index = (0..faults.len()).find(|&i| {
            let fault = &faults[i];
            fault.hits(method, path) && rng.f64() < fault.probability
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
}

/// The answer of a status fault, or `None` for a fault that acts on the answer instead.
pub(crate) fn answer(kind: &FaultKind) -> Option<MockResponse> {
    let FaultKind::Status {
        status,
        retry_after,
    } = kind
    else {
        return None;
    };
    let code = match status {
        429 => "rate_limit_exceeded",
        500 => "internal_error",
        502 => "bad_gateway",
        503 => "service_unavailable",
        504 => "gateway_timeout",
        _ => "injected_fault",
    };
    let fault = MockResponse::error(*status, code, "injected by paperlink-mock");
    Some(match retry_after {
        Some(seconds) => fault.header("retry-after", seconds.to_string()),
        None => fault,
    })
}

/// A delay or a dropped connection, applied to the answer of the request it hit.
pub(crate) fn apply(kind: Option<FaultKind>, response: &mut MockResponse) {
    match kind {
        Some(FaultKind::Delay { millis }) => response.delay = Some(Duration::from_millis(millis)),
        Some(FaultKind::DropConnection) => response.drop_connection = true,
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_match_paths_and_are_spent() {
        let mut faults = Faults::default();
        let mut rng = fastrand::Rng::with_seed(1);
        faults
            .inject(Fault::fail_next(
                "patch",
                "/api/v1/products/*",
                2,
                503,
                Some(1),
            ))
            .expect("fires");
        assert_eq!(faults.hit(&mut rng, "GET", "/api/v1/products/x"), None);
        assert_eq!(faults.hit(&mut rng, "PATCH", "/api/v1/products"), None);
        assert!(
            faults
                .hit(&mut rng, "PATCH", "/api/v1/products/x")
                .is_some()
        );
        assert!(
            faults
                .hit(&mut rng, "PATCH", "/api/v1/products/y")
                .is_some()
        );
        assert_eq!(faults.hit(&mut rng, "PATCH", "/api/v1/products/z"), None);
        assert!(faults.list().is_empty());
        faults
            .inject(Fault::fail_next("GET", "/products", 100, 503, None).with_probability(0.0))
            .expect("fires");
        faults
            .inject(Fault::fail_next("GET", "/products", 100, 429, None))
            .expect("fires");
        assert!(
            matches!(
                faults.hit(&mut rng, "GET", "/api/v1/products"),
                Some(FaultKind::Status { status: 429, .. })
            ),
            "the second fault gets its turn"
        );
    }
}
