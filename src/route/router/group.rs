//! Aggregates across shards: `SELECT COUNT(*), SUM(x), AVG(x) ...` and `GROUP BY`. Each shard
//! groups its own rows; the merge folds the shards' rows of one group into one (COUNT and SUM
//! added exactly, MIN/MAX compared as the server compares, AVG divided from hidden SUM and
//! COUNT columns), then sorts and applies LIMIT. Group keys travel as hidden columns (with
//! weight strings for text, so `'Émile'` and `'Emile'` are one group under a `_ci` collation).
//! A GROUP BY that contains the shard key needs none of this: each group lives on one shard.

use super::RouteInput;
use super::select::{Hidden, order_exprs, select_items};
use crate::error::{ProxyError, Result};
use crate::plan::{Merge, Plan, RowMerge, Target};
use crate::rewrite;
use crate::sql::analyze::{Agg, Item, OrderRef};
use sqlparser::ast::{
    Expr, GroupByExpr, GroupByWithModifier, Ident, ObjectName, ObjectNamePart, SelectItem, SetExpr,
    Statement, Value,
};

/// The GROUP BY expressions of a SELECT, positions and aliases replaced by the items they
/// name; None without GROUP BY. Refused: `WITH ROLLUP`, `GROUP BY ALL`.
pub(super) fn group_exprs(stmt: &Statement) -> Result<Option<Vec<Expr>>> {
    let Statement::Query(q) = stmt else {
        return Ok(None);
    };
    let SetExpr::Select(sel) = q.body.as_ref() else {
        return Ok(None);
    };
    let (exprs, modifiers) = match &sel.group_by {
        GroupByExpr::All(_) => {
            return Err(ProxyError::NotSupported(
                "GROUP BY ALL across shards".into(),
            ));
        }
        GroupByExpr::Expressions(v, m) => (v, m),
    };
    if exprs.is_empty() {
        return Ok(None);
    }
    if modifiers
        .iter()
        .any(|m| matches!(m, GroupByWithModifier::Rollup))
        || exprs.iter().any(|e| matches!(e, Expr::Rollup(_)))
    {
        return Err(ProxyError::NotSupported(
            "GROUP BY ... WITH ROLLUP across shards (the super-aggregate rows would be each shard's)".into(),
        ));
    }
    if !modifiers.is_empty() {
        return Err(ProxyError::NotSupported(
            "GROUP BY modifiers across shards".into(),
        ));
    }
    let items: Vec<(Option<&str>, Option<&Expr>)> = sel
        .projection
        .iter()
        .map(|p| match p {
            SelectItem::UnnamedExpr(e) => (None, Some(e)),
            SelectItem::ExprWithAlias { expr, alias } => (Some(alias.value.as_str()), Some(expr)),
            _ => (None, None),
        })
        .collect();
    let mut out = Vec::with_capacity(exprs.len());
    for e in exprs {
        let resolved = match e {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => {
                    let item = n
                        .parse::<usize>()
                        .ok()
                        .and_then(|p| p.checked_sub(1))
                        .and_then(|p| items.get(p))
                        .and_then(|(_, e)| *e);
                    match item {
                        Some(i) => i.clone(),
                        None => {
                            return Err(ProxyError::NotSupported(format!(
                                "GROUP BY {n} across shards (not a position of a named item)"
                            )));
                        }
                    }
                }
                _ => e.clone(),
            },
            Expr::Identifier(id) => items
                .iter()
                .find(|(alias, _)| alias.is_some_and(|a| a.eq_ignore_ascii_case(&id.value)))
                .and_then(|(_, e)| e.cloned())
                .unwrap_or_else(|| e.clone()),
            other => other.clone(),
        };
        out.push(resolved);
    }
    Ok(Some(out))
}

/// Whether a GROUP BY names the shard key `key` of the statement's one sharded table: then
/// every group is on one shard and the shards' rows are simply combined.
pub(super) fn groups_by_key(group: &[Expr], key: &str) -> bool {
    group.iter().any(|e| match e {
        Expr::Identifier(i) => i.value.eq_ignore_ascii_case(key),
        Expr::CompoundIdentifier(p) => p.last().is_some_and(|i| i.value.eq_ignore_ascii_case(key)),
        _ => false,
    })
}

/// The plan of an aggregate SELECT (with or without GROUP BY) across `targets`.
pub(super) fn grouped_select(
    inp: &RouteInput<'_>,
    mut targets: Vec<Target>,
    group: Vec<Expr>,
) -> Result<Plan> {
    let a = inp.analysis;
    let Some(shape) = &a.select else {
        return Err(ProxyError::NotSupported(
            "this statement across shards".into(),
        ));
    };
    if shape.having {
        return Err(ProxyError::NotSupported(
            "HAVING across shards unless the GROUP BY contains the shard key (the condition applies to the merged groups)".into(),
        ));
    }
    if shape.distinct {
        return Err(ProxyError::NotSupported(
            "SELECT DISTINCT with aggregates across shards".into(),
        ));
    }
    let mut aggs = Vec::with_capacity(shape.items.len());
    for item in &shape.items {
        match item {
            Item::Agg(g) => aggs.push(*g),
            Item::Unmergeable(what) => return Err(ProxyError::NotSupported(what.clone())),
            Item::Wildcard => {
                return Err(ProxyError::NotSupported(
                    "SELECT * with GROUP BY across shards (name the columns)".into(),
                ));
            }
            Item::Plain if group.is_empty() => {
                return Err(ProxyError::NotSupported(
                    "aggregates mixed with plain columns without GROUP BY across shards".into(),
                ));
            }
            Item::Plain => aggs.push(Agg::First),
        }
    }
    let mut merge = RowMerge {
        order_by: shape.order_by.clone(),
        aggregates: Some(aggs.clone()),
        group_keys: (!group.is_empty()).then(Vec::new),
        ..Default::default()
    };
    let mut stmt = a.stmt.clone();
    rewrite::inline_params(&mut stmt, inp.params);
    let group: Vec<Expr> = {
        // The same expressions with the bound values inlined.
        match group_exprs(&stmt)? {
            Some(g) => g,
            None => group,
        }
    };
    let Statement::Query(q) = &mut stmt else {
        return Err(ProxyError::NotSupported(
            "this statement across shards".into(),
        ));
    };
    let order_exprs = order_exprs(q);
    // Every group must be complete before LIMIT applies: the merge applies it (and sorts
    // again). The shards keep the ORDER BY, which also keeps the result's column flags those
    // of the plain statement (a sort after grouping changes them).
    q.limit_clause = None;
    let SetExpr::Select(sel) = q.body.as_mut() else {
        return Err(ProxyError::NotSupported(
            "this statement across shards".into(),
        ));
    };
    let items = select_items(sel);
    let mut extra = Hidden::default();
    let mut keys = Vec::with_capacity(group.len());
    for g in &group {
        let k = extra.add(g.clone(), &mut merge);
        keys.push(k);
        extra.weigh(OrderRef::Hidden(k), g, &mut merge);
    }
    if let Some(gk) = &mut merge.group_keys {
        *gk = keys.clone();
    }
    for (p, g) in aggs.iter().enumerate() {
        let Some(Some(e)) = items.get(p) else {
            continue;
        };
        match g {
            Agg::Min | Agg::Max => extra.weigh(OrderRef::Position(p), e, &mut merge),
            Agg::Avg => {
                let Expr::Function(f) = e else {
                    return Err(ProxyError::NotSupported(format!("{e} across shards")));
                };
                let renamed = |name: &str| {
                    let mut f = f.clone();
                    f.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))]);
                    Expr::Function(f)
                };
                let k = extra.add(renamed("SUM"), &mut merge);
                extra.add(renamed("COUNT"), &mut merge);
                merge.averages.push((p, k));
            }
            _ => {}
        }
    }
    // ORDER BY: a selected item, or a group expression (compared by its hidden key column).
    for i in 0..merge.order_by.len() {
        let r = merge.order_by[i].0.clone();
        let e = match &r {
            OrderRef::Position(p) => items.get(*p).cloned().flatten(),
            OrderRef::Name(_) => order_exprs.get(i).cloned(),
            OrderRef::Unresolved(_) | OrderRef::Hidden(_) => {
                let text = order_exprs.get(i).map(ToString::to_string);
                match group.iter().position(|g| Some(g.to_string()) == text) {
                    Some(j) => {
                        merge.order_by[i].0 = OrderRef::Hidden(keys[j]);
                        continue;
                    }
                    None => {
                        return Err(ProxyError::NotSupported(format!(
                            "ORDER BY {} with aggregates across shards (order by a selected item, its alias or position, or a GROUP BY expression)",
                            text.unwrap_or_default()
                        )));
                    }
                }
            }
        };
        if let Some(e) = e {
            extra.weigh(r, &e, &mut merge);
        }
    }
    extra.append_to(sel);
    let sql = stmt.to_string();
    for t in &mut targets {
        t.sql = Some(sql.clone());
    }
    if let Some((off, cnt)) = &shape.limit {
        let (o, c) = super::select::limit_values(off, cnt, inp.params)?;
        merge.offset = o;
        merge.limit = Some(c);
    }
    Ok(Plan {
        targets,
        merge: Merge::Rows(merge),
        write: false,
    })
}
