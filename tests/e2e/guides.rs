//! What the guides show is what users should write.

use std::path::Path;

/// Every `.rs` file directly in `dir`, with its text.
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("a source file");
            (path.display().to_string(), text)
        })
        .collect();
    files.sort();
    files
}

/// The SDK re-exports `Decimal`, and the README imports it from there: so do the SDK's docs
/// and the examples, so that a reader never needs a second crate for prices.
#[test]
fn the_sdk_docs_and_the_examples_take_decimal_from_the_sdk() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    for (file, text) in sources(&root.join("paperlink-sdk/src")) {
        for (n, line) in text.lines().enumerate() {
            let trimmed = line.trim_start();
            let doc = trimmed.starts_with("//!") || trimmed.starts_with("///");
            if doc && line.contains("rust_decimal::") {
                found.push(format!("{file}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    for (file, text) in sources(&root.join("examples")) {
        for (n, line) in text.lines().enumerate() {
            if line.contains("rust_decimal") {
                found.push(format!("{file}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "use paperlink_sdk::Decimal:\n{}",
        found.join("\n")
    );
}
