//! `paperlink-drift`: is the mock still faithful?
//!
//! paperlink-mock follows every rule Paperlink's docs state, and where they are silent it makes
//! a choice, recorded in `paperlink-mock/DECISIONS.md` (the 401 body, error codes, POST's
//! status, DELETE's meaning, cursor errors, idempotency, …). Any of those choices can be wrong,
//! and the service can change. This command runs the same scenarios against a target (the real
//! service, or anything that claims to behave like it) and against the mock, in this process,
//! with keys of the same mode and scope, and reports every difference a client can observe.
//!
//! ```sh
//! cargo install --path drift        # from a clone of paperlink-rs
//! export PAPERLINK_DRIFT_KEY=pk_test_...          # or --key (visible in `ps`)
//! export PAPERLINK_DRIFT_WRITE_KEY=pk_test_...    # optional: enables the write checks
//! paperlink-drift --base-url https://app.paperlink.online/api/v1
//! paperlink-drift --base-url https://app.paperlink.online/api/v1 --json
//! paperlink-drift --list-checks                   # every check and its decision; sends nothing
//! ```
//!
//! # Flags
//!
//! | Flag | Default | Meaning |
//! |---|---|---|
//! | `--base-url URL` | (required) | the target's API base; `https`, or `http` for a loopback host only |
//! | `--key KEY` | `$PAPERLINK_DRIFT_KEY` | a Test key, Read-only or Read & Write |
//! | `--write-key KEY` | `$PAPERLINK_DRIFT_WRITE_KEY` | a Read & Write Test key: the write checks |
//! | `--json` | off | JSON instead of the table |
//! | `--max-requests N` | 100 | requests to the target at most, retries and clean-up included (1–10000) |
//! | `--timeout SECONDS` | 10 | per request (1–300) |
//! | `--max-wait SECONDS` | 60 | the longest `Retry-After` or rate-limit reset it waits for (0–900) |
//!
//! # Exit status
//!
//! * `0`: no difference.
//! * `1`: differences found (the table marks them `DIFFERENT`; `--json` lists them).
//! * `2`: a usage error, or the target not usable: not reachable, not answering as an API
//!   (garbage, a redirect), a key refused, a wait longer than `--max-wait`, the request
//!   budget spent before every check ran, Ctrl-C. The clean-up still runs.
//!
//! # What it compares
//!
//! Statuses; error codes and the error envelope's shape; which of `X-Request-Id`,
//! `X-RateLimit-*`, `Retry-After`, `Location`, `Idempotent-Replayed`, `WWW-Authenticate` are on
//! which answers; the success envelopes' shapes and each field's JSON type; pagination (limit
//! bounds, `hasMore`/`nextCursor`, cursors that are not one); the status filter; with
//! `--write-key`, create (status, body, defaults, money as sent, timestamps), an idempotent
//! replay and the same key with another body, SKU conflicts, `PATCH` with `{}` and with `null`,
//! DELETE's status and body, a second DELETE, GET after DELETE; with a Read-only `--key`, how
//! writes are refused; a missing, an unknown and a malformed key. Each check is named by the
//! `DECISIONS.md` entry it tests (`--list-checks` prints them).
//!
//! An observation is a short text without ids or times (`404 product_not_found`,
//! `201, Location: the product's path`), so two services that behave alike read alike. The
//! mock's side is the expectation: it is the mock answering, not a copy of its rules, so when a
//! rule changes in the mock the drift check follows.
//!
//! The key's scope is learned without writing: a valid `PATCH` of a random id answers `403`
//! for a Read-only key and `404` otherwise. To list like the target, the mock first gets as
//! many products as the target's first page shows (at most four), with the same nullable
//! fields set.
//!
//! # Safety
//!
//! * A `pk_live_` key is refused before any request is sent.
//! * Nothing is written without `--write-key`: the refused writes a Read-only key makes cannot
//!   change anything (an invalid body, an id that does not exist).
//! * Every product it creates is named `[paperlink-drift <random>] …`; each is archived at the
//!   end, after a failure too, and the newest active products are searched for the marker in
//!   case an answer was lost. What could not be archived is listed (`NOT ARCHIVED`, and
//!   `notArchived` in JSON). A request to archive is set aside before each create, so the
//!   budget never runs out with a product left behind.
//! * At most `--max-requests` requests; `Retry-After` and `X-RateLimit-Remaining: 0` are
//!   waited for (up to `--max-wait`, else it stops).
//! * Only the `--base-url` host is contacted: no redirect is followed, no proxy is used, and
//!   values from answers are encoded into path segments and query values.
//! * A token is never printed: keys show as the SDK's hint (`pk_test_AbC…`).
//! * A timeout on every request, at most 2 MiB read from an answer.
//!
//! # What it cannot check
//!
//! Revocation (how soon a revoked key is refused, how long it stays listed), the dashboard's
//! API Keys page, and team roles: Paperlink has no public API for them. Rate-limit numbers and
//! windows are not provoked (that would take many requests); only the headers are compared.
//! Other traffic on the same keys during a run can move `X-RateLimit-Remaining` (then
//! `scope.refusal-not-counted` reads `unclear`) and put newer products first.

mod budget;
mod checks;
mod cleanup;
mod cli;
mod drift;
mod error;
mod http;
mod key;
mod mock;
mod observe;
mod report;
mod scenario;
mod wait;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    install_crypto();
    let command = match cli::Args::parse().check() {
        Ok(command) => command,
        Err(error) => {
            eprintln!("paperlink-drift: {}", error::Fatal::from(error).chain());
            return ExitCode::from(2);
        }
    };
    let config = match command {
        cli::Command::ListChecks => {
            print!("{}", checks::listing());
            return ExitCode::SUCCESS;
        }
        cli::Command::Run(config) => config,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("paperlink-drift: could not start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    ExitCode::from(runtime.block_on(drift::run(*config)))
}

/// reqwest is built with `rustls-no-provider`: rustls gets *ring*, the workspace's choice,
/// through the SDK's one call of it.
fn install_crypto() {
    paperlink_sdk::install_crypto_provider();
}
