//! The SDK's response parsing: bodies of every shape and the headers it reads.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let status = data.first().map_or(500, |b| 400 + u16::from(*b) % 200);
    let text = paperlink_sdk::fuzzing::response(status, data);
    assert!(text.chars().count() < 600, "error text is bounded");
    let mut parts = data.splitn(4, |b| *b == b'\n');
    let retry_after = parts.next().unwrap_or_default();
    let limit = parts.next().unwrap_or_default();
    let remaining = parts.next().unwrap_or_default();
    let reset = parts.next().unwrap_or_default();
    paperlink_sdk::fuzzing::headers(&[
        (b"retry-after", retry_after),
        (b"x-ratelimit-limit", limit),
        (b"x-ratelimit-remaining", remaining),
        (b"x-ratelimit-reset", reset),
    ]);
});
