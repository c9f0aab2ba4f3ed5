//! API keys as the dashboard manages them: creation (the token is returned once and only its
//! SHA-256 hash is kept), revocation, and `Authorization: Bearer` checks in constant time.

use std::time::Duration;

use foldhash::HashMap;
use http::HeaderValue;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::engine::clock::later;
use crate::model::millis;

/// The team the four seeded keys belong to, and what a call that names no team acts on.
pub const DEFAULT_TEAM: &str = "default";

/// How long a revoked key stays in the key list (90 days), per the product's docs.
pub const REVOKED_KEY_RETENTION: Duration = Duration::from_secs(90 * 24 * 60 * 60);
/// Random alphanumerics after the mode prefix of a generated token.
pub const TOKEN_RANDOM_CHARS: usize = 32;

pub use crate::model::{KeyMode, KeyScope};

/// What the dashboard shows of a key. Never the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct KeyInfo {
    /// The key's id (for revocation).
    pub id: Uuid,
    /// The team's name for the key (never sent in API requests).
    pub name: String,
    /// The mode prefix and the first three characters of the token (`pk_live_AbC`).
    pub prefix: String,
    /// Live or Test.
    pub mode: KeyMode,
    /// Read & Write or Read-only.
    pub scope: KeyScope,
    /// The team the key belongs to.
    pub team: String,
    /// Who created it.
    pub created_by: String,
    /// When it was created.
    #[serde(with = "millis")]
    pub created_at: OffsetDateTime,
    /// When it last made an API call.
    #[serde(with = "millis::option")]
    pub last_used_at: Option<OffsetDateTime>,
    /// When it was revoked.
    #[serde(with = "millis::option")]
    pub revoked_at: Option<OffsetDateTime>,
    /// Who revoked it.
    pub revoked_by: Option<String>,
}

/// What request handling needs to know about the key that authenticated a request.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) id: Uuid,
    pub(crate) scope: KeyScope,
    pub(crate) mode: KeyMode,
    pub(crate) team: String,
}

impl From<&KeyInfo> for Caller {
    fn from(info: &KeyInfo) -> Self {
        Self {
            id: info.id,
            scope: info.scope,
            mode: info.mode,
            team: info.team.clone(),
        }
    }
}

/// A stored key: the metadata and the SHA-256 of the token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct KeyRecord {
    pub(crate) info: KeyInfo,
    #[serde(with = "crate::model::stored::digest")]
    pub(crate) hash: [u8; 32],
}

/// What a new key needs.
#[derive(Debug, Clone)]
pub(crate) struct KeySpec {
    pub(crate) name: String,
    pub(crate) mode: KeyMode,
    pub(crate) scope: KeyScope,
    pub(crate) team: String,
    pub(crate) created_by: String,
}

impl KeySpec {
    /// A key of `team`; who creates it is set by whoever acts (see `State::create_key_as`).
    pub(crate) fn new(team: &str, name: &str, mode: KeyMode, scope: KeyScope) -> Self {
        Self {
            name: name.to_owned(),
            mode,
            scope,
            team: team.to_owned(),
            created_by: String::new(),
        }
    }
}

pub(crate) fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

pub(crate) fn generate_token(rng: &mut fastrand::Rng, mode: KeyMode) -> String {
    let mut token = String::with_capacity(8 + TOKEN_RANDOM_CHARS);
    token.push_str(mode.prefix());
    token.extend((0..TOKEN_RANDOM_CHARS).map(|_| rng.alphanumeric()));
    token
}

/// Why a request is not authenticated. Unknown and revoked keys share one message, so a
/// caller cannot probe which tokens once existed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthFailure {
    Missing,
    NotBearer,
    Malformed,
    InvalidOrRevoked,
}

impl AuthFailure {
    pub(crate) fn message(self) -> &'static str {
        match self {
            AuthFailure::Missing => "missing Authorization header",
            AuthFailure::NotBearer => "the Authorization header must be `Bearer <token>`",
            AuthFailure::Malformed => "malformed Bearer token",
            AuthFailure::InvalidOrRevoked => "invalid or revoked API key",
        }
    }
}

/// Extracts the token from `Authorization: Bearer <token>`.
pub(crate) fn bearer(header: Option<&HeaderValue>) -> Result<&str, AuthFailure> {
    let value = header.ok_or(AuthFailure::Missing)?;
    let value = value.to_str().map_err(|_| AuthFailure::Malformed)?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthFailure::NotBearer)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthFailure::NotBearer);
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
        Err(AuthFailure::Malformed)
    }
}

/// Every key of every team.
#[derive(Debug, Default, Clone)]
pub(crate) struct Keyring {
    keys: HashMap<Uuid, KeyRecord>,
    by_hash: HashMap<[u8; 32], Uuid>,
    /// When the earliest revoked key is due to be forgotten, so that requests do not scan
    /// every key to find out.
    next_purge: Option<OffsetDateTime>,
}

impl FromIterator<KeyRecord> for Keyring {
    fn from_iter<I: IntoIterator<Item = KeyRecord>>(records: I) -> Self {
        let mut ring = Keyring::default();
        for record in records {
            ring.insert(record);
        }
        ring
    }
}

/// When a revoked key is forgotten.
fn forget_at(record: &KeyRecord) -> Option<OffsetDateTime> {
    record
        .info
        .revoked_at
        .map(|at| later(at, REVOKED_KEY_RETENTION))
}

impl Keyring {
    pub(crate) fn create(
        &mut self,
        id: Uuid,
        token: &str,
        hash: [u8; 32],
        spec: KeySpec,
        now: OffsetDateTime,
    ) -> KeyInfo {
        // The mode prefix and the first three characters after it.
        let shown = token
            .char_indices()
            .nth(spec.mode.prefix().len() + 3)
            .map_or(token.len(), |(end, _)| end);
        let info = KeyInfo {
            id,
            name: spec.name,
            prefix: token[..shown].to_owned(),
            mode: spec.mode,
            scope: spec.scope,
            team: spec.team,
            created_by: spec.created_by,
            created_at: now,
            last_used_at: None,
            revoked_at: None,
            revoked_by: None,
        };
        self.insert(KeyRecord {
            info: info.clone(),
            hash,
        });
        info
    }

    pub(crate) fn insert(&mut self, record: KeyRecord) {
        self.plan_purge(forget_at(&record));
        self.by_hash.insert(record.hash, record.info.id);
        self.keys.insert(record.info.id, record);
    }

    /// Keeps the later `lastUsedAt` of each key `old` also has (a state read back from the
    /// data file, which does not keep the times of reads).
    #[cfg(feature = "durable")]
    pub(crate) fn keep_last_used(&mut self, old: &Keyring) {
        for (id, record) in &mut self.keys {
            let before = old.keys.get(id).and_then(|r| r.info.last_used_at);
            if before > record.info.last_used_at {
                record.info.last_used_at = before;
            }
        }
    }

    /// Whether a key has this token hash.
    pub(crate) fn knows(&self, hash: &[u8; 32]) -> bool {
        self.by_hash.contains_key(hash)
    }

    pub(crate) fn get(&self, id: &Uuid) -> Option<&KeyInfo> {
        self.keys.get(id).map(|r| &r.info)
    }

    pub(crate) fn record(&self, id: &Uuid) -> Option<&KeyRecord> {
        self.keys.get(id)
    }

    /// Every stored key, in no particular order.
    #[cfg(feature = "durable")]
    pub(crate) fn records(&self) -> impl Iterator<Item = &KeyRecord> {
        self.keys.values()
    }

    /// The key whose token hashes to `hash`, if it is known and not revoked (a revocation takes effect
    /// `delay` after it was made). Marks the key as used.
    pub(crate) fn authenticate(
        &mut self,
        hash: &[u8; 32],
        now: OffsetDateTime,
        delay: Duration,
    ) -> Result<Uuid, AuthFailure> {
        let id = *self
            .by_hash
            .get(hash)
            .ok_or(AuthFailure::InvalidOrRevoked)?;
        let record = self
            .keys
            .get_mut(&id)
            .ok_or(AuthFailure::InvalidOrRevoked)?;
        if !bool::from(record.hash.ct_eq(hash)) {
            return Err(AuthFailure::InvalidOrRevoked);
        }
        if record
            .info
            .revoked_at
            .is_some_and(|at| now >= later(at, delay))
        {
            return Err(AuthFailure::InvalidOrRevoked);
        }
        record.info.last_used_at = Some(now);
        Ok(id)
    }

    pub(crate) fn revoke(
        &mut self,
        id: &Uuid,
        by: Option<String>,
        now: OffsetDateTime,
    ) -> Option<KeyInfo> {
        let record = self.keys.get_mut(id)?;
        if record.info.revoked_at.is_none() {
            record.info.revoked_at = Some(now);
            record.info.revoked_by = Some(by.unwrap_or_else(|| "unknown".to_owned()));
        }
        let (info, due) = (record.info.clone(), forget_at(record));
        self.plan_purge(due);
        Some(info)
    }

    fn plan_purge(&mut self, due: Option<OffsetDateTime>) {
        if let Some(due) = due {
            self.next_purge = Some(self.next_purge.map_or(due, |next| next.min(due)));
        }
    }

    /// Forgets keys revoked more than 90 days ago (they also stop authenticating for good).
    pub(crate) fn purge(&mut self, now: OffsetDateTime) {
        if self.next_purge.is_none_or(|due| now < due) {
            return;
        }
        let Self {
            keys,
            by_hash,
            next_purge,
        } = self;
        keys.retain(|_, record| {
            let keep = forget_at(record).is_none_or(|due| now < due);
            if !keep {
                by_hash.remove(&record.hash);
            }
            keep
        });
        *next_purge = keys.values().filter_map(forget_at).min();
    }

    /// The team of every key.
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    pub(crate) fn teams(&self) -> impl Iterator<Item = &str> {
        self.keys.values().map(|r| r.info.team.as_str())
    }

    /// Key metadata, oldest first, optionally for one team.
    pub(crate) fn list(&self, team: Option<&str>) -> Vec<KeyInfo> {
        let mut keys: Vec<KeyInfo> = self
            .keys
            .values()
            .filter(|r| team.is_none_or(|t| r.info.team == t))
            .map(|r| r.info.clone())
            .collect();
        keys.sort_by_key(|k| (k.created_at, k.id));
        keys
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
        assert_eq!(bearer(None), Err(AuthFailure::Missing));
        assert_eq!(
            bearer(Some(&header("Basic abc"))),
            Err(AuthFailure::NotBearer)
        );
        assert_eq!(
            bearer(Some(&header("pk_test_abc"))),
            Err(AuthFailure::NotBearer)
        );
        assert_eq!(
            bearer(Some(&header("Bearer sk_test_abc"))),
            Err(AuthFailure::Malformed)
        );
        assert_eq!(
            bearer(Some(&header("Bearer pk_test_"))),
            Err(AuthFailure::Malformed)
        );
        assert_eq!(
            bearer(Some(&header("Bearer pk_test_a-b"))),
            Err(AuthFailure::Malformed)
        );
        assert_eq!(
            bearer(Some(&header("bearer pk_test_abc"))),
            Ok("pk_test_abc")
        );
    }

    #[test]
    fn tokens_are_stored_as_hashes_and_revocation_honours_the_delay() {
        let mut rng = fastrand::Rng::with_seed(7);
        let token = generate_token(&mut rng, KeyMode::Live);
        assert!(token.starts_with("pk_live_") && token.len() == 8 + TOKEN_RANDOM_CHARS);
        let mut ring = Keyring::default();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let spec = KeySpec {
            name: "CI".into(),
            mode: KeyMode::Live,
            scope: KeyScope::ReadOnly,
            team: "t".into(),
            created_by: "owner".into(),
        };
        let info = ring.create(Uuid::from_u128(1), &token, hash_token(&token), spec, t0);
        assert_eq!(info.prefix, token[..11]);
        assert!(!format!("{:?}", ring).contains(&token));
        let delay = Duration::from_secs(5);
        assert_eq!(
            ring.authenticate(&hash_token(&token), t0, delay),
            Ok(info.id)
        );
        assert_eq!(
            ring.authenticate(&hash_token("pk_live_other"), t0, delay),
            Err(AuthFailure::InvalidOrRevoked)
        );
        ring.revoke(&info.id, Some("admin".into()), t0);
        assert_eq!(
            ring.authenticate(&hash_token(&token), t0 + Duration::from_secs(4), delay),
            Ok(info.id)
        );
        assert_eq!(
            ring.authenticate(&hash_token(&token), t0 + delay, delay),
            Err(AuthFailure::InvalidOrRevoked)
        );
        ring.purge(t0 + REVOKED_KEY_RETENTION - Duration::from_secs(1));
        assert_eq!(ring.list(None).len(), 1);
        ring.purge(t0 + REVOKED_KEY_RETENTION);
        assert!(ring.list(None).is_empty());
    }
}
