//! [`MockError`]: everything that can go wrong when configuring or driving the mock from Rust.

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
    /// No member with this name in the team.
    #[error("team {team:?} has no member named {name:?}")]
    UnknownMember {
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
    /// A change to a team's members breaks a rule: a name taken or blank, or a team left with
    /// no Owner or two.
    #[error("{0}")]
    MemberRule(String),
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
