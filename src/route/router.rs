//! The statement router: (rules, analysis, bound values) → [`Plan`]. Pure: no I/O. Ids for
//! auto_increment tables are reserved by the caller beforehand ([`ids_needed`]) and passed in.

use crate::config::{Algorithm, Rules, Schema, ShardId, TableRule};
use crate::error::{ProxyError, Result};
use crate::plan::{Merge, Plan, RowMerge, Target};
use crate::rewrite;
use crate::route::Key;
use crate::sql::ValueRef;
use crate::sql::analyze::{Analysis, Item, Kind, TableName};
use crate::sql::keycond::{Cond, key_condition};
use mysql_async::Value;
use sqlparser::ast::{AssignmentTarget, Expr, SetExpr, Statement, TableFactor};
use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::Arc;

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
}

/// Where a table lives.
enum Placement<'a> {
    Unsharded(ShardId),
    Broadcast(&'a Arc<TableRule>),
    Sharded(&'a Arc<TableRule>),
}

/// Resolves a table name against the rules and the current schema.
pub fn resolve<'a>(
    rules: &'a Rules,
    current: Option<&str>,
    t: &TableName,
) -> Result<(&'a Schema, Option<&'a Arc<TableRule>>)> {
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

fn placement<'a>(rules: &'a Rules, current: Option<&str>, t: &TableName) -> Result<Placement<'a>> {
    let (schema, rule) = resolve(rules, current, t)?;
    Ok(match rule {
        None => Placement::Unsharded(schema.default_shard),
        Some(r) if matches!(r.algorithm, Algorithm::Broadcast) => Placement::Broadcast(r),
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

/// For an INSERT into an auto_increment table: the rule and the number of rows needing an id.
pub fn ids_needed(
    rules: &Rules,
    current: Option<&str>,
    a: &Analysis,
    params: &[Value],
) -> Result<Option<(Arc<TableRule>, usize)>> {
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
    let n = rows
        .iter()
        .filter(|row| match key_idx {
            None => true,
            Some(k) => row
                .get(k)
                .map(|e| needs_id(&crate::sql::analyze::value_ref(e), params))
                .unwrap_or(true),
        })
        .count();
    Ok((n > 0).then(|| (rule.clone(), n)))
}

fn needs_id(v: &ValueRef, params: &[Value]) -> bool {
    match v.bind(params) {
        Some(Value::NULL) | Some(Value::Int(0)) | Some(Value::UInt(0)) => true,
        Some(Value::Bytes(b)) => b.as_slice() == b"0",
        _ => false,
    }
}

fn insert_values(source: &Option<Box<sqlparser::ast::Query>>) -> Option<Vec<Vec<Expr>>> {
    match source.as_ref()?.body.as_ref() {
        SetExpr::Values(v) => Some(v.rows.iter().map(|r| r.content.clone()).collect()),
        _ => None,
    }
}

/// Builds the plan of a statement.
pub fn route(inp: &RouteInput<'_>) -> Result<Plan> {
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
                return route_dml(inp);
            }
            Ok(single(fallback_shard(inp.rules, inp.schema), false))
        }
    }
}

fn single(shard: ShardId, write: bool) -> Plan {
    Plan {
        targets: vec![Target { shard, sql: None }],
        merge: Merge::Pass,
        write,
    }
}

fn all_shards(n: usize, write: bool) -> Plan {
    Plan {
        targets: (0..n).map(|shard| Target { shard, sql: None }).collect(),
        merge: Merge::Affected {
            broadcast: true,
            first_id: None,
        },
        write,
    }
}

fn route_ddl(inp: &RouteInput<'_>) -> Result<Plan> {
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
            targets: one
                .iter()
                .map(|&shard| Target { shard, sql: None })
                .collect(),
            merge: if one.len() == 1 {
                Merge::Pass
            } else {
                Merge::Affected {
                    broadcast: true,
                    first_id: None,
                }
            },
            write: true,
        }),
        _ => Err(ProxyError::NotSupported(
            "one DDL statement on tables placed on different shards (run one statement per table)"
                .into(),
        )),
    }
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

/// The WHERE clause and the table aliases of a SELECT/UPDATE/DELETE.
fn where_and_aliases(stmt: &Statement) -> (Option<&Expr>, Vec<(String, String)>) {
    let mut aliases = Vec::new();
    let mut add = |f: &TableFactor| {
        if let TableFactor::Table {
            name,
            alias: Some(al),
            ..
        } = f
        {
            aliases.push((
                crate::sql::analyze::table_name(name).name,
                al.name.value.clone(),
            ));
        }
    };
    let selection = match stmt {
        Statement::Query(q) => match q.body.as_ref() {
            SetExpr::Select(s) => {
                for t in &s.from {
                    add(&t.relation);
                    t.joins.iter().for_each(|j| add(&j.relation));
                }
                s.selection.as_ref()
            }
            _ => None,
        },
        Statement::Update(u) => {
            add(&u.table.relation);
            u.selection.as_ref()
        }
        Statement::Delete(d) => d.selection.as_ref(),
        _ => None,
    };
    (selection, aliases)
}

fn route_dml(inp: &RouteInput<'_>) -> Result<Plan> {
    let a = inp.analysis;
    let write = !matches!(a.kind, Kind::Select);
    if a.tables.is_empty() {
        return Ok(single(fallback_shard(inp.rules, inp.schema), write));
    }
    let (selection, aliases) = where_and_aliases(&a.stmt);
    // Per table: the shards that may hold its rows (`broadcast`: any one of them will do).
    let mut sharded: Vec<(Arc<TableRule>, BTreeSet<ShardId>)> = Vec::new();
    let mut anywhere: Vec<BTreeSet<ShardId>> = Vec::new();
    let mut broadcast_rule: Option<Arc<TableRule>> = None;
    for t in &a.tables {
        match placement(inp.rules, inp.schema, t)? {
            Placement::Unsharded(s) => anywhere.push([s].into()),
            Placement::Broadcast(r) => {
                anywhere.push(r.shards.iter().copied().collect());
                broadcast_rule = Some(r.clone());
            }
            Placement::Sharded(r) => {
                let key = r.key.as_deref().unwrap_or("");
                let mut quals: Vec<&str> = vec![t.name.as_str()];
                quals.extend(
                    aliases
                        .iter()
                        .filter(|(n, _)| n.eq_ignore_ascii_case(&t.name))
                        .map(|(_, al)| al.as_str()),
                );
                let cond = selection
                    .map(|w| key_condition(w, key, &quals))
                    .unwrap_or(Cond::Any);
                let set = shards_for(r, &cond, inp.params)?
                    .unwrap_or_else(|| r.shards.iter().copied().collect());
                if let Statement::Update(u) = &a.stmt {
                    for asg in &u.assignments {
                        let cols: Vec<_> = match &asg.target {
                            AssignmentTarget::ColumnName(c) => vec![c],
                            AssignmentTarget::Tuple(cs) => cs.iter().collect(),
                        };
                        if cols
                            .iter()
                            .any(|c| rewrite::last_part(c).eq_ignore_ascii_case(key))
                        {
                            return Err(ProxyError::NotSupported(format!(
                                "UPDATE of the shard key column `{key}` of table `{}` (it would move the row to another shard: DELETE it and INSERT it again)",
                                r.name
                            )));
                        }
                    }
                }
                sharded.push((r.clone(), set));
            }
        }
    }
    // Writes to a broadcast table go to every copy.
    if write && sharded.is_empty() && a.tables.len() == 1
        && let Some(r) = &broadcast_rule {
            return Ok(Plan {
                targets: r
                    .shards
                    .iter()
                    .map(|&shard| Target { shard, sql: None })
                    .collect(),
                merge: Merge::Affected {
                    broadcast: true,
                    first_id: None,
                },
                write,
            });
        }
    if sharded.is_empty() {
        let mut common: Option<BTreeSet<ShardId>> = None;
        for s in &anywhere {
            common = Some(match common {
                None => s.clone(),
                Some(c) => c.intersection(s).copied().collect(),
            });
        }
        let common = common.unwrap_or_default();
        let pick = inp
            .pinned
            .iter()
            .find(|p| common.contains(p))
            .copied()
            .or_else(|| {
                common
                    .contains(&fallback_shard(inp.rules, inp.schema))
                    .then(|| fallback_shard(inp.rules, inp.schema))
            })
            .or_else(|| common.iter().next().copied());
        return match pick {
            Some(s) => Ok(single(s, write)),
            None => Err(ProxyError::NotSupported(
                "a statement joining unsharded tables that live on different shards".into(),
            )),
        };
    }
    let multi_table = a.tables.len() > 1 || a.select.as_ref().is_some_and(|s| s.multi_table);
    let mut shards: BTreeSet<ShardId> = BTreeSet::new();
    for (_, s) in &sharded {
        shards.extend(s);
    }
    if multi_table {
        let ok = shards.len() <= 1
            && anywhere
                .iter()
                .all(|s| shards.iter().all(|x| s.contains(x)));
        if !ok {
            return Err(ProxyError::NotSupported(
                "a JOIN, subquery or UNION whose tables span several shards (give the shard key so that every table routes to one shard)".into(),
            ));
        }
    }
    if shards.is_empty() {
        // No shard can hold a matching row: ask one shard, which answers with the right empty result.
        shards.insert(sharded[0].0.shards.first().copied().unwrap_or(0));
    }
    if shards.len() == 1 {
        let shard = shards.iter().next().copied().unwrap_or(0);
        return Ok(single(shard, write));
    }
    let targets: Vec<Target> = shards
        .iter()
        .map(|&shard| Target { shard, sql: None })
        .collect();
    if write {
        if let Statement::Update(u) = &a.stmt
            && (u.limit.is_some() || !u.order_by.is_empty()) {
                return Err(ProxyError::NotSupported(
                    "UPDATE ... ORDER BY/LIMIT across shards".into(),
                ));
            }
        if let Statement::Delete(d) = &a.stmt
            && (d.limit.is_some() || !d.order_by.is_empty()) {
                return Err(ProxyError::NotSupported(
                    "DELETE ... ORDER BY/LIMIT across shards".into(),
                ));
            }
        return Ok(Plan {
            targets,
            merge: Merge::Affected {
                broadcast: false,
                first_id: None,
            },
            write,
        });
    }
    scatter_select(inp, targets)
}

fn scatter_select(inp: &RouteInput<'_>, mut targets: Vec<Target>) -> Result<Plan> {
    let a = inp.analysis;
    let Some(shape) = &a.select else {
        return Err(ProxyError::NotSupported(
            "this statement across shards".into(),
        ));
    };
    if shape.group_by || shape.having {
        return Err(ProxyError::NotSupported("GROUP BY/HAVING across shards (give the shard key, or wait for cross-shard aggregation)".into()));
    }
    let mut aggs = Vec::new();
    let mut plain = false;
    for item in &shape.items {
        match item {
            Item::Agg(g) => aggs.push(*g),
            Item::Unmergeable(what) => return Err(ProxyError::NotSupported(what.clone())),
            Item::Plain | Item::Wildcard => plain = true,
        }
    }
    if !aggs.is_empty() && plain {
        return Err(ProxyError::NotSupported(
            "aggregates mixed with plain columns without GROUP BY across shards".into(),
        ));
    }
    if !aggs.is_empty() && shape.distinct {
        return Err(ProxyError::NotSupported(
            "SELECT DISTINCT with aggregates across shards".into(),
        ));
    }
    let mut merge = RowMerge {
        order_by: shape.order_by.clone(),
        aggregates: (!aggs.is_empty()).then_some(aggs),
        distinct: shape.distinct,
        ..Default::default()
    };
    // The per-shard statement, when it must differ from the client's.
    let mut rewritten: Option<Statement> = None;
    let hidden = hidden_order_columns(&a.stmt);
    if !hidden.is_empty() {
        if shape.distinct {
            return Err(ProxyError::NotSupported(
                "SELECT DISTINCT ... ORDER BY a column that is not selected, across shards".into(),
            ));
        }
        let mut stmt = a.stmt.clone();
        rewrite::inline_params(&mut stmt, inp.params);
        if let Statement::Query(q) = &mut stmt {
            let order_exprs: Vec<Expr> = match &q.order_by {
                Some(ob) => match &ob.kind {
                    sqlparser::ast::OrderByKind::Expressions(v) => {
                        v.iter().map(|o| o.expr.clone()).collect()
                    }
                    _ => Vec::new(),
                },
                None => Vec::new(),
            };
            if let SetExpr::Select(sel) = q.body.as_mut() {
                let base = sel.projection.len();
                for (k, &i) in hidden.iter().enumerate() {
                    if let Some(e) = order_exprs.get(i) {
                        sel.projection
                            .push(sqlparser::ast::SelectItem::UnnamedExpr(e.clone()));
                        merge.order_by[i].0 = crate::sql::analyze::OrderRef::Position(base + k);
                    }
                }
                merge.visible = Some(base);
            }
        }
        rewritten = Some(stmt);
    }
    if let Some((off, cnt)) = &shape.limit {
        let num = |v: &ValueRef| -> Result<u64> {
            match v.bind(inp.params) {
                Some(Value::Int(i)) if *i >= 0 => Ok(*i as u64),
                Some(Value::UInt(u)) => Ok(*u),
                Some(Value::Bytes(b)) => std::str::from_utf8(b)
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                    .ok_or_else(|| ProxyError::Syntax("LIMIT needs integers".into())),
                _ => Err(ProxyError::Syntax(
                    "LIMIT needs non-negative integers".into(),
                )),
            }
        };
        let (o, c) = (num(off)?, num(cnt)?);
        merge.offset = o;
        merge.limit = Some(c);
        if o > 0 {
            let stmt = rewritten.get_or_insert_with(|| {
                let mut s = a.stmt.clone();
                rewrite::inline_params(&mut s, inp.params);
                s
            });
            if let Statement::Query(q) = stmt {
                rewrite::set_limit(q, 0, o.saturating_add(c));
            }
        }
    }
    if let Some(stmt) = rewritten {
        let sql = stmt.to_string();
        for t in &mut targets {
            t.sql = Some(sql.clone());
        }
    }
    Ok(Plan {
        targets,
        merge: Merge::Rows(merge),
        write: false,
    })
}

fn route_insert(inp: &RouteInput<'_>) -> Result<Plan> {
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
            return Ok(Plan {
                targets: r
                    .shards
                    .iter()
                    .map(|&shard| Target { shard, sql: None })
                    .collect(),
                merge: Merge::Affected {
                    broadcast: true,
                    first_id: None,
                },
                write: true,
            });
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
            Some(v) if !needs_id(v, inp.params) => match v.bind(inp.params) {
                Some(val) => val.clone(),
                None => {
                    return Err(ProxyError::NotSupported(format!(
                        "a computed value for shard key `{key}` of `{}` (give a literal or a parameter)",
                        rule.name
                    )));
                }
            },
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
        let k = key_of(rule, &value)?;
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
        }
    };
    Ok(Plan {
        targets,
        merge,
        write: true,
    })
}

/// Positions (in ORDER BY) of the sort keys that are not in the SELECT list: a scatter read must
/// add them as hidden columns, since the merge sorts on what the shards return.
fn hidden_order_columns(stmt: &Statement) -> Vec<usize> {
    use sqlparser::ast::{OrderByKind, SelectItem};
    let Statement::Query(q) = stmt else {
        return Vec::new();
    };
    let SetExpr::Select(sel) = q.body.as_ref() else {
        return Vec::new();
    };
    let Some(ob) = &q.order_by else {
        return Vec::new();
    };
    let OrderByKind::Expressions(exprs) = &ob.kind else {
        return Vec::new();
    };
    let wildcard = sel.projection.iter().any(|p| {
        matches!(
            p,
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
        )
    });
    let last = |e: &Expr| match e {
        Expr::Identifier(i) => Some(i.value.to_ascii_lowercase()),
        Expr::CompoundIdentifier(p) => p.last().map(|i| i.value.to_ascii_lowercase()),
        _ => None,
    };
    let mut out = Vec::new();
    for (i, o) in exprs.iter().enumerate() {
        if matches!(&o.expr, Expr::Value(_)) {
            continue; // ORDER BY 2: a position
        }
        let text = o.expr.to_string();
        let name = last(&o.expr);
        let found = sel.projection.iter().any(|p| match p {
            SelectItem::UnnamedExpr(e) => {
                e.to_string() == text || (name.is_some() && last(e) == name)
            }
            SelectItem::ExprWithAlias { expr, alias } => {
                expr.to_string() == text
                    || name.as_deref() == Some(alias.value.to_ascii_lowercase().as_str())
            }
            _ => false,
        });
        if !(found || wildcard && name.is_some()) {
            out.push(i);
        }
    }
    out
}
