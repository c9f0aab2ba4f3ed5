//! Reads a data file of the JSON-lines format that paperlink-mock 0.1 wrote, for a one-time
//! import into a database. The file is only read.
//!
//! Every line that ends in a newline must be whole: one that is not is damage, and the import
//! stops with its line number. Only a last line with no newline (a write cut short by a crash,
//! never acknowledged) is left out, with a warning.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::engine::idempotency::{IdempotencyScope, IdempotentResponse};
use crate::engine::keys::{KeyMode, KeyRecord};
use crate::engine::state::{Catalogs, State, catalog_of};
use crate::error::MockError;
use crate::model::ProductRecord;

use super::sqlite::problem;

/// A product with its tenant.
type Placed = (String, KeyMode, ProductRecord);

/// One line of the earlier format.
#[derive(Debug, Deserialize)]
enum Line {
    Seed {
        keys: Vec<KeyRecord>,
        products: Vec<Placed>,
    },
    Snapshot {
        keys: Vec<KeyRecord>,
        products: Vec<Placed>,
        #[serde(deserialize_with = "crate::model::stored::digest::pairs::deserialize")]
        idempotency: Vec<(IdempotencyScope, IdempotentResponse)>,
        advanced_ms: u64,
    },
    KeyPut(KeyRecord),
    ProductPut {
        team: String,
        mode: KeyMode,
        product: ProductRecord,
    },
    Idempotency {
        #[serde(with = "crate::model::stored::digest")]
        scope: IdempotencyScope,
        response: IdempotentResponse,
    },
    ClockAdvanced {
        ms: u64,
    },
    Reset,
}

fn catalogs(products: Vec<Placed>) -> Catalogs {
    let mut all = Catalogs::default();
    for (team, mode, product) in products {
        catalog_of(&mut all, &team, mode).insert(product);
    }
    all
}

impl State {
    fn apply_line(&mut self, line: Line) {
        match line {
            Line::Seed { keys, products } => {
                self.seeded = Some((keys.into_iter().collect(), catalogs(products)));
            }
            Line::Snapshot {
                keys,
                products,
                idempotency,
                advanced_ms,
            } => {
                self.keys = keys.into_iter().collect();
                self.catalogs = catalogs(products);
                self.clear_idempotency();
                for (scope, response) in idempotency {
                    self.remember(scope, response);
                }
                self.clock.set_advanced(Duration::from_millis(advanced_ms));
            }
            Line::KeyPut(record) => self.keys.insert(record),
            Line::ProductPut {
                team,
                mode,
                product,
            } => {
                self.catalog(&team, mode).insert(product);
            }
            Line::Idempotency { scope, response } => self.remember(scope, response),
            Line::ClockAdvanced { ms } => self.clock.advance(Duration::from_millis(ms)),
            Line::Reset => self.reset(),
        }
    }
}

/// Replays the file at `path` into `state` (which holds the four fresh keys; the file's
/// keys and products replace them).
pub(crate) fn import(path: &Path, state: &mut State) -> Result<(), MockError> {
    let bytes = std::fs::read(path)
        .map_err(|e| problem(path, "could not be read for the import", Some(Box::new(e))))?;
    let mut lines = bytes.split(|b| *b == b'\n').enumerate().peekable();
    let mut applied = 0usize;
    while let Some((index, line)) = lines.next() {
        let last = lines.peek().is_none();
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Line>(line) {
            Ok(parsed) => {
                state.apply_line(parsed);
                applied += 1;
            }
            // No newline after it: a write cut short, never acknowledged.
            Err(error) if last => {
                tracing::warn!(
                    path = %path.display(),
                    line = index + 1,
                    %error,
                    "the last line was cut short by a crash and is left out"
                );
            }
            Err(error) => {
                return Err(problem(
                    path,
                    format!(
                        "line {} is damaged, so it cannot be imported; nothing was imported",
                        index + 1
                    ),
                    Some(Box::new(error)),
                ));
            }
        }
    }
    if applied == 0 {
        return Err(problem(
            path,
            "holds no state to import (no whole line); nothing was imported",
            None,
        ));
    }
    if state.seeded.is_none() {
        state.mark_seeded();
    }
    Ok(())
}
