//! Durable state for the standalone server (`--data PATH`): an append-only log of JSON lines.
//! Every change a request makes is written and fsynced before its response is sent, so a
//! `kill -9` at any moment loses no acknowledged write. On start the log is replayed and then
//! rewritten as one compact snapshot.
//!
//! What is kept: keys (token hashes only), products, idempotency records, clock advances and
//! resets. What is not: rate-limit windows, the request journal, injected faults, and
//! `lastUsedAt` updates from reads (keeping those would cost an fsync per read).

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
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
#[derive(Debug)]
pub(crate) struct Store {
    file: File,
    /// A write failed: the file may now end in part of a line, and anything appended after it
    /// would make it unreadable. Nothing more is written, and no write is acknowledged, until
    /// a restart (which drops a torn last line).
    failed: bool,
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
        Ok(Self {
            file,
            failed: false,
        })
    }

    /// Appends events (none, to check that writes are still possible) and waits until they
    /// are on disk.
    pub(crate) fn append(&mut self, events: &[Event]) -> io::Result<()> {
        if self.failed {
            return Err(io::Error::other(
                "an earlier write to the data file failed; restart the server",
            ));
        }
        if events.is_empty() {
            return Ok(());
        }
        let mut buffer = Vec::with_capacity(512 * events.len());
        for event in events {
            serde_json::to_writer(&mut buffer, event)?;
            buffer.push(b'\n');
        }
        let written = self
            .file
            .write_all(&buffer)
            .and_then(|()| self.file.sync_data());
        if let Err(error) = &written {
            self.failed = true;
            tracing::error!(
                %error,
                "could not write the data file; writes are refused until a restart"
            );
        }
        written
    }

    /// Swaps the open file for another (tests: a file whose writes fail).
    #[cfg(all(test, target_os = "linux"))]
    pub(crate) fn replace_file(&mut self, file: File) -> File {
        std::mem::replace(&mut self.file, file)
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

    /// `/dev/full` fails every write with ENOSPC.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_write_that_cannot_be_made_durable_is_never_acknowledged_not_even_by_a_replay() {
        let (dir, path) = data_file("store-full");
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

        let (core, seeded) = MockCore::from_builder(&builder).expect("fresh core");
        let token = test_token(&seeded);
        // The disk is full: the write fails.
        let full = std::fs::OpenOptions::new()
            .append(true)
            .open("/dev/full")
            .expect("/dev/full");
        let healthy = core.replace_store_file(full).expect("a data file");
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
        // Room again, but the file may end in part of a line: writes stay refused.
        core.replace_store_file(healthy);
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
