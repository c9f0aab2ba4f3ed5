//! Object-safe traits over the product operations, for test doubles behind `Arc<dyn …>`.

use async_trait::async_trait;

use crate::client::{Client, ReadOnlyClient};
use crate::error::Result;
use crate::pagination::Page;
use crate::products::{CreateProduct, ListProducts, Product, UpdateProduct};
use crate::types::ProductId;

/// The read operations on products. Implemented by [`Client`] and [`ReadOnlyClient`]; put your
/// own fake behind `Arc<dyn ProductsRead>` in tests.
#[async_trait]
pub trait ProductsRead: Send + Sync {
    /// One page of products.
    async fn list_products(&self, params: ListProducts) -> Result<Page<Product>>;
    /// One product by id.
    async fn get_product(&self, id: ProductId) -> Result<Product>;
}

/// Every product operation. Implemented by [`Client`].
///
/// ```
/// use std::sync::Arc;
/// use paperlink_sdk::{ProductsApi, Client, ApiKey};
///
/// // Application code depends on the trait...
/// async fn archive_all(api: &dyn ProductsApi, ids: &[paperlink_sdk::ProductId]) -> paperlink_sdk::Result<()> {
///     for id in ids {
///         api.delete_product(*id).await?;
///     }
///     Ok(())
/// }
/// // ...and production passes the real client.
/// let client = Client::new(ApiKey::new("pk_test_AbCdEfGhIjKlMnOpQrStUvWxYz012345")?)?;
/// let api: Arc<dyn ProductsApi> = Arc::new(client);
/// # let _ = (api, archive_all);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[async_trait]
pub trait ProductsApi: ProductsRead {
    /// Creates a product.
    async fn create_product(&self, product: CreateProduct) -> Result<Product>;
    /// Partially updates a product.
    async fn update_product(&self, id: ProductId, change: UpdateProduct) -> Result<Product>;
    /// Archives a product.
    async fn delete_product(&self, id: ProductId) -> Result<Option<Product>>;
}

#[async_trait]
impl ProductsRead for Client {
    async fn list_products(&self, params: ListProducts) -> Result<Page<Product>> {
        self.products().list(params).await
    }

    async fn get_product(&self, id: ProductId) -> Result<Product> {
        self.products().get(id).await
    }
}

#[async_trait]
impl ProductsRead for ReadOnlyClient {
    async fn list_products(&self, params: ListProducts) -> Result<Page<Product>> {
        self.products().list(params).await
    }

    async fn get_product(&self, id: ProductId) -> Result<Product> {
        self.products().get(id).await
    }
}

#[async_trait]
impl ProductsApi for Client {
    async fn create_product(&self, product: CreateProduct) -> Result<Product> {
        self.products().create(product).await
    }

    async fn update_product(&self, id: ProductId, change: UpdateProduct) -> Result<Product> {
        self.products().update(id, change).await
    }

    async fn delete_product(&self, id: ProductId) -> Result<Option<Product>> {
        self.products().delete(id).await
    }
}
