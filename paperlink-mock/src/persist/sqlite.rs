//! The data file's format: one SQLite database, in WAL mode with `synchronous=FULL`.
//!
//! | table | holds |
//! |---|---|
//! | `keys`, `seed_keys` | each key's id, team, name and `record` (JSON: metadata and the token's SHA-256; never the token) |
//! | `products`, `seed_products` | each product's team, mode, id, SKU, status and `record` (JSON, as the API serves it) |
//! | `idempotency` | each recorded write answer: the scope's SHA-256, when it expires, and `record` (JSON) |
//! | `members` | each team member (team, name, and `record`: JSON with the role); a team's first Owner is not kept |
//! | `meta` | `clock_advanced_ms` (how far the clock was moved by hand) and `starts` |
//!
//! The `seed_` tables are what `POST /__admin/reset` returns to. `PRAGMA application_id` marks
//! the file as ours and `PRAGMA user_version` is the schema's version: a file of another
//! kind, or of a newer version, is refused before anything is written to it.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use rusqlite::{
    Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};
use uuid::Uuid;

use crate::engine::changes::{Change, Placed};
use crate::engine::durability::Snapshot;
use crate::error::MockError;
use crate::model::{KeyMode, KeyRecord, Member, ProductRecord, ReplayRecord, ReplayScope};

/// `PRAGMA application_id`: "PLMK".
pub(crate) const APPLICATION_ID: i32 = 0x504c_4d4b;

/// The schema's version: `MIGRATIONS.len()`.
pub(crate) const SCHEMA_VERSION: i32 = 2;

/// The statements that bring a database from version `i` to `i + 1`, each run in one
/// transaction with the version change.
///
/// Products and idempotency records have no index: a create appends its rows at the end of
/// their tables, so a commit writes a few pages in one place rather than a page of a random
/// index per row (measured: 2.4 times the creates per second). The writer finds a product's
/// row by the rowid it keeps in memory ([`Rowids`]).
const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [
    "
    CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;
    INSERT INTO meta (name, value) VALUES ('clock_advanced_ms', 0), ('starts', 0);
    CREATE TABLE keys (
        id TEXT PRIMARY KEY, team TEXT NOT NULL, name TEXT NOT NULL, record TEXT NOT NULL
    ) STRICT;
    CREATE TABLE seed_keys (
        id TEXT PRIMARY KEY, team TEXT NOT NULL, name TEXT NOT NULL, record TEXT NOT NULL
    ) STRICT;
    CREATE TABLE products (
        team TEXT NOT NULL, mode TEXT NOT NULL, id TEXT NOT NULL, sku TEXT,
        status TEXT NOT NULL, record TEXT NOT NULL
    ) STRICT;
    CREATE TABLE seed_products (
        team TEXT NOT NULL, mode TEXT NOT NULL, id TEXT NOT NULL, sku TEXT,
        status TEXT NOT NULL, record TEXT NOT NULL
    ) STRICT;
    CREATE TABLE idempotency (
        scope TEXT NOT NULL, expires_ms INTEGER NOT NULL, record TEXT NOT NULL
    ) STRICT;
",
    // 2: team members and their roles (a team's first Owner is not stored).
    "
    CREATE TABLE members (
        team TEXT NOT NULL, name TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (team, name)
    ) STRICT;
",
];

/// The first bytes of every SQLite database.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// A data-file error naming the file.
pub(crate) fn data_file_error(
    path: &Path,
    message: impl Into<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
) -> MockError {
    MockError::DataFile {
        path: path.to_path_buf(),
        message: message.into(),
        source,
    }
}

fn sqlite_error(path: &Path, message: &str, error: rusqlite::Error) -> MockError {
    data_file_error(path, message, Some(Box::new(error)))
}

/// What kind of file is at `path`, read before SQLite touches it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Missing or empty: a new database.
    New,
    /// An SQLite database (whose it is, is checked once it is open).
    Sqlite,
    /// The JSON-lines data file of paperlink-mock 0.1.
    JsonLines,
}

/// Tells the file's kind from its first bytes (read through `file`, the handle that holds the
/// lock); anything else is refused.
pub(crate) fn kind(path: &Path, mut file: &std::fs::File) -> Result<Kind, MockError> {
    let mut head = Vec::with_capacity(16);
    (&mut file)
        .take(16)
        .read_to_end(&mut head)
        .map_err(|e| data_file_error(path, "could not be read", Some(Box::new(e))))?;
    if head.is_empty() {
        Ok(Kind::New)
    } else if head.as_slice() == SQLITE_HEADER {
        Ok(Kind::Sqlite)
    } else if head.starts_with(b"{\"") {
        Ok(Kind::JsonLines)
    } else {
        Err(data_file_error(
            path,
            "is not a paperlink-mock data file (not an SQLite database); nothing was changed",
            None,
        ))
    }
}

/// Opens the database for writing after checking that it is ours, whole and not newer than
/// this version; a new one gets the schema. Returns the connection and whether it already
/// holds state. Nothing is written to a file that fails a check.
pub(crate) fn open(path: &Path) -> Result<(Connection, bool), MockError> {
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| sqlite_error(path, "could not be opened", e))?;
    let read_i32 = |pragma: &str| -> Result<i32, MockError> {
        conn.query_row(&format!("PRAGMA {pragma}"), [], |row| row.get(0))
            .map_err(|e| {
                sqlite_error(
                    path,
                    "is not a readable SQLite database; nothing was changed",
                    e,
                )
            })
    };
    let application_id = read_i32("application_id")?;
    let version = read_i32("user_version")?;
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
        .map_err(|e| sqlite_error(path, "is not a readable SQLite database", e))?;
    let fresh = application_id == 0 && version == 0 && tables == 0;
    if !fresh && application_id != APPLICATION_ID {
        return Err(data_file_error(
            path,
            "is an SQLite database of another program, not a paperlink-mock data file; \
             nothing was changed",
            None,
        ));
    }
    if version > SCHEMA_VERSION {
        return Err(data_file_error(
            path,
            format!(
                "was written by a newer paperlink-mock (schema version {version}; this \
                 version reads up to {SCHEMA_VERSION}); nothing was changed"
            ),
            None,
        ));
    }
    if !fresh {
        check_integrity(&conn, path)?;
    }
    // WAL (readers never wait for the writer), every commit on disk before it returns, and
    // a writer that waits rather than fails while a reader's tool checkpoints.
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
        .map_err(|e| sqlite_error(path, "could not be switched to WAL mode", e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(data_file_error(
            path,
            format!("could not be switched to WAL mode (it is in {mode} mode)"),
            None,
        ));
    }
    conn.execute_batch("PRAGMA synchronous=FULL;")
        .map_err(|e| sqlite_error(path, "could not be configured", e))?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(|e| sqlite_error(path, "could not be configured", e))?;
    migrate(&mut conn, path, version)?;
    let holds_state = !fresh
        && conn
            .query_row("SELECT 1 FROM seed_keys LIMIT 1", [], |_| Ok(()))
            .optional()
            .map_err(|e| sqlite_error(path, "could not be read", e))?
            .is_some();
    Ok((conn, holds_state))
}

fn check_integrity(conn: &Connection, path: &Path) -> Result<(), MockError> {
    let mut statement = conn
        .prepare("PRAGMA integrity_check")
        .map_err(|e| sqlite_error(path, "could not be checked", e))?;
    let findings: Vec<String> = statement
        .query_map([], |row| row.get(0))
        .and_then(|rows| rows.collect())
        .map_err(|e| sqlite_error(path, "is damaged: its integrity check failed", e))?;
    if findings.len() == 1 && findings[0] == "ok" {
        return Ok(());
    }
    let shown: Vec<&str> = findings.iter().take(3).map(String::as_str).collect();
    Err(data_file_error(
        path,
        format!(
            "is damaged: its integrity check found {} data_file_error(s) ({}); nothing was changed. \
             Restore it from a copy, or start with a new --data path",
            findings.len(),
            shown.join("; ")
        ),
        None,
    ))
}

fn migrate(conn: &mut Connection, path: &Path, from: i32) -> Result<(), MockError> {
    for (index, script) in MIGRATIONS.iter().enumerate().skip(from.max(0) as usize) {
        let to = index + 1;
        let tx = conn
            .transaction()
            .map_err(|e| sqlite_error(path, "could not be migrated", e))?;
        tx.execute_batch(script)
            .and_then(|()| {
                tx.execute_batch(&format!(
                    "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {to};"
                ))
            })
            .and_then(|()| tx.commit())
            .map_err(|e| sqlite_error(path, &format!("could not be migrated to {to}"), e))?;
    }
    Ok(())
}

/// Reads everything the file keeps.
pub(crate) fn load(conn: &Connection, path: &Path) -> Result<Snapshot, MockError> {
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
            tx.execute(
                "UPDATE meta SET value = value + 1 WHERE name = 'starts'",
                [],
            )?;
            tx.execute("DELETE FROM idempotency WHERE expires_ms <= ?1", [now_ms])?;
            tx.commit()
        })
        .map_err(|e| sqlite_error(path, "could not be written", e))
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
        Set::Live => "INSERT OR REPLACE INTO keys (id, team, name, record) VALUES (?1, ?2, ?3, ?4)",
        Set::Seed => {
            "INSERT OR REPLACE INTO seed_keys (id, team, name, record) VALUES (?1, ?2, ?3, ?4)"
        }
    };
    tx.prepare_cached(sql)?.execute(params![
        record.info.id.to_string(),
        record.info.team,
        record.info.name,
        to_json(record)?
    ])?;
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
    if let Some(rowid) = rowid {
        // Only live products change after they are written.
        tx.prepare_cached(
            "UPDATE products SET sku = ?1, status = ?2, record = ?3 WHERE rowid = ?4",
        )?
        .execute(params![product.sku, status, record, rowid])?;
        return Ok(rowid);
    }
    let sql = match set {
        Set::Live => {
            "INSERT INTO products (team, mode, id, sku, status, record) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        }
        Set::Seed => {
            "INSERT INTO seed_products (team, mode, id, sku, status, record) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        }
    };
    tx.prepare_cached(sql)?.execute(params![
        team,
        mode.as_str(),
        id,
        product.sku,
        status,
        record
    ])?;
    Ok(tx.last_insert_rowid())
}

fn put_replay(
    tx: &Transaction<'_>,
    scope: &ReplayScope,
    response: &ReplayRecord,
) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT INTO idempotency (scope, expires_ms, record) VALUES (?1, ?2, ?3)")?
        .execute(params![
            crate::model::encoding::digest::to_hex(scope),
            millis_of(response.expires),
            to_json(response)?
        ])?;
    Ok(())
}

fn put_member(tx: &Transaction<'_>, member: &Member) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT OR REPLACE INTO members (team, name, record) VALUES (?1, ?2, ?3)")?
        .execute(params![member.team, member.name, to_json(member)?])?;
    Ok(())
}

fn set_advanced(tx: &Transaction<'_>, advanced_ms: u64) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE meta SET value = ?1 WHERE name = 'clock_advanced_ms'")?
        .execute([i64::try_from(advanced_ms).unwrap_or(i64::MAX)])?;
    Ok(())
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
/// clock.
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
    set_advanced(tx, snapshot.clock_advanced_ms)
}
