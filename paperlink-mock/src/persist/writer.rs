//! The writer thread: commits every batch waiting, in one transaction (group commit), and
//! keeps the main file close behind the `-wal`.
//!
//! **Why the main file must say when it is behind.** SQLite takes a missing or empty `-wal`
//! for "nothing since the last checkpoint", so a main file copied without its `-wal`, or a
//! `-wal` lost or emptied, would silently turn the state back to the last checkpoint. So the
//! main file carries a flag, `wal_ahead`: the first commit after a fold raises it with its
//! own changes, and is checkpointed into the main file before it is answered; the next fold
//! lowers it in a page of its own once every frame is in the main file (see
//! [`super::schema::fold`]). At start, a main file that says `wal_ahead` next to a `-wal`
//! that is missing, empty or damaged is refused (`super::schema`).
//!
//! **Readers.** A checkpoint cannot copy what a reader's open transaction may still read
//! (`sqlite3` inside `BEGIN`, a browser tool). None of these checkpoints waits for one: a fold
//! is tried again later, and a mark held up is reported once and tried again at the next
//! commit; refusing writes for as long as someone reads would be worse than that window,
//! during which a lost `-wal` would lose the commits since without a word.
//!
//! **When it checkpoints.** Under load, once the `-wal` reaches [`CHECKPOINT_BYTES`]: a
//! plain checkpoint that copies the frames into the main file and leaves the flag up (SQLite
//! then writes the `-wal` again from its start), so the main file is never more than about a
//! thousand pages behind, at the cost SQLite's own automatic checkpoint has. After
//! [`FOLD_IDLE`] without a write, and when the store closes: a fold, after which the main
//! file holds everything by itself and says so (a copy of it alone, or a lost `-wal`, then
//! loses nothing). Folding under load as well (lowering the flag, emptying the `-wal`, and
//! raising it again at the next commit, about four more fsyncs each time) measured 0.12x to
//! 0.30x of in-memory creates in `paperlink-bench durable`, against 0.23x to 0.36x before,
//! with a p99 up to 150 ms; the plain checkpoint keeps the rate (5.3k to 6.2k durable
//! creates/s, against 5.4k to 6.0k before).
//!
//! **A `-wal` changed under the server.** After each commit the writer looks at the `-wal`:
//! removed (its commits live on only in the writer's open handle), it folds them into the main
//! file at once and opens a new `-wal`; truncated, overwritten or replaced, it stops writing
//! and checkpointing for good (a checkpoint would copy what is there now into the main file),
//! so every later write is refused with 503 and a restart refuses the file.

use std::path::{Path, PathBuf};
use std::sync::PoisonError;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::wal::{self, FileId};
use super::{Batch, Handoff, lock, rows, schema, sqlite};

/// Checkpoint once the `-wal` holds this much (about a thousand 4 KiB pages, SQLite's own
/// default checkpoint size).
pub(crate) const CHECKPOINT_BYTES: u64 = 4 << 20;

/// Fold the `-wal` into the main file after this long without a write.
pub(crate) const FOLD_IDLE: Duration = Duration::from_millis(100);

type Failure = Box<dyn std::error::Error + Send + Sync>;

struct Writer<'a> {
    shared: &'a Handoff,
    conn: Connection,
    path: &'a Path,
    wal_path: PathBuf,
    rowids: Option<sqlite::Rowids>,
    /// The main file says `wal_ahead`.
    ahead: bool,
    /// Something was committed since the last fold.
    dirty: bool,
    /// The `-wal` as seen after the last commit.
    wal_id: Option<FileId>,
    /// A fold failed and was reported; the next failures in a row are not.
    fold_reported: bool,
    /// Marking the main file failed and was reported.
    mark_reported: bool,
}

/// Commits every batch waiting, in one transaction, until the store closes (then it finishes
/// what is queued and folds the `-wal`).
pub(super) fn write_loop(shared: &Handoff, conn: Connection, path: &Path) {
    schema::stop_waiting_when(shared.stopping.clone());
    let mut writer = Writer {
        shared,
        rowids: read_rowids(&conn, path),
        conn,
        path,
        wal_path: wal::path_of(path),
        ahead: false,
        dirty: false,
        wal_id: None,
        fold_reported: false,
        mark_reported: false,
    };
    loop {
        let (batches, poisoned) = {
            let mut queue = lock(&shared.queue);
            while queue.batches.is_empty() && !queue.closed {
                if writer.dirty && !writer.broken() {
                    let (next, waited) = shared
                        .wake
                        .wait_timeout(queue, FOLD_IDLE)
                        .unwrap_or_else(PoisonError::into_inner);
                    queue = next;
                    if waited.timed_out() && queue.batches.is_empty() {
                        drop(queue);
                        writer.fold("idle");
                        queue = lock(&shared.queue);
                    }
                } else {
                    queue = shared
                        .wake
                        .wait(queue)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            }
            if queue.batches.is_empty() {
                drop(queue);
                if writer.dirty && !writer.broken() {
                    writer.fold("closing");
                }
                return;
            }
            // Read with the batches: a group taken before the state is read back is failed.
            (
                std::mem::take(&mut queue.batches),
                shared.poisoned.load(Ordering::Acquire),
            )
        };
        let committed = !poisoned
            && match writer.commit(&batches) {
                Ok(()) => true,
                Err(error) => {
                    // The rolled-back rows were never written: read the rowids again.
                    writer.rowids = read_rowids(&writer.conn, path);
                    tracing::error!(
                        path = %path.display(),
                        %error,
                        "could not write the data file; the refused writes are undone"
                    );
                    let _queue = lock(&shared.queue);
                    shared.poisoned.store(true, Ordering::Release);
                    false
                }
            };
        for batch in batches {
            let _ = batch.done.send(committed);
        }
    }
}

/// The products' rowids, or none if they cannot be read (then every write is refused, since
/// an unknown product would get a second row).
fn read_rowids(conn: &Connection, path: &Path) -> Option<sqlite::Rowids> {
    sqlite::Rowids::read(conn)
        .inspect_err(|error| {
            tracing::error!(path = %path.display(), %error, "could not read the products' rows");
        })
        .ok()
}

impl Writer<'_> {
    fn broken(&self) -> bool {
        lock(&self.shared.broken).is_some()
    }

    /// Stops writing for good: the `-wal` was changed under the server.
    fn break_off(&self, why: String) -> Failure {
        tracing::error!(
            path = %self.path.display(),
            problem = %why,
            "the data file's -wal was changed while the server ran; writes are refused from \
             now on and nothing more is checkpointed. Stop the server and restore the data \
             file with its -wal from a copy"
        );
        *lock(&self.shared.broken) = Some(why.clone());
        why.into()
    }

    fn commit(&mut self, batches: &[Batch]) -> Result<(), Failure> {
        if batches.iter().all(|b| b.changes.is_empty()) {
            // Only waits for what came before, which is committed already.
            return Ok(());
        }
        #[cfg(test)]
        if let Some(hook) = lock(&self.shared.before_commit).as_mut() {
            hook()?;
        }
        if let Some(why) = lock(&self.shared.broken).clone() {
            return Err(why.into());
        }
        let Some(known) = self.rowids.as_mut() else {
            return Err("the products' rows could not be read".into());
        };
        // The main file must say the -wal holds commits it lacks before any is acknowledged:
        // the first commit after a fold raises the flag with its changes, and is checkpointed
        // (flag and changes into the main file) before it is answered.
        let marking = !self.ahead;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if marking {
            rows::set_meta(&tx, "wal_ahead", 1)?;
        }
        for batch in batches {
            for change in &batch.changes {
                sqlite::apply(&tx, change, known)?;
            }
        }
        tx.commit()?;
        if marking {
            // The changes are committed: whatever the checkpoint does, they are answered as
            // such.
            match schema::checkpoint(&self.conn, "PASSIVE") {
                Ok(true) => {
                    self.ahead = true;
                    self.mark_reported = false;
                }
                Ok(false) | Err(_) if std::mem::replace(&mut self.mark_reported, true) => {}
                held => {
                    // Refusing writes for as long as someone reads would be worse: go on,
                    // and mark it at the next commit.
                    let error = held.err().map(|e| e.to_string()).unwrap_or_else(|| {
                        "a reader's open transaction held the checkpoint up".to_owned()
                    });
                    tracing::warn!(
                        path = %self.path.display(),
                        %error,
                        "the main file could not be marked as behind its -wal; until it is, \
                         a lost -wal would lose the commits since silently"
                    );
                }
            }
        }
        self.dirty = true;
        self.after_commit()
    }

    /// Looks at the `-wal` the commit went to, and checkpoints it when it is large.
    fn after_commit(&mut self) -> Result<(), Failure> {
        match wal::check_header(&self.wal_path) {
            Ok(Some((length, id))) => {
                if self.wal_id.is_some_and(|known| known != id) {
                    return Err(self.break_off(format!(
                        "{} was replaced by another file",
                        self.wal_path.display()
                    )));
                }
                self.wal_id = Some(id);
                if length >= CHECKPOINT_BYTES {
                    // The flag stays up: the main file is behind again at the next commit.
                    match schema::checkpoint(&self.conn, "PASSIVE") {
                        Ok(whole) => tracing::debug!(length, whole, "checkpointed the -wal"),
                        Err(error) => {
                            tracing::warn!(path = %self.path.display(), %error, "could not checkpoint the -wal; trying again after the next commit");
                        }
                    }
                }
                Ok(())
            }
            Ok(None) => {
                tracing::error!(
                    path = %self.path.display(),
                    wal = %self.wal_path.display(),
                    "the -wal was removed while the server ran; its commits are folded into \
                     the main file now, and a new -wal is opened"
                );
                if !self.fold("the -wal was removed") {
                    return Err(self.break_off(format!(
                        "{} was removed, and its commits could not be folded into the main file",
                        self.wal_path.display()
                    )));
                }
                let reopened = schema::connect(self.path, OpenFlags::SQLITE_OPEN_READ_WRITE)
                    .and_then(|conn| {
                        conn.execute_batch("PRAGMA synchronous=FULL;")?;
                        Ok(conn)
                    })?;
                self.conn = reopened;
                self.wal_id = None;
                Ok(())
            }
            Err(problem) => Err(self.break_off(format!(
                "{} {problem}: it was truncated or overwritten",
                self.wal_path.display()
            ))),
        }
    }

    /// Folds the `-wal` into the main file (see [`schema::fold`]); says whether it did.
    fn fold(&mut self, why: &str) -> bool {
        #[cfg(test)]
        if why != "closing" && self.shared.hold_folds.load(Ordering::Acquire) {
            return false;
        }
        let error = match schema::fold(&self.conn) {
            Ok(schema::Fold::Folded) => {
                self.ahead = false;
                self.dirty = false;
                self.fold_reported = false;
                return true;
            }
            // The main file says what it said before.
            Ok(schema::Fold::Unchanged) => "a reader's open transaction held it up".to_owned(),
            // Lowered in the -wal, or not known: the main file is marked again before the
            // next commit.
            Ok(schema::Fold::Lowered) => {
                self.ahead = false;
                "a reader's open transaction held it up".to_owned()
            }
            Err(error) => {
                self.ahead = false;
                error.to_string()
            }
        };
        if !std::mem::replace(&mut self.fold_reported, true) {
            tracing::warn!(
                path = %self.path.display(),
                why,
                %error,
                "could not fold the -wal into the main file (the main file says so); trying \
                 again later"
            );
        }
        false
    }
}
