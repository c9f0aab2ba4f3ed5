//! The local mock: paperlink-mock's standalone server, in this process, on an ephemeral
//! loopback port, with its defaults (rate limit included, so its headers are there). Every
//! mock-side fact comes from it answering the same requests: when a rule changes in the mock,
//! the drift check follows.

use std::net::SocketAddr;

use paperlink_mock::standalone::{Running, Server};
use paperlink_mock::{KeyMode, KeyScope, PaperlinkMockBuilder};
use url::Url;

use crate::error::Fatal;
use crate::key::Key;

/// A product the target listed, as far as the mock needs to list one like it: which of its
/// nullable fields hold a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mirrored {
    /// `description` is not null.
    pub(crate) description: bool,
    /// `sku` is not null.
    pub(crate) sku: bool,
    /// `taxRate` is not null.
    pub(crate) tax_rate: bool,
}

/// The running local mock.
#[derive(Debug)]
pub(crate) struct LocalMock {
    running: Running,
}

impl LocalMock {
    /// Starts it on `127.0.0.1:0`.
    pub(crate) async fn start() -> Result<Self, Fatal> {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let server = Server::bind(PaperlinkMockBuilder::new(), loopback)
            .await
            .map_err(|e| Fatal::mock("starting it", e))?;
        Ok(Self {
            running: server.spawn(),
        })
    }

    /// Its API base URL.
    pub(crate) fn base_url(&self) -> Result<Url, Fatal> {
        Url::parse(self.running.base_url()).map_err(|e| Fatal::mock("reading its address", e))
    }

    /// Its seeded key of this mode and scope.
    pub(crate) fn key(&self, mode: KeyMode, scope: KeyScope) -> Result<Key, Fatal> {
        self.running
            .token(mode, scope)
            .map(Key::of_mock)
            .ok_or_else(|| Fatal::Mock {
                what: format!("it has no seeded {mode:?} {scope:?} key"),
                source: None,
            })
    }

    /// Puts products like the target's first page into the mock (through its control
    /// plane), so that both sides list alike: the same count, the same nullable fields set.
    pub(crate) async fn mirror(
        &self,
        http: &reqwest::Client,
        mode: KeyMode,
        products: &[Mirrored],
    ) -> Result<(), Fatal> {
        let mut url = self.base_url()?;
        url.set_path("/__admin/products");
        let mode = serde_json::to_value(mode).map_err(|e| Fatal::mock("naming a mode", e))?;
        // Oldest first, so that the mock's newest-first list has them in the target's order.
        for (n, product) in products.iter().enumerate().rev() {
            let mut body = serde_json::json!({
                "mode": mode,
                "name": format!("mirror {n}"),
                "unitPrice": 1,
                "currency": "EUR",
            });
            if product.description {
                body["description"] = "mirrors a product of the target".into();
            }
            if product.sku {
                body["sku"] = format!("MIRROR-{n}").into();
            }
            if product.tax_rate {
                body["taxRate"] = 20.into();
            }
            let answer = http
                .post(url.clone())
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .map_err(|e| Fatal::mock("seeding a product", e))?;
            if !answer.status().is_success() {
                return Err(Fatal::Mock {
                    what: format!("seeding a product answered {}", answer.status()),
                    source: None,
                });
            }
        }
        Ok(())
    }

    /// Stops it.
    pub(crate) async fn shutdown(self) {
        let _ = self.running.shutdown().await;
    }
}
