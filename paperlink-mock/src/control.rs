//! The control plane's operations on the state (the dashboard's key management, the clock,
//! seeding, reset), shared by the Rust API of [`PaperlinkMock`](crate::PaperlinkMock) and the
//! `/__admin` HTTP routes.

use std::time::Duration;

use secrecy::SecretString;
use uuid::Uuid;

use crate::auth::{KeyInfo, KeyMode, KeySpec, generate_token, hash_token};
use crate::catalog::CatalogError;
use crate::change::Change;
use crate::config::{MockError, SeedProduct};
use crate::model::{ProductRecord, ProductStatus, create_input};
use crate::state::{State, catalog_of, draw_unused, random_uuid};

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
    pub(crate) fn revoke_key(
        &mut self,
        id: &Uuid,
        by: Option<String>,
    ) -> Result<KeyInfo, MockError> {
        let now = self.clock.now();
        let info = self
            .keys
            .revoke(id, by, now)
            .ok_or(MockError::UnknownKey(*id))?;
        self.record_key(id);
        Ok(info)
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
            message: e.to_string(),
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
        let advanced_ms = u64::try_from(self.clock.advanced().as_millis()).unwrap_or(u64::MAX);
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
        self.clear_traffic();
    }
}
