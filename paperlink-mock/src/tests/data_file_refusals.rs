//! The data file itself: a second mock on the same file, damaged, foreign and newer files, the
//! one-time import of the JSON-lines format, one row per product, and members across a
//! restart and a schema-1 file.

use std::path::PathBuf;

use crate::PaperlinkMock;
use crate::engine::MockCore;

use http::Method;

use super::data_file::{
    Fresh, create, data_file, file_bytes, fresh, json, refused, request, skus, test_token,
};

#[test]
fn a_second_mock_on_the_same_file_refuses_at_once_and_touches_nothing() {
    let Fresh {
        dir,
        path,
        builder,
        core,
        token,
    } = fresh("store-lock", 11);
    assert_eq!(create(&core, &token, "FIRST", None).status, 201);
    let before = file_bytes(&path);
    let message = refused(&builder);
    assert!(
        message.contains("in use by another paperlink-mock"),
        "{message}"
    );
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert_eq!(
        file_bytes(&path),
        before,
        "the second start changed nothing"
    );
    // The first goes on, and keeps what it acknowledges.
    assert_eq!(create(&core, &token, "SECOND", None).status, 201);
    drop(core);
    let (core, _) = MockCore::from_builder(&builder).expect("restored");
    assert_eq!(skus(&core, &token), ["FIRST", "SECOND"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn damaged_foreign_and_newer_files_are_refused_with_their_name_and_never_rewritten() {
    let (dir, path) = data_file("store-refuse");
    let builder = PaperlinkMock::builder()
        .seed(13)
        .no_rate_limit()
        .data_file(&path);
    let (core, seeded) = MockCore::from_builder(&builder).expect("fresh core");
    let token = test_token(&seeded);
    for i in 0..300 {
        assert_eq!(
            create(&core, &token, &format!("P-{i:03}"), None).status,
            201
        );
    }
    drop(core);
    // Fold the WAL into the file, so that damage to the file is damage to the state.
    {
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .expect("checkpoint");
    }
    let whole = std::fs::read(&path).expect("file");

    let check = |bytes: &[u8], expected: &str| {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let _ = std::fs::remove_file(PathBuf::from(wal));
        std::fs::write(&path, bytes).expect("write");
        let message = refused(&builder);
        assert!(message.contains(expected), "{expected}: {message}");
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert_eq!(std::fs::read(&path).expect("file"), bytes, "{expected}");
    };

    // One bit flipped in the header of the products table's root page.
    let root: i64 = {
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.query_row(
            "SELECT rootpage FROM sqlite_schema WHERE name = 'products'",
            [],
            |row| row.get(0),
        )
        .expect("root page")
    };
    let mut flipped = whole.clone();
    let at = usize::try_from(root - 1).expect("page") * 4096;
    flipped[at] ^= 0x10;
    check(&flipped, "damaged");
    // Cut in half.
    check(&whole[..whole.len() / 2], "state.sqlite");
    // Not SQLite at all, or another program's database, or a newer schema.
    check(
        b"hello, this is not a database\n",
        "not a paperlink-mock data file",
    );
    let foreign = dir.join("foreign.sqlite");
    {
        let conn = rusqlite::Connection::open(&foreign).expect("open");
        conn.execute_batch("CREATE TABLE notes (body TEXT);")
            .expect("create");
    }
    check(
        &std::fs::read(&foreign).expect("foreign"),
        "another program",
    );
    let newer = dir.join("newer.sqlite");
    std::fs::write(&newer, &whole).expect("copy");
    {
        let conn = rusqlite::Connection::open(&newer).expect("open");
        conn.execute_batch("PRAGMA user_version = 99;")
            .expect("version");
    }
    check(
        &std::fs::read(&newer).expect("newer"),
        "newer paperlink-mock",
    );
    // A data file of the JSON-lines format names the import.
    check(
        b"{\"Seed\":{\"keys\":[],\"products\":[]}}\n",
        "--import-jsonl",
    );

    // The whole file still loads, with everything in it.
    std::fs::write(&path, &whole).expect("write");
    let (core, _) = MockCore::from_builder(&builder).expect("restored");
    assert_eq!(skus(&core, &token).len(), 100, "a page of 100");
    let _ = std::fs::remove_dir_all(dir);
}

/// Takes a file of this version back to schema 2: no checksums, no `wal_ahead` or
/// `importing`.
pub(super) const SCHEMA_2: &str = "
    ALTER TABLE meta DROP COLUMN sum; ALTER TABLE keys DROP COLUMN sum;
    ALTER TABLE seed_keys DROP COLUMN sum; ALTER TABLE products DROP COLUMN sum;
    ALTER TABLE seed_products DROP COLUMN sum; ALTER TABLE idempotency DROP COLUMN sum;
    ALTER TABLE members DROP COLUMN sum;
    DELETE FROM meta WHERE name IN ('wal_ahead', 'importing');
    PRAGMA user_version = 2;
";

/// A data file written by paperlink-mock 0.1 (its JSON-lines format): keys, products, an
/// idempotency record and a clock advance.
const OLD_FILE: &str = include_str!("../../tests/data/v0.1-state.jsonl");

#[test]
fn a_json_lines_file_is_imported_once() {
    let (dir, path) = data_file("store-import");
    let old = dir.join("state.jsonl");
    std::fs::write(&old, OLD_FILE).expect("old file");
    // The file's idempotency record is kept for 24 hours from its writing.
    let written = time::macros::datetime!(2026-11-29 21:10 UTC);
    let builder = PaperlinkMock::builder()
        .seed(17)
        .start_time(written)
        .data_file(&path)
        .import_jsonl(&old);
    let (core, seeded) = MockCore::from_builder(&builder).expect("imported");
    assert!(seeded.is_empty(), "the file's keys, not new ones");
    let token = "pk_test_fJN2RRn06u41UzP7HDpQkpUlMybkiuAl";
    assert_eq!(skus(&core, token), ["OLD-1", "OLD-2"]);
    let replay = create(&core, token, "OLD-1", Some("old-key"));
    assert_eq!(
        (replay.status, replay.header_value("idempotent-replayed")),
        (201, Some("true")),
        "{}",
        String::from_utf8_lossy(&replay.body)
    );
    drop(core);
    assert_eq!(
        std::fs::read_to_string(&old).expect("old"),
        OLD_FILE,
        "only read"
    );
    // A second import into the same database is refused; a plain start resumes.
    let message = refused(&builder);
    assert!(message.contains("already holds state"), "{message}");
    let (core, _) = MockCore::from_builder(
        &PaperlinkMock::builder()
            .start_time(written)
            .data_file(&path),
    )
    .expect("restored");
    assert_eq!(skus(&core, token), ["OLD-1", "OLD-2"]);
    drop(core);

    // A damaged line before the end stops the import and names the line; a last line cut
    // inside a multi-byte character is left out.
    let (dir2, path2) = data_file("store-import-damaged");
    let old2 = dir2.join("state.jsonl");
    let mut lines: Vec<&str> = OLD_FILE.lines().collect();
    lines.insert(1, "{\"ProductPut\":garbage}");
    std::fs::write(&old2, lines.join("\n") + "\n").expect("old file");
    let damaged = PaperlinkMock::builder()
        .start_time(written)
        .data_file(&path2)
        .import_jsonl(&old2);
    let message = refused(&damaged);
    assert!(message.contains("line 2"), "{message}");
    let mut torn = OLD_FILE.as_bytes().to_vec();
    torn.extend_from_slice("{\"ProductPut\":{\"team\":\"caf\u{e9}".as_bytes());
    torn.pop();
    std::fs::write(&old2, &torn).expect("torn file");
    let (core, _) = MockCore::from_builder(&damaged).expect("imported without the torn line");
    assert_eq!(skus(&core, token), ["OLD-1", "OLD-2"]);
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(dir2);
}

/// A product's changes rewrite its one row, whether the create was in the same run, in the
/// same transaction, or before a restart.
#[test]
fn a_changed_product_keeps_one_row_across_restarts() {
    let (dir, path) = data_file("store-rows");
    let builder = PaperlinkMock::builder().seed(19).data_file(&path);
    let patch = |core: &MockCore, token: &str, id: &str, name: &str| {
        let changed = core.handle(&request(
            Method::PATCH,
            &format!("/api/v1/products/{id}"),
            token,
            &format!(r#"{{"name":"{name}"}}"#),
            None,
        ));
        assert_eq!(
            changed.status,
            200,
            "{}",
            String::from_utf8_lossy(&changed.body)
        );
    };
    let (core, seeded) = MockCore::from_builder(&builder).expect("fresh core");
    let token = test_token(&seeded);
    let created = create(&core, &token, "ROW-1", None);
    let id = json(&created)["data"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    patch(&core, &token, &id, "first");
    drop(core);
    let (core, _) = MockCore::from_builder(&builder).expect("restored");
    patch(&core, &token, &id, "second");
    let archived = core.handle(&request(
        Method::DELETE,
        &format!("/api/v1/products/{id}"),
        &token,
        "",
        None,
    ));
    assert_eq!(archived.status, 200);
    drop(core);
    let (core, _) = MockCore::from_builder(&builder).expect("restored");
    let got = core.handle(&request(
        Method::GET,
        &format!("/api/v1/products/{id}"),
        &token,
        "",
        None,
    ));
    assert_eq!(json(&got)["data"]["name"], "second");
    assert_eq!(json(&got)["data"]["status"], "archived");
    drop(core);
    let reader = rusqlite::Connection::open(&path).expect("reader");
    let rows: i64 = reader
        .query_row(
            "SELECT count(*) FROM products WHERE id = ?1",
            [&id],
            |row| row.get(0),
        )
        .expect("count");
    assert_eq!(rows, 1);
    let _ = std::fs::remove_dir_all(dir);
}

/// Members and roles are kept: a restart finds them, ownership transfers included; a reset
/// returns each team to its first Owner; a data file of schema 1 (before members) gains the
/// table on open and keeps everything else.
#[test]
fn members_survive_a_restart_and_schema_one_files_gain_them() {
    let (dir, path) = data_file("store-members");
    let builder = PaperlinkMock::builder().seed(5).data_file(&path);
    let admin = |core: &MockCore, method: Method, path: &str, body: &str| {
        let response = core.handle(&request(method, path, "", body, None));
        (response.status, json(&response))
    };
    {
        let (core, _) = MockCore::from_builder(&builder).expect("fresh core");
        let (status, _) = admin(
            &core,
            Method::POST,
            "/__admin/teams/default/members",
            r#"{"name":"ana","role":"ADMIN"}"#,
        );
        assert_eq!(status, 201);
        let (status, _) = admin(
            &core,
            Method::PATCH,
            "/__admin/teams/default/members/ana",
            r#"{"role":"OWNER"}"#,
        );
        assert_eq!(status, 200);
    }
    let roles = |core: &MockCore| -> Vec<(String, String)> {
        let (_, body) = admin(core, Method::GET, "/__admin/teams/default/members", "");
        body["data"]
            .as_array()
            .expect("members")
            .iter()
            .map(|m| {
                (
                    m["name"].as_str().unwrap_or_default().to_owned(),
                    m["role"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    };
    let expected = vec![
        ("ana".to_owned(), "OWNER".to_owned()),
        ("owner".to_owned(), "ADMIN".to_owned()),
    ];
    {
        let (core, _) = MockCore::from_builder(&builder).expect("restored core");
        assert_eq!(roles(&core), expected, "kept across a restart");
    }
    // The same file as schema 1 wrote it: no members table, no checksums, version 1.
    {
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.execute_batch(&format!("{SCHEMA_2} DROP TABLE members;"))
            .expect("downgrade");
        conn.execute_batch("PRAGMA user_version = 1;")
            .expect("downgrade");
    }
    {
        let (core, _) = MockCore::from_builder(&builder).expect("a schema-1 file opens");
        assert_eq!(
            roles(&core),
            [("owner".to_owned(), "OWNER".to_owned())],
            "every team starts with its first Owner"
        );
        let (status, _) = admin(&core, Method::POST, "/__admin/reset", "");
        assert_eq!(status, 200);
    }
    let version: i32 = rusqlite::Connection::open(&path)
        .expect("open")
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .expect("version");
    assert_eq!(version, crate::persist::schema::SCHEMA_VERSION);
    let _ = std::fs::remove_dir_all(dir);
}
