//! Object-safe traits over the product operations, for test doubles behind `Arc<dyn …>`.
//!
//! Every call of the [`Products`](crate::Products) handle has a method here, options,
//! metadata and streaming included. A fake implements the few required methods (the ones
//! that take every argument); the others come with the trait and call them. The values a fake
//! returns are built with [`testing`](crate::testing).

use std::pin::Pin;

use async_trait::async_trait;
use futures_util::Stream;

use crate::client::{Client, Detailed, ReadOnlyClient, ResponseMeta, WriteOptions};
use crate::error::Result;
use crate::pagination::{self, Page};
use crate::products::{CreateProduct, ListProducts, Product, UpdateProduct};
use crate::types::ProductId;

/// The stream [`ProductsRead::stream_products`] returns.
pub type ProductStream<'a> = Pin<Box<dyn Stream<Item = Result<Product>> + Send + 'a>>;

/// The read operations on products. Implemented by [`Client`] and [`ReadOnlyClient`]; put your
/// own fake behind `Arc<dyn ProductsRead>` in tests (see [`testing`](crate::testing) for a
/// complete one). Implement it with [`async_trait`](macro@crate::async_trait), re-exported here.
#[async_trait]
pub trait ProductsRead: Send + Sync {
    /// One page of products (`Products::list`).
    async fn list_products(&self, params: ListProducts) -> Result<Page<Product>>;

    /// One product by id (`Products::get`).
    async fn get_product(&self, id: ProductId) -> Result<Product>;

    /// Every product matching `params`, page by page, lazily (`Products::stream`).
    ///
    /// Provided: it follows the cursors of [`list_products`](Self::list_products), with the
    /// client's stream rules (it stops on `hasMore: false` or a `null` cursor, and ends with
    /// an error on a repeated cursor or too many empty pages). A fake gets it for free.
    fn stream_products(&self, params: ListProducts) -> ProductStream<'_> {
        let first = params.get_after().map(str::to_owned);
        Box::pin(pagination::stream(first, move |after| {
            let mut params = params.clone();
            params.set_after(after);
            self.list_products(params)
        }))
    }
}

/// Every product operation. Implemented by [`Client`].
///
/// The required methods take [`WriteOptions`]; the plain calls (no options) and the
/// `*_detailed` calls (with the response's metadata) are provided. A fake's provided
/// `*_detailed` calls answer with [`ResponseMeta::new`] (status `201` for a create, `200`
/// otherwise, not a replay); override them to say more (a replay, a request id).
///
/// ```
/// use std::sync::Arc;
/// use paperlink_sdk::{ProductsApi, Client, ApiKey, WriteOptions};
///
/// // Application code depends on the trait...
/// async fn archive_all(api: &dyn ProductsApi, ids: &[paperlink_sdk::ProductId]) -> paperlink_sdk::Result<()> {
///     for id in ids {
///         api.delete_product_with(*id, WriteOptions::new().idempotency_key_from(id.to_string())).await?;
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
    /// Creates a product with options (`Products::create_with`).
    async fn create_product_with(
        &self,
        product: CreateProduct,
        options: WriteOptions,
    ) -> Result<Product>;

    /// Partially updates a product with options (`Products::update_with`).
    async fn update_product_with(
        &self,
        id: ProductId,
        change: UpdateProduct,
        options: WriteOptions,
    ) -> Result<Product>;

    /// Archives a product with options (`Products::delete_with`).
    async fn delete_product_with(
        &self,
        id: ProductId,
        options: WriteOptions,
    ) -> Result<Option<Product>>;

    /// Creates a product (`Products::create`).
    async fn create_product(&self, product: CreateProduct) -> Result<Product> {
        self.create_product_with(product, WriteOptions::new()).await
    }

    /// Partially updates a product (`Products::update`).
    async fn update_product(&self, id: ProductId, change: UpdateProduct) -> Result<Product> {
        self.update_product_with(id, change, WriteOptions::new())
            .await
    }

    /// Archives a product (`Products::delete`).
    async fn delete_product(&self, id: ProductId) -> Result<Option<Product>> {
        self.delete_product_with(id, WriteOptions::new()).await
    }

    /// Creates a product, with the response's metadata (`Products::create_detailed`).
    async fn create_product_detailed(
        &self,
        product: CreateProduct,
        options: WriteOptions,
    ) -> Result<Detailed<Product>> {
        let value = self.create_product_with(product, options).await?;
        Ok(Detailed::new(value, ResponseMeta::new(201)))
    }

    /// Updates a product, with the response's metadata (`Products::update_detailed`).
    async fn update_product_detailed(
        &self,
        id: ProductId,
        change: UpdateProduct,
        options: WriteOptions,
    ) -> Result<Detailed<Product>> {
        let value = self.update_product_with(id, change, options).await?;
        Ok(Detailed::new(value, ResponseMeta::new(200)))
    }

    /// Archives a product, with the response's metadata (`Products::delete_detailed`).
    async fn delete_product_detailed(
        &self,
        id: ProductId,
        options: WriteOptions,
    ) -> Result<Detailed<Option<Product>>> {
        let value = self.delete_product_with(id, options).await?;
        Ok(Detailed::new(value, ResponseMeta::new(200)))
    }
}

/// The read calls of a client, whichever its scope.
macro_rules! products_read {
    ($client:ty) => {
        #[async_trait]
        impl ProductsRead for $client {
            async fn list_products(&self, params: ListProducts) -> Result<Page<Product>> {
                self.products().list(params).await
            }

            async fn get_product(&self, id: ProductId) -> Result<Product> {
                self.products().get(id).await
            }

            fn stream_products(&self, params: ListProducts) -> ProductStream<'_> {
                Box::pin(self.products().stream(params))
            }
        }
    };
}

products_read!(Client);
products_read!(ReadOnlyClient);

#[async_trait]
impl ProductsApi for Client {
    async fn create_product_with(
        &self,
        product: CreateProduct,
        options: WriteOptions,
    ) -> Result<Product> {
        self.products().create_with(product, options).await
    }

    async fn update_product_with(
        &self,
        id: ProductId,
        change: UpdateProduct,
        options: WriteOptions,
    ) -> Result<Product> {
        self.products().update_with(id, change, options).await
    }

    async fn delete_product_with(
        &self,
        id: ProductId,
        options: WriteOptions,
    ) -> Result<Option<Product>> {
        self.products().delete_with(id, options).await
    }

    async fn create_product_detailed(
        &self,
        product: CreateProduct,
        options: WriteOptions,
    ) -> Result<Detailed<Product>> {
        self.products().create_detailed(product, options).await
    }

    async fn update_product_detailed(
        &self,
        id: ProductId,
        change: UpdateProduct,
        options: WriteOptions,
    ) -> Result<Detailed<Product>> {
        self.products().update_detailed(id, change, options).await
    }

    async fn delete_product_detailed(
        &self,
        id: ProductId,
        options: WriteOptions,
    ) -> Result<Detailed<Option<Product>>> {
        self.products().delete_detailed(id, options).await
    }
}
