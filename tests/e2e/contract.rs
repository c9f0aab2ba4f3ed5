//! What an outside OpenAPI fuzzer found in the server, each as a regression test over both
//! front doors: DELETE replays ignore a body DELETE does not read, HEAD mirrors GET, each
//! refusal names the rule that was broken, ids are found only in their canonical spelling,
//! and products created in the same millisecond list last created first.

use crate::helpers::{Door, Http, builder};

const DOORS: [Door; 2] = [Door::InProcess, Door::Standalone];
const WEB: &str = r#"{"name":"Web Design","unitPrice":120.10,"currency":"USD"}"#;

fn header(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

#[tokio::test]
async fn a_retried_delete_with_a_body_replays_instead_of_conflicting() {
    for door in DOORS {
        let mock = Http::start(door, builder()).await;
        let rw = mock.rw();
        let id = mock.create(&rw, WEB).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let path = format!("/api/v1/products/{id}");
        let auth = header("authorization", &format!("Bearer {rw}"));
        let key = header("idempotency-key", "archive-1");
        let first = mock
            .raw("DELETE", &path, &[auth.clone(), key.clone()], None)
            .await;
        assert_eq!(first.status, 200, "{door:?}: {}", first.text);
        let json = header("content-type", "application/json");
        let again = mock
            .raw("DELETE", &path, &[auth, key, json], Some(b"{}".to_vec()))
            .await;
        assert_eq!(again.status, 200, "{door:?}: {}", again.text);
        assert_eq!(
            again.header("idempotent-replayed"),
            Some("true"),
            "{door:?}"
        );
        assert_eq!(again.text, first.text);
    }
}

#[tokio::test]
async fn head_answers_like_get_without_a_body() {
    for door in DOORS {
        let mock = Http::start(door, builder()).await;
        let ro = mock.ro();
        let auth = [header("authorization", &format!("Bearer {ro}"))];
        let get = mock
            .raw("GET", "/api/v1/products?limit=5", &auth, None)
            .await;
        let head = mock
            .raw("HEAD", "/api/v1/products?limit=5", &auth, None)
            .await;
        assert_eq!(head.status, 200, "{door:?}");
        assert!(head.text.is_empty(), "{door:?}: no body");
        assert_eq!(
            head.header("content-length"),
            get.header("content-length"),
            "{door:?}"
        );
        assert_eq!(
            head.header("content-type"),
            get.header("content-type"),
            "{door:?}"
        );
        assert_eq!(head.header("x-ratelimit-limit"), Some("60"), "{door:?}");
        // It counts against the rate limit as the GET it mirrors does.
        assert_eq!(head.header("x-ratelimit-remaining"), Some("58"), "{door:?}");
        assert!(head.header("x-request-id").is_some());

        let no_key = mock.raw("HEAD", "/api/v1/products", &[], None).await;
        assert_eq!(no_key.status, 401, "{door:?}");
        assert_eq!(no_key.header("www-authenticate"), Some("Bearer"));
        let missing = mock
            .raw(
                "HEAD",
                "/api/v1/products/00000000-0000-0000-0000-000000000000",
                &auth,
                None,
            )
            .await;
        assert_eq!(missing.status, 404, "{door:?}");
        let spec = mock.raw("HEAD", "/api/v1/openapi.json", &[], None).await;
        assert_eq!(spec.status, 200, "{door:?}");

        let put = mock.raw("PUT", "/api/v1/products", &auth, None).await;
        assert_eq!(put.status, 405);
        assert_eq!(put.header("allow"), Some("GET, HEAD, POST"), "{door:?}");
        let put = mock
            .raw(
                "PUT",
                "/api/v1/products/00000000-0000-0000-0000-000000000000",
                &auth,
                None,
            )
            .await;
        assert_eq!(
            put.header("allow"),
            Some("GET, HEAD, PATCH, DELETE"),
            "{door:?}"
        );
        let methods: Vec<String> = mock
            .admin("GET", "/requests", None)
            .await
            .data()
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["method"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(methods[1], "HEAD", "the journal keeps the method as sent");
    }
}

#[tokio::test]
async fn each_refusal_names_the_rule_that_was_broken() {
    let mock = Http::start(Door::InProcess, builder()).await;
    let rw = mock.rw();
    let price = |value: &str| format!(r#"{{"name":"n","unitPrice":{value},"currency":"EUR"}}"#);
    let message = |reply: &crate::helpers::Reply| {
        reply.json()["error"]["details"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };

    let too_large = mock.post("/products", &rw, &price("1e29")).await;
    assert_eq!(too_large.status, 400);
    assert_eq!(
        message(&too_large),
        "must be at most 79228162514264337593543950335"
    );
    let largest = mock
        .post("/products", &rw, &price("79228162514264337593543950335"))
        .await;
    assert_eq!(largest.status, 201, "{}", largest.text);
    let places = mock.post("/products", &rw, &price("1e-29")).await;
    assert_eq!(message(&places), "must have at most 28 decimal places");

    let zero = mock.post("/products", &rw, &price("-0")).await;
    assert_eq!(zero.status, 201, "-0 is zero: {}", zero.text);
    let negative = mock.post("/products", &rw, &price("-0.01")).await;
    assert_eq!(message(&negative), "must be greater than or equal to 0");

    for key in ["a b", "tab\there", "Café"] {
        let reply = mock
            .raw(
                "POST",
                "/api/v1/products",
                &[
                    header("authorization", &format!("Bearer {rw}")),
                    header("content-type", "application/json"),
                    header("idempotency-key", key),
                ],
                Some(WEB.as_bytes().to_vec()),
            )
            .await;
        assert_eq!(reply.status, 400, "{key:?}: {}", reply.text);
        assert!(message(&reply).contains("no space"), "{}", reply.text);
    }
}

#[tokio::test]
async fn an_id_is_found_only_in_its_canonical_spelling() {
    let mock = Http::start(Door::InProcess, builder()).await;
    let rw = mock.rw();
    let id = mock.create(&rw, WEB).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let upper = id.to_uppercase();
    assert_eq!(
        mock.get(&format!("/products/{upper}"), &rw).await.status,
        200
    );
    for other in [
        format!("urn:uuid:{id}"),
        id.replace('-', ""),
        format!("{{{id}}}"),
    ] {
        let reply = mock.get(&format!("/products/{other}"), &rw).await;
        assert_eq!(reply.status, 404, "{other}");
        let cursor = mock.get(&format!("/products?after={other}"), &rw).await;
        assert_eq!(cursor.status, 400, "{other} is not a cursor");
    }
}

#[tokio::test]
async fn products_created_in_the_same_millisecond_list_last_created_first() {
    // The in-process clock is frozen: every create below has the same timestamp.
    let mock = Http::start(Door::InProcess, builder()).await;
    let rw = mock.rw();
    let mut created = Vec::new();
    for name in ["A", "B", "C", "D"] {
        let body = format!(r#"{{"name":"{name}","unitPrice":1,"currency":"EUR"}}"#);
        created.push(
            mock.create(&rw, &body).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let names = |reply: crate::helpers::Reply| -> Vec<String> {
        reply.data()["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(mock.get("/products", &rw).await),
        ["D", "C", "B", "A"]
    );
    // Cursors follow the same order, page by page.
    let first = mock.get("/products?limit=2", &rw).await;
    let cursor = first.data()["nextCursor"].as_str().unwrap().to_owned();
    assert_eq!(names(first), ["D", "C"]);
    let second = mock
        .get(&format!("/products?limit=2&after={cursor}"), &rw)
        .await;
    assert_eq!(names(second), ["B", "A"]);
}
