//! A key's mode (Live or Test) and scope (Read & Write or Read-only), as the wire spells them.

use serde::{Deserialize, Serialize};

/// A key's mode: Live or Test data. Written `live` / `test`; read in any of `live`, `LIVE`,
/// `Live` (and the same for `test`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyMode {
    /// `pk_live_…`.
    #[serde(alias = "LIVE", alias = "Live")]
    Live,
    /// `pk_test_…`.
    #[serde(alias = "TEST", alias = "Test")]
    Test,
}

impl KeyMode {
    /// The token prefix.
    pub fn prefix(self) -> &'static str {
        match self {
            KeyMode::Live => "pk_live_",
            KeyMode::Test => "pk_test_",
        }
    }

    /// Both modes.
    pub const ALL: [KeyMode; 2] = [KeyMode::Live, KeyMode::Test];

    /// The name as written: `live` or `test`.
    #[cfg_attr(not(feature = "durable"), allow(dead_code))]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            KeyMode::Live => "live",
            KeyMode::Test => "test",
        }
    }

    /// The mode named exactly `live` or `test`.
    #[cfg_attr(not(feature = "durable"), allow(dead_code))]
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|mode| mode.as_str() == name)
    }
}

/// A key's scope. Written `READ_WRITE` / `READ_ONLY`; `read_write` and `ReadWrite` (and the
/// same for Read-only) are read too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KeyScope {
    /// Read & Write: `GET`, `POST`, `PATCH`, `DELETE`.
    #[serde(alias = "read_write", alias = "ReadWrite")]
    ReadWrite,
    /// Read-only: `GET` only; writes get `403 scope_insufficient`.
    #[serde(alias = "read_only", alias = "ReadOnly")]
    ReadOnly,
}

impl KeyScope {
    /// Both scopes.
    pub const ALL: [KeyScope; 2] = [KeyScope::ReadWrite, KeyScope::ReadOnly];
}
