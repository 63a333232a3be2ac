//! Unknown keys, all of them, each with its line.
//!
//! A walk over toml's spanned document tree rather than `serde_ignored`: serde_ignored reports
//! the path of an ignored key but not its position, and a DBA wants the line.

use super::error::Diag;
use toml::de::{DeTable, DeValue};

/// What a table may contain: its keys, and for keys holding tables, what those may contain.
struct Shape {
    keys: &'static [(&'static str, Option<&'static Shape>)],
}

const PROXY: Shape = Shape {
    keys: &[
        ("backend_timeout_ms", None),
        ("transaction_timeout_ms", None),
        ("max_connections", None),
        ("max_backend_connections", None),
        ("plan_cache_size", None),
        ("id_block_size", None),
        ("merge_memory_limit_mb", None),
        ("txn_mode", None),
        ("cross_shard_lock_wait_s", None),
        ("read_from", None),
        ("causal", None),
        ("max_replica_lag_s", None),
        ("health_check_interval_ms", None),
        ("causal_wait_ms", None),
        ("primary_reads", None),
        ("topology_file", None),
        ("slow_statement_ms", None),
        ("metrics_listen", None),
        ("worker_threads", None),
    ],
};
const USER: Shape = Shape {
    keys: &[
        ("name", None),
        ("password", None),
        ("schemas", None),
        ("admin", None),
    ],
};
const SHARD: Shape = Shape {
    keys: &[
        ("name", None),
        ("primary", None),
        ("replicas", None),
        ("replica_weights", None),
    ],
};
const RANGE: Shape = Shape {
    keys: &[
        ("shard", None),
        ("from", None),
        ("to", None),
        ("table", None),
    ],
};
const LIST: Shape = Shape {
    keys: &[("shard", None), ("values", None), ("table", None)],
};
const TABLE: Shape = Shape {
    keys: &[
        ("names", None),
        ("algorithm", None),
        ("key", None),
        ("key_type", None),
        ("collation", None),
        ("auto_increment", None),
        ("shards", None),
        ("default_shard", None),
        ("ranges", Some(&RANGE)),
        ("lists", Some(&LIST)),
        ("virtual_nodes", None),
        ("tables_per_shard", None),
        ("table_template", None),
        ("default_table", None),
    ],
};
const COLOCATED: Shape = Shape {
    keys: &[("tables", None)],
};
const SCHEMA: Shape = Shape {
    keys: &[
        ("name", None),
        ("default_shard", None),
        ("tables", Some(&TABLE)),
        ("colocated", Some(&COLOCATED)),
    ],
};
const TOP: Shape = Shape {
    keys: &[
        ("listen", None),
        ("proxy", Some(&PROXY)),
        ("users", Some(&USER)),
        ("shards", Some(&SHARD)),
        ("schemas", Some(&SCHEMA)),
    ],
};

/// Reports every key of `doc` that the file format does not define.
pub fn check_unknown_keys(doc: &DeTable<'_>, diag: &mut Diag<'_>) {
    walk(doc, &TOP, "", diag);
}

fn walk(table: &DeTable<'_>, shape: &Shape, path: &str, diag: &mut Diag<'_>) {
    for (key, value) in table.iter() {
        let name: &str = key.get_ref();
        let Some((_, sub)) = shape.keys.iter().find(|(k, _)| *k == name) else {
            let expected: Vec<&str> = shape.keys.iter().map(|(k, _)| *k).collect();
            diag.err(
                Some(key.span()),
                path,
                format!(
                    "unknown key `{name}` (expected one of: {})",
                    expected.join(", ")
                ),
            );
            continue;
        };
        let Some(sub) = sub else { continue };
        let child = if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        };
        // Wrong types (a table where an array is expected, ...) are reported by serde.
        match value.get_ref() {
            DeValue::Table(t) => walk(t, sub, &child, diag),
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let DeValue::Table(t) = item.get_ref() {
                        walk(t, sub, &format!("{child}[{i}]"), diag);
                    }
                }
            }
            _ => {}
        }
    }
}
