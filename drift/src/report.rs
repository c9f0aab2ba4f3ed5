//! The comparison and its two outputs: a table (check, decision, mock, target, same or
//! different) with a summary line, or JSON
//! (`{"differences":[{"check","decision","expected","observed"}],"same":N,"requests":N}`,
//! plus the checks not run and the products not archived).

use serde_json::json;

use crate::checks::Check;
use crate::cleanup::Cleanup;
use crate::error::Fatal;
use crate::observe::printable;
use crate::scenario::Observations;

/// One compared check.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// The check.
    pub(crate) check: Check,
    /// What the mock answered (the expectation).
    pub(crate) mock: String,
    /// What the target answered.
    pub(crate) target: String,
}

impl Row {
    /// Whether both sides behaved alike.
    pub(crate) fn same(&self) -> bool {
        self.mock == self.target
    }
}

/// What the run found.
#[derive(Debug)]
pub(crate) struct Report {
    /// Every check both sides ran, in run order.
    pub(crate) rows: Vec<Row>,
    /// Checks the keys given did not allow.
    pub(crate) not_run: Vec<Check>,
    /// Requests sent to the target.
    pub(crate) requests: u32,
    /// The clean-up.
    pub(crate) cleanup: Cleanup,
    /// Who ran against what (hints only).
    pub(crate) heading: String,
}

impl Report {
    /// Pairs the two sides' observations.
    pub(crate) fn compare(
        mock: &Observations,
        target: &Observations,
        requests: u32,
        cleanup: Cleanup,
        heading: String,
    ) -> Self {
        let absent = || "(not observed)".to_owned();
        let mut rows = Vec::new();
        let mut not_run = Vec::new();
        for check in Check::ALL {
            match (mock.get(check), target.get(check)) {
                (None, None) => not_run.push(*check),
                (m, t) => rows.push(Row {
                    check: *check,
                    mock: m.cloned().unwrap_or_else(absent),
                    target: t.cloned().unwrap_or_else(absent),
                }),
            }
        }
        Self {
            rows,
            not_run,
            requests,
            cleanup,
            heading,
        }
    }

    /// 0 when every check is the same, 1 otherwise.
    pub(crate) fn exit_code(&self) -> u8 {
        u8::from(self.rows.iter().any(|r| !r.same()))
    }

    /// The JSON output.
    pub(crate) fn json(&self) -> String {
        let differences: Vec<_> = self
            .rows
            .iter()
            .filter(|r| !r.same())
            .map(|r| {
                json!({
                    "check": r.check.id(),
                    "decision": r.check.decision(),
                    "expected": r.mock,
                    "observed": r.target,
                })
            })
            .collect();
        json!({
            "differences": differences,
            "same": self.rows.iter().filter(|r| r.same()).count(),
            "requests": self.requests,
            "notRun": self.not_run.iter().map(|c| c.id()).collect::<Vec<_>>(),
            "created": self.cleanup.created,
            "notArchived": not_archived(&self.cleanup),
        })
        .to_string()
    }

    /// The table and the summary.
    pub(crate) fn table(&self) -> String {
        let mut out = format!("{}\n\n", self.heading);
        let header = ["check", "decision", "mock", "target", "result"];
        let widths = [28, 22, 36, 36, 9];
        out.push_str(&row_lines(&header.map(str::to_owned), &widths));
        out.push_str(&format!(
            "{}\n",
            "-".repeat(widths.iter().sum::<usize>() + 2 * 4)
        ));
        for row in &self.rows {
            let cells = [
                row.check.id().to_owned(),
                row.check
                    .decision()
                    .unwrap_or("(stated in the docs)")
                    .replace('`', ""),
                row.mock.clone(),
                row.target.clone(),
                if row.same() { "same" } else { "DIFFERENT" }.to_owned(),
            ];
            out.push_str(&row_lines(&cells, &widths));
        }
        let different = self.rows.iter().filter(|r| !r.same()).count();
        out.push('\n');
        if !self.not_run.is_empty() {
            let ids: Vec<&str> = self.not_run.iter().map(|c| c.id()).collect();
            out.push_str(&format!(
                "not run ({}): {}\n  (the write checks need --write-key; the refusal checks a Read-only --key)\n",
                ids.len(),
                ids.join(", ")
            ));
        }
        out.push_str(&cleanup_lines(&self.cleanup));
        out.push_str(&format!(
            "{different} different, {} same, {} not run; {} requests to the target\n",
            self.rows.len() - different,
            self.not_run.len(),
            self.requests
        ));
        out
    }
}

fn not_archived(cleanup: &Cleanup) -> Vec<serde_json::Value> {
    cleanup
        .not_archived
        .iter()
        .map(|(id, why)| json!({"id": id, "why": why}))
        .collect()
}

/// What the clean-up did, for a person.
pub(crate) fn cleanup_lines(cleanup: &Cleanup) -> String {
    let mut out = String::new();
    if cleanup.created > 0 {
        out.push_str(&format!(
            "clean-up: {} product(s) created, {} archived by the clean-up, {} left active\n",
            cleanup.created,
            cleanup.archived_now,
            cleanup.not_archived.len()
        ));
    }
    for (id, why) in &cleanup.not_archived {
        out.push_str(&format!(
            "  NOT ARCHIVED: product {}: {}\n",
            printable(id, 80),
            printable(why, 300)
        ));
    }
    out
}

/// A run that stopped: the reason, what it sent, what it left.
pub(crate) fn fatal(error: &Fatal, requests: u32, cleanup: &Cleanup, as_json: bool) -> String {
    if as_json {
        return json!({
            "error": error.chain(),
            "requests": requests,
            "created": cleanup.created,
            "notArchived": not_archived(cleanup),
        })
        .to_string();
    }
    let mut out = format!("paperlink-drift: {}\n", error.chain());
    out.push_str(&cleanup_lines(cleanup));
    out.push_str(&format!("{requests} requests to the target\n"));
    out
}

/// A table row over as many lines as its longest cell needs.
fn row_lines(cells: &[String; 5], widths: &[usize; 5]) -> String {
    let wrapped: Vec<Vec<String>> = cells
        .iter()
        .zip(widths)
        .map(|(cell, width)| wrap(cell, *width))
        .collect();
    let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
    let mut out = String::new();
    for line in 0..height {
        let parts: Vec<String> = wrapped
            .iter()
            .zip(widths)
            .map(|(cell, width)| {
                let text = cell.get(line).map_or("", String::as_str);
                format!("{text:<width$}")
            })
            .collect();
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Words over lines of at most `width` characters (a longer word is cut); a JSON shape breaks
/// after its commas.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let spaced = text.replace(',', ", ");
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in spaced.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > width {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(word.drain(..width).collect());
        }
        let word: String = word.into_iter().collect();
        let needed = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if needed > width && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_word_within_the_width() {
        let lines = wrap("{a:string,bb:number,ccc:null} and more words", 12);
        assert!(lines.iter().all(|l| l.chars().count() <= 12), "{lines:?}");
        assert_eq!(
            lines.join(" ").replace(", ", ","),
            "{a:string,bb:number,ccc:null} and more words"
        );
    }

    #[test]
    fn a_difference_sets_exit_status_1_and_lists_the_expected_and_observed() {
        let mut mock = Observations::new();
        let mut target = Observations::new();
        mock.insert(Check::CreateStatus, "201".into());
        target.insert(Check::CreateStatus, "200".into());
        mock.insert(Check::Head, "200, no body".into());
        target.insert(Check::Head, "200, no body".into());
        let report = Report::compare(&mock, &target, 7, Cleanup::default(), String::new());
        assert_eq!(report.exit_code(), 1);
        let json: serde_json::Value = serde_json::from_str(&report.json()).expect("JSON");
        assert_eq!(json["same"], 1);
        assert_eq!(json["requests"], 7);
        assert_eq!(
            json["differences"],
            json!([{"check": "create.status", "decision": "Create", "expected": "201", "observed": "200"}])
        );
        assert!(report.table().contains("DIFFERENT"));
    }
}
