//! Opening a data file: what kind of file it is, whether its main file and its `-wal` agree,
//! whether it is ours, whole and not newer; its schema's migrations; and the checkpoint that
//! folds the `-wal` into the main file ([`fold`]).
//!
//! `PRAGMA application_id` marks the file as ours and `PRAGMA user_version` is the schema's
//! version: a file of another kind, or of a newer version, is refused before anything is
//! written to it. Both, with the schema, are in the main file from the file's creation on
//! (it is folded before the server serves), so the main file alone says whose it is.

use std::cell::{Cell, RefCell};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

use super::rows::{self, data_file_error};
use super::wal::{self, Wal};
use crate::error::MockError;

/// `PRAGMA application_id`: "PLMK".
pub(crate) const APPLICATION_ID: i32 = 0x504c_4d4b;

/// The schema's version: the number of migrations.
pub(crate) const SCHEMA_VERSION: i32 = 3;

/// The statements that bring a database from version `i` to `i + 1`, each run in one
/// transaction with the version change (version 3 then gives every row its checksum).
///
/// Products and idempotency records have no index: a create appends its rows at the end of
/// their tables, so a commit writes a few pages in one place rather than a page of a random
/// index per row (measured: 2.4 times the creates per second). The writer finds a product's
/// row by the rowid it keeps in memory (`Rowids`).
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
    // 3: a checksum on every row; whether the -wal holds commits the main file lacks
    // (`wal_ahead`); whether an import into the file has not finished (`importing`).
    "
    ALTER TABLE meta ADD COLUMN sum INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE keys ADD COLUMN sum INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE seed_keys ADD COLUMN sum INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE products ADD COLUMN sum INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE seed_products ADD COLUMN sum INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE idempotency ADD COLUMN sum INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE members ADD COLUMN sum INTEGER NOT NULL DEFAULT 0;
    INSERT INTO meta (name, value) VALUES ('wal_ahead', 0), ('importing', 0);
",
];

/// The first bytes of every SQLite database.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// How long a statement waits for a lock another program holds (an outside `BEGIN
/// IMMEDIATE`, a reader's tool checkpointing) before it fails, and how often it looks again.
const LOCK_WAIT: Duration = Duration::from_secs(10);
const LOCK_STEP: Duration = Duration::from_millis(5);

/// How long a fold's last checkpoint waits for readers to leave the `-wal` (it is tried
/// again later; a reader must not hold up the writes behind it).
const FOLD_WAIT: Duration = Duration::from_millis(50);

thread_local! {
    /// Set on the writer's thread: once it is raised (the store closes), waits for a lock
    /// end at once, so a shutdown is not held up by another program's transaction.
    static STOPPING: RefCell<Option<Arc<AtomicBool>>> = const { RefCell::new(None) };
    /// How long a lock is waited for on this thread, now.
    static PATIENCE: Cell<Duration> = const { Cell::new(LOCK_WAIT) };
}

/// Lock waits on this thread end once `flag` is raised.
pub(crate) fn stop_waiting_when(flag: Arc<AtomicBool>) {
    STOPPING.with(|stopping| *stopping.borrow_mut() = Some(flag));
}

fn wait_for_lock(attempt: i32) -> bool {
    let stopping = STOPPING.with(|stopping| {
        stopping
            .borrow()
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::Acquire))
    });
    let waited = LOCK_STEP * u32::try_from(attempt).unwrap_or(u32::MAX);
    if stopping || waited >= PATIENCE.get() {
        return false;
    }
    std::thread::sleep(LOCK_STEP);
    true
}

/// A connection to the data file as every connection of ours is set up: lock waits that a
/// closing store cuts short, no checkpoint (and no deleting the `-wal`) when it closes, and
/// checkpoints only when the writer asks for one.
pub(crate) fn connect(path: &Path, flags: OpenFlags) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
    conn.busy_handler(Some(wait_for_lock))?;
    if !flags.contains(OpenFlags::SQLITE_OPEN_READ_ONLY) {
        // After a checkpoint SQLite writes the -wal again from its start; the limit then cuts
        // the file back (never below what is in use), so its length tells how much is in it.
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 65536;")?;
    }
    Ok(conn)
}

fn sqlite_error(path: &Path, message: &str, error: rusqlite::Error) -> MockError {
    data_file_error(path, message, Some(Box::new(error)))
}

/// What kind of file is at `path`, read before SQLite touches it.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
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

/// Refuses a path that is not a regular file (a FIFO would block the start for good, a
/// directory or a device is no data file), and a missing or empty main file beside a `-wal`
/// that holds something (the main file was lost: the `-wal` alone cannot be read, and a new
/// file would take it for its own). Run before the file is created or opened.
pub(crate) fn check_path(path: &Path) -> Result<(), MockError> {
    let main = match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => {
            return Err(data_file_error(
                path,
                "is not a regular file (a FIFO, a directory or a device); give --data the path \
                 of a data file, or of one to create",
                None,
            ));
        }
        Ok(meta) => meta.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => {
            return Err(data_file_error(
                path,
                "could not be read",
                Some(Box::new(e)),
            ));
        }
    };
    let wal = std::fs::metadata(wal::path_of(path)).map_or(0, |meta| meta.len());
    if main == 0 && wal > 0 {
        return Err(data_file_error(
            path,
            format!(
                "is missing or empty, but its -wal ({}) holds {wal} bytes: the main file was \
                 lost or replaced, and its state cannot be read from the -wal alone; nothing \
                 was changed. Restore both files from a copy, or remove the -wal to start anew",
                wal::path_of(path).display()
            ),
            None,
        ));
    }
    Ok(())
}

/// What the main file says by itself, read without its `-wal`.
struct MainFile {
    ours: bool,
    tables: i64,
    /// The `wal_ahead` flag; `None` when the file has none (schema 1 or 2, or not ours).
    wal_ahead: Option<bool>,
    /// Byte 18 of the header: 2 once the file was put in WAL mode.
    wal_mode: bool,
    page_size: u64,
}

fn main_file(path: &Path) -> Result<MainFile, MockError> {
    let damaged = |e: Box<dyn std::error::Error + Send + Sync>| {
        data_file_error(
            path,
            "is damaged: its main file cannot be read; nothing was changed. Restore it from a \
             copy, or start with a new --data path",
            Some(e),
        )
    };
    let mut head = [0u8; 20];
    std::fs::File::open(path)
        .and_then(|mut file| file.read_exact(&mut head))
        .map_err(|e| damaged(Box::new(e)))?;
    // `immutable=1`: SQLite reads the main file alone, ignoring the -wal.
    const PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let text = path.to_str().ok_or_else(|| {
        data_file_error(
            path,
            "has a path that is not UTF-8, which this check cannot name to SQLite; give \
             --data a UTF-8 path",
            None,
        )
    })?;
    let uri = format!(
        "file:{}?immutable=1",
        percent_encoding::utf8_percent_encode(text, PATH)
    );
    let conn = Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| damaged(Box::new(e)))?;
    let number = |sql: &str| -> Result<i64, MockError> {
        conn.query_row(sql, [], |row| row.get(0))
            .map_err(|e| damaged(Box::new(e)))
    };
    let application_id = number("PRAGMA application_id")?;
    let tables = number("SELECT count(*) FROM sqlite_schema")?;
    let ours = application_id == i64::from(APPLICATION_ID);
    Ok(MainFile {
        ours,
        tables,
        wal_ahead: ours
            .then(|| rows::meta(&conn, "wal_ahead"))
            .flatten()
            .map(|v| v != 0),
        wal_mode: head[18] == 2,
        page_size: match u16::from_be_bytes([head[16], head[17]]) {
            1 => 65_536,
            size => u64::from(size),
        },
    })
}

/// Compares what the main file says with the `-wal` actually there, before SQLite reads
/// them: a `-wal` that lost commits the main file lacks (missing, emptied, cut inside its
/// first frame, damaged before later commits) is refused, never read as "nothing since the
/// last checkpoint".
pub(crate) fn check_side_files(path: &Path) -> Result<(), MockError> {
    let main = main_file(path)?;
    let wal_path = wal::path_of(path);
    let wal = wal::read(&wal_path).map_err(|e| {
        data_file_error(
            path,
            format!("could not read its -wal ({})", wal_path.display()),
            Some(Box::new(e)),
        )
    })?;
    let length = std::fs::metadata(&wal_path).map_or(0, |meta| meta.len());
    let lost = |what: String| {
        data_file_error(
            path,
            format!(
                "{what}, so the state it held would be lost; nothing was changed. Restore the \
                 data file with its -wal from a copy (copy a running server's state with \
                 `paperlink-mock backup`), or start with a new --data path"
            ),
            None,
        )
    };
    let wal_name = wal_path.display();
    match (&wal, main.wal_ahead) {
        (Wal::Damaged(problem), Some(false)) => {
            // The main file holds everything: the -wal has nothing it lacks.
            tracing::warn!(path = %path.display(), %problem, "ignoring a damaged -wal that holds nothing the main file lacks");
            Ok(())
        }
        (Wal::Damaged(problem), _) => {
            Err(lost(format!("has a damaged -wal ({wal_name}: {problem})")))
        }
        (Wal::Missing, Some(true)) => Err(lost(format!(
            "has lost its -wal ({wal_name} is missing) while its main file says the -wal \
             holds commits the main file lacks"
        ))),
        (Wal::Empty, Some(true)) => Err(lost(format!(
            "has an empty -wal ({wal_name} was truncated) while its main file says the -wal \
             holds commits the main file lacks"
        ))),
        (Wal::Whole { frames: 0 }, Some(true)) if length < 32 + 24 + main.page_size => {
            Err(lost(format!(
                "has a -wal cut short ({wal_name} holds no whole frame) while its main file \
                 says the -wal holds commits the main file lacks"
            )))
        }
        (Wal::Missing | Wal::Empty, None) if !main.ours && main.tables == 0 && main.wal_mode => {
            Err(lost(format!(
                "holds no state in its main file, and its -wal ({wal_name}), where the state \
                 was until a checkpoint, is missing or empty"
            )))
        }
        _ => Ok(()),
    }
}

/// What [`open`] found.
pub(crate) struct Opening {
    pub(crate) conn: Connection,
    /// The file already holds a state.
    pub(crate) holds_state: bool,
}

/// Opens the database for writing after checking that it is ours, whole and not newer than
/// this version, and that its `-wal` lost nothing; a new one gets the schema. Brings the
/// schema up to date and folds the `-wal` into the main file. Nothing is written to a file
/// that fails a check. A file whose import did not finish is refused unless `importing`.
pub(crate) fn open(path: &Path, kind: Kind, importing: bool) -> Result<Opening, MockError> {
    if kind == Kind::Sqlite {
        check_side_files(path)?;
    }
    let conn = connect(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
    )
    .map_err(|e| sqlite_error(path, "could not be opened", e))?;
    let read_i32 = |conn: &Connection, pragma: &str| -> Result<i32, MockError> {
        conn.query_row(&format!("PRAGMA {pragma}"), [], |row| row.get(0))
            .map_err(|e| {
                sqlite_error(
                    path,
                    "is not a readable SQLite database; nothing was changed",
                    e,
                )
            })
    };
    let application_id = read_i32(&conn, "application_id")?;
    let version = read_i32(&conn, "user_version")?;
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
        .map_err(|e| sqlite_error(path, "is not a readable SQLite database", e))?;
    // New, or a creation cut short before its first commit (the application id comes first).
    let fresh =
        (application_id == 0 || application_id == APPLICATION_ID) && version == 0 && tables == 0;
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
    let holds_state = !fresh
        && conn
            .query_row("SELECT 1 FROM seed_keys LIMIT 1", [], |_| Ok(()))
            .is_ok();
    let unfinished_import =
        !fresh && version >= 3 && rows::meta(&conn, "importing").is_some_and(|v| v != 0);
    if unfinished_import && !holds_state && !importing {
        return Err(data_file_error(
            path,
            "holds an import that did not finish (the import was stopped); nothing was \
             changed. Run the same `paperlink-mock --data PATH --import-jsonl OLD` again to \
             finish it, or start with a new --data path",
            None,
        ));
    }
    // A new connection for the writes: after an integrity check of a file in rollback mode
    // (a backup), the connection that ran it cannot checkpoint once in WAL mode (SQLITE_LOCKED).
    drop(conn);
    let mut conn = connect(path, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(|e| sqlite_error(path, "could not be opened", e))?;
    if fresh {
        // Marked as ours in the main file itself before it is put in WAL mode: a creation cut
        // short is then never taken for a file of an earlier version that lost its -wal.
        conn.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID};"))
            .map_err(|e| sqlite_error(path, "could not be written", e))?;
    }
    // WAL (readers never wait for the writer), and every commit on disk before it returns.
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
    migrate(&mut conn, path, version)?;
    if importing && !holds_state {
        // Until the imported state is written: a plain start refuses the file.
        rows::set_meta(&conn, "importing", 1)
            .map_err(|e| sqlite_error(path, "could not be written", e))?;
    }
    fold(&conn).map_err(|e| sqlite_error(path, "could not be checkpointed", e))?;
    Ok(Opening { conn, holds_state })
}

pub(crate) fn check_integrity(conn: &Connection, path: &Path) -> Result<(), MockError> {
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
            "is damaged: its integrity check found {} problem(s) ({}); nothing was changed. \
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
            .and_then(|()| if to == 3 { rows::sum_all(&tx) } else { Ok(()) })
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

/// `PRAGMA wal_checkpoint(MODE)`: whether every frame of the `-wal` is now in the main file
/// (and, for TRUNCATE, the `-wal` emptied).
pub(crate) fn checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<bool> {
    let (busy, log, done): (i64, i64, i64) =
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?;
    Ok(busy == 0 && log == done)
}

/// What a [`fold`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fold {
    /// The main file holds everything and says so (`wal_ahead` down).
    Folded,
    /// A reader's open transaction held the first checkpoint up: the main file's
    /// `wal_ahead` is as it was.
    Unchanged,
    /// A reader's open transaction held the last checkpoint up: `wal_ahead` is lowered in the
    /// `-wal`, and a later checkpoint may copy that into the main file, so it must be raised
    /// again before the next commit.
    Lowered,
}

/// Folds the `-wal` into the main file and says so there: every frame copied with
/// `wal_ahead` still up, then `wal_ahead` lowered in one page of its own, copied in turn,
/// and the `-wal` emptied (TRUNCATE). The main file then holds the whole state by itself.
/// A checkpoint cut short (a reader's open transaction, a failed write) leaves the flag as it
/// was, so the main file never claims more than it holds. Never waits long for a reader.
pub(crate) fn fold(conn: &Connection) -> rusqlite::Result<Fold> {
    if !checkpoint(conn, "PASSIVE")? {
        return Ok(Fold::Unchanged);
    }
    if rows::meta(conn, "wal_ahead").unwrap_or(0) != 0 {
        rows::set_meta(conn, "wal_ahead", 0)?;
    }
    let patience = PATIENCE.replace(FOLD_WAIT);
    let (busy, log, done): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?;
    PATIENCE.set(patience);
    // Busy with every frame copied: the main file says `wal_ahead` is down, and the -wal is
    // only not emptied yet. A frame not copied is the flag's own: the main file still says
    // it is up.
    Ok(if busy == 0 || log == done {
        Fold::Folded
    } else {
        Fold::Lowered
    })
}
