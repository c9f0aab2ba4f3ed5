//! A key's mode (Live or Test) and scope (Read & Write or Read-only), as the wire spells them.

use serde::{Deserialize, Serialize};

/// A key's mode: Live or Test data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyMode {
    /// `pk_live_…`.
    Live,
    /// `pk_test_…`.
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
}

/// A key's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KeyScope {
    /// Read & Write: `GET`, `POST`, `PATCH`, `DELETE`.
    ReadWrite,
    /// Read-only: `GET` only; writes get `403 scope_insufficient`.
    ReadOnly,
}

impl KeyScope {
    /// Both scopes.
    pub const ALL: [KeyScope; 2] = [KeyScope::ReadWrite, KeyScope::ReadOnly];
}
