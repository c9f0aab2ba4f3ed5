//! A reporting job on a Read-only key: streams every product across pages and prints a small
//! report (how many, and totals per currency).
//!
//! ```text
//! cargo run -p paperlink-examples --example read_only_dashboard
//! ```
//!
//! Offline against a fresh paperlink-mock (seeded with 45 products) by default; with
//! `PAPERLINK_API_KEY` set it reports on the real catalog.
//!
//! The job holds its client as a `ReadOnlyClient`, so a write does not even compile:
//!
//! ```text
//! let reports = client.read_only();
//! reports.products().create(new_product).await;
//! // error[E0599]: no method named `create` found for struct `Products<'_, ReadOnly>`
//! ```
//!
//! The server enforces the scope too: the last part shows the `403 scope_insufficient` a
//! Read-only key gets when a write goes through the untyped `Client`.

use std::collections::BTreeMap;

use futures_util::TryStreamExt;
use paperlink_examples::{Backend, BoxError};
use paperlink_mock::{KeyMode, KeyScope, SeedProduct};
use paperlink_sdk::{CreateProduct, Decimal, Error, ListProducts, StatusFilter};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let Backend { client, mock } = Backend::connect(KeyScope::ReadOnly).await?;
    if let Some(mock) = &mock {
        for i in 0..45i64 {
            let currency = ["USD", "EUR", "UAH"][i as usize % 3];
            let mut product = SeedProduct::new(
                format!("Item {i}"),
                Decimal::new(1000 + i * 25, 2),
                currency,
            );
            if i % 10 == 9 {
                product = product.archived();
            }
            mock.insert_product(KeyMode::Test, product)?;
        }
    }

    let reports = client.read_only();
    let mut count = 0usize;
    let mut totals: BTreeMap<String, (usize, Decimal)> = BTreeMap::new();
    let mut products = Box::pin(
        reports
            .products()
            .stream(ListProducts::new().status(StatusFilter::Active).limit(20)),
    );
    while let Some(product) = products.try_next().await? {
        count += 1;
        let entry = totals.entry(product.currency.to_string()).or_default();
        entry.0 += 1;
        entry.1 += product.unit_price;
    }
    println!("active products: {count}");
    for (currency, (n, total)) in &totals {
        println!("  {currency}: {n:>3} products, list prices total {total}");
    }
    if let Some(limit) = reports.rate_limit() {
        println!("rate limit left: {}/{}", limit.remaining, limit.limit);
    }

    // The untyped path: the same Read-only key through `Client::products()`.
    let attempt = client
        .products()
        .create(CreateProduct::new(
            "Should not exist",
            Decimal::ONE,
            "EUR".parse()?,
        ))
        .await;
    match attempt {
        Err(Error::ScopeInsufficient(api)) => println!(
            "a write with this key is refused: {} {} ({})",
            api.status(),
            api.code().unwrap_or("?"),
            api.message()
        ),
        Err(other) => return Err(other.into()),
        Ok(_) => return Err("a Read-only key was allowed to write".into()),
    }
    if mock.is_some() && count != 41 {
        return Err(format!("expected 41 active products, saw {count}").into());
    }
    Ok(())
}
