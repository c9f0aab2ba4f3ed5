//! A target for each test (paperlink-mock's standalone server on 127.0.0.1:0), its control
//! plane, and a run of the real `paperlink-drift` binary with every wait bounded.

use std::net::SocketAddr;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use paperlink_mock::standalone::{Running, Server};
use paperlink_mock::{KeyMode, KeyScope, PaperlinkMockBuilder};
use secrecy::ExposeSecret;
use serde_json::Value;

/// The longest a run of the binary may take in a test.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// The marker every product the drift check creates carries in its name.
pub const MARKER: &str = "[paperlink-drift ";

/// A standalone mock serving as the target, with its Test keys.
pub struct Target {
    pub running: Running,
    pub read_only: String,
    pub read_write: String,
}

impl Target {
    /// A fresh mock with its defaults (rate limit included).
    pub async fn start() -> Self {
        paperlink_sdk::install_crypto_provider();
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let server = Server::bind(PaperlinkMockBuilder::new(), loopback)
            .await
            .expect("a mock on a free loopback port");
        let running = server.spawn();
        let token = |scope| {
            running
                .token(KeyMode::Test, scope)
                .expect("a seeded key")
                .expose_secret()
                .to_owned()
        };
        let (read_only, read_write) = (token(KeyScope::ReadOnly), token(KeyScope::ReadWrite));
        Self {
            running,
            read_only,
            read_write,
        }
    }

    /// `http://127.0.0.1:PORT/api/v1`.
    pub fn base_url(&self) -> String {
        self.running.base_url().to_owned()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn root(&self) -> String {
        format!("http://{}", self.running.local_addr())
    }

    /// Both tokens, which no output may contain.
    pub fn tokens(&self) -> Vec<String> {
        vec![self.read_only.clone(), self.read_write.clone()]
    }

    /// A control-plane call (a body is sent as JSON); the `data` of the answer.
    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request =
            reqwest::Client::new().request(method, format!("{}/__admin{path}", self.root()));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let answer = request.send().await.expect("the control plane answers");
        assert!(answer.status().is_success(), "{path}: {}", answer.status());
        let text = answer.text().await.expect("a body");
        let body: Value = serde_json::from_str(&text).expect("JSON");
        body["data"].clone()
    }

    /// Seeds a Test product.
    pub async fn seed(&self, product: Value) {
        self.admin(reqwest::Method::POST, "/products", Some(product))
            .await;
    }

    /// Every Test product: (name, status).
    pub async fn products(&self) -> Vec<(String, String)> {
        let listed = self
            .admin(reqwest::Method::GET, "/products?mode=test", None)
            .await;
        listed
            .as_array()
            .expect("a list")
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().expect("a name").to_owned(),
                    p["status"].as_str().expect("a status").to_owned(),
                )
            })
            .collect()
    }

    /// The products the drift check created.
    pub async fn created(&self) -> Vec<(String, String)> {
        let mut created = self.products().await;
        created.retain(|(name, _)| name.starts_with(MARKER));
        created
    }

    /// The API requests the mock received: (method, path, status).
    pub async fn api_requests(&self) -> Vec<(String, String, u64)> {
        let journal = self.admin(reqwest::Method::GET, "/requests", None).await;
        journal
            .as_array()
            .expect("a list")
            .iter()
            .filter(|r| r["path"].as_str().is_some_and(|p| p.starts_with("/api/v1")))
            .map(|r| {
                (
                    r["method"].as_str().unwrap_or_default().to_owned(),
                    r["path"].as_str().unwrap_or_default().to_owned(),
                    r["status"].as_u64().unwrap_or_default(),
                )
            })
            .collect()
    }
}

/// What a run of the binary gave.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Run {
    /// stdout as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The checks reported different, with their decisions.
    pub fn differences(&self) -> Vec<(String, Option<String>)> {
        let json = self.json();
        let mut found: Vec<_> = json["differences"]
            .as_array()
            .expect("a list of differences")
            .iter()
            .map(|d| {
                (
                    d["check"].as_str().expect("a check").to_owned(),
                    d["decision"].as_str().map(str::to_owned),
                )
            })
            .collect();
        found.sort();
        found
    }
}

/// Starts `paperlink-drift` with `args` (no key from the environment).
pub fn spawn(args: &[&str]) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_paperlink-drift"))
        .args(args)
        .env_remove("PAPERLINK_DRIFT_KEY")
        .env_remove("PAPERLINK_DRIFT_WRITE_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts")
}

/// Waits for a run to end; fails the test if it takes too long, panics, or prints any of
/// `secrets`.
pub async fn finish(child: tokio::process::Child, started: Instant, secrets: &[String]) -> Run {
    let output: Output = tokio::time::timeout(RUN_LIMIT, child.wait_with_output())
        .await
        .expect("the run ends in time")
        .expect("its output");
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        took: started.elapsed(),
    };
    assert!(!run.stderr.contains("panicked"), "a panic:\n{}", run.stderr);
    for secret in secrets {
        let rest = secret.get(8..).unwrap_or(secret);
        assert!(
            !run.stdout.contains(rest) && !run.stderr.contains(rest),
            "a token was printed:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
    run
}

/// Runs `paperlink-drift` with `args` to its end (see [`finish`]).
pub async fn drift(args: &[&str], secrets: &[String]) -> Run {
    let started = Instant::now();
    finish(spawn(args), started, secrets).await
}
