//! The keyring: every team's API keys as the dashboard manages them. A key is created with a
//! token that is returned once and never kept (only its SHA-256), revoked, forgotten 90 days
//! after its revocation, and found by the hash of a presented token.

use std::time::Duration;

use std::sync::Arc;

use foldhash::HashMap;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::engine::clock::later;
use crate::model::{KeyInfo, KeyMode, KeyRecord, KeyScope};

/// The team the four seeded keys belong to, and what a call that names no team acts on.
pub const DEFAULT_TEAM: &str = "default";
/// How long a revoked key stays in the key list (90 days), per the product's docs.
pub const REVOKED_KEY_RETENTION: Duration = Duration::from_secs(90 * 24 * 60 * 60);
/// Random alphanumerics after the mode prefix of a generated token.
pub const TOKEN_RANDOM_CHARS: usize = 32;

/// A key as a journal line and a log line name it: its id, its prefix and its team (none of
/// which ever change). Made once per key and shared, so that naming the key behind a request
/// copies nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyLabel {
    pub(crate) id: Uuid,
    pub(crate) prefix: String,
    pub(crate) team: String,
}

impl KeyLabel {
    fn of(info: &KeyInfo) -> Arc<Self> {
        Arc::new(Self {
            id: info.id,
            prefix: info.prefix.clone(),
            team: info.team.clone(),
        })
    }
}

/// What a new key needs; who creates it is set by whoever acts (see `admin::create_key`).
#[derive(Debug, Clone)]
pub(crate) struct KeySpec {
    pub(crate) name: String,
    pub(crate) mode: KeyMode,
    pub(crate) scope: KeyScope,
    pub(crate) team: String,
    pub(crate) created_by: String,
}

impl KeySpec {
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

/// The SHA-256 of a token: what the keyring keeps and looks keys up by.
pub(crate) fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A new token: the mode's prefix and [`TOKEN_RANDOM_CHARS`] alphanumerics.
pub(crate) fn generate_token(rng: &mut fastrand::Rng, mode: KeyMode) -> String {
    let mut token = String::with_capacity(8 + TOKEN_RANDOM_CHARS);
    token.push_str(mode.prefix());
    token.extend((0..TOKEN_RANDOM_CHARS).map(|_| rng.alphanumeric()));
    token
}

/// Every key of every team.
#[derive(Debug, Default, Clone)]
pub(crate) struct Keyring {
    keys: HashMap<Uuid, KeyRecord>,
    labels: HashMap<Uuid, Arc<KeyLabel>>,
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
    /// Files a new key (its id and token hash unused, see `admin::create_key`).
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
        self.labels
            .insert(record.info.id, KeyLabel::of(&record.info));
        self.by_hash.insert(record.hash, record.info.id);
        self.keys.insert(record.info.id, record);
    }

    /// Keeps the later `lastUsedAt` of each key `old` also has (a keyring read back from the
    /// data file, which does not keep the times of reads).
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

    /// The key whose token hashes to `hash`, revoked or not, unless it was revoked more than
    /// 90 days before `now` (such keys are forgotten first).
    pub(crate) fn find_mut(
        &mut self,
        hash: &[u8; 32],
        now: OffsetDateTime,
    ) -> Option<(&mut KeyRecord, &Arc<KeyLabel>)> {
        self.purge(now);
        let id = self.by_hash.get(hash)?;
        Some((self.keys.get_mut(id)?, self.labels.get(id)?))
    }

    pub(crate) fn get(&self, id: &Uuid) -> Option<&KeyInfo> {
        self.keys.get(id).map(|r| &r.info)
    }

    pub(crate) fn record(&self, id: &Uuid) -> Option<&KeyRecord> {
        self.keys.get(id)
    }

    /// Every kept key, in no particular order.
    #[cfg(feature = "durable")]
    pub(crate) fn records(&self) -> impl Iterator<Item = &KeyRecord> {
        self.keys.values()
    }

    /// Revokes a key as `by` (again: no change).
    pub(crate) fn revoke(&mut self, id: &Uuid, by: String, now: OffsetDateTime) -> Option<KeyInfo> {
        let record = self.keys.get_mut(id)?;
        if record.info.revoked_at.is_none() {
            record.info.revoked_at = Some(now);
            record.info.revoked_by = Some(by);
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
    fn purge(&mut self, now: OffsetDateTime) {
        if self.next_purge.is_none_or(|due| now < due) {
            return;
        }
        let Self {
            keys,
            labels,
            by_hash,
            next_purge,
        } = self;
        keys.retain(|id, record| {
            let keep = forget_at(record).is_none_or(|due| now < due);
            if !keep {
                by_hash.remove(&record.hash);
                labels.remove(id);
            }
            keep
        });
        *next_purge = keys.values().filter_map(forget_at).min();
    }

    /// The team of every key.
    #[cfg(feature = "server")]
    pub(crate) fn teams(&self) -> impl Iterator<Item = &str> {
        self.keys.values().map(|r| r.info.team.as_str())
    }

    /// Key metadata, oldest first, optionally for one team; keys revoked more than 90 days
    /// before `now` are no longer listed.
    pub(crate) fn list(&self, team: Option<&str>, now: OffsetDateTime) -> Vec<KeyInfo> {
        let mut keys: Vec<KeyInfo> = self
            .keys
            .values()
            .filter(|r| team.is_none_or(|t| r.info.team == t))
            .filter(|r| forget_at(r).is_none_or(|due| now < due))
            .map(|r| r.info.clone())
            .collect();
        keys.sort_by_key(|k| (k.created_at, k.id));
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_kept_as_hashes_and_revoked_keys_are_forgotten_after_90_days() {
        let mut rng = fastrand::Rng::with_seed(7);
        let token = generate_token(&mut rng, KeyMode::Live);
        assert!(token.starts_with("pk_live_") && token.len() == 8 + TOKEN_RANDOM_CHARS);
        let mut ring = Keyring::default();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let spec = KeySpec {
            created_by: "owner".into(),
            ..KeySpec::new("t", "CI", KeyMode::Live, KeyScope::ReadOnly)
        };
        let info = ring.create(Uuid::from_u128(1), &token, hash_token(&token), spec, t0);
        assert_eq!(info.prefix, token[..11]);
        assert!(!format!("{ring:?}").contains(&token));
        assert_eq!(
            ring.find_mut(&hash_token(&token), t0)
                .map(|(r, _)| r.info.id),
            Some(info.id)
        );
        assert!(ring.find_mut(&hash_token("pk_live_other"), t0).is_none());
        ring.revoke(&info.id, "admin".into(), t0);
        let almost = t0 + REVOKED_KEY_RETENTION - Duration::from_secs(1);
        assert_eq!(ring.list(None, almost).len(), 1);
        assert!(
            ring.find_mut(&hash_token(&token), almost).is_some(),
            "revoked, still known"
        );
        let due = t0 + REVOKED_KEY_RETENTION;
        assert!(ring.list(None, due).is_empty(), "not listed once due");
        assert!(
            ring.find_mut(&hash_token(&token), due).is_none(),
            "and forgotten"
        );
    }
}
