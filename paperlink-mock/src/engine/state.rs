//! Everything the mock knows, behind the core's one lock: plain data that the steps of a
//! request borrow. Each part belongs to the step that decides with it (the keyring to
//! `keys` and `authenticate`, the windows to `rate_limit`, the records to `idempotency`, the
//! faults to `faults`, the catalogs to `catalog`, the members to `members`, the journal to
//! `journal`, the changes to `durability`); this file only holds them together.

use std::time::Duration;

use crate::engine::catalog::Catalogs;
use crate::engine::changes::Changes;
use crate::engine::clock::Clock;
use crate::engine::faults::Faults;
use crate::engine::idempotency::IdempotencyRecords;
use crate::engine::journal::Journal;
use crate::engine::keys::Keyring;
use crate::engine::members::Directory;
use crate::engine::rate_limit::{RateLimitPolicy, RateWindows};

/// Settings fixed at start.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) rate_limit: Option<RateLimitPolicy>,
    pub(crate) revocation_delay: Duration,
    /// The `unitOfMeasure` of a product created without one.
    pub(crate) default_unit: String,
    pub(crate) journal_capacity: usize,
}

/// What a reset returns to: the keys and products the mock started with.
#[derive(Debug, Default, Clone)]
pub(crate) struct Seeded {
    pub(crate) keys: Keyring,
    pub(crate) catalogs: Catalogs,
}

/// Everything the mock knows.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) settings: Settings,
    pub(crate) clock: Clock,
    /// Ids and tokens (reproducible with a seed).
    pub(crate) rng: fastrand::Rng,
    pub(crate) keys: Keyring,
    pub(crate) members: Directory,
    pub(crate) catalogs: Catalogs,
    pub(crate) idempotency: IdempotencyRecords,
    pub(crate) rates: RateWindows,
    pub(crate) faults: Faults,
    pub(crate) journal: Journal,
    pub(crate) seeded: Option<Seeded>,
    /// What changed, for the data file (nothing is noted without one).
    pub(crate) changes: Changes,
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
            idempotency: IdempotencyRecords::default(),
            rates: RateWindows::default(),
            faults: Faults::default(),
            journal: Journal::default(),
            seeded: None,
            changes: Changes::default(),
        }
    }
}
