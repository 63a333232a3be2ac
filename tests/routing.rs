//! Golden routing tests a DBA can read: `tests/routing/cases.toml` lists statements against the
//! demo rules (`rules/example.toml`, schema `shop`) with the plan each must produce — which shard
//! runs what, and how results merge — or the error it must get. On a mismatch the actual plans
//! are written to `tests/routing/cases.actual.toml` for review.

#[path = "routing/cases.rs"]
mod cases;

use cases::Case;
use mysql_async::Value;
use shardgate::config::Rules;
use shardgate::route::preview;
use shardgate::sql::analyze::analyze;
use shardgate::sql::cache::PlanCache;
use std::path::PathBuf;

fn value(v: &toml::Value) -> Value {
    match v {
        toml::Value::Integer(i) => Value::Int(*i),
        toml::Value::Float(f) => Value::Double(*f),
        toml::Value::String(s) => Value::Bytes(s.clone().into_bytes()),
        toml::Value::Boolean(b) => Value::Int(i64::from(*b)),
        other => panic!("unsupported parameter {other}"),
    }
}

fn plan_text(rules: &Rules, c: &Case) -> String {
    let a = match analyze(&c.sql) {
        Ok(a) => a,
        Err(e) => return format!("parse error: {e:?}\n"),
    };
    let params: Vec<Value> = c.params.iter().map(value).collect();
    plan_of(rules, &a, &params, c.columns.as_deref())
}

/// The same statement through the text path's normalised plan cache must plan identically.
fn normalized_plan_text(rules: &Rules, c: &Case) -> Option<String> {
    if !c.params.is_empty() {
        return None;
    }
    let cache = PlanCache::new(16);
    let (a, literals) = cache.get_text(&c.sql).ok()?;
    Some(plan_of(rules, &a, &literals, c.columns.as_deref()))
}

/// The plan as `shardgate route` and the proxy make it (the library's preview).
fn plan_of(
    rules: &Rules,
    a: &shardgate::sql::analyze::Analysis,
    params: &[Value],
    columns: Option<&[String]>,
) -> String {
    preview::plan_text(rules, Some("shop"), a, params, columns)
}

#[test]
fn routing_cases_match_their_golden_plans() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let rules = Rules::load(&root.join("rules/example.toml")).expect("example rules load");
    let cases = cases::load();
    assert!(cases.cases.len() >= 20, "the cases file lost its cases");
    let mut failures = Vec::new();
    let mut actual = String::from("# Actual plans (written by tests/routing.rs on a mismatch).\n");
    for c in &cases.cases {
        let got = plan_text(&rules, c);
        actual.push_str(&format!(
            "\n[[cases]]\nsql = {}\n",
            toml::Value::String(c.sql.clone())
        ));
        if !c.params.is_empty() {
            let p: Vec<String> = c.params.iter().map(|v| v.to_string()).collect();
            actual.push_str(&format!("params = [{}]\n", p.join(", ")));
        }
        if let Some(cols) = &c.columns {
            let q: Vec<String> = cols.iter().map(|c| format!("{c:?}")).collect();
            actual.push_str(&format!("columns = [{}]\n", q.join(", ")));
        }
        actual.push_str(&format!("expect = \"\"\"\n{got}\"\"\"\n"));
        if let Some(norm) = normalized_plan_text(&rules, c)
            && norm != got
        {
            failures.push(format!(
                "{}\n  plans differently with its literals normalised:\n{norm}",
                c.sql
            ));
        }
        if got.trim() != c.expect.trim() {
            failures.push(format!(
                "{}\n  expected:\n{}\n  got:\n{}",
                c.sql, c.expect, got
            ));
        }
    }
    let actual_path = root.join("tests/routing/cases.actual.toml");
    if failures.is_empty() {
        let _ = std::fs::remove_file(&actual_path);
    } else {
        std::fs::write(&actual_path, actual).expect("write actual plans");
        panic!(
            "{} routing case(s) differ (actual plans in {}):\n\n{}",
            failures.len(),
            actual_path.display(),
            failures.join("\n\n")
        );
    }
}
