//! The served document against the core: every status the core answers an operation with,
//! and every header it sends with that status, is declared for that operation in
//! `openapi.json`. What the core emits is observed, not listed: each operation of the route
//! table is driven through every failure the core knows (no key, a bad key, a Read-only key,
//! bad bodies, wrong content types, oversized bodies, unknown ids, SKU conflicts, idempotent
//! replays and reuses, bad `Idempotency-Key`s, bad queries, methods a path does not take, a
//! rate limit, a data file that refuses writes).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use http::Method;
use secrecy::ExposeSecret;
use serde_json::Value;

use crate::engine::{API_ROUTES, MockCore, MockRequest, MockResponse};
use crate::model::API_PREFIX;
use crate::{KeyMode, KeyScope, PaperlinkMock, PaperlinkMockBuilder, RateLimitPolicy};

/// (path template, method) → status → header names sent with it.
type Observed = BTreeMap<(String, String), BTreeMap<u16, BTreeSet<String>>>;

/// Extra headers and a body for one request.
type Case = (Vec<(&'static str, &'static str)>, Option<String>);

struct Driver {
    core: MockCore,
    rw: String,
    ro: String,
    existing: String,
    counter: u32,
}

impl Driver {
    fn new(builder: &PaperlinkMockBuilder) -> Self {
        let (core, seeded) = MockCore::from_builder(builder).expect("core");
        let token = |scope| {
            seeded
                .iter()
                .find(|k| k.info.mode == KeyMode::Test && k.info.scope == scope)
                .map(|k| k.token.expose_secret().to_owned())
                .expect("seeded key")
        };
        let mut driver = Self {
            core,
            rw: token(KeyScope::ReadWrite),
            ro: token(KeyScope::ReadOnly),
            existing: String::new(),
            counter: 0,
        };
        let created = driver.send(
            Method::POST,
            "/products",
            Some(&driver.rw.clone()),
            &[],
            Some(r#"{"name":"Existing","unitPrice":1,"currency":"EUR","sku":"TAKEN"}"#),
        );
        driver.existing =
            serde_json::from_slice::<Value>(&created.body).expect("json")["data"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
        driver
    }

    fn send(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&'static str, &str)],
        body: Option<&str>,
    ) -> MockResponse {
        let (path, query) = match path.split_once('?') {
            Some((path, query)) => (path, Some(query.to_owned())),
            None => (path, None),
        };
        let mut request = MockRequest::new(method, format!("{API_PREFIX}{path}"));
        request.query = query;
        if let Some(token) = token {
            let value = format!("Bearer {token}").parse().expect("header");
            request.headers.insert("authorization", value);
        }
        if let Some(body) = body {
            request
                .headers
                .insert("content-type", "application/json".parse().expect("header"));
            request.body = body.as_bytes().to_vec();
        }
        for (name, value) in headers {
            request
                .headers
                .insert(*name, value.parse().expect("header"));
        }
        self.core.handle(&request)
    }

    fn fresh_body(&mut self) -> String {
        self.counter += 1;
        format!(
            r#"{{"name":"P{n}","unitPrice":1.50,"currency":"EUR","sku":"S{n}"}}"#,
            n = self.counter
        )
    }

    /// Drives one operation through every case that applies to it.
    fn drive(&mut self, template: &str, method: &Method, observed: &mut Observed) {
        let (rw, ro) = (self.rw.clone(), self.ro.clone());
        let ids = [
            self.existing.clone(),
            "00000000-0000-0000-0000-000000000000".to_owned(),
            "not-a-uuid".to_owned(),
        ];
        let paths: Vec<String> = if template.contains("{id}") {
            ids.iter().map(|id| template.replace("{id}", id)).collect()
        } else if *method == Method::GET && template == "/products" {
            [
                "",
                "?limit=0",
                "?limit=5",
                "?status=nope",
                "?after=",
                "?after=bogus",
            ]
            .iter()
            .map(|q| format!("{template}{q}"))
            .collect()
        } else {
            vec![template.to_owned()]
        };
        let write = *method != Method::GET;
        let mut record = |response: MockResponse| {
            let headers = response
                .headers
                .iter()
                .map(|(name, _)| name.to_string())
                .filter(|name| name != "content-type")
                .collect::<BTreeSet<_>>();
            observed
                .entry((template.to_owned(), method.to_string()))
                .or_default()
                .entry(response.status)
                .or_default()
                .extend(headers);
        };
        for path in &paths {
            for token in [
                None,
                Some("pk_test_nope"),
                Some(ro.as_str()),
                Some(rw.as_str()),
            ] {
                let body = write.then(|| {
                    self.counter += 1;
                    format!(
                        r#"{{"name":"P{n}","unitPrice":1.50,"currency":"EUR","sku":"S{n}"}}"#,
                        n = self.counter
                    )
                });
                let body = if *method == Method::DELETE {
                    None
                } else {
                    body
                };
                let response = self.send(method.clone(), path, token, &[], body.as_deref());
                record(response);
            }
            if !write {
                continue;
            }
            let cases: Vec<Case> = vec![
                (vec![], Some("{".to_owned())),
                (
                    vec![],
                    Some(r#"{"name":" ","unitPrice":-1,"currency":"eur"}"#.to_owned()),
                ),
                (
                    vec![],
                    Some(r#"{"name":"x","unitPrice":1,"currency":"EUR","sku":"TAKEN"}"#.to_owned()),
                ),
                (
                    vec![("content-type", "text/plain")],
                    Some(r#"{"name":"x"}"#.to_owned()),
                ),
                (
                    vec![],
                    Some(format!(
                        r#"{{"name":"{}"}}"#,
                        "x".repeat(crate::model::MAX_BODY)
                    )),
                ),
                (
                    vec![("idempotency-key", "has space")],
                    Some(self.fresh_body()),
                ),
            ];
            for (headers, body) in cases {
                let body = if *method == Method::DELETE {
                    None
                } else {
                    body
                };
                let response =
                    self.send(method.clone(), path, Some(&rw), &headers, body.as_deref());
                record(response);
            }
            // A replay, and the same key with another body.
            let key = format!("key-{}", self.counter);
            let body = self.fresh_body();
            let (first, other) = if *method == Method::DELETE {
                (None, None)
            } else {
                (
                    Some(body.as_str()),
                    Some(r#"{"name":"other","unitPrice":2,"currency":"EUR"}"#),
                )
            };
            for body in [first, first, other] {
                let headers = [("idempotency-key", key.as_str())];
                let response = self.send(method.clone(), path, Some(&rw), &headers, body);
                record(response);
            }
        }
        // Methods the path does not take.
        let allowed = API_ROUTES
            .iter()
            .find(|(t, _)| *t == template)
            .map(|(_, m)| *m)
            .unwrap_or_default();
        for other in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            if !allowed.contains(&other.as_str()) {
                let path = template.replace("{id}", &ids[0]);
                let response = self.send(other, &path, Some(&rw), &[], None);
                record(response);
            }
        }
    }
}

fn operations() -> Vec<(&'static str, Method)> {
    API_ROUTES
        .iter()
        .flat_map(|(template, methods)| {
            methods
                .iter()
                .map(|m| (*template, m.parse::<Method>().expect("method")))
        })
        .collect()
}

fn observe(builder: &PaperlinkMockBuilder, observed: &mut Observed) -> Driver {
    let mut driver = Driver::new(builder);
    for (template, method) in operations() {
        driver.drive(template, &method, observed);
    }
    driver
}

/// A `$ref` inside the document, resolved.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => reference
            .trim_start_matches("#/")
            .split('/')
            .fold(doc, |node, part| &node[part]),
        None => value,
    }
}

#[test]
fn every_status_and_header_the_core_emits_is_declared_for_its_operation() {
    let mut observed = Observed::new();
    observe(&PaperlinkMock::builder().seed(11), &mut observed);
    // A rate limit of one request per window: every second request is a 429.
    let limited = PaperlinkMock::builder()
        .seed(12)
        .rate_limit(RateLimitPolicy::new(1, Duration::from_secs(60)));
    observe(&limited, &mut observed);
    #[cfg(feature = "durable")]
    {
        // A data file that refuses every commit: every write that would succeed is a 503.
        let (dir, path) = super::data_file::data_file("contract-refused");
        let builder = PaperlinkMock::builder().seed(13).data_file(&path);
        let mut driver = Driver::new(&builder);
        super::data_file::store_of(&driver.core)
            .before_commit(Box::new(|| Err("the disk is full (injected)".to_owned())));
        for (template, method) in operations() {
            driver.drive(template, &method, &mut observed);
        }
        drop(driver);
        let _ = std::fs::remove_dir_all(dir);
    }

    let doc: Value = serde_json::from_str(crate::wire::OPENAPI_DOCUMENT).expect("the document");
    let mut missing = Vec::new();
    for ((template, method), statuses) in &observed {
        let operation = &doc["paths"][template.as_str()][method.to_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {template} is not documented"
        );
        for (status, headers) in statuses {
            let declared = resolve(&doc, &operation["responses"][status.to_string()]);
            if !declared.is_object() {
                missing.push(format!("{method} {template}: status {status}"));
                continue;
            }
            let names: BTreeSet<String> = declared["headers"]
                .as_object()
                .map(|h| h.keys().map(|k| k.to_ascii_lowercase()).collect())
                .unwrap_or_default();
            for header in headers {
                if !names.contains(header) {
                    missing.push(format!("{method} {template} {status}: header {header}"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "emitted but not declared:\n{}",
        missing.join("\n")
    );
    // The drive reached what it is meant to reach.
    let statuses: BTreeSet<u16> = observed.values().flat_map(|s| s.keys().copied()).collect();
    for expected in [200, 201, 400, 401, 403, 404, 405, 409, 413, 415, 429] {
        assert!(statuses.contains(&expected), "no {expected} was observed");
    }
    #[cfg(feature = "durable")]
    assert!(statuses.contains(&503), "no 503 was observed");
}
