//! Idempotency: which writes carry an `Idempotency-Key`, what names a record (the key's
//! credential, the method, the path and the `Idempotency-Key`), what identifies a body, and
//! the record kept for 24 hours of mock time.

use std::time::Duration;

use crate::engine::request::MockRequest;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use http::{HeaderName, Method};
use sha2::{Digest, Sha256};

use crate::engine::clock::later;
use crate::engine::request::MockResponse;
use crate::model::{FieldError, Object, millis};

/// How long idempotency records are kept (24 hours of mock time).
pub const IDEMPOTENCY_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// A stored write response for idempotent replay.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IdempotentResponse {
    #[serde(with = "crate::model::stored::digest")]
    pub(crate) fingerprint: [u8; 32],
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    /// The response body, shared with the response that was sent; stored as text.
    #[serde(with = "crate::model::stored::body")]
    pub(crate) body: Bytes,
    #[serde(with = "millis")]
    pub(crate) expires: OffsetDateTime,
}

/// The SHA-256 of the API key's credential, the method, the path and the `Idempotency-Key`:
/// a record is found only by the same key sending the same key to the same route.
pub(crate) type IdempotencyScope = [u8; 32];

/// The request header that names an idempotent write.
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// An idempotent write, identified before the state is locked.
#[derive(Clone, Copy)]
pub(crate) struct Idempotency {
    /// Names the record: the key's credential, the method, the path and the `Idempotency-Key`.
    pub(crate) scope: [u8; 32],
    /// The body's identity: keys in order, each value as its exact text (so 120.10 and 120.1
    /// are different bodies); the raw bytes when the body is not a JSON object.
    pub(crate) fingerprint: [u8; 32],
}

/// Feeds `bytes` to the hash with their length first, so that fields cannot run together.
fn framed(hash: &mut Sha256, bytes: &[u8]) {
    hash.update((bytes.len() as u64).to_le_bytes());
    hash.update(bytes);
}

/// The longest `Idempotency-Key`, in characters (each is one byte: visible ASCII only).
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// The one `Idempotency-Key` of a write, or the 400 for a repeated or malformed one.
fn idempotency_key(request: &MockRequest) -> Result<Option<&str>, MockResponse> {
    if request.method == Method::GET {
        return Ok(None);
    }
    let mut keys = request.headers.get_all(&IDEMPOTENCY_KEY).iter();
    match (keys.next(), keys.next()) {
        (None, _) => Ok(None),
        (Some(_), Some(_)) => Err(MockResponse::invalid(vec![FieldError::new(
            "Idempotency-Key",
            "must be sent once",
        )])),
        (Some(value), None) => {
            let key = value.as_bytes();
            let problem = if key.is_empty() {
                "must not be empty"
            } else if key.len() > MAX_IDEMPOTENCY_KEY {
                "must be at most 255 characters"
            } else if !key.iter().all(u8::is_ascii_graphic) {
                "must be visible ASCII characters only (`!` to `~`: no space, no tab)"
            } else {
                return Ok(value.to_str().ok());
            };
            Err(MockResponse::invalid(vec![FieldError::new(
                "Idempotency-Key",
                problem,
            )]))
        }
    }
}

/// Identifies an idempotent write before the state is locked: `None` for a request without an
/// `Idempotency-Key` (or without a credential, which fails later anyway), the 400 for a
/// repeated or malformed key. The body's identity is its fields, each value as its exact text
/// (`object`, when the body is a JSON object), or its raw bytes.
pub(crate) fn identify(
    request: &MockRequest,
    credential: Option<&[u8; 32]>,
    object: Option<&Object<'_>>,
) -> Result<Option<Idempotency>, MockResponse> {
    let Some(key) = idempotency_key(request)? else {
        return Ok(None);
    };
    let Some(credential) = credential else {
        return Ok(None);
    };
    let mut scope = Sha256::new();
    framed(&mut scope, credential);
    framed(&mut scope, request.method.as_str().as_bytes());
    framed(&mut scope, request.path.as_bytes());
    framed(&mut scope, key.as_bytes());
    // The fingerprint covers what the operation reads: a DELETE reads no body, so a retry
    // that adds one (`{}`) is the same request and replays.
    let fingerprint = match object {
        _ if request.method == Method::DELETE => Sha256::digest(b""),
        Some(object) => {
            let mut body = Sha256::new();
            for (name, value) in object {
                framed(&mut body, name.as_bytes());
                framed(&mut body, value.get().as_bytes());
            }
            body.finalize()
        }
        None => Sha256::digest(&request.body),
    };
    Ok(Some(Idempotency {
        scope: scope.finalize().into(),
        fingerprint: fingerprint.into(),
    }))
}

/// The replay of a recorded answer, or the 409 for a different body.
pub(crate) fn replay(stored: &IdempotentResponse, idempotency: &Idempotency) -> MockResponse {
    if stored.fingerprint != idempotency.fingerprint {
        return MockResponse::error(
            409,
            "idempotency_key_reused",
            "this Idempotency-Key was used with a different request body",
        );
    }
    let mut replay = MockResponse::json(stored.status, stored.body.clone())
        .header("idempotent-replayed", "true");
    if let Some(location) = &stored.location {
        replay = replay.header("location", location.clone());
    }
    replay
}

/// The record of a write's success answer, kept for [`IDEMPOTENCY_RETENTION`].
pub(crate) fn record(
    idempotency: &Idempotency,
    response: &MockResponse,
    now: OffsetDateTime,
) -> IdempotentResponse {
    IdempotentResponse {
        fingerprint: idempotency.fingerprint,
        status: response.status,
        location: response.header_value("location").map(str::to_owned),
        body: response.body.clone(),
        expires: later(now, IDEMPOTENCY_RETENTION),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_body_is_written_as_text_and_read_from_text_or_byte_values() {
        let record = IdempotentResponse {
            fingerprint: [7; 32],
            status: 201,
            location: None,
            body: Bytes::from_static(br#"{"data":{"name":"Kept"}}"#),
            expires: OffsetDateTime::UNIX_EPOCH,
        };
        let line = serde_json::to_string(&record).expect("serialize");
        assert!(
            line.contains(r#""body":"{\"data\":{\"name\":\"Kept\"}}""#),
            "{line}"
        );
        let back: IdempotentResponse = serde_json::from_str(&line).expect("text");
        assert_eq!(back.body, record.body);
        // Earlier versions wrote the body as an array of byte values.
        let values: Vec<String> = record.body.iter().map(u8::to_string).collect();
        let old = line.replace(
            r#""{\"data\":{\"name\":\"Kept\"}}""#,
            &format!("[{}]", values.join(",")),
        );
        assert_ne!(old, line);
        let back: IdempotentResponse = serde_json::from_str(&old).expect("byte values");
        assert_eq!(back.body, record.body);
        assert!(
            serde_json::from_str::<IdempotentResponse>(
                &line.replace(r#""body":"#, r#""body":7,"x":"#)
            )
            .is_err()
        );
    }
}
