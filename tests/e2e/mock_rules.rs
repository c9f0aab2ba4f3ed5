//! Every rule of the mock, over real HTTP, against both front doors (wiremock in-process and
//! the standalone hyper server). Raw HTTP on purpose: these pin the wire format, not the SDK.

use std::time::Duration;

use paperlink_mock::RateLimitPolicy;
use serde_json::Value;

use crate::helpers::{Http, both_doors, builder};

const WEB: &str =
    r#"{"name":"Web Design","unitPrice":120.10,"currency":"USD","sku":"WD-001","taxRate":20.0}"#;

both_doors! {
    async fn every_way_of_failing_authentication_gets_the_same_401_shape(door) {
        let m = Http::start(door, builder()).await;
        assert_eq!(m.admin("POST", "/teams/default/members", Some(r#"{"name":"ana","role":"ADMIN"}"#)).await.status, 201);
        let revoked = m.admin("POST", "/keys", Some(r#"{"name":"old","mode":"test","scope":"READ_WRITE"}"#)).await;
        let revoked_token = revoked.data()["token"].as_str().unwrap().to_owned();
        let id = revoked.data()["id"].as_str().unwrap().to_owned();
        assert_eq!(m.get("/products", &revoked_token).await.status, 200);
        assert_eq!(m.admin("POST", &format!("/keys/{id}/revoke"), Some(r#"{"revokedBy":"ana"}"#)).await.status, 200);

        let cases: Vec<(&str, Vec<(String, String)>)> = vec![
            ("missing", vec![]),
            ("basic", vec![("authorization".into(), "Basic dXNlcjpwYXNz".into())]),
            ("malformed", vec![("authorization".into(), "Bearer sk_test_nope".into())]),
            ("unknown", vec![("authorization".into(), format!("Bearer pk_test_{}", "x".repeat(32)))]),
            ("revoked", vec![("authorization".into(), format!("Bearer {revoked_token}"))]),
        ];
        let mut bodies = Vec::new();
        for (case, headers) in cases {
            let reply = m.raw("GET", "/api/v1/products", &headers, None).await;
            assert_eq!(reply.status, 401, "{case}");
            assert_eq!(reply.code().as_deref(), Some("unauthorized"), "{case}");
            assert_eq!(reply.header("www-authenticate"), Some("Bearer"), "{case}");
            assert!(reply.header("x-request-id").is_some(), "{case}");
            bodies.push(reply.text);
        }
        assert_eq!(bodies[3], bodies[4], "unknown and revoked keys must be indistinguishable");
        assert!(!bodies.iter().any(|b| b.contains(&revoked_token[8..])));
    }
}

both_doors! {
    async fn authenticated_calls_update_last_used_and_keys_never_show_tokens(door) {
        let m = Http::start(door, builder()).await;
        let before = m.admin("GET", "/keys", None).await;
        assert!(before.data().as_array().unwrap().iter().all(|k| k["lastUsedAt"].is_null()));
        assert_eq!(m.get("/products", &m.ro()).await.status, 200);
        let after = m.admin("GET", "/keys", None).await;
        let keys = after.data();
        let used: Vec<&Value> = keys.as_array().unwrap().iter().filter(|k| !k["lastUsedAt"].is_null()).collect();
        assert_eq!(used.len(), 1);
        assert_eq!(used[0]["scope"], "READ_ONLY");
        assert_eq!(used[0]["prefix"].as_str().unwrap(), &m.ro()[..11]);
        for token in [m.ro(), m.rw(), m.live()] {
            assert!(!after.text.contains(&token[8..]));
        }
    }
}

both_doors! {
    async fn live_and_test_products_never_see_each_other(door) {
        let m = Http::start(door, builder()).await;
        let product = m.create(&m.rw(), WEB).await;
        let id = product["id"].as_str().unwrap();
        for (method, body) in [("GET", None), ("PATCH", Some(r#"{"name":"x"}"#)), ("DELETE", None)] {
            let reply = m.api(method, &format!("/products/{id}"), Some(&m.live()), body).await;
            assert_eq!((reply.status, reply.code().as_deref()), (404, Some("product_not_found")), "{method}");
        }
        assert_eq!(m.get("/products", &m.live()).await.data()["data"], serde_json::json!([]));
        // The same SKU is free in the other mode.
        assert_eq!(m.post("/products", &m.live(), WEB).await.status, 201);
        assert_eq!(m.get("/products", &m.rw()).await.data()["data"].as_array().unwrap().len(), 1);
    }
}

both_doors! {
    async fn read_only_keys_get_403_before_validation_or_lookup(door) {
        let m = Http::start(door, builder()).await;
        let missing = "/products/00000000-0000-0000-0000-000000000000";
        for (method, path, body) in [
            ("POST", "/products", Some("{not json")),
            ("PATCH", missing, Some("{}")),
            ("DELETE", missing, None),
            ("DELETE", "/products/not-a-uuid", None),
        ] {
            let reply = m.api(method, path, Some(&m.ro()), body).await;
            assert_eq!((reply.status, reply.code().as_deref()), (403, Some("scope_insufficient")), "{method} {path}");
        }
        assert_eq!(m.get("/products", &m.ro()).await.status, 200);
    }
}

both_doors! {
    async fn revocation_honours_the_delay_and_keys_stay_listed_for_90_days(door) {
        let m = Http::start(door, builder().revocation_delay(Duration::from_secs(5))).await;
        for name in ["ana", "bob"] {
            let body = format!(r#"{{"name":"{name}","role":"ADMIN"}}"#);
            assert_eq!(m.admin("POST", "/teams/default/members", Some(&body)).await.status, 201);
        }
        let created = m.admin("POST", "/keys", Some(r#"{"name":"CI","mode":"live","scope":"READ_ONLY","createdBy":"ana","team":"default"}"#)).await;
        assert_eq!(created.status, 201);
        let key = created.data();
        let token = key["token"].as_str().unwrap().to_owned();
        assert!(token.starts_with("pk_live_") && token.len() >= 8 + 32);
        assert_eq!(key["createdBy"], "ana");
        let id = key["id"].as_str().unwrap().to_owned();

        let revoked = m.admin("POST", &format!("/keys/{id}/revoke"), Some(r#"{"revokedBy":"bob"}"#)).await.data();
        assert_eq!(revoked["revokedBy"], "bob");
        assert!(revoked["revokedAt"].is_string());
        assert!(revoked.get("token").is_none());
        assert_eq!(m.get("/products", &token).await.status, 200, "still within the delay");
        m.advance(5).await;
        assert_eq!(m.get("/products", &token).await.status, 401);

        let listed = |reply: crate::helpers::Reply| reply.data().as_array().unwrap().iter().any(|k| k["id"] == id.as_str());
        m.advance(90 * 24 * 3600 - 10).await;
        assert!(listed(m.admin("GET", "/keys", None).await));
        m.advance(10).await;
        assert!(!listed(m.admin("GET", "/keys", None).await));
    }
}

both_doors! {
    async fn products_are_created_read_updated_and_archived_exactly(door) {
        let m = Http::start(door, builder()).await;
        let reply = m.post("/products", &m.rw(), WEB).await;
        assert_eq!(reply.status, 201);
        assert!(reply.text.contains(r#""unitPrice":120.10"#), "{}", reply.text);
        assert!(reply.text.contains(r#""taxRate":20.0"#), "{}", reply.text);
        let p = reply.data();
        let id = p["id"].as_str().unwrap().to_owned();
        assert_eq!(reply.header("location"), Some(format!("/api/v1/products/{id}").as_str()));
        assert_eq!(p["createdAt"], "2025-01-15T10:00:00.000Z");
        assert_eq!((p["type"].as_str(), p["unitOfMeasure"].as_str(), p["status"].as_str()), (Some("SERVICES"), Some("unit"), Some("active")));
        assert_eq!(p["description"], Value::Null);

        let fetched = m.get(&format!("/products/{id}"), &m.ro()).await;
        assert_eq!(fetched.data(), p);

        m.advance(60).await;
        let unchanged = m.api("PATCH", &format!("/products/{id}"), Some(&m.rw()), Some("{}")).await;
        assert_eq!(unchanged.data(), p, "an empty PATCH changes nothing, not even updatedAt");
        let patched = m.api("PATCH", &format!("/products/{id}"), Some(&m.rw()), Some(r#"{"sku":null,"taxRate":null,"description":"d","unitPrice":99.90,"status":"archived"}"#)).await;
        assert_eq!(patched.status, 200, "{}", patched.text);
        assert!(patched.text.contains(r#""unitPrice":99.90"#));
        let q = patched.data();
        assert_eq!((q["sku"].clone(), q["taxRate"].clone(), q["description"].as_str()), (Value::Null, Value::Null, Some("d")));
        assert_eq!((q["status"].as_str(), q["updatedAt"].as_str(), q["name"].as_str()), (Some("active"), Some("2025-01-15T10:01:00.000Z"), Some("Web Design")));

        let archived = m.api("DELETE", &format!("/products/{id}"), Some(&m.rw()), None).await;
        assert_eq!((archived.status, archived.data()["status"].as_str()), (200, Some("archived")));
        m.advance(1).await;
        let again = m.api("DELETE", &format!("/products/{id}"), Some(&m.rw()), None).await;
        assert_eq!((again.status, again.data()), (200, archived.data()));
        assert_eq!(m.get(&format!("/products/{id}"), &m.rw()).await.data()["status"], "archived");
        assert_eq!(m.get("/products", &m.rw()).await.data()["data"], serde_json::json!([]));
        assert_eq!(m.get("/products?status=archived", &m.rw()).await.data()["data"].as_array().unwrap().len(), 1);
        assert_eq!(m.get("/products?status=all", &m.rw()).await.data()["data"].as_array().unwrap().len(), 1);
        let patched_archived = m.api("PATCH", &format!("/products/{id}"), Some(&m.rw()), Some(r#"{"name":"Kept"}"#)).await;
        assert_eq!(patched_archived.data()["status"], "archived");
    }
}

both_doors! {
    async fn skus_are_unique_per_team_and_mode_even_when_archived(door) {
        let m = Http::start(door, builder()).await;
        let first = m.create(&m.rw(), WEB).await;
        let dup = m.post("/products", &m.rw(), &WEB.replace("WD-001", " WD-001 ")).await;
        assert_eq!((dup.status, dup.code().as_deref()), (409, Some("sku_conflict")));
        let id = first["id"].as_str().unwrap();
        m.api("DELETE", &format!("/products/{id}"), Some(&m.rw()), None).await;
        assert_eq!(m.post("/products", &m.rw(), WEB).await.status, 409);
        let other = m.create(&m.rw(), &WEB.replace("WD-001", "WD-002")).await;
        let clash = m.api("PATCH", &format!("/products/{}", other["id"].as_str().unwrap()), Some(&m.rw()), Some(r#"{"sku":"WD-001"}"#)).await;
        assert_eq!(clash.status, 409);
        assert_eq!(m.post("/products", &m.rw(), &WEB.replace("WD-001", "wd-001")).await.status, 201, "case-sensitive");
    }
}

both_doors! {
    async fn bad_bodies_get_400_415_and_413_with_details(door) {
        let m = Http::start(door, builder()).await;
        let cases = [
            ("{", vec!["body"]),
            ("[]", vec!["body"]),
            ("{}", vec!["name", "unitPrice", "currency"]),
            (r#"{"name":5,"unitPrice":"12","currency":"usd"}"#, vec!["name", "unitPrice", "currency"]),
            (r#"{"name":"a","unitPrice":-1,"currency":"EUR","taxRate":101,"sku":null}"#, vec!["unitPrice", "taxRate"]),
            (r#"{"name":"a","unitPrice":1e400,"currency":"EUR"}"#, vec!["unitPrice"]),
        ];
        for (body, fields) in cases {
            let reply = m.post("/products", &m.rw(), body).await;
            assert_eq!((reply.status, reply.code().as_deref()), (400, Some("validation_error")), "{body}");
            let got: Vec<String> = reply.json()["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap().to_owned()).collect();
            assert_eq!(got, fields, "{body}");
        }
        let name = "é".repeat(256);
        let long = m.post("/products", &m.rw(), &format!(r#"{{"name":"{name}","unitPrice":1,"currency":"EUR"}}"#)).await;
        assert_eq!(long.status, 400);
        let fits = m.post("/products", &m.rw(), &format!(r#"{{"name":"{}","unitPrice":1,"currency":"EUR"}}"#, "é".repeat(255))).await;
        assert_eq!(fits.status, 201, "255 characters (510 bytes) fit");

        let auth = vec![("authorization".to_owned(), format!("Bearer {}", m.rw()))];
        let mut text = auth.clone();
        text.push(("content-type".into(), "text/plain".into()));
        let reply = m.raw("POST", "/api/v1/products", &text, Some(WEB.as_bytes().to_vec())).await;
        assert_eq!((reply.status, reply.code().as_deref()), (415, Some("unsupported_media_type")));
        let reply = m.raw("POST", "/api/v1/products", &auth, Some(WEB.as_bytes().to_vec())).await;
        assert_eq!(reply.status, 415, "no content type");

        let mut json = auth.clone();
        json.push(("content-type".into(), "application/json; charset=utf-8".into()));
        let huge = format!(r#"{{"name":"a","unitPrice":1,"currency":"EUR","description":"{}"}}"#, "x".repeat(1024 * 1024));
        let reply = m.raw("POST", "/api/v1/products", &json, Some(huge.into_bytes())).await;
        assert_eq!((reply.status, reply.code().as_deref()), (413, Some("payload_too_large")));
        let reply = m.raw("POST", "/api/v1/products", &json, Some(b"{\"name\":\"\xff\"}".to_vec())).await;
        assert_eq!(reply.status, 400);
        assert_eq!(m.get("/products?status=all", &m.rw()).await.data()["data"].as_array().unwrap().len(), 1, "nothing else was created");
    }
}

both_doors! {
    async fn lists_are_newest_first_with_exact_cursors_and_checked_queries(door) {
        let m = Http::start(door, builder()).await;
        let mut ids = Vec::new();
        for i in 0..5 {
            let p = m.create(&m.rw(), &format!(r#"{{"name":"p{i}","unitPrice":1,"currency":"EUR"}}"#)).await;
            ids.push(p["id"].as_str().unwrap().to_owned());
            m.advance(1).await;
        }
        let page = m.get("/products?limit=2", &m.rw()).await.data();
        let names: Vec<&str> = page["data"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect::<Vec<_>>();
        assert_eq!(names, ["p4", "p3"]);
        assert_eq!((page["hasMore"].as_bool(), page["nextCursor"].as_str()), (Some(true), Some(ids[3].as_str())));
        let last = m.get(&format!("/products?limit=3&after={}", ids[3]), &m.rw()).await.data();
        assert_eq!(last["data"].as_array().unwrap().len(), 3);
        assert_eq!((last["hasMore"].as_bool(), last["nextCursor"].clone()), (Some(false), Value::Null));
        let default = m.get("/products", &m.rw()).await.data();
        assert_eq!((default["data"].as_array().unwrap().len(), default["hasMore"].as_bool()), (5, Some(false)));

        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=ten", "limit"),
            ("status=deleted", "status"),
            ("after=nope", "after"),
            ("after=00000000-0000-0000-0000-000000000000", "after"),
        ] {
            let reply = m.get(&format!("/products?{query}"), &m.rw()).await;
            assert_eq!(reply.status, 400, "{query}");
            assert_eq!(reply.json()["error"]["details"][0]["field"], field, "{query}");
        }
        let live_cursor = m.get(&format!("/products?after={}", ids[0]), &m.live()).await;
        assert_eq!(live_cursor.status, 400, "a cursor from the other mode is unknown");
        assert_eq!(m.get("/products?limit=100&unknown=1", &m.rw()).await.status, 200);
    }
}

both_doors! {
    async fn idempotency_keys_replay_refuse_reuse_and_expire(door) {
        let m = Http::start(door, builder()).await;
        let send = |token: String, key: &'static str, body: &str| {
            let body = body.to_owned();
            let headers = vec![
                ("authorization".to_owned(), format!("Bearer {token}")),
                ("content-type".to_owned(), "application/json".to_owned()),
                ("idempotency-key".to_owned(), key.to_owned()),
            ];
            let m = &m;
            async move { m.raw("POST", "/api/v1/products", &headers, Some(body.into_bytes())).await }
        };
        let first = send(m.rw(), "k1", WEB).await;
        assert_eq!(first.status, 201);
        assert_eq!(first.header("idempotent-replayed"), None);
        let replay = send(m.rw(), "k1", WEB).await;
        assert_eq!((replay.status, replay.text.as_str(), replay.header("idempotent-replayed")), (201, first.text.as_str(), Some("true")));
        assert_eq!(replay.header("location"), first.header("location"));
        assert_ne!(replay.header("x-request-id"), first.header("x-request-id"));
        let reordered = send(m.rw(), "k1", r#"{ "sku":"WD-001", "currency":"USD","taxRate":20.0,"name":"Web Design","unitPrice":120.10 }"#).await;
        assert_eq!((reordered.status, reordered.header("idempotent-replayed")), (201, Some("true")), "key order and spacing do not matter");
        let other_text = send(m.rw(), "k1", r#"{"name":"Web Design","unitPrice":120.1,"currency":"USD","sku":"WD-001","taxRate":20.0}"#).await;
        assert_eq!(other_text.status, 409, "120.1 is not the body that was sent as 120.10");
        let reused = send(m.rw(), "k1", r#"{"name":"Other","unitPrice":1,"currency":"EUR"}"#).await;
        assert_eq!((reused.status, reused.code().as_deref()), (409, Some("idempotency_key_reused")));
        // Scoped per API key: another key with the same Idempotency-Key is a new request.
        let other_key = send(m.live(), "k1", WEB).await;
        assert_eq!((other_key.status, other_key.header("idempotent-replayed")), (201, None));
        // Errors are not stored: fixing the conflict and retrying with the same key works.
        let conflict = send(m.rw(), "k2", &WEB.replace("Web Design", "Dup")).await;
        assert_eq!(conflict.status, 409);
        // Kept 24 hours of mock time.
        m.advance(24 * 3600).await;
        let expired = send(m.rw(), "k1", r#"{"name":"Later","unitPrice":1,"currency":"EUR"}"#).await;
        assert_eq!((expired.status, expired.header("idempotent-replayed")), (201, None));
        assert_eq!(m.get("/products", &m.rw()).await.data()["data"].as_array().unwrap().len(), 2);
    }
}

both_doors! {
    async fn rate_limits_slide_with_the_mock_clock(door) {
        let m = Http::start(door, builder().rate_limit(RateLimitPolicy::new(3, Duration::from_secs(60)))).await;
        let token = m.rw();
        let mut remaining = Vec::new();
        for _ in 0..3 {
            let reply = m.get("/products", &token).await;
            assert_eq!(reply.header("x-ratelimit-limit"), Some("3"));
            remaining.push(reply.header("x-ratelimit-remaining").unwrap().to_owned());
        }
        assert_eq!(remaining, ["2", "1", "0"]);
        let limited = m.get("/products", &token).await;
        assert_eq!((limited.status, limited.code().as_deref(), limited.header("retry-after")), (429, Some("rate_limit_exceeded"), Some("60")));
        let reset: i64 = limited.header("x-ratelimit-reset").unwrap().parse().unwrap();
        assert_eq!(reset, crate::helpers::t0().unix_timestamp() + 60);
        assert_eq!(m.get("/products", &m.ro()).await.status, 200, "per key");
        m.advance(30).await;
        assert_eq!(m.get("/products", &token).await.header("retry-after"), Some("30"));
        m.advance(30).await;
        assert_eq!(m.get("/products", &token).await.status, 200);

        let off = Http::start(door, builder().no_rate_limit()).await;
        for _ in 0..100 {
            let reply = off.get("/products", &off.rw()).await;
            assert_eq!(reply.status, 200);
            assert_eq!(reply.header("x-ratelimit-limit"), None);
        }
    }
}

both_doors! {
    async fn routes_ids_and_the_openapi_document(door) {
        let m = Http::start(door, builder()).await;
        let unknown = m.get("/invoices", &m.rw()).await;
        assert_eq!((unknown.status, unknown.code().as_deref()), (404, Some("not_found")));
        let wrong = m.api("PUT", "/products", Some(&m.rw()), Some("{}")).await;
        assert_eq!((wrong.status, wrong.code().as_deref(), wrong.header("allow")), (405, Some("method_not_allowed"), Some("GET, HEAD, POST")));
        let bad_id = m.get("/products/not-a-uuid", &m.rw()).await;
        assert_eq!(bad_id.code().as_deref(), Some("product_not_found"));

        let mut ids = std::collections::HashSet::new();
        for _ in 0..20 {
            let reply = m.get("/products", &m.rw()).await;
            assert!(ids.insert(reply.header("x-request-id").unwrap().to_owned()));
        }

        let doc = m.api("GET", "/openapi.json", None, None).await;
        assert_eq!(doc.status, 200, "served without auth");
        let doc = doc.json();
        for (path, methods) in paperlink_mock::engine::API_ROUTES {
            for method in *methods {
                assert!(doc["paths"][path][method.to_lowercase()].is_object(), "{method} {path}");
            }
        }
    }
}

both_doors! {
    async fn teams_are_isolated_and_the_control_plane_resets(door) {
        let m = Http::start(door, builder()).await;
        m.create(&m.rw(), WEB).await;
        let other = m.admin("POST", "/keys", Some(r#"{"name":"suite-2","mode":"test","scope":"READ_WRITE","team":"suite-2"}"#)).await.data();
        let token = other["token"].as_str().unwrap().to_owned();
        assert_eq!(m.get("/products", &token).await.data()["data"], serde_json::json!([]));
        assert_eq!(m.post("/products", &token, WEB).await.status, 201, "the SKU is free in another team");
        let team_keys = m.admin("GET", "/keys?team=suite-2", None).await.data();
        assert_eq!(team_keys.as_array().unwrap().len(), 1);

        let journal = m.admin("GET", "/requests", None).await.data();
        let api_calls: Vec<Value> = journal.as_array().unwrap().iter().filter(|r| r["path"].as_str().unwrap().starts_with("/api/v1")).cloned().collect();
        let last = api_calls.last().unwrap().clone();
        assert_eq!((last["method"].as_str(), last["status"].as_u64()), (Some("POST"), Some(201)));
        assert_eq!(last["keyPrefix"].as_str().unwrap(), &token[..11]);

        assert_eq!(m.admin("POST", "/reset", None).await.status, 200);
        assert_eq!(m.get("/products", &token).await.status, 401, "keys created after start are gone");
        assert_eq!(m.get("/products", &m.rw()).await.data()["data"], serde_json::json!([]));
        assert_eq!(m.admin("GET", "/keys", None).await.data().as_array().unwrap().len(), 4);
        let bad = m.admin("POST", "/keys", Some(r#"{"name":"x","mode":"staging","scope":"READ_WRITE"}"#)).await;
        assert_eq!(bad.status, 400);
    }
}

both_doors! {
    async fn the_admin_token_guards_the_control_plane(door) {
        let m = Http::start(door, builder().admin_token("s3cret-admin")).await;
        assert_eq!(m.admin("GET", "/keys", None).await.status, 401);
        let with = vec![("authorization".to_owned(), "Bearer s3cret-admin".to_owned())];
        assert_eq!(m.raw("GET", "/__admin/keys", &with, None).await.status, 200);
        let wrong = vec![("authorization".to_owned(), "Bearer s3cret-admiN".to_owned())];
        assert_eq!(m.raw("GET", "/__admin/keys", &wrong, None).await.status, 401);
    }
}

both_doors! {
    async fn injected_faults_fail_then_recover_without_changing_state(door) {
        let m = Http::start(door, builder()).await;
        let fault = r#"{"method":"POST","path":"/api/v1/products","kind":{"kind":"status","status":503,"retryAfter":2},"times":2}"#;
        assert_eq!(m.admin("POST", "/faults", Some(fault)).await.status, 201);
        for _ in 0..2 {
            let reply = m.post("/products", &m.rw(), WEB).await;
            assert_eq!((reply.status, reply.header("retry-after")), (503, Some("2")));
        }
        assert_eq!(m.get("/products", &m.rw()).await.data()["data"], serde_json::json!([]));
        assert_eq!(m.post("/products", &m.rw(), WEB).await.status, 201);
    }
}
