//! Everything the mock knows, behind the core's one lock: settings, the clock, keys, product
//! catalogs per (team, mode), idempotency records, rate windows, the journal and faults; and
//! every change the control plane can make to them.

use std::collections::VecDeque;
use std::time::Duration;

use foldhash::{HashMap, HashMapExt};
use hashbrown::hash_map::EntryRef;
use time::OffsetDateTime;
use uuid::Uuid;

use secrecy::SecretString;

use crate::engine::catalog::{Catalog, CatalogError};
use crate::engine::change::Change;
use crate::engine::clock::Clock;
use crate::engine::idempotency::{IdempotencyScope, IdempotentResponse};
use crate::engine::ids::{draw_unused, random_uuid};
use crate::engine::journal::{Journal, JournalEntry};
use crate::engine::keys::{KeyInfo, KeySpec, generate_token, hash_token};
use crate::engine::keys::{KeyMode, Keyring};
use crate::engine::limits::{self, Fault, FaultKind, RateLimitPolicy, RateStatus, Windows};
use crate::engine::members::{Directory, Member, MemberProblem, TeamRole};
use crate::engine::sharded::ShardedMap;
use crate::error::MockError;
use crate::model::{ProductRecord, ProductStatus, SeedProduct, create_input};

/// Product catalogs by (team, mode).
pub(crate) type Catalogs = PerTeam<Catalog>;

/// Maps keyed by (team, mode), such as [`Catalogs`].
pub(crate) type PerTeam<V> = hashbrown::HashMap<(String, KeyMode), V>;

/// A (team, mode) borrowed from the request: finding an entry copies nothing; the team's name
/// is copied only when its entry is made. Hashes as the owned key does.
#[derive(Hash)]
pub(crate) struct TeamMode<'a>(pub(crate) &'a str, pub(crate) KeyMode);

impl hashbrown::Equivalent<(String, KeyMode)> for TeamMode<'_> {
    fn equivalent(&self, key: &(String, KeyMode)) -> bool {
        self.0 == key.0 && self.1 == key.1
    }
}

/// The entry of a team and mode, made empty the first time it is needed.
pub(crate) fn per_team<'a, V: Default>(
    map: &'a mut PerTeam<V>,
    team: &str,
    mode: KeyMode,
) -> &'a mut V {
    match map.entry_ref(&TeamMode(team, mode)) {
        EntryRef::Occupied(found) => found.into_mut(),
        EntryRef::Vacant(slot) => slot.insert_with_key((team.to_owned(), mode), V::default()),
    }
}

/// The catalog of a team and mode, made empty the first time it is needed.
pub(crate) fn catalog_of<'a>(
    catalogs: &'a mut Catalogs,
    team: &str,
    mode: KeyMode,
) -> &'a mut Catalog {
    per_team(catalogs, team, mode)
}

/// Settings fixed at start.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) rate_limit: Option<RateLimitPolicy>,
    pub(crate) revocation_delay: Duration,
    pub(crate) default_type: String,
    pub(crate) default_unit: String,
    pub(crate) journal_capacity: usize,
}

impl Settings {
    /// The `type` and `unitOfMeasure` of a product created without them.
    pub(crate) fn defaults(&self) -> (&str, &str) {
        (&self.default_type, &self.default_unit)
    }
}

/// Everything the mock knows.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) settings: Settings,
    pub(crate) clock: Clock,
    pub(crate) rng: fastrand::Rng,
    pub(crate) keys: Keyring,
    /// Each team's members (a reset returns every team to its first Owner).
    pub(crate) members: Directory,
    pub(crate) catalogs: Catalogs,
    /// Boxed for the same reason as the catalog's products: growth moves pointers.
    pub(crate) idempotency: ShardedMap<IdempotencyScope, Box<IdempotentResponse>>,
    idempotency_expiry: VecDeque<(OffsetDateTime, IdempotencyScope)>,
    windows: Windows,
    pub(crate) journal: Journal,
    pub(crate) faults: Vec<Fault>,
    /// What `reset` returns to.
    pub(crate) seeded: Option<(Keyring, Catalogs)>,
    /// Changes to make durable before the response goes out (only with a data file).
    pub(crate) pending: Option<Vec<Change>>,
}

impl State {
    pub(crate) fn new(settings: Settings, clock: Clock, rng: fastrand::Rng) -> Self {
        Self {
            settings,
            clock,
            rng,
            keys: Keyring::default(),
            members: Directory::default(),
            catalogs: Catalogs::default(),
            idempotency: ShardedMap::default(),
            idempotency_expiry: VecDeque::new(),
            windows: HashMap::new(),
            journal: Journal::default(),
            faults: Vec::new(),
            seeded: None,
            pending: None,
        }
    }

    /// Notes a change for the data file, when there is one.
    pub(crate) fn record(&mut self, change: impl FnOnce() -> Change) {
        if let Some(pending) = &mut self.pending {
            pending.push(change());
        }
    }

    /// Forgets idempotency records.
    pub(crate) fn clear_idempotency(&mut self) {
        self.idempotency.clear();
        self.idempotency_expiry.clear();
    }

    /// Forgets idempotency records, rate windows, the journal and faults.
    pub(crate) fn clear_traffic(&mut self) {
        self.clear_idempotency();
        self.windows.clear();
        self.journal.clear();
        self.faults.clear();
    }

    pub(crate) fn catalog(&mut self, team: &str, mode: KeyMode) -> &mut Catalog {
        catalog_of(&mut self.catalogs, team, mode)
    }

    /// Forgets what has expired: idempotency records past 24 h, revoked keys past 90 days.
    pub(crate) fn expire(&mut self, now: OffsetDateTime) {
        while let Some((at, _)) = self.idempotency_expiry.front() {
            if *at > now {
                break;
            }
            if let Some((_, scope)) = self.idempotency_expiry.pop_front()
                && self
                    .idempotency
                    .get(&scope)
                    .is_some_and(|r| r.expires <= now)
            {
                self.idempotency.remove(&scope);
            }
        }
        self.keys.purge(now);
    }

    pub(crate) fn remember(&mut self, scope: IdempotencyScope, response: IdempotentResponse) {
        self.record(|| Change::Idempotency {
            scope,
            response: response.clone(),
        });
        self.idempotency_expiry.push_back((response.expires, scope));
        self.idempotency.insert(scope, Box::new(response));
    }

    /// Counts a request against the key's window (`consume`), or only reports it.
    pub(crate) fn rate(
        &mut self,
        key: Uuid,
        now: OffsetDateTime,
        consume: bool,
    ) -> Option<RateStatus> {
        limits::rate(
            &mut self.windows,
            self.settings.rate_limit,
            key,
            now,
            consume,
        )
    }

    /// The fault that hits this request, if any (spent faults are removed).
    pub(crate) fn fault_for(&mut self, method: &str, path: &str) -> Option<FaultKind> {
        limits::fault_for(&mut self.faults, &mut self.rng, method, path)
    }

    pub(crate) fn journal(&mut self, entry: JournalEntry) {
        self.journal.push(entry, self.settings.journal_capacity);
    }
}

impl State {
    /// Creates a key, as the dashboard does: the token is returned here, once, as a secret;
    /// only its hash is kept.
    pub(crate) fn create_key(&mut self, spec: KeySpec) -> (KeyInfo, SecretString) {
        let (token, hash) = draw_unused(
            || {
                let token = generate_token(&mut self.rng, spec.mode);
                let hash = hash_token(&token);
                (token, hash)
            },
            |(_, hash)| self.keys.knows(hash),
        );
        let id = draw_unused(
            || random_uuid(&mut self.rng),
            |id| self.keys.get(id).is_some(),
        );
        let now = self.clock.now();
        let info = self.keys.create(id, &token, hash, spec, now);
        self.record_key(&id);
        (info, SecretString::from(token))
    }

    fn record_key(&mut self, id: &Uuid) {
        // The record is copied only when there is a data file to write it to.
        let Self { keys, pending, .. } = self;
        if let (Some(pending), Some(record)) = (pending, keys.record(id)) {
            pending.push(Change::KeyPut(record.clone()));
        }
    }

    /// Revokes a key (again: no change).
    /// Revokes a key, as the named member of its team (who must be an Owner or an Admin) or
    /// as the team's Owner.
    pub(crate) fn revoke_key(&mut self, id: &Uuid, by: Option<&str>) -> Result<KeyInfo, MockError> {
        let team = self
            .keys
            .get(id)
            .map(|k| k.team.clone())
            .ok_or(MockError::UnknownKey(*id))?;
        let actor = self
            .members
            .key_manager(&team, by)
            .map_err(MockError::from)?;
        let now = self.clock.now();
        let info = self
            .keys
            .revoke(id, Some(actor.name), now)
            .ok_or(MockError::UnknownKey(*id))?;
        self.record_key(id);
        Ok(info)
    }

    /// Creates a key as the named member (who must be an Owner or an Admin of the key's team)
    /// or as the team's Owner; `spec.created_by` is set to who acted.
    pub(crate) fn create_key_as(
        &mut self,
        mut spec: KeySpec,
        by: Option<&str>,
    ) -> Result<(KeyInfo, SecretString), MemberProblem> {
        spec.created_by = self.members.key_manager(&spec.team, by)?.name;
        Ok(self.create_key(spec))
    }

    /// Creates a key as its team's Owner, who may always manage keys.
    pub(crate) fn create_key_as_owner(&mut self, mut spec: KeySpec) -> (KeyInfo, SecretString) {
        spec.created_by = self.members.owner(&spec.team).name;
        self.create_key(spec)
    }

    /// Adds a member to a team.
    pub(crate) fn add_member(
        &mut self,
        team: &str,
        name: &str,
        role: TeamRole,
    ) -> Result<Member, MemberProblem> {
        let now = self.clock.now();
        let member = self.members.add(team, name, role, now)?;
        self.record(|| Change::MemberPut(member.clone()));
        Ok(member)
    }

    /// Changes a member's role; `OWNER` transfers ownership (the previous Owner becomes an
    /// Admin). Returns the member after the change.
    pub(crate) fn set_member_role(
        &mut self,
        team: &str,
        name: &str,
        role: TeamRole,
    ) -> Result<Member, MemberProblem> {
        let (member, demoted) = self.members.set_role(team, name, role)?;
        for changed in demoted.iter().chain([&member]) {
            self.record(|| Change::MemberPut(changed.clone()));
        }
        Ok(member)
    }

    /// Removes a member (never the Owner).
    pub(crate) fn remove_member(
        &mut self,
        team: &str,
        name: &str,
    ) -> Result<Member, MemberProblem> {
        let removed = self.members.remove(team, name)?;
        self.record(|| Change::MemberRemoved {
            team: removed.team.clone(),
            name: removed.name.clone(),
        });
        Ok(removed)
    }

    /// Adds a product directly (no API call, no rate limit), after the create rules.
    pub(crate) fn insert_product(
        &mut self,
        team: &str,
        mode: KeyMode,
        seed: &SeedProduct,
    ) -> Result<ProductRecord, MockError> {
        let body = serde_json::to_vec(seed).map_err(|e| MockError::File {
            what: "the seed product".to_owned(),
            source: Box::new(e),
        })?;
        let new = create_input(&body).map_err(MockError::InvalidProduct)?;
        let created = seed.created_at.unwrap_or_else(|| self.clock.now());
        let catalog = catalog_of(&mut self.catalogs, team, mode);
        let id = match seed.id {
            Some(id) => id,
            None => catalog.unused_id(&mut self.rng),
        };
        let stored = catalog
            .create(id, new, created, self.settings.defaults())
            .map_err(|e| match e {
                CatalogError::SkuTaken => MockError::SkuConflict,
                CatalogError::NotFound => MockError::InvalidProduct(Vec::new()),
            })?;
        let stored = if seed.status == Some(ProductStatus::Archived) {
            catalog
                .archive(&id, created)
                .map_err(|_| MockError::InvalidProduct(Vec::new()))?
        } else {
            stored
        };
        let product = stored.record.clone();
        self.record_product(team, mode, product.clone());
        Ok(product)
    }

    /// Notes a product change for the data file.
    pub(crate) fn record_product(&mut self, team: &str, mode: KeyMode, product: ProductRecord) {
        self.record(|| Change::ProductPut {
            team: team.to_owned(),
            mode,
            product,
        });
    }

    /// Moves the mock clock forward.
    pub(crate) fn advance_clock(&mut self, by: Duration) {
        self.clock.advance(by);
        let advanced_ms = self.clock.advanced_ms();
        self.record(|| Change::Clock { advanced_ms });
        let now = self.clock.now();
        self.expire(now);
    }

    /// Remembers the current keys and products as what [`reset`](Self::reset) returns to.
    pub(crate) fn mark_seeded(&mut self) {
        self.seeded = Some((self.keys.clone(), self.catalogs.clone()));
    }

    /// Back to the seeded keys (not revoked, never used) and products; forgets idempotency
    /// records, rate windows, the journal and faults. The clock keeps running.
    pub(crate) fn reset(&mut self) {
        self.record(|| Change::Reset);
        if let Some((keys, catalogs)) = self.seeded.clone() {
            self.keys = keys;
            self.catalogs = catalogs;
        }
        self.members = Directory::default();
        self.clear_traffic();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(limit: u32) -> State {
        let settings = Settings {
            rate_limit: Some(RateLimitPolicy::new(limit, Duration::from_secs(60))),
            revocation_delay: Duration::ZERO,
            default_type: crate::model::DEFAULT_PRODUCT_TYPE.into(),
            default_unit: crate::model::DEFAULT_UNIT_OF_MEASURE.into(),
            journal_capacity: 3,
        };
        State::new(
            settings,
            Clock::frozen(OffsetDateTime::UNIX_EPOCH),
            fastrand::Rng::with_seed(1),
        )
    }

    #[test]
    fn the_window_slides_per_key() {
        let mut s = state(2);
        let key = Uuid::from_u128(1);
        let t0 = OffsetDateTime::UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(s.rate(key, t0, true).map(|r| r.remaining), Some(1));
        let second = s
            .rate(key, t0 + Duration::from_secs(30), true)
            .expect("policy");
        assert_eq!((second.remaining, second.reset), (0, 1_060));
        let over = s
            .rate(key, t0 + Duration::from_secs(59), true)
            .expect("policy");
        assert_eq!((over.retry_after, over.remaining), (Some(1), 0));
        assert_eq!(
            s.rate(Uuid::from_u128(2), t0, true).map(|r| r.retry_after),
            Some(None)
        );
        let later = s
            .rate(key, t0 + Duration::from_secs(60), true)
            .expect("policy");
        assert_eq!((later.retry_after, later.remaining), (None, 0));
        assert_eq!(
            s.rate(key, t0 + Duration::from_secs(61), false)
                .map(|r| r.retry_after),
            Some(Some(29))
        );
    }

    #[test]
    fn faults_match_paths_and_are_spent() {
        let mut s = state(1);
        s.faults.push(Fault::fail_next(
            "post",
            "/api/v1/products/*",
            2,
            503,
            Some(1),
        ));
        assert_eq!(s.fault_for("GET", "/api/v1/products/x"), None);
        assert_eq!(s.fault_for("POST", "/api/v1/products"), None);
        assert!(s.fault_for("POST", "/api/v1/products/x").is_some());
        assert!(s.fault_for("POST", "/api/v1/products/y").is_some());
        assert_eq!(s.fault_for("POST", "/api/v1/products/z"), None);
        assert!(s.faults.is_empty());
        s.faults
            .push(Fault::fail_next("GET", "/a", 100, 503, None).with_probability(0.0));
        s.faults.push(Fault::fail_next("GET", "/a", 100, 429, None));
        assert!(
            matches!(
                s.fault_for("GET", "/api/v1/a"),
                Some(FaultKind::Status { status: 429, .. })
            ),
            "the second fault gets its turn"
        );
    }

    #[test]
    fn a_repeating_generator_never_reuses_a_product_id_a_token_or_a_key_id() {
        let mut s = state(10);
        let spec = || crate::engine::keys::KeySpec {
            name: "k".into(),
            mode: KeyMode::Test,
            scope: crate::engine::keys::KeyScope::ReadWrite,
            team: "t".into(),
            created_by: "owner".into(),
        };
        let product = crate::model::SeedProduct::new("p", rust_decimal::Decimal::ONE, "USD");
        // Each second draw starts from the generator's state before the first, as a restart
        // with the same seed would.
        let before = s.rng.clone();
        let first_product = s
            .insert_product("t", KeyMode::Test, &product)
            .expect("seeded");
        s.rng = before;
        let second_product = s
            .insert_product("t", KeyMode::Test, &product)
            .expect("seeded");
        let before = s.rng.clone();
        let (first_key, _) = s.create_key(spec());
        s.rng = before;
        let (second_key, _) = s.create_key(spec());
        assert_ne!(first_product.id, second_product.id);
        assert_ne!(first_key.id, second_key.id);
        assert_ne!(
            first_key.prefix, second_key.prefix,
            "a token is not handed out twice"
        );
        assert_eq!(s.catalog("t", KeyMode::Test).snapshot().len(), 2);
        assert_eq!(s.keys.list(None).len(), 2);
    }

    #[test]
    fn a_borrowed_team_name_finds_the_catalog_made_for_it() {
        let mut catalogs = Catalogs::default();
        let id = Uuid::from_u128(9);
        let product = crate::model::SeedProduct::new("p", rust_decimal::Decimal::ONE, "USD");
        let new = crate::model::create_input(&serde_json::to_vec(&product).expect("json"))
            .expect("valid");
        catalog_of(&mut catalogs, "team", KeyMode::Test)
            .create(id, new, OffsetDateTime::UNIX_EPOCH, ("SERVICES", "unit"))
            .expect("created");
        assert!(catalog_of(&mut catalogs, "team", KeyMode::Test).contains(&id));
        assert!(!catalog_of(&mut catalogs, "team", KeyMode::Live).contains(&id));
        assert!(!catalog_of(&mut catalogs, "other", KeyMode::Test).contains(&id));
        assert_eq!(catalogs.len(), 3);
    }
}
