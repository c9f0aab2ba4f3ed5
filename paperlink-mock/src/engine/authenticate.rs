//! Who is calling. On the API: the one `Authorization: Bearer <token>` header, looked up by
//! the SHA-256 of its token; unknown and revoked keys get the same 401, so a caller cannot
//! probe which tokens once existed. On the control plane: the admin token, when one is set.

use std::time::Duration;

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::engine::clock::later;
use std::sync::Arc;

use crate::engine::keys::{KeyLabel, Keyring, hash_token};
use crate::engine::request::{MockRequest, MockResponse};
use crate::model::{KeyMode, KeyScope};

/// The key that authenticated a request: what the rest of its handling needs to know.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) id: Uuid,
    pub(crate) scope: KeyScope,
    pub(crate) mode: KeyMode,
    pub(crate) team: String,
    /// The key, as the journal names it.
    pub(crate) key: Arc<KeyLabel>,
}

/// A refused authentication: why, and the key the token matched when it is a known one
/// (revoked, or revoked a moment ago), for the journal.
#[derive(Debug, Clone)]
pub(crate) struct Refused {
    pub(crate) error: AuthError,
    pub(crate) key: Option<Arc<KeyLabel>>,
}

impl From<AuthError> for Refused {
    fn from(error: AuthError) -> Self {
        Self { error, key: None }
    }
}

/// Why a request is not authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthError {
    Missing,
    NotBearer,
    Malformed,
    InvalidOrRevoked,
}

impl AuthError {
    fn message(self) -> &'static str {
        match self {
            AuthError::Missing => "missing Authorization header",
            AuthError::NotBearer => "the Authorization header must be `Bearer <token>`",
            AuthError::Malformed => "malformed Bearer token",
            AuthError::InvalidOrRevoked => "invalid or revoked API key",
        }
    }
}

/// The 401 for a request that is not authenticated.
pub(crate) fn unauthorized(error: AuthError) -> MockResponse {
    MockResponse::error(401, "unauthorized", error.message()).header("www-authenticate", "Bearer")
}

/// The SHA-256 of the request's Bearer token, or why there is none. Two `Authorization`
/// headers are ambiguous credentials, never "the first one wins".
pub(crate) fn credential(request: &MockRequest) -> Result<[u8; 32], AuthError> {
    let mut values = request.headers.get_all(AUTHORIZATION).iter();
    match (values.next(), values.next()) {
        (_, Some(_)) => Err(AuthError::Malformed),
        (first, None) => bearer(first).map(hash_token),
    }
}

/// The token of `Authorization: Bearer <token>`, if it has a key's form.
fn bearer(header: Option<&HeaderValue>) -> Result<&str, AuthError> {
    let value = header.ok_or(AuthError::Missing)?;
    let value = value.to_str().map_err(|_| AuthError::Malformed)?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::NotBearer)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::NotBearer);
    }
    let token = token.trim_start();
    let well_formed = KeyMode::ALL.iter().any(|mode| {
        token
            .strip_prefix(mode.prefix())
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
    });
    if well_formed {
        Ok(token)
    } else {
        Err(AuthError::Malformed)
    }
}

/// The key of a credential, if it is known and not revoked (a revocation takes effect `delay`
/// after it was made). Marks the key as used.
pub(crate) fn authenticate(
    keys: &mut Keyring,
    credential: Result<[u8; 32], AuthError>,
    now: OffsetDateTime,
    delay: Duration,
) -> Result<Caller, Refused> {
    let hash = credential?;
    let (record, label) = keys
        .find_mut(&hash, now)
        .ok_or(AuthError::InvalidOrRevoked)?;
    if !bool::from(record.hash.ct_eq(&hash)) {
        return Err(AuthError::InvalidOrRevoked.into());
    }
    let key = Arc::clone(label);
    if record
        .info
        .revoked_at
        .is_some_and(|at| now >= later(at, delay))
    {
        return Err(Refused {
            error: AuthError::InvalidOrRevoked,
            key: Some(key),
        });
    }
    record.info.last_used_at = Some(now);
    let info = &record.info;
    Ok(Caller {
        id: info.id,
        scope: info.scope,
        mode: info.mode,
        team: info.team.clone(),
        key,
    })
}

/// Failed admin-token attempts allowed in [`ATTEMPT_WINDOW`]; past them every attempt is
/// refused unchecked until the window frees one.
const MAX_FAILED_ATTEMPTS: usize = 10;
/// The window failed attempts are counted in.
const ATTEMPT_WINDOW: Duration = Duration::from_secs(60);
/// How long a failed attempt waits for its answer.
const FAILED_ATTEMPT_DELAY: Duration = Duration::from_secs(1);

/// What the admin token's check says of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// No token is set, or this is it.
    Admitted,
    /// Not the token: answered after a delay.
    Refused { delay: Duration },
    /// Too many failed attempts lately: refused without a look, for `retry_after` seconds.
    Throttled { retry_after: u64 },
}

/// The control plane's admin token (its SHA-256), when one is set, and the recent failed
/// attempts (real time, not the mock's clock): guessing is slowed to ten tries a minute.
#[derive(Debug, Default)]
pub(crate) struct AdminToken {
    hash: Option<[u8; 32]>,
    failures: std::sync::Mutex<std::collections::VecDeque<std::time::Instant>>,
}

impl AdminToken {
    pub(crate) fn new(token: Option<&str>) -> Self {
        Self {
            hash: token.map(hash_token),
            failures: Default::default(),
        }
    }

    /// Whether the control plane asks for a token.
    #[cfg(feature = "server")]
    pub(crate) fn required(&self) -> bool {
        self.hash.is_some()
    }

    /// Checks an attempt: `token` is what was presented (`None`: nothing usable).
    pub(crate) fn check(&self, token: Option<&str>) -> Admission {
        let Some(expected) = self.hash else {
            return Admission::Admitted;
        };
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while failures
            .front()
            .is_some_and(|at| at.elapsed() >= ATTEMPT_WINDOW)
        {
            failures.pop_front();
        }
        if failures.len() >= MAX_FAILED_ATTEMPTS {
            let frees_in = failures.front().map_or(ATTEMPT_WINDOW, |at| {
                ATTEMPT_WINDOW.saturating_sub(at.elapsed())
            });
            return Admission::Throttled {
                retry_after: frees_in.as_secs().max(1),
            };
        }
        let matches = token.is_some_and(|token| bool::from(hash_token(token).ct_eq(&expected)));
        if matches {
            return Admission::Admitted;
        }
        failures.push_back(std::time::Instant::now());
        Admission::Refused {
            delay: FAILED_ATTEMPT_DELAY,
        }
    }

    /// Checks a control-plane request: it must carry exactly one
    /// `Authorization: Bearer <admin token>` header (two are ambiguous, as on the API).
    pub(crate) fn check_headers(&self, headers: &HeaderMap) -> Admission {
        if self.hash.is_none() {
            return Admission::Admitted;
        }
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let token = match (values.next(), values.next()) {
            (Some(only), None) => only
                .to_str()
                .ok()
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, token)| token.trim()),
            _ => None,
        };
        self.check(token)
    }
}

/// The answer of the control plane to an attempt that is not admitted.
pub(crate) fn admin_refusal(admission: Admission) -> Option<MockResponse> {
    match admission {
        Admission::Admitted => None,
        Admission::Refused { delay } => {
            let mut refused = MockResponse::error(
                401,
                "unauthorized",
                "the control plane requires the admin token",
            )
            .header("www-authenticate", "Bearer");
            refused.delay = Some(delay);
            Some(refused)
        }
        Admission::Throttled { retry_after } => Some(
            MockResponse::error(
                429,
                "too_many_attempts",
                "too many wrong admin tokens lately; try again later",
            )
            .header("retry-after", retry_after.to_string()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(v: &str) -> HeaderValue {
        HeaderValue::from_str(v).expect("header")
    }

    #[test]
    fn bearer_headers_are_checked_before_any_lookup() {
        assert_eq!(bearer(None), Err(AuthError::Missing));
        assert_eq!(
            bearer(Some(&header("Basic abc"))),
            Err(AuthError::NotBearer)
        );
        assert_eq!(
            bearer(Some(&header("pk_test_abc"))),
            Err(AuthError::NotBearer)
        );
        assert_eq!(
            bearer(Some(&header("Bearer sk_test_abc"))),
            Err(AuthError::Malformed)
        );
        assert_eq!(
            bearer(Some(&header("Bearer pk_test_"))),
            Err(AuthError::Malformed)
        );
        assert_eq!(
            bearer(Some(&header("Bearer pk_test_a-b"))),
            Err(AuthError::Malformed)
        );
        assert_eq!(
            bearer(Some(&header("bearer pk_test_abc"))),
            Ok("pk_test_abc")
        );
    }

    #[test]
    fn a_revocation_takes_effect_after_the_delay() {
        use crate::engine::keys::KeySpec;
        let mut ring = Keyring::default();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let token = "pk_live_AbCdef";
        let spec = KeySpec::new("t", "CI", KeyMode::Live, KeyScope::ReadOnly);
        let info = ring.create(Uuid::from_u128(1), token, hash_token(token), spec, t0);
        let delay = Duration::from_secs(5);
        let hash = Ok(hash_token(token));
        let id = |outcome: Result<Caller, Refused>| {
            outcome
                .map(|c| c.id)
                .map_err(|r| (r.error, r.key.map(|k| k.id)))
        };
        assert_eq!(id(authenticate(&mut ring, hash, t0, delay)), Ok(info.id));
        assert_eq!(
            id(authenticate(
                &mut ring,
                Ok(hash_token("pk_live_other")),
                t0,
                delay
            )),
            Err((AuthError::InvalidOrRevoked, None)),
            "an unknown token names no key"
        );
        ring.revoke(&info.id, "admin".into(), t0);
        let four = t0 + Duration::from_secs(4);
        assert_eq!(id(authenticate(&mut ring, hash, four, delay)), Ok(info.id));
        assert_eq!(
            id(authenticate(&mut ring, hash, t0 + delay, delay)),
            Err((AuthError::InvalidOrRevoked, Some(info.id))),
            "a revoked key is refused and named"
        );
    }
}
