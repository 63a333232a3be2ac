//! Scatter reads: checks that a SELECT spanning several shards can be merged correctly, and
//! builds the merge (ORDER BY with hidden sort columns, LIMIT pushdown, aggregates, DISTINCT).

use super::RouteInput;
use super::group::{group_exprs, grouped_select, groups_by_key};
use crate::error::{ProxyError, Result};
use crate::merge::compare::weight_sql;
use crate::plan::{Merge, Plan, RowMerge, Target};
use crate::rewrite;
use crate::sql::ValueRef;
use crate::sql::analyze::{Item, OrderRef};
use mysql_async::Value;
use sqlparser::ast::{Expr, OrderByKind, Query, Select, SelectItem, SetExpr, Statement};

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
    let group = group_exprs(&a.stmt)?;
    // A GROUP BY on the shard key of the one sharded table: each group is on one shard, and
    // the shards' rows (aggregates, HAVING and all) are simply combined.
    let key_grouped = !multi_table
        && group.as_ref().is_some_and(|g| {
            a.tables.len() == 1
                && super::resolve(inp.rules, inp.schema, &a.tables[0])
                    .ok()
                    .and_then(|(_, r)| r)
                    .and_then(|r| r.key.clone())
                    .is_some_and(|k| groups_by_key(g, &k))
        });
    if !key_grouped {
        if let Some(g) = group {
            return grouped_select(inp, targets, g);
        }
        if shape
            .items
            .iter()
            .any(|i| matches!(i, Item::Agg(_) | Item::Computed))
        {
            return grouped_select(inp, targets, Vec::new());
        }
        if shape.having {
            return Err(ProxyError::NotSupported(
                "HAVING without GROUP BY or aggregates across shards".into(),
            ));
        }
    }
    // Aggregates went to grouped_select above, unless each group is on one shard.
    if !key_grouped
        && let Some(Item::Unmergeable(what)) = shape
            .items
            .iter()
            .find(|i| matches!(i, Item::Unmergeable(_)))
    {
        return Err(ProxyError::NotSupported(what.clone()));
    }
    let mut merge = RowMerge {
        order_by: shape.order_by.clone(),
        distinct: shape.distinct,
        ..Default::default()
    };
    // The per-shard statement, when it must differ from the client's.
    let mut rewritten: Option<Statement> = None;
    let hidden = hidden_order_columns(&a.stmt, multi_table);
    if !hidden.is_empty() && shape.distinct {
        return Err(ProxyError::NotSupported(
            "SELECT DISTINCT ... ORDER BY a column that is not selected, across shards".into(),
        ));
    }
    let mut stmt = a.stmt.clone();
    rewrite::inline_params(&mut stmt, inp.params);
    if let Statement::Query(q) = &mut stmt {
        let order_exprs = order_exprs(q);
        if let SetExpr::Select(sel) = q.body.as_mut() {
            let items = select_items(sel);
            let first_wildcard = items.iter().position(Option::is_none);
            let mut extra = Hidden::default();
            // Sort keys that are not selected, and selected items named after a `*` (whose
            // position in the result the `*` hides): added as hidden columns.
            for i in 0..merge.order_by.len() {
                let named_after_wildcard = matches!(merge.order_by[i].0, OrderRef::Position(p) if first_wildcard.is_some_and(|w| w < p))
                    && !matches!(order_exprs.get(i), Some(Expr::Value(_)));
                if (hidden.contains(&i) || named_after_wildcard)
                    && let Some(e) = order_exprs.get(i)
                {
                    merge.order_by[i].0 = OrderRef::Hidden(extra.add(e.clone(), &mut merge));
                }
            }
            // Text is compared by the servers' weight strings (see merge::compare).
            for i in 0..merge.order_by.len() {
                let r = merge.order_by[i].0.clone();
                let e = match &r {
                    // A number is a position in the result: the item, unless a `*` comes
                    // first (then the result's columns are unknown here).
                    OrderRef::Position(p) if first_wildcard.is_none_or(|w| w > *p) => {
                        items.get(*p).cloned().flatten()
                    }
                    OrderRef::Position(_) => None,
                    _ => order_exprs.get(i).cloned(),
                };
                if let Some(e) = e {
                    extra.weigh(r, &e, &mut merge);
                }
            }
            if shape.distinct && first_wildcard.is_none() {
                for (p, e) in items.iter().enumerate() {
                    if let Some(e) = e {
                        extra.weigh(OrderRef::Position(p), e, &mut merge);
                    }
                }
            }
            if extra.append_to(sel) {
                rewritten = Some(stmt.clone());
            }
        }
    }
    if let Some((off, cnt)) = &shape.limit {
        let (o, c) = limit_values(off, cnt, inp.params)?;
        merge.offset = o;
        merge.limit = Some(c);
        if o > 0 {
            let stmt = rewritten.get_or_insert(stmt);
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
        replica_ok: false,
    })
}

/// Columns a scatter read adds after the SELECT list for the merge (see [`RowMerge::hidden`]).
#[derive(Default)]
pub(super) struct Hidden(Vec<SelectItem>);

impl Hidden {
    /// Adds `e` as a hidden column; returns its index among the hidden columns.
    pub(super) fn add(&mut self, e: Expr, merge: &mut RowMerge) -> usize {
        self.0.push(SelectItem::UnnamedExpr(e));
        merge.hidden += 1;
        merge.hidden - 1
    }

    /// Adds the weight-string columns ([`weight_sql`]) by which the merge compares key `r`,
    /// the expression `e`, if it is text (once per key; a literal needs none).
    pub(super) fn weigh(&mut self, r: OrderRef, e: &Expr, merge: &mut RowMerge) {
        if matches!(e, Expr::Value(_)) || merge.weights.iter().any(|(x, _)| *x == r) {
            return;
        }
        let [w, p] = weight_sql(&e.to_string());
        let k = self.add(rewrite::raw_sql(&w), merge);
        self.add(rewrite::raw_sql(&p), merge);
        merge.weights.push((r, k));
    }

    /// Appends the hidden columns to the SELECT list; whether there were any.
    pub(super) fn append_to(self, sel: &mut Select) -> bool {
        let any = !self.0.is_empty();
        sel.projection.extend(self.0);
        any
    }
}

/// The SELECT list's expressions (None for `*` and `t.*`).
pub(super) fn select_items(sel: &Select) -> Vec<Option<Expr>> {
    sel.projection
        .iter()
        .map(|p| match p {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                Some(e.clone())
            }
            _ => None,
        })
        .collect()
}

/// The ORDER BY expressions of a query.
pub(super) fn order_exprs(q: &Query) -> Vec<Expr> {
    match q.order_by.as_ref().map(|ob| &ob.kind) {
        Some(OrderByKind::Expressions(v)) => v.iter().map(|o| o.expr.clone()).collect(),
        _ => Vec::new(),
    }
}

/// The (offset, count) of a LIMIT clause with its bound values.
pub(super) fn limit_values(off: &ValueRef, cnt: &ValueRef, params: &[Value]) -> Result<(u64, u64)> {
    let num = |v: &ValueRef| -> Result<u64> {
        match v.bind(params) {
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
    Ok((num(off)?, num(cnt)?))
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
