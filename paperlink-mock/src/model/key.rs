//! An API key as the dashboard lists it, and as the data file keeps it (with the SHA-256 of
//! its token, never the token).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::millis;
use super::mode::{KeyMode, KeyScope};

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

/// A kept key: its metadata and the SHA-256 of its token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct KeyRecord {
    pub(crate) info: KeyInfo,
    #[serde(with = "super::encoding::digest")]
    pub(crate) hash: [u8; 32],
}
