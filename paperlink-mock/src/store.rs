//! Durable state for the standalone server (`--data PATH`): an append-only log of JSON lines.
//! Every change a request makes is written before the state's lock is released and fsynced
//! before its response is sent, so a `kill -9` at any moment loses no acknowledged write. The
//! fsync runs outside the state's lock and serves every writer waiting on it (see [`Store`]).
//! On start the log is replayed and then rewritten as one compact snapshot.
//!
//! What is kept: keys (token hashes only), products, idempotency records, clock advances and
//! resets. What is not: rate-limit windows, the request journal, injected faults, and
//! `lastUsedAt` updates from reads (keeping those would cost an fsync per read).

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::{KeyMode, KeyRecord, Keyring};
use crate::config::MockError;
use crate::state::{Catalogs, IdempotencyScope, IdempotentResponse, State};
use crate::wire::ProductRecord;

/// A product with its tenant.
type Placed = (String, KeyMode, ProductRecord);

/// One line of the log.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Event {
    /// What `reset` returns to.
    Seed {
        keys: Vec<KeyRecord>,
        products: Vec<Placed>,
    },
    /// The whole state.
    Snapshot {
        keys: Vec<KeyRecord>,
        products: Vec<Placed>,
        #[serde(with = "crate::stored::digest::pairs")]
        idempotency: Vec<(IdempotencyScope, IdempotentResponse)>,
        advanced_ms: u64,
    },
    KeyPut(KeyRecord),
    ProductPut {
        team: String,
        mode: KeyMode,
        product: ProductRecord,
    },
    Idempotency {
        #[serde(with = "crate::stored::digest")]
        scope: IdempotencyScope,
        response: IdempotentResponse,
    },
    ClockAdvanced {
        ms: u64,
    },
    Reset,
}

fn placed(catalogs: &Catalogs) -> Vec<Placed> {
    let mut all: Vec<Placed> = catalogs
        .iter()
        .flat_map(|((team, mode), catalog)| {
            catalog
                .snapshot()
                .into_iter()
                .map(move |p| (team.clone(), *mode, p))
        })
        .collect();
    all.sort_by(|a, b| (&a.0, a.1, a.2.id).cmp(&(&b.0, b.1, b.2.id)));
    all
}

fn keyring(records: Vec<KeyRecord>) -> Keyring {
    let mut ring = Keyring::default();
    for record in records {
        ring.insert(record);
    }
    ring
}

fn catalogs(products: Vec<Placed>) -> Catalogs {
    let mut all = Catalogs::default();
    for (team, mode, product) in products {
        all.entry((team, mode)).or_default().insert(product);
    }
    all
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl State {
    /// The state as two log lines.
    fn snapshot(&self) -> Vec<Event> {
        let mut events = Vec::with_capacity(2);
        if let Some((keys, products)) = &self.seeded {
            events.push(Event::Seed {
                keys: keys.records().cloned().collect(),
                products: placed(products),
            });
        }
        events.push(Event::Snapshot {
            keys: self.keys.records().cloned().collect(),
            products: placed(&self.catalogs),
            idempotency: self
                .idempotency
                .iter()
                .map(|(k, v)| (*k, IdempotentResponse::clone(v)))
                .collect(),
            advanced_ms: millis(self.clock.advanced()),
        });
        events
    }

    /// Replays one log line.
    fn apply(&mut self, event: Event) {
        match event {
            Event::Seed { keys, products } => {
                self.seeded = Some((keyring(keys), catalogs(products)))
            }
            Event::Snapshot {
                keys,
                products,
                idempotency,
                advanced_ms,
            } => {
                self.keys = keyring(keys);
                self.catalogs = catalogs(products);
                self.clear_traffic();
                for (scope, response) in idempotency {
                    self.remember(scope, response);
                }
                let missing =
                    Duration::from_millis(advanced_ms).saturating_sub(self.clock.advanced());
                self.clock.advance(missing);
            }
            Event::KeyPut(record) => self.keys.insert(record),
            Event::ProductPut {
                team,
                mode,
                product,
            } => {
                self.catalog(&team, mode).insert(product);
            }
            Event::Idempotency { scope, response } => self.remember(scope, response),
            Event::ClockAdvanced { ms } => self.clock.advance(Duration::from_millis(ms)),
            Event::Reset => self.reset(),
        }
    }
}

/// The open log.
///
/// Lines are written in the order the state changed (the caller holds the state's lock), but
/// a request waits for its fsync after the state's lock is released: reads never wait for the
/// disk, and one fsync covers every line written before it began, however many writers wait
/// on it (group commit). So a line reaches the file (the kernel's page cache) before anyone
/// can see its change, and reaches the disk before its writer is answered: a `kill -9` loses
/// nothing another request could have seen, and a power cut loses nothing acknowledged.
pub(crate) struct Store {
    log: Mutex<Log>,
    /// A second handle on the file, so that an fsync holds neither the log's lock nor the
    /// synced mark's.
    sync_file: File,
    synced: Mutex<Synced>,
    /// Wakes the requests that wait while another one runs the fsync.
    sync_done: Condvar,
    /// A write or an fsync failed: the file may now end in part of a line, or have lost
    /// lines the kernel could not write back, and anything appended after that would make it
    /// unreadable. Nothing more is written, and no write is acknowledged, until a restart
    /// (which drops a torn last line).
    failed: AtomicBool,
    /// Tests: called before each fsync.
    #[cfg(test)]
    pub(crate) before_sync: Mutex<Option<Box<dyn FnMut() + Send>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("log", &self.log)
            .field("sync_file", &self.sync_file)
            .field("synced", &self.synced)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct Log {
    file: File,
    /// Bytes appended since the file was opened.
    written: u64,
}

#[derive(Debug)]
struct Synced {
    /// Bytes known to be on disk.
    through: u64,
    /// A request is running an fsync; the others wait for it.
    running: bool,
}

fn file_error(path: &Path, message: impl std::fmt::Display) -> MockError {
    MockError::File {
        what: path.display().to_string(),
        message: message.to_string(),
    }
}

impl Store {
    /// Replays `path` into `state` when it holds state, rewrites it as one snapshot, and opens
    /// it for appending. `None` when there is no file or it is empty.
    pub(crate) fn restore(path: &Path, state: &mut State) -> Result<Option<Self>, MockError> {
        let restored = match File::open(path) {
            Ok(file) => replay(path, file, state)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(e) => return Err(file_error(path, e)),
        };
        if restored {
            Self::create(path, state).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Writes `state` to `path` as a snapshot and opens it for appending.
    pub(crate) fn create(path: &Path, state: &State) -> Result<Self, MockError> {
        write_snapshot(path, &state.snapshot()).map_err(|e| file_error(path, e))?;
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| file_error(path, e))?;
        let sync_file = file.try_clone().map_err(|e| file_error(path, e))?;
        Ok(Self {
            log: Mutex::new(Log { file, written: 0 }),
            sync_file,
            synced: Mutex::new(Synced {
                through: 0,
                running: false,
            }),
            sync_done: Condvar::new(),
            failed: AtomicBool::new(false),
            #[cfg(test)]
            before_sync: Mutex::new(None),
        })
    }

    /// Appends events (none, to check that writes are still possible) without waiting for
    /// the disk. Returns how far the file must be durable for them to be: pass it to
    /// [`Store::wait_durable`].
    pub(crate) fn append(&self, events: &[Event]) -> io::Result<u64> {
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        self.check()?;
        if events.is_empty() {
            return Ok(log.written);
        }
        let mut buffer = Vec::with_capacity(512 * events.len());
        for event in events {
            serde_json::to_writer(&mut buffer, event)?;
            buffer.push(b'\n');
        }
        if let Err(error) = log.file.write_all(&buffer) {
            return Err(self.fail(error));
        }
        log.written += buffer.len() as u64;
        Ok(log.written)
    }

    /// Waits until the first `through` bytes appended are on disk. The first request to find
    /// them unsynced runs an fsync for everything appended so far; requests that come while
    /// it runs wait for it, then the first of them runs the next one.
    pub(crate) fn wait_durable(&self, through: u64) -> io::Result<()> {
        let mut synced = self.synced.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            // Lines an fsync has covered stay durable even if a later fsync fails.
            if synced.through >= through {
                return Ok(());
            }
            self.check()?;
            if synced.running {
                synced = self
                    .sync_done
                    .wait(synced)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            synced.running = true;
            drop(synced);
            // Every byte counted here was written before the fsync starts, so it covers them.
            let target = self
                .log
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .written;
            #[cfg(test)]
            if let Some(hook) = self
                .before_sync
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_mut()
            {
                hook();
            }
            let result = self.sync_file.sync_data();
            synced = self.synced.lock().unwrap_or_else(PoisonError::into_inner);
            synced.running = false;
            // The failure is marked before anyone wakes: after a failed fsync the kernel may
            // report the next one as a success although the lines were lost.
            let outcome = match result {
                Ok(()) => {
                    synced.through = synced.through.max(target);
                    Ok(())
                }
                Err(error) => Err(self.fail(error)),
            };
            self.sync_done.notify_all();
            outcome?;
        }
    }

    fn check(&self) -> io::Result<()> {
        if self.failed.load(Ordering::Acquire) {
            Err(io::Error::other(
                "an earlier write to the data file failed; restart the server",
            ))
        } else {
            Ok(())
        }
    }

    /// Marks the file as failed (logged once) and passes the error on.
    fn fail(&self, error: io::Error) -> io::Error {
        if !self.failed.swap(true, Ordering::AcqRel) {
            tracing::error!(
                %error,
                "could not write the data file; writes are refused until a restart"
            );
        }
        error
    }

    /// Swaps the open file for another (tests: a file whose writes fail); returns the old one.
    #[cfg(all(test, target_os = "linux"))]
    pub(crate) fn replace_file(&mut self, file: File) -> io::Result<File> {
        self.sync_file = file.try_clone()?;
        let log = self.log.get_mut().unwrap_or_else(PoisonError::into_inner);
        Ok(std::mem::replace(&mut log.file, file))
    }
}

/// Applies every complete line. A last line cut short by a crash was never acknowledged and is
/// dropped; a bad line before it means the file is damaged, and the server refuses to start.
fn replay(path: &Path, file: File, state: &mut State) -> Result<bool, MockError> {
    let lines: Vec<String> = BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()
        .map_err(|e| file_error(path, e))?;
    let count = lines.len();
    let mut applied = false;
    let mut history = Sha256::new();
    for (index, line) in lines.into_iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Event>(&line) {
            Ok(event) => {
                history.update(line.as_bytes());
                state.apply(event);
                applied = true;
            }
            Err(_) if index + 1 == count => break,
            Err(e) => {
                return Err(file_error(
                    path,
                    format!("line {} is damaged: {e}", index + 1),
                ));
            }
        }
    }
    // With a fixed seed the generator would start over and draw the ids and tokens it drew
    // before the restart. Mixing in what the file holds gives each history its own sequence,
    // still reproducible from the seed and the file.
    let digest = history.finalize();
    let mut salt = [0; 8];
    salt.copy_from_slice(&digest[..8]);
    state.rng = fastrand::Rng::with_seed(state.rng.u64(..) ^ u64::from_le_bytes(salt));
    Ok(applied)
}

/// Writes the snapshot beside the file, syncs it, and renames it over the file.
fn write_snapshot(path: &Path, events: &[Event]) -> io::Result<()> {
    let mut temporary = PathBuf::from(path);
    temporary.as_mut_os_string().push(".tmp");
    {
        let mut file = File::create(&temporary)?;
        for event in events {
            serde_json::to_writer(&mut file, event)?;
            file.write_all(b"\n")?;
        }
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use http::Method;

    use crate::PaperlinkMock;
    use crate::auth::{KeyMode, KeyScope};
    use crate::config::{SeededKey, find_seeded};
    use crate::core::{MockCore, MockRequest, MockResponse};
    use secrecy::ExposeSecret;

    fn request(
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
    fn data_file(test: &str) -> (std::path::PathBuf, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("paperlink-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("state.jsonl");
        let _ = std::fs::remove_file(&path);
        (dir, path)
    }

    /// The token of the seeded Test Read & Write key.
    fn test_token(seeded: &[SeededKey]) -> String {
        find_seeded(seeded, KeyMode::Test, KeyScope::ReadWrite)
            .expect("key")
            .token
            .expose_secret()
            .to_owned()
    }

    /// Creates a key through the control plane: its token and id.
    fn new_key(core: &MockCore, mode: &str, scope: &str) -> (String, String) {
        let body = format!(r#"{{"name":"n","mode":"{mode}","scope":"{scope}"}}"#);
        let key = core.handle(&request(Method::POST, "/__admin/keys", "", &body, None));
        assert_eq!(key.status, 201);
        let data = &json(&key)["data"];
        (
            data["token"].as_str().expect("token").to_owned(),
            data["id"].as_str().expect("id").to_owned(),
        )
    }

    fn json(response: &MockResponse) -> serde_json::Value {
        serde_json::from_slice(&response.body).expect("json")
    }

    #[test]
    fn a_restart_resumes_keys_products_idempotency_and_the_clock() {
        let (dir, path) = data_file("store");
        let builder = PaperlinkMock::builder().seed(1).data_file(&path);

        let (core, seeded) = MockCore::from_builder(&builder).expect("fresh core");
        let token = test_token(&seeded);
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
        drop(core);

        let file = std::fs::read_to_string(&path).expect("data file");
        assert!(
            !file.contains(&token[8..]) && !file.contains(&new_token[8..]),
            "only hashes are stored"
        );

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
        drop(core);

        // A torn last line (a crash mid-write) was never acknowledged and is dropped.
        let mut torn = std::fs::read_to_string(&path).expect("data file");
        torn.push_str(r#"{"ProductPut":{"team":"default","#);
        std::fs::write(&path, &torn).expect("write");
        assert!(MockCore::from_builder(&builder).is_ok());
        // Damage before the end is refused.
        let damaged = format!(
            "garbage\n{}",
            std::fs::read_to_string(&path).expect("data file")
        );
        std::fs::write(&path, damaged).expect("write");
        let err = MockCore::from_builder(&builder).expect_err("damaged");
        assert!(err.to_string().contains("line 1"), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_restart_with_the_same_rng_seed_does_not_reuse_ids_or_tokens() {
        let (dir, path) = data_file("store-seed");
        let builder = PaperlinkMock::builder().seed(7).data_file(&path);
        let create = |core: &MockCore, token: &str, name: &str| {
            let body =
                format!(r#"{{"name":"{name}","unitPrice":1.00,"currency":"USD","sku":"{name}"}}"#);
            let created = core.handle(&request(
                Method::POST,
                "/api/v1/products",
                token,
                &body,
                None,
            ));
            assert_eq!(
                created.status,
                201,
                "{}",
                String::from_utf8_lossy(&created.body)
            );
            json(&created)["data"]["id"]
                .as_str()
                .expect("id")
                .to_owned()
        };
        let (core, seeded) = MockCore::from_builder(&builder).expect("fresh core");
        let token = test_token(&seeded);
        let first = create(&core, &token, "first");
        let (first_token, first_key) = new_key(&core, "test", "READ_WRITE");
        drop(core);

        let (core, _) = MockCore::from_builder(&builder).expect("restored core");
        let second = create(&core, &token, "second");
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
        let listed = core.handle(&request(Method::GET, "/api/v1/products", &token, "", None));
        let listed = json(&listed);
        assert_eq!(
            listed["data"]["data"].as_array().map(Vec::len),
            Some(2),
            "{listed}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Puts `failing` in place of the data file, then checks that no write is acknowledged
    /// (not even a replay) until a restart, that reads go on, that the journal shows the
    /// 503s, and that after the restart the refused write was never made durable.
    #[cfg(target_os = "linux")]
    fn refused_until_a_restart(test: &str, failing: std::fs::File) {
        let (dir, path) = data_file(test);
        let builder = PaperlinkMock::builder().seed(3).data_file(&path);
        let body = r#"{"name":"Late","unitPrice":1.00,"currency":"USD","sku":"L-1"}"#;
        let create = |core: &MockCore, token: &str| {
            core.handle(&request(
                Method::POST,
                "/api/v1/products",
                token,
                body,
                Some("late"),
            ))
        };

        let (mut core, seeded) = MockCore::from_builder(&builder).expect("fresh core");
        let token = test_token(&seeded);
        let healthy = core
            .store_mut()
            .expect("a data file")
            .replace_file(failing)
            .expect("a second handle");
        let refused = create(&core, &token);
        assert_eq!(refused.status, 503);
        assert_eq!(
            json(&refused)["error"]["code"],
            "storage_unavailable",
            "{}",
            String::from_utf8_lossy(&refused.body)
        );
        assert_eq!(
            create(&core, &token).status,
            503,
            "a replay does not acknowledge what is not on disk"
        );
        let list = core.handle(&request(Method::GET, "/api/v1/products", &token, "", None));
        assert_eq!(list.status, 200, "reads go on");
        let journal = core.handle(&request(Method::GET, "/__admin/requests", "", "", None));
        let statuses: Vec<_> = json(&journal)["data"]
            .as_array()
            .expect("journal")
            .iter()
            .map(|r| (r["method"].clone(), r["status"].clone()))
            .collect();
        assert_eq!(
            statuses,
            [("POST", 503), ("POST", 503), ("GET", 200)].map(|(m, s)| (m.into(), s.into())),
            "the journal shows what the client got"
        );
        // The file is healthy again, but may end in part of a line: writes stay refused.
        core.store_mut()
            .expect("a data file")
            .replace_file(healthy)
            .expect("a second handle");
        assert_eq!(create(&core, &token).status, 503);
        let other = core.handle(&request(
            Method::POST,
            "/api/v1/products",
            &token,
            r#"{"name":"Other","unitPrice":1.00,"currency":"USD"}"#,
            None,
        ));
        assert_eq!(other.status, 503);
        drop(core);

        // After a restart the file is whole, and the refused write was never made durable.
        let (core, _) = MockCore::from_builder(&builder).expect("restored core");
        let created = create(&core, &token);
        assert_eq!(
            created.status,
            201,
            "{}",
            String::from_utf8_lossy(&created.body)
        );
        assert_eq!(created.header_value("idempotent-replayed"), None);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// `/dev/full` fails every write with ENOSPC.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_write_that_cannot_be_written_is_never_acknowledged_not_even_by_a_replay() {
        let full = std::fs::OpenOptions::new()
            .append(true)
            .open("/dev/full")
            .expect("/dev/full");
        refused_until_a_restart("store-full", full);
    }

    /// A socket takes the lines, and fails every fsync with EINVAL.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_write_whose_fsync_fails_is_never_acknowledged_not_even_by_a_replay() {
        let (socket, _peer) = std::os::unix::net::UnixStream::pair().expect("socket pair");
        let unsyncable = std::fs::File::from(std::os::fd::OwnedFd::from(socket));
        refused_until_a_restart("store-fsync", unsyncable);
    }

    /// While one create waits for its fsync, reads are answered and two more creates write
    /// their lines; when that fsync ends, one more fsync makes both of theirs durable.
    #[test]
    fn reads_do_not_wait_for_the_disk_and_one_fsync_serves_every_waiting_write() {
        use std::sync::mpsc::{Receiver, channel};
        use std::sync::{Arc, Mutex};
        use std::time::Duration;

        let (dir, path) = data_file("store-group");
        let builder = PaperlinkMock::builder().seed(5).data_file(&path);
        let (core, seeded) = MockCore::from_builder(&builder).expect("fresh core");
        let core = Arc::new(core);
        let token = test_token(&seeded);
        // Each fsync reports itself, then waits until the test lets it run.
        let (syncing, fsyncs) = channel::<()>();
        let (release, released) = channel::<()>();
        let released = Mutex::new(released);
        *core
            .store()
            .expect("a data file")
            .before_sync
            .lock()
            .expect("hook") = Some(Box::new(move || {
            let _ = syncing.send(());
            let _ = released.lock().expect("gate").recv();
        }));
        let create = |sku: &str| {
            let core = Arc::clone(&core);
            let request = request(
                Method::POST,
                "/api/v1/products",
                &token,
                &format!(r#"{{"name":"{sku}","unitPrice":1.00,"currency":"USD","sku":"{sku}"}}"#),
                None,
            );
            std::thread::spawn(move || core.handle(&request).status)
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

        let first = create("G-1");
        wait("the first create's fsync starts", &fsyncs);
        // That fsync holds no lock on the state: a read is answered, and sees the product.
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
            .expect("a read is answered while an fsync runs");
        assert_eq!(list.status, 200);
        assert_eq!(json(&list)["data"]["data"][0]["sku"], "G-1");
        // Two more creates write their lines and wait behind the running fsync.
        let (second, third) = (create("G-2"), create("G-3"));
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !journaled(3) {
            assert!(
                std::time::Instant::now() < deadline,
                "the two creates write their lines while the first fsync runs"
            );
            std::thread::yield_now();
        }
        release.send(()).expect("gate");
        assert_eq!(first.join().expect("first"), 201);
        wait("one more fsync, for the two waiting creates", &fsyncs);
        release.send(()).expect("gate");
        assert_eq!(second.join().expect("second"), 201);
        assert_eq!(third.join().expect("third"), 201);
        assert!(
            fsyncs.try_recv().is_err(),
            "two waiting creates need one fsync, not two"
        );
        drop(core);

        // All three are in the file.
        let (core, _) = MockCore::from_builder(&builder).expect("restored core");
        let list = core.handle(&request(Method::GET, "/api/v1/products", &token, "", None));
        let mut skus: Vec<_> = json(&list)["data"]["data"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|p| p["sku"].as_str().map(str::to_owned))
            .collect();
        skus.sort();
        assert_eq!(skus, ["G-1", "G-2", "G-3"]);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn digests_written_as_byte_values_by_earlier_versions_still_load() {
        use super::Event;
        use crate::state::IdempotentResponse;

        /// Rewrites every 64-hex-digit string as the array of 32 numbers written before.
        fn as_byte_values(value: &mut serde_json::Value) {
            match value {
                serde_json::Value::String(text)
                    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) =>
                {
                    let bytes: Vec<u8> = (0..32)
                        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex"))
                        .collect();
                    *value = serde_json::json!(bytes);
                }
                serde_json::Value::Array(items) => items.iter_mut().for_each(as_byte_values),
                serde_json::Value::Object(fields) => fields.values_mut().for_each(as_byte_values),
                _ => {}
            }
        }

        let response = IdempotentResponse {
            fingerprint: [7; 32],
            status: 201,
            location: None,
            body: bytes::Bytes::from_static(b"{}"),
            expires: time::OffsetDateTime::UNIX_EPOCH,
        };
        let events = [
            Event::Idempotency {
                scope: [9; 32],
                response: response.clone(),
            },
            Event::Snapshot {
                keys: Vec::new(),
                products: Vec::new(),
                idempotency: vec![([9; 32], response)],
                advanced_ms: 0,
            },
        ];
        for event in events {
            let line = serde_json::to_string(&event).expect("serialize");
            assert!(line.contains(&"09".repeat(32)), "{line}");
            assert!(line.contains(&"07".repeat(32)), "{line}");
            let mut old: serde_json::Value = serde_json::from_str(&line).expect("json");
            as_byte_values(&mut old);
            assert!(!old.to_string().contains(&"09".repeat(32)));
            let back: Event = serde_json::from_value(old).expect("earlier form");
            assert_eq!(serde_json::to_string(&back).expect("serialize"), line);
        }
    }
}
