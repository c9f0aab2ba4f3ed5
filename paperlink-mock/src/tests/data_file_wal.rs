//! The data file and its side files: a `-wal` lost, emptied, cut or damaged between two
//! checkpoints is refused by name, never read as "nothing happened"; rows changed on disk are
//! refused by their checksum; schema-2 files gain checksums.

use std::path::{Path, PathBuf};

use http::Method;

use crate::PaperlinkMock;
use crate::engine::MockCore;

use super::data_file::{Fresh, create, fresh, refused, request, skus, store_of};
use super::data_file_refusals::SCHEMA_2;

fn wal_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Writes a copy of a data file (`main`, and `wal` when given) into `dir/name/state.sqlite`.
fn image(dir: &Path, name: &str, main: &[u8], wal: Option<&[u8]>) -> PathBuf {
    let at = dir.join(name);
    std::fs::create_dir_all(&at).expect("dir");
    let path = at.join("state.sqlite");
    std::fs::write(&path, main).expect("main");
    if let Some(wal) = wal {
        std::fs::write(wal_of(&path), wal).expect("wal");
    }
    path
}

/// The files of a copy, to show that a refused start changed nothing.
fn bytes(path: &Path) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    (std::fs::read(path).ok(), std::fs::read(wal_of(path)).ok())
}

#[test]
fn a_wal_lost_emptied_cut_or_damaged_between_checkpoints_is_refused_by_name() {
    let Fresh {
        dir,
        path,
        core,
        token,
        ..
    } = fresh("wal-image", 23);
    // What `kill -9` leaves between two folds: the main file behind, the rest in the -wal.
    store_of(&core).hold_folds();
    let made: Vec<String> = (0..30).map(|i| format!("W-{i:02}")).collect();
    for sku in &made {
        assert_eq!(create(&core, &token, sku, None).status, 201);
    }
    let main = std::fs::read(&path).expect("main");
    let wal = std::fs::read(wal_of(&path)).expect("wal");
    let frame = 24 + 4096;
    assert!(wal.len() >= 32 + 4 * frame, "the -wal holds the creates");

    let builder = |path: &Path| PaperlinkMock::builder().seed(23).data_file(path);
    // The crash image as it is: every create is there.
    {
        let whole = image(&dir, "whole", &main, Some(&wal));
        let (core, seeded) = MockCore::from_builder(&builder(&whole)).expect("whole");
        assert!(seeded.is_empty());
        assert_eq!(skus(&core, &token), made);
    }
    let mut flipped_frame = wal.clone();
    flipped_frame[32 + 2 * frame + 24 + 200] ^= 0x04;
    let mut flipped_header = wal.clone();
    flipped_header[20] ^= 0x04;
    let cases: [(&str, Option<&[u8]>, &str); 5] = [
        ("main-only", None, "is missing"),
        ("emptied", Some(&[]), "was truncated"),
        ("cut", Some(&wal[..40]), "no whole frame"),
        (
            "frame-3",
            Some(&flipped_frame),
            "frame 3 fails its checksum",
        ),
        (
            "header",
            Some(&flipped_header),
            "its header fails its checksum",
        ),
    ];
    for (name, side, reason) in cases {
        let copy = image(&dir, name, &main, side);
        let before = bytes(&copy);
        let message = refused(&builder(&copy));
        assert!(
            message.contains(&copy.display().to_string()),
            "{name}: {message}"
        );
        assert!(
            message.contains("-wal") && message.contains(reason),
            "{name}: {message}"
        );
        assert_eq!(bytes(&copy), before, "{name}: nothing was changed");
    }
    drop(core);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_main_file_alone_holds_everything_after_a_clean_stop_and_after_a_fold() {
    let Fresh {
        dir,
        path,
        builder,
        core,
        token,
    } = fresh("wal-fold", 29);
    assert_eq!(create(&core, &token, "F-1", None).status, 201);
    drop(core);
    assert_eq!(
        std::fs::metadata(wal_of(&path)).map_or(0, |m| m.len()),
        0,
        "a clean stop folds the -wal"
    );
    let copy = image(&dir, "copy", &std::fs::read(&path).expect("main"), None);
    let (core, seeded) =
        MockCore::from_builder(&PaperlinkMock::builder().data_file(&copy)).expect("copy");
    assert!(seeded.is_empty());
    assert_eq!(skus(&core, &token), ["F-1"]);
    drop(core);
    drop(builder);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn rows_changed_on_disk_are_refused_by_table_and_row_and_schema_two_files_gain_checksums() {
    let Fresh {
        dir,
        path,
        builder,
        core,
        token,
    } = fresh("sums", 31);
    assert_eq!(create(&core, &token, "S-1", None).status, 201);
    assert_eq!(
        core.handle(&request(
            Method::POST,
            "/__admin/teams/default/members",
            "",
            r#"{"name":"ana","role":"ADMIN"}"#,
            None,
        ))
        .status,
        201
    );
    drop(core);
    // Back to schema 2, as this file was before this version.
    {
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.execute_batch(SCHEMA_2).expect("downgrade");
    }
    let (core, _) = MockCore::from_builder(&builder).expect("a schema-2 file opens");
    assert_eq!(skus(&core, &token), ["S-1"]);
    drop(core);
    let version: i32 = rusqlite::Connection::open(&path)
        .expect("open")
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .expect("version");
    assert_eq!(version, 3);

    // One changed value in each table that keeps a row: refused, naming the table.
    let whole = std::fs::read(&path).expect("main");
    for (table, change) in [
        (
            "products",
            "UPDATE products SET record = replace(record, 'USD', 'UZD')",
        ),
        ("keys", "UPDATE keys SET name = name || 'x' WHERE rowid = 1"),
        (
            "members",
            "UPDATE members SET record = replace(record, 'ADMIN', 'OWNER')",
        ),
        (
            "meta",
            "UPDATE meta SET value = value + 1 WHERE name = 'clock_advanced_ms'",
        ),
        (
            "seed_keys",
            "UPDATE seed_keys SET team = 'other' WHERE rowid = 1",
        ),
    ] {
        std::fs::write(&path, &whole).expect("restore");
        {
            let conn = rusqlite::Connection::open(&path).expect("open");
            assert_eq!(conn.execute(change, []).expect(table), 1, "{table}");
        }
        let message = refused(&builder);
        assert!(
            message.contains(&format!("`{table}`")) && message.contains("checksum"),
            "{table}: {message}"
        );
        assert!(message.contains("rowid"), "{message}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_reader_holding_a_transaction_open_stalls_no_write_and_the_main_file_is_marked_once_it_ends() {
    let Fresh {
        dir,
        path,
        core,
        token,
        ..
    } = fresh("wal-reader", 37);
    assert_eq!(create(&core, &token, "R-1", None).status, 201);
    // Idle: the -wal is folded into the main file.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::metadata(wal_of(&path)).map_or(0, |m| m.len()) > 0 {
        assert!(std::time::Instant::now() < deadline, "no fold while idle");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // A reader's open transaction, on the folded state, keeps checkpoints from copying
    // anything newer: writes go on without waiting for it.
    let reader =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("reader");
    reader.execute_batch("BEGIN").expect("begin");
    let _: i64 = reader
        .query_row("SELECT count(*) FROM products", [], |row| row.get(0))
        .expect("read");
    let started = std::time::Instant::now();
    assert_eq!(create(&core, &token, "R-2", None).status, 201);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "a write waited {:?} for a reader",
        started.elapsed()
    );
    reader.execute_batch("COMMIT").expect("commit");
    drop(reader);
    // Once it ends, the next commit marks the main file: the -wal is needed again.
    store_of(&core).hold_folds();
    assert_eq!(create(&core, &token, "R-3", None).status, 201);
    let main = std::fs::read(&path).expect("main");
    let wal = std::fs::read(wal_of(&path)).expect("wal");
    let alone = image(&dir, "alone", &main, None);
    let message = refused(&PaperlinkMock::builder().data_file(&alone));
    assert!(message.contains("is missing"), "{message}");
    let whole = image(&dir, "whole", &main, Some(&wal));
    let (restored, _) =
        MockCore::from_builder(&PaperlinkMock::builder().data_file(&whole)).expect("whole");
    assert_eq!(skus(&restored, &token), ["R-1", "R-2", "R-3"]);
    drop((restored, core));
    let _ = std::fs::remove_dir_all(dir);
}
