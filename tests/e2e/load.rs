//! The load-with-faults run at reduced size: 64 SDK clients create products through the
//! standalone mock while it injects 503s, 429s and dropped connections on about 10% of the
//! creates. Afterwards every product exists exactly once. (The full 10,000-product run is in
//! BENCHMARKS.md.)

use paperlink_mock::PaperlinkMock;
use paperlink_mock::standalone::Server;
use paperlink_tests::{create_under_faults, inject_create_faults, install_tls};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_clients_under_faults_create_each_product_exactly_once() {
    install_tls();
    let builder = PaperlinkMock::builder().no_rate_limit();
    let mock = Server::bind(builder, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
        .spawn();
    inject_create_faults(&mock, 0.10).unwrap();
    let report = create_under_faults(&mock, 64, 640).await.unwrap();
    assert_eq!((report.stored, report.distinct), (640, 640), "{report:?}");
    let journal = mock
        .core()
        .handle(&paperlink_mock::engine::MockRequest::new(
            reqwest::Method::GET,
            "/__admin/requests",
        ));
    let text = String::from_utf8_lossy(&journal.body);
    assert!(
        text.contains(r#""status":503"#) && text.contains(r#""status":429"#),
        "faults were injected"
    );
}
