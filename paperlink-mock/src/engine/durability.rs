//! The engine's durability boundary: what a data file must do for the core. The core hands
//! each request's changes over under its lock and waits for the answer after releasing it;
//! the data file (`persist`, with the `durable` feature) implements this, and the core never
//! imports it.

use std::sync::mpsc;

use crate::engine::change::Change;
use crate::engine::state::State;

/// A durable store of the state's changes.
pub(crate) trait Durability: Send + Sync + std::fmt::Debug {
    /// Takes a request's changes, in the order they were made (the caller holds the state's
    /// lock). An empty list waits for everything handed over before it.
    fn submit(&self, changes: Vec<Change>) -> Ticket;

    /// After a refused commit, puts what the store holds back in place of the durable part
    /// of the state, so that no refused change stays visible. The caller holds the lock.
    fn recover(&self, state: &mut State);

    /// Tests: the store itself, to reach its test hooks.
    #[cfg(test)]
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
