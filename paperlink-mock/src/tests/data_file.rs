//! The data file: restarts, group commit, refused commits, locking, damaged and foreign files,
//! and the one-time import of the JSON-lines format.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Method;
use secrecy::ExposeSecret;

use crate::PaperlinkMock;
use crate::engine::{MockCore, MockRequest, MockResponse};
use crate::error::MockError;
use crate::model::{KeyMode, KeyScope};
use crate::{NewKey, PaperlinkMockBuilder};

/// The seeded key of this mode and scope.
pub(super) fn seeded_key(
    keys: &[crate::NewKey],
    mode: KeyMode,
    scope: KeyScope,
) -> Option<&crate::NewKey> {
    keys.iter()
        .find(|k| k.info.mode == mode && k.info.scope == scope)
}

pub(super) fn request(
    method: Method,
    path: &str,
    token: &str,
    body: &str,
    idempotency: Option<&str>,
) -> MockRequest {
    let mut r = MockRequest::new(method, path);
    r.headers.insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    r.headers
        .insert("content-type", "application/json".parse().expect("header"));
    if let Some(key) = idempotency {
        r.headers
            .insert("idempotency-key", key.parse().expect("header"));
    }
    r.body = body.as_bytes().to_vec();
    r
}

/// A fresh directory for one test's data file, and the file's path (not created).
pub(crate) fn data_file(test: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("paperlink-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("state.sqlite");
    (dir, path)
}

/// A mock on a new data file of its own, seeded with `seed`: its directory and file, the
/// builder (to open the file again), the core, and the seeded Test Read & Write token.
pub(super) struct Fresh {
    pub(super) dir: PathBuf,
    pub(super) path: PathBuf,
    pub(super) builder: PaperlinkMockBuilder,
    pub(super) core: Arc<MockCore>,
    pub(super) token: String,
}

pub(super) fn fresh(test: &str, seed: u64) -> Fresh {
    let (dir, path) = data_file(test);
    let builder = PaperlinkMock::builder().seed(seed).data_file(&path);
    let (core, seeded) = MockCore::from_builder(&builder).expect("fresh core");
    Fresh {
        dir,
        path,
        builder,
        core: Arc::new(core),
        token: test_token(&seeded),
    }
}

/// The token of the seeded Test Read & Write key.
pub(super) fn test_token(seeded: &[NewKey]) -> String {
    seeded_key(seeded, KeyMode::Test, KeyScope::ReadWrite)
        .expect("key")
        .token
        .expose_secret()
        .to_owned()
}

/// Creates a key through the control plane: its token and id.
pub(super) fn new_key(core: &MockCore, mode: &str, scope: &str) -> (String, String) {
    let body = format!(r#"{{"name":"n","mode":"{mode}","scope":"{scope}"}}"#);
    let key = core.handle(&request(Method::POST, "/__admin/keys", "", &body, None));
    assert_eq!(key.status, 201);
    let data = &json(&key)["data"];
    (
        data["token"].as_str().expect("token").to_owned(),
        data["id"].as_str().expect("id").to_owned(),
    )
}

/// Holds every commit until the test lets it run: hears each commit start on the receiver, and
/// releases one per message on the sender. With `refuse_first`, the first commit then fails
/// as a full disk would make it.
fn gate_commits(core: &MockCore, refuse_first: bool) -> (Receiver<()>, Sender<()>) {
    let (entered, commits) = channel::<()>();
    let (release, released) = channel::<()>();
    let released = Mutex::new(released);
    let mut refuse = refuse_first;
    store_of(core).before_commit(Box::new(move || {
        let _ = entered.send(());
        let _ = released.lock().expect("gate").recv();
        if std::mem::take(&mut refuse) {
            Err("the disk is full (injected)".to_owned())
        } else {
            Ok(())
        }
    }));
    (commits, release)
}

/// The core's data file, to reach its test hooks.
pub(crate) fn store_of(core: &MockCore) -> &crate::persist::Store {
    core.data_file()
        .and_then(|store| store.as_any().downcast_ref::<crate::persist::Store>())
        .expect("a data file")
}

pub(super) fn json(response: &MockResponse) -> serde_json::Value {
    serde_json::from_slice(&response.body).expect("json")
}

pub(super) fn create(
    core: &MockCore,
    token: &str,
    sku: &str,
    idempotency: Option<&str>,
) -> MockResponse {
    let body = format!(r#"{{"name":"{sku}","unitPrice":1.00,"currency":"USD","sku":"{sku}"}}"#);
    core.handle(&request(
        Method::POST,
        "/api/v1/products",
        token,
        &body,
        idempotency,
    ))
}

/// The SKUs a list shows, sorted.
pub(super) fn skus(core: &MockCore, token: &str) -> Vec<String> {
    let mut list = request(Method::GET, "/api/v1/products", token, "", None);
    list.query = Some("limit=100".to_owned());
    let list = core.handle(&list);
    assert_eq!(list.status, 200);
    let mut skus: Vec<String> = json(&list)["data"]["data"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|p| p["sku"].as_str().map(str::to_owned))
        .collect();
    skus.sort();
    skus
}

/// The bytes of the database and its WAL, to show that a refused start changed nothing.
pub(super) fn file_bytes(path: &Path) -> (Vec<u8>, Option<Vec<u8>>) {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    (
        std::fs::read(path).expect("data file"),
        std::fs::read(PathBuf::from(wal)).ok(),
    )
}

pub(super) fn refused(builder: &PaperlinkMockBuilder) -> String {
    match MockCore::from_builder(builder) {
        Ok(_) => panic!("the data file was accepted"),
        Err(error) => {
            assert!(matches!(error, MockError::DataFile { .. }), "{error:?}");
            error.to_string()
        }
    }
}

#[test]
fn a_restart_resumes_keys_products_idempotency_and_the_clock() {
    let Fresh {
        dir,
        path,
        builder,
        core,
        token,
    } = fresh("store", 1);
    let body = r#"{"name":"Kept","unitPrice":120.10,"currency":"USD","sku":"K-1"}"#;
    let created = core.handle(&request(
        Method::POST,
        "/api/v1/products",
        &token,
        body,
        Some("once"),
    ));
    assert_eq!(created.status, 201);
    let (new_token, _) = new_key(&core, "live", "READ_ONLY");
    let advanced = core.handle(&request(
        Method::POST,
        "/__admin/clock/advance",
        "",
        r#"{"seconds":3600}"#,
        None,
    ));
    assert_eq!(advanced.status, 200);
    // Any SQLite tool can read the state, read-only, while the mock runs.
    {
        let reader = rusqlite::Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("a reader");
        let (sku, name): (String, String) = reader
            .query_row(
                "SELECT sku, json_extract(record, '$.name') FROM products",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .expect("the product");
        assert_eq!((sku.as_str(), name.as_str()), ("K-1", "Kept"));
    }
    assert_eq!(
        create(&core, &token, "K-2", None).status,
        201,
        "and it goes on"
    );
    drop(core);

    let (db, wal) = file_bytes(&path);
    for bytes in std::iter::once(&db).chain(wal.as_ref()) {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains(&token[8..]) && !text.contains(&new_token[8..]),
            "only hashes are stored"
        );
    }

    let (core, seeded) = MockCore::from_builder(&builder).expect("restored core");
    assert!(seeded.is_empty(), "no new keys on restart");
    let replay = core.handle(&request(
        Method::POST,
        "/api/v1/products",
        &token,
        body,
        Some("once"),
    ));
    assert_eq!(
        (replay.status, replay.header_value("idempotent-replayed")),
        (201, Some("true")),
        "{}",
        String::from_utf8_lossy(&replay.body)
    );
    assert_eq!(replay.body, created.body);
    let listed = core.handle(&request(Method::GET, "/api/v1/products", &token, "", None));
    assert!(String::from_utf8_lossy(&listed.body).contains(r#""unitPrice":120.10"#));
    assert_eq!(
        core.handle(&request(
            Method::GET,
            "/api/v1/products",
            &new_token,
            "",
            None
        ))
        .status,
        200
    );
    let clock = core.handle(&request(Method::GET, "/__admin/clock", "", "", None));
    let now = json(&clock)["data"]["now"]
        .as_str()
        .expect("now")
        .to_owned();
    let created_at = json(&created)["data"]["createdAt"]
        .as_str()
        .expect("createdAt")
        .to_owned();
    assert!(now > created_at, "{now} vs {created_at}");

    // A reset goes back to the seeded state, durably.
    let reset = core.handle(&request(Method::POST, "/__admin/reset", "", "", None));
    assert_eq!(reset.status, 200);
    drop(core);
    let (core, _) = MockCore::from_builder(&builder).expect("restored core");
    assert!(skus(&core, &token).is_empty());
    assert_eq!(
        core.handle(&request(
            Method::GET,
            "/api/v1/products",
            &new_token,
            "",
            None
        ))
        .status,
        401,
        "a key made after the seed is gone after a reset"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_restart_with_the_same_rng_seed_does_not_reuse_ids_or_tokens() {
    let (dir, path) = data_file("store-seed");
    let builder = PaperlinkMock::builder().seed(7).data_file(&path);
    let id_of = |created: MockResponse| {
        assert_eq!(created.status, 201);
        json(&created)["data"]["id"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let (core, seeded) = MockCore::from_builder(&builder).expect("fresh core");
    let token = test_token(&seeded);
    let first = id_of(create(&core, &token, "first", None));
    let (first_token, first_key) = new_key(&core, "test", "READ_WRITE");
    drop(core);

    let (core, _) = MockCore::from_builder(&builder).expect("restored core");
    let second = id_of(create(&core, &token, "second", None));
    let (second_token, second_key) = new_key(&core, "test", "READ_WRITE");
    assert_ne!(
        first, second,
        "a new product must not take a stored product's id"
    );
    assert_ne!(first_key, second_key);
    assert_ne!(
        first_token, second_token,
        "a new key must not repeat a token"
    );
    assert_eq!(skus(&core, &token), ["first", "second"]);
    let _ = std::fs::remove_dir_all(dir);
}

/// A commit the disk refuses: the write and the write queued behind it get 503, neither is
/// visible afterwards (to reads, to SKU checks, after a restart), the journal shows the 503s,
/// and a retry with the same `Idempotency-Key` creates the product once.
#[test]
fn a_refused_commit_is_undone_and_a_retry_creates_once() {
    let Fresh {
        dir,
        builder,
        core,
        token,
        ..
    } = fresh("store-refused", 3);
    assert_eq!(create(&core, &token, "BEFORE", None).status, 201);

    // The first commit from now on is held, then refused; later ones pass.
    let (commits, release) = gate_commits(&core, true);
    let first = {
        let (core, token) = (Arc::clone(&core), token.clone());
        std::thread::spawn(move || create(&core, &token, "LOST-1", Some("retry-me")))
    };
    commits
        .recv_timeout(Duration::from_secs(20))
        .expect("the first commit starts");
    // Queued behind the refused commit, and made on top of it: refused too.
    let second = {
        let (core, token) = (Arc::clone(&core), token.clone());
        std::thread::spawn(move || {
            let patch = r#"{"name":"changed"}"#;
            let list = core.handle(&request(Method::GET, "/api/v1/products", &token, "", None));
            let id = json(&list)["data"]["data"][0]["id"]
                .as_str()
                .expect("id")
                .to_owned();
            core.handle(&request(
                Method::PATCH,
                &format!("/api/v1/products/{id}"),
                &token,
                patch,
                None,
            ))
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while core
        .lock()
        .journal
        .iter()
        .filter(|e| e.method == Method::PATCH)
        .count()
        == 0
    {
        assert!(std::time::Instant::now() < deadline, "the PATCH is queued");
        std::thread::yield_now();
    }
    release.send(()).expect("gate");
    let first = first.join().expect("first");
    let second = second.join().expect("second");
    assert_eq!(
        (first.status, json(&first)["error"]["code"].as_str()),
        (503, Some("storage_unavailable")),
        "{}",
        String::from_utf8_lossy(&first.body)
    );
    assert_eq!(
        second.status,
        503,
        "{}",
        String::from_utf8_lossy(&second.body)
    );
    assert_eq!(
        skus(&core, &token),
        ["BEFORE"],
        "a refused create is not visible"
    );
    let journal = core.handle(&request(Method::GET, "/__admin/requests", "", "", None));
    let statuses: Vec<_> = json(&journal)["data"]
        .as_array()
        .expect("journal")
        .iter()
        .map(|r| (r["method"].clone(), r["status"].clone()))
        .collect();
    assert!(
        statuses.contains(&("POST".into(), 503.into()))
            && statuses.contains(&("PATCH".into(), 503.into())),
        "the journal shows what the clients got: {statuses:?}"
    );

    // The retry: the SKU is free and the key was not used, so it creates, once.
    let retry = {
        let (core, token) = (Arc::clone(&core), token.clone());
        std::thread::spawn(move || create(&core, &token, "LOST-1", Some("retry-me")))
    };
    commits
        .recv_timeout(Duration::from_secs(20))
        .expect("the retry commits");
    release.send(()).expect("gate");
    let retry = retry.join().expect("retry");
    assert_eq!(
        (retry.status, retry.header_value("idempotent-replayed")),
        (201, None),
        "{}",
        String::from_utf8_lossy(&retry.body)
    );
    drop(core);

    let (core, _) = MockCore::from_builder(&builder).expect("restored core");
    assert_eq!(skus(&core, &token), ["BEFORE", "LOST-1"]);
    let replay = create(&core, &token, "LOST-1", Some("retry-me"));
    assert_eq!(
        (replay.status, replay.header_value("idempotent-replayed")),
        (201, Some("true"))
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// While one create waits for its commit, reads are answered and two more creates queue;
/// when that commit ends, one more transaction commits both.
#[test]
fn reads_do_not_wait_for_the_disk_and_one_commit_serves_every_waiting_write() {
    let Fresh {
        dir,
        builder,
        core,
        token,
        ..
    } = fresh("store-group", 5);
    // Each commit reports itself, then waits until the test lets it run.
    let (commits, release) = gate_commits(&core, false);
    let spawn_create = |sku: &'static str| {
        let (core, token) = (Arc::clone(&core), token.clone());
        std::thread::spawn(move || create(&core, &token, sku, None).status)
    };
    // A failing test must not hang: every wait is bounded.
    let wait = |what: &str, events: &Receiver<()>| {
        events
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("{what}"));
    };
    // Read from the state itself: a request to the journal would add to it.
    let journaled = |n: usize| {
        core.lock()
            .journal
            .iter()
            .filter(|e| e.method == Method::POST)
            .count()
            >= n
    };

    let first = spawn_create("G-1");
    wait("the first create's commit starts", &commits);
    // That commit holds no lock on the state: a read is answered, and sees the product.
    let (answered, read) = channel();
    {
        let core = Arc::clone(&core);
        let request = request(Method::GET, "/api/v1/products", &token, "", None);
        std::thread::spawn(move || {
            let _ = answered.send(core.handle(&request));
        });
    }
    let list = read
        .recv_timeout(Duration::from_secs(20))
        .expect("a read is answered while a commit runs");
    assert_eq!(list.status, 200);
    assert_eq!(json(&list)["data"]["data"][0]["sku"], "G-1");
    // Two more creates queue behind the running commit.
    let (second, third) = (spawn_create("G-2"), spawn_create("G-3"));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !journaled(3) {
        assert!(
            std::time::Instant::now() < deadline,
            "the two creates queue while the first commit runs"
        );
        std::thread::yield_now();
    }
    release.send(()).expect("gate");
    assert_eq!(first.join().expect("first"), 201);
    wait("one more commit, for the two waiting creates", &commits);
    release.send(()).expect("gate");
    assert_eq!(second.join().expect("second"), 201);
    assert_eq!(third.join().expect("third"), 201);
    assert!(
        commits.try_recv().is_err(),
        "two waiting creates need one commit, not two"
    );
    drop(core);

    let (core, _) = MockCore::from_builder(&builder).expect("restored core");
    assert_eq!(skus(&core, &token), ["G-1", "G-2", "G-3"]);
    let _ = std::fs::remove_dir_all(dir);
}
