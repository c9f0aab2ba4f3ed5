//! Why a run stops before it can compare (exit status 2). Display is one lowercase line; causes
//! stay in `source()`. No variant carries a token: keys appear as their hints only.

use crate::budget::Exhausted;
use crate::cli::UsageError;

/// A run that cannot finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum Fatal {
    /// The command line is not usable. Nothing was sent.
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// A request to the target failed in transport (refused, reset, timed out, not HTTP).
    /// The request may have reached the target.
    #[error("the target is not reachable: {request} failed")]
    Unreachable {
        /// Method and path.
        request: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The target answered, but not as an HTTP JSON API would.
    #[error("the target does not answer as a Paperlink API: {request} answered {what}")]
    NotAnApi {
        /// Method and path.
        request: String,
        /// What came back.
        what: String,
    },
    /// The target answered `401` to a key.
    #[error("the target refused {flag} ({hint}) with 401: check the key and --base-url")]
    KeyRefused {
        /// `--key` or `--write-key`.
        flag: &'static str,
        /// The key's hint.
        hint: String,
    },
    /// `--write-key` is Read-only on the target.
    #[error(
        "the target refused a write with --write-key ({hint}) with 403: give a Read & Write key"
    )]
    WriteKeyReadOnly {
        /// The key's hint.
        hint: String,
    },
    /// The target asked for a wait longer than `--max-wait`.
    #[error(
        "the target asks to wait {asked} s ({reason}), longer than --max-wait {max} s; stopping"
    )]
    WaitTooLong {
        /// Seconds asked for.
        asked: u64,
        /// The header that asked.
        reason: &'static str,
        /// `--max-wait`.
        max: u64,
    },
    /// `--max-requests` was reached before every check ran.
    #[error("stopped before every check ran: {0}; raise it to run them all")]
    Budget(#[from] Exhausted),
    /// Something this program needs could not be set up (no request was sent for it).
    #[error("could not set up {what}")]
    Setup {
        /// What.
        what: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Ctrl-C.
    #[error("interrupted")]
    Interrupted,
    /// The local mock could not be started or asked.
    #[error("the local mock failed: {what}")]
    Mock {
        /// What failed.
        what: String,
        /// Why.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl Fatal {
    /// A failure of the local mock.
    pub(crate) fn mock(
        what: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Fatal::Mock {
            what: what.into(),
            source: Some(source.into()),
        }
    }

    /// The error and its causes, one per line.
    pub(crate) fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(error) = cause {
            text.push_str(&format!("\n  caused by: {error}"));
            cause = error.source();
        }
        text
    }
}
