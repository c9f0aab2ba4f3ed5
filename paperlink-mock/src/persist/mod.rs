//! Durable state for the standalone server (`--data PATH`, the `durable` feature): an SQLite
//! database (see [`sqlite`] for its tables).
//!
//! * **One server per file.** An exclusive lock (`flock`) is taken on the file before
//!   anything is read or written; a second server refuses at once and touches nothing.
//!   Tools that only read (`sqlite3 -readonly`) are not stopped by it.
//! * **One request, one transaction.** A request's changes (a product and its idempotency
//!   record, say) are noted under the state's lock and handed, in order, to one writer
//!   thread, which commits every change waiting for it in a single transaction (group
//!   commit). A write is answered only once its transaction is committed (`synchronous=FULL`),
//!   so a `kill -9` or a power cut loses no acknowledged write. Reads are served from memory
//!   and never wait for the disk.
//! * **A refused write is undone.** If a transaction fails (a full disk, a failed fsync),
//!   every write in it, and every write queued behind it, is answered 503
//!   `storage_unavailable`; before any of those answers goes out, the state in memory is read
//!   back from the database, so no refused change stays visible to reads, to SKU checks, or
//!   after a restart. Later writes are tried again.
//! * **A file that is not ours, or is damaged, is refused** with an error naming it, and is
//!   never rewritten: a row whose checksum fails ([`rows`]), a `-wal` lost, emptied or
//!   damaged while the main file says it holds commits ([`writer`] keeps the main file close
//!   behind the `-wal` and says when it is not). A data file of the earlier JSON-lines format
//!   is imported once
//!   ([`PaperlinkMockBuilder::import_jsonl`](crate::PaperlinkMockBuilder::import_jsonl)); an
//!   import stopped half-way is refused by a plain start and finished by the same import.
//! * **A safe copy** of a running server's file: [`backup`] (`paperlink-mock backup`).
//!
//! What is kept: keys (token hashes only), products, team members, idempotency records,
//! clock advances, what a reset returns to. It comes and goes as the engine's
//! [`Snapshot`](crate::engine::durability::Snapshot) and change records, the only part of the
//! engine this module sees. What is not: rate-limit windows, the request journal, injected
//! faults, and `lastUsedAt` updates from reads (keeping those would cost a commit per read).

pub(crate) mod backup;
mod jsonl;
mod rows;
pub(crate) mod schema;
pub(crate) mod sqlite;
mod wal;
mod writer;

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::engine::changes::Change;
use crate::engine::durability::{Durability, Snapshot, Ticket};
use crate::error::MockError;
use rows::data_file_error;

/// The open data file: its lock, and the writer thread that owns the write connection.
pub(crate) struct Store {
    path: PathBuf,
    shared: Arc<Handoff>,
    writer: Option<JoinHandle<()>>,
    /// Holds the file's exclusive lock while the store is open; closed after the writer's
    /// connection.
    _lock: File,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("poisoned", &self.shared.poisoned.load(Ordering::Acquire))
            .finish_non_exhaustive()
    }
}

struct Handoff {
    queue: Mutex<Queue>,
    wake: Condvar,
    /// A transaction failed and the state in memory has not been read back yet. Set and
    /// cleared with the queue's lock held; read without it on every request.
    poisoned: AtomicBool,
    /// The store is closing: the writer stops waiting for locks other programs hold.
    stopping: Arc<AtomicBool>,
    /// The `-wal` was changed under the server: why. Writes are refused from then on, and
    /// the file is not read back (it would read what is there now).
    broken: Mutex<Option<String>>,
    /// Tests: runs before each transaction; an error fails it.
    #[cfg(test)]
    before_commit: Mutex<Option<TestHook>>,
    /// Tests: the writer does not fold the `-wal`, so the files are what a `kill -9`
    /// between two folds leaves.
    #[cfg(test)]
    hold_folds: AtomicBool,
}

#[cfg(test)]
pub(crate) type TestHook = Box<dyn FnMut() -> Result<(), String> + Send>;

#[derive(Default)]
struct Queue {
    batches: Vec<Batch>,
    closed: bool,
}

/// One request's changes, and where to say whether they are on disk.
struct Batch {
    changes: Vec<Change>,
    done: mpsc::SyncSender<bool>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A data file that is locked and checked, not yet serving.
pub(crate) struct Opened {
    path: PathBuf,
    lock: File,
    conn: Connection,
    holds_state: bool,
}

impl Opened {
    /// Locks the file, then checks it (a regular file, ours, whole, not newer, its `-wal`
    /// whole) and brings its schema up to date. Nothing is written to a file that fails a
    /// check. `importing`: this start imports into it (a file whose import did not finish is
    /// refused otherwise).
    pub(crate) fn open(path: &Path, importing: bool) -> Result<Self, MockError> {
        schema::check_path(path)?;
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| data_file_error(path, "could not be opened", Some(Box::new(e))))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(data_file_error(
                    path,
                    "is in use by another paperlink-mock; stop that server first (nothing \
                     was changed)",
                    None,
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(data_file_error(
                    path,
                    "could not be locked",
                    Some(Box::new(e)),
                ));
            }
        }
        let kind = schema::kind(path, &lock)?;
        if kind == schema::Kind::New {
            sync_directory(path)?;
        }
        match kind {
            schema::Kind::New | schema::Kind::Sqlite => {}
            schema::Kind::JsonLines => {
                return Err(data_file_error(
                    path,
                    format!(
                        "is a data file in the JSON-lines format of paperlink-mock 0.1; \
                         nothing was changed. Import it once into a new database with \
                         `paperlink-mock --data NEW.sqlite --import-jsonl {}`",
                        path.display()
                    ),
                    None,
                ));
            }
        }
        let schema::Opening { conn, holds_state } = schema::open(path, kind, importing)?;
        Ok(Self {
            path: path.to_path_buf(),
            lock,
            conn,
            holds_state,
        })
    }

    /// Whether the file already holds a state (which then wins over fresh seeds).
    pub(crate) fn holds_state(&self) -> bool {
        self.holds_state
    }

    /// What the file keeps.
    pub(crate) fn read(&self) -> Result<Snapshot, MockError> {
        sqlite::load(&self.conn, &self.path)
    }

    /// Writes a state as the file's first content (which also finishes an import).
    pub(crate) fn write_first(&mut self, snapshot: &Snapshot) -> Result<(), MockError> {
        let written = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .and_then(|tx| {
                sqlite::write_all(&tx, snapshot)?;
                tx.commit()
            });
        written.map_err(|e| data_file_error(&self.path, "could not be written", Some(Box::new(e))))
    }

    /// Reads a data file of the JSON-lines format, to import into this new database (which
    /// [`open`](Self::open) marked as importing, in the main file, until
    /// [`write_first`](Self::write_first) ends the import: a start without the import refuses
    /// a file whose import was stopped, and the same import finishes it).
    pub(crate) fn import_jsonl(&self, from: &Path) -> Result<Snapshot, MockError> {
        if self.holds_state {
            return Err(data_file_error(
                &self.path,
                format!(
                    "already holds state; import {} into a new --data path (nothing was \
                     changed)",
                    from.display()
                ),
                None,
            ));
        }
        jsonl::import(from)
    }

    /// Starts serving: counts this start, forgets idempotency records that expired before
    /// `now` (the mock clock's), folds the `-wal` into the main file (which then holds the
    /// whole state by itself) and starts the writer thread.
    pub(crate) fn serve(mut self, now: time::OffsetDateTime) -> Result<Store, MockError> {
        sqlite::note_start(&mut self.conn, sqlite::millis_of(now), &self.path)?;
        let folded = schema::fold(&self.conn).map_err(|e| {
            data_file_error(&self.path, "could not be checkpointed", Some(Box::new(e)))
        })?;
        if folded != schema::Fold::Folded {
            tracing::warn!(path = %self.path.display(), "a reader kept the -wal from being folded into the main file at start");
        }
        let shared = Arc::new(Handoff {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
            poisoned: AtomicBool::new(false),
            stopping: Arc::new(AtomicBool::new(false)),
            broken: Mutex::new(None),
            #[cfg(test)]
            before_commit: Mutex::new(None),
            #[cfg(test)]
            hold_folds: AtomicBool::new(false),
        });
        let writer = {
            let shared = Arc::clone(&shared);
            let (conn, path) = (self.conn, self.path.clone());
            std::thread::Builder::new()
                .name("paperlink-mock-store".to_owned())
                .spawn(move || writer::write_loop(&shared, conn, &path))
                .map_err(|e| {
                    data_file_error(
                        &self.path,
                        "could not start its writer thread",
                        Some(Box::new(e)),
                    )
                })?
        };
        Ok(Store {
            path: self.path,
            shared,
            writer: Some(writer),
            _lock: self.lock,
        })
    }
}

/// Makes a new file's directory entry durable (its parent, or `.` for a bare file name), so
/// that a power cut after the first commit cannot lose the file itself.
/// (On Unix; elsewhere a directory cannot be opened as a file, and this does nothing.)
fn sync_directory(path: &Path) -> Result<(), MockError> {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        File::open(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| data_file_error(path, "could not sync its directory", Some(Box::new(e))))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

impl Durability for Store {
    /// Hands a request's changes to the writer (the caller holds the state's lock, so
    /// changes reach the writer in the order they were made). An empty list waits for
    /// everything handed over before it.
    fn submit(&self, changes: Vec<Change>) -> Ticket {
        let (done, ticket) = Ticket::new();
        let mut queue = lock(&self.shared.queue);
        if queue.closed {
            let _ = done.send(false);
        } else {
            queue.batches.push(Batch { changes, done });
            self.shared.wake.notify_one();
        }
        ticket
    }

    /// After a refused transaction: fails every change still queued (each was made on top of
    /// the refused ones), then reads what the file holds, for the state to restore itself
    /// from. The caller holds the state's lock, so nothing is queued meanwhile. If the file
    /// cannot be read, writes stay refused and the next request tries again.
    fn reload(&self) -> Option<Result<Snapshot, MockError>> {
        if !self.shared.poisoned.load(Ordering::Acquire) {
            return None;
        }
        for batch in std::mem::take(&mut lock(&self.shared.queue).batches) {
            let _ = batch.done.send(false);
        }
        if let Some(why) = lock(&self.shared.broken).clone() {
            return Some(Err(data_file_error(&self.path, why, None)));
        }
        let loaded = schema::connect(&self.path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| data_file_error(&self.path, "could not be opened", Some(Box::new(e))))
            .and_then(|conn| sqlite::load(&conn, &self.path));
        if loaded.is_ok() {
            let _queue = lock(&self.shared.queue);
            self.shared.poisoned.store(false, Ordering::Release);
            tracing::warn!(
                path = %self.path.display(),
                "the state was read back from the data file; refused writes are undone"
            );
        }
        Some(loaded)
    }

    #[cfg(test)]
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Store {
    /// Tests: a hook run before each transaction (an error refuses it).
    #[cfg(test)]
    pub(crate) fn before_commit(&self, hook: TestHook) {
        *lock(&self.shared.before_commit) = Some(hook);
    }

    /// Tests: the writer folds the `-wal` no more (until the store closes).
    #[cfg(test)]
    pub(crate) fn hold_folds(&self) {
        self.shared.hold_folds.store(true, Ordering::Release);
    }

    /// What closes this store from elsewhere (the server, at its shutdown deadline).
    pub(crate) fn closer(&self) -> Closer {
        Closer(Arc::clone(&self.shared))
    }
}

/// Closes a store before its last owner drops it: a server at its shutdown deadline, while
/// requests still hold the core.
#[derive(Clone)]
pub(crate) struct Closer(Arc<Handoff>);

impl std::fmt::Debug for Closer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Closer").finish_non_exhaustive()
    }
}

impl Closer {
    /// Takes no more writes (each is answered as refused), and stops waiting for a lock
    /// another program holds: the writer fails the transaction it waits with (logging why),
    /// folds the `-wal` if it can at once, and ends.
    pub(crate) fn close(&self) {
        self.0.stopping.store(true, Ordering::Release);
        lock(&self.0.queue).closed = true;
        self.0.wake.notify_all();
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        lock(&self.shared.queue).closed = true;
        self.shared.wake.notify_all();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}
