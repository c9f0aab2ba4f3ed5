//! Idempotency: a write that carries an `Idempotency-Key` runs at most once. Its record is
//! named by the key's credential, the method, the path and the `Idempotency-Key`, and holds
//! what identifies the body and the first success answer, for 24 hours of mock time. The same
//! body replays that answer (`Idempotent-Replayed: true`); another body is a 409. Errors are
//! not recorded, so a failed write can be retried with its key.

use std::collections::VecDeque;
use std::time::Duration;

use http::{HeaderName, Method};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::engine::changes::{Change, Changes};
use crate::engine::clock::later;
use crate::engine::request::{MockRequest, MockResponse};
use crate::engine::sharded::ShardedMap;
use crate::model::{FieldError, Object, ReplayRecord, ReplayScope};

/// How long idempotency records are kept (24 hours of mock time).
pub const IDEMPOTENCY_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);
/// The longest `Idempotency-Key`, in characters (each is one byte: visible ASCII only).
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// The request header that names an idempotent write.
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// The kept records, and when each expires.
#[derive(Debug, Default, Clone)]
pub(crate) struct IdempotencyRecords {
    records: ShardedMap<ReplayScope, Box<ReplayRecord>>,
    expiry: VecDeque<(OffsetDateTime, ReplayScope)>,
}

impl IdempotencyRecords {
    /// Keeps a record (replacing one of the same scope).
    pub(crate) fn insert(&mut self, scope: ReplayScope, record: ReplayRecord) {
        self.expiry.push_back((record.expires, scope));
        self.records.insert(scope, Box::new(record));
    }

    /// Forgets the records that expired by `now`.
    pub(crate) fn expire(&mut self, now: OffsetDateTime) {
        while let Some((at, _)) = self.expiry.front() {
            if *at > now {
                break;
            }
            if let Some((_, scope)) = self.expiry.pop_front()
                && self.records.get(&scope).is_some_and(|r| r.expires <= now)
            {
                self.records.remove(&scope);
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.records.clear();
        self.expiry.clear();
    }

    /// Every record (for the data file's snapshot).
    #[cfg(feature = "durable")]
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&ReplayScope, &ReplayRecord)> {
        self.records
            .iter()
            .map(|(scope, record)| (scope, &**record))
    }
}

/// An idempotent write: the name of its record and the identity of its body.
#[derive(Clone, Copy)]
pub(crate) struct Idempotency {
    /// Names the record: the key's credential, the method, the path and the `Idempotency-Key`.
    scope: ReplayScope,
    /// The body's identity: its fields in order, each value as its exact text (so 120.10
    /// and 120.1 are different bodies); the raw bytes when the body is not a JSON object.
    fingerprint: [u8; 32],
}

/// Feeds `bytes` to the hash with their length first, so that fields cannot run together.
fn framed(hash: &mut Sha256, bytes: &[u8]) {
    hash.update((bytes.len() as u64).to_le_bytes());
    hash.update(bytes);
}

/// Whether a request is a read, which never carries an idempotency identity.
fn is_read(request: &MockRequest) -> bool {
    request.method == Method::GET || request.method == Method::HEAD
}

/// The `Idempotency-Key` a write sent, as text, checked or not (what the journal shows).
pub(crate) fn sent_key(request: &MockRequest) -> Option<&str> {
    if is_read(request) {
        return None;
    }
    request.headers.get(&IDEMPOTENCY_KEY)?.to_str().ok()
}

/// The one `Idempotency-Key` of a write, or the 400 for a repeated or malformed one.
fn idempotency_key(request: &MockRequest) -> Result<Option<&str>, MockResponse> {
    if is_read(request) {
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

/// Identifies an idempotent write: `None` for a request without an `Idempotency-Key`, the 400
/// for a repeated or malformed key. The body's identity is its fields, each value as its exact
/// text (`object`, when the body is a JSON object), or its raw bytes.
pub(crate) fn identify(
    request: &MockRequest,
    credential: &[u8; 32],
    object: Option<&Object<'_>>,
) -> Result<Option<Idempotency>, MockResponse> {
    let Some(key) = idempotency_key(request)? else {
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

/// Runs `write` at most once for an idempotent write: the recorded answer again, the 409 for
/// another body, or the write's own answer (recorded when it is a success). Without an
/// `Idempotency-Key` the write just runs. Also says whether the answer is a replay.
pub(crate) fn once(
    records: &mut IdempotencyRecords,
    changes: &mut Changes,
    idempotency: Option<Idempotency>,
    now: OffsetDateTime,
    write: impl FnOnce(&mut Changes) -> MockResponse,
) -> (MockResponse, bool) {
    let Some(idempotency) = idempotency else {
        return (write(changes), false);
    };
    records.expire(now);
    if let Some(recorded) = records.records.get(&idempotency.scope) {
        if recorded.fingerprint != idempotency.fingerprint {
            let reused = MockResponse::error(
                409,
                "idempotency_key_reused",
                "this Idempotency-Key was used with a different request body",
            );
            return (reused, false);
        }
        let mut replay = MockResponse::json(recorded.status, recorded.body.clone())
            .header("idempotent-replayed", "true");
        if let Some(location) = &recorded.location {
            replay = replay.header("location", location.clone());
        }
        return (replay, true);
    }
    let response = write(changes);
    if (200..300).contains(&response.status) {
        let record = ReplayRecord {
            fingerprint: idempotency.fingerprint,
            status: response.status,
            location: response.header_value("location").map(str::to_owned),
            body: response.body.clone(),
            expires: later(now, IDEMPOTENCY_RETENTION),
        };
        let scope = idempotency.scope;
        changes.record(|| Change::Replay {
            scope,
            record: record.clone(),
        });
        records.insert(scope, record);
    }
    (response, false)
}
