//! A team's members and their roles, as Paperlink's dashboard has them: only an Owner or an
//! Admin manages API keys (and opens the API Keys page), and each team has exactly one Owner,
//! whose ownership can be transferred.
//!
//! Every team has an Owner from the start: until ownership is transferred, it is the member
//! named [`DEFAULT_OWNER`], who is not kept. A call that names no member acts as the Owner.
//! Members are found by their name's NFKC normalisation, so a look-alike is the same member.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::error::MockError;
use crate::model::{Member, TeamRole, same_name_key};

/// The name of every team's first Owner (until ownership is transferred), and who a call that
/// names no member acts as.
pub const DEFAULT_OWNER: &str = "owner";

fn first_owner(team: &str) -> Member {
    Member {
        team: team.to_owned(),
        name: DEFAULT_OWNER.to_owned(),
        role: TeamRole::Owner,
        added_at: None,
    }
}

fn unknown(team: &str, name: &str) -> MockError {
    MockError::UnknownMember {
        team: team.to_owned(),
        name: name.to_owned(),
    }
}

/// Every team's kept members (a team's first Owner is not kept until ownership moves), by
/// team and by the normalised name.
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
        let kept = self.teams.get(team);
        let mut members: Vec<Member> = kept
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        if !members.iter().any(|m| m.role == TeamRole::Owner) {
            members.push(first_owner(team));
        }
        members.sort_by(|a, b| (a.role, &a.name).cmp(&(b.role, &b.name)));
        members
    }

    /// Every team with a kept member.
    #[cfg(feature = "server")]
    pub(crate) fn teams(&self) -> impl Iterator<Item = &str> {
        self.teams.keys().map(String::as_str)
    }

    /// Every kept member (for the data file).
    #[cfg(feature = "durable")]
    pub(crate) fn all(&self) -> impl Iterator<Item = &Member> {
        self.teams.values().flat_map(BTreeMap::values)
    }

    /// The team's kept Owner, once ownership has been transferred.
    fn kept_owner(&self, team: &str) -> Option<&Member> {
        self.teams
            .get(team)?
            .values()
            .find(|m| m.role == TeamRole::Owner)
    }

    /// A member of the team, the first Owner included.
    pub(crate) fn get(&self, team: &str, name: &str) -> Option<Member> {
        let key = same_name_key(name);
        let kept = self
            .teams
            .get(team)
            .and_then(|members| members.get(key.as_ref()));
        match kept {
            Some(member) => Some(member.clone()),
            None if key == DEFAULT_OWNER && self.kept_owner(team).is_none() => {
                Some(first_owner(team))
            }
            None => None,
        }
    }

    /// The team's Owner.
    pub(crate) fn owner(&self, team: &str) -> Member {
        self.kept_owner(team)
            .cloned()
            .unwrap_or_else(|| first_owner(team))
    }

    /// Who acts on the team's keys: the named member, who must be able to manage keys (an
    /// Owner or an Admin), or the Owner when no one is named. The one answer to "who may
    /// manage keys", for the control plane, the API Keys page and the Rust API.
    pub(crate) fn key_manager(&self, team: &str, name: Option<&str>) -> Result<Member, MockError> {
        let member = match name {
            None => return Ok(self.owner(team)),
            Some(name) => self.get(team, name).ok_or_else(|| unknown(team, name))?,
        };
        if member.role.manages_keys() {
            Ok(member)
        } else {
            Err(MockError::RoleInsufficient {
                member: member.name,
                role: member.role,
            })
        }
    }

    fn put(&mut self, member: Member) {
        let key = same_name_key(&member.name).into_owned();
        self.teams
            .entry(member.team.clone())
            .or_default()
            .insert(key, member);
    }

    /// Adds a member (its name already checked by the names rule).
    pub(crate) fn add(
        &mut self,
        team: &str,
        name: &str,
        role: TeamRole,
        now: OffsetDateTime,
    ) -> Result<Member, MockError> {
        if self.get(team, name).is_some() {
            return Err(MockError::MemberExists {
                team: team.to_owned(),
                name: name.to_owned(),
            });
        }
        if role == TeamRole::Owner {
            return Err(MockError::OneOwner(
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
    ) -> Result<(Member, Option<Member>), MockError> {
        let mut member = self.get(team, name).ok_or_else(|| unknown(team, name))?;
        if member.role == role {
            return Ok((member, None));
        }
        if member.role == TeamRole::Owner {
            return Err(MockError::OneOwner(
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
    pub(crate) fn remove(&mut self, team: &str, name: &str) -> Result<Member, MockError> {
        let member = self.get(team, name).ok_or_else(|| unknown(team, name))?;
        if member.role == TeamRole::Owner {
            return Err(MockError::OneOwner(
                "the Owner cannot be removed: transfer ownership first",
            ));
        }
        if let Some(members) = self.teams.get_mut(team) {
            members.remove(same_name_key(&member.name).as_ref());
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
            Err(MockError::OneOwner(_))
        ));
        assert!(matches!(
            d.add("t", "ana", TeamRole::Admin, now()),
            Err(MockError::MemberExists { .. })
        ));
        assert!(matches!(
            d.add("t", "owner", TeamRole::Admin, now()),
            Err(MockError::MemberExists { .. })
        ));
        assert!(matches!(
            d.set_role("t", DEFAULT_OWNER, TeamRole::Admin),
            Err(MockError::OneOwner(_))
        ));
        assert!(matches!(
            d.remove("t", DEFAULT_OWNER),
            Err(MockError::OneOwner(_))
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
        assert_eq!(
            d.key_manager("t", None).map(|m| m.name).ok(),
            Some("owner".into())
        );
        assert!(d.key_manager("t", Some("ad")).is_ok());
        for name in ["ma", "me"] {
            let refused = d.key_manager("t", Some(name)).expect_err("refused");
            assert_eq!(refused.status_and_code(), (403, "role_insufficient"));
        }
        let unknown = d.key_manager("t", Some("zz")).expect_err("unknown");
        assert_eq!(unknown.status_and_code(), (404, "member_not_found"));
        assert_eq!(TeamRole::parse("admin"), Some(TeamRole::Admin));
        assert_eq!(TeamRole::parse("nope"), None);
    }
}
