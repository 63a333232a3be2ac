//! `shardgate check --connect`: the rules compared with the servers. For every table a rule
//! places by key, on every shard, each physical table that exists must have the key column,
//! of a type that fits `key_type`, and (for string keys) of the collation the rule places keys
//! by. Tables not created yet, and tables on shards the rules do not place them on, are notes.

use super::Backends;
use crate::config::split::logical_names;
use crate::config::{Collation, KeyType, Rules, Schema, ShardId, TableRule};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What the check found.
#[derive(Debug, Default)]
pub struct Report {
    /// Mismatches between the rules and the servers (the check fails).
    pub errors: Vec<String>,
    /// Things worth knowing that are not wrong (tables not created yet).
    pub notes: Vec<String>,
}

/// One column as information_schema describes it.
struct Column {
    data_type: String,
    collation: Option<String>,
}

/// Compares every schema of `rules` with every shard's primary.
pub async fn check(rules: &Rules) -> Report {
    let backends = Backends::new(rules);
    let mut report = Report::default();
    for shard in 0..rules.shards.len() {
        if let Err(e) = check_shard(rules, &backends, shard, &mut report).await {
            report
                .errors
                .push(format!("shard {}: {e}", backends.shard_name(shard)));
        }
    }
    backends.close().await;
    report
}

async fn check_shard(
    rules: &Rules,
    backends: &Backends,
    shard: ShardId,
    report: &mut Report,
) -> Result<(), String> {
    let here = backends.shard_name(shard).to_string();
    let mut conn = backends
        .wire(shard, None, false)
        .await
        .map_err(|e| e.to_string())?;
    for schema in &rules.schemas {
        let found = conn
            .exec_rows(
                "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLLATION_NAME \
                 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?",
                &[mysql_async::Value::from(schema.name.as_str())],
            )
            .await
            .map_err(|e| e.to_string())?;
        let rows = found.into_iter().map(|row| {
            let mut row = row.into_iter().map(|v| match v {
                mysql_async::Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
                _ => None,
            });
            let mut next = || row.next().flatten();
            (
                next().unwrap_or_default(),
                next().unwrap_or_default(),
                next().unwrap_or_default(),
                next(),
            )
        });
        let mut tables: BTreeMap<String, BTreeMap<String, Column>> = BTreeMap::new();
        for (t, c, data_type, collation) in rows {
            tables.entry(t).or_default().insert(
                c.to_lowercase(),
                Column {
                    data_type: data_type.to_lowercase(),
                    collation,
                },
            );
        }
        let split = logical_names(schema);
        for (table, columns) in &tables {
            let rule = match split.get(&table.to_lowercase()) {
                Some(logical) => schema.table(logical),
                None => schema.table(table),
            };
            let Some(rule) = rule else { continue };
            let Some(key) = rule.key.as_deref() else {
                continue; // broadcast: no key
            };
            let at = format!("{}.{table} on {here}", schema.name);
            if rule.split.is_none() && !rule.shards.contains(&shard) {
                report.notes.push(format!(
                    "{at}: the rules place `{}` on other shards; this copy is not used",
                    rule.name
                ));
                continue;
            }
            if rule.split.is_some() && !split.contains_key(&table.to_lowercase()) {
                report.notes.push(format!(
                    "{at}: `{}` is split into physical tables; a table of the logical name is not used",
                    rule.name
                ));
                continue;
            }
            match columns.get(&key.to_lowercase()) {
                None => report.errors.push(format!(
                    "{at}: no column `{key}`, the shard key of its rule"
                )),
                Some(col) => {
                    if let Some(problem) = misfit(rule.key_type, col) {
                        report
                            .errors
                            .push(format!("{at}: key column `{key}` {problem}"));
                    }
                }
            }
        }
        for (rule, physical) in expected(schema, shard) {
            if !tables.keys().any(|t| t.eq_ignore_ascii_case(&physical)) {
                report.notes.push(format!(
                    "{}.{physical} on {here}: not created yet (rule of `{}`)",
                    schema.name, rule.name
                ));
            }
        }
    }
    Ok(())
}

/// The tables named exactly by a keyed rule that `shard` should hold: (rule, physical name).
fn expected(schema: &Schema, shard: ShardId) -> Vec<(Arc<TableRule>, String)> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for rule in schema.tables() {
        if rule.key.is_none() || crate::config::pattern::is_pattern(&rule.name) {
            continue;
        }
        let names: Vec<String> = match &rule.split {
            Some(split) => (0..split.units().len())
                .filter(|&u| split.shard_of(u) == shard)
                .map(|u| split.physical(u, &rule.name))
                .collect(),
            None if rule.shards.contains(&shard) => vec![rule.name.clone()],
            None => Vec::new(),
        };
        for n in names {
            if seen.insert(n.to_lowercase()) {
                out.push((rule.clone(), n));
            }
        }
    }
    out
}

/// Why a column does not fit a key type, if it does not.
fn misfit(kt: KeyType, col: &Column) -> Option<String> {
    let t = col.data_type.as_str();
    let fits = match kt {
        KeyType::Int => matches!(
            t,
            "tinyint" | "smallint" | "mediumint" | "int" | "bigint" | "year"
        ),
        KeyType::Date => t == "date",
        KeyType::DateTime => matches!(t, "datetime" | "timestamp"),
        KeyType::String(c) => {
            let text = matches!(
                t,
                "char"
                    | "varchar"
                    | "tinytext"
                    | "text"
                    | "mediumtext"
                    | "longtext"
                    | "enum"
                    | "set"
            );
            let bytes = matches!(
                t,
                "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob"
            );
            if !(text || bytes) {
                false
            } else {
                let same = match (c, col.collation.as_deref().map(str::to_lowercase)) {
                    (Collation::Binary, None) => bytes,
                    (Collation::GeneralCi, Some(n)) => {
                        matches!(
                            n.as_str(),
                            "utf8mb4_general_ci" | "utf8mb3_general_ci" | "utf8_general_ci"
                        )
                    }
                    (Collation::Bin, Some(n)) => {
                        matches!(n.as_str(), "utf8mb4_bin" | "utf8mb3_bin" | "utf8_bin")
                    }
                    _ => false,
                };
                if !same {
                    return Some(format!(
                        "has collation {}, but the rule places keys by {}'s weights: keys the column holds equal could be on different shards (set `collation` in the rule, or change the column)",
                        col.collation.as_deref().unwrap_or("binary"),
                        c.name()
                    ));
                }
                true
            }
        }
    };
    (!fits).then(|| {
        format!(
            "is {}, which does not fit key_type = \"{}\"",
            col.data_type,
            kt.name()
        )
    })
}

/// `shardgate check --config FILE --connect`: prints the report; the exit status is 0 when
/// the rules are valid and no error was found, 1 otherwise.
pub fn cli(rules: &Rules) -> u8 {
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return 1;
        }
    };
    let report = rt.block_on(check(rules));
    for n in &report.notes {
        println!("note: {n}");
    }
    for e in &report.errors {
        println!("error: {e}");
    }
    if report.errors.is_empty() {
        println!("servers: OK");
        0
    } else {
        println!("servers: {} problem(s)", report.errors.len());
        1
    }
}
