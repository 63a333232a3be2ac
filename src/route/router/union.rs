//! UNION and UNION ALL across shards.
//!
//! **Why it is exact.** A SELECT is *row-local* when each of its rows comes from the rows of one
//! shard: one scope of sharded tables tied by their keys (a table alone, co-located joins),
//! possibly joined with broadcast tables, and no aggregate, GROUP BY, HAVING, window or LIMIT
//! (each would need every shard's rows at once). Such a SELECT's answer is the disjoint union
//! of what each shard answers for it. So a UNION ALL of row-local SELECTs is the concatenation
//! of what each shard answers for the whole UNION ALL, and a UNION (DISTINCT) of row-local
//! SELECTs (or of SELECT DISTINCTs, or of UNIONs of them) is that concatenation de-duplicated:
//! each shard runs the whole statement and the merge de-duplicates across shards, comparing
//! text by the servers' weight strings like a cross-shard DISTINCT. ORDER BY and LIMIT of the
//! whole are a k-way merge and a LIMIT on top (each shard returns its first `offset + count`
//! rows).
//!
//! A SELECT that reads no sharded table (broadcast tables, or none) would return its rows on
//! every shard: it runs on the first shard only, and on the others as `(SELECT ... LIMIT 0)`,
//! which keeps the UNION's column types (they come from every SELECT) without its rows. An
//! unsharded table lives on one shard only, so a SELECT reading one is refused.
//!
//! **Comparing as the server compares.** The type and collation of a UNION's column are those
//! the server derives from all its SELECTs, which a weight string computed inside one SELECT
//! would not follow. So when the merge needs weight strings (ORDER BY, DISTINCT), each shard
//! runs the UNION as a derived table and computes them on its columns:
//!
//! ```sql
//! (SELECT sg_u.*, WEIGHT_STRING(sg_u.`name`), ... FROM (<the UNION>) AS sg_u)
//! UNION ALL   -- UNION for a UNION DISTINCT: see `wrapper`
//! (SELECT sg_u.*, WEIGHT_STRING(sg_u.`name`), ... FROM (<the UNION>) AS sg_u LIMIT 0)
//! ORDER BY <the client's keys> LIMIT 0, <offset + count>
//! ```
//!
//! The second, empty, copy is there for the result's metadata: a derived table's columns are
//! reported with its table name, without the BINARY flag of numbers and with 0 decimals for
//! text, while a UNION's columns carry the type-holder metadata a plain MariaDB reports for
//! the client's UNION. A UNION of the derived table with itself reports exactly that (a
//! `LIMIT 0` branch is not executed, so its derived table is not filled).
//!
//! Refused with 1235: INTERSECT and EXCEPT (a row of one shard may be removed by a row of
//! another); UNION ALL of a UNION DISTINCT's result (`a UNION b UNION ALL c`); a SELECT with
//! aggregates, GROUP BY, HAVING, a window, its own LIMIT, a subquery, a derived table or a join
//! not tied by shard keys; a first SELECT whose columns cannot be named in the derived table
//! (repeated names, `*` over a join, unaliased `?` or character-set literals) when the merge
//! needs weight strings; ORDER BY an expression rather than a column or position.

use super::dml::{components, effective_sets, place_all, scatter_refusal};
use super::select::{Hidden, limit_values};
use super::{RouteInput, resolve};
use crate::config::{Algorithm, ShardId};
use crate::error::{ProxyError, Result};
use crate::plan::{Merge, Plan, RowMerge, Target};
use crate::rewrite;
use crate::sql::analyze::{OrderRef, TableName, table_name};
use crate::sql::scopes::{Scopes, scopes};
use sqlparser::ast::{
    Expr, GroupByExpr, Ident, Query, Select, SelectItem, SetExpr, SetOperator, SetQuantifier,
    Statement, TableFactor, Value, visit_expressions, visit_relations,
};
use std::collections::BTreeSet;
use std::ops::ControlFlow;

/// The derived table's alias in the per-shard statement.
const ALIAS: &str = "sg_u";

/// Whether `stmt` is a query whose body is a set operation (UNION, INTERSECT, EXCEPT).
pub(super) fn is_union(stmt: &Statement) -> bool {
    matches!(stmt, Statement::Query(q) if matches!(q.body.as_ref(), SetExpr::SetOperation { .. }))
}

fn refuse<T>(what: impl Into<String>) -> Result<T> {
    Err(ProxyError::NotSupported(what.into()))
}

/// What each shard's answer for a part of the UNION is, combined across shards.
#[derive(Clone, Copy, PartialEq)]
enum Rows {
    /// The concatenation of the shards' rows is the part's answer.
    All,
    /// The concatenation is the part's answer once de-duplicated.
    Distinct,
}

/// A row-local SELECT of the UNION, with its table instances placed.
struct Branch {
    sc: Scopes,
    placed: Vec<super::dml::Placed>,
}

/// A table and the shards holding it.
type Where = (String, BTreeSet<ShardId>);

/// The walk of a UNION's parts.
struct Walk<'a, 'i> {
    inp: &'a RouteInput<'i>,
    key: &'a dyn Fn(&TableName) -> Option<String>,
    /// A query without clauses, to wrap a part in.
    blank: Query,
    /// The parts visited, in pre-order (see [`limit_zero`]).
    visited: usize,
    branches: Vec<Branch>,
    /// Parts reading no sharded table (by their number in the walk), with the tables they read
    /// and where each is.
    one_shard: Vec<(usize, Vec<Where>)>,
}

impl Walk<'_, '_> {
    fn part(&mut self, node: &SetExpr) -> Result<Rows> {
        let number = self.visited;
        self.visited += 1;
        let mut names: Vec<TableName> = Vec::new();
        let _ = visit_relations(node, |n| {
            names.push(table_name(n));
            ControlFlow::<()>::Continue(())
        });
        let mut sharded = false;
        let mut tables = Vec::new();
        for t in &names {
            let (schema, rule) = resolve(self.inp.rules, self.inp.schema, t)?;
            match rule {
                None => tables.push((t.name.clone(), [schema.default_shard].into())),
                Some(r) if matches!(*r.algorithm, Algorithm::Broadcast) => {
                    tables.push((t.name.clone(), r.shards.iter().copied().collect()))
                }
                Some(_) => sharded = true,
            }
        }
        let plain = matches!(
            node,
            SetExpr::Select(_)
                | SetExpr::Query(_)
                | SetExpr::SetOperation { .. }
                | SetExpr::Values(_)
        );
        if !sharded && plain {
            self.one_shard.push((number, tables));
            return Ok(Rows::All);
        }
        match node {
            SetExpr::SetOperation {
                op,
                set_quantifier,
                left,
                right,
            } => {
                match op {
                    SetOperator::Union => {}
                    SetOperator::Intersect => {
                        return refuse(
                            "INTERSECT across shards (a row of one shard must be compared with the rows of every other: give the shard keys so that the statement routes to one shard)",
                        );
                    }
                    SetOperator::Except | SetOperator::Minus => {
                        return refuse(
                            "EXCEPT across shards (a row of one shard may be removed by a row of another: give the shard keys so that the statement routes to one shard)",
                        );
                    }
                }
                let l = self.part(left)?;
                let r = self.part(right)?;
                match set_quantifier {
                    SetQuantifier::All if l == Rows::All && r == Rows::All => Ok(Rows::All),
                    SetQuantifier::All => refuse(
                        "UNION ALL with a UNION DISTINCT or SELECT DISTINCT across shards (the distinct part must be de-duplicated across shards before the rest is added: use UNION, or UNION ALL throughout)",
                    ),
                    SetQuantifier::Distinct | SetQuantifier::None => Ok(Rows::Distinct),
                    _ => refuse("UNION BY NAME across shards"),
                }
            }
            SetExpr::Query(q) => {
                if q.limit_clause.is_some() || q.fetch.is_some() {
                    return refuse(
                        "a SELECT with its own LIMIT in a UNION across shards (its first rows are taken from every shard's rows: give the shard key so that the statement routes to one shard)",
                    );
                }
                if q.with.is_some() || !q.locks.is_empty() {
                    return refuse("WITH or a locking clause inside a UNION across shards");
                }
                self.part(&q.body)
            }
            SetExpr::Select(s) => self.branch(s),
            _ => refuse("a UNION part of this kind across shards"),
        }
    }

    /// A SELECT reading sharded tables: row-local, or refused.
    fn branch(&mut self, s: &Select) -> Result<Rows> {
        let grouped = match &s.group_by {
            GroupByExpr::All(_) => true,
            GroupByExpr::Expressions(v, _) => !v.is_empty(),
        };
        if grouped || s.having.is_some() || has_aggregate(s) {
            return refuse(
                "GROUP BY or an aggregate in a SELECT of a UNION across shards (each shard would compute it over its own rows only: give the shard key so that the statement routes to one shard)",
            );
        }
        let mut q = self.blank.clone();
        q.body = Box::new(SetExpr::Select(Box::new(s.clone())));
        let stmt = Statement::Query(Box::new(q));
        let sc = scopes(&stmt, self.key);
        if sc.window {
            return refuse(
                "window functions in a UNION across shards (each shard would compute them over its own rows only: give the shard key so that the statement routes to one shard)",
            );
        }
        let placed = place_all(
            self.inp,
            sc.instances.iter().map(|i| (&i.table, &i.cond)).collect(),
        )?;
        self.branches.push(Branch { sc, placed });
        Ok(if s.distinct.is_some() {
            Rows::Distinct
        } else {
            Rows::All
        })
    }
}

/// Calls `f` on each SELECT of a UNION's parts (not those of subqueries).
fn walk_selects(e: &SetExpr, f: &mut dyn FnMut(&Select)) {
    match e {
        SetExpr::Select(s) => f(s),
        SetExpr::Query(q) => walk_selects(&q.body, f),
        SetExpr::SetOperation { left, right, .. } => {
            walk_selects(left, f);
            walk_selects(right, f);
        }
        _ => {}
    }
}

/// Whether a SELECT calls an aggregate function (not as a window).
fn has_aggregate(s: &Select) -> bool {
    const AGGREGATES: &[&str] = &[
        "COUNT",
        "SUM",
        "MIN",
        "MAX",
        "AVG",
        "GROUP_CONCAT",
        "STD",
        "STDDEV",
        "STDDEV_POP",
        "STDDEV_SAMP",
        "VARIANCE",
        "VAR_POP",
        "VAR_SAMP",
        "BIT_AND",
        "BIT_OR",
        "BIT_XOR",
        "JSON_ARRAYAGG",
        "JSON_OBJECTAGG",
    ];
    let mut found = false;
    let _ = visit_expressions(s, |e| {
        if let Expr::Function(f) = e
            && f.over.is_none()
            && AGGREGATES
                .iter()
                .any(|a| f.name.to_string().eq_ignore_ascii_case(a))
        {
            found = true;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    found
}

/// The plan of a UNION whose rows are on several shards (see the module's documentation).
pub(super) fn union_select(
    inp: &RouteInput<'_>,
    key: &dyn Fn(&TableName) -> Option<String>,
) -> Result<Plan> {
    let a = inp.analysis;
    let (Statement::Query(q), Some(shape)) = (&a.stmt, &a.select) else {
        return refuse("this statement across shards");
    };
    if q.with.is_some() {
        return refuse("WITH (a common table expression) with a UNION across shards");
    }
    if !q.locks.is_empty() || q.fetch.is_some() || q.for_clause.is_some() {
        return refuse("a locking or FETCH clause on a UNION across shards");
    }
    // Both would make a shard answer something else than rows to merge.
    let (mut calc, mut into) = (false, false);
    walk_selects(&q.body, &mut |s| {
        calc |= s
            .select_modifiers
            .as_ref()
            .is_some_and(|m| m.sql_calc_found_rows);
        into |= s.into.is_some();
    });
    if calc {
        return refuse("SQL_CALC_FOUND_ROWS on a UNION across shards");
    }
    if into {
        return refuse("SELECT ... INTO on a UNION across shards");
    }
    let mut blank = (**q).clone();
    blank.order_by = None;
    blank.limit_clause = None;
    let mut walk = Walk {
        inp,
        key,
        blank,
        visited: 0,
        branches: Vec::new(),
        one_shard: Vec::new(),
    };
    let rows = walk.part(&q.body)?;

    // Every shard holding rows of a SELECT.
    let mut targets: BTreeSet<ShardId> = BTreeSet::new();
    for b in &walk.branches {
        let sets = effective_sets(&b.sc, &b.placed);
        for (i, p) in b.placed.iter().enumerate() {
            if p.sharded.is_some() {
                targets.extend(sets[i].iter().copied());
            }
        }
    }
    if targets.is_empty() {
        // No shard can hold a matching row: one shard answers with the empty result.
        let first = walk
            .branches
            .iter()
            .flat_map(|b| &b.placed)
            .filter_map(|p| p.sharded.as_ref())
            .filter_map(|r| r.shards.first().copied())
            .min();
        targets.insert(first.unwrap_or(0));
    }
    for b in &walk.branches {
        let sharded: Vec<usize> = (0..b.placed.len())
            .filter(|&i| b.placed[i].sharded.is_some())
            .collect();
        let comps = components(&b.sc, &b.placed, &sharded);
        if let Some(why) = scatter_refusal(&b.sc, &b.placed, &comps, &targets) {
            return refuse(format!(
                "UNION across shards, one of whose SELECTs is {why}"
            ));
        }
    }
    for (_, tables) in &walk.one_shard {
        if let Some((name, _)) = tables.iter().find(|(_, on)| !targets.is_subset(on)) {
            return refuse(format!(
                "UNION across shards with a SELECT reading `{name}`, which is not on every shard the UNION reads (an unsharded table lives on its schema's default shard only: give the shard keys so that the whole UNION routes to that shard)"
            ));
        }
    }

    // Parameters inlined (a text statement's literals are parameters of its analysis, see
    // `sql::normalize`): the first SELECT's columns are named after the text the shards get.
    let mut stmt = a.stmt.clone();
    rewrite::inline_params(&mut stmt, inp.params);
    let Statement::Query(client) = stmt else {
        return refuse("this statement across shards");
    };
    let mut merge = RowMerge {
        order_by: shape.order_by.clone(),
        distinct: rows == Rows::Distinct,
        ..Default::default()
    };
    let mut extra = Hidden::default();
    if !merge.order_by.is_empty() || merge.distinct {
        let names = first_names(&client.body)?;
        let column = |name: &str| {
            Expr::CompoundIdentifier(vec![Ident::new(ALIAS), Ident::with_quote('`', name)])
        };
        for i in 0..merge.order_by.len() {
            let r = merge.order_by[i].0.clone();
            let name = match &r {
                OrderRef::Name(n) => Some(n.clone()),
                OrderRef::Position(p) => names.as_ref().and_then(|v| v.get(*p).cloned()),
                OrderRef::Unresolved(e) => {
                    return refuse(format!(
                        "ORDER BY {e} on a UNION across shards (order by a column of the result or its position)"
                    ));
                }
                OrderRef::Hidden(_) => None,
            };
            if let Some(n) = name {
                extra.weigh(r, &column(&n), &mut merge);
            }
        }
        if merge.distinct {
            let Some(names) = &names else {
                return refuse(
                    "UNION (DISTINCT) across shards whose first SELECT is `*` (list its columns, so that the proxy can compare their text as the servers do)",
                );
            };
            for (p, n) in names.iter().enumerate() {
                extra.weigh(OrderRef::Position(p), &column(n), &mut merge);
            }
        }
    }
    let limit = match (&shape.limit, &q.limit_clause) {
        (Some((off, cnt)), _) => {
            let (o, c) = limit_values(off, cnt, inp.params)?;
            merge.offset = o;
            merge.limit = Some(c);
            Some(o.saturating_add(c))
        }
        (None, Some(_)) => return refuse("this LIMIT clause on a UNION across shards"),
        (None, None) => None,
    };

    // The per-shard statement: the client's UNION, wrapped when the merge needs weight
    // strings; parts reading no sharded table emptied after the first shard.
    let mut inner = (*client).clone();
    inner.order_by = None;
    inner.limit_clause = None;
    let wrapper = if merge.hidden > 0 {
        Some(wrapper(extra, merge.distinct)?)
    } else {
        None
    };
    let empty: Vec<usize> = walk.one_shard.iter().map(|(n, _)| *n).collect();
    let mut out = Vec::with_capacity(targets.len());
    for (i, &shard) in targets.iter().enumerate() {
        let mut body = inner.clone();
        if i > 0 {
            limit_zero(&mut body.body, &empty, &mut 0, &walk.blank);
        }
        let mut outer = match &wrapper {
            Some(w) => {
                let mut w = w.clone();
                for sel in arms(&mut w) {
                    if let Some(TableFactor::Derived { subquery, .. }) =
                        sel.from.first_mut().map(|f| &mut f.relation)
                    {
                        **subquery = body.clone();
                    }
                }
                w
            }
            None => body,
        };
        outer.order_by = client.order_by.clone();
        if let Some(n) = limit {
            rewrite::set_limit(&mut outer, 0, n);
        }
        out.push(Target {
            sql: Some(Statement::Query(Box::new(outer)).to_string()),
            ..Target::on(shard)
        });
    }
    Ok(Plan {
        targets: out,
        merge: Merge::Rows(merge),
        write: false,
        replica_ok: false,
    })
}

/// The per-shard query around the UNION (see the module's documentation), with the hidden
/// columns after `sg_u.*` in both of its SELECTs; the derived tables are placeholders. For a
/// UNION DISTINCT the two are joined by UNION too: the server reports a UNION DISTINCT's
/// columns as those of the temporary table it de-duplicates in (no BINARY flag on numbers, 0
/// decimals for text), and a UNION ALL's as the type holders of its SELECTs. The rows are the
/// same: the derived table's rows are distinct already, and the second SELECT returns none.
fn wrapper(extra: Hidden, distinct: bool) -> Result<Query> {
    let op = if distinct { "UNION" } else { "UNION ALL" };
    let text = format!(
        "(SELECT {ALIAS}.* FROM (SELECT 1) AS {ALIAS}) {op} (SELECT {ALIAS}.* FROM (SELECT 1) AS {ALIAS} LIMIT 0)"
    );
    let parsed = crate::sql::analyze::parse(&text).ok();
    let Some(Statement::Query(mut w)) = parsed.and_then(|mut v| v.pop()) else {
        return Err(ProxyError::Transaction(
            "the UNION wrapper does not parse".into(),
        ));
    };
    let mut sels = arms(&mut w);
    let [first, second] = sels.as_mut_slice() else {
        return Err(ProxyError::Transaction(
            "the UNION wrapper has no two SELECTs".into(),
        ));
    };
    extra.append_to(first);
    second.projection = first.projection.clone();
    Ok(*w)
}

/// The two SELECTs of the wrapper.
fn arms(w: &mut Query) -> Vec<&mut Select> {
    let mut out = Vec::new();
    if let SetExpr::SetOperation { left, right, .. } = w.body.as_mut() {
        for side in [left, right] {
            if let SetExpr::Query(q) = side.as_mut()
                && let SetExpr::Select(s) = q.body.as_mut()
            {
                out.push(s.as_mut());
            }
        }
    }
    out
}

/// Turns the parts numbered in `empty` (in the walk's pre-order, counted by `n`) into
/// `(... LIMIT 0)`: they keep their place in the UNION's column types but return no row.
fn limit_zero(e: &mut SetExpr, empty: &[usize], n: &mut usize, blank: &Query) {
    let me = *n;
    *n += 1;
    if empty.contains(&me) {
        match e {
            SetExpr::Query(q) => rewrite::set_limit(q, 0, 0),
            other => {
                let mut q = blank.clone();
                q.body = Box::new(std::mem::replace(other, SetExpr::Values(empty_values())));
                rewrite::set_limit(&mut q, 0, 0);
                *other = SetExpr::Query(Box::new(q));
            }
        }
        return;
    }
    match e {
        SetExpr::SetOperation { left, right, .. } => {
            limit_zero(left, empty, n, blank);
            limit_zero(right, empty, n, blank);
        }
        SetExpr::Query(q) => limit_zero(&mut q.body, empty, n, blank),
        _ => {}
    }
}

fn empty_values() -> sqlparser::ast::Values {
    sqlparser::ast::Values {
        explicit_row: false,
        value_keyword: false,
        rows: Vec::new(),
    }
}

/// The names of the UNION's columns (those of its first SELECT), as the derived table of the
/// per-shard statement has them; None for a `*` over one table (whose names are distinct).
/// Refused when a name is unknown here or repeated (a derived table refuses it).
fn first_names(body: &SetExpr) -> Result<Option<Vec<String>>> {
    fn leftmost(e: &SetExpr) -> Option<&Select> {
        match e {
            SetExpr::Select(s) => Some(s),
            SetExpr::Query(q) => leftmost(&q.body),
            SetExpr::SetOperation { left, .. } => leftmost(left),
            _ => None,
        }
    }
    let Some(s) = leftmost(body) else {
        return refuse(
            "ORDER BY or DISTINCT on a UNION across shards whose first part is not a SELECT",
        );
    };
    let one_table = s.from.len() == 1
        && s.from[0].joins.is_empty()
        && matches!(s.from[0].relation, TableFactor::Table { .. });
    let mut names: Vec<String> = Vec::new();
    for item in &s.projection {
        let name = match item {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.clone()),
            SelectItem::UnnamedExpr(e) => expr_name(e),
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
                if s.projection.len() == 1 && one_table =>
            {
                return Ok(None);
            }
            _ => {
                return refuse(
                    "ORDER BY or DISTINCT on a UNION across shards whose first SELECT has `*` beside other columns or over a join (list the columns)",
                );
            }
        };
        match name {
            Some(n) if !n.is_empty() && n.len() <= 200 => {
                if names.iter().any(|m| m.to_lowercase() == n.to_lowercase()) {
                    return refuse(format!(
                        "ORDER BY or DISTINCT on a UNION across shards whose first SELECT has two columns named `{n}` (give them distinct aliases)"
                    ));
                }
                names.push(n);
            }
            _ => {
                return refuse(format!(
                    "ORDER BY or DISTINCT on a UNION across shards whose first SELECT has the unnamed column {item} (give it an alias)"
                ));
            }
        }
    }
    Ok(Some(names))
}

/// The name the server gives a SELECT item without an alias, when it is sure: a column's name,
/// a string literal's value, or the text of another expression (the server names it after
/// the text it receives, which is this expression printed, parameters inlined).
fn expr_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) => Some(i.value.clone()),
        Expr::CompoundIdentifier(p) => p.last().map(|i| i.value.clone()),
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::NationalStringLiteral(s) => {
                String::from_utf8(crate::sql::text::unescape(s, '\'')).ok()
            }
            Value::DoubleQuotedString(s) => {
                String::from_utf8(crate::sql::text::unescape(s, '"')).ok()
            }
            Value::Number(..) | Value::Null | Value::Boolean(_) => Some(e.to_string()),
            // A bound value inlined as a literal (`rewrite::inline_params`); `?n`: unbound.
            Value::Placeholder(p) if p.starts_with('?') => None,
            Value::Placeholder(p) => {
                match p.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
                    Some(body) => String::from_utf8(crate::sql::text::unescape(body, '\'')).ok(),
                    None => Some(p.clone()),
                }
            }
            _ => None,
        },
        Expr::Prefixed { .. } | Expr::TypedString { .. } | Expr::Nested(_) => None,
        _ if e.to_string().contains('?') => None,
        _ => Some(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(sql: &str) -> Vec<Option<String>> {
        let a = crate::sql::analyze::analyze(sql).expect("parses");
        let Statement::Query(q) = &a.stmt else {
            panic!("not a query")
        };
        let SetExpr::Select(s) = q.body.as_ref() else {
            panic!("not a SELECT")
        };
        s.projection
            .iter()
            .map(|i| match i {
                SelectItem::UnnamedExpr(e) => expr_name(e),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn unaliased_columns_are_named_as_the_server_names_them() {
        let got = items("SELECT id, c.name, `x`, 'it''s', 1.50, NULL, id + 1, ?, _utf8mb4'a'");
        let want = [
            Some("id"),
            Some("name"),
            Some("x"),
            Some("it's"),
            Some("1.50"),
            Some("NULL"),
            Some("id + 1"),
            None,
            None,
        ];
        assert_eq!(got, want.map(|w| w.map(String::from)).to_vec());
    }

    #[test]
    fn first_names_refuse_repeats_and_stars_over_joins() {
        let body = |sql: &str| {
            let a = crate::sql::analyze::analyze(sql).expect("parses");
            let Statement::Query(q) = a.stmt else {
                panic!("not a query")
            };
            first_names(&q.body)
        };
        assert_eq!(
            body("SELECT id, name AS n FROM t UNION SELECT 1, 2").ok(),
            Some(Some(vec!["id".to_string(), "n".to_string()]))
        );
        assert_eq!(body("SELECT * FROM t UNION SELECT 1, 2").ok(), Some(None));
        assert!(body("SELECT id, ID FROM t UNION SELECT 1, 2").is_err());
        assert!(body("SELECT * FROM t JOIN u UNION SELECT 1, 2").is_err());
        assert!(body("SELECT *, id FROM t UNION SELECT 1, 2").is_err());
    }
}
