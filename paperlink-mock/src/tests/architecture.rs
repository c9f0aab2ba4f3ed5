//! The crate guide's map (`ARCHITECTURE.md`) against the code: each step of the table is a
//! step comment of the dispatcher (`engine/mod.rs`), in the same order, and each file it names
//! exists.

const MAP: &str = include_str!("../../ARCHITECTURE.md");
const DISPATCHER: &str = include_str!("../engine/mod.rs");

/// The table's rows: (step, name, the files named in its file column).
fn steps() -> Vec<(u32, String, Vec<String>)> {
    MAP.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let step = cells.get(1)?.parse::<u32>().ok()?;
            let name = (*cells.get(2)?).to_owned();
            let files = cells
                .get(3)?
                .split('`')
                .skip(1)
                .step_by(2)
                .filter(|f| f.starts_with("src/"))
                .map(str::to_owned)
                .collect();
            Some((step, name, files))
        })
        .collect()
}

/// The dispatcher's step comments, in the order they appear: (step, what follows the number).
fn step_comments() -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for line in DISPATCHER
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("// "))
    {
        let mut rest = &line[3..];
        while let Some(dot) = rest.find(". ") {
            let digits: String = rest[..dot]
                .chars()
                .rev()
                .take_while(char::is_ascii_digit)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let after = &rest[dot + 2..];
            if let Ok(step) = digits.parse::<u32>() {
                found.push((step, after.to_lowercase()));
            }
            rest = after;
        }
    }
    found
}

#[test]
fn the_architecture_map_is_the_dispatchers_list() {
    let steps = steps();
    assert_eq!(
        steps.iter().map(|(n, _, _)| *n).collect::<Vec<_>>(),
        (1..=10).collect::<Vec<_>>(),
        "ten steps, in order"
    );
    let comments = step_comments();
    for (step, name, files) in &steps {
        let word = name.to_lowercase();
        let word = word.split_whitespace().last().unwrap_or_default();
        assert!(
            comments
                .iter()
                .any(|(n, text)| n == step && text.contains(word)),
            "step {step} ({name}) is not a step comment of engine/mod.rs: {comments:?}"
        );
        for file in files {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
            assert!(
                path.exists(),
                "step {step} names {file}, which does not exist"
            );
        }
    }
    // In the API's pass, the steps come in the map's order.
    let api_start = DISPATCHER.find("\nfn api(").expect("the API's steps");
    let api_end = DISPATCHER[api_start + 1..]
        .find("\n}\n")
        .map_or(DISPATCHER.len(), |end| api_start + 1 + end);
    let in_api: Vec<u32> = DISPATCHER[api_start..api_end]
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("// "))
        .filter_map(|l| l.split('.').next()?.parse().ok())
        .collect();
    assert!(in_api.windows(2).all(|w| w[0] < w[1]), "{in_api:?}");
    assert_eq!(
        in_api,
        [3, 4, 5, 6, 7],
        "the API's pass: authenticate to idempotency"
    );
}
