//! What the binary's tests share: starting the `paperlink-mock` binary and reading its banner,
//! stopping it, scratch directories, and a client for its API.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_paperlink-mock");

/// A fresh directory for one test's files.
pub fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("paperlink-disk-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn side(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// A server that is serving: the child, its base URL, and what it printed before serving.
pub struct Served {
    pub child: Child,
    pub base: String,
    pub lines: Vec<String>,
}

impl Served {
    /// The seeded Test Read & Write token, when the banner showed the seeded keys.
    pub fn token(&self) -> Option<String> {
        self.lines
            .iter()
            .filter_map(|l| l.split_whitespace().last())
            .find(|t| t.starts_with("pk_test_"))
            .map(str::to_owned)
    }

    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// How a start ended: serving, or exited (with its status and stderr).
pub enum Started {
    Serving(Served),
    Exited(ExitStatus, String),
}

/// Starts the binary and reads its banner (bounded: a start that neither serves nor exits in
/// 60 s is killed and fails the test). Logs go to `log` when given, else nowhere.
pub fn start(args: &[&str], log: Option<&Path>) -> Started {
    start_command(
        {
            let mut command = Command::new(BIN);
            command.args(args);
            command
        },
        log,
    )
}

pub fn start_command(mut command: Command, log: Option<&Path>) -> Started {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    if log.is_some() {
        command.env("RUST_LOG", "info");
    }
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    // stderr goes to a file (or is drained), so a long run never blocks on a full pipe.
    let log = log.map(Path::to_path_buf);
    let drained = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        if let Some(log) = log {
            std::fs::write(log, &text).unwrap();
        }
        text
    });
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut stdout = BufReader::new(stdout);
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                let _ = lines_tx.send(None);
                return;
            }
            lines.push(line.trim().to_owned());
            let done =
                lines.len() >= 4 && (!lines[3].starts_with("seeded keys") || lines.len() >= 8);
            if done {
                let _ = lines_tx.send(Some(lines));
                // Keep reading (and discarding), so stdout never fills.
                let mut rest = String::new();
                let _ = stdout.read_to_string(&mut rest);
                return;
            }
        }
    });
    match lines_rx.recv_timeout(Duration::from_secs(60)) {
        Ok(Some(lines)) => {
            let base = lines[0]
                .strip_prefix("paperlink-mock listening on ")
                .unwrap()
                .to_owned();
            // stderr keeps draining in the background thread.
            std::mem::forget(drained);
            Started::Serving(Served { child, base, lines })
        }
        Ok(None) => {
            let status = wait_bounded(&mut child, Duration::from_secs(60));
            Started::Exited(status, drained.join().unwrap())
        }
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server neither served nor exited within 60 s");
        }
    }
}

pub fn serving(args: &[&str]) -> Served {
    match start(args, None) {
        Started::Serving(served) => served,
        Started::Exited(status, said) => panic!("{status:?}: {said}"),
    }
}

/// Waits (up to `bound`) for a child to exit.
pub fn wait_bounded(child: &mut Child, bound: Duration) -> ExitStatus {
    let deadline = Instant::now() + bound;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the process did not exit within {bound:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs a client future to its end on a runtime of its own (TLS provider installed).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    paperlink_sdk::install_crypto_provider();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// Creates a product (`sku` as its SKU, name and `Idempotency-Key`): the status (0 when no
/// answer came) and whether the answer was a replay.
pub fn create(base: &str, token: &str, sku: &str) -> (u16, bool) {
    block_on(async {
        let sent = reqwest::Client::new()
            .post(format!("{base}/products"))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .header("idempotency-key", sku)
            .body(format!(
                r#"{{"name":"{sku}","unitPrice":1.00,"currency":"EUR","sku":"{sku}"}}"#
            ))
            .timeout(Duration::from_secs(30))
            .send()
            .await;
        sent.map_or((0, false), |reply| {
            let replayed = reply.headers().contains_key("idempotent-replayed");
            (reply.status().as_u16(), replayed)
        })
    })
}

/// Every SKU in the Test catalog, archived included, sorted.
pub fn all_skus(base: &str, token: &str) -> Vec<String> {
    block_on(async {
        let mut skus = Vec::new();
        let mut after = String::new();
        loop {
            let text = reqwest::Client::new()
                .get(format!("{base}/products?status=all&limit=100{after}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let page: serde_json::Value = serde_json::from_str(&text).unwrap();
            for p in page["data"]["data"].as_array().unwrap() {
                skus.push(p["sku"].as_str().unwrap().to_owned());
            }
            match page["data"]["nextCursor"].as_str() {
                Some(cursor) => after = format!("&after={cursor}"),
                None => break,
            }
        }
        skus.sort();
        skus
    })
}

/// A first start on a new data file: the server and its Test Read & Write token.
pub fn first_start(data: &Path) -> (Served, String) {
    let served = serving(&[
        "--port",
        "0",
        "--no-rate-limit",
        "--data",
        data.to_str().unwrap(),
    ]);
    let token = served.token().expect("a new file shows its seeded keys");
    (served, token)
}

/// Creates `count` products named `{prefix}-NNN`: the SKUs acknowledged (201).
pub fn create_many(base: &str, token: &str, prefix: &str, count: usize) -> Vec<String> {
    let mut acknowledged = Vec::new();
    for i in 0..count {
        let sku = format!("{prefix}-{i:03}");
        if create(base, token, &sku).0 == 201 {
            acknowledged.push(sku);
        }
    }
    acknowledged
}

/// A restart on `data` either refuses, naming the file and saying why, and leaves the files
/// as they were; or serves every acknowledged SKU, as restored state (no new seeded keys).
/// It never serves a fresh or a shorter state.
pub fn refused_or_whole(
    data: &Path,
    token: &str,
    acknowledged: &[String],
    refusal: &[&str],
) -> bool {
    let before = (
        std::fs::read(data).ok(),
        std::fs::read(side(data, "-wal")).ok(),
    );
    match start(
        &[
            "--port",
            "0",
            "--no-rate-limit",
            "--data",
            data.to_str().unwrap(),
        ],
        None,
    ) {
        Started::Exited(status, said) => {
            assert!(!status.success(), "{said}");
            assert!(
                said.contains(data.to_str().unwrap()),
                "names the file: {said}"
            );
            assert!(
                refusal.iter().any(|reason| said.contains(reason)),
                "says why ({refusal:?}): {said}"
            );
            assert!(!said.contains("seeded keys"), "{said}");
            let after = (
                std::fs::read(data).ok(),
                std::fs::read(side(data, "-wal")).ok(),
            );
            assert!(before == after, "a refused start changes nothing");
            true
        }
        Started::Serving(served) => {
            assert!(
                served.lines[3].starts_with("state restored from"),
                "a file that held state is never seeded again: {:?}",
                served.lines
            );
            let mut expected = acknowledged.to_vec();
            expected.sort();
            assert_eq!(
                all_skus(&served.base, token),
                expected,
                "every acknowledged write"
            );
            served.kill();
            false
        }
    }
}

/// The WAL's frames start after its 32-byte header; each is a 24-byte header and a page.
pub fn frame_offset(page_size: usize, index: usize) -> usize {
    32 + index * (24 + page_size)
}

/// Sends SIGTERM and waits (up to 20 s) for the server to stop.
pub fn terminate(child: &mut Child) -> ExitStatus {
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    wait_bounded(child, Duration::from_secs(20))
}

/// The status of a GET.
pub fn status_of(url: &str) -> u16 {
    block_on(async { reqwest::get(url).await.unwrap().status().as_u16() })
}

/// Starts the binary with `args` and returns it with the base URL and the lines it printed
/// before serving. With `log_level`, its logs are kept on a pipe (read them after it exits);
/// without, they are discarded so that a long run never blocks on a full pipe.
pub fn spawn(args: &[&str], log_level: Option<&str>) -> (std::process::Child, String, Vec<String>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_paperlink-mock"));
    command.args(args);
    spawn_command(command, log_level)
}

/// [`spawn`], for a command already set up.
pub fn spawn_command(
    mut command: Command,
    log_level: Option<&str>,
) -> (std::process::Child, String, Vec<String>) {
    command.stdout(Stdio::piped());
    match log_level {
        Some(level) => command.env("RUST_LOG", level).stderr(Stdio::piped()),
        None => command.stderr(Stdio::null()),
    };
    let mut child = command.spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    let mut read = |lines: &mut Vec<String>| {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        lines.push(line.trim().to_owned());
    };
    for _ in 0..4 {
        read(&mut lines);
    }
    assert!(
        lines[2].starts_with("API Keys page: http://127.0.0.1:"),
        "{lines:?}"
    );
    assert!(lines[2].ends_with("/__admin/ui"), "{lines:?}");
    if lines[3].starts_with("seeded keys") {
        for _ in 0..4 {
            read(&mut lines);
        }
    }
    let base = lines[0]
        .strip_prefix("paperlink-mock listening on ")
        .unwrap()
        .to_owned();
    (child, base, lines)
}

/// The seeded Test Read & Write token from the banner.
pub fn test_token(lines: &[String]) -> String {
    lines[4..]
        .iter()
        .map(|l| l.split_whitespace().last().unwrap().to_owned())
        .find(|t| t.starts_with("pk_test_"))
        .unwrap()
}

pub fn first_kill(child: &mut std::process::Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}
