//! The mock's numbers and fixed names, in one place: every limit, period and default it
//! applies, each defined beside the rule that uses it.

pub use crate::builder::DEFAULT_JOURNAL_CAPACITY;
pub use crate::engine::clock::{CLOCK_END, MAX_PERIOD};
pub use crate::engine::faults::MAX_FAULT_DELAY;
pub use crate::engine::idempotency::{IDEMPOTENCY_RETENTION, MAX_IDEMPOTENCY_KEY};
pub use crate::engine::journal::{JOURNAL_CUT_MARKER, JOURNAL_FIELD_MAX, JOURNAL_MAX_BYTES};
pub use crate::engine::keys::{DEFAULT_TEAM, REVOKED_KEY_RETENTION, TOKEN_RANDOM_CHARS};
pub use crate::engine::members::DEFAULT_OWNER;
pub use crate::engine::products::{DEFAULT_LIMIT, MAX_LIMIT};
pub use crate::in_process::CORE_PRIORITY;
pub use crate::model::{
    API_PREFIX, DEFAULT_PRODUCT_TYPE, DEFAULT_UNIT_OF_MEASURE, MAX_BODY, MAX_DESCRIPTION,
    MAX_KEY_NAME, MAX_MEMBER_NAME, MAX_NAME, MAX_SHORT, MAX_SKU, MAX_TEAM_NAME,
};
