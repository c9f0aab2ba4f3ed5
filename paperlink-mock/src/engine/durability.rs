//! The engine's durability boundary: what a data file keeps, and the one way it plugs in.
//!
//! * `changes`: what a request changed, noted in order, handed to the data file under the
//!   state's lock, so that it can commit a request's changes as one transaction.
//! * [`Snapshot`]: everything the data file keeps, as plain records; the state writes one
//!   when a file is created and restores itself from one when a file is loaded, or read back
//!   after a refused commit.
//! * [`Durability`]: what a data file does for the core (`persist`, with the `durable`
//!   feature, implements it); the engine never imports `persist`, and `persist` imports only
//!   this module and `changes` of the engine.

use std::sync::mpsc;
use std::time::Duration;

use crate::engine::catalog::catalog_of;
use crate::engine::changes::{Change, Placed};
use crate::engine::keys::Keyring;
use crate::engine::state::{Seeded, State};
use crate::error::MockError;
use crate::model::{KeyRecord, Member, ReplayRecord, ReplayScope};

/// Everything a data file keeps, as plain records.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Snapshot {
    pub(crate) keys: Vec<KeyRecord>,
    /// In the order they were created.
    pub(crate) products: Vec<Placed>,
    pub(crate) members: Vec<Member>,
    pub(crate) replays: Vec<(ReplayScope, ReplayRecord)>,
    /// What a reset returns to.
    pub(crate) seed_keys: Vec<KeyRecord>,
    pub(crate) seed_products: Vec<Placed>,
    /// How far the clock was moved by hand.
    pub(crate) clock_advanced_ms: u64,
    /// How many times the file was started before.
    pub(crate) starts: u64,
}

/// A durable store of the state's changes.
pub(crate) trait Durability: Send + Sync + std::fmt::Debug {
    /// Takes a request's changes, in the order they were made (the caller holds the state's
    /// lock). An empty list waits for everything handed over before it.
    fn submit(&self, changes: Vec<Change>) -> Ticket;

    /// After a refused commit, what the file holds (read once; `None` when nothing was
    /// refused since), for the state to restore itself from, so that no refused change stays
    /// visible. The caller holds the state's lock.
    fn reload(&self) -> Option<Result<Snapshot, MockError>>;

    /// Tests: the store itself, to reach its test hooks.
    #[cfg(all(test, feature = "durable"))]
    fn as_any(&self) -> &dyn std::any::Any;
}

/// Says whether a request's changes (and every change before them) are committed.
#[must_use]
pub(crate) struct Ticket(mpsc::Receiver<bool>);

impl Ticket {
    /// A ticket and the sender that answers it.
    #[cfg(feature = "durable")]
    pub(crate) fn new() -> (mpsc::SyncSender<bool>, Self) {
        let (done, ticket) = mpsc::sync_channel(1);
        (done, Self(ticket))
    }

    /// Waits for the answer: `true` once committed, `false` if refused.
    pub(crate) fn wait(self) -> bool {
        self.0.recv().unwrap_or(false)
    }
}

impl State {
    /// Everything a data file keeps, for a new file.
    #[cfg(feature = "durable")]
    pub(crate) fn snapshot(&self) -> Snapshot {
        let placed = |catalogs: &crate::engine::catalog::Catalogs| -> Vec<Placed> {
            catalogs
                .iter()
                .flat_map(|((team, mode), catalog)| {
                    catalog.in_creation_order().map(|product| Placed {
                        team: team.clone(),
                        mode: *mode,
                        product: product.clone(),
                    })
                })
                .collect()
        };
        let seeded = self.seeded.as_ref();
        Snapshot {
            keys: self.keys.records().cloned().collect(),
            products: placed(&self.catalogs),
            members: self.members.all().cloned().collect(),
            replays: self
                .idempotency
                .iter()
                .map(|(scope, record)| (*scope, record.clone()))
                .collect(),
            seed_keys: seeded.map_or_else(Vec::new, |s| s.keys.records().cloned().collect()),
            seed_products: seeded.map_or_else(Vec::new, |s| placed(&s.catalogs)),
            clock_advanced_ms: self.clock.advanced_ms(),
            starts: 0,
        }
    }

    /// Takes the state of a data file at start. With a fixed seed the generator would start
    /// over and draw the ids and tokens it drew before the restart, so each start of the file
    /// gets its own sequence, still reproducible from the seed and the file.
    #[cfg(feature = "durable")]
    pub(crate) fn load(&mut self, snapshot: Snapshot) {
        let salt = snapshot.starts.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.rng = fastrand::Rng::with_seed(self.rng.u64(..) ^ salt);
        self.restore(snapshot);
    }

    /// Takes the state read back after a refused commit; keys keep the `lastUsedAt` times the
    /// file does not keep.
    pub(crate) fn reload(&mut self, snapshot: Snapshot) {
        let old = std::mem::take(&mut self.keys);
        self.restore(snapshot);
        self.keys.keep_last_used(&old);
    }

    fn restore(&mut self, snapshot: Snapshot) {
        let Snapshot {
            keys,
            products,
            members,
            replays,
            seed_keys,
            seed_products,
            clock_advanced_ms,
            starts: _,
        } = snapshot;
        let catalogs = |placed: Vec<Placed>| {
            let mut catalogs = crate::engine::catalog::Catalogs::default();
            for Placed {
                team,
                mode,
                product,
            } in placed
            {
                catalog_of(&mut catalogs, &team, mode).insert(product);
            }
            catalogs
        };
        self.keys = keys.into_iter().collect();
        self.catalogs = catalogs(products);
        self.members = members.into_iter().collect();
        self.seeded = Some(Seeded {
            keys: seed_keys.into_iter().collect::<Keyring>(),
            catalogs: catalogs(seed_products),
        });
        self.idempotency.clear();
        for (scope, record) in replays {
            self.idempotency.insert(scope, record);
        }
        self.clock
            .set_advanced(Duration::from_millis(clock_advanced_ms));
        let _ = self.changes.take();
    }
}
