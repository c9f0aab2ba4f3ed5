//! The changes a request can make to what a data file keeps, noted in the order they were
//! made so that the data file can write them as one transaction.

use crate::engine::idempotency::{IdempotencyScope, IdempotentResponse};
use crate::engine::keys::{KeyMode, KeyRecord};
use crate::engine::members::Member;
use crate::model::ProductRecord;

/// One durable change. Without the `durable` feature nothing reads them: no data file is
/// ever attached, so none is ever noted.
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "durable"), allow(dead_code))]
pub(crate) enum Change {
    /// A key was created or revoked: its whole record.
    KeyPut(KeyRecord),
    /// A team member was added, or their role changed.
    MemberPut(Member),
    /// A team member was removed.
    MemberRemoved { team: String, name: String },
    /// A product was created or changed: its whole record.
    ProductPut {
        team: String,
        mode: KeyMode,
        product: ProductRecord,
    },
    /// A write's answer was recorded for idempotent replay.
    Idempotency {
        scope: IdempotencyScope,
        response: IdempotentResponse,
    },
    /// The clock was moved by hand; the total moved so far, in milliseconds.
    Clock { advanced_ms: u64 },
    /// Back to the seeded keys and products, and every team back to its first Owner;
    /// idempotency records forgotten.
    Reset,
}
