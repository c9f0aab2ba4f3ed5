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
use crate::engine::keys::{Keyring, hash_token};
use crate::engine::request::{MockRequest, MockResponse};
use crate::model::{KeyMode, KeyScope};

/// The key that authenticated a request: what the rest of its handling needs to know.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) id: Uuid,
    pub(crate) scope: KeyScope,
    pub(crate) mode: KeyMode,
    pub(crate) team: String,
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
) -> Result<Caller, AuthError> {
    let hash = credential?;
    let record = keys.find_mut(&hash).ok_or(AuthError::InvalidOrRevoked)?;
    if !bool::from(record.hash.ct_eq(&hash)) {
        return Err(AuthError::InvalidOrRevoked);
    }
    if record
        .info
        .revoked_at
        .is_some_and(|at| now >= later(at, delay))
    {
        return Err(AuthError::InvalidOrRevoked);
    }
    record.info.last_used_at = Some(now);
    let info = &record.info;
    Ok(Caller {
        id: info.id,
        scope: info.scope,
        mode: info.mode,
        team: info.team.clone(),
    })
}

/// The control plane's admin token (its SHA-256), when one is set.
#[derive(Debug, Default)]
pub(crate) struct AdminToken(Option<[u8; 32]>);

impl AdminToken {
    pub(crate) fn new(token: Option<&str>) -> Self {
        Self(token.map(hash_token))
    }

    /// Whether the control plane asks for a token.
    #[cfg(feature = "server")]
    pub(crate) fn required(&self) -> bool {
        self.0.is_some()
    }

    /// Whether `token` is the admin token (compared as hashes, in constant time).
    pub(crate) fn accepts(&self, token: &str) -> bool {
        self.0
            .is_some_and(|expected| bool::from(hash_token(token).ct_eq(&expected)))
    }

    /// Whether a control-plane request may go on: no token is set, or it carries exactly one
    /// `Authorization: Bearer <admin token>` header (two are ambiguous, as on the API).
    pub(crate) fn admits(&self, headers: &HeaderMap) -> bool {
        if self.0.is_none() {
            return true;
        }
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let (Some(only), None) = (values.next(), values.next()) else {
            return false;
        };
        only.to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .is_some_and(|(_, token)| self.accepts(token.trim()))
    }
}

/// The 401 of the control plane without its admin token.
pub(crate) fn admin_unauthorized() -> MockResponse {
    MockResponse::error(
        401,
        "unauthorized",
        "the control plane requires the admin token",
    )
    .header("www-authenticate", "Bearer")
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
        assert_eq!(
            authenticate(&mut ring, hash, t0, delay).map(|c| c.id),
            Ok(info.id)
        );
        assert_eq!(
            authenticate(&mut ring, Ok(hash_token("pk_live_other")), t0, delay).map(|c| c.id),
            Err(AuthError::InvalidOrRevoked)
        );
        ring.revoke(&info.id, "admin".into(), t0);
        let four = t0 + Duration::from_secs(4);
        assert_eq!(
            authenticate(&mut ring, hash, four, delay).map(|c| c.id),
            Ok(info.id)
        );
        assert_eq!(
            authenticate(&mut ring, hash, t0 + delay, delay).map(|c| c.id),
            Err(AuthError::InvalidOrRevoked)
        );
    }
}
