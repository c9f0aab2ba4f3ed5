//! What every row of the data file carries besides its content: a checksum (`sum`), written
//! with the row and checked when the file is loaded, so that a row changed on disk (a flipped
//! byte that still parses, `EUR` become `EWR`) stops the server instead of being served.
//! SQLite checks its pages' structure, not the values in them.
//!
//! A row's sum is the first 8 bytes of the SHA-256 of its kind (`key`, `product`, …) and its
//! columns in order, each with its type and length; a reset copies `seed_` rows into the live
//! tables as they are, so the kind, not the table, goes into the sum.

use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};

use crate::error::MockError;

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

/// The checksum of a row of `kind` with these columns.
pub(crate) fn sum(kind: &str, columns: &[ValueRef<'_>]) -> i64 {
    let mut hash = Sha256::new();
    hash.update(kind.as_bytes());
    for column in columns {
        match column {
            ValueRef::Null => hash.update(b"N"),
            ValueRef::Integer(value) => {
                hash.update(b"I");
                hash.update(value.to_be_bytes());
            }
            ValueRef::Real(value) => {
                hash.update(b"R");
                hash.update(value.to_be_bytes());
            }
            ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
                hash.update(if matches!(column, ValueRef::Text(_)) {
                    b"T"
                } else {
                    b"B"
                });
                hash.update((bytes.len() as u64).to_be_bytes());
                hash.update(bytes);
            }
        }
    }
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// Text as a column value.
pub(crate) fn text(value: &str) -> ValueRef<'_> {
    ValueRef::Text(value.as_bytes())
}

/// An optional text column.
pub(crate) fn opt_text(value: Option<&str>) -> ValueRef<'_> {
    value.map_or(ValueRef::Null, text)
}

/// Each checked table: its name, the kind its sum is made with, and its columns.
pub(crate) const TABLES: [(&str, &str, &[&str]); 7] = [
    ("meta", "meta", &["name", "value"]),
    ("keys", "key", &["id", "team", "name", "record"]),
    ("seed_keys", "key", &["id", "team", "name", "record"]),
    (
        "products",
        "product",
        &["team", "mode", "id", "sku", "status", "record"],
    ),
    (
        "seed_products",
        "product",
        &["team", "mode", "id", "sku", "status", "record"],
    ),
    ("idempotency", "replay", &["scope", "expires_ms", "record"]),
    ("members", "member", &["team", "name", "record"]),
];

/// A meta row's value, and its checksum, set.
pub(crate) fn set_meta(conn: &Connection, name: &str, value: i64) -> rusqlite::Result<()> {
    let sum = sum("meta", &[text(name), ValueRef::Integer(value)]);
    conn.prepare_cached("UPDATE meta SET value = ?1, sum = ?2 WHERE name = ?3")?
        .execute(params![value, sum, name])?;
    Ok(())
}

/// A meta row's value (`None` when the row, or the table, is not there).
pub(crate) fn meta(conn: &Connection, name: &str) -> Option<i64> {
    conn.query_row("SELECT value FROM meta WHERE name = ?1", [name], |row| {
        row.get(0)
    })
    .ok()
}

/// Gives every row of every table its checksum (when a file gains them).
pub(crate) fn sum_all(conn: &Connection) -> rusqlite::Result<()> {
    for (table, kind, columns) in TABLES {
        let mut sums = Vec::new();
        {
            let mut statement = conn.prepare(&format!(
                "SELECT rowid, {} FROM {table}",
                columns.join(", ")
            ))?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                let values: Vec<ValueRef<'_>> = (1..=columns.len())
                    .map(|i| row.get_ref(i))
                    .collect::<Result<_, _>>()?;
                sums.push((row.get::<_, i64>(0)?, sum(kind, &values)));
            }
        }
        let mut update = conn.prepare(&format!("UPDATE {table} SET sum = ?1 WHERE rowid = ?2"))?;
        for (rowid, sum) in sums {
            update.execute(params![sum, rowid])?;
        }
    }
    Ok(())
}

/// Checks every row's checksum; the first row that fails is named (table, rowid, and its
/// first column: an id, a name).
pub(crate) fn verify_all(conn: &Connection, path: &Path) -> Result<(), MockError> {
    for (table, kind, columns) in TABLES {
        let unreadable = |e: rusqlite::Error| {
            data_file_error(
                path,
                format!("holds a row of `{table}` that cannot be read; nothing was changed"),
                Some(Box::new(e)),
            )
        };
        let mut statement = conn
            .prepare(&format!(
                "SELECT rowid, sum, {} FROM {table}",
                columns.join(", ")
            ))
            .map_err(unreadable)?;
        let mut rows = statement.query([]).map_err(unreadable)?;
        while let Some(row) = rows.next().map_err(unreadable)? {
            let values: Vec<ValueRef<'_>> = (2..columns.len() + 2)
                .map(|i| row.get_ref(i))
                .collect::<Result<_, _>>()
                .map_err(unreadable)?;
            let stored: Option<i64> = row.get(1).ok();
            if stored == Some(sum(kind, &values)) {
                continue;
            }
            let rowid: i64 = row.get(0).unwrap_or_default();
            let first = match values.first() {
                Some(ValueRef::Text(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
                Some(ValueRef::Integer(value)) => value.to_string(),
                _ => String::new(),
            };
            return Err(data_file_error(
                path,
                format!(
                    "holds a row of `{table}` (rowid {rowid}, {} {first:?}) whose checksum does \
                     not match its content: it was changed outside paperlink-mock, or damaged \
                     on disk, and would be served changed; nothing was changed. Restore the \
                     file from a copy (`paperlink-mock backup`)",
                    columns[0]
                ),
                None,
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sum_changes_with_any_byte_type_or_column_boundary() {
        let base = sum("product", &[text("EUR"), ValueRef::Integer(1)]);
        assert_ne!(base, sum("product", &[text("EWR"), ValueRef::Integer(1)]));
        assert_ne!(base, sum("product", &[text("EUR"), ValueRef::Integer(2)]));
        assert_ne!(base, sum("key", &[text("EUR"), ValueRef::Integer(1)]));
        assert_ne!(
            sum("k", &[text("ab"), text("c")]),
            sum("k", &[text("a"), text("bc")])
        );
        assert_ne!(sum("k", &[ValueRef::Null]), sum("k", &[text("")]));
    }
}
