//! The client suite's judge: splits a client's output into steps, compares the proxy run with
//! the plain-MariaDB run step by step against the known gaps, and writes a report a person can
//! read (one line per step, then the first unexpected difference as a diff).

use std::fmt::Write as _;

/// A step whose proxy output is known to differ from plain MariaDB's.
#[derive(Debug, Clone, Copy)]
pub struct Gap {
    pub client: &'static str,
    pub step: &'static str,
    /// The numbered items of issue 12 that make it differ (all must be fixed for it to match).
    pub items: &'static [u8],
    /// A proxy bug issue 12 does not list, when one also (or only) makes it differ.
    pub unlisted: Option<&'static str>,
    /// What differs, proxy vs plain, in one line.
    pub observed: &'static str,
    /// The client cannot go on after this step (e.g. it cannot connect): the steps after it
    /// that the proxy run never printed are reported as not run instead of failing.
    pub blocks_rest: bool,
}

impl Gap {
    pub fn cause_text(&self) -> String {
        let mut parts = Vec::new();
        if !self.items.is_empty() {
            let n: Vec<String> = self.items.iter().map(|i| format!("#{i}")).collect();
            parts.push(format!("issue 12 item {}", n.join(" + ")));
        }
        if let Some(u) = self.unlisted {
            parts.push(format!("not in issue 12: {u}"));
        }
        parts.join(" + ")
    }
}

/// One run's output, split into named steps in the order they were printed.
#[derive(Debug, Default, Clone)]
pub struct Steps {
    pub steps: Vec<(String, String)>,
    /// Output that belongs to no step (tracebacks, stray prints).
    pub stray: String,
}

impl Steps {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.steps
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.as_str())
    }

    pub fn push(&mut self, name: &str, payload: String) {
        self.steps.push((name.to_string(), payload));
    }
}

/// Bytes as text: valid UTF-8 as it is, every other byte as `\xNN` (never lossy, so two
/// different invalid bytes never compare equal).
pub fn escape_bytes(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (good, rest) = bytes.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap_or_default());
                let bad = e.error_len().unwrap_or(rest.len()).max(1);
                for b in &rest[..bad] {
                    let _ = write!(out, "\\x{b:02X}");
                }
                bytes = &rest[bad..];
            }
        }
    }
}

/// Output of the scripted clients: one `STEP<TAB>name<TAB>payload` line per step.
pub fn parse_step_lines(out: &str) -> Steps {
    let mut s = Steps::default();
    for line in out.lines() {
        match line.strip_prefix("STEP\t").and_then(|r| r.split_once('\t')) {
            Some((name, payload)) => s.push(name, payload.to_string()),
            None => {
                s.stray.push_str(line);
                s.stray.push('\n');
            }
        }
    }
    s
}

/// Output of `mariadb -vvv`: a step starts at the echo of `SELECT 'STEP name' AS step_marker`;
/// what comes before the first marker is the step `first`. Timings are removed.
pub fn parse_cli(out: &str, first: &str) -> Steps {
    let mut s = Steps::default();
    let mut name = first.to_string();
    let mut body: Vec<String> = Vec::new();
    for line in out.lines() {
        if let Some(next) = line
            .strip_prefix("SELECT 'STEP ")
            .and_then(|rest| rest.strip_suffix("' AS step_marker"))
        {
            // The separator line above the echo belongs to the marker, not the step.
            if body.last().is_some_and(|l| l.starts_with("-----")) {
                body.pop();
            }
            s.push(&name, body.join("\n"));
            name = next.to_string();
            body.clear();
            continue;
        }
        body.push(strip_timing(line));
    }
    s.push(&name, body.join("\n"));
    s
}

/// `3 rows in set (0.001 sec)` -> `3 rows in set`.
fn strip_timing(line: &str) -> String {
    match line.rfind(" (") {
        Some(i) if line.ends_with(" sec)") => line[..i].to_string(),
        _ => line.to_string(),
    }
}

/// The verdict on one step.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Same,
    /// Differs, as KNOWN_GAPS says.
    KnownGap,
    /// Never printed by the proxy run because an earlier blocking gap stopped the client.
    NotRun(String),
    /// Differs and is not a known gap.
    Unexpected,
    /// A known gap that now matches: the entry must go.
    GapFixed,
    /// Printed by the plain run only, with no blocking gap to explain it.
    Missing,
}

/// The comparison of one client's two runs.
pub struct Outcome {
    pub report: String,
    /// One line: how many steps were equal, known gaps, not run.
    pub summary: String,
    pub failures: Vec<String>,
}

/// Compares `proxy` with `plain` step by step for `client`, given its known gaps.
pub fn judge(client: &str, plain: &Steps, proxy: &Steps, gaps: &[Gap]) -> Outcome {
    let gaps: Vec<&Gap> = gaps.iter().filter(|g| g.client == client).collect();
    let mut report = String::new();
    let mut failures = Vec::new();
    let mut first_diff: Option<String> = None;
    let mut blocked_by: Option<&Gap> = None;
    let (mut same, mut known, mut not_run) = (0, 0, 0);
    let width = plain.steps.iter().map(|(n, _)| n.len()).max().unwrap_or(10);
    // CLIENT_SUITE_DIFFS=1 shows the difference of every known gap too.
    let verbose = std::env::var_os("CLIENT_SUITE_DIFFS").is_some();
    for (name, want) in &plain.steps {
        let gap = gaps.iter().copied().find(|g| g.step == name);
        let got = proxy.get(name);
        let verdict = match (got, gap, blocked_by) {
            (None, _, Some(b)) => Verdict::NotRun(format!(
                "blocked by the gap at `{}` ({})",
                b.step,
                b.cause_text()
            )),
            (None, _, None) => Verdict::Missing,
            (Some(g), None, _) if g == want => Verdict::Same,
            (Some(g), Some(_), _) if g == want => Verdict::GapFixed,
            (Some(_), Some(_), _) => Verdict::KnownGap,
            (Some(_), None, _) => Verdict::Unexpected,
        };
        if let (Some(g), Verdict::KnownGap) = (gap, &verdict)
            && g.blocks_rest
        {
            blocked_by = Some(g);
        }
        let line = match &verdict {
            Verdict::Same => "ok".to_string(),
            Verdict::KnownGap => {
                let g = gap.expect("known gap");
                format!("KNOWN GAP ({}): {}", g.cause_text(), g.observed)
            }
            Verdict::NotRun(why) => format!("NOT RUN through the proxy: {why}"),
            Verdict::Unexpected => "FAIL: differs from plain MariaDB".to_string(),
            Verdict::GapFixed => {
                let g = gap.expect("known gap");
                format!(
                    "FIXED: now equal to plain MariaDB; remove the KNOWN_GAPS entry ({client}, {name}, {})",
                    g.cause_text()
                )
            }
            Verdict::Missing => "FAIL: the proxy run never printed this step".to_string(),
        };
        let _ = writeln!(report, "  {name:<width$}  {line}");
        if verbose && matches!(verdict, Verdict::KnownGap) {
            let _ = writeln!(report, "{}", diff(name, want, got.unwrap_or_default()));
        }
        match verdict {
            Verdict::Same => same += 1,
            Verdict::KnownGap => known += 1,
            Verdict::NotRun(_) => not_run += 1,
            Verdict::Unexpected => {
                failures.push(format!(
                    "{client}: step `{name}` differs from plain MariaDB and is not in KNOWN_GAPS"
                ));
                if first_diff.is_none() {
                    first_diff = Some(diff(name, want, got.unwrap_or_default()));
                }
            }
            Verdict::GapFixed => failures.push(format!(
                "{client}: step `{name}` now matches plain MariaDB: remove its KNOWN_GAPS entry"
            )),
            Verdict::Missing => failures.push(format!(
                "{client}: step `{name}` was not printed by the proxy run (the client stopped early?)"
            )),
        }
    }
    for (name, _) in &proxy.steps {
        if plain.get(name).is_none() {
            failures.push(format!(
                "{client}: the proxy run printed step `{name}` that the plain run did not"
            ));
        }
    }
    for g in &gaps {
        if plain.get(g.step).is_none() {
            failures.push(format!(
                "{client}: KNOWN_GAPS names step `{}` that the scenario does not have",
                g.step
            ));
        }
    }
    if let Some(d) = first_diff {
        let _ = writeln!(report, "\nfirst unexpected difference:\n{d}");
    }
    if !proxy.stray.trim().is_empty() {
        let _ = writeln!(
            report,
            "\nproxy run, other output:\n{}",
            clip(&proxy.stray, 4000)
        );
    }
    let mut summary = format!(
        "client suite: {client}: {} steps, {same} equal to plain MariaDB, {known} known gaps",
        plain.steps.len()
    );
    if let Some(b) = blocked_by {
        let _ = write!(
            summary,
            ", {not_run} NOT RUN through the proxy (blocked at `{}`: {})",
            b.step,
            b.cause_text()
        );
    }
    if !failures.is_empty() {
        let _ = write!(summary, ", {} FAILURES", failures.len());
    }
    Outcome {
        report,
        summary,
        failures,
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} more bytes)", &s[..end], s.len() - end)
}

/// A readable difference of one step: a line diff for multi-line payloads (the CLI), and for
/// one-line JSON the first differing position with context on both sides.
pub fn diff(name: &str, plain: &str, proxy: &str) -> String {
    let mut out = format!("  step `{name}` (- plain MariaDB, + proxy)\n");
    let a: Vec<&str> = plain.lines().collect();
    let b: Vec<&str> = proxy.lines().collect();
    if a.len() <= 1 && b.len() <= 1 {
        let at = plain
            .char_indices()
            .zip(proxy.chars())
            .find(|((_, x), y)| x != y)
            .map(|((i, _), _)| i)
            .unwrap_or(plain.len().min(proxy.len()));
        let at = floor_boundary(plain, at).min(floor_boundary(proxy, at));
        let from = floor_boundary(plain, at.saturating_sub(160));
        let _ = writeln!(out, "  first difference at character {at}:");
        let dots = if from > 0 { "..." } else { "" };
        let _ = writeln!(out, "  - {dots}{}", clip(&plain[from..], 400));
        let _ = writeln!(out, "  + {dots}{}", clip(&proxy[from..], 400));
        return out;
    }
    // Changed lines with 3 lines of context around them.
    let lines = line_diff(&a, &b);
    let changed: Vec<usize> = (0..lines.len())
        .filter(|&i| !lines[i].starts_with("  "))
        .collect();
    let near = |i: usize| changed.iter().any(|&c| c.abs_diff(i) <= 3);
    let mut skipped = false;
    for (i, l) in lines.iter().enumerate() {
        if near(i) {
            let _ = writeln!(out, "  {}", clip(l, 300));
            skipped = false;
        } else if !skipped {
            let _ = writeln!(out, "  ...");
            skipped = true;
        }
    }
    out
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A longest-common-subsequence line diff (steps are short).
fn line_diff(a: &[&str], b: &[&str]) -> Vec<String> {
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push(format!("  {}", a[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(format!("+ {}", b[j]));
            j += 1;
        } else {
            out.push(format!("- {}", a[i]));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_invalid_utf8_byte_by_byte() {
        assert_eq!(escape_bytes(b"a\xff\x80b\xc3\xa9"), "a\\xFF\\x80bé");
    }

    #[test]
    fn cli_output_splits_at_markers() {
        let out = "--------------\nSELECT 1\n--------------\n\n1 row in set (0.001 sec)\n\
                   --------------\nSELECT 'STEP two' AS step_marker\n--------------\n\nx\n";
        let s = parse_cli(out, "connect");
        assert_eq!(s.steps[0].0, "connect");
        assert!(s.steps[0].1.ends_with("1 row in set"));
        assert_eq!(
            s.steps[1],
            ("two".to_string(), "--------------\n\nx".to_string())
        );
    }
}
