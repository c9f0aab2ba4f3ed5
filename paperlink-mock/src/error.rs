//! [`MockError`]: everything that can go wrong when configuring or driving the mock from Rust.

use uuid::Uuid;

use crate::model::FieldError;

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
