//! The standalone server against slow, silent and too many clients, over real sockets on
//! loopback. Every wait is bounded; nothing sleeps.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::PaperlinkMock;
use crate::standalone::{Limits, Server};

/// A bound on every wait, so that a failing test fails instead of hanging.
const BOUND: Duration = Duration::from_secs(20);

async fn start(
    limits: Limits,
) -> (
    SocketAddr,
    oneshot::Sender<()>,
    JoinHandle<std::io::Result<()>>,
) {
    let server = Server::bind(
        PaperlinkMock::builder(),
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("bind")
    .limits(limits)
    .expect("limits");
    let addr = server.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(server.serve(async {
        let _ = stopped.await;
    }));
    (addr, stop, running)
}

fn limits(header: u64, body: u64, connections: usize, shutdown: u64) -> Limits {
    Limits {
        header_timeout: Duration::from_millis(header),
        body_timeout: Duration::from_millis(body),
        max_connections: connections,
        shutdown_timeout: Duration::from_millis(shutdown),
        ..Limits::default()
    }
}

/// Reads until the server closes the connection; what it sent.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    tokio::time::timeout(BOUND, stream.read_to_end(&mut seen))
        .await
        .expect("the server closes the connection")
        .ok();
    String::from_utf8_lossy(&seen).into_owned()
}

const GET_SPEC: &[u8] = b"GET /api/v1/openapi.json HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n";

#[tokio::test]
async fn silent_half_sent_and_idle_connections_are_closed_after_the_header_timeout() {
    let (addr, _stop, _running) = start(limits(200, 60_000, 16, 1_000)).await;
    let mut silent = TcpStream::connect(addr).await.expect("connect");
    let mut half = TcpStream::connect(addr).await.expect("connect");
    half.write_all(b"GET /api/v1/openapi.json HTTP/1.1\r\nhost:")
        .await
        .expect("write");
    let mut idle = TcpStream::connect(addr).await.expect("connect");
    idle.write_all(GET_SPEC).await.expect("write");
    assert!(until_closed(&mut silent).await.is_empty());
    let answered = until_closed(&mut idle).await;
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
    let cut = until_closed(&mut half).await;
    assert!(!cut.contains(" 200 "), "{cut}");
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_gets_408() {
    let (addr, _stop, _running) = start(limits(60_000, 200, 16, 1_000)).await;
    for head in [
        "POST /api/v1/products HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"name\"",
        "POST /api/v1/products HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{\"nam\r\n",
    ] {
        let mut slow = TcpStream::connect(addr).await.expect("connect");
        slow.write_all(head.as_bytes()).await.expect("write");
        let answer = until_closed(&mut slow).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("request_timeout"), "{answer}");
    }
}

#[tokio::test]
async fn past_the_cap_a_connection_waits_for_a_slot_and_is_then_served() {
    let (addr, _stop, _running) = start(limits(300, 60_000, 4, 1_000)).await;
    let mut silent = Vec::new();
    for _ in 0..4 {
        silent.push(TcpStream::connect(addr).await.expect("connect"));
    }
    let mut waiting = TcpStream::connect(addr)
        .await
        .expect("the kernel queues it");
    waiting.write_all(GET_SPEC).await.expect("write");
    // Served once the silent ones have been closed for their header timeout.
    let mut head = [0u8; 12];
    tokio::time::timeout(BOUND, waiting.read_exact(&mut head))
        .await
        .expect("served within the bound")
        .expect("read");
    assert_eq!(&head, b"HTTP/1.1 200");
    for mut stream in silent {
        assert!(until_closed(&mut stream).await.is_empty());
    }
}

#[tokio::test]
async fn shutdown_ends_by_its_deadline_whatever_clients_still_hold() {
    let (addr, stop, running) = start(limits(60_000, 60_000, 16, 300)).await;
    let mut half = TcpStream::connect(addr).await.expect("connect");
    half.write_all(b"GET /api/v1/openapi.json HTTP/1.1\r\nhos")
        .await
        .expect("write");
    let mut chunked = TcpStream::connect(addr).await.expect("connect");
    chunked
        .write_all(b"POST /api/v1/products HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{\"nam\r\n")
        .await
        .expect("write");
    // Both are in the server's hands before it is told to stop.
    let mut probe = TcpStream::connect(addr).await.expect("connect");
    probe.write_all(GET_SPEC).await.expect("write");
    let mut head = [0u8; 12];
    tokio::time::timeout(BOUND, probe.read_exact(&mut head))
        .await
        .expect("served")
        .expect("read");
    let _ = stop.send(());
    tokio::time::timeout(BOUND, running)
        .await
        .expect("the server stops by its shutdown deadline")
        .expect("joined")
        .expect("served");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_after_the_write_timeout() {
    let mut limits = limits(60_000, 60_000, 2, 1_000);
    limits.write_timeout = Duration::from_millis(300);
    let (addr, _stop, _running) = start(limits).await;
    // Both slots taken by clients that pipeline requests for a large document and never read
    // an answer: the server's writes stall once the socket buffers are full.
    let mut stuck = Vec::new();
    for _ in 0..2 {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let (_reader, mut writer) = stream.into_split();
        let pipelined = GET_SPEC.repeat(400);
        let writing = tokio::spawn(async move {
            let _ = writer.write_all(&pipelined).await;
            writer
        });
        stuck.push((_reader, writing));
    }
    // A third client is served once the stalled ones are dropped.
    let mut waiting = TcpStream::connect(addr)
        .await
        .expect("the kernel queues it");
    waiting.write_all(GET_SPEC).await.expect("write");
    let mut head = [0u8; 12];
    tokio::time::timeout(BOUND, waiting.read_exact(&mut head))
        .await
        .expect("served within the bound: the stalled clients were dropped")
        .expect("read");
    assert_eq!(&head, b"HTTP/1.1 200");
    drop(stuck);
}
