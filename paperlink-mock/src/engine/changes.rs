//! The changes a request makes to what a data file keeps, noted in the order they were made,
//! so that the data file can commit a request's changes as one transaction.

use crate::model::{KeyMode, KeyRecord, Member, ProductRecord, ReplayRecord, ReplayScope};

/// One durable change.
// Without the `durable` feature no data file is ever attached, so no change is ever read.
#[cfg_attr(not(feature = "durable"), allow(dead_code))]
#[derive(Debug, Clone)]
pub(crate) enum Change {
    /// A key was created or revoked: its whole record.
    KeyPut(KeyRecord),
    /// A team member was added, or their role changed.
    MemberPut(Member),
    /// A team member was removed.
    MemberRemoved { team: String, name: String },
    /// A product was created or changed: its whole record.
    ProductPut(Placed),
    /// A write's answer was recorded for idempotent replay.
    Replay {
        scope: ReplayScope,
        record: ReplayRecord,
    },
    /// The clock was moved by hand; the total moved so far, in milliseconds.
    Clock { advanced_ms: u64 },
    /// Back to the seeded keys and products, and every team back to its first Owner;
    /// idempotency records forgotten.
    Reset,
}

/// A product and the catalog it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Placed {
    pub(crate) team: String,
    pub(crate) mode: KeyMode,
    pub(crate) product: ProductRecord,
}

/// The changes a request made, for the data file; nothing is noted without one.
#[derive(Debug, Default)]
pub(crate) struct Changes(Option<Vec<Change>>);

impl Changes {
    /// Changes that are noted: there is a data file.
    #[cfg(feature = "durable")]
    pub(crate) fn noted() -> Self {
        Self(Some(Vec::new()))
    }

    /// Notes a change, when there is a data file (the change is made only then).
    pub(crate) fn record(&mut self, change: impl FnOnce() -> Change) {
        if let Some(noted) = &mut self.0 {
            noted.push(change());
        }
    }

    /// Takes what was noted so far (`None` without a data file).
    pub(crate) fn take(&mut self) -> Option<Vec<Change>> {
        self.0.as_mut().map(std::mem::take)
    }
}
