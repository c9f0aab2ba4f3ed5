//! A team's members and their roles, as Paperlink's dashboard has them: only an Owner or an
//! Admin manages API keys, a Manager or a Member cannot open the API Keys page, and each team
//! has exactly one Owner, whose ownership can be transferred.
//!
//! Every team has an Owner from the start: until ownership is transferred, it is the member
//! named [`DEFAULT_OWNER`], who is not stored. A call that names no member acts as the Owner.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::MockError;
pub use crate::model::TeamRole;
use crate::model::millis;

/// The name of every team's first Owner (until ownership is transferred), and who a call that
/// names no member acts as.
pub const DEFAULT_OWNER: &str = "owner";
/// The longest member name, in characters.
pub const MAX_MEMBER_NAME: usize = 100;

/// A member of a team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Member {
    /// The team.
    pub team: String,
    /// The member's name, unique in the team.
    pub name: String,
    /// The role.
    pub role: TeamRole,
    /// When the member was added (`null` for a team's first Owner).
    #[serde(with = "millis::option")]
    pub added_at: Option<OffsetDateTime>,
}

impl Member {
    fn first_owner(team: &str) -> Self {
        Self {
            team: team.to_owned(),
            name: DEFAULT_OWNER.to_owned(),
            role: TeamRole::Owner,
            added_at: None,
        }
    }
}

/// Why a change to the members, or an action by one, is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MemberProblem {
    /// No such member in the team.
    Unknown { team: String, name: String },
    /// The name is taken in the team.
    Taken { team: String, name: String },
    /// The name is blank or too long.
    BadName,
    /// The change would leave the team with no Owner, or two.
    OneOwner(&'static str),
    /// The member's role does not allow managing keys.
    Forbidden { name: String, role: TeamRole },
}

impl MemberProblem {
    /// The HTTP status and code the control plane answers with.
    pub(crate) fn status_and_code(&self) -> (u16, &'static str) {
        match self {
            MemberProblem::Unknown { .. } => (404, "member_not_found"),
            MemberProblem::Taken { .. } => (409, "member_exists"),
            MemberProblem::BadName => (400, "validation_error"),
            MemberProblem::OneOwner(_) => (409, "one_owner"),
            MemberProblem::Forbidden { .. } => (403, "role_insufficient"),
        }
    }
}

impl fmt::Display for MemberProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemberProblem::Unknown { team, name } => {
                write!(f, "team {team:?} has no member named {name:?}")
            }
            MemberProblem::Taken { team, name } => {
                write!(f, "team {team:?} already has a member named {name:?}")
            }
            MemberProblem::BadName => write!(
                f,
                "a member's name must not be blank and is at most {MAX_MEMBER_NAME} characters"
            ),
            MemberProblem::OneOwner(why) => f.write_str(why),
            MemberProblem::Forbidden { name, role } => write!(
                f,
                "only an Owner or an Admin manages API keys; {name:?} is a {role}"
            ),
        }
    }
}

impl From<MemberProblem> for MockError {
    fn from(problem: MemberProblem) -> Self {
        match problem {
            MemberProblem::Unknown { team, name } => MockError::UnknownMember { team, name },
            MemberProblem::Forbidden { name, role } => {
                MockError::RoleInsufficient { member: name, role }
            }
            other => MockError::MemberRule(other.to_string()),
        }
    }
}

/// Every team's stored members (a team's first Owner is not stored until ownership moves).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Directory {
    teams: BTreeMap<String, BTreeMap<String, Member>>,
}

impl FromIterator<Member> for Directory {
    fn from_iter<I: IntoIterator<Item = Member>>(members: I) -> Self {
        let mut directory = Directory::default();
        for member in members {
            directory.put(member);
        }
        directory
    }
}

impl Directory {
    /// The team's members, the Owner first, then by name.
    pub(crate) fn list(&self, team: &str) -> Vec<Member> {
        let stored = self.teams.get(team);
        let mut members: Vec<Member> = stored
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        if !members.iter().any(|m| m.role == TeamRole::Owner) {
            members.push(Member::first_owner(team));
        }
        members.sort_by(|a, b| (a.role, &a.name).cmp(&(b.role, &b.name)));
        members
    }

    /// Every team with a stored member.
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    pub(crate) fn teams(&self) -> impl Iterator<Item = String> + '_ {
        self.teams.keys().cloned()
    }

    /// Every stored member (for the data file).
    #[cfg_attr(not(feature = "durable"), allow(dead_code))]
    pub(crate) fn stored(&self) -> impl Iterator<Item = &Member> {
        self.teams.values().flat_map(BTreeMap::values)
    }

    /// The team's stored Owner, once ownership has been transferred.
    fn stored_owner(&self, team: &str) -> Option<&Member> {
        self.teams
            .get(team)?
            .values()
            .find(|m| m.role == TeamRole::Owner)
    }

    /// A member of the team, the first Owner included.
    pub(crate) fn get(&self, team: &str, name: &str) -> Option<Member> {
        let stored = self.teams.get(team).and_then(|members| members.get(name));
        match stored {
            Some(member) => Some(member.clone()),
            None if name == DEFAULT_OWNER && self.stored_owner(team).is_none() => {
                Some(Member::first_owner(team))
            }
            None => None,
        }
    }

    /// The team's Owner.
    pub(crate) fn owner(&self, team: &str) -> Member {
        self.stored_owner(team)
            .cloned()
            .unwrap_or_else(|| Member::first_owner(team))
    }

    /// Who acts: the named member (who must be able to manage keys), or the Owner.
    pub(crate) fn key_manager(
        &self,
        team: &str,
        name: Option<&str>,
    ) -> Result<Member, MemberProblem> {
        let member = match name {
            None => return Ok(self.owner(team)),
            Some(name) => self.get(team, name).ok_or_else(|| MemberProblem::Unknown {
                team: team.to_owned(),
                name: name.to_owned(),
            })?,
        };
        if member.role.manages_keys() {
            Ok(member)
        } else {
            Err(MemberProblem::Forbidden {
                name: member.name,
                role: member.role,
            })
        }
    }

    fn put(&mut self, member: Member) {
        self.teams
            .entry(member.team.clone())
            .or_default()
            .insert(member.name.clone(), member);
    }

    /// Adds a member.
    pub(crate) fn add(
        &mut self,
        team: &str,
        name: &str,
        role: TeamRole,
        now: OffsetDateTime,
    ) -> Result<Member, MemberProblem> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_MEMBER_NAME {
            return Err(MemberProblem::BadName);
        }
        if self.get(team, name).is_some() {
            return Err(MemberProblem::Taken {
                team: team.to_owned(),
                name: name.to_owned(),
            });
        }
        if role == TeamRole::Owner {
            return Err(MemberProblem::OneOwner(
                "a team has exactly one Owner: add the member, then transfer ownership to them",
            ));
        }
        let member = Member {
            team: team.to_owned(),
            name: name.to_owned(),
            role,
            added_at: Some(now),
        };
        self.put(member.clone());
        Ok(member)
    }

    /// Changes a member's role. Making a member the Owner transfers ownership: the previous
    /// Owner becomes an Admin. Returns the member after the change, and the previous Owner
    /// when ownership moved (both for the data file).
    pub(crate) fn set_role(
        &mut self,
        team: &str,
        name: &str,
        role: TeamRole,
    ) -> Result<(Member, Option<Member>), MemberProblem> {
        let mut member = self.get(team, name).ok_or_else(|| MemberProblem::Unknown {
            team: team.to_owned(),
            name: name.to_owned(),
        })?;
        if member.role == role {
            return Ok((member, None));
        }
        if member.role == TeamRole::Owner {
            return Err(MemberProblem::OneOwner(
                "the Owner's role changes only by transferring ownership to another member",
            ));
        }
        let demoted = (role == TeamRole::Owner).then(|| {
            let mut previous = self.owner(team);
            previous.role = TeamRole::Admin;
            self.put(previous.clone());
            previous
        });
        member.role = role;
        self.put(member.clone());
        Ok((member, demoted))
    }

    /// Removes a member (not the Owner).
    pub(crate) fn remove(&mut self, team: &str, name: &str) -> Result<Member, MemberProblem> {
        let member = self.get(team, name).ok_or_else(|| MemberProblem::Unknown {
            team: team.to_owned(),
            name: name.to_owned(),
        })?;
        if member.role == TeamRole::Owner {
            return Err(MemberProblem::OneOwner(
                "the Owner cannot be removed: transfer ownership first",
            ));
        }
        if let Some(members) = self.teams.get_mut(team) {
            members.remove(name);
        }
        Ok(member)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH
    }

    #[test]
    fn every_team_has_exactly_one_owner_and_ownership_moves_whole() {
        let mut d = Directory::default();
        assert_eq!(d.owner("t").name, DEFAULT_OWNER);
        assert_eq!(d.list("t").len(), 1);
        d.add("t", "ana", TeamRole::Manager, now()).expect("added");
        assert!(matches!(
            d.add("t", "bo", TeamRole::Owner, now()),
            Err(MemberProblem::OneOwner(_))
        ));
        assert!(matches!(
            d.add("t", " ana ", TeamRole::Admin, now()),
            Err(MemberProblem::Taken { .. })
        ));
        assert!(matches!(
            d.add("t", "owner", TeamRole::Admin, now()),
            Err(MemberProblem::Taken { .. })
        ));
        assert!(matches!(
            d.set_role("t", DEFAULT_OWNER, TeamRole::Admin),
            Err(MemberProblem::OneOwner(_))
        ));
        assert!(matches!(
            d.remove("t", DEFAULT_OWNER),
            Err(MemberProblem::OneOwner(_))
        ));

        let (owner, demoted) = d
            .set_role("t", "ana", TeamRole::Owner)
            .expect("transferred");
        // Two members changed: the new Owner, and the previous one.
        assert_eq!(owner.role, TeamRole::Owner);
        assert_eq!(
            demoted.map(|m| (m.name, m.role)),
            Some(("owner".to_owned(), TeamRole::Admin))
        );
        let roles: Vec<(String, TeamRole)> =
            d.list("t").into_iter().map(|m| (m.name, m.role)).collect();
        assert_eq!(
            roles,
            [
                ("ana".to_owned(), TeamRole::Owner),
                ("owner".to_owned(), TeamRole::Admin)
            ]
        );
        assert_eq!(
            d.list("t")
                .iter()
                .filter(|m| m.role == TeamRole::Owner)
                .count(),
            1
        );
        d.remove("t", "owner").expect("an Admin now");
        assert_eq!(d.owner("t").name, "ana");
        assert_eq!(d.owner("other").name, DEFAULT_OWNER, "teams are separate");
    }

    #[test]
    fn only_owners_and_admins_manage_keys() {
        let mut d = Directory::default();
        for (name, role) in [
            ("ad", TeamRole::Admin),
            ("ma", TeamRole::Manager),
            ("me", TeamRole::Member),
        ] {
            d.add("t", name, role, now()).expect("added");
        }
        assert_eq!(d.key_manager("t", None).map(|m| m.name), Ok("owner".into()));
        assert!(d.key_manager("t", Some("ad")).is_ok());
        for name in ["ma", "me"] {
            let problem = d.key_manager("t", Some(name)).expect_err("refused");
            assert_eq!(problem.status_and_code(), (403, "role_insufficient"));
        }
        let unknown = d.key_manager("t", Some("zz")).expect_err("unknown");
        assert_eq!(unknown.status_and_code(), (404, "member_not_found"));
        assert_eq!(TeamRole::parse("admin"), Some(TeamRole::Admin));
        assert_eq!(TeamRole::parse("nope"), None);
    }
}
