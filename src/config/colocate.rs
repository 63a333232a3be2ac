//! `[[schemas.colocated]]`: tables placed alike ("binding tables"), so that a row of one and
//! the rows of the others with the same key value always live on the same shard. The router
//! runs a join of such tables on their keys on one shard per key, or on every shard in
//! parallel; a foreign key between them works on each shard.
//!
//! Checked strictly: each entry names a table and its shard key column (`"sa_orders.product_id"`),
//! and every table of a group has the same algorithm with the same parameters (so the same
//! shards in the same order) and the same key type as the first.

use super::error::Diag;
use super::raw::{RawColocated, RawTable};
use super::{Algorithm, KeyType, TableRule};
use std::collections::HashMap;
use toml::Spanned;

/// Validates the groups of one schema and marks the rules they name with their group's index
/// (`built`: each rule with the index of its `[[schemas.tables]]` entry).
pub(super) fn apply(
    groups: &[Spanned<RawColocated>],
    raw_tables: &[Spanned<RawTable>],
    built: &mut [(usize, TableRule)],
    path: &str,
    shard_names: &[String],
    diag: &mut Diag<'_>,
) {
    // Where each table was already put in a group: (group, line of its entry).
    let mut grouped: HashMap<String, (usize, usize)> = HashMap::new();
    for (g, group) in groups.iter().enumerate() {
        let gpath = format!("{path}.colocated[{g}]");
        let Some(list) = &group.get_ref().tables else {
            diag.err(
                Some(group.span()),
                &gpath,
                "missing key `tables` (the co-located tables and their shard key columns, e.g. tables = [\"products.id\", \"orders.product_id\"])",
            );
            continue;
        };
        if list.get_ref().len() < 2 {
            diag.err(
                Some(list.span()),
                &format!("{gpath}.tables"),
                "list at least two tables as \"table.key_column\" (one table is co-located with itself already)",
            );
            continue;
        }
        // The first table whose rule built: the others must be placed like it.
        let mut first: Option<(usize, String)> = None;
        let mut members = Vec::new();
        for (j, entry) in list.get_ref().iter().enumerate() {
            let at = format!("{gpath}.tables[{j}]");
            let span = Some(entry.span());
            let text = entry.get_ref();
            let Some((table, column)) = text
                .rsplit_once('.')
                .filter(|(t, c)| !t.trim().is_empty() && !c.trim().is_empty())
            else {
                diag.err(
                    span,
                    &at,
                    format!("\"{text}\": write the table and its shard key column, e.g. \"orders.product_id\""),
                );
                continue;
            };
            let lower = table.to_lowercase();
            // The `[[schemas.tables]]` entry naming the table (as written: an exact name or a
            // pattern), and its rule when that entry is valid.
            let Some(raw) = raw_tables.iter().position(|t| {
                t.get_ref()
                    .names
                    .iter()
                    .flat_map(|l| l.get_ref())
                    .any(|n| n.get_ref().to_lowercase() == lower)
            }) else {
                let hint = pattern_hint(raw_tables, &lower);
                diag.err(
                    span,
                    &at,
                    format!("no [[schemas.tables]] rule names table \"{table}\"{hint}; only sharded tables are co-located"),
                );
                continue;
            };
            let Some(idx) = built
                .iter()
                .position(|(i, r)| *i == raw && r.name.to_lowercase() == lower)
            else {
                continue; // its rule has problems of its own, reported there
            };
            let rule = &built[idx].1;
            if matches!(*rule.algorithm, Algorithm::Broadcast) {
                diag.err(
                    span,
                    &at,
                    format!("\"{table}\" is a broadcast table: it is on every shard of its rule and joins any table there without being co-located; remove it"),
                );
                continue;
            }
            let key = rule.key.as_deref().unwrap_or("");
            if !key.eq_ignore_ascii_case(column) {
                diag.err(
                    span,
                    &at,
                    format!("\"{table}\" is placed by its shard key `{key}`, not `{column}`: co-location pairs shard keys (write \"{table}.{key}\")"),
                );
                continue;
            }
            if let Some((g0, line)) = grouped.get(&lower) {
                let msg = if *g0 == g {
                    format!("\"{table}\" is listed twice")
                } else {
                    format!(
                        "\"{table}\" is already co-located in colocated[{g0}] (line {line}); a table belongs to one group: merge the two groups"
                    )
                };
                diag.err(span, &at, msg);
                continue;
            }
            grouped.insert(lower, (g, diag.line_of(entry.span().start)));
            match &first {
                None => first = Some((idx, table.to_string())),
                Some((f, fname)) => {
                    if let Some(why) = difference(&built[*f].1, rule, shard_names) {
                        diag.err(
                            span,
                            &at,
                            format!("\"{table}\" is not placed like \"{fname}\": {why}; co-located tables need the same algorithm, parameters, shards and key_type"),
                        );
                        continue;
                    }
                }
            }
            members.push(idx);
        }
        for idx in members {
            built[idx].1.colocation = Some(g);
        }
    }
}

/// ` (it is placed by pattern "t_*": co-locate the pattern)` when a pattern names `lower`.
fn pattern_hint(raw_tables: &[Spanned<RawTable>], lower: &str) -> String {
    raw_tables
        .iter()
        .flat_map(|t| t.get_ref().names.iter().flat_map(|l| l.get_ref()))
        .map(|n| n.get_ref())
        .find(|n| super::pattern::is_pattern(n) && super::pattern::matches(n, lower))
        .map(|p| {
            format!(" (it is placed by pattern \"{p}\": co-locate the pattern, \"{p}.<key>\")")
        })
        .unwrap_or_default()
}

/// Why two rules do not place equal keys on the same shard, or None when they do.
fn difference(a: &TableRule, b: &TableRule, shard_names: &[String]) -> Option<String> {
    let names = |ids: &[usize]| {
        let n: Vec<&str> = ids
            .iter()
            .map(|&i| shard_names.get(i).map(String::as_str).unwrap_or("?"))
            .collect();
        format!("[{}]", n.join(", "))
    };
    if let (KeyType::String(x), KeyType::String(y)) = (a.key_type, b.key_type)
        && x != y
    {
        return Some(format!(
            "collation \"{}\" against \"{}\" (equal keys would not share a shard)",
            y.name(),
            x.name()
        ));
    }
    if a.key_type != b.key_type {
        return Some(format!(
            "key_type \"{}\" against \"{}\"",
            b.key_type.name(),
            a.key_type.name()
        ));
    }
    match (a.algorithm.as_ref(), b.algorithm.as_ref()) {
        (Algorithm::Hash(x), Algorithm::Hash(y)) => (x != y).then(|| {
            format!(
                "hash over shards {} against {} (the order of `shards` places the keys)",
                names(y.shards()),
                names(x.shards())
            )
        }),
        (Algorithm::Range(x), Algorithm::Range(y)) => {
            (x != y).then(|| "other ranges or default_shard".to_string())
        }
        (Algorithm::List(x), Algorithm::List(y)) => {
            (x != y).then(|| "other lists or default_shard".to_string())
        }
        (Algorithm::ConsistentHash(x), Algorithm::ConsistentHash(y)) => {
            let (mut xs, mut ys) = (x.shards(), y.shards());
            xs.sort_unstable();
            ys.sort_unstable();
            if xs != ys {
                Some(format!(
                    "consistent_hash over shards {} against {}",
                    names(&ys),
                    names(&xs)
                ))
            } else if x.virtual_nodes() != y.virtual_nodes() {
                Some(format!(
                    "virtual_nodes = {} against {}",
                    y.virtual_nodes(),
                    x.virtual_nodes()
                ))
            } else {
                None
            }
        }
        (x, y) => Some(format!("algorithm {} against {}", y.name(), x.name())),
    }
}
