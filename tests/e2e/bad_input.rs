//! Hostile and broken input: every case gets a clear 4xx (never a 500, never a hang) and leaves
//! the state exactly as it was. Against both front doors.

use serde_json::Value;

use crate::helpers::{Door, Http, both_doors, builder};

async fn snapshot(m: &Http) -> (Value, Value) {
    let products = m
        .get("/products?status=all&limit=100", &m.rw())
        .await
        .data();
    let mut keys = m.admin("GET", "/keys", None).await.data();
    for key in keys.as_array_mut().unwrap() {
        key.as_object_mut().unwrap().remove("lastUsedAt");
    }
    (products, keys)
}

fn headers(token: &str, content_type: &str) -> Vec<(String, String)> {
    vec![
        ("authorization".into(), format!("Bearer {token}")),
        ("content-type".into(), content_type.into()),
    ]
}

both_doors! {
    async fn broken_bodies_get_a_clear_4xx_and_change_nothing(door) {
        let m = Http::start(door, builder().no_rate_limit()).await;
        let existing = m.create(&m.rw(), r#"{"name":"Keep","unitPrice":1,"currency":"EUR","sku":"K"}"#).await;
        let id = existing["id"].as_str().unwrap().to_owned();
        let before = snapshot(&m).await;
        let json = headers(&m.rw(), "application/json");
        let deep = "[".repeat(50_000) + &"]".repeat(50_000);
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("malformed", b"{name: 'x'}".to_vec()),
            ("truncated", br#"{"name":"x","unitPrice":1"#.to_vec()),
            ("deep nesting", format!(r#"{{"name":"x","unitPrice":1,"currency":"EUR","description":{deep}}}"#).into_bytes()),
            ("deep top level", deep.clone().into_bytes()),
            ("invalid UTF-8", b"{\"name\":\"\xc3\x28\",\"unitPrice\":1,\"currency\":\"EUR\"}".to_vec()),
            ("1e400", br#"{"name":"x","unitPrice":1e400,"currency":"EUR"}"#.to_vec()),
            ("negative", br#"{"name":"x","unitPrice":-0.01,"currency":"EUR"}"#.to_vec()),
            ("NaN string", br#"{"name":"x","unitPrice":"NaN","currency":"EUR"}"#.to_vec()),
            ("NaN bare", br#"{"name":"x","unitPrice":NaN,"currency":"EUR"}"#.to_vec()),
            ("huge precision", format!(r#"{{"name":"x","unitPrice":0.{},"currency":"EUR"}}"#, "1".repeat(40)).into_bytes()),
            ("256 characters", format!(r#"{{"name":"{}","unitPrice":1,"currency":"EUR"}}"#, "ж".repeat(256)).into_bytes()),
            ("duplicate sku", br#"{"name":"x","unitPrice":1,"currency":"EUR","sku":"K"}"#.to_vec()),
            ("10 MB", vec![b' '; 10 * 1024 * 1024]),
            ("empty", Vec::new()),
            ("null", b"null".to_vec()),
        ];
        for (case, body) in cases {
            for (method, path) in [("POST", "/api/v1/products".to_owned()), ("PATCH", format!("/api/v1/products/{id}"))] {
                if case == "duplicate sku" && method == "PATCH" {
                    continue;
                }
                let reply = m.raw(method, &path, &json, Some(body.clone())).await;
                assert!((400..500).contains(&reply.status), "{case} {method}: {} {}", reply.status, reply.text);
                assert!(reply.code().is_some(), "{case} {method}: a JSON error body");
            }
        }
        assert_eq!(snapshot(&m).await, before, "nothing changed");
    }
}

both_doors! {
    async fn hostile_headers_and_cursors_get_a_clear_4xx(door) {
        let m = Http::start(door, builder().no_rate_limit()).await;
        m.create(&m.rw(), r#"{"name":"Keep","unitPrice":1,"currency":"EUR"}"#).await;
        let before = snapshot(&m).await;
        let body = Some(br#"{"name":"New","unitPrice":1,"currency":"EUR"}"#.to_vec());

        let mut two_auth = headers(&m.rw(), "application/json");
        two_auth.push(("authorization".into(), format!("Bearer {}", m.live())));
        assert_eq!(m.raw("POST", "/api/v1/products", &two_auth, body.clone()).await.status, 401);
        let mut two_types = headers(&m.rw(), "application/json");
        two_types.push(("content-type".into(), "text/plain".into()));
        assert_eq!(m.raw("POST", "/api/v1/products", &two_types, body.clone()).await.status, 415);
        let mut two_keys = headers(&m.rw(), "application/json");
        two_keys.push(("idempotency-key".into(), "a".into()));
        two_keys.push(("idempotency-key".into(), "b".into()));
        assert_eq!(m.raw("POST", "/api/v1/products", &two_keys, body.clone()).await.status, 400);
        let mut long_key = headers(&m.rw(), "application/json");
        long_key.push(("idempotency-key".into(), "k".repeat(256)));
        assert_eq!(m.raw("POST", "/api/v1/products", &long_key, body.clone()).await.status, 400);
        let huge_auth = vec![("authorization".to_owned(), format!("Bearer pk_test_{}", "A".repeat(60_000)))];
        assert_eq!(m.raw("GET", "/api/v1/products", &huge_auth, None).await.status, 401);
        let mut many = headers(&m.rw(), "application/json");
        for i in 0..90 {
            many.push((format!("x-filler-{i}"), "y".repeat(100)));
        }
        assert!(m.raw("GET", "/api/v1/products", &many, None).await.status < 500);

        for cursor in ["%00", "..%2F..%2Fetc", &"z".repeat(5_000), "00000000-0000-0000-0000-000000000000", "'%20OR%201=1"] {
            let reply = m.get(&format!("/products?after={cursor}"), &m.rw()).await;
            assert_eq!(reply.status, 400, "{cursor}");
        }
        for query in ["limit=-1", "limit=1e2", "limit=18446744073709551617", "status=ACTIVE", "status=", "limit="] {
            assert_eq!(m.get(&format!("/products?{query}"), &m.rw()).await.status, 400, "{query}");
        }
        for path in ["/products/%00", "/products/..", &format!("/products/{}", "9".repeat(10_000))] {
            assert_eq!(m.get(path, &m.rw()).await.status, 404, "{path}");
        }
        assert_eq!(snapshot(&m).await, before, "nothing changed");
    }
}

#[tokio::test]
async fn headers_too_large_for_the_server_are_refused_not_crashed() {
    for door in [Door::InProcess, Door::Standalone] {
        let m = Http::start(door, builder()).await;
        let giant = "g".repeat(2 * 1024 * 1024);
        let request = m
            .http
            .get(format!("{}/api/v1/products", m.root))
            .header("x-giant", giant.as_str());
        match request.send().await {
            Ok(reply) => assert!(
                (400..500).contains(&reply.status().as_u16()),
                "{door:?}: {}",
                reply.status()
            ),
            Err(e) => assert!(
                !e.is_timeout(),
                "{door:?}: the server must answer or close, not hang: {e}"
            ),
        }
        // And the server still serves.
        assert_eq!(m.get("/products", &m.rw()).await.status, 200, "{door:?}");
    }
}
