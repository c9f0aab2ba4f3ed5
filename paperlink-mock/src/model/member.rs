//! A member of a team, with the role Paperlink's dashboard gives them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::millis;
use super::role::TeamRole;

/// A member of a team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Member {
    /// The team.
    pub team: String,
    /// The member's name, unique in the team (after Unicode NFKC normalisation).
    pub name: String,
    /// The role.
    pub role: TeamRole,
    /// When the member was added (`null` for a team's first Owner).
    #[serde(with = "millis::option")]
    pub added_at: Option<OffsetDateTime>,
}
