//! A safe copy of a data file, taken while a server may be writing to it: SQLite's `VACUUM
//! INTO` reads one consistent snapshot (the main file and the `-wal` together, as of one
//! moment) and writes it to a new file, which is then checked as a data file is at start.
//! Copying the files with `cp` is not safe: a copy of the main file alone lacks what is in
//! the `-wal`, and files copied while the server checkpoints may not match each other.

use std::fs::OpenOptions;
use std::path::Path;

use rusqlite::OpenFlags;

use super::rows::{self, data_file_error};
use super::{schema, sqlite};
use crate::error::MockError;

/// Copies the data file at `from` to a new file at `to` (never over an existing one), whether
/// or not a server runs on it. The copy is a single file (no `-wal`), holds everything
/// committed when the copy began, and opens as a data file.
pub fn backup(from: &Path, to: &Path) -> Result<(), MockError> {
    if std::fs::symlink_metadata(to).is_ok() {
        return Err(data_file_error(
            to,
            "already exists; a backup never overwrites a file (give a new path)",
            None,
        ));
    }
    schema::check_path(from)?;
    if std::fs::metadata(from).map_or(0, |meta| meta.len()) == 0 {
        return Err(data_file_error(
            from,
            "is missing or empty: nothing to copy",
            None,
        ));
    }
    // With no server on the file, its main file and -wal are checked first, as at a start;
    // the lock is then held so that no server starts during the copy. A server's own file is
    // as it keeps it.
    let lock = OpenOptions::new()
        .read(true)
        .open(from)
        .map_err(|e| data_file_error(from, "could not be opened", Some(Box::new(e))))?;
    if lock.try_lock().is_ok() {
        schema::check_side_files(from)?;
    }
    let source = schema::connect(from, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| data_file_error(from, "could not be opened", Some(Box::new(e))))?;
    let application_id: i32 = source
        .query_row("PRAGMA application_id", [], |row| row.get(0))
        .map_err(|e| data_file_error(from, "could not be read", Some(Box::new(e))))?;
    if application_id != schema::APPLICATION_ID {
        return Err(data_file_error(
            from,
            "is not a paperlink-mock data file; nothing was copied",
            None,
        ));
    }
    let copied = to
        .to_str()
        .ok_or_else(|| data_file_error(to, "is not a UTF-8 path", None))
        .and_then(|target| {
            source
                .execute("VACUUM INTO ?1", [target])
                .map_err(|e| data_file_error(from, "could not be copied", Some(Box::new(e))))
        })
        .and_then(|_| finish(to));
    if copied.is_err() {
        // Only what this call created.
        let _ = std::fs::remove_file(to);
    }
    copied
}

/// The copy holds everything by itself: it says so (`wal_ahead` lowered), then it is checked
/// as at a start (integrity, every row's checksum) and made durable.
fn finish(to: &Path) -> Result<(), MockError> {
    let copy = schema::connect(to, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(|e| data_file_error(to, "could not be opened", Some(Box::new(e))))?;
    let version: i32 = copy
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(|e| data_file_error(to, "could not be read", Some(Box::new(e))))?;
    copy.execute_batch("PRAGMA journal_mode = DELETE; PRAGMA synchronous = FULL;")
        .and_then(|()| {
            // A file of an earlier schema (not opened by this version yet) is copied as it
            // is, and migrated when a server opens the copy.
            if version >= schema::SCHEMA_VERSION {
                rows::set_meta(&copy, "wal_ahead", 0)
            } else {
                Ok(())
            }
        })
        .map_err(|e| data_file_error(to, "could not be written", Some(Box::new(e))))?;
    schema::check_integrity(&copy, to)?;
    if version >= schema::SCHEMA_VERSION {
        sqlite::load(&copy, to)?;
    }
    drop(copy);
    std::fs::File::open(to)
        .and_then(|file| file.sync_all())
        .map_err(|e| data_file_error(to, "could not be synced", Some(Box::new(e))))?;
    super::sync_directory(to)
}
