//! Reads a data file of the JSON-lines format that paperlink-mock 0.1 wrote, for a one-time
//! import into a database. The file is only read.
//!
//! Every line that ends in a newline must be whole: one that is not is damage, and the import
//! stops with its line number. Only a last line with no newline (a write cut short by a crash,
//! never acknowledged) is left out, with a warning.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use uuid::Uuid;

use crate::engine::changes::Placed;
use crate::engine::durability::Snapshot;
use crate::error::MockError;
use crate::model::{KeyMode, KeyRecord, ProductRecord, ReplayRecord, ReplayScope};

use super::rows::data_file_error;

/// A product with its tenant, as the earlier format wrote it.
type Written = (String, KeyMode, ProductRecord);

/// One line of the earlier format.
#[derive(Debug, Deserialize)]
enum Line {
    Seed {
        keys: Vec<KeyRecord>,
        products: Vec<Written>,
    },
    Snapshot {
        keys: Vec<KeyRecord>,
        products: Vec<Written>,
        #[serde(deserialize_with = "crate::model::encoding::digest::pairs::deserialize")]
        idempotency: Vec<(ReplayScope, ReplayRecord)>,
        advanced_ms: u64,
    },
    KeyPut(KeyRecord),
    ProductPut {
        team: String,
        mode: KeyMode,
        product: ProductRecord,
    },
    Idempotency {
        #[serde(with = "crate::model::encoding::digest")]
        scope: ReplayScope,
        response: ReplayRecord,
    },
    ClockAdvanced {
        ms: u64,
    },
    Reset,
}

fn placed(products: Vec<Written>) -> Vec<Placed> {
    products
        .into_iter()
        .map(|(team, mode, product)| Placed {
            team,
            mode,
            product,
        })
        .collect()
}

/// Records kept in the order they were first written; a later write of the same name
/// replaces the record in its place.
struct Ordered<K, V> {
    items: Vec<V>,
    at: HashMap<K, usize>,
}

impl<K: std::hash::Hash + Eq, V> Ordered<K, V> {
    fn new() -> Self {
        Self {
            items: Vec::new(),
            at: HashMap::new(),
        }
    }

    fn of(items: Vec<V>, key: impl Fn(&V) -> K) -> Self {
        let mut ordered = Self::new();
        for item in items {
            ordered.put(key(&item), item);
        }
        ordered
    }

    fn put(&mut self, key: K, item: V) {
        match self.at.get(&key) {
            Some(&index) => self.items[index] = item,
            None => {
                self.at.insert(key, self.items.len());
                self.items.push(item);
            }
        }
    }
}

type ProductName = (String, KeyMode, Uuid);

fn product_name(placed: &Placed) -> ProductName {
    (placed.team.clone(), placed.mode, placed.product.id)
}

/// The state a file of the earlier format describes, line by line.
struct Replayed {
    seed: Option<(Vec<KeyRecord>, Vec<Placed>)>,
    keys: Ordered<Uuid, KeyRecord>,
    products: Ordered<ProductName, Placed>,
    replays: Ordered<ReplayScope, (ReplayScope, ReplayRecord)>,
    advanced_ms: u64,
}

impl Replayed {
    fn apply(&mut self, line: Line) {
        match line {
            Line::Seed { keys, products } => self.seed = Some((keys, placed(products))),
            Line::Snapshot {
                keys,
                products,
                idempotency,
                advanced_ms,
            } => {
                self.keys = Ordered::of(keys, |k| k.info.id);
                self.products = Ordered::of(placed(products), product_name);
                self.replays = Ordered::of(idempotency, |(scope, _)| *scope);
                self.advanced_ms = advanced_ms;
            }
            Line::KeyPut(record) => self.keys.put(record.info.id, record),
            Line::ProductPut {
                team,
                mode,
                product,
            } => {
                let placed = Placed {
                    team,
                    mode,
                    product,
                };
                self.products.put(product_name(&placed), placed);
            }
            Line::Idempotency { scope, response } => self.replays.put(scope, (scope, response)),
            Line::ClockAdvanced { ms } => self.advanced_ms = self.advanced_ms.saturating_add(ms),
            Line::Reset => {
                let (keys, products) = self.seed.clone().unwrap_or_default();
                self.keys = Ordered::of(keys, |k| k.info.id);
                self.products = Ordered::of(products, product_name);
                self.replays = Ordered::new();
            }
        }
    }

    fn into_snapshot(self) -> Snapshot {
        let (keys, products) = (self.keys.items, self.products.items);
        let (seed_keys, seed_products) = self
            .seed
            .unwrap_or_else(|| (keys.clone(), products.clone()));
        Snapshot {
            keys,
            products,
            members: Vec::new(),
            replays: self.replays.items,
            seed_keys,
            seed_products,
            clock_advanced_ms: self.advanced_ms,
            starts: 0,
        }
    }
}

/// Reads the file at `path` into the state it describes.
pub(crate) fn import(path: &Path) -> Result<Snapshot, MockError> {
    let bytes = std::fs::read(path).map_err(|e| {
        data_file_error(path, "could not be read for the import", Some(Box::new(e)))
    })?;
    let mut lines = bytes.split(|b| *b == b'\n').enumerate().peekable();
    let mut applied = 0usize;
    let mut replayed = Replayed {
        seed: None,
        keys: Ordered::new(),
        products: Ordered::new(),
        replays: Ordered::new(),
        advanced_ms: 0,
    };
    while let Some((index, line)) = lines.next() {
        let last = lines.peek().is_none();
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Line>(line) {
            Ok(parsed) => {
                replayed.apply(parsed);
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
                return Err(data_file_error(
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
        return Err(data_file_error(
            path,
            "holds no state to import (no whole line); nothing was imported",
            None,
        ));
    }
    Ok(replayed.into_snapshot())
}
