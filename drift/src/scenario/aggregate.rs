//! The checks made across every answer of a run: which headers are on which answers, and the
//! shapes of the error bodies. An answer is named by the check it served, so a difference says
//! where. The clean-up's answers are left out, and so is a `429` whose request was sent again
//! (the mock's side never has one), except for the `Retry-After` check.

use crate::checks::Check;
use crate::http::{Logged, Side};
use crate::observe::{has, header};
use crate::wait;

use super::Observations;

/// Records the checks made across the answers of `side`.
pub(super) fn record(side: &Side, out: &mut Observations) {
    let all: Vec<&Logged> = side.log.iter().filter(|l| l.check.is_some()).collect();
    let log: Vec<&Logged> = all.iter().copied().filter(|l| !l.retried).collect();
    out.insert(Check::RequestIds, request_ids(&log));
    out.insert(Check::RateLimitHeaders, rate_limit(&log));
    let reset = log
        .iter()
        .find(|l| l.keyed && has(&l.headers, "x-ratelimit-reset"))
        .map_or("absent", |l| wait::reset_kind(&l.headers));
    out.insert(Check::RateLimitReset, reset.to_owned());
    out.insert(Check::RetryAfter, retry_after(&all));
    out.insert(Check::IdempotentReplayed, replayed(&log));
    out.insert(Check::ErrorEnvelope, error_shapes(&log));
}

/// The checks of these answers, in run order, each once.
fn names<'a>(answers: impl Iterator<Item = &'a &'a Logged>) -> String {
    let mut checks: Vec<Check> = answers.filter_map(|l| l.check).collect();
    checks.sort_unstable();
    checks.dedup();
    checks.iter().map(|c| c.id()).collect::<Vec<_>>().join(", ")
}

fn request_ids(log: &[&Logged]) -> String {
    let missing: Vec<&&Logged> = log
        .iter()
        .filter(|l| !has(&l.headers, "x-request-id"))
        .collect();
    let not_uuid: Vec<&&Logged> = log
        .iter()
        .filter(|l| {
            header(&l.headers, "x-request-id").is_some_and(|v| uuid::Uuid::try_parse(v).is_err())
        })
        .collect();
    if missing.len() == log.len() && !log.is_empty() {
        return "on no answer".to_owned();
    }
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("missing on {}", names(missing.into_iter())));
    }
    if !not_uuid.is_empty() {
        parts.push(format!("not a UUID on {}", names(not_uuid.into_iter())));
    }
    if parts.is_empty() {
        "a UUID on every answer".to_owned()
    } else {
        parts.join("; ")
    }
}

const RATE_HEADERS: [&str; 3] = [
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
];

fn rate_limit(log: &[&Logged]) -> String {
    let keyed: Vec<&&Logged> = log.iter().filter(|l| l.keyed).collect();
    let lacking: Vec<&&Logged> = keyed
        .iter()
        .copied()
        .filter(|l| !RATE_HEADERS.iter().all(|h| has(&l.headers, h)))
        .collect();
    let unkeyed_with: Vec<&&Logged> = log
        .iter()
        .filter(|l| !l.keyed && RATE_HEADERS.iter().any(|h| has(&l.headers, h)))
        .collect();
    let keyed_text = if lacking.is_empty() {
        "on every answer to a request with a key".to_owned()
    } else if lacking.len() == keyed.len() {
        "on no answer to a request with a key".to_owned()
    } else {
        format!(
            "on every answer to a request with a key but {}",
            names(lacking.into_iter())
        )
    };
    let unkeyed_text = if unkeyed_with.is_empty() {
        "on none without a key".to_owned()
    } else {
        format!("also without a key, on {}", names(unkeyed_with.into_iter()))
    };
    format!("{keyed_text}; {unkeyed_text}")
}

fn retry_after(log: &[&Logged]) -> String {
    let misplaced: Vec<&&Logged> = log
        .iter()
        .filter(|l| l.status != 429 && has(&l.headers, "retry-after"))
        .collect();
    let missing: Vec<&&Logged> = log
        .iter()
        .filter(|l| l.status == 429 && !has(&l.headers, "retry-after"))
        .collect();
    let mut parts = Vec::new();
    if !misplaced.is_empty() {
        parts.push(format!(
            "on answers other than 429: {}",
            names(misplaced.into_iter())
        ));
    }
    if !missing.is_empty() {
        parts.push(format!(
            "missing on a 429 to {}",
            names(missing.into_iter())
        ));
    }
    if parts.is_empty() {
        "on no answer but a 429".to_owned()
    } else {
        parts.join("; ")
    }
}

fn replayed(log: &[&Logged]) -> String {
    let with: Vec<&&Logged> = log
        .iter()
        .filter(|l| has(&l.headers, "idempotent-replayed"))
        .collect();
    if with.is_empty() {
        "on no answer".to_owned()
    } else {
        format!("only on {}", names(with.into_iter()))
    }
}

fn error_shapes(log: &[&Logged]) -> String {
    let errors: Vec<&&Logged> = log.iter().filter(|l| l.status >= 400).collect();
    if errors.is_empty() {
        return "no error answer".to_owned();
    }
    let mut shapes: Vec<String> = errors
        .iter()
        .map(|l| {
            l.error_shape
                .clone()
                .unwrap_or_else(|| "(no JSON body)".to_owned())
        })
        .collect();
    shapes.sort_unstable();
    shapes.dedup();
    shapes.join(" ; ")
}
