//! The data file's format: one SQLite database, in WAL mode with `synchronous=FULL`.
//!
//! | table | holds |
//! |---|---|
//! | `keys`, `seed_keys` | each key's id, team, name and `record` (JSON: metadata and the token's SHA-256; never the token) |
//! | `products`, `seed_products` | each product's team, mode, id, SKU, status and `record` (JSON, as the API serves it) |
//! | `idempotency` | each recorded write answer: the scope's SHA-256, when it expires, and `record` (JSON) |
//! | `members` | each team member (team, name, and `record`: JSON with the role); a team's first Owner is not kept |
//! | `meta` | `clock_advanced_ms` (how far the clock was moved by hand), `starts`, `wal_ahead` (the `-wal` may hold commits the main file lacks) and `importing` (an import has not finished) |
//!
//! | every table | `sum`: the row's checksum (see [`super::rows`]), checked when the file is loaded |
//!
//! The `seed_` tables are what `POST /__admin/reset` returns to. How a file is opened, checked
//! and migrated is in [`super::schema`].

use std::collections::HashMap;
use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, Transaction, TransactionBehavior, params};
use uuid::Uuid;

use super::rows::{self, data_file_error, opt_text, sum, text};

use crate::engine::changes::{Change, Placed};
use crate::engine::durability::Snapshot;
use crate::error::MockError;
use crate::model::{KeyMode, KeyRecord, Member, ProductRecord, ReplayRecord, ReplayScope};

/// Reads everything the file keeps, after checking every row's checksum.
pub(crate) fn load(conn: &Connection, path: &Path) -> Result<Snapshot, MockError> {
    rows::verify_all(conn, path)?;
    let damaged = |table: &str, e: Box<dyn std::error::Error + Send + Sync>| {
        data_file_error(
            path,
            format!("holds a row of `{table}` that cannot be read; nothing was changed"),
            Some(e),
        )
    };
    let meta = |name: &str| -> Result<u64, MockError> {
        let value: i64 = conn
            .query_row("SELECT value FROM meta WHERE name = ?1", [name], |row| {
                row.get(0)
            })
            .map_err(|e| damaged("meta", Box::new(e)))?;
        u64::try_from(value).map_err(|e| damaged("meta", Box::new(e)))
    };
    let keys = |table: &str| -> Result<Vec<KeyRecord>, MockError> {
        json_column::<KeyRecord>(conn, &format!("SELECT record FROM {table}"))
            .map_err(|e| damaged(table, e))
    };
    let products = |table: &str| -> Result<Vec<Placed>, MockError> {
        let mut statement = conn
            .prepare(&format!(
                "SELECT team, mode, record FROM {table} ORDER BY rowid"
            ))
            .map_err(|e| damaged(table, Box::new(e)))?;
        let rows = statement
            .query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                ))
            })
            .map_err(|e| damaged(table, Box::new(e)))?;
        let mut placed = Vec::new();
        for row in rows {
            let (team, mode, record) = row.map_err(|e| damaged(table, Box::new(e)))?;
            let mode = KeyMode::parse(&mode)
                .ok_or_else(|| damaged(table, format!("unknown mode {mode:?}").into()))?;
            let product: ProductRecord =
                serde_json::from_str(&record).map_err(|e| damaged(table, Box::new(e)))?;
            placed.push(Placed {
                team,
                mode,
                product,
            });
        }
        Ok(placed)
    };
    let mut replays = Vec::new();
    {
        let mut statement = conn
            .prepare("SELECT scope, record FROM idempotency ORDER BY rowid")
            .map_err(|e| damaged("idempotency", Box::new(e)))?;
        let rows = statement
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })
            .map_err(|e| damaged("idempotency", Box::new(e)))?;
        for row in rows {
            let (scope, record) = row.map_err(|e| damaged("idempotency", Box::new(e)))?;
            let scope = crate::model::encoding::digest::from_hex(&scope)
                .ok_or_else(|| damaged("idempotency", "a scope is not 64 hex digits".into()))?;
            let record: ReplayRecord =
                serde_json::from_str(&record).map_err(|e| damaged("idempotency", Box::new(e)))?;
            replays.push((scope, record));
        }
    }
    let members = json_column::<Member>(conn, "SELECT record FROM members ORDER BY rowid")
        .map_err(|e| damaged("members", e))?;
    Ok(Snapshot {
        keys: keys("keys")?,
        products: products("products")?,
        members,
        replays,
        seed_keys: keys("seed_keys")?,
        seed_products: products("seed_products")?,
        clock_advanced_ms: meta("clock_advanced_ms")?,
        starts: meta("starts")?,
    })
}

/// The JSON column of every row of a one-column query.
fn json_column<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    sql: &str,
) -> Result<Vec<T>, Box<dyn std::error::Error + Send + Sync>> {
    let mut statement = conn.prepare(sql)?;
    let texts = statement
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    texts
        .iter()
        .map(|text| serde_json::from_str(text).map_err(Into::into))
        .collect()
}

/// Counts this start, and forgets idempotency records that expired before `now_ms`.
pub(crate) fn note_start(conn: &mut Connection, now_ms: i64, path: &Path) -> Result<(), MockError> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .and_then(|tx| {
            let starts = rows::meta(&tx, "starts").unwrap_or(0);
            rows::set_meta(&tx, "starts", starts.saturating_add(1))?;
            tx.execute("DELETE FROM idempotency WHERE expires_ms <= ?1", [now_ms])?;
            tx.commit()
        })
        .map_err(|e| data_file_error(path, "could not be written", Some(Box::new(e))))
}

fn to_json(value: &impl serde::Serialize) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// Milliseconds since the Unix epoch.
pub(crate) fn millis_of(at: time::OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The live tables, or the `seed_` copies that a reset returns to.
#[derive(Clone, Copy)]
enum Set {
    Live,
    Seed,
}

fn put_key(tx: &Transaction<'_>, set: Set, record: &KeyRecord) -> rusqlite::Result<()> {
    let sql = match set {
        Set::Live => {
            "INSERT OR REPLACE INTO keys (id, team, name, record, sum) \
             VALUES (?1, ?2, ?3, ?4, ?5)"
        }
        Set::Seed => {
            "INSERT OR REPLACE INTO seed_keys (id, team, name, record, sum) \
             VALUES (?1, ?2, ?3, ?4, ?5)"
        }
    };
    let (id, json) = (record.info.id.to_string(), to_json(record)?);
    let sum = sum(
        "key",
        &[
            text(&id),
            text(&record.info.team),
            text(&record.info.name),
            text(&json),
        ],
    );
    tx.prepare_cached(sql)?
        .execute(params![id, record.info.team, record.info.name, json, sum])?;
    Ok(())
}

fn put_product(
    tx: &Transaction<'_>,
    set: Set,
    team: &str,
    mode: KeyMode,
    product: &ProductRecord,
    rowid: Option<i64>,
) -> rusqlite::Result<i64> {
    let record = to_json(product)?;
    let id = product.id.to_string();
    let status = product.status.as_str();
    let sum = sum(
        "product",
        &[
            text(team),
            text(mode.as_str()),
            text(&id),
            opt_text(product.sku.as_deref()),
            text(status),
            text(&record),
        ],
    );
    if let Some(rowid) = rowid {
        // Only live products change after they are written.
        tx.prepare_cached(
            "UPDATE products SET sku = ?1, status = ?2, record = ?3, sum = ?4 WHERE rowid = ?5",
        )?
        .execute(params![product.sku, status, record, sum, rowid])?;
        return Ok(rowid);
    }
    let sql = match set {
        Set::Live => {
            "INSERT INTO products (team, mode, id, sku, status, record, sum) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        }
        Set::Seed => {
            "INSERT INTO seed_products (team, mode, id, sku, status, record, sum) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        }
    };
    tx.prepare_cached(sql)?.execute(params![
        team,
        mode.as_str(),
        id,
        product.sku,
        status,
        record,
        sum
    ])?;
    Ok(tx.last_insert_rowid())
}

fn put_replay(
    tx: &Transaction<'_>,
    scope: &ReplayScope,
    response: &ReplayRecord,
) -> rusqlite::Result<()> {
    let scope = crate::model::encoding::digest::to_hex(scope);
    let (expires, json) = (millis_of(response.expires), to_json(response)?);
    let sum = sum(
        "replay",
        &[text(&scope), ValueRef::Integer(expires), text(&json)],
    );
    tx.prepare_cached(
        "INSERT INTO idempotency (scope, expires_ms, record, sum) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![scope, expires, json, sum])?;
    Ok(())
}

fn put_member(tx: &Transaction<'_>, member: &Member) -> rusqlite::Result<()> {
    let json = to_json(member)?;
    let sum = sum(
        "member",
        &[text(&member.team), text(&member.name), text(&json)],
    );
    tx.prepare_cached(
        "INSERT OR REPLACE INTO members (team, name, record, sum) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![member.team, member.name, json, sum])?;
    Ok(())
}

fn set_advanced(tx: &Transaction<'_>, advanced_ms: u64) -> rusqlite::Result<()> {
    rows::set_meta(
        tx,
        "clock_advanced_ms",
        i64::try_from(advanced_ms).unwrap_or(i64::MAX),
    )
}

/// Where each product's row is, by team, mode and id: kept by the writer, so that a change
/// to a product rewrites its row without an index.
#[derive(Debug, Default)]
pub(crate) struct Rowids(HashMap<String, [HashMap<Uuid, i64>; 2]>);

fn mode_index(mode: KeyMode) -> usize {
    match mode {
        KeyMode::Live => 0,
        KeyMode::Test => 1,
    }
}

impl Rowids {
    /// Reads every product's rowid.
    pub(crate) fn read(conn: &Connection) -> rusqlite::Result<Self> {
        let mut rowids = Self::default();
        let mut statement = conn.prepare("SELECT rowid, team, mode, id FROM products")?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
            ))
        })?;
        for row in rows {
            let (rowid, team, mode, id) = row?;
            if let (Some(mode), Ok(id)) = (KeyMode::parse(&mode), Uuid::parse_str(&id)) {
                rowids.insert(&team, mode, id, rowid);
            }
        }
        Ok(rowids)
    }

    fn get(&self, team: &str, mode: KeyMode, id: &Uuid) -> Option<i64> {
        self.0.get(team)?[mode_index(mode)].get(id).copied()
    }

    fn insert(&mut self, team: &str, mode: KeyMode, id: Uuid, rowid: i64) {
        let modes = match self.0.get_mut(team) {
            Some(modes) => modes,
            None => self.0.entry(team.to_owned()).or_default(),
        };
        modes[mode_index(mode)].insert(id, rowid);
    }
}

/// Writes one change.
pub(crate) fn apply(
    tx: &Transaction<'_>,
    change: &Change,
    rowids: &mut Rowids,
) -> rusqlite::Result<()> {
    match change {
        Change::KeyPut(record) => put_key(tx, Set::Live, record),
        Change::ProductPut(Placed {
            team,
            mode,
            product,
        }) => {
            let known = rowids.get(team, *mode, &product.id);
            let rowid = put_product(tx, Set::Live, team, *mode, product, known)?;
            if known.is_none() {
                rowids.insert(team, *mode, product.id, rowid);
            }
            Ok(())
        }
        Change::MemberPut(member) => put_member(tx, member),
        Change::MemberRemoved { team, name } => {
            tx.prepare_cached("DELETE FROM members WHERE team = ?1 AND name = ?2")?
                .execute(params![team, name])?;
            Ok(())
        }
        Change::Replay { scope, record } => put_replay(tx, scope, record),
        Change::Clock { advanced_ms } => set_advanced(tx, *advanced_ms),
        Change::Reset => {
            tx.execute_batch(
                "DELETE FROM keys; INSERT INTO keys SELECT * FROM seed_keys;
                 DELETE FROM products; INSERT INTO products SELECT * FROM seed_products;
                 DELETE FROM idempotency; DELETE FROM members;",
            )?;
            *rowids = Rowids::read(tx)?;
            Ok(())
        }
    }
}

/// Writes a whole state into an empty database: what `reset` returns to, the keys, the
/// products (in the order they were created), the idempotency records, the members and the
/// clock; an import that was under way is then finished.
pub(crate) fn write_all(tx: &Transaction<'_>, snapshot: &Snapshot) -> rusqlite::Result<()> {
    for record in &snapshot.seed_keys {
        put_key(tx, Set::Seed, record)?;
    }
    for placed in &snapshot.seed_products {
        put_product(
            tx,
            Set::Seed,
            &placed.team,
            placed.mode,
            &placed.product,
            None,
        )?;
    }
    for record in &snapshot.keys {
        put_key(tx, Set::Live, record)?;
    }
    for placed in &snapshot.products {
        put_product(
            tx,
            Set::Live,
            &placed.team,
            placed.mode,
            &placed.product,
            None,
        )?;
    }
    for (scope, record) in &snapshot.replays {
        put_replay(tx, scope, record)?;
    }
    for member in &snapshot.members {
        put_member(tx, member)?;
    }
    rows::set_meta(tx, "importing", 0)?;
    set_advanced(tx, snapshot.clock_advanced_ms)
}
