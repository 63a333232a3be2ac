//! Routing previews for the DBA, without connecting anywhere: the plan a statement gets
//! (`shardgate route --config FILE "SQL"`) and the shard one key lives on (`shardgate route
//! --table T --key K`). They run the proxy's own analyze and route steps on the rules file, so
//! what they print is what the proxy runs; the golden routing tests (`tests/routing.rs`) check
//! plans through [`plan_text`] too.
//!
//! What a preview cannot know: the ids a sequence would hand out (shown as 1, 2, 3, ...), the
//! column list of a table for an INSERT without one (the proxy asks a backend), and what the
//! engine does before routing for some statements (subqueries on sharded tables run first, a
//! SELECT of session values is answered by the proxy).

use super::router::{RouteInput, ids_needed, resolve, route};
use crate::config::{Algorithm, Rules};
use crate::error::{ProxyError, Result};
use crate::plan::{Merge, Plan};
use crate::sql::analyze::{Analysis, AnalyzeError, TableName, analyze};
use crate::sql::command::{Command, classify};
use mysql_async::Value;

/// The plan of `a` in schema `schema` (bound `params`; `columns`: the table's columns for an
/// INSERT without a column list), as the router makes it, with sequence ids 1, 2, 3, ...
pub fn plan_of(
    rules: &Rules,
    schema: Option<&str>,
    a: &Analysis,
    params: &[Value],
    columns: Option<&[String]>,
) -> Result<Plan> {
    let ids: Vec<u64> = match ids_needed(rules, schema, a, columns, params, false)? {
        Some((_, n)) => (1..=n as u64).collect(),
        None => Vec::new(),
    };
    route(&RouteInput {
        rules,
        schema,
        analysis: a,
        params,
        ids: &ids,
        pinned: &[],
        no_auto_value_on_zero: false,
        columns,
    })
}

/// [`plan_of`] as the golden routing cases print it: one line per shard (`<original>` for the
/// client's text unchanged), then the merge; or `error CODE: message`.
pub fn plan_text(
    rules: &Rules,
    schema: Option<&str>,
    a: &Analysis,
    params: &[Value],
    columns: Option<&[String]>,
) -> String {
    match plan_of(rules, schema, a, params, columns) {
        Ok(plan) => plan.describe(rules),
        Err(e) => format!("error {}: {e}\n", e.code()),
    }
}

/// What the proxy does with `sql` in schema `schema`, for a person: each shard with the SQL it
/// runs, where reads go, and how the results merge. Errors are the ones a client would get.
pub fn explain(rules: &Rules, schema: Option<&str>, sql: &str) -> Result<String> {
    if !matches!(classify(sql), Command::Sql) {
        return Ok(format!(
            "not a statement on tables: the proxy answers it itself, or sends it to the default \
             shard of the schema ({})\n",
            default_shard_name(rules, schema)
        ));
    }
    let a = match analyze(sql) {
        Ok(a) => a,
        Err(AnalyzeError::Multiple) => {
            return Err(ProxyError::Syntax("one statement expected".into()));
        }
        Err(AnalyzeError::Parse(msg)) => return Err(ProxyError::Syntax(msg)),
    };
    if a.param_count > 0 {
        return Err(ProxyError::Malformed(
            "the statement has `?` placeholders: give the values in its text".into(),
        ));
    }
    let plan = plan_of(rules, schema, &a, &[], None)?;
    let mut out = String::new();
    for t in &plan.targets {
        let name = shard_name(rules, t.shard);
        match &t.sql {
            None => out.push_str(&format!("{name}: {sql}\n")),
            Some(s) => out.push_str(&format!("{name}: {s}\n")),
        }
    }
    out.push_str(&format!("merge: {}\n", plan.merge));
    out.push_str(&format!("runs on: {}\n", role(&plan)));
    Ok(out)
}

/// Where reads of the plan go.
fn role(plan: &Plan) -> &'static str {
    if plan.replica_ok {
        "a replica of each shard outside transactions (per read_from and causal), else the primary"
    } else if matches!(plan.merge, Merge::Affected { .. }) || plan.write {
        "the primary of each shard"
    } else {
        "the primary of each shard (a read a replica must not answer: locking, or with side effects)"
    }
}

/// The shard holding key `key` of table `table` in schema `schema`, for a person.
pub fn explain_key(rules: &Rules, schema: Option<&str>, table: &str, key: &str) -> Result<String> {
    let t = TableName {
        schema: None,
        name: table.to_string(),
    };
    let (s, rule) = resolve(rules, schema, &t)?;
    let Some(rule) = rule else {
        return Ok(format!(
            "{}.{table} is not sharded: every row is on {}\n",
            s.name,
            shard_name(rules, s.default_shard)
        ));
    };
    if matches!(*rule.algorithm, Algorithm::Broadcast) {
        let all: Vec<&str> = rule.shards.iter().map(|x| shard_name(rules, *x)).collect();
        return Ok(format!(
            "{}.{table} is a broadcast table: every row is on each of {}\n",
            s.name,
            all.join(", ")
        ));
    }
    let column = rule.key.as_deref().unwrap_or("?");
    let k = rule
        .key_of(&Value::Bytes(key.as_bytes().to_vec()))
        .map_err(|e| e.in_column(table, column))?;
    let shard = rule.shard_for_key(&k)?;
    Ok(format!(
        "{}.{table} {column} = {key}: {}\n",
        s.name,
        shard_name(rules, shard)
    ))
}

fn shard_name(rules: &Rules, shard: usize) -> &str {
    rules
        .shards
        .get(shard)
        .map(|s| s.name.as_str())
        .unwrap_or("?")
}

fn default_shard_name<'a>(rules: &'a Rules, schema: Option<&str>) -> &'a str {
    schema
        .and_then(|s| rules.schema(s))
        .map(|s| shard_name(rules, s.default_shard))
        .unwrap_or_else(|| shard_name(rules, 0))
}
