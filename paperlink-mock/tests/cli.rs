//! The `paperlink-mock` binary: starts, prints its base URL and keys, answers, and stops on
//! SIGTERM. (Here rather than in the `paperlink-tests` package because Cargo only tells a
//! package's own tests where its binaries are.)
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn the_binary_starts_answers_and_stops_on_sigterm() {
    let seed =
        std::env::temp_dir().join(format!("paperlink-mock-seed-{}.json", std::process::id()));
    std::fs::write(&seed, r#"[{"name":"Seeded","unitPrice":120.10,"currency":"USD","sku":"S-1"},{"name":"Live one","unitPrice":1,"currency":"EUR","mode":"live"}]"#).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_paperlink-mock"))
        .args(["--port", "0", "--rng-seed", "3", "--seed"])
        .arg(&seed)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..7 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        lines.push(line.trim().to_owned());
    }
    let base = lines[0]
        .strip_prefix("paperlink-mock listening on ")
        .unwrap()
        .to_owned();
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with("/api/v1"),
        "{lines:?}"
    );
    let tokens: Vec<String> = lines[3..]
        .iter()
        .map(|l| l.split_whitespace().last().unwrap().to_owned())
        .collect();
    assert!(
        tokens
            .iter()
            .all(|t| t.starts_with("pk_live_") || t.starts_with("pk_test_")),
        "{lines:?}"
    );
    let test_rw = tokens
        .iter()
        .find(|t| t.starts_with("pk_test_"))
        .unwrap()
        .clone();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body = runtime.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let reply = reqwest::Client::new()
            .get(format!("{base}/products"))
            .bearer_auth(&test_rw)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
        reply.text().await.unwrap()
    });
    assert!(
        body.contains(r#""unitPrice":120.10"#) && !body.contains("Live one"),
        "{body}"
    );

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not stop on SIGTERM"
        );
        std::thread::yield_now();
    };
    assert!(status.success(), "{status:?}");
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(
        logs.contains("/api/v1/products") && logs.contains(&test_rw[..11]),
        "{logs}"
    );
    assert!(
        !logs.contains(&test_rw),
        "request logs show the key prefix only"
    );
    let _ = std::fs::remove_file(seed);
}
