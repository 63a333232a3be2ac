//! INSERT routing: each VALUES row goes to the shard of its key; rows needing an id get one of
//! the ids reserved beforehand; rows are split per shard by rewriting the statement.

use super::{Placement, RouteInput, key_of, on_every_copy, placement, route_dml, single};
use crate::config::{Rules, ShardId, TableRule};
use crate::error::{ProxyError, Result};
use crate::plan::{Merge, Plan, Target};
use crate::rewrite;
use crate::sql::ValueRef;
use crate::sql::analyze::Analysis;
use mysql_async::Value;
use sqlparser::ast::{AssignmentTarget, Expr, SetExpr, Statement};
use std::sync::Arc;

/// For an INSERT into an auto_increment table: the rule and the number of rows needing an id.
/// `no_auto_value_on_zero`: the session's sql_mode has `NO_AUTO_VALUE_ON_ZERO`, so a key of 0
/// is stored as 0 and only NULL (or no value) asks for an id.
pub fn ids_needed(
    rules: &Rules,
    current: Option<&str>,
    a: &Analysis,
    params: &[Value],
    no_auto_value_on_zero: bool,
) -> Result<Option<(Arc<TableRule>, usize)>> {
    let Some((rule, keys)) = auto_increment_keys(rules, current, a)? else {
        return Ok(None);
    };
    let n = keys
        .iter()
        .filter(|k| match k {
            None => true,
            Some(v) => needs_id(&rule, v, params, no_auto_value_on_zero),
        })
        .count();
    Ok((n > 0).then_some((rule, n)))
}

/// Whether an INSERT into an auto_increment table gives some row the key 0: the one case where
/// the session's sql_mode (`NO_AUTO_VALUE_ON_ZERO`) decides between "assign an id" and "0".
pub fn zero_key_given(
    rules: &Rules,
    current: Option<&str>,
    a: &Analysis,
    params: &[Value],
) -> Result<bool> {
    let Some((rule, keys)) = auto_increment_keys(rules, current, a)? else {
        return Ok(false);
    };
    Ok(keys
        .iter()
        .flatten()
        .any(|v| v.bind(params).is_some_and(|v| is_zero(&rule, v))))
}

/// An auto_increment table's rule and, per VALUES row, its key value (`None`: no key column).
type RowKeys = (Arc<TableRule>, Vec<Option<ValueRef>>);

/// For an INSERT ... VALUES into an auto_increment table: its rule and each row's key.
fn auto_increment_keys(
    rules: &Rules,
    current: Option<&str>,
    a: &Analysis,
) -> Result<Option<RowKeys>> {
    let Statement::Insert(ins) = &a.stmt else {
        return Ok(None);
    };
    let Some(t) = a.tables.first() else {
        return Ok(None);
    };
    let Placement::Sharded(rule) = placement(rules, current, t)? else {
        return Ok(None);
    };
    if !rule.auto_increment {
        return Ok(None);
    }
    let key = rule.key.as_deref().unwrap_or("");
    let key_idx = ins
        .columns
        .iter()
        .position(|c| rewrite::last_part(c).eq_ignore_ascii_case(key));
    let Some(rows) = insert_values(&ins.source) else {
        return Ok(None);
    };
    let keys = rows
        .iter()
        .map(|row| {
            key_idx
                .and_then(|k| row.get(k))
                .map(crate::sql::analyze::value_ref)
        })
        .collect();
    Ok(Some((rule.clone(), keys)))
}

/// For an INSERT into an auto_increment table that gave some ids itself: the rule and the
/// largest of those ids (the sequence moves past it, as MySQL's AUTO_INCREMENT counter does).
pub fn largest_explicit_id(
    rules: &Rules,
    current: Option<&str>,
    a: &Analysis,
    params: &[Value],
    no_auto_value_on_zero: bool,
) -> Option<(Arc<TableRule>, u64)> {
    let Statement::Insert(ins) = &a.stmt else {
        return None;
    };
    let Ok(Placement::Sharded(rule)) = placement(rules, current, a.tables.first()?) else {
        return None;
    };
    if !rule.auto_increment {
        return None;
    }
    let key = rule.key.as_deref().unwrap_or("");
    let k = ins
        .columns
        .iter()
        .position(|c| rewrite::last_part(c).eq_ignore_ascii_case(key))?;
    let largest = insert_values(&ins.source)?
        .iter()
        .filter_map(|row| {
            let v = crate::sql::analyze::value_ref(row.get(k)?);
            if needs_id(&rule, &v, params, no_auto_value_on_zero) {
                return None;
            }
            match v.bind(params)? {
                Value::Int(i) => u64::try_from(*i).ok(),
                Value::UInt(u) => Some(*u),
                Value::Bytes(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
                _ => None,
            }
        })
        .max()?;
    Some((rule.clone(), largest))
}

/// Whether a row's key value asks the proxy for an id. Only an AUTO_INCREMENT column gives
/// NULL and 0 that meaning (0 only without `NO_AUTO_VALUE_ON_ZERO`); on any other rule 0 is
/// an ordinary key and NULL a key no shard can hold.
fn needs_id(rule: &TableRule, v: &ValueRef, params: &[Value], no_auto_value_on_zero: bool) -> bool {
    if !rule.auto_increment {
        return false;
    }
    match v.bind(params) {
        Some(Value::NULL) => true,
        Some(v) => !no_auto_value_on_zero && is_zero(rule, v),
        None => false,
    }
}

/// A value MySQL stores as 0 in the (integer) key column: `0`, `'0'`, `'0.0'`, `' +0 '`, ...
fn is_zero(rule: &TableRule, v: &Value) -> bool {
    !matches!(v, Value::NULL) && rule.key_of(v).is_ok_and(|k| k == crate::route::Key::Int(0))
}

fn insert_values(source: &Option<Box<sqlparser::ast::Query>>) -> Option<Vec<Vec<Expr>>> {
    match source.as_ref()?.body.as_ref() {
        SetExpr::Values(v) => Some(v.rows.iter().map(|r| r.content.clone()).collect()),
        _ => None,
    }
}

pub(super) fn route_insert(inp: &RouteInput<'_>) -> Result<Plan> {
    let a = inp.analysis;
    let Statement::Insert(ins) = &a.stmt else {
        return Err(ProxyError::NotSupported("INSERT form".into()));
    };
    let Some(t) = a.tables.first() else {
        return Err(ProxyError::NotSupported("INSERT without a table".into()));
    };
    let rule = match placement(inp.rules, inp.schema, t)? {
        Placement::Unsharded(s) => {
            if a.tables.len() > 1 {
                return route_dml(inp);
            }
            return Ok(single(s, true));
        }
        Placement::Broadcast(r) => {
            if a.tables.len() > 1 {
                return Err(ProxyError::NotSupported(
                    "INSERT ... SELECT into a broadcast table".into(),
                ));
            }
            return Ok(on_every_copy(&r.shards, true));
        }
        Placement::Sharded(r) => r,
    };
    let key = rule.key.as_deref().unwrap_or("");
    if a.tables.len() > 1 {
        return Err(ProxyError::NotSupported(format!(
            "INSERT ... SELECT into sharded table `{}`",
            rule.name
        )));
    }
    if ins.columns.is_empty() {
        return Err(ProxyError::NotSupported(format!(
            "INSERT into sharded table `{}` without a column list (name the columns, including `{key}`)",
            rule.name
        )));
    }
    if let Some(sqlparser::ast::OnInsert::DuplicateKeyUpdate(asg)) = &ins.on
        && asg.iter().any(|x| matches!(&x.target, AssignmentTarget::ColumnName(c) if rewrite::last_part(c).eq_ignore_ascii_case(key))) {
            return Err(ProxyError::NotSupported(format!("ON DUPLICATE KEY UPDATE of the shard key `{key}`")));
        }
    let Some(rows) = insert_values(&ins.source) else {
        return Err(ProxyError::NotSupported(format!(
            "INSERT into sharded table `{}` without VALUES",
            rule.name
        )));
    };
    let key_idx = ins
        .columns
        .iter()
        .position(|c| rewrite::last_part(c).eq_ignore_ascii_case(key));
    let mut ids = inp.ids.iter();
    let mut assigned: Vec<(usize, Value)> = Vec::new();
    let mut per_shard: std::collections::BTreeMap<ShardId, Vec<usize>> = Default::default();
    for (i, row) in rows.iter().enumerate() {
        let vref = key_idx
            .and_then(|k| row.get(k))
            .map(crate::sql::analyze::value_ref);
        let value = match &vref {
            Some(v) if !needs_id(&rule, v, inp.params, inp.no_auto_value_on_zero) => {
                match v.bind(inp.params) {
                    Some(Value::NULL) => {
                        return Err(ProxyError::NotSupported(format!(
                            "a NULL shard key `{key}` for `{}` (a row without a key has no shard; give a value, or set auto_increment = true in its rule)",
                            rule.name
                        )));
                    }
                    Some(val) => val.clone(),
                    None => {
                        return Err(ProxyError::NotSupported(format!(
                            "a computed value for shard key `{key}` of `{}` (give a literal or a parameter)",
                            rule.name
                        )));
                    }
                }
            }
            _ => {
                if !rule.auto_increment {
                    return Err(ProxyError::NotSupported(format!(
                        "INSERT into sharded table `{}` without a value for its shard key `{key}` (give one, or set auto_increment = true in its rule)",
                        rule.name
                    )));
                }
                let id = ids
                    .next()
                    .copied()
                    .ok_or_else(|| ProxyError::Transaction("no id reserved".into()))?;
                let v = Value::UInt(id);
                assigned.push((i, v.clone()));
                v
            }
        };
        let k = key_of(&rule, &value)?;
        per_shard
            .entry(rule.shard_for_key(&k)?)
            .or_default()
            .push(i);
    }
    let first_id = assigned.first().and_then(|(_, v)| {
        if let Value::UInt(u) = v {
            Some(*u)
        } else {
            None
        }
    });
    let rewrite_needed = per_shard.len() > 1 || !assigned.is_empty();
    let targets = per_shard
        .iter()
        .map(|(&shard, rows)| {
            let sql = if rewrite_needed {
                Some(
                    rewrite::insert_rows(&a.stmt, rows, key, &assigned, inp.params).ok_or_else(
                        || ProxyError::NotSupported("this INSERT form on a sharded table".into()),
                    )?,
                )
            } else {
                None
            };
            Ok(Target { shard, sql })
        })
        .collect::<Result<Vec<_>>>()?;
    let merge = if targets.len() == 1 && first_id.is_none() {
        Merge::Pass
    } else {
        Merge::Affected {
            broadcast: false,
            first_id,
            multi_row: rows.len() > 1,
            upsert: ins.on.is_some(),
        }
    };
    Ok(Plan {
        targets,
        merge,
        write: true,
    })
}
