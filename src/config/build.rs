//! Validation of one `[[schemas.tables]]` entry into table rules (one per name or pattern in
//! `names`).

use super::error::Diag;
use super::pattern::RESERVED;
use super::raw::RawTable;
use super::{Algorithm, AutoIncrement, Collation, KeyType, TableCx, TableRule};
use crate::route::collation::SUPPORTED;
use crate::route::consistent_hash::ConsistentHashRule;
use crate::route::hash::HashRule;
use crate::route::list::ListRule;
use crate::route::range::RangeRule;
use toml::Spanned;

/// Algorithms by name, each with the algorithm-specific keys it accepts.
const ALGORITHMS: &[(&str, &[&str])] = &[
    ("hash", &["shards"]),
    ("range", &["ranges", "default_shard"]),
    ("list", &["lists", "default_shard"]),
    ("consistent_hash", &["shards", "virtual_nodes"]),
    ("broadcast", &["shards"]),
];

/// Key types by name.
const KEY_TYPES: &[(&str, KeyType)] = &[
    ("int", KeyType::Int),
    ("string", KeyType::String(Collation::GeneralCi)),
    ("date", KeyType::Date),
    ("datetime", KeyType::DateTime),
];

/// Validates one table entry; returns its rules (one per name), or none after a problem.
pub(super) fn build_table(
    raw: &Spanned<RawTable>,
    path: &str,
    diag: &mut Diag<'_>,
    shard_names: &[String],
) -> Vec<TableRule> {
    let t = raw.get_ref();
    let span = raw.span();
    let mut ok = true;
    let names: Vec<String> = match &t.names {
        None => {
            diag.err(
                Some(span.clone()),
                path,
                "missing key `names` (the tables this rule places, e.g. names = [\"orders\"])",
            );
            ok = false;
            Vec::new()
        }
        Some(list) if list.get_ref().is_empty() => {
            diag.err(
                Some(list.span()),
                &format!("{path}.names"),
                "empty `names`: list at least one table",
            );
            ok = false;
            Vec::new()
        }
        Some(list) => {
            for (i, n) in list.get_ref().iter().enumerate() {
                let at = format!("{path}.names[{i}]");
                if n.get_ref().trim().is_empty() {
                    diag.err(Some(n.span()), &at, "empty table name");
                    ok = false;
                } else if let Some(c) = n.get_ref().chars().find(|c| RESERVED.contains(c)) {
                    diag.err(
                        Some(n.span()),
                        &at,
                        format!(
                            "\"{}\": `{c}` is not allowed in names (a pattern uses `*` for any run of characters and `?` for one character)",
                            n.get_ref()
                        ),
                    );
                    ok = false;
                }
            }
            list.get_ref().iter().map(|n| n.get_ref().clone()).collect()
        }
    };
    let Some(algo) = &t.algorithm else {
        diag.err(
            Some(span),
            path,
            "missing key `algorithm` (one of: hash, range, list, consistent_hash, broadcast)",
        );
        return Vec::new();
    };
    let Some((algo_name, own_keys)) = ALGORITHMS.iter().find(|(n, _)| *n == algo.get_ref()) else {
        diag.err(
            Some(algo.span()),
            &format!("{path}.algorithm"),
            format!(
                "unknown algorithm \"{}\" (one of: hash, range, list, consistent_hash, broadcast)",
                algo.get_ref()
            ),
        );
        return Vec::new();
    };
    let broadcast = *algo_name == "broadcast";

    // Keys belonging to another algorithm are mistakes, not options to ignore.
    let present: [(&str, Option<std::ops::Range<usize>>); 5] = [
        ("shards", t.shards.as_ref().map(|v| v.span())),
        ("default_shard", t.default_shard.as_ref().map(|v| v.span())),
        ("ranges", t.ranges.as_ref().map(|v| v.span())),
        ("lists", t.lists.as_ref().map(|v| v.span())),
        ("virtual_nodes", t.virtual_nodes.as_ref().map(|v| v.span())),
    ];
    for (key, at) in present {
        if let Some(at) = at.filter(|_| !own_keys.contains(&key)) {
            let hint = match (key, *algo_name) {
                ("shards", "range" | "list") => {
                    " (a range/list table lives on the shards of its entries and default_shard)"
                }
                _ => "",
            };
            diag.err(
                Some(at),
                &format!("{path}.{key}"),
                format!("`{key}` is not used by algorithm {algo_name}; remove it{hint}"),
            );
            ok = false;
        }
    }

    let key_type = if broadcast {
        for (k, at) in [
            ("key", t.key.as_ref().map(|v| v.span())),
            ("key_type", t.key_type.as_ref().map(|v| v.span())),
            ("collation", t.collation.as_ref().map(|v| v.span())),
        ] {
            if let Some(at) = at {
                diag.err(
                    Some(at),
                    &format!("{path}.{k}"),
                    format!("a broadcast table has no shard key; remove `{k}`"),
                );
                ok = false;
            }
        }
        KeyType::Int
    } else {
        if t.key.is_none() {
            diag.err(
                Some(span.clone()),
                path,
                format!("missing key `key` (the shard key column) for algorithm {algo_name}"),
            );
            ok = false;
        }
        match &t.key_type {
            None => {
                diag.err(
                    Some(span.clone()),
                    path,
                    "missing key `key_type` (one of: int, string, date, datetime)",
                );
                return Vec::new();
            }
            Some(kt) => match KEY_TYPES.iter().find(|(n, _)| *n == kt.get_ref()) {
                Some((_, kt)) => match collation(t, *kt, path, diag) {
                    Some(kt) => kt,
                    None => return Vec::new(),
                },
                None => {
                    diag.err(
                        Some(kt.span()),
                        &format!("{path}.key_type"),
                        format!(
                            "unknown key_type \"{}\" (one of: int, string, date, datetime)",
                            kt.get_ref()
                        ),
                    );
                    return Vec::new();
                }
            },
        }
    };

    let auto_increment = auto_increment(t, path, diag, broadcast, key_type, &mut ok);

    let mut broadcast_shards = Vec::new();
    let kt_span = t.key_type.as_ref().map(|k| k.span());
    let mut cx = TableCx::new(
        diag,
        path.to_string(),
        span,
        shard_names,
        (key_type, kt_span),
    );
    let algorithm = match *algo_name {
        "hash" => cx
            .ordered_shards(t)
            .and_then(|s| HashRule::build(&mut cx, s))
            .map(Algorithm::Hash),
        "consistent_hash" => cx
            .ordered_shards(t)
            .and_then(|s| ConsistentHashRule::build(&mut cx, t, s))
            .map(Algorithm::ConsistentHash),
        "range" => RangeRule::build(&mut cx, t).map(Algorithm::Range),
        "list" => ListRule::build(&mut cx, t).map(Algorithm::List),
        _ => cx.ordered_shards(t).map(|s| {
            broadcast_shards = s;
            Algorithm::Broadcast
        }),
    };
    let shards = match &algorithm {
        Some(Algorithm::Hash(h)) => h.shards().to_vec(),
        Some(Algorithm::ConsistentHash(c)) => c.shards(),
        Some(Algorithm::Range(r)) => r.shards(),
        Some(Algorithm::List(l)) => l.shards(),
        Some(Algorithm::Broadcast) => broadcast_shards,
        None => Vec::new(),
    };
    let (Some(algorithm), true) = (algorithm, ok && !cx.failed()) else {
        return Vec::new();
    };
    let mut shards = shards;
    shards.sort_unstable();
    shards.dedup();
    let key = if broadcast {
        None
    } else {
        t.key.as_ref().map(|k| k.get_ref().clone())
    };
    let at = super::split::At {
        path,
        span: raw.span(),
        shard_names,
        key_type,
    };
    let split = match super::split::build(t, &algorithm, &names, &at, diag) {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(())) => return Vec::new(),
    };
    let algorithm = std::sync::Arc::new(algorithm);
    names
        .into_iter()
        .map(|name| TableRule {
            name,
            algorithm: algorithm.clone(),
            key: key.clone(),
            key_type,
            shards: shards.clone(),
            auto_increment: auto_increment.clone(),
            colocation: None,
            split: split.clone(),
        })
        .collect()
}

/// The `collation` key of a string key: the key type with its collation (the default,
/// `utf8mb4_general_ci`, when absent); None after a problem (reported).
fn collation(t: &RawTable, kt: KeyType, path: &str, diag: &mut Diag<'_>) -> Option<KeyType> {
    let Some(c) = &t.collation else {
        return Some(kt);
    };
    let at = format!("{path}.collation");
    if !matches!(kt, KeyType::String(_)) {
        diag.err(
            Some(c.span()),
            &at,
            format!(
                "`collation` applies to key_type = \"string\" only, not \"{}\"; remove it",
                kt.name()
            ),
        );
        return None;
    }
    match Collation::from_name(c.get_ref()) {
        Some(found) => Some(KeyType::String(found)),
        None => {
            let names: Vec<&str> = SUPPORTED.iter().map(|(n, _)| *n).collect();
            diag.err(
                Some(c.span()),
                &at,
                format!(
                    "unsupported collation \"{}\" (supported: {}); string keys are placed by the collation's weights, so the rule must name the key column's collation",
                    c.get_ref(),
                    names.join(", ")
                ),
            );
            None
        }
    }
}

/// The `auto_increment` key: `true` numbers the key column, a string names the numbered column,
/// `false` lets each shard number its own rows, absent says nothing (see [`AutoIncrement`]).
/// Clears `ok` after a problem.
fn auto_increment(
    t: &RawTable,
    path: &str,
    diag: &mut Diag<'_>,
    broadcast: bool,
    key_type: KeyType,
    ok: &mut bool,
) -> AutoIncrement {
    let Some(a) = &t.auto_increment else {
        return AutoIncrement::Undeclared;
    };
    let sub = format!("{path}.auto_increment");
    let key = t.key.as_ref().map(|k| k.get_ref().as_str());
    let mut fail = |msg: String| {
        diag.err(Some(a.span()), &sub, msg);
        *ok = false;
        AutoIncrement::Undeclared
    };
    let column = match a.get_ref() {
        toml::Value::Boolean(false) => return AutoIncrement::PerShard,
        toml::Value::Boolean(true) => match key {
            Some(k) => k.to_string(),
            // A missing `key` is reported on its own (or the table is broadcast, below).
            None if !broadcast => return AutoIncrement::Undeclared,
            None => String::new(),
        },
        toml::Value::String(c) => {
            if c.trim().is_empty() || c.trim() != c || c.contains('`') {
                return fail(format!(
                    "auto_increment = \"{c}\" is not a column name (write the column the proxy numbers, e.g. auto_increment = \"id\", or true for the shard key column)"
                ));
            }
            c.clone()
        }
        other => {
            return fail(format!(
                "auto_increment = {other} : write true (the proxy numbers the shard key column), a column name such as \"id\", or false (each shard numbers its own rows)"
            ));
        }
    };
    if broadcast {
        return fail(
            "a broadcast table is copied whole on every shard and has no global sequence; remove auto_increment".into(),
        );
    }
    let is_key = key.is_some_and(|k| k.eq_ignore_ascii_case(&column));
    if is_key && key_type != KeyType::Int {
        return fail(format!(
            "auto_increment needs key_type = \"int\" to number the shard key `{column}`, not \"{}\" (or name another column: auto_increment = \"id\")",
            key_type.name()
        ));
    }
    AutoIncrement::Proxy(column)
}
