//! Aggregates across shards: `SELECT COUNT(*), SUM(x), AVG(x) ...` and `GROUP BY`. Each shard
//! groups its own rows; the merge folds the shards' rows of one group into one (COUNT and SUM
//! added exactly, MIN/MAX compared as the server compares, AVG divided from hidden SUM and
//! COUNT columns), then sorts and applies LIMIT. Group keys travel as hidden columns (with
//! weight strings for text, so `'Émile'` and `'Emile'` are one group under a `_ci` collation).
//! A GROUP BY that contains the shard key needs none of this: each group lives on one shard.

use super::RouteInput;
use super::select::{Hidden, order_exprs, select_items};
use crate::error::{ProxyError, Result};
use crate::plan::{Concat, Merge, Part, Plan, RowMerge, Target, Template};
use crate::rewrite;
use crate::sql::analyze::{Agg, Item, OrderRef, agg_of};
use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArgumentClause, FunctionArguments, GroupByExpr,
    GroupByWithModifier, Ident, ObjectName, ObjectNamePart, OrderBySort, SelectItem, SetExpr,
    Statement, Value, VisitMut, VisitorMut, visit_expressions, visit_expressions_mut,
};
use std::ops::ControlFlow;

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
    if shape.distinct {
        return Err(ProxyError::NotSupported(
            "SELECT DISTINCT with aggregates across shards".into(),
        ));
    }
    let mut aggs = Vec::with_capacity(shape.items.len());
    for item in &shape.items {
        match item {
            Item::Agg(g) => aggs.push(*g),
            // The shards' value is replaced by the evaluated expression.
            Item::Computed => aggs.push(Agg::First),
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
    let merge = RowMerge {
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
    // HAVING applies to the merged groups, not to each shard's part of a group.
    let having = sel.having.take();
    let items = select_items(sel);
    let aliases: Vec<(Option<String>, Option<Expr>)> = sel
        .projection
        .iter()
        .map(|p| match p {
            SelectItem::UnnamedExpr(e) => (None, Some(e.clone())),
            SelectItem::ExprWithAlias { expr, alias } => {
                (Some(alias.value.clone()), Some(expr.clone()))
            }
            _ => (None, None),
        })
        .collect();
    let mut b = Builder {
        extra: Hidden::default(),
        merge,
        group: &group,
        keys: Vec::with_capacity(group.len()),
        more_group: Vec::new(),
        items: &shape.items,
        aliases: &aliases,
    };
    for g in &group {
        let k = b.extra.add(g.clone(), &mut b.merge);
        b.keys.push(k);
        b.extra.weigh(OrderRef::Hidden(k), g, &mut b.merge);
    }
    if let Some(gk) = &mut b.merge.group_keys {
        *gk = b.keys.clone();
    }
    for (p, item) in shape.items.iter().enumerate() {
        let Some(Some(e)) = items.get(p) else {
            continue;
        };
        match item {
            Item::Agg(g) => b.partials(OrderRef::Position(p), *g, e)?,
            Item::Computed => {
                let (t, _) = b.template(e, false)?;
                b.merge.computed.push((OrderRef::Position(p), t));
            }
            _ => {}
        }
    }
    if let Some(h) = &having {
        let (t, _) = b.template(h, true)?;
        b.merge.having = Some(t);
    }
    // ORDER BY: a selected item, a group expression (compared by its hidden key column), or
    // an aggregate expression (computed into a hidden column).
    for i in 0..b.merge.order_by.len() {
        let r = b.merge.order_by[i].0.clone();
        let item = match &r {
            OrderRef::Position(p) => Some(*p),
            OrderRef::Name(n) => aliases
                .iter()
                .position(|(a, _)| a.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(n))),
            _ => None,
        };
        if let Some(p) = item
            && matches!(shape.items.get(p), Some(Item::Agg(Agg::GroupConcat)))
        {
            // The shards' weight strings would be those of their partial strings.
            return Err(ProxyError::NotSupported(
                "ORDER BY a GROUP_CONCAT() across shards".into(),
            ));
        }
        let e = match &r {
            OrderRef::Position(p) if matches!(shape.items.get(*p), Some(Item::Computed)) => {
                // Compared by its value; a text one has no weight string and is refused.
                continue;
            }
            OrderRef::Position(p) => items.get(*p).cloned().flatten(),
            OrderRef::Name(_) => order_exprs.get(i).cloned(),
            OrderRef::Unresolved(_) | OrderRef::Hidden(_) => {
                let Some(oe) = order_exprs.get(i) else {
                    continue;
                };
                let text = oe.to_string();
                if let Some(j) = group.iter().position(|g| g.to_string() == text) {
                    b.merge.order_by[i].0 = OrderRef::Hidden(b.keys[j]);
                    continue;
                }
                if !has_aggregate(oe) {
                    return Err(ProxyError::NotSupported(format!(
                        "ORDER BY {text} with aggregates across shards (order by a selected item, its alias or position, a GROUP BY expression or an aggregate)"
                    )));
                }
                let k = match agg_of(oe) {
                    Some(Ok(g)) => {
                        let k = b.extra.add(oe.clone(), &mut b.merge);
                        b.merge.hidden_aggs.push((k, g));
                        b.partials(OrderRef::Hidden(k), g, oe)?;
                        k
                    }
                    _ => {
                        let (t, on_shards) = b.template(oe, true)?;
                        let k = b.extra.add(on_shards, &mut b.merge);
                        b.merge.hidden_aggs.push((k, Agg::First));
                        b.merge.computed.push((OrderRef::Hidden(k), t));
                        k
                    }
                };
                b.merge.order_by[i].0 = OrderRef::Hidden(k);
                continue;
            }
        };
        if let Some(e) = e {
            b.extra.weigh(r, &e, &mut b.merge);
        }
    }
    let Builder {
        extra,
        mut merge,
        more_group,
        ..
    } = b;
    extra.append_to(sel);
    if !more_group.is_empty() {
        // COUNT/SUM/AVG(DISTINCT x): each shard returns each distinct x of a group once.
        match &mut sel.group_by {
            GroupByExpr::Expressions(v, _) => v.extend(more_group),
            GroupByExpr::All(_) => {
                return Err(ProxyError::NotSupported(
                    "GROUP BY ALL across shards".into(),
                ));
            }
        }
    }
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
        replica_ok: false,
    })
}

/// Whether an expression calls an aggregate.
fn has_aggregate(e: &Expr) -> bool {
    let mut found = false;
    let _ = visit_expressions(e, |sub| {
        if agg_of(sub).is_some() {
            found = true;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    found
}

/// Functions whose value depends on when or where they run: an expression of merged values
/// is evaluated later, by another statement, so these are refused in it.
const VOLATILE: &[&str] = &[
    "RAND",
    "NOW",
    "CURRENT_TIMESTAMP",
    "LOCALTIME",
    "LOCALTIMESTAMP",
    "SYSDATE",
    "CURDATE",
    "CURRENT_DATE",
    "CURTIME",
    "CURRENT_TIME",
    "UTC_DATE",
    "UTC_TIME",
    "UTC_TIMESTAMP",
    "UNIX_TIMESTAMP",
    "UUID",
    "UUID_SHORT",
    "SYS_GUID",
    "CONNECTION_ID",
    "LAST_INSERT_ID",
    "ROW_COUNT",
    "FOUND_ROWS",
    "NEXTVAL",
    "LASTVAL",
    "SETVAL",
    "GET_LOCK",
    "RELEASE_LOCK",
    "IS_FREE_LOCK",
    "IS_USED_LOCK",
    "SLEEP",
    "BENCHMARK",
    "LAST_VALUE",
];

const HOLE: &str = "__shardgate_hole_";

/// Builds the shard statement's hidden columns and the merge's templates of a grouped read.
struct Builder<'a> {
    extra: Hidden,
    merge: RowMerge,
    group: &'a [Expr],
    /// The hidden column of each group expression.
    keys: Vec<usize>,
    /// Expressions the shards also group by (the arguments of DISTINCT aggregates).
    more_group: Vec<Expr>,
    items: &'a [Item],
    /// Each select item's alias and expression.
    aliases: &'a [(Option<String>, Option<Expr>)],
}

impl Builder<'_> {
    /// The hidden columns the merge needs to combine aggregate `g` (the call `e`) whose merged
    /// value goes to column `target`.
    fn partials(&mut self, target: OrderRef, g: Agg, e: &Expr) -> Result<()> {
        let Expr::Function(f) = e else {
            return Err(ProxyError::NotSupported(format!("{e} across shards")));
        };
        let args: Vec<Expr> = match &f.args {
            FunctionArguments::List(l) => l
                .args
                .iter()
                .filter_map(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => Some(x.clone()),
                    // COUNT(*): no argument the merge needs.
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let m = &mut self.merge;
        match g {
            Agg::Min | Agg::Max => self.extra.weigh(target, e, m),
            Agg::Avg => {
                let renamed = |name: &str| {
                    let mut f = f.clone();
                    f.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))]);
                    Expr::Function(f)
                };
                let k = self.extra.add(renamed("SUM"), m);
                self.extra.add(renamed("COUNT"), m);
                m.averages.push((target, k));
            }
            Agg::Var { .. } => {
                let [x] = args.as_slice() else {
                    return Err(ProxyError::NotSupported(format!("{e} across shards")));
                };
                let k = self.extra.add(rewrite::raw_sql(&format!("COUNT({x})")), m);
                self.extra.add(rewrite::raw_sql(&format!("SUM({x})")), m);
                // x + 0.0 is exact (a DECIMAL) for integers and decimals, so the square
                // cannot overflow BIGINT; a DOUBLE stays a DOUBLE.
                self.extra
                    .add(rewrite::raw_sql(&format!("SUM(({x}) * (({x}) + 0.0))")), m);
                // For DOUBLE values, whose sums are rounded: each shard's own variance,
                // combined stably (see merge::variance).
                self.extra
                    .add(rewrite::raw_sql(&format!("VAR_POP({x})")), m);
                m.variances.push((target, k));
            }
            Agg::CountDistinct | Agg::SumDistinct | Agg::AvgDistinct => {
                let mut ks = Vec::with_capacity(args.len());
                for x in &args {
                    let k = self.extra.add(x.clone(), m);
                    self.extra.weigh(OrderRef::Hidden(k), x, m);
                    ks.push(k);
                    self.more_group.push(x.clone());
                }
                m.distincts.push((target, ks));
            }
            Agg::GroupConcat => self.concat(target, e, f, args)?,
            Agg::Count | Agg::Sum | Agg::BitAnd | Agg::BitOr | Agg::BitXor | Agg::First => {}
        }
        Ok(())
    }

    /// The hidden columns and finer shard grouping of a GROUP_CONCAT (see [`Concat`]).
    fn concat(
        &mut self,
        target: OrderRef,
        e: &Expr,
        f: &sqlparser::ast::Function,
        args: Vec<Expr>,
    ) -> Result<()> {
        let refuse = |why: &str| {
            Err(ProxyError::NotSupported(format!(
                "{e} across shards ({why})"
            )))
        };
        let FunctionArguments::List(list) = &f.args else {
            return refuse("no arguments");
        };
        if args.is_empty() || args.len() != list.args.len() {
            return refuse("its arguments must be expressions");
        }
        let distinct = list
            .duplicate_treatment
            .is_some_and(|d| d.to_string().eq_ignore_ascii_case("DISTINCT"));
        let mut order: Vec<(Expr, bool)> = Vec::new();
        let mut separator = b",".to_vec();
        let mut limit = None;
        for c in &list.clauses {
            match c {
                FunctionArgumentClause::OrderBy(keys) => {
                    for k in keys {
                        if k.options.nulls_first.is_some() || k.with_fill.is_some() {
                            return refuse("NULLS FIRST/LAST");
                        }
                        let key = match &k.expr {
                            // A position names an argument.
                            Expr::Value(v) => match &v.value {
                                Value::Number(n, _) => {
                                    match n.parse::<usize>().ok().and_then(|p| p.checked_sub(1)) {
                                        Some(p) if p < args.len() => args[p].clone(),
                                        _ => {
                                            return refuse(
                                                "ORDER BY a position that is not an argument",
                                            );
                                        }
                                    }
                                }
                                _ => k.expr.clone(),
                            },
                            other => other.clone(),
                        };
                        let asc = match &k.options.sort {
                            None | Some(OrderBySort::Asc) => true,
                            Some(OrderBySort::Desc) => false,
                            Some(OrderBySort::Using(_)) => return refuse("ORDER BY ... USING"),
                        };
                        order.push((key, asc));
                    }
                }
                FunctionArgumentClause::Separator(v) => {
                    let bytes = match &v.value {
                        Value::SingleQuotedString(s) => crate::sql::text::unescape(s, '\''),
                        Value::DoubleQuotedString(s) => crate::sql::text::unescape(s, '"'),
                        _ => return refuse("a SEPARATOR that is not a plain string"),
                    };
                    if !bytes.is_ascii() {
                        // Its bytes would have to be converted to the result's character set.
                        return refuse("a SEPARATOR with characters outside ASCII");
                    }
                    separator = bytes;
                }
                FunctionArgumentClause::Limit(x) => {
                    // A literal, or a bound value inlined as SQL text.
                    let n = |x: &Expr| x.to_string().trim().parse::<u64>().ok();
                    match n(x) {
                        Some(c) => limit = Some((0, c)),
                        None => return refuse("a LIMIT that is not a number"),
                    }
                }
                _ => return refuse("this clause"),
            }
        }
        if distinct
            && order
                .iter()
                .any(|(k, _)| !args.iter().any(|a| a.to_string() == k.to_string()))
        {
            return refuse("DISTINCT ordered by something else than its arguments");
        }
        let list_sql = args
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let m = &mut self.merge;
        let piece = self
            .extra
            .add(rewrite::raw_sql(&format!("CONCAT({list_sql})")), m);
        let mut arg_cols = Vec::new();
        if distinct {
            // Distinct by each argument's own collation, as the server compares them.
            for a in &args {
                let k = self.extra.add(a.clone(), m);
                self.extra.weigh(OrderRef::Hidden(k), a, m);
                arg_cols.push(k);
                self.more_group.push(a.clone());
            }
        } else {
            // Every piece as it is: `a` and `A` are two pieces even under a _ci collation.
            self.more_group.push(rewrite::raw_sql(&format!(
                "CAST(CONCAT({list_sql}) AS BINARY)"
            )));
        }
        let mut keys = Vec::with_capacity(order.len());
        for (x, asc) in order {
            let k = self.extra.add(x.clone(), m);
            self.extra.weigh(OrderRef::Hidden(k), &x, m);
            keys.push((k, asc));
            self.more_group.push(x);
        }
        let count = self.extra.add(rewrite::raw_sql("COUNT(*)"), m);
        let max_len = self
            .extra
            .add(rewrite::raw_sql("@@SESSION.group_concat_max_len"), m);
        m.concats.push((
            target,
            Concat {
                piece,
                args: arg_cols,
                keys,
                count,
                max_len,
                distinct,
                separator,
                limit,
            },
        ));
        Ok(())
    }

    /// The template of an expression over aggregates and group expressions: each aggregate
    /// becomes a hidden column folded by the merge, each group expression its key column.
    /// `aliases`: the select list's aliases may be named (HAVING, ORDER BY). Also returns the
    /// expression the shards can compute for its metadata (aliases replaced).
    fn template(&mut self, e: &Expr, aliases: bool) -> Result<(Template, Expr)> {
        let mut w = Walk {
            b: self,
            aliases,
            holes: Vec::new(),
        };
        let mut out = e.clone();
        if let ControlFlow::Break(err) = out.visit(&mut w) {
            return Err(err);
        }
        let holes = w.holes;
        let text = out.to_string();
        let mut parts = Vec::new();
        let mut rest = text.as_str();
        while let Some(at) = rest.find(HOLE) {
            parts.push(Part::Sql(rest[..at].to_string()));
            let after = &rest[at + HOLE.len()..];
            let end = after
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(after.len());
            let n: usize = after[..end].parse().unwrap_or(usize::MAX);
            let Some((r, _)) = holes.get(n) else {
                return Err(ProxyError::NotSupported(format!("{e} across shards")));
            };
            parts.push(Part::Col(r.clone()));
            rest = &after[end..];
        }
        parts.push(Part::Sql(rest.to_string()));
        // The shards' version: the holes' own expressions back in place.
        let _ = visit_expressions_mut(&mut out, |x| {
            if let Expr::Identifier(i) = x
                && let Some(n) = i.value.strip_prefix(HOLE)
                && let Some((_, src)) = n.parse::<usize>().ok().and_then(|n| holes.get(n))
            {
                *x = Expr::Nested(Box::new(src.clone()));
            }
            ControlFlow::<()>::Continue(())
        });
        Ok((parts, out))
    }
}

/// The walk of [`Builder::template`].
struct Walk<'a, 'b> {
    b: &'a mut Builder<'b>,
    aliases: bool,
    /// Each hole's input column and the expression it stands for.
    holes: Vec<(OrderRef, Expr)>,
}

impl Walk<'_, '_> {
    fn hole(&mut self, e: &mut Expr, r: OrderRef) {
        let src = std::mem::replace(
            e,
            Expr::Identifier(Ident::new(format!("{HOLE}{}", self.holes.len()))),
        );
        self.holes.push((r, src));
    }
}

impl VisitorMut for Walk<'_, '_> {
    type Break = ProxyError;

    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<ProxyError> {
        if let Expr::Identifier(i) = e
            && i.value.starts_with(HOLE)
        {
            return ControlFlow::Continue(());
        }
        let text = e.to_string();
        if let Some(j) = self.b.group.iter().position(|g| g.to_string() == text) {
            let k = self.b.keys[j];
            self.hole(e, OrderRef::Hidden(k));
            return ControlFlow::Continue(());
        }
        match agg_of(e) {
            Some(Ok(g)) => {
                let src = e.clone();
                let k = self.b.extra.add(src.clone(), &mut self.b.merge);
                self.b.merge.hidden_aggs.push((k, g));
                if let Err(err) = self.b.partials(OrderRef::Hidden(k), g, &src) {
                    return ControlFlow::Break(err);
                }
                self.hole(e, OrderRef::Hidden(k));
                return ControlFlow::Continue(());
            }
            Some(Err(what)) => return ControlFlow::Break(ProxyError::NotSupported(what)),
            None => {}
        }
        match e {
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
                let name = match e {
                    Expr::Identifier(i) => i.value.clone(),
                    Expr::CompoundIdentifier(p) => {
                        p.last().map(|i| i.value.clone()).unwrap_or_default()
                    }
                    _ => String::new(),
                };
                if self.aliases
                    && matches!(e, Expr::Identifier(_))
                    && let Some(p) = self.b.aliases.iter().position(|(a, _)| {
                        a.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(&name))
                    })
                {
                    match (self.b.items.get(p), &self.b.aliases[p].1) {
                        (Some(Item::Computed), Some(x)) => {
                            // Evaluated in the same pass: its own expression, walked next.
                            *e = Expr::Nested(Box::new(x.clone()));
                        }
                        _ => self.hole(e, OrderRef::Position(p)),
                    }
                    return ControlFlow::Continue(());
                }
                // A column named by its last part, as the GROUP BY names it.
                let grouped = self.b.group.iter().position(|g| match g {
                    Expr::Identifier(i) => i.value.eq_ignore_ascii_case(&name),
                    Expr::CompoundIdentifier(p) => {
                        matches!(e, Expr::Identifier(_))
                            && p.last()
                                .is_some_and(|i| i.value.eq_ignore_ascii_case(&name))
                    }
                    _ => false,
                });
                match grouped {
                    Some(j) => {
                        let k = self.b.keys[j];
                        self.hole(e, OrderRef::Hidden(k));
                        ControlFlow::Continue(())
                    }
                    None => ControlFlow::Break(ProxyError::NotSupported(format!(
                        "{e} in an expression over aggregates across shards (name a GROUP BY expression, an aggregate or a select item's alias)"
                    ))),
                }
            }
            Expr::Subquery(_) | Expr::InSubquery { .. } | Expr::Exists { .. } => {
                ControlFlow::Break(ProxyError::NotSupported(format!(
                    "a subquery in an expression over aggregates across shards ({e})"
                )))
            }
            Expr::Function(f) => {
                let name = f.name.to_string().to_ascii_uppercase();
                if VOLATILE.contains(&name.as_str()) {
                    return ControlFlow::Break(ProxyError::NotSupported(format!(
                        "{name}() in an expression over aggregates across shards (its value depends on when it runs)"
                    )));
                }
                ControlFlow::Continue(())
            }
            _ => ControlFlow::Continue(()),
        }
    }
}
