//! The mock core's request handling: any method, path, query, headers and body get an answer,
//! never a panic and never a 500 (no faults are injected here). State carries over between
//! inputs, so sequences of writes are explored too.
#![no_main]

use std::sync::OnceLock;

use http::{HeaderValue, Method};
use libfuzzer_sys::fuzz_target;
use paperlink_mock::engine::{MockCore, MockRequest};
use paperlink_mock::{KeyMode, KeyScope, PaperlinkMock};

struct Fixture {
    core: MockCore,
    tokens: Vec<String>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let builder = PaperlinkMock::builder().seed(1).no_rate_limit();
        let Ok((core, seeded)) = MockCore::from_builder(&builder) else {
            std::process::abort();
        };
        let tokens = seeded
            .iter()
            .filter(|k| k.info.mode == KeyMode::Test || k.info.scope == KeyScope::ReadOnly)
            .map(|k| secrecy::ExposeSecret::expose_secret(&k.token).to_owned())
            .collect();
        Fixture { core, tokens }
    })
}

const PATHS: &[&str] = &[
    "/api/v1/products",
    "/api/v1/products/",
    "/api/v1/openapi.json",
    "/api/v1/products/00000000-0000-4000-8000-000000000000",
    "/__admin/keys",
    "/__admin/products",
    "/__admin/clock/advance",
    "/__admin/faults",
    "/api/v2/products",
];

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    let [m, p, flags, split, rest @ ..] = data else { return };
    let method = [Method::GET, Method::POST, Method::PATCH, Method::DELETE, Method::PUT][usize::from(*m) % 5].clone();
    let cut = usize::from(*split).min(rest.len());
    let (extra, body) = rest.split_at(cut);
    let extra = String::from_utf8_lossy(extra);
    let mut path = PATHS[usize::from(*p) % PATHS.len()].to_owned();
    if flags & 1 != 0 {
        path.push_str(&extra);
    }
    if path.starts_with("/__admin/faults") || path.starts_with("/__admin/reset") {
        // Faults would make a 500 legitimate; the control plane's own parsing is covered by
        // the other admin paths.
        return;
    }
    let mut request = MockRequest::new(method, path);
    if flags & 2 != 0 {
        request.query = Some(extra.into_owned());
    }
    if flags & 4 != 0 {
        let token = &fixture.tokens[usize::from(*p) % fixture.tokens.len()];
        if let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}")) {
            request.headers.insert("authorization", value);
        }
    }
    if flags & 8 != 0 {
        request.headers.insert("content-type", HeaderValue::from_static("application/json"));
    }
    if flags & 16 != 0 {
        if let Ok(value) = HeaderValue::from_bytes(&body[..body.len().min(40)]) {
            request.headers.insert("idempotency-key", value);
        }
    }
    request.body = body.to_vec();
    let response = fixture.core.handle(&request);
    assert!(response.status < 500, "{} {} -> {}", request.method, request.path, response.status);
    assert!(response.header_value("x-request-id").is_some());
});
