//! The statement router: (rules, analysis, bound values) → [`Plan`]. Pure: no I/O. Ids for
//! auto_increment tables are reserved by the caller beforehand ([`ids_needed`]) and passed in.

use crate::config::{Algorithm, Rules, Schema, ShardId, TableRule};
use crate::error::{ProxyError, Result};
use crate::plan::{Merge, Plan, Target};
use crate::route::Key;
use crate::sql::ValueRef;
use crate::sql::analyze::{Analysis, Kind, TableName};
use crate::sql::keycond::Cond;
use mysql_async::Value;
use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::Arc;

mod ddl;
mod dml;
mod group;
mod insert;
mod select;
mod split;
mod union;

use dml::route_dml;
use insert::route_insert;
pub use insert::{
    PositionalInsert, all_explicit, ids_needed, largest_explicit_id, positional_insert,
    zero_key_given,
};
pub use select::scatter_select;

/// Everything the router reads.
pub struct RouteInput<'a> {
    pub rules: &'a Rules,
    /// The session's current schema.
    pub schema: Option<&'a str>,
    pub analysis: &'a Analysis,
    /// Bound parameter values (empty for text statements).
    pub params: &'a [Value],
    /// Ids reserved for the rows that need one, in row order.
    pub ids: &'a [u64],
    /// Shards the session's transaction already uses (preferred for broadcast reads).
    pub pinned: &'a [ShardId],
    /// The session's sql_mode has `NO_AUTO_VALUE_ON_ZERO`: an INSERT's key 0 into an
    /// auto_increment table is stored as 0 instead of asking for an id.
    pub no_auto_value_on_zero: bool,
    /// For an INSERT without a column list into a sharded table: the table's columns in
    /// order, read from a backend by the engine (see [`positional_insert`]).
    pub columns: Option<&'a [String]>,
}

/// Where a table lives.
enum Placement {
    Unsharded(ShardId),
    Broadcast(Arc<TableRule>),
    Sharded(Arc<TableRule>),
}

/// Resolves a table name against the rules and the current schema.
pub fn resolve<'a>(
    rules: &'a Rules,
    current: Option<&str>,
    t: &TableName,
) -> Result<(&'a Schema, Option<Arc<TableRule>>)> {
    let schema_name = t
        .schema
        .as_deref()
        .or(current)
        .ok_or(ProxyError::NoDatabase)?;
    let schema = rules
        .schema(schema_name)
        .ok_or_else(|| ProxyError::UnknownDatabase(schema_name.to_string()))?;
    Ok((schema, schema.table(&t.name)))
}

fn placement(rules: &Rules, current: Option<&str>, t: &TableName) -> Result<Placement> {
    let (schema, rule) = resolve(rules, current, t)?;
    Ok(match rule {
        None => Placement::Unsharded(schema.default_shard),
        Some(r) if matches!(*r.algorithm, Algorithm::Broadcast) => Placement::Broadcast(r),
        Some(r) => Placement::Sharded(r),
    })
}

/// The shard to use when a statement names no table.
fn fallback_shard(rules: &Rules, current: Option<&str>) -> ShardId {
    current
        .and_then(|s| rules.schema(s))
        .map(|s| s.default_shard)
        .unwrap_or(0)
}

/// Builds the plan of a statement.
pub fn route(inp: &RouteInput<'_>) -> Result<Plan> {
    let mut plan = route_shards(inp)?;
    plan.replica_ok = inp.analysis.replica_safe && !plan.write;
    if plan.targets.iter().any(|t| !t.tables.is_empty()) {
        crate::rewrite::physical::apply(&mut plan, inp.analysis, inp.params, inp.schema)?;
    }
    Ok(plan)
}

fn route_shards(inp: &RouteInput<'_>) -> Result<Plan> {
    let a = inp.analysis;
    match &a.kind {
        Kind::Insert => route_insert(inp),
        Kind::Select | Kind::Update | Kind::Delete => route_dml(inp),
        Kind::Ddl => route_ddl(inp),
        Kind::Database { name } => {
            if inp.rules.schema(name).is_none() {
                return Err(ProxyError::NotSupported(format!(
                    "CREATE/DROP DATABASE `{name}`: only schemas declared in the rules file exist behind the proxy"
                )));
            }
            Ok(all_shards(inp.rules.shards.len(), true))
        }
        Kind::Other => {
            if !a.tables.is_empty() {
                // EXPLAIN and the like: fine on the one shard their tables route to.
                let plan = route_dml(inp)?;
                if plan.targets.len() > 1 {
                    let what = a
                        .stmt
                        .to_string()
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_uppercase();
                    return Err(ProxyError::NotSupported(format!(
                        "{what} on tables spread over several shards (give the shard key)"
                    )));
                }
                return Ok(Plan {
                    merge: Merge::Pass,
                    write: false,
                    ..plan
                });
            }
            Ok(single(fallback_shard(inp.rules, inp.schema), false))
        }
    }
}

fn single(shard: ShardId, write: bool) -> Plan {
    Plan {
        targets: vec![Target::on(shard)],
        merge: Merge::Pass,
        write,
        replica_ok: false,
    }
}

/// The same statement on every listed shard (a broadcast write, DDL on a sharded table).
pub(super) fn on_every_copy(shards: &[ShardId], write: bool) -> Plan {
    Plan {
        targets: shards.iter().map(|&shard| Target::on(shard)).collect(),
        merge: Merge::Affected {
            broadcast: true,
            first_id: None,
            multi_row: false,
            upsert: false,
        },
        write,
        replica_ok: false,
    }
}

/// A statement run as it is on each of the `n` shards, the answers merged as one broadcast's.
pub fn all_shards(n: usize, write: bool) -> Plan {
    Plan {
        targets: (0..n).map(Target::on).collect(),
        merge: Merge::Affected {
            broadcast: true,
            first_id: None,
            multi_row: false,
            upsert: false,
        },
        write,
        replica_ok: false,
    }
}

fn route_ddl(inp: &RouteInput<'_>) -> Result<Plan> {
    ddl::check(inp)?;
    if let Some(plan) = split_ddl(inp)? {
        return Ok(plan);
    }
    let mut sets: Vec<Vec<ShardId>> = Vec::new();
    for t in &inp.analysis.tables {
        sets.push(match placement(inp.rules, inp.schema, t)? {
            Placement::Unsharded(s) => vec![s],
            Placement::Broadcast(r) | Placement::Sharded(r) => r.shards.clone(),
        });
    }
    sets.dedup();
    match sets.as_slice() {
        [] => Ok(single(fallback_shard(inp.rules, inp.schema), true)),
        [one] => Ok(Plan {
            targets: one.iter().map(|&shard| Target::on(shard)).collect(),
            merge: if one.len() == 1 {
                Merge::Pass
            } else {
                Merge::Affected {
                    broadcast: true,
                    first_id: None,
                    multi_row: false,
                    upsert: false,
                }
            },
            write: true,
            replica_ok: false,
        }),
        _ => Err(ProxyError::NotSupported(
            "one DDL statement on tables placed on different shards (run one statement per table)"
                .into(),
        )),
    }
}

/// DDL on a split table: the same statement on every physical table (each its own target);
/// None when the statement names no split table. A DDL statement naming a split table with
/// any other table is refused (`CREATE TABLE t LIKE orders`, `RENAME TABLE`).
fn split_ddl(inp: &RouteInput<'_>) -> Result<Option<Plan>> {
    let tables = &inp.analysis.tables;
    let mut found = None;
    for t in tables {
        let (schema, rule) = resolve(inp.rules, inp.schema, t)?;
        if let Some(rule) = rule
            && let Some(split) = &rule.split
        {
            found = Some((schema.name.clone(), rule.name.clone(), split.clone()));
        }
    }
    let Some((schema, logical, split)) = found else {
        return Ok(None);
    };
    if tables.len() > 1 {
        return Err(ProxyError::NotSupported(format!(
            "one DDL statement naming split table `{logical}` and another table (run one statement per table)"
        )));
    }
    // Each physical table would take the one new name: the second would fail, half-renamed.
    let renames = match &inp.analysis.stmt {
        sqlparser::ast::Statement::AlterTable(a) => a
            .operations
            .iter()
            .any(|op| matches!(op, sqlparser::ast::AlterTableOperation::RenameTable { .. })),
        sqlparser::ast::Statement::RenameTable(_) => true,
        _ => false,
    };
    if renames {
        return Err(ProxyError::NotSupported(format!(
            "renaming split table `{logical}` (its physical tables and the rules name it: create the new table through the proxy and copy the rows, or rename the physical tables on each shard and change the rules)"
        )));
    }
    Ok(Some(Plan {
        targets: split::every_unit(&split, &schema, &logical),
        ..all_shards(0, true)
    }))
}

/// The shards a condition allows, or `None` for "every shard of the rule".
fn shards_for(
    rule: &TableRule,
    cond: &Cond,
    params: &[Value],
) -> Result<Option<BTreeSet<ShardId>>> {
    Ok(match cond {
        Cond::Any => None,
        Cond::In(values) => {
            let mut set = BTreeSet::new();
            for v in values {
                match v.bind(params) {
                    None => return Ok(None),
                    Some(Value::NULL) => {} // `key = NULL` matches no row
                    Some(v) => match key_of(rule, v).and_then(|k| Ok(rule.shard_for_key(&k)?)) {
                        Ok(s) => {
                            set.insert(s);
                        }
                        // A key no rule entry accepts is on no shard: no row can match it.
                        Err(ProxyError::Route(crate::route::RouteError::NoShardForKey {
                            ..
                        })) => {}
                        Err(e) => return Err(e),
                    },
                }
            }
            Some(set)
        }
        Cond::Range(lo, hi) => {
            let lo = bound_key(rule, lo, params)?;
            let hi = bound_key(rule, hi, params)?;
            match (lo, hi) {
                (Some(lo), Some(hi)) => Some(
                    rule.shards_for_range(lo.as_ref(), hi.as_ref())
                        .into_iter()
                        .collect(),
                ),
                _ => None,
            }
        }
        Cond::And(parts) => {
            let mut acc: Option<BTreeSet<ShardId>> = None;
            for p in parts {
                if let Some(s) = shards_for(rule, p, params)? {
                    acc = Some(match acc {
                        None => s,
                        Some(a) => a.intersection(&s).copied().collect(),
                    });
                }
            }
            acc
        }
        Cond::Or(parts) => {
            let mut acc = BTreeSet::new();
            for p in parts {
                match shards_for(rule, p, params)? {
                    None => return Ok(None),
                    Some(s) => acc.extend(s),
                }
            }
            Some(acc)
        }
    })
}

fn key_of(rule: &TableRule, v: &Value) -> Result<Key> {
    Ok(Key::coerce(rule.key_type, v)?)
}

/// A bound as a key; `None` when a value cannot be evaluated (then the range says nothing).
fn bound_key(
    rule: &TableRule,
    b: &Bound<ValueRef>,
    params: &[Value],
) -> Result<Option<Bound<Key>>> {
    Ok(match b {
        Bound::Unbounded => Some(Bound::Unbounded),
        Bound::Included(v) | Bound::Excluded(v) => match v.bind(params) {
            None | Some(Value::NULL) => None,
            Some(val) => {
                let k = key_of(rule, val)?;
                Some(if matches!(b, Bound::Included(_)) {
                    Bound::Included(k)
                } else {
                    Bound::Excluded(k)
                })
            }
        },
    })
}
