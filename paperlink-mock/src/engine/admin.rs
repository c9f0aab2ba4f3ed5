//! What the dashboard and the control plane change, for every front door alike: keys (made
//! and revoked by a member who may manage keys), team members, products put in directly, the
//! clock, and a reset. The control plane (`control`), the API Keys page (`ui`) and the Rust API
//! (`PaperlinkMock`, the builder) call these and nothing else, so a name, a role or a mode
//! gets the same answer through each. Every change is noted for the data file.

use std::time::Duration;

use secrecy::SecretString;
use uuid::Uuid;

use crate::engine::catalog::{CatalogError, catalog_of};
use crate::engine::changes::{Change, Placed};
use crate::engine::ids::{draw_unused, random_uuid};
use crate::engine::keys::{KeySpec, generate_token, hash_token};
use crate::engine::state::{Seeded, State};
use crate::error::MockError;
use crate::model::{
    KeyInfo, KeyMode, KeyScope, Member, NameKind, ProductRecord, ProductStatus, SeedProduct,
    TeamRole, checked_name,
};

/// A team's name, checked by the names rule.
pub(crate) fn team_name(team: &str) -> Result<String, MockError> {
    checked_name(NameKind::Team, "team", team).map_err(MockError::InvalidName)
}

/// Creates a key in `team`, as the dashboard does: as the member `by` (who must be an Owner or
/// an Admin of the team), or as the team's Owner when `by` is `None`. The token is returned
/// here, once, as a secret; only its hash is kept.
pub(crate) fn create_key(
    state: &mut State,
    team: &str,
    name: &str,
    mode: KeyMode,
    scope: KeyScope,
    by: Option<&str>,
) -> Result<(KeyInfo, SecretString), MockError> {
    let team = team_name(team)?;
    let name = checked_name(NameKind::Key, "name", name).map_err(MockError::InvalidName)?;
    let creator = state.members.key_manager(&team, by)?;
    let spec = KeySpec {
        created_by: creator.name,
        ..KeySpec::new(&team, &name, mode, scope)
    };
    let (token, hash) = draw_unused(
        || {
            let token = generate_token(&mut state.rng, spec.mode);
            let hash = hash_token(&token);
            (token, hash)
        },
        |(_, hash)| state.keys.knows(hash),
    );
    let id = draw_unused(
        || random_uuid(&mut state.rng),
        |id| state.keys.get(id).is_some(),
    );
    let now = state.clock.now();
    let info = state.keys.create(id, &token, hash, spec, now);
    note_key(state, &id);
    Ok((info, SecretString::from(token)))
}

fn note_key(state: &mut State, id: &Uuid) {
    let State { keys, changes, .. } = state;
    if let Some(record) = keys.record(id) {
        changes.record(|| Change::KeyPut(record.clone()));
    }
}

/// Revokes a key, as the member `by` of its team (an Owner or an Admin) or as the team's
/// Owner; revoking it again changes nothing.
pub(crate) fn revoke_key(
    state: &mut State,
    id: &Uuid,
    by: Option<&str>,
) -> Result<KeyInfo, MockError> {
    let team = state
        .keys
        .get(id)
        .map(|k| k.team.clone())
        .ok_or(MockError::UnknownKey(*id))?;
    let actor = state.members.key_manager(&team, by)?;
    let now = state.clock.now();
    let info = state
        .keys
        .revoke(id, actor.name, now)
        .ok_or(MockError::UnknownKey(*id))?;
    note_key(state, id);
    Ok(info)
}

/// Adds a member to a team (any role but Owner: ownership is transferred).
pub(crate) fn add_member(
    state: &mut State,
    team: &str,
    name: &str,
    role: TeamRole,
) -> Result<Member, MockError> {
    let team = team_name(team)?;
    let name = checked_name(NameKind::Member, "name", name).map_err(MockError::InvalidName)?;
    let now = state.clock.now();
    let member = state.members.add(&team, &name, role, now)?;
    state.changes.record(|| Change::MemberPut(member.clone()));
    Ok(member)
}

/// Changes a member's role; `OWNER` transfers ownership (the previous Owner becomes an Admin).
pub(crate) fn set_member_role(
    state: &mut State,
    team: &str,
    name: &str,
    role: TeamRole,
) -> Result<Member, MockError> {
    let (member, demoted) = state.members.set_role(team, name, role)?;
    for changed in demoted.iter().chain([&member]) {
        state.changes.record(|| Change::MemberPut(changed.clone()));
    }
    Ok(member)
}

/// Removes a member (never the Owner).
pub(crate) fn remove_member(
    state: &mut State,
    team: &str,
    name: &str,
) -> Result<Member, MockError> {
    let removed = state.members.remove(team, name)?;
    state.changes.record(|| Change::MemberRemoved {
        team: removed.team.clone(),
        name: removed.name.clone(),
    });
    Ok(removed)
}

/// Puts a product in a catalog directly (no API call, no rate limit), after the create rules.
/// A product whose id is in use is refused ([`MockError::ProductExists`]) unless `replace`
/// says to replace it.
pub(crate) fn insert_product(
    state: &mut State,
    team: &str,
    mode: KeyMode,
    seed: &SeedProduct,
    replace: bool,
) -> Result<ProductRecord, MockError> {
    let team = team_name(team)?;
    let new = seed.checked().map_err(MockError::InvalidProduct)?;
    let created = seed.created_at.unwrap_or_else(|| state.clock.now());
    let catalog = catalog_of(&mut state.catalogs, &team, mode);
    let id = match seed.id {
        Some(id) => id,
        None => catalog.unused_id(&mut state.rng),
    };
    let defaults = (
        crate::model::DEFAULT_PRODUCT_TYPE,
        state.settings.default_unit.as_str(),
    );
    let filed = match (catalog.contains(&id), replace) {
        (true, false) => return Err(MockError::ProductExists(id)),
        (true, true) => catalog.replace(id, new, created, defaults),
        (false, _) => catalog.create(id, new, created, defaults),
    };
    let entry = filed.map_err(|e| match e {
        CatalogError::SkuTaken => MockError::SkuConflict,
        CatalogError::NotFound => MockError::InvalidProduct(Vec::new()),
    })?;
    let entry = if seed.status == Some(ProductStatus::Archived) {
        catalog
            .archive(&id, created)
            .map_err(|_| MockError::InvalidProduct(Vec::new()))?
    } else {
        entry
    };
    let product = entry.record.clone();
    state.changes.record(|| {
        Change::ProductPut(Placed {
            team: team.clone(),
            mode,
            product: product.clone(),
        })
    });
    Ok(product)
}

/// Moves the mock clock forward (it stops at its end).
pub(crate) fn advance_clock(state: &mut State, by: Duration) {
    state.clock.advance(by);
    let advanced_ms = state.clock.advanced_ms();
    state.changes.record(|| Change::Clock { advanced_ms });
}

/// Remembers the current keys and products as what [`reset`] returns to.
pub(crate) fn mark_seeded(state: &mut State) {
    state.seeded = Some(Seeded {
        keys: state.keys.clone(),
        catalogs: state.catalogs.clone(),
    });
}

/// Back to the seeded keys (not revoked, never used) and products, every team back to its
/// first Owner, the clock back to where it started (real time for a standalone server);
/// forgets idempotency records, rate windows, the journal and faults.
pub(crate) fn reset(state: &mut State) {
    state.changes.record(|| Change::Reset);
    state.clock.rewind();
    state.changes.record(|| Change::Clock { advanced_ms: 0 });
    if let Some(seeded) = state.seeded.clone() {
        state.keys = seeded.keys;
        state.catalogs = seeded.catalogs;
    }
    state.members = Default::default();
    state.idempotency.clear();
    state.rates.clear();
    state.journal.clear();
    state.faults.clear();
}
