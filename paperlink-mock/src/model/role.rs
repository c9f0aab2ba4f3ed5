//! A team member's role, as Paperlink's dashboard names them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A member's role in a team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TeamRole {
    /// The one Owner: manages keys and members.
    #[serde(alias = "owner", alias = "Owner")]
    Owner,
    /// Manages keys.
    #[serde(alias = "admin", alias = "Admin")]
    Admin,
    /// Cannot open the API Keys page.
    #[serde(alias = "manager", alias = "Manager")]
    Manager,
    /// Cannot open the API Keys page.
    #[serde(alias = "member", alias = "Member")]
    Member,
}

impl TeamRole {
    /// Every role, highest first.
    pub const ALL: [TeamRole; 4] = [
        TeamRole::Owner,
        TeamRole::Admin,
        TeamRole::Manager,
        TeamRole::Member,
    ];

    /// Whether this role may manage API keys (open the API Keys page, create, revoke).
    pub fn manages_keys(self) -> bool {
        matches!(self, TeamRole::Owner | TeamRole::Admin)
    }

    /// The wire spelling: `OWNER`, `ADMIN`, `MANAGER`, `MEMBER`.
    pub fn as_str(self) -> &'static str {
        match self {
            TeamRole::Owner => "OWNER",
            TeamRole::Admin => "ADMIN",
            TeamRole::Manager => "MANAGER",
            TeamRole::Member => "MEMBER",
        }
    }

    /// The dashboard's spelling: `Owner`, `Admin`, `Manager`, `Member`.
    pub fn label(self) -> &'static str {
        match self {
            TeamRole::Owner => "Owner",
            TeamRole::Admin => "Admin",
            TeamRole::Manager => "Manager",
            TeamRole::Member => "Member",
        }
    }

    /// Reads either spelling, in any case.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl fmt::Display for TeamRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}
