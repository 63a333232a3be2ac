//! Scatter reads: checks that a SELECT spanning several shards can be merged correctly, and
//! builds the merge (ORDER BY with hidden sort columns, LIMIT pushdown, aggregates, DISTINCT).

use super::RouteInput;
use crate::error::{ProxyError, Result};
use crate::plan::{Merge, Plan, RowMerge, Target};
use crate::rewrite;
use crate::sql::ValueRef;
use crate::sql::analyze::Item;
use mysql_async::Value;
use sqlparser::ast::{Expr, SetExpr, Statement};

/// The plan of a SELECT read on every one of `targets` and merged (refused with 1235 when the
/// merge cannot be exact). `multi_table`: a join (of co-located tables, or
/// with broadcast tables), whose ORDER BY may name columns of several tables.
pub fn scatter_select(
    inp: &RouteInput<'_>,
    mut targets: Vec<Target>,
    multi_table: bool,
) -> Result<Plan> {
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
    let hidden = hidden_order_columns(&a.stmt, multi_table);
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
                for &i in &hidden {
                    if let Some(e) = order_exprs.get(i) {
                        sel.projection
                            .push(sqlparser::ast::SelectItem::UnnamedExpr(e.clone()));
                        merge.order_by[i].0 = crate::sql::analyze::OrderRef::Hidden(merge.hidden);
                        merge.hidden += 1;
                    }
                }
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

/// Positions (in ORDER BY) of the sort keys that are not in the SELECT list: a scatter read must
/// add them as hidden columns, since the merge sorts on what the shards return. In a join
/// (`multi_table`), a qualified sort key (`o.id`) is in the SELECT list only as written: the
/// result may hold several columns of that name (`p.id`, `o.id`, or both under `*`).
fn hidden_order_columns(stmt: &Statement, multi_table: bool) -> Vec<usize> {
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
        // A name matched by its last part only, which a join's qualified key may not be.
        let by_name = !(multi_table && matches!(o.expr, Expr::CompoundIdentifier(_)));
        let name = last(&o.expr);
        let found = sel.projection.iter().any(|p| match p {
            SelectItem::UnnamedExpr(e) => {
                e.to_string() == text || (by_name && name.is_some() && last(e) == name)
            }
            SelectItem::ExprWithAlias { expr, alias } => {
                expr.to_string() == text
                    || by_name && name.as_deref() == Some(alias.value.to_ascii_lowercase().as_str())
            }
            _ => false,
        });
        if !(found || by_name && wildcard && name.is_some()) {
            out.push(i);
        }
    }
    out
}
