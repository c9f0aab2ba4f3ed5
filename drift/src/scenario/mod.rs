//! The scenarios, run the same way on each side: the reads with `--key` (and the refused
//! writes when it is Read-only), the writes with `--write-key`, and the checks made across
//! every answer. Each step records what a client observed, by check.

mod aggregate;
mod reads;
mod writes;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::checks::Check;
use crate::cleanup::Tracked;
use crate::error::Fatal;
use crate::http::{Answer, Call, Side};
use crate::key::Scope;
use crate::mock::Mirrored;
use crate::observe;

/// What each check observed on one side.
pub(crate) type Observations = BTreeMap<Check, String>;

/// What the target's run teaches the mock's.
#[derive(Debug, Clone, Default)]
pub(crate) struct Learned {
    /// `--key`'s scope, from its refused (or not refused) write.
    pub(crate) read_scope: Option<Scope>,
    /// The target's first page, for the mock to list alike.
    pub(crate) mirror: Vec<Mirrored>,
}

/// One side's run.
pub(crate) struct Run<'a> {
    side: &'a mut Side,
    /// `Some` on the mock (learned from the target); `None` on the target, which learns it.
    known_scope: Option<Scope>,
    learned: &'a mut Learned,
    tracked: &'a mut Tracked,
    out: &'a mut Observations,
}

/// Runs every scenario the keys allow on `side`; what it observed goes to `out`, what it
/// created to `tracked` (archived afterwards by [`crate::cleanup`], even when this fails).
pub(crate) async fn run(
    side: &mut Side,
    known_scope: Option<Scope>,
    learned: &mut Learned,
    tracked: &mut Tracked,
    out: &mut Observations,
) -> Result<(), Fatal> {
    let mut run = Run {
        side,
        known_scope,
        learned,
        tracked,
        out,
    };
    reads::run(&mut run).await?;
    if run.side.write_key().is_some() {
        writes::run(&mut run).await?;
    }
    aggregate::record(run.side, run.out);
    // Observations carry codes, keys and values the target chose: printed, they must not
    // drive the terminal or run on forever.
    for observed in run.out.values_mut() {
        *observed = observe::printable(observed, observe::MAX_OBSERVATION);
    }
    Ok(())
}

impl Run<'_> {
    /// Sends a request for `check`.
    async fn send(&mut self, check: Check, call: Call) -> Result<Answer, Fatal> {
        self.side.send(Some(check), &call).await
    }

    /// Records what `check` observed.
    fn record(&mut self, check: Check, observed: impl Into<String>) {
        self.out.insert(check, observed.into());
    }
}

/// A random UUID, hyphenated (ids and cursors no server has issued).
fn random_id() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string()
}

/// The items of `{"data":{"data":[…]}}`.
fn list_items(answer: &Answer) -> Vec<&serde_json::Map<String, Value>> {
    answer
        .json()
        .and_then(|v| v.pointer("/data/data"))
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default()
}

/// A string field of a JSON object.
fn text<'a>(object: &'a serde_json::Map<String, Value>, field: &str) -> Option<&'a str> {
    object.get(field).and_then(Value::as_str)
}

/// At most `max` characters of a text from the target, for the report.
fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}…")
}
