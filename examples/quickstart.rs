//! The SDK in five calls: create, get, update, list and archive a product.
//!
//! ```text
//! cargo run -p paperlink-examples --example quickstart
//! ```
//!
//! Offline against a fresh paperlink-mock by default. With `PAPERLINK_API_KEY` set (a Read &
//! Write key; a Test key is wise) it talks to the real API instead, and never prints the key.

use paperlink_examples::{Backend, BoxError};
use paperlink_mock::KeyScope;
use paperlink_sdk::{CreateProduct, Decimal, ListProducts, UpdateProduct};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let Backend {
        client,
        mock: _mock,
    } = Backend::connect(KeyScope::ReadWrite).await?;
    let products = client.products();

    let created = products
        .create(
            CreateProduct::new("Web Design", Decimal::new(12010, 2), "USD".parse()?)
                .sku(format!("QS-{}", std::process::id()))
                .tax_rate(Decimal::new(20, 0))
                .unit_of_measure("hr"),
        )
        .await?;
    println!(
        "created  {} {} at {} {}",
        created.id, created.name, created.unit_price, created.currency
    );

    let fetched = products.get(created.id).await?;
    println!(
        "fetched  {} (status {})",
        fetched.name,
        fetched.status.as_str()
    );

    let updated = products
        .update(
            created.id,
            UpdateProduct::new()
                .name("Web Design (hourly)")
                .clear_tax_rate(),
        )
        .await?;
    println!(
        "updated  name={:?} taxRate={:?}",
        updated.name, updated.tax_rate
    );

    let page = products.list(ListProducts::new().limit(10)).await?;
    println!(
        "listed   {} product(s), more: {}",
        page.items.len(),
        page.has_more
    );
    if let Some(limit) = page.rate_limit {
        println!(
            "         rate limit: {}/{} left",
            limit.remaining, limit.limit
        );
    }

    let archived = products.delete(created.id).await?;
    println!(
        "archived {:?}",
        archived.map(|p| p.status.as_str().to_owned())
    );
    Ok(())
}
