//! A long-running job whose key is revoked mid-way: it gets the typed `Unauthorized` error,
//! fetches the new key, and resumes without losing or duplicating work.
//!
//! ```text
//! cargo run -p paperlink-examples --example key_rotation
//! ```
//!
//! Offline (the default), the mock plays the team admin: after five items it revokes the job's
//! key and puts a new one in the "secret store". With `PAPERLINK_API_KEY` set, the job uses
//! that key and, on a 401, switches to `PAPERLINK_API_KEY_NEXT` if it is set.
//!
//! Each item carries a SKU and an idempotency key. Idempotency keys are scoped to the API key
//! that sent them, so after a switch the SKU is what proves an item was already written: a
//! `409 sku_conflict` on a retried create means "done".

use std::sync::{Arc, Mutex};

use paperlink_examples::{Backend, BoxError};
use paperlink_mock::{KeyMode, KeyScope};
use paperlink_sdk::{ApiKey, Client, CreateProduct, Decimal, Error, WriteOptions};
use secrecy::SecretString;

/// Where the job reads its current key from (a vault, a mounted secret...).
type SecretStore = Arc<Mutex<Option<SecretString>>>;

fn client_with(base: &str, store: &SecretStore) -> Result<Client, BoxError> {
    let token = store
        .lock()
        .map_err(|_| "secret store poisoned")?
        .clone()
        .ok_or("no key in the secret store")?;
    Ok(Client::builder()
        .api_key(ApiKey::from_secret(token)?)
        .base_url(base)
        .build()?)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    const ITEMS: usize = 12;
    let Backend {
        client: first,
        mock,
    } = Backend::connect(KeyScope::ReadWrite).await?;
    let base = first.base_url().to_string();
    let store: SecretStore = Arc::new(Mutex::new(None));
    let mut job_key_id = None;
    match &mock {
        Some(mock) => {
            let key = mock.create_key("Nightly import (A)", KeyMode::Test, KeyScope::ReadWrite)?;
            job_key_id = Some(key.info.id);
            *store.lock().map_err(|_| "poisoned")? = Some(key.token);
        }
        None => {
            let token = std::env::var(paperlink_sdk::ENV_API_KEY)?;
            *store.lock().map_err(|_| "poisoned")? = Some(token.into());
        }
    }
    let mut client = client_with(&base, &store)?;
    println!("job started with {}", client.key_hint());

    let run = std::process::id();
    let mut done = 0;
    let mut rotations = 0;
    while done < ITEMS {
        if let (Some(mock), Some(id), 5) = (&mock, job_key_id, done) {
            mock.revoke_key(id)?;
            let next = mock.create_key("Nightly import (B)", KeyMode::Test, KeyScope::ReadWrite)?;
            *store.lock().map_err(|_| "poisoned")? = Some(next.token);
            job_key_id = None;
            println!("(admin) revoked the job's key and stored a new one");
        }
        let sku = format!("ROT-{run}-{done:02}");
        let item = CreateProduct::new(
            format!("Line {done}"),
            Decimal::new(100 + done as i64, 2),
            "EUR".parse()?,
        )
        .sku(&sku);
        let options = WriteOptions::new().idempotency_key_from(format!("rotation-{sku}"));
        match client.products().create_with(item, options).await {
            Ok(product) => {
                println!("item {done:>2} written as {}", product.id);
                done += 1;
            }
            Err(Error::Conflict(api)) if api.code() == Some("sku_conflict") => {
                println!("item {done:>2} was already written");
                done += 1;
            }
            Err(Error::Unauthorized(api)) => {
                println!("key refused ({}); fetching the new one", api.message());
                if mock.is_none() {
                    let next = std::env::var("PAPERLINK_API_KEY_NEXT")
                        .map_err(|_| "revoked, and PAPERLINK_API_KEY_NEXT is not set")?;
                    *store.lock().map_err(|_| "poisoned")? = Some(next.into());
                }
                let next = client_with(&base, &store)?;
                if next.key_hint() == client.key_hint() && rotations > 0 {
                    return Err("the secret store still holds the revoked key".into());
                }
                client = next;
                rotations += 1;
                println!("resuming at item {done} with {}", client.key_hint());
            }
            Err(other) => return Err(other.into()),
        }
    }
    if let Some(mock) = &mock {
        let written = mock.products(KeyMode::Test);
        let prefix = format!("ROT-{run}-");
        let ours = written
            .iter()
            .filter(|p| p.sku.as_deref().is_some_and(|s| s.starts_with(&prefix)))
            .count();
        println!("{ours} items on the server after {rotations} key rotation(s)");
        if ours != ITEMS || rotations != 1 {
            return Err("work was lost or duplicated".into());
        }
        let revoked = mock
            .keys()
            .into_iter()
            .filter(|k| k.revoked_at.is_some())
            .count();
        println!("revoked keys still listed for audit: {revoked}");
    }
    Ok(())
}
