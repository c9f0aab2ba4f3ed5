//! [`MockError`]: everything that can go wrong when configuring or driving the mock, and the
//! one place that says which HTTP status and error code each refusal is served with (by the
//! control plane as JSON, by the API Keys page as a page with the same status).

use uuid::Uuid;

use crate::model::{FieldError, TeamRole};

/// Everything that can go wrong when configuring or driving the mock from Rust.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    /// A seed product breaks a rule of the API.
    #[error("invalid product: {}", describe(.0))]
    InvalidProduct(Vec<FieldError>),
    /// A seed product's SKU is already used in its team and mode.
    #[error("sku already used in this team and mode")]
    SkuConflict,
    /// A product with this id is already in the catalog (putting one in replaces nothing
    /// unless asked to).
    #[error("a product with id {0} is already in this catalog")]
    ProductExists(Uuid),
    /// No key with this id.
    #[error("no key with id {0}")]
    UnknownKey(Uuid),
    /// A seed file or a seed product could not be read.
    #[error("could not read {what}")]
    File {
        /// What could not be read.
        what: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The data file cannot be used (in use by another server, not a paperlink-mock data
    /// file, damaged, written by a newer version, or the disk refused a write). The message
    /// says whether anything was changed; the source, when there is one, says what failed.
    #[error("data file {}: {message}", path.display())]
    DataFile {
        /// The data file.
        path: std::path::PathBuf,
        /// What is wrong, and what to do.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The data file refused a change made through the Rust API; the change was undone.
    #[error("the data file refused the change, so it was undone")]
    Storage,
    /// A fault that could never fire, or whose status or delay is out of range.
    #[error("invalid fault: {field} {message}")]
    InvalidFault {
        /// The fault's field at fault (`path`, `kind.status`, `kind.millis`).
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A key, member or team name breaks the names rule (blank, control characters, too
    /// long); the field names the value.
    #[error("invalid {}: {}", .0.field, .0.message)]
    InvalidName(FieldError),
    /// No member with this name in the team.
    #[error("team {team:?} has no member named {name:?}")]
    UnknownMember {
        /// The team.
        team: String,
        /// The name asked for.
        name: String,
    },
    /// The team already has a member of this name (after Unicode NFKC normalisation).
    #[error("team {team:?} already has a member named {name:?}")]
    MemberExists {
        /// The team.
        team: String,
        /// The name asked for.
        name: String,
    },
    /// The acting member is a Manager or a Member: only an Owner or an Admin manages API keys.
    #[error("only an Owner or an Admin manages API keys; {member:?} is a {role}")]
    RoleInsufficient {
        /// Who tried.
        member: String,
        /// Their role.
        role: TeamRole,
    },
    /// A change would leave a team with no Owner, or two.
    #[error("{0}")]
    OneOwner(&'static str),
    /// A setting is out of its range.
    #[error("{setting} {problem}")]
    OutOfRange {
        /// The setting.
        setting: &'static str,
        /// Its range.
        problem: String,
    },
}

fn describe(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{} {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl MockError {
    /// The HTTP status and error code the control plane (and the API Keys page) answers
    /// this refusal with.
    pub(crate) fn status_and_code(&self) -> (u16, &'static str) {
        match self {
            MockError::UnknownKey(_) => (404, "key_not_found"),
            MockError::UnknownMember { .. } => (404, "member_not_found"),
            MockError::RoleInsufficient { .. } => (403, "role_insufficient"),
            MockError::SkuConflict => (409, "sku_conflict"),
            MockError::ProductExists(_) => (409, "product_exists"),
            MockError::MemberExists { .. } => (409, "member_exists"),
            MockError::OneOwner(_) => (409, "one_owner"),
            MockError::Storage => (503, "storage_unavailable"),
            MockError::InvalidProduct(_)
            | MockError::InvalidFault { .. }
            | MockError::InvalidName(_)
            | MockError::OutOfRange { .. }
            | MockError::File { .. }
            | MockError::DataFile { .. } => (400, "validation_error"),
        }
    }

    /// The field details a validation refusal carries.
    pub(crate) fn details(&self) -> Vec<FieldError> {
        match self {
            MockError::InvalidProduct(details) => details.clone(),
            MockError::InvalidFault { field, message } => vec![FieldError::new(field, message)],
            MockError::InvalidName(detail) => vec![detail.clone()],
            _ => Vec::new(),
        }
    }
}
