//! One run: the local mock first (so a mock that cannot start costs the target nothing), the
//! target's scenarios, the clean-up on the target (whatever happened), then the same
//! scenarios on the mock with keys of the same mode and scope, and the comparison.

use paperlink_mock::KeyScope;

use crate::budget::Budget;
use crate::cleanup::{self, Cleanup, Marker, Tracked};
use crate::cli::Config;
use crate::error::Fatal;
use crate::http::{self, Role, Side};
use crate::key::Scope;
use crate::mock::LocalMock;
use crate::report::{self, Report};
use crate::scenario::{self, Learned, Observations};

/// Runs the drift check, prints its result, and returns the exit status.
pub(crate) async fn run(config: Config) -> u8 {
    match compare(&config).await {
        Ok(report) => {
            if config.json {
                println!("{}", report.json());
            } else {
                print!("{}", report.table());
            }
            report.exit_code()
        }
        Err(Stopped {
            error,
            requests,
            cleanup,
        }) => {
            if config.json {
                println!("{}", report::fatal(&error, requests, &cleanup, true));
            }
            eprint!("{}", report::fatal(&error, requests, &cleanup, false));
            2
        }
    }
}

/// A run that stopped, with what it did before.
struct Stopped {
    error: Fatal,
    requests: u32,
    cleanup: Cleanup,
}

impl From<Fatal> for Stopped {
    fn from(error: Fatal) -> Self {
        Self {
            error,
            requests: 0,
            cleanup: Cleanup::default(),
        }
    }
}

async fn compare(config: &Config) -> Result<Report, Stopped> {
    let client = http::client(config.timeout).map_err(|e| Fatal::Setup {
        what: "the HTTP client".to_owned(),
        source: Box::new(e),
    })?;
    let mock = LocalMock::start().await?;
    let marker = Marker::new();

    let mut target = Side::new(
        Role::Target,
        client.clone(),
        config.base_url.clone(),
        config.key.clone(),
        config.write_key.clone(),
        Some(Budget::new(config.max_requests)),
        config.max_wait,
    );
    let mut learned = Learned::default();
    let mut tracked = Tracked::new(marker.clone());
    let mut observed = Observations::new();
    let result = {
        let scenarios = scenario::run(&mut target, None, &mut learned, &mut tracked, &mut observed);
        tokio::select! {
            result = scenarios => result,
            Ok(()) = tokio::signal::ctrl_c() => Err(Fatal::Interrupted),
        }
    };
    let cleanup = cleanup::archive(&mut target, &mut tracked).await;
    let requests = target.requests();
    let stopped = |error| Stopped {
        error,
        requests,
        cleanup: cleanup.clone(),
    };
    result.map_err(stopped)?;

    let scope = learned.read_scope.unwrap_or(Scope::ReadOnly);
    let mode = config.key.mock_mode();
    let on_mock = async {
        mock.mirror(&client, mode, &learned.mirror).await?;
        let write = match config.write_key {
            Some(_) => Some(mock.key(mode, KeyScope::ReadWrite)?),
            None => None,
        };
        let mut side = Side::new(
            Role::Mock,
            client.clone(),
            mock.base_url()?,
            mock.key(mode, scope.mock_scope())?,
            write,
            None,
            config.max_wait,
        );
        let mut expected = Observations::new();
        let mut ignored = Learned::default();
        let mut made = Tracked::new(marker.clone());
        scenario::run(
            &mut side,
            Some(scope),
            &mut ignored,
            &mut made,
            &mut expected,
        )
        .await?;
        Ok::<_, Fatal>(expected)
    };
    let expected = on_mock.await.map_err(stopped)?;
    mock.shutdown().await;

    let heading = heading(config, scope);
    Ok(Report::compare(
        &expected, &observed, requests, cleanup, heading,
    ))
}

fn heading(config: &Config, scope: Scope) -> String {
    let write = config.write_key.as_ref().map_or_else(
        || "no --write-key (writes not checked)".to_owned(),
        |k| format!("--write-key {} (Read & Write)", k.hint()),
    );
    format!(
        "paperlink-drift {}: {} compared with paperlink-mock (in-process, keys of the same mode and scope)\n--key {} ({}), {write}",
        env!("CARGO_PKG_VERSION"),
        config.base_url,
        config.key.hint(),
        scope.label(),
    )
}
