//! The command line: flags parsed by clap into plain strings (so that clap never echoes a
//! key in an error), then checked here, each number against its range, into a [`Config`].

use std::net::IpAddr;
use std::time::Duration;

use clap::Parser;
use secrecy::SecretString;
use url::{Host, Url};

use crate::key::{Key, KeyProblem};

/// Requests sent to the target at most, by default: a full run with a write key sends about
/// 45, so this leaves room for a few retries after a `429`.
pub(crate) const DEFAULT_MAX_REQUESTS: u32 = 100;
/// The largest `--max-requests`.
pub(crate) const MAX_MAX_REQUESTS: u32 = 10_000;
/// Seconds a request may take, by default.
pub(crate) const DEFAULT_TIMEOUT_SECS: u64 = 10;
/// The largest `--timeout`.
pub(crate) const MAX_TIMEOUT_SECS: u64 = 300;
/// The longest wait for `Retry-After` or a rate-limit reset, by default.
pub(crate) const DEFAULT_MAX_WAIT_SECS: u64 = 60;
/// The largest `--max-wait`.
pub(crate) const MAX_MAX_WAIT_SECS: u64 = 900;

/// Runs the mock's scenarios against a Paperlink target and against the mock, and reports
/// every difference a client can observe.
///
/// Exit status: 0 no difference, 1 differences found, 2 a usage error or the target not
/// usable (unreachable, not an API, the key refused, the run cut short).
#[derive(Parser)]
#[command(
    name = "paperlink-drift",
    version,
    about,
    long_about = None,
    after_help = "Exit status: 0 no difference, 1 differences found, 2 a usage error or a target \
                  that cannot be used (unreachable, not an API, a key refused, a wait over \
                  --max-wait, the budget spent, Ctrl-C)."
)]
pub(crate) struct Args {
    /// The target's API base URL, the one that ends in /api/v1: https, or plain http for a
    /// loopback host only.
    #[arg(long, value_name = "URL", required_unless_present = "list_checks")]
    base_url: Option<String>,
    /// A Test key of the target (Read-only or Read & Write; its scope is learned without
    /// writing anything). Prefer the environment variable: a command line is visible to
    /// other users of the machine.
    #[arg(
        long,
        value_name = "KEY",
        env = "PAPERLINK_DRIFT_KEY",
        hide_env_values = true,
        required_unless_present = "list_checks"
    )]
    key: Option<String>,
    /// A Read & Write Test key: enables the write scenarios. Every product they create is
    /// named with a marker unique to the run and archived at the end.
    #[arg(
        long,
        value_name = "KEY",
        env = "PAPERLINK_DRIFT_WRITE_KEY",
        hide_env_values = true
    )]
    write_key: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// The most requests sent to the target, retries and clean-up included (1 to 10000).
    #[arg(long, value_name = "N", default_value_t = u64::from(DEFAULT_MAX_REQUESTS))]
    max_requests: u64,
    /// Seconds each request to the target may take (1 to 300).
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_TIMEOUT_SECS)]
    timeout: u64,
    /// The longest wait for a `Retry-After` or a rate-limit reset, in seconds (0 to 900);
    /// a longer one stops the run.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_MAX_WAIT_SECS)]
    max_wait: u64,
    /// List the checks and the decisions they test, and exit without sending anything.
    #[arg(long)]
    list_checks: bool,
    // Stray words, caught here so that a key typed without its flag is never echoed back
    // by clap's "unexpected argument" error.
    #[arg(hide = true, num_args = 0..)]
    stray: Vec<String>,
}

/// A checked command line.
#[derive(Debug)]
pub(crate) struct Config {
    /// The target's base URL, without a trailing slash.
    pub(crate) base_url: Url,
    /// The key for reads (and for the read-only refusals).
    pub(crate) key: Key,
    /// The key for writes.
    pub(crate) write_key: Option<Key>,
    /// JSON output.
    pub(crate) json: bool,
    /// The request budget for the target.
    pub(crate) max_requests: u32,
    /// Per request.
    pub(crate) timeout: Duration,
    /// The longest wait the target may ask for.
    pub(crate) max_wait: Duration,
}

/// What the command line asks for.
#[derive(Debug)]
pub(crate) enum Command {
    /// Run the drift check.
    Run(Box<Config>),
    /// Print the checks.
    ListChecks,
}

/// A command line that cannot be run. No variant carries a key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum UsageError {
    /// A key problem.
    #[error(transparent)]
    Key(#[from] KeyProblem),
    /// The base URL is not usable.
    #[error("--base-url {problem}")]
    BaseUrl {
        /// What is wrong (never the URL's user name or password).
        problem: String,
    },
    /// A number out of its range.
    #[error("--{flag} must be from {min} to {max} (got {got})")]
    OutOfRange {
        /// The flag.
        flag: &'static str,
        /// Smallest.
        min: u64,
        /// Largest.
        max: u64,
        /// Given.
        got: u64,
    },
    /// A flag that is needed is missing.
    #[error("{flag} is required")]
    Missing {
        /// The flag.
        flag: &'static str,
    },
    /// Words with no flag.
    #[error("{count} unexpected argument(s) without a flag (not shown: one may be a key)")]
    Stray {
        /// How many.
        count: usize,
    },
}

impl Args {
    /// Checks every value that entered from outside.
    pub(crate) fn check(self) -> Result<Command, UsageError> {
        if !self.stray.is_empty() {
            return Err(UsageError::Stray {
                count: self.stray.len(),
            });
        }
        if self.list_checks {
            return Ok(Command::ListChecks);
        }
        // Keys first: a Live key is refused before anything else is looked at.
        let key = self.key.ok_or(UsageError::Missing { flag: "--key" })?;
        let key = Key::parse("--key", SecretString::from(key))?;
        let write_key = self
            .write_key
            .map(|k| Key::parse("--write-key", SecretString::from(k)))
            .transpose()?;
        let max_requests = in_range(
            "max-requests",
            self.max_requests,
            1,
            MAX_MAX_REQUESTS.into(),
        )?;
        let timeout = in_range("timeout", self.timeout, 1, MAX_TIMEOUT_SECS)?;
        let max_wait = in_range("max-wait", self.max_wait, 0, MAX_MAX_WAIT_SECS)?;
        Ok(Command::Run(Box::new(Config {
            base_url: base_url(
                &self
                    .base_url
                    .ok_or(UsageError::Missing { flag: "--base-url" })?,
            )?,
            key,
            write_key,
            json: self.json,
            max_requests: u32::try_from(max_requests).unwrap_or(MAX_MAX_REQUESTS),
            timeout: Duration::from_secs(timeout),
            max_wait: Duration::from_secs(max_wait),
        })))
    }
}

fn in_range(flag: &'static str, got: u64, min: u64, max: u64) -> Result<u64, UsageError> {
    if (min..=max).contains(&got) {
        Ok(got)
    } else {
        Err(UsageError::OutOfRange {
            flag,
            min,
            max,
            got,
        })
    }
}

/// An `http(s)` URL with a host, no credentials, query or fragment; plain `http` only for a
/// loopback host (a key sent over plain http to another host could be read on the way).
pub(crate) fn base_url(text: &str) -> Result<Url, UsageError> {
    let problem = |problem: &str| UsageError::BaseUrl {
        problem: problem.to_owned(),
    };
    let mut url = Url::parse(text.trim()).map_err(|e| UsageError::BaseUrl {
        problem: format!("is not a URL ({e})"),
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(problem("must not carry a user name or password"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(problem("must not have a query or a fragment"));
    }
    let loopback = match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => return Err(problem("must have a host")),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(problem(
                "must use https (plain http is allowed only for a loopback host)",
            ));
        }
        _ => return Err(problem("must be an http or https URL")),
    }
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&path);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_keeps_its_path_without_the_trailing_slash() {
        let url = base_url("https://app.paperlink.online/api/v1/").expect("usable");
        assert_eq!(url.as_str(), "https://app.paperlink.online/api/v1");
        let local = base_url("http://127.0.0.1:8080/api/v1").expect("loopback http");
        assert_eq!(local.path(), "/api/v1");
    }

    #[test]
    fn plain_http_is_refused_for_a_host_that_is_not_loopback() {
        for refused in [
            "http://api.example/api/v1",
            "ftp://127.0.0.1/api/v1",
            "https://user:pw@api.example/api/v1",
            "https://api.example/api/v1?x=1",
            "not a url",
        ] {
            assert!(base_url(refused).is_err(), "{refused}");
        }
        assert!(base_url("http://localhost:1/api/v1").is_ok());
        assert!(base_url("http://[::1]:1/api/v1").is_ok());
    }

    #[test]
    fn a_refused_url_never_shows_its_credentials() {
        let error = base_url("https://user:hunter2@api.example/").expect_err("refused");
        assert!(!error.to_string().contains("hunter2"));
    }

    #[test]
    fn numbers_are_checked_against_their_ranges() {
        assert!(in_range("timeout", 0, 1, MAX_TIMEOUT_SECS).is_err());
        assert!(in_range("timeout", 301, 1, MAX_TIMEOUT_SECS).is_err());
        assert!(in_range("max-wait", 0, 0, MAX_MAX_WAIT_SECS).is_ok());
    }
}
