//! The `paperlink-mock` binary: starts, prints its base URL and keys, answers, logs, and stops
//! on SIGTERM; a second server on the same file; a network-wide control plane; kill -9 and a
//! full disk under load.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use crate::helpers::*;

#[test]
fn the_binary_starts_answers_and_stops_on_sigterm() {
    let seed =
        std::env::temp_dir().join(format!("paperlink-mock-seed-{}.json", std::process::id()));
    std::fs::write(&seed, r#"[{"name":"Seeded","unitPrice":120.10,"currency":"USD","sku":"S-1"},{"name":"Live one","unitPrice":1,"currency":"EUR","mode":"live"}]"#).unwrap();
    let seed_arg = seed.to_str().unwrap().to_owned();
    let (mut child, base, lines) = spawn(
        &["--port", "0", "--rng-seed", "3", "--seed", &seed_arg],
        Some("trace"),
    );
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with("/api/v1"),
        "{lines:?}"
    );
    let tokens: Vec<String> = lines[4..]
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

    let body = block_on(async {
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

    let status = terminate(&mut child);
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

#[test]
fn a_log_line_keeps_at_most_a_cut_path_however_long_the_request_path() {
    let (mut child, base, _) = spawn(&["--port", "0"], Some("info"));
    let long = "x".repeat(60_000);
    let statuses: Vec<u16> = (0..20)
        .map(|_| status_of(&format!("{base}/products/{long}")))
        .collect();
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 404),
        "{statuses:?}"
    );
    assert!(terminate(&mut child).success());
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    let request_lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("/products/xxx"))
        .collect();
    assert_eq!(request_lines.len(), 20, "one log line per request");
    let longest = request_lines
        .iter()
        .map(|l| l.len())
        .max()
        .unwrap_or_default();
    assert!(longest < 2_048, "a log line of {longest} bytes");
    assert!(request_lines[0].contains("[cut]"), "{}", request_lines[0]);
}

#[test]
fn a_closed_stdout_does_not_stop_the_server() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_paperlink-mock"))
        .args(["--port", "0"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Nobody reads the banner: printing it fails with a broken pipe.
    drop(child.stdout.take());
    let mut logs = BufReader::new(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    let base = loop {
        let mut line = String::new();
        assert!(
            logs.read_line(&mut line).unwrap() > 0,
            "the server ended: {seen:?}"
        );
        if let Some((_, url)) = line.split_once("url=") {
            break url.split_whitespace().next().unwrap().to_owned();
        }
        seen.push(line);
    };
    assert_eq!(status_of(&format!("{base}/openapi.json")), 200);
    let status = terminate(&mut child);
    assert!(status.success(), "{status:?}");
    let mut rest = String::new();
    logs.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("could not print the banner"), "{rest}");
}

#[test]
fn kill_dash_nine_mid_load_loses_no_acknowledged_write() {
    use std::sync::{Arc, Mutex};

    let dir = std::env::temp_dir().join(format!("paperlink-mock-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("state.sqlite");
    let data_arg = data.to_str().unwrap().to_owned();
    let (mut first, base, lines) = spawn(
        &[
            "--port",
            "0",
            "--no-rate-limit",
            "--rng-seed",
            "5",
            "--data",
            &data_arg,
        ],
        None,
    );
    let token = lines[4..]
        .iter()
        .map(|l| l.split_whitespace().last().unwrap().to_owned())
        .find(|t| t.starts_with("pk_test_"))
        .unwrap();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    paperlink_sdk::install_crypto_provider();
    let http = reqwest::Client::new();
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let enough = Arc::new(tokio::sync::Notify::new());
    runtime.block_on(async {
        let tasks: Vec<_> = (0..16)
            .map(|task| {
                let (http, base, token, acknowledged, enough) = (
                    http.clone(),
                    base.clone(),
                    token.clone(),
                    acknowledged.clone(),
                    enough.clone(),
                );
                tokio::spawn(async move {
                    for i in 0..10_000 {
                        let key = format!("load-{task}-{i}");
                        let body = format!(
                            r#"{{"name":"{key}","unitPrice":1.50,"currency":"EUR","sku":"{key}"}}"#
                        );
                        let sent = http
                            .post(format!("{base}/products"))
                            .bearer_auth(&token)
                            .header("content-type", "application/json")
                            .header("idempotency-key", &key)
                            .body(body)
                            .send()
                            .await;
                        let Ok(reply) = sent else { return };
                        if reply.status() != 201 {
                            return;
                        }
                        let Ok(text) = reply.text().await else { return };
                        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
                        let id = value["data"]["id"].as_str().unwrap().to_owned();
                        let mut done = acknowledged.lock().unwrap();
                        done.push((key, id));
                        if done.len() == 300 {
                            enough.notify_one();
                        }
                    }
                })
            })
            .collect();
        // Let some writes land, then kill the server mid-load without warning.
        enough.notified().await;
        first.kill().unwrap();
        first.wait().unwrap();
        for task in tasks {
            task.await.unwrap();
        }
    });
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 300);

    let (mut second, base, lines) = spawn(
        &["--port", "0", "--no-rate-limit", "--data", &data_arg],
        None,
    );
    assert!(lines[3].starts_with("state restored from"), "{lines:?}");
    let (stored, replay) = runtime.block_on(async {
        let mut stored = std::collections::HashMap::new();
        let mut after = String::new();
        loop {
            let url = format!("{base}/products?status=all&limit=100{after}");
            let page: serde_json::Value = serde_json::from_str(
                &http
                    .get(url)
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap(),
            )
            .unwrap();
            for p in page["data"]["data"].as_array().unwrap() {
                stored.insert(
                    p["id"].as_str().unwrap().to_owned(),
                    p["sku"].as_str().unwrap().to_owned(),
                );
            }
            match page["data"]["nextCursor"].as_str() {
                Some(cursor) => after = format!("&after={cursor}"),
                None => break,
            }
        }
        let (key, _) = &acknowledged[0];
        let replay = http
            .post(format!("{base}/products"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(format!(
                r#"{{"name":"{key}","unitPrice":1.50,"currency":"EUR","sku":"{key}"}}"#
            ))
            .send()
            .await
            .unwrap();
        let replayed = replay
            .headers()
            .get("idempotent-replayed")
            .map(|v| v.to_str().unwrap().to_owned());
        let body: serde_json::Value = serde_json::from_str(&replay.text().await.unwrap()).unwrap();
        (
            stored,
            (replayed, body["data"]["id"].as_str().unwrap().to_owned()),
        )
    });
    for (key, id) in &acknowledged {
        assert_eq!(
            stored.get(id),
            Some(key),
            "acknowledged write {key} was lost"
        );
    }
    let skus: std::collections::HashSet<_> = stored.values().collect();
    assert_eq!(skus.len(), stored.len(), "nothing is duplicated");
    assert_eq!(
        replay,
        (Some("true".to_owned()), acknowledged[0].1.clone()),
        "idempotency records survive"
    );
    for file in ["state.sqlite", "state.sqlite-wal"] {
        let bytes = std::fs::read(dir.join(file)).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&token[8..]),
            "the data file holds hashes only"
        );
    }
    second.kill().unwrap();
    second.wait().unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_second_server_on_the_same_data_file_refuses_at_once_and_the_first_loses_nothing() {
    let dir = scratch("second");
    let data = dir.join("state.sqlite");
    let data_arg = data.to_str().unwrap().to_owned();
    let (mut first, base, lines) = spawn(&["--port", "0", "--data", &data_arg], None);
    let token = test_token(&lines);
    assert_eq!(create(&base, &token, "BEFORE"), (201, false));

    // On the same port, the second cannot bind, and so never opens the file; on another
    // port it binds, then finds the file locked.
    let port = base.rsplit(':').next().unwrap().trim_end_matches("/api/v1");
    let before = std::fs::read(&data).unwrap();
    for (port, refusal) in [
        (port, "could not bind"),
        ("0", "in use by another paperlink-mock"),
    ] {
        let second = Command::new(env!("CARGO_BIN_EXE_paperlink-mock"))
            .args(["--port", port, "--data", &data_arg])
            .output()
            .unwrap();
        assert!(!second.status.success());
        let said = String::from_utf8_lossy(&second.stderr);
        assert!(said.contains(refusal), "{said}");
        if port == "0" {
            assert!(said.contains(&data_arg), "{said}");
        }
    }
    assert_eq!(
        std::fs::read(&data).unwrap(),
        before,
        "the second server changed nothing"
    );

    assert_eq!(create(&base, &token, "AFTER"), (201, false));
    assert!(terminate(&mut first).success());
    let (mut restarted, base, _) = spawn(&["--port", "0", "--data", &data_arg], None);
    assert_eq!(all_skus(&base, &token), ["AFTER", "BEFORE"]);
    assert!(terminate(&mut restarted).success());
    let _ = std::fs::remove_dir_all(dir);
}

/// A file-size limit (`ulimit -f`) makes the disk "full" for the server, which ignores
/// SIGXFSZ itself: writes fail with EFBIG, as they would with ENOSPC.
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_refuses_writes_shows_no_phantom_and_a_retry_after_restart_creates_once() {
    let dir = scratch("full");
    let data = dir.join("state.sqlite");
    let data_arg = data.to_str().unwrap().to_owned();
    let mut command = Command::new("bash");
    command.args([
        "-c",
        "ulimit -f 160; exec \"$0\" \"$@\"",
        env!("CARGO_BIN_EXE_paperlink-mock"),
        "--port",
        "0",
        "--no-rate-limit",
        "--data",
        &data_arg,
    ]);
    let (mut limited, base, lines) = spawn_command(command, None);
    let token = test_token(&lines);
    let mut acknowledged = Vec::new();
    let refused = loop {
        let key = format!("FULL-{:04}", acknowledged.len());
        match create(&base, &token, &key) {
            (201, false) => acknowledged.push(key),
            (503, _) => break key,
            other => panic!("{key}: {other:?}"),
        }
        assert!(acknowledged.len() < 5_000, "the file-size limit never bit");
    };
    assert!(!acknowledged.is_empty());
    // No phantom: the refused product is not listed, and its SKU is not taken.
    let listed = all_skus(&base, &token);
    assert_eq!(listed, acknowledged, "only acknowledged writes are visible");
    // Refused again while the -wal is full; once the server has folded its -wal into the
    // main file (after a moment without writes) there may be room again, and the retry then
    // creates the product. Either way it is never answered from a phantom record.
    let retried = create(&base, &token, &refused);
    assert!(matches!(retried, (503, _) | (201, false)), "{retried:?}");
    let created_before_restart = retried.0 == 201;
    if created_before_restart {
        acknowledged.push(refused.clone());
    }
    first_kill(&mut limited);

    let (mut restarted, base, _) = spawn(
        &["--port", "0", "--no-rate-limit", "--data", &data_arg],
        None,
    );
    assert_eq!(
        all_skus(&base, &token),
        acknowledged,
        "nothing lost, nothing invented"
    );
    assert_eq!(
        create(&base, &token, &refused),
        (201, created_before_restart),
        "the retry creates the product (or replays it, if it was created before the restart)"
    );
    assert_eq!(
        create(&base, &token, &refused),
        (201, true),
        "and a second retry replays it"
    );
    let mut expected = acknowledged.clone();
    if !created_before_restart {
        expected.push(refused);
    }
    expected.sort();
    assert_eq!(all_skus(&base, &token), expected, "created once");
    assert!(terminate(&mut restarted).success());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_network_wide_control_plane_needs_a_token_or_an_explicit_opt_in() {
    let refused = Command::new(env!("CARGO_BIN_EXE_paperlink-mock"))
        .args(["--host", "0.0.0.0", "--port", "0"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("--admin-token"), "{said}");
    assert!(said.contains("--unprotected-control-plane"), "{said}");
    // The same with the opt-in starts (on loopback here: the test binds nothing wider).
    let (mut child, _, _) = spawn(&["--port", "0", "--unprotected-control-plane"], None);
    assert!(terminate(&mut child).success());
    for args in [
        &["--rate-window", "999999999999"][..],
        &["--revocation-delay", "99999999999"],
        &["--header-timeout", "0"],
        &["--max-connections", "0"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_paperlink-mock"))
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("is not in"),
            "{args:?}"
        );
    }
}

#[test]
fn sigterm_stops_the_server_by_its_deadline_while_clients_hold_half_sent_requests() {
    use std::io::Write;

    let (mut child, base, _) = spawn(
        &[
            "--port",
            "0",
            "--header-timeout",
            "3600",
            "--body-timeout",
            "3600",
            "--shutdown-timeout",
            "1",
        ],
        None,
    );
    let addr = base
        .trim_start_matches("http://")
        .trim_end_matches("/api/v1")
        .to_owned();
    let mut half = std::net::TcpStream::connect(&addr).unwrap();
    half.write_all(b"GET /api/v1/openapi.json HTTP/1.1\r\nhos")
        .unwrap();
    let mut chunked = std::net::TcpStream::connect(&addr).unwrap();
    chunked
        .write_all(b"POST /api/v1/products HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{\"nam\r\n")
        .unwrap();
    // Both connections are the server's before it is told to stop.
    assert_eq!(status_of(&format!("{base}/openapi.json")), 200);
    let status = terminate(&mut child);
    assert!(status.success(), "{status:?}");
    drop((half, chunked));
}
