//! Rules of the control plane that keep a sandbox usable: a clock that cannot be frozen at the
//! end of time and comes back with a reset, faults with real statuses, seeding that never
//! replaces a product by accident, and lists that come in pages.

use paperlink_mock::bounds::{CLOCK_END, MAX_PERIOD};
use paperlink_mock::{Fault, KeyMode, MockError, SeedProduct};
use serde_json::Value;

use crate::helpers::{Http, both_doors, builder, mock};

fn millis(answer: &Value) -> time::OffsetDateTime {
    let text = answer["data"]["now"].as_str().expect("a time");
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339")
}

both_doors! {
    async fn the_clock_cannot_be_moved_within_the_longest_period_of_its_end(door) {
        let m = Http::start(door, builder()).await;
        let now = millis(&m.admin("GET", "/clock", None).await.json());
        let latest = CLOCK_END - time::Duration::try_from(MAX_PERIOD).expect("a period");
        let room = (latest - now).whole_seconds();
        let too_far = m
            .admin("POST", "/clock/advance", Some(&format!(r#"{{"seconds":{}}}"#, room + 1)))
            .await;
        assert_eq!(too_far.status, 400, "{}", too_far.text);
        assert_eq!(too_far.json()["error"]["details"][0]["field"], "seconds");
        let to_the_edge = m
            .admin("POST", "/clock/advance", Some(&format!(r#"{{"seconds":{room}}}"#)))
            .await;
        assert_eq!(to_the_edge.status, 200, "{}", to_the_edge.text);
        // Rate windows still slide there: the key is served.
        assert_eq!(m.get("/products", &m.ro()).await.status, 200);
    }
}

both_doors! {
    async fn a_reset_returns_the_clock_to_where_it_started(door) {
        let m = Http::start(door, builder()).await;
        let start = millis(&m.admin("GET", "/clock", None).await.json());
        m.advance(86_400).await;
        let moved = millis(&m.admin("GET", "/clock", None).await.json());
        assert!(moved - start >= time::Duration::days(1));
        assert_eq!(m.admin("POST", "/reset", None).await.status, 200);
        let back = millis(&m.admin("GET", "/clock", None).await.json());
        assert!(back - start < time::Duration::minutes(1), "{start} {back}");
    }
}

both_doors! {
    async fn an_informational_status_is_not_a_fault(door) {
        let m = Http::start(door, builder()).await;
        for status in [100, 101, 103, 199] {
            let body = format!(
                r#"{{"method":"GET","path":"/products","kind":{{"kind":"status","status":{status}}}}}"#
            );
            let refused = m.admin("POST", "/faults", Some(&body)).await;
            assert_eq!(refused.status, 400, "{status}: {}", refused.text);
            assert_eq!(refused.json()["error"]["details"][0]["field"], "kind.status");
        }
        assert_eq!(m.admin("GET", "/faults", None).await.json()["data"], serde_json::json!([]));
        assert_eq!(m.get("/products", &m.ro()).await.status, 200);
    }
}

#[tokio::test]
async fn the_rust_api_refuses_an_informational_fault_and_keeps_the_clocks_edge() {
    let mock = mock().await;
    let refused = mock.fail_next("GET", "/products", 1, 101, None);
    assert!(
        matches!(
            refused,
            Err(MockError::InvalidFault {
                field: "kind.status",
                ..
            })
        ),
        "{refused:?}"
    );
    let _ = Fault::fail_next("GET", "/products", 1, 503, None);
    mock.advance_clock(std::time::Duration::MAX);
    let latest = CLOCK_END - time::Duration::try_from(MAX_PERIOD).expect("a period");
    assert_eq!(mock.now(), latest, "the Rust API stops at the latest time");
}

both_doors! {
    async fn seeding_a_product_with_an_id_in_use_is_a_conflict_unless_it_says_replace(door) {
        let m = Http::start(door, builder()).await;
        let id = "3f9a1c52-7d4e-4b8a-9c21-5e6f7a8b9c0d";
        let first = format!(r#"{{"id":"{id}","name":"First","unitPrice":1,"currency":"EUR"}}"#);
        assert_eq!(m.admin("POST", "/products", Some(&first)).await.status, 201);
        let second = format!(r#"{{"id":"{id}","name":"Second","unitPrice":2,"currency":"EUR"}}"#);
        let refused = m.admin("POST", "/products", Some(&second)).await;
        assert_eq!(
            (refused.status, refused.code().as_deref()),
            (409, Some("product_exists")),
            "{}",
            refused.text
        );
        let kept = m.get(&format!("/products/{id}"), &m.ro()).await;
        assert_eq!(kept.data()["name"], "First");
        let replaced = m.admin("POST", "/products?replace=true", Some(&second)).await;
        assert_eq!(replaced.status, 200, "{}", replaced.text);
        let now = m.get(&format!("/products/{id}"), &m.ro()).await;
        assert_eq!(now.data()["name"], "Second");
    }
}

#[tokio::test]
async fn the_rust_api_refuses_to_replace_a_product_by_its_id() {
    let mock = mock().await;
    let id = uuid::Uuid::from_u128(7);
    let seed = SeedProduct::new("First", rust_decimal::Decimal::ONE, "EUR").id(id);
    mock.insert_product(KeyMode::Test, seed.clone())
        .expect("inserted");
    let again = mock.insert_product(KeyMode::Test, seed);
    assert!(
        matches!(again, Err(MockError::ProductExists(found)) if found == id),
        "{again:?}"
    );
    assert_eq!(mock.products(KeyMode::Test).len(), 1);
}

both_doors! {
    async fn the_control_planes_lists_come_in_pages(door) {
        let m = Http::start(door, builder().no_rate_limit()).await;
        for i in 0..1_500 {
            let body = format!(r#"{{"name":"P{i}","unitPrice":1,"currency":"EUR"}}"#);
            assert_eq!(m.admin("POST", "/products", Some(&body)).await.status, 201);
        }
        let first = m.admin("GET", "/products", None).await.json();
        assert_eq!(first["data"].as_array().map(Vec::len), Some(1_000));
        let cursor = first["nextCursor"].as_str().expect("more to come").to_owned();
        let second = m
            .admin("GET", &format!("/products?after={cursor}"), None)
            .await
            .json();
        assert_eq!(second["data"].as_array().map(Vec::len), Some(500));
        assert_eq!(second["nextCursor"], Value::Null);
        let small = m.admin("GET", "/products?limit=10", None).await.json();
        assert_eq!(small["data"].as_array().map(Vec::len), Some(10));
        for bad in ["limit=0", "limit=1001", "after=nope"] {
            let refused = m.admin("GET", &format!("/products?{bad}"), None).await;
            assert_eq!(refused.status, 400, "{bad}");
        }
        let journal = m.admin("GET", "/requests?limit=5", None).await.json();
        assert_eq!(journal["data"].as_array().map(Vec::len), Some(5));
        assert!(journal["nextCursor"].is_string());
        let keys = m.admin("GET", "/keys?limit=3", None).await.json();
        assert_eq!(keys["data"].as_array().map(Vec::len), Some(3));
        assert!(keys["nextCursor"].is_string());
    }
}

both_doors! {
    async fn an_injected_429_carries_the_rate_limit_headers_a_real_one_does(door) {
        let m = Http::start(door, builder()).await;
        let body = r#"{"method":"GET","path":"/products","kind":{"kind":"status","status":429,"retryAfter":7},"times":1}"#;
        assert_eq!(m.admin("POST", "/faults", Some(body)).await.status, 201);
        let injected = m.get("/products", &m.ro()).await;
        assert_eq!(injected.status, 429);
        assert_eq!(injected.header("retry-after"), Some("7"));
        for name in ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"] {
            assert!(injected.header(name).is_some(), "{name} on an injected 429");
        }
        // Not counted: the next call is the window's first.
        let next = m.get("/products", &m.ro()).await;
        assert_eq!(next.header("x-ratelimit-remaining"), Some("59"));
    }
}
