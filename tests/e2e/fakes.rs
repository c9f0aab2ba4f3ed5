//! Fakes on a par with the real client, written as an integrator writes them: only
//! `paperlink_sdk` is imported to implement the traits, products and errors are built in Rust,
//! and `Product` reads from a `serde_json::Value` or a reader as well as from text.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::TryStreamExt;
use paperlink_mock::{KeyMode, KeyScope};
use paperlink_sdk::testing::{ApiErrorBuilder, ProductBuilder};
use paperlink_sdk::{
    CreateProduct, Decimal, Detailed, Error, ListProducts, Page, Product, ProductId, ProductStatus,
    ProductsApi, ProductsRead, RateLimit, ResponseMeta, Result, StatusFilter, UpdateProduct,
    WriteOptions, async_trait,
};

use crate::helpers::{client, mock};

/// An in-memory catalog that honours `limit`, `after` and `status`, replays idempotency keys,
/// and refuses taken SKUs, as the API does.
#[derive(Default)]
struct FakeCatalog {
    products: Mutex<Vec<Product>>,
    keys: Mutex<BTreeMap<String, Product>>,
}

#[async_trait]
impl ProductsRead for FakeCatalog {
    async fn list_products(&self, params: ListProducts) -> Result<Page<Product>> {
        let products = self.products.lock().unwrap();
        let wanted = |p: &&Product| match params.get_status().unwrap_or_default() {
            StatusFilter::Active => p.status == ProductStatus::Active,
            StatusFilter::Archived => p.status == ProductStatus::Archived,
            StatusFilter::All => true,
        };
        let start = match params.get_after() {
            Some(cursor) => {
                let Some(at) = products.iter().position(|p| p.id.to_string() == cursor) else {
                    return Err(ApiErrorBuilder::validation("after", "unknown cursor").into_error());
                };
                at + 1
            }
            None => 0,
        };
        let limit = params.get_limit().unwrap_or(20) as usize;
        let rest: Vec<Product> = products[start..].iter().filter(wanted).cloned().collect();
        let items: Vec<Product> = rest.iter().take(limit).cloned().collect();
        let next = (rest.len() > limit)
            .then(|| items.last().map(|p| p.id.to_string()))
            .flatten();
        Ok(Page::new(items, next))
    }

    async fn get_product(&self, id: ProductId) -> Result<Product> {
        let products = self.products.lock().unwrap();
        products
            .iter()
            .find(|p| p.id == id)
            .cloned()
            .ok_or_else(|| {
                ApiErrorBuilder::not_found()
                    .request_id("fake-1")
                    .into_error()
            })
    }
}

#[async_trait]
impl ProductsApi for FakeCatalog {
    async fn create_product_with(
        &self,
        product: CreateProduct,
        options: WriteOptions,
    ) -> Result<Product> {
        Ok(self.create_product_detailed(product, options).await?.value)
    }

    async fn create_product_detailed(
        &self,
        product: CreateProduct,
        options: WriteOptions,
    ) -> Result<Detailed<Product>> {
        let body = serde_json::to_value(&product).unwrap();
        let key = options.get_idempotency_key().map(str::to_owned);
        if let Some(earlier) = key
            .as_ref()
            .and_then(|k| self.keys.lock().unwrap().get(k).cloned())
        {
            return Ok(Detailed::new(
                earlier,
                ResponseMeta::new(201).replayed(true),
            ));
        }
        let sku = body["sku"].as_str().map(str::to_owned);
        let mut products = self.products.lock().unwrap();
        if sku.is_some() && products.iter().any(|p| p.sku == sku) {
            return Err(ApiErrorBuilder::sku_conflict().into_error());
        }
        let mut built = ProductBuilder::new()
            .name(body["name"].as_str().unwrap())
            .unit_price(body["unitPrice"].to_string().parse().unwrap());
        if let Some(sku) = sku {
            built = built.sku(sku);
        }
        let created = built.build();
        products.push(created.clone());
        if let Some(key) = key {
            self.keys.lock().unwrap().insert(key, created.clone());
        }
        Ok(Detailed::new(
            created,
            ResponseMeta::new(201).request_id("fake-2"),
        ))
    }

    async fn update_product_with(
        &self,
        id: ProductId,
        _change: UpdateProduct,
        _options: WriteOptions,
    ) -> Result<Product> {
        self.get_product(id).await
    }

    async fn delete_product_with(
        &self,
        id: ProductId,
        _options: WriteOptions,
    ) -> Result<Option<Product>> {
        let mut products = self.products.lock().unwrap();
        let product = products
            .iter_mut()
            .find(|p| p.id == id)
            .ok_or_else(|| Error::from(ApiErrorBuilder::not_found()))?;
        product.status = ProductStatus::Archived;
        Ok(Some(product.clone()))
    }
}

/// "Your" code, written against the trait: creates each line once and reports replays.
async fn sync(api: &dyn ProductsApi, skus: &[&str]) -> Result<(usize, usize)> {
    let (mut created, mut replayed) = (0, 0);
    for sku in skus {
        let new = CreateProduct::new(*sku, Decimal::new(1050, 2), "EUR".parse().unwrap()).sku(*sku);
        let options = WriteOptions::new().idempotency_key_from(sku);
        let done = api.create_product_detailed(new, options).await?;
        if done.meta.replayed {
            replayed += 1;
        } else {
            created += 1;
        }
    }
    Ok((created, replayed))
}

#[tokio::test]
async fn a_fake_with_options_metadata_and_a_stream_serves_code_written_for_the_client() {
    let fake = Arc::new(FakeCatalog::default());
    let api: Arc<dyn ProductsApi> = fake.clone();
    assert_eq!(sync(api.as_ref(), &["A", "B", "C"]).await.unwrap(), (3, 0));
    assert_eq!(sync(api.as_ref(), &["A", "D"]).await.unwrap(), (1, 1));

    // The provided stream pages through the fake's `list_products`, honouring `limit`.
    let names: Vec<String> = api
        .stream_products(ListProducts::new().limit(3))
        .map_ok(|p| p.name)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(names, ["A", "B", "C", "D"]);

    // The plain calls come with the trait too.
    let first = api
        .list_products(ListProducts::new().limit(1))
        .await
        .unwrap();
    let archived = api
        .delete_product(first.items[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(archived.status, ProductStatus::Archived);
    let active = api.list_products(ListProducts::new()).await.unwrap();
    assert_eq!(active.items.len(), 3);
    let only_archived = api
        .list_products(ListProducts::new().status(StatusFilter::Archived))
        .await
        .unwrap();
    assert_eq!(only_archived.items.len(), 1);

    let missing = api
        .get_product(ProductId::from_uuid(uuid::Uuid::nil()))
        .await
        .unwrap_err();
    assert!(matches!(&missing, Error::NotFound(_)), "{missing:?}");
    assert_eq!(missing.request_id(), Some("fake-1"));
    let taken = api
        .create_product(CreateProduct::new("x", Decimal::ONE, "EUR".parse().unwrap()).sku("A"))
        .await
        .unwrap_err();
    assert_eq!(
        taken.api_error().and_then(|e| e.code()),
        Some("sku_conflict")
    );
}

#[tokio::test]
async fn every_api_error_can_be_built_with_all_its_metadata() {
    let reset = time::OffsetDateTime::from_unix_timestamp(1_736_935_260).unwrap();
    let error = ApiErrorBuilder::rate_limited(Duration::from_secs(60))
        .request_id("req-9")
        .rate_limit(RateLimit::new(60, 0, Some(reset)))
        .into_error();
    let Error::RateLimited(api) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(api.status(), 429);
    assert_eq!(api.code(), Some(paperlink_sdk::codes::RATE_LIMIT_EXCEEDED));
    assert_eq!(api.retry_after(), Some(Duration::from_secs(60)));
    assert_eq!(
        api.rate_limit().map(|r| (r.limit, r.remaining, r.reset)),
        Some((60, 0, Some(reset)))
    );
    assert_eq!(error.request_id(), Some("req-9"));

    let invalid = ApiErrorBuilder::new(422)
        .code("validation_error")
        .message("two fields")
        .field("name", "must not be blank")
        .field("unitPrice", "must be at least 0")
        .into_error();
    let fields: Vec<&str> = invalid
        .api_error()
        .unwrap()
        .details()
        .iter()
        .map(|d| d.field.as_str())
        .collect();
    assert_eq!(fields, ["name", "unitPrice"]);
    for (status, retryable) in [(500, true), (502, true), (503, true), (501, false)] {
        let error = ApiErrorBuilder::server_error(status).into_error();
        assert!(matches!(error, Error::Server(_)));
        assert_eq!(error.is_retryable(), retryable, "{status}");
    }
    assert!(matches!(
        ApiErrorBuilder::unauthorized().into_error(),
        Error::Unauthorized(_)
    ));
    assert!(matches!(
        ApiErrorBuilder::scope_insufficient().into_error(),
        Error::ScopeInsufficient(_)
    ));
}

#[tokio::test]
async fn the_real_clients_stream_is_reachable_through_the_trait() {
    let mock = mock().await;
    let writer = client(&mock, KeyMode::Test, KeyScope::ReadWrite);
    for name in ["a", "b", "c"] {
        writer
            .create_product(CreateProduct::new(
                name,
                Decimal::ONE,
                "EUR".parse().unwrap(),
            ))
            .await
            .unwrap();
    }
    let reader: Arc<dyn ProductsRead> = Arc::new(writer.read_only());
    let all: Vec<Product> = reader
        .stream_products(ListProducts::new().limit(2))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    let pages = mock.journal().iter().filter(|r| r.method == "GET").count();
    assert_eq!(pages, 2);
}

#[test]
fn a_product_reads_from_a_value_and_a_reader_with_exact_decimals() {
    let wire = serde_json::json!({
        "id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        "name": "Web Design",
        "unitPrice": 120.10,
        "currency": "USD",
        "taxRate": "20.50",
        "status": "active",
        "createdAt": "2025-01-15T10:00:00.000Z",
        "updatedAt": "2025-01-15T10:00:00.000Z"
    });
    let from_value: Product = serde_json::from_value(wire.clone()).unwrap();
    assert_eq!(from_value.unit_price, Decimal::new(12010, 2));
    assert_eq!(
        from_value.tax_rate.map(|t| t.to_string()).as_deref(),
        Some("20.50")
    );

    let text = wire.to_string().replace("120.1", "0.30000000000000004441");
    let from_reader: Product = serde_json::from_reader(text.as_bytes()).unwrap();
    assert_eq!(from_reader.unit_price.to_string(), "0.30000000000000004441");
    let none: Product = serde_json::from_value(serde_json::json!({
        "id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890", "name": "n", "unitPrice": 3,
        "currency": "EUR", "taxRate": null, "status": "archived",
        "createdAt": "2025-01-15T10:00:00Z", "updatedAt": "2025-01-15T10:00:00Z"
    }))
    .unwrap();
    assert_eq!((none.unit_price, none.tax_rate), (Decimal::new(3, 0), None));
}
