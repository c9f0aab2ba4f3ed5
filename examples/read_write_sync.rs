//! Syncs a catalog file (JSON or CSV) into Paperlink: upserts by `sku`, archives products that
//! left the file, and prints what changed. Running it twice changes nothing the second time.
//!
//! ```text
//! cargo run -p paperlink-examples --example read_write_sync                      # examples/data/catalog.json
//! cargo run -p paperlink-examples --example read_write_sync -- examples/data/catalog.csv
//! ```
//!
//! Every write carries an idempotency key derived from what it writes, so a retry, a re-run or
//! a crash mid-way never duplicates anything: the next run lists what exists and only does
//! what is left. Offline (the default) it shows exactly that against paperlink-mock: a first
//! run that dies after two writes, a second that finishes, a third that changes nothing. With
//! `PAPERLINK_API_KEY` set (Read & Write) it syncs the real catalog once.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use futures_util::TryStreamExt;
use paperlink_examples::{Backend, BoxError};
use paperlink_mock::{KeyMode, KeyScope, SeedProduct};
use paperlink_sdk::{
    Client, CreateProduct, Currency, Decimal, ListProducts, Product, ProductStatus, StatusFilter,
    UpdateProduct, WriteOptions,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// One line of the catalog file. Prices are text so that `120.10` stays exact.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    sku: String,
    name: String,
    unit_price: String,
    currency: String,
    #[serde(default)]
    tax_rate: Option<String>,
    #[serde(default)]
    unit_of_measure: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

/// A row, checked.
#[derive(Debug, Clone)]
struct Item {
    sku: String,
    name: String,
    unit_price: Decimal,
    currency: Currency,
    tax_rate: Option<Decimal>,
    unit_of_measure: Option<String>,
    description: Option<String>,
    digest: String,
}

fn read_catalog(path: &Path) -> Result<Vec<Item>, BoxError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let rows: Vec<Row> = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        csv::Reader::from_reader(text.as_bytes())
            .deserialize()
            .collect::<Result<_, _>>()?
    } else {
        serde_json::from_str(&text)?
    };
    let mut seen = HashSet::new();
    rows.into_iter()
        .enumerate()
        .map(|(line, row)| {
            let at = |what: &str| format!("{} entry {}: {what}", path.display(), line + 1);
            if row.sku.trim().is_empty() || !seen.insert(row.sku.clone()) {
                return Err(at("sku is empty or repeated").into());
            }
            let decimal = |text: &str| {
                Decimal::from_str_exact(text.trim()).map_err(|e| at(&format!("{text:?}: {e}")))
            };
            let non_empty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
            let digest = hex(&Sha256::digest(format!("{row:?}").as_bytes()));
            Ok(Item {
                unit_price: decimal(&row.unit_price)?,
                currency: row.currency.parse().map_err(|e| at(&format!("{e}")))?,
                tax_rate: non_empty(row.tax_rate).map(|t| decimal(&t)).transpose()?,
                unit_of_measure: non_empty(row.unit_of_measure),
                description: non_empty(row.description),
                sku: row.sku,
                name: row.name,
                digest,
            })
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

fn differs(p: &Product, item: &Item) -> bool {
    p.name != item.name
        || p.unit_price != item.unit_price
        || p.currency != item.currency
        || p.tax_rate != item.tax_rate
        || p.description != item.description
        || item
            .unit_of_measure
            .as_ref()
            .is_some_and(|u| *u != p.unit_of_measure)
}

#[derive(Debug, Default)]
struct Changes {
    created: usize,
    updated: usize,
    archived: usize,
    unchanged: usize,
}

impl Changes {
    fn total(&self) -> usize {
        self.created + self.updated + self.archived
    }
}

/// One sync run. `crash_after` simulates the process dying after that many writes.
async fn sync(
    client: &Client,
    items: &[Item],
    crash_after: Option<usize>,
) -> Result<Changes, BoxError> {
    let existing: HashMap<String, Product> = client
        .products()
        .stream(ListProducts::new().status(StatusFilter::All).limit(100))
        .try_filter_map(|p| async move { Ok(p.sku.clone().map(|sku| (sku, p))) })
        .try_collect()
        .await?;
    let mut changes = Changes::default();
    let crashed = |changes: &Changes| crash_after.is_some_and(|n| changes.total() >= n);
    for item in items {
        if crashed(&changes) {
            return Err("simulated crash".into());
        }
        match existing.get(&item.sku) {
            None => {
                let mut new =
                    CreateProduct::new(&item.name, item.unit_price, item.currency).sku(&item.sku);
                if let Some(rate) = item.tax_rate {
                    new = new.tax_rate(rate);
                }
                if let Some(unit) = &item.unit_of_measure {
                    new = new.unit_of_measure(unit);
                }
                if let Some(description) = &item.description {
                    new = new.description(description);
                }
                let key = WriteOptions::new()
                    .idempotency_key_from(format!("sync-create-{}-{}", item.sku, item.digest));
                client.products().create_with(new, key).await?;
                println!("  created   {}", item.sku);
                changes.created += 1;
            }
            Some(p) if p.status == ProductStatus::Archived => {
                println!(
                    "  skipped   {} (archived upstream; the API has no restore)",
                    item.sku
                );
                changes.unchanged += 1;
            }
            Some(p) if differs(p, item) => {
                let mut change = UpdateProduct::new()
                    .name(&item.name)
                    .unit_price(item.unit_price)
                    .currency(item.currency);
                change = match item.tax_rate {
                    Some(rate) => change.tax_rate(rate),
                    None => change.clear_tax_rate(),
                };
                change = match &item.description {
                    Some(d) => change.description(d),
                    None => change.clear_description(),
                };
                if let Some(unit) = &item.unit_of_measure {
                    change = change.unit_of_measure(unit);
                }
                let key = WriteOptions::new()
                    .idempotency_key(format!("sync-update-{}-{}", p.id, item.digest));
                client.products().update_with(p.id, change, key).await?;
                println!(
                    "  updated   {} (price {} -> {})",
                    item.sku, p.unit_price, item.unit_price
                );
                changes.updated += 1;
            }
            Some(_) => changes.unchanged += 1,
        }
    }
    let wanted: HashSet<&str> = items.iter().map(|i| i.sku.as_str()).collect();
    for (sku, p) in &existing {
        if p.status == ProductStatus::Active && !wanted.contains(sku.as_str()) {
            if crashed(&changes) {
                return Err("simulated crash".into());
            }
            client
                .products()
                .delete_with(
                    p.id,
                    WriteOptions::new().idempotency_key(format!("sync-archive-{}", p.id)),
                )
                .await?;
            println!("  archived  {sku} (no longer in the file)");
            changes.archived += 1;
        }
    }
    Ok(changes)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let path = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("data/catalog.json"));
    let items = read_catalog(&path)?;
    println!("{} items in {}", items.len(), path.display());
    let Backend { client, mock } = Backend::connect(KeyScope::ReadWrite).await?;

    let Some(mock) = mock else {
        let changes = sync(&client, &items, None).await?;
        println!("done: {changes:?}");
        return Ok(());
    };
    // Offline: what is already there before the first run.
    mock.insert_product(
        KeyMode::Test,
        SeedProduct::new("Web Design", Decimal::new(9900, 2), "USD").sku("WD-001"),
    )?;
    mock.insert_product(
        KeyMode::Test,
        SeedProduct::new("Old Service", Decimal::new(10, 0), "USD").sku("OLD-1"),
    )?;

    println!("run 1 (dies after two writes):");
    match sync(&client, &items, Some(2)).await {
        Err(e) => println!("  ... {e}"),
        Ok(changes) => return Err(format!("the first run should have crashed: {changes:?}").into()),
    }
    println!("run 2:");
    let second = sync(&client, &items, None).await?;
    println!("  {second:?}");
    println!("run 3:");
    let third = sync(&client, &items, None).await?;
    println!("  {third:?}");

    let products = mock.products(KeyMode::Test);
    let active = products
        .iter()
        .filter(|p| p.status == paperlink_mock::ProductStatus::Active)
        .count();
    println!("{active} active products, {} in all", products.len());
    if third.total() != 0 || active != items.len() || products.len() != items.len() + 1 {
        return Err("the sync did not converge".into());
    }
    Ok(())
}
