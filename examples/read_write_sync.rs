//! Syncs a catalog file (JSON or CSV) into Paperlink: upserts by `sku`, archives products that
//! left the file, and prints what changed. Running it twice changes nothing the second time.
//!
//! ```text
//! cargo run -p paperlink-examples --example read_write_sync                      # examples/data/catalog.json
//! cargo run -p paperlink-examples --example read_write_sync -- examples/data/catalog.csv
//! ```
//!
//! Each write carries the SDK's own `Idempotency-Key`, one per call and the same on each of its
//! retries, so a retried write is applied once. A re-run or a crash mid-way duplicates nothing
//! either: each run first lists what exists and only does what is left, and the server refuses
//! a second product with the same SKU. Offline (the default) it shows exactly that against
//! paperlink-mock: a first run that dies after two writes, a second that finishes, a third
//! that changes nothing. With `PAPERLINK_API_KEY` set (Read & Write) it syncs the real catalog
//! once.
//!
//! The key is never derived from what is written. An update sends absolute values, so
//! replaying it is harmless only while it is the same call: a key built from the row's content
//! (`sync-update-{id}-{digest}`) makes a price that goes A, B, A, B within the server's 24 hours
//! of idempotency records get the second call's answer for the fourth: the run is told B while
//! the server keeps A, on every run for a day. The test at the end of this file is that case.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use futures_util::TryStreamExt;
use paperlink_examples::{Backend, BoxError};
use paperlink_mock::{KeyMode, KeyScope, SeedProduct};
use paperlink_sdk::{
    Client, CreateProduct, Currency, Decimal, ListProducts, Product, ProductStatus, StatusFilter,
    UpdateProduct,
};
use serde::Deserialize;

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
}

fn read_catalog(path: &Path) -> Result<Vec<Item>, BoxError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    parse_catalog(&text, csv, &path.display().to_string())
}

/// The rows of a catalog's text (CSV, or else JSON), checked; `origin` names it in errors.
fn parse_catalog(text: &str, csv: bool, origin: &str) -> Result<Vec<Item>, BoxError> {
    let rows: Vec<Row> = if csv {
        csv::Reader::from_reader(text.as_bytes())
            .deserialize()
            .collect::<Result<_, _>>()?
    } else {
        serde_json::from_str(text)?
    };
    let mut seen = HashSet::new();
    rows.into_iter()
        .enumerate()
        .map(|(line, row)| {
            let at = |what: &str| format!("{origin} entry {}: {what}", line + 1);
            if row.sku.trim().is_empty() || !seen.insert(row.sku.clone()) {
                return Err(at("sku is empty or repeated").into());
            }
            let decimal = |text: &str| {
                Decimal::from_str_exact(text.trim()).map_err(|e| at(&format!("{text:?}: {e}")))
            };
            let non_empty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
            Ok(Item {
                unit_price: decimal(&row.unit_price)?,
                currency: row.currency.parse().map_err(|e| at(&format!("{e}")))?,
                tax_rate: non_empty(row.tax_rate).map(|t| decimal(&t)).transpose()?,
                unit_of_measure: non_empty(row.unit_of_measure),
                description: non_empty(row.description),
                sku: row.sku,
                name: row.name,
            })
        })
        .collect()
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
                client.products().create(new).await?;
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
                // Absolute values: the SDK's key for this one call is all a retry needs.
                client.products().update(p.id, change).await?;
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
            client.products().delete(p.id).await?;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use paperlink_mock::PaperlinkMock;
    use paperlink_sdk::ApiKey;

    use super::*;

    fn catalog(price: &str) -> Vec<Item> {
        let text = format!(
            r#"[{{"sku":"WD-001","name":"Web Design","unitPrice":"{price}","currency":"USD"}}]"#
        );
        parse_catalog(&text, false, "test").unwrap()
    }

    /// A price that goes A -> B -> A -> B within the 24 hours an idempotency record is kept
    /// (the mock's clock does not move here): each run must leave the file's price on the
    /// server, and the fourth must not be answered from the second's record.
    #[tokio::test]
    async fn a_price_that_goes_back_and_forth_is_stored_as_the_file_says_each_time() {
        let mock = PaperlinkMock::start().await;
        let client = Client::builder()
            .api_key(ApiKey::from_secret(mock.token(KeyMode::Test, KeyScope::ReadWrite)).unwrap())
            .base_url(mock.base_url())
            .build()
            .unwrap();
        for (run, price) in ["19.99", "24.50", "19.99", "24.50"].into_iter().enumerate() {
            sync(&client, &catalog(price), None).await.unwrap();
            let stored: Vec<String> = mock
                .products(KeyMode::Test)
                .iter()
                .map(|p| p.unit_price.as_str().to_owned())
                .collect();
            assert_eq!(stored, [price], "after run {}", run + 1);
        }
    }
}
