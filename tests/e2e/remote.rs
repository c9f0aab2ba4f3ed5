//! The binary's control plane from Rust (`paperlink_mock::remote`), against a standalone mock
//! on a real socket: every call, and a sleeper that moves the sandbox's clock for the SDK.

use std::time::Duration;

use paperlink_mock::remote::{ControlPlane, RemoteError};
use paperlink_mock::standalone::{Running, Server};
use paperlink_mock::{Fault, KeyMode, KeyScope, RateLimitPolicy, SeedProduct, TeamRole};
use paperlink_sdk::{ListProducts, RetryConfig};
use secrecy::SecretString;

use crate::helpers::{builder, configured_for, install_tls};

async fn sandbox(builder: paperlink_mock::PaperlinkMockBuilder) -> (Running, ControlPlane) {
    install_tls();
    let running = Server::bind(builder, "127.0.0.1:0".parse().expect("an address"))
        .await
        .expect("binds")
        .spawn();
    let control = ControlPlane::new(&format!("http://{}/__admin", running.local_addr()))
        .expect("a plain http root");
    (running, control)
}

#[tokio::test]
async fn every_control_plane_call_is_a_typed_method() {
    let (running, control) = sandbox(builder()).await;
    let key = control
        .create_key("suite-7", "CI", KeyMode::Test, KeyScope::ReadWrite)
        .await
        .expect("created");
    assert_eq!(
        (key.info.team.as_str(), key.info.created_by.as_str()),
        ("suite-7", "owner")
    );
    let ana = control
        .add_member("suite-7", "ana", TeamRole::Admin)
        .await
        .expect("added");
    assert_eq!(ana.role, TeamRole::Admin);
    let by_ana = control
        .create_key_as("suite-7", "ana", "CD", KeyMode::Live, KeyScope::ReadOnly)
        .await
        .expect("created by an Admin");
    assert_eq!(by_ana.info.created_by, "ana");
    let keys = control.keys(Some("suite-7")).await.expect("listed");
    assert_eq!(keys.len(), 2);
    assert_eq!(control.keys(None).await.expect("listed").len(), 6);
    let revoked = control
        .revoke_key(by_ana.info.id, Some("ana"))
        .await
        .expect("revoked");
    assert_eq!(revoked.revoked_by.as_deref(), Some("ana"));
    control
        .set_member_role("suite-7", "ana", TeamRole::Owner)
        .await
        .expect("ownership moved");
    let members = control.members("suite-7").await.expect("listed");
    assert_eq!(members[0].name, "ana");
    let removed = control
        .remove_member("suite-7", "owner")
        .await
        .expect("removed");
    assert_eq!(removed.role, TeamRole::Admin);

    let before = control.now().await.expect("the clock");
    let after = control
        .advance_clock(Duration::from_secs(90))
        .await
        .expect("moved");
    assert_eq!((after - before).whole_seconds(), 90);

    let fault = control
        .inject(&Fault::fail_next("GET", "/products", 1, 503, None))
        .await
        .expect("injected");
    assert_eq!(fault.path, "/api/v1/products");
    assert_eq!(control.faults().await.expect("listed").len(), 1);
    control.clear_faults().await.expect("cleared");
    assert!(control.faults().await.expect("listed").is_empty());

    let seeded = control
        .insert_product(
            "suite-7",
            KeyMode::Test,
            &SeedProduct::new("Seeded", rust_decimal::Decimal::new(999, 2), "EUR"),
        )
        .await
        .expect("inserted");
    let products = control
        .products("suite-7", KeyMode::Test)
        .await
        .expect("listed");
    assert_eq!(
        products.iter().map(|p| p.id).collect::<Vec<_>>(),
        [seeded.id]
    );

    let client = configured_for(running.base_url(), key.token.clone(), |b| b);
    client
        .products()
        .list(ListProducts::new())
        .await
        .expect("listed");
    let journal = control.journal().await.expect("read");
    let line = journal.last().expect("a line");
    assert_eq!(
        (line.key_id, line.team.as_deref()),
        (Some(key.info.id), Some("suite-7"))
    );

    control.reset().await.expect("reset");
    assert_eq!(control.keys(None).await.expect("listed").len(), 4);
    // A refusal is typed, with its code.
    let refused = control.members("suite-7").await.map(|m| m.len());
    assert_eq!(refused.ok(), Some(1));
    let unknown = control.remove_member("suite-7", "nobody").await;
    assert!(
        matches!(&unknown, Err(RemoteError::Refused { status: 404, code, .. }) if code == "member_not_found"),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn the_sleeper_moves_the_binarys_clock_so_a_retry_after_costs_no_time() {
    let limited = builder().rate_limit(RateLimitPolicy::new(1, Duration::from_secs(60)));
    let (running, control) = sandbox(limited).await;
    let token = running
        .token(KeyMode::Test, KeyScope::ReadOnly)
        .expect("a seeded key");
    let client = configured_for(running.base_url(), token, |b| {
        b.retry(RetryConfig::default())
            .sleep_with(control.sleeper())
    });
    let before = control.now().await.expect("the clock");
    let started = std::time::Instant::now();
    client
        .products()
        .list(ListProducts::new())
        .await
        .expect("first");
    client
        .products()
        .list(ListProducts::new())
        .await
        .expect("a 429, retried after 60 s of the sandbox's time");
    let moved = control.now().await.expect("the clock") - before;
    assert!(moved.whole_seconds() >= 60, "{moved}");
    assert!(started.elapsed() < Duration::from_secs(20), "no real wait");
    let statuses: Vec<u16> = control
        .journal()
        .await
        .expect("read")
        .iter()
        .filter(|l| l.path == "/api/v1/products")
        .map(|l| l.status)
        .collect();
    assert_eq!(statuses, [200, 429, 200]);
}

#[tokio::test]
async fn an_admin_token_is_sent_and_a_wrong_address_is_refused() {
    let (_running, control) = sandbox(builder().admin_token("a-long-enough-admin-token")).await;
    let refused = control.now().await;
    assert!(
        matches!(&refused, Err(RemoteError::Refused { status: 401, .. })),
        "{refused:?}"
    );
    let signed = control.admin_token(SecretString::from("a-long-enough-admin-token"));
    assert!(signed.now().await.is_ok());
    assert!(
        !format!("{signed:?}").contains("a-long-enough"),
        "never in Debug"
    );
    for address in [
        "https://127.0.0.1:1",
        "127.0.0.1:1",
        "http://user@host:1",
        "http://",
    ] {
        assert!(
            matches!(ControlPlane::new(address), Err(RemoteError::Address(_))),
            "{address}"
        );
    }
}
