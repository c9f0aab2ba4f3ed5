//! The disk edge of the `paperlink-mock` binary, over real processes and real files: a lost or
//! damaged `-wal`, the main file alone, the safe copy, a start that cannot bind, rows changed
//! on disk, an interrupted import, a data path that is not a file, a file-size limit, and
//! SIGTERM while a write waits for SQLite's lock.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::*;

#[test]
fn a_wal_lost_or_damaged_after_kill_nine_is_refused_by_name_and_never_replaced_by_a_fresh_state() {
    let dir = scratch("lost-wal");
    let data = dir.join("state.sqlite");
    let (served, token) = first_start(&data);
    let acknowledged = create_many(&served.base, &token, "P", 50);
    assert_eq!(acknowledged.len(), 50);
    served.kill();
    let main = std::fs::read(&data).unwrap();
    let wal = std::fs::read(side(&data, "-wal")).unwrap_or_default();

    // What a CI cache or a careless copy keeps: the main file alone.
    let only_main = dir.join("only-main");
    std::fs::create_dir_all(&only_main).unwrap();
    std::fs::write(only_main.join("state.sqlite"), &main).unwrap();
    let mut refusals = usize::from(refused_or_whole(
        &only_main.join("state.sqlite"),
        &token,
        &acknowledged,
        &["-wal"],
    ));

    // The -wal cut to nothing.
    let emptied = dir.join("emptied");
    std::fs::create_dir_all(&emptied).unwrap();
    std::fs::write(emptied.join("state.sqlite"), &main).unwrap();
    std::fs::write(emptied.join("state.sqlite-wal"), b"").unwrap();
    refusals += usize::from(refused_or_whole(
        &emptied.join("state.sqlite"),
        &token,
        &acknowledged,
        &["-wal"],
    ));

    // One bit flipped in the third frame of the -wal (when it has one) and, separately, in
    // its header.
    let page_size = 4096;
    if wal.len() >= frame_offset(page_size, 4) {
        for (name, at) in [
            ("frame3", frame_offset(page_size, 2) + 24 + 100),
            ("header", 20),
        ] {
            let flipped = dir.join(name);
            std::fs::create_dir_all(&flipped).unwrap();
            let mut bytes = wal.clone();
            bytes[at] ^= 0x04;
            std::fs::write(flipped.join("state.sqlite"), &main).unwrap();
            std::fs::write(flipped.join("state.sqlite-wal"), &bytes).unwrap();
            refusals += usize::from(refused_or_whole(
                &flipped.join("state.sqlite"),
                &token,
                &acknowledged,
                &["-wal"],
            ));
        }
    }
    eprintln!("refused {refusals} damaged copies; the others held every write");

    // The files as the kill left them: everything is there.
    assert!(!refused_or_whole(&data, &token, &acknowledged, &[]));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_idle_server_checkpoints_so_that_its_main_file_alone_holds_every_acknowledged_write() {
    let dir = scratch("idle");
    let data = dir.join("state.sqlite");
    let (served, token) = first_start(&data);
    let acknowledged = create_many(&served.base, &token, "I", 50);
    assert_eq!(acknowledged.len(), 50);
    // Once the server has been idle a moment, its -wal is folded into the main file.
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::metadata(side(&data, "-wal")).map_or(0, |m| m.len()) > 0 {
        assert!(
            Instant::now() < deadline,
            "the -wal was not checkpointed while the server was idle"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    served.kill();
    let copy = dir.join("copy");
    std::fs::create_dir_all(&copy).unwrap();
    std::fs::copy(&data, copy.join("state.sqlite")).unwrap();
    let restored = serving(&[
        "--port",
        "0",
        "--data",
        copy.join("state.sqlite").to_str().unwrap(),
    ]);
    assert!(
        restored.lines[3].starts_with("state restored from"),
        "{:?}",
        restored.lines
    );
    assert_eq!(all_skus(&restored.base, &token), acknowledged);
    restored.kill();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn deleting_or_truncating_the_wal_of_a_running_server_loses_no_write_silently() {
    for (trial, tamper) in ["delete", "truncate"].into_iter().enumerate() {
        let dir = scratch(&format!("tamper-{trial}"));
        let data = dir.join("state.sqlite");
        let (served, token) = first_start(&data);
        let mut acknowledged = create_many(&served.base, &token, "A", 40);
        assert_eq!(acknowledged.len(), 40);
        let wal = side(&data, "-wal");
        match tamper {
            "delete" => {
                let _ = std::fs::remove_file(&wal);
            }
            _ => {
                let _ = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&wal)
                    .and_then(|f| f.set_len(0));
            }
        }
        acknowledged.extend(create_many(&served.base, &token, "B", 40));
        served.kill();
        let refused = refused_or_whole(&data, &token, &acknowledged, &["-wal"]);
        eprintln!(
            "{tamper}: {} acknowledged, refused: {refused}",
            acknowledged.len()
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn a_backup_of_a_server_under_writes_opens_as_a_data_file_with_every_write_acknowledged_before_it()
{
    let dir = scratch("backup");
    let data = dir.join("state.sqlite");
    let (served, token) = first_start(&data);
    let before = create_many(&served.base, &token, "PRE", 30);
    assert_eq!(before.len(), 30);
    // Writes go on while the copy is taken.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (base, token, stop) = (served.base.clone(), token.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                assert_eq!(create(&base, &token, &format!("DURING-{i:05}")).0, 201);
                i += 1;
            }
            i
        })
    };
    let copy = dir.join("copy.sqlite");
    let backup = Command::new(BIN)
        .args([
            "backup",
            "--data",
            data.to_str().unwrap(),
            "--to",
            copy.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        backup.status.success(),
        "{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    // A second backup to the same place is refused, and the copy is left alone.
    let copied = std::fs::read(&copy).unwrap();
    let again = Command::new(BIN)
        .args([
            "backup",
            "--data",
            data.to_str().unwrap(),
            "--to",
            copy.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains(copy.to_str().unwrap()),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::read(&copy).unwrap(), copied);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let during = writer.join().unwrap();
    assert!(during > 0, "writes went on during the copy");
    served.kill();

    // The copy alone (no side files) starts a second server with everything acknowledged
    // before the backup began.
    let restored = serving(&["--port", "0", "--data", copy.to_str().unwrap()]);
    assert!(
        restored.lines[3].starts_with("state restored from"),
        "{:?}",
        restored.lines
    );
    let skus = all_skus(&restored.base, &token);
    for sku in &before {
        assert!(
            skus.contains(sku),
            "{sku} was acknowledged before the backup"
        );
    }
    assert_eq!(create(&restored.base, &token, "AFTER-RESTORE").0, 201);
    restored.kill();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_start_that_cannot_bind_leaves_no_data_file_behind() {
    let dir = scratch("busy");
    let data = dir.join("new.sqlite");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    match start(&["--port", &port, "--data", data.to_str().unwrap()], None) {
        Started::Exited(status, said) => {
            assert!(!status.success());
            assert!(said.contains("could not bind"), "{said}");
        }
        Started::Serving(served) => {
            served.kill();
            panic!("served on a busy port");
        }
    }
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    drop(busy);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_product_row_changed_on_disk_stops_the_server_naming_its_table_and_row() {
    let dir = scratch("flip");
    let data = dir.join("state.sqlite");
    let (mut served, token) = first_start(&data);
    assert_eq!(create(&served.base, &token, "FLIP-ME").0, 201);
    terminate(&mut served.child);
    assert_eq!(
        std::fs::metadata(side(&data, "-wal")).map_or(0, |m| m.len()),
        0,
        "a clean stop leaves the state in the main file"
    );
    // EUR becomes EWR: the row still parses, and SQLite's own checks pass.
    let mut bytes = std::fs::read(&data).unwrap();
    let needle = br#""currency":"EUR""#;
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the product's row");
    bytes[at + 13] = b'W';
    std::fs::write(&data, &bytes).unwrap();
    match start(&["--port", "0", "--data", data.to_str().unwrap()], None) {
        Started::Exited(status, said) => {
            assert!(!status.success());
            assert!(said.contains(data.to_str().unwrap()), "{said}");
            assert!(
                said.contains("`products`") && said.contains("checksum"),
                "{said}"
            );
        }
        Started::Serving(served) => {
            served.kill();
            panic!("a changed row was served");
        }
    }
    assert_eq!(std::fs::read(&data).unwrap(), bytes, "never rewritten");
    let _ = std::fs::remove_dir_all(dir);
}

/// A JSON-lines file of paperlink-mock 0.1 with `products` products (slow to import).
fn big_jsonl(path: &Path, products: usize) {
    let old = include_str!("../data/v0.1-state.jsonl");
    let seed = old.lines().next().unwrap();
    let mut text = String::with_capacity(products * 400);
    text.push_str(seed);
    text.push('\n');
    for i in 0..products {
        text.push_str(&format!(
            r#"{{"ProductPut":{{"team":"default","mode":"test","product":{{"id":"{:08x}-0000-4000-8000-000000000000","name":"BULK-{i}","unitPrice":1.00,"currency":"USD","description":null,"sku":"BULK-{i:07}","taxRate":null,"type":"SERVICES","unitOfMeasure":"unit","status":"active","createdAt":"2026-11-29T21:08:35.421Z","updatedAt":"2026-11-29T21:08:35.421Z"}}}}}}"#,
            i
        ));
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_kill_during_an_import_leaves_a_file_that_refuses_a_plain_start_and_takes_the_import_again() {
    let dir = scratch("import");
    let old = dir.join("old.jsonl");
    big_jsonl(&old, 100_000);
    let data = dir.join("state.sqlite");
    let args = [
        "--port",
        "0",
        "--data",
        data.to_str().unwrap(),
        "--import-jsonl",
        old.to_str().unwrap(),
    ];
    let mut importing = Command::new(BIN)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it in the middle of the import: once the data file has its tables (more than
    // its first page) and its -wal is folded into it, while the old file is being read.
    let deadline = Instant::now() + Duration::from_secs(30);
    let wal = side(&data, "-wal");
    while std::fs::metadata(&data).map_or(0, |m| m.len()) <= 4096
        || std::fs::metadata(&wal).map_or(0, |m| m.len()) > 0
    {
        assert!(Instant::now() < deadline, "the import never started");
        assert!(
            importing.try_wait().unwrap().is_none(),
            "the import ended first"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    importing.kill().unwrap();
    importing.wait().unwrap();

    // A plain start does not pass an unfinished import off as a fresh sandbox.
    match start(&["--port", "0", "--data", data.to_str().unwrap()], None) {
        Started::Exited(status, said) => {
            assert!(!status.success());
            assert!(said.contains(data.to_str().unwrap()), "{said}");
            assert!(said.contains("--import-jsonl"), "{said}");
        }
        Started::Serving(served) => {
            let lines = served.lines.clone();
            served.kill();
            panic!("a plain start served a half-imported file: {lines:?}");
        }
    }
    // The import, run again, completes.
    match start(&args, None) {
        Started::Serving(served) => {
            assert!(
                served.lines[3].starts_with("state imported from"),
                "{:?}",
                served.lines
            );
            served.kill();
        }
        Started::Exited(status, said) => panic!("{status:?}: {said}"),
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[cfg(unix)]
#[test]
fn a_data_path_that_is_a_fifo_is_refused_at_once() {
    let dir = scratch("fifo");
    let fifo = dir.join("state.sqlite");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let mut child = Command::new(BIN)
        .args(["--port", "0", "--data", fifo.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_bounded(&mut child, Duration::from_secs(20));
    let mut said = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut said)
        .unwrap();
    assert!(!status.success());
    assert!(said.contains(fifo.to_str().unwrap()), "{said}");
    assert!(said.contains("not a regular file"), "{said}");
    let _ = std::fs::remove_dir_all(dir);
}

/// `ulimit -f` without `trap '' XFSZ`: the server itself must not die of SIGXFSZ.
#[cfg(target_os = "linux")]
#[test]
fn a_file_size_limit_answers_503_and_the_server_goes_on() {
    let dir = scratch("xfsz");
    let data = dir.join("state.sqlite");
    let mut command = Command::new("bash");
    command.args([
        "-c",
        "ulimit -f 300; exec \"$0\" \"$@\"",
        BIN,
        "--port",
        "0",
        "--no-rate-limit",
        "--data",
        data.to_str().unwrap(),
    ]);
    let mut served = match start_command(command, None) {
        Started::Serving(served) => served,
        Started::Exited(status, said) => panic!("{status:?}: {said}"),
    };
    let token = served.token().unwrap();
    let mut acknowledged = Vec::new();
    loop {
        let sku = format!("X-{:04}", acknowledged.len());
        match create(&served.base, &token, &sku).0 {
            201 => acknowledged.push(sku),
            503 => break,
            other => panic!("{sku}: {other} (alive: {:?})", served.child.try_wait()),
        }
        assert!(acknowledged.len() < 5_000, "the file-size limit never bit");
    }
    assert!(served.child.try_wait().unwrap().is_none(), "still running");
    assert_eq!(
        all_skus(&served.base, &token),
        acknowledged,
        "still serving"
    );
    served.kill();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn sigterm_while_a_write_waits_for_the_lock_exits_by_its_deadline_with_every_log_line() {
    let dir = scratch("locked");
    let data = dir.join("state.sqlite");
    let log = dir.join("server.log");
    let served = match start(
        &[
            "--port",
            "0",
            "--shutdown-timeout",
            "3",
            "--data",
            data.to_str().unwrap(),
        ],
        Some(&log),
    ) {
        Started::Serving(served) => served,
        Started::Exited(status, said) => panic!("{status:?}: {said}"),
    };
    let Served {
        mut child,
        base,
        lines,
    } = served;
    let token = lines
        .iter()
        .filter_map(|l| l.split_whitespace().last())
        .find(|t| t.starts_with("pk_test_"))
        .unwrap()
        .to_owned();
    // Another program holds SQLite's write lock.
    let outside = rusqlite::Connection::open(&data).unwrap();
    outside.execute_batch("BEGIN IMMEDIATE;").unwrap();
    let waiting = {
        let (base, token) = (base.clone(), token.clone());
        std::thread::spawn(move || create(&base, &token, "WAITS"))
    };
    // The create is in the journal once it waits for its commit.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let journal = block_on(async {
            reqwest::get(format!(
                "{}/__admin/requests",
                base.trim_end_matches("/api/v1")
            ))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
        });
        if journal.contains("\"POST\"") {
            break;
        }
        assert!(Instant::now() < deadline, "the create never arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
    let signalled = Instant::now();
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = wait_bounded(&mut child, Duration::from_secs(30));
    let took = signalled.elapsed();
    assert!(took < Duration::from_millis(4_500), "exited after {took:?}");
    assert!(status.success(), "{status:?}");
    let _ = waiting.join();
    // stderr is written to the file once the pipe closes.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !log.exists() {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(10));
    }
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(!logged.contains("Unable to write"), "{logged}");
    assert!(logged.contains("could not write the data file"), "{logged}");
    assert!(logged.contains("stopped"), "{logged}");
    outside.execute_batch("ROLLBACK;").unwrap();
    drop(outside);
    let _ = std::fs::remove_dir_all(dir);
}
