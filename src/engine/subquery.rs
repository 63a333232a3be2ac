//! Uncorrelated subqueries across shards: evaluated first, each as a statement of its own
//! through the proxy's read path (so it gets every cross-shard merge: scatter, GROUP BY,
//! AVG, ...), their results written into the outer statement as literals, which then routes
//! and runs as any statement.
//!
//! Only a subquery in a condition (WHERE, HAVING, a join's ON, at any depth) is inlined: one in
//! the SELECT list would change the column's metadata. A subquery is taken as uncorrelated
//! when every qualified column it names (`o.id`) belongs to a table it reads itself; an
//! unqualified name that belongs to an enclosing query makes its evaluation alone fail with
//! 1054, which is turned into a refusal. What each form becomes (MariaDB's semantics):
//!
//! - `x [NOT] IN (subq)` → `x [NOT] IN (v1, v2, ...)` (NULL members keep their meaning); an
//!   empty result → FALSE (TRUE for NOT IN), whatever x is; `(a, b) IN (SELECT c, d ...)`
//!   → a list of rows. `= ANY/SOME` is IN, `<> ALL` is NOT IN; the other comparisons with
//!   ANY/ALL become the OR/AND of the comparisons with each value.
//! - `(subq)` as a value: its one row's value (a row of values for several columns), NULL for
//!   no row, MariaDB's 1242 for more than one.
//! - `[NOT] EXISTS (subq)` → TRUE/FALSE (the subquery runs with LIMIT 1).
//!
//! Literals keep the column's type ([`crate::rewrite::typed`]). A text string's comparison
//! depends on a collation the literal cannot carry (the result metadata does not say the
//! column's collation), so text values are inlined only where they are compared with an
//! expression that names a column (whose collation then decides, as on one server).
//! Statements other than SELECT keep their refusal: a write's subquery would be read apart
//! from the write, not as part of one statement.

use super::{SessionState, Shared};
use crate::error::{ProxyError, Result};
use crate::execute::{Outcome, RowSet};
use crate::rewrite::typed::{Typed, typed_literal};
use crate::sql::analyze::{Analysis, Kind};
use mysql_async::Value;
use sqlparser::ast::{
    BinaryOperator, Expr, JoinConstraint, JoinOperator, Query, SetExpr, Statement, TableFactor,
    TableWithJoins, Value as SqlValue, ValueWithSpan, Visit, VisitMut, Visitor, VisitorMut,
};
use sqlparser::tokenizer::Span;
use std::ops::ControlFlow;

/// The most values (distinct rows) one subquery may give to be written into the statement;
/// past it the statement is refused with 1235.
pub const MAX_INLINED_VALUES: usize = 10_000;

/// The most values of an ANY/ALL comparison other than `= ANY` and `<> ALL`, which becomes one
/// comparison per value.
pub const MAX_EXPANDED_VALUES: usize = 1_000;

/// What the router's refusal `why` of `a` becomes: the answer, when the statement's
/// uncorrelated subqueries in conditions can be evaluated first; else the refusal (naming a
/// correlated subquery when that is what stays).
pub(super) async fn run(
    sh: &Shared,
    st: &mut SessionState,
    a: &Analysis,
    bound: &[Value],
    prefix: Option<&str>,
    why: String,
) -> Result<Outcome> {
    if a.kind != Kind::Select {
        return Err(ProxyError::NotSupported(why));
    }
    let mut stmt = a.stmt.clone();
    crate::rewrite::inline_params(&mut stmt, bound);
    let Statement::Query(q) = &mut stmt else {
        return Err(ProxyError::NotSupported(why));
    };
    if !q.locks.is_empty() {
        return Err(ProxyError::NotSupported(format!(
            "{why} (SELECT ... FOR UPDATE/SHARE with subqueries across shards)"
        )));
    }
    let mut found = Collector::default();
    walk_query(q, &mut found);
    if let Some(e) = found.error {
        return Err(e);
    }
    if found.subqueries.is_empty() {
        return Err(ProxyError::NotSupported(match &found.correlated {
            Some(r) if why.contains("a subquery") => format!(
                "a correlated subquery (it names `{r}` of an enclosing query) across shards: only uncorrelated subqueries in conditions are evaluated first (give the shard keys so that every table routes to one shard)"
            ),
            _ => why,
        }));
    }
    let mut values = Vec::with_capacity(found.subqueries.len());
    for s in &found.subqueries {
        values.push(evaluate(sh, st, s, prefix).await?);
    }
    replace_markers(&mut stmt, values);
    let text = stmt.to_string();
    super::run_prefixed_boxed(sh, st, &text, prefix).await
}

/// A subquery found in a condition, taken out of the statement (a marker stands in its place).
#[derive(Debug)]
struct Found {
    query: Query,
    form: Form,
}

#[derive(Debug)]
enum Form {
    /// `left [NOT] IN (subq)`; `= ANY` and `<> ALL` too.
    In {
        left: Expr,
        negated: bool,
    },
    /// `left op ANY|ALL (subq)`.
    Quantified {
        left: Expr,
        op: BinaryOperator,
        all: bool,
    },
    /// A value; `text_ok`: compared with an expression naming a column.
    Scalar {
        text_ok: bool,
    },
    Exists {
        negated: bool,
    },
}

#[derive(Default)]
struct Collector {
    subqueries: Vec<Found>,
    /// A column of an enclosing query named by a subquery that stays (for the message).
    correlated: Option<String>,
    error: Option<ProxyError>,
}

const MARKER: &str = "__shardgate_subquery_";

fn marker(k: usize) -> Expr {
    Expr::Value(ValueWithSpan {
        value: SqlValue::Placeholder(format!("{MARKER}{k}")),
        span: Span::empty(),
    })
}

fn walk_query(q: &mut Query, c: &mut Collector) {
    if let Some(with) = &mut q.with {
        for cte in &mut with.cte_tables {
            walk_query(&mut cte.query, c);
        }
    }
    walk_body(&mut q.body, c);
}

fn walk_body(b: &mut SetExpr, c: &mut Collector) {
    match b {
        SetExpr::Select(s) => {
            for twj in &mut s.from {
                walk_from(twj, c);
            }
            if let Some(w) = &mut s.selection {
                walk_condition(w, c);
            }
            if let Some(h) = &mut s.having {
                walk_condition(h, c);
            }
        }
        SetExpr::Query(q) => walk_query(q, c),
        SetExpr::SetOperation { left, right, .. } => {
            walk_body(left, c);
            walk_body(right, c);
        }
        _ => {}
    }
}

fn walk_from(twj: &mut TableWithJoins, c: &mut Collector) {
    walk_factor(&mut twj.relation, c);
    for j in &mut twj.joins {
        walk_factor(&mut j.relation, c);
        if let Some(JoinConstraint::On(e)) = constraint(&mut j.join_operator) {
            walk_condition(e, c);
        }
    }
}

fn walk_factor(f: &mut TableFactor, c: &mut Collector) {
    match f {
        TableFactor::Derived { subquery, .. } => walk_query(subquery, c),
        TableFactor::NestedJoin {
            table_with_joins, ..
        } => walk_from(table_with_joins, c),
        _ => {}
    }
}

fn constraint(op: &mut JoinOperator) -> Option<&mut JoinConstraint> {
    match op {
        JoinOperator::Join(c)
        | JoinOperator::Inner(c)
        | JoinOperator::Left(c)
        | JoinOperator::LeftOuter(c)
        | JoinOperator::Right(c)
        | JoinOperator::RightOuter(c)
        | JoinOperator::CrossJoin(c)
        | JoinOperator::StraightJoin(c) => Some(c),
        _ => None,
    }
}

/// Takes the uncorrelated subqueries out of a condition (their markers in their place), and
/// looks into the correlated ones' own conditions.
fn walk_condition(e: &mut Expr, c: &mut Collector) {
    let mut v = CondVisitor {
        c,
        inside: 0,
        skip: Vec::new(),
        peers: Vec::new(),
    };
    let _ = e.visit(&mut v);
}

struct CondVisitor<'c> {
    c: &'c mut Collector,
    /// Queries entered below the condition (their expressions are not this condition's).
    inside: usize,
    /// Subquery expressions that are the right side of an ANY/ALL left in place.
    skip: Vec<*const Expr>,
    /// Scalar subqueries that are an operand of a comparison, and whether the other operand
    /// names a column.
    peers: Vec<(*const Expr, bool)>,
}

fn query_of(e: &mut Expr) -> Option<&mut Query> {
    match e {
        Expr::InSubquery { subquery, .. } | Expr::Exists { subquery, .. } => Some(subquery),
        Expr::Subquery(q) => Some(q),
        Expr::AnyOp { right, .. } | Expr::AllOp { right, .. } => match strip_mut(right) {
            Expr::Subquery(q) => Some(q),
            _ => None,
        },
        _ => None,
    }
}

impl VisitorMut for CondVisitor<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, _q: &mut Query) -> ControlFlow<()> {
        self.inside += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _q: &mut Query) -> ControlFlow<()> {
        self.inside -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        if self.inside > 0 || self.skip.contains(&(e as *const Expr)) {
            return ControlFlow::Continue(());
        }
        if let Expr::BinaryOp { left, op, right } = e
            && is_comparison(op)
        {
            for (side, other) in [(&**left, &**right), (&**right, &**left)] {
                let side = strip(side);
                if matches!(side, Expr::Subquery(_)) {
                    self.peers.push((side as *const Expr, names_column(other)));
                }
            }
            return ControlFlow::Continue(());
        }
        let Some(q) = query_of(e) else {
            return ControlFlow::Continue(());
        };
        if let Some(r) = correlation(q) {
            // Stays: its own conditions may hold uncorrelated subqueries.
            self.c.correlated.get_or_insert(r);
            walk_query(q, self.c);
            if let Expr::AnyOp { right, .. } | Expr::AllOp { right, .. } = e {
                self.skip.push(strip(right) as *const Expr);
            }
            return ControlFlow::Continue(());
        }
        let ptr = e as *const Expr;
        let text_ok = self.peers.iter().any(|(p, ok)| *p == ptr && *ok);
        let taken = match form_of(e, text_ok) {
            Ok(t) => t,
            Err(err) => {
                self.c.error.get_or_insert(err);
                None
            }
        };
        if let Some((query, form)) = taken {
            *e = marker(self.c.subqueries.len());
            self.c.subqueries.push(Found { query, form });
        }
        ControlFlow::Continue(())
    }
}

/// The form of subquery expression `e` (uncorrelated), taken out as it is.
fn form_of(e: &Expr, text_ok: bool) -> Result<Option<(Query, Form)>> {
    let all = matches!(e, Expr::AllOp { .. });
    Ok(match e {
        Expr::InSubquery {
            expr,
            subquery,
            negated,
        } => {
            if subquery.limit_clause.is_some() {
                return Err(limit_refusal());
            }
            Some((
                (**subquery).clone(),
                Form::In {
                    left: (**expr).clone(),
                    negated: *negated,
                },
            ))
        }
        Expr::Exists { subquery, negated } => {
            Some(((**subquery).clone(), Form::Exists { negated: *negated }))
        }
        Expr::Subquery(q) => Some(((**q).clone(), Form::Scalar { text_ok })),
        Expr::AnyOp {
            left,
            compare_op,
            right,
            ..
        }
        | Expr::AllOp {
            left,
            compare_op,
            right,
        } => {
            let Expr::Subquery(q) = strip(right) else {
                return Ok(None);
            };
            if q.limit_clause.is_some() {
                return Err(limit_refusal());
            }
            let form = match (compare_op, all) {
                (BinaryOperator::Eq, false) => Form::In {
                    left: (**left).clone(),
                    negated: false,
                },
                (BinaryOperator::NotEq, true) => Form::In {
                    left: (**left).clone(),
                    negated: true,
                },
                (op, all) => Form::Quantified {
                    left: (**left).clone(),
                    op: op.clone(),
                    all,
                },
            };
            Some(((**q).clone(), form))
        }
        _ => None,
    })
}

fn limit_refusal() -> ProxyError {
    ProxyError::NotSupported(
        "This version of MariaDB doesn't yet support 'LIMIT & IN/ALL/ANY/SOME subquery'".into(),
    )
}

fn is_comparison(op: &BinaryOperator) -> bool {
    use BinaryOperator::*;
    matches!(op, Eq | NotEq | Lt | LtEq | Gt | GtEq | Spaceship)
}

fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Nested(inner) => strip(inner),
        other => other,
    }
}

fn strip_mut(e: &mut Expr) -> &mut Expr {
    match e {
        Expr::Nested(inner) => strip_mut(inner),
        other => other,
    }
}

/// Whether `e` names a column (then a text comparison with it takes its collation, which is
/// also the subquery column's when the statement is valid).
fn names_column(e: &Expr) -> bool {
    let mut found = false;
    let _ = sqlparser::ast::visit_expressions(e, |x| {
        if matches!(x, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
            found = true;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    found
}

/// A qualified column `q.c` that `query` names while no table it reads is called `q`: a
/// reference to an enclosing query's table (correlated).
fn correlation(query: &Query) -> Option<String> {
    struct Names {
        defined: Vec<String>,
        refs: Vec<(String, String)>,
    }
    impl Visitor for Names {
        type Break = ();
        fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
            if let Some(with) = &q.with {
                for cte in &with.cte_tables {
                    self.defined.push(cte.alias.name.value.clone());
                }
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_table_factor(&mut self, f: &TableFactor) -> ControlFlow<()> {
            match f {
                TableFactor::Table { name, alias, .. } => self.defined.push(match alias {
                    Some(a) => a.name.value.clone(),
                    None => crate::rewrite::last_part(name),
                }),
                TableFactor::Derived { alias: Some(a), .. } => {
                    self.defined.push(a.name.value.clone())
                }
                _ => {}
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            if let Expr::CompoundIdentifier(parts) = e
                && parts.len() >= 2
            {
                self.refs
                    .push((parts[parts.len() - 2].value.clone(), e.to_string()));
            }
            ControlFlow::Continue(())
        }
    }
    let mut n = Names {
        defined: Vec::new(),
        refs: Vec::new(),
    };
    let _ = query.visit(&mut n);
    n.refs
        .into_iter()
        .find(|(q, _)| !n.defined.iter().any(|d| d.eq_ignore_ascii_case(q)))
        .map(|(_, text)| text)
}

/// Runs subquery `s` through the engine and builds what takes its place.
async fn evaluate(
    sh: &Shared,
    st: &mut SessionState,
    s: &Found,
    prefix: Option<&str>,
) -> Result<Expr> {
    let mut q = s.query.clone();
    if matches!(s.form, Form::Exists { .. }) && q.limit_clause.is_none() && q.fetch.is_none() {
        crate::rewrite::set_limit(&mut q, 0, 1);
    }
    let text = q.to_string();
    let out = match super::run_prefixed_boxed(sh, st, &text, prefix).await {
        Ok(o) => o,
        Err(e) if e.code() == 1054 => {
            return Err(ProxyError::NotSupported(format!(
                "a correlated subquery across shards ({e}: it names a column of an enclosing query; only uncorrelated subqueries are evaluated first)"
            )));
        }
        Err(e) => return Err(e),
    };
    let set = match out {
        Outcome::Rows(r) => r,
        Outcome::Stream(stream) => super::vars::collect_stream(st, stream).await?,
        Outcome::Ok(_) | Outcome::Multi(_) => {
            return Err(ProxyError::NotSupported(
                "a subquery across shards that returns no result set".into(),
            ));
        }
    };
    substitute(&s.form, &set)
}

fn operand_error(n: usize) -> ProxyError {
    ProxyError::Sql {
        code: 1241,
        state: "21000",
        message: format!("Operand should contain {n} column(s)"),
    }
}

fn text_refusal() -> ProxyError {
    ProxyError::NotSupported(
        "a subquery across shards whose text values are compared with something other than a column (the comparison's collation would be lost when its values are inlined)".into(),
    )
}

/// What takes a subquery's place, given its result.
fn substitute(form: &Form, set: &RowSet) -> Result<Expr> {
    let cols = set.columns.len();
    match form {
        Form::Exists { negated } => Ok(boolean(set.rows.is_empty() == *negated)),
        Form::Scalar { text_ok } => {
            let row = match set.rows.as_slice() {
                [] => return Ok(row_expr(vec![raw("NULL"); cols.max(1)])),
                [row] => row,
                _ => {
                    return Err(ProxyError::Sql {
                        code: 1242,
                        state: "21000",
                        message: "Subquery returns more than 1 row".into(),
                    });
                }
            };
            let lits = literals(row, set)?;
            if lits.iter().any(|l| l.text) && !text_ok {
                return Err(text_refusal());
            }
            Ok(row_expr(lits.iter().map(|l| raw(&l.sql)).collect()))
        }
        Form::In { left, negated } => {
            let left_items = operands(left);
            if left_items.len() != cols {
                return Err(operand_error(left_items.len()));
            }
            let list = distinct_rows(set, &left_items, MAX_INLINED_VALUES)?;
            if list.is_empty() {
                return Ok(boolean(*negated));
            }
            Ok(Expr::InList {
                expr: Box::new(left.clone()),
                list,
                negated: *negated,
            })
        }
        Form::Quantified { left, op, all } => {
            if cols != 1 {
                return Err(operand_error(1));
            }
            if !plain_operand(left) {
                return Err(ProxyError::NotSupported(
                    "an ANY/ALL comparison across shards whose left side is not a column or a literal"
                        .into(),
                ));
            }
            let values = distinct_rows(set, &[left], MAX_EXPANDED_VALUES)?;
            let parts: Vec<Expr> = values
                .into_iter()
                .map(|v| Expr::BinaryOp {
                    left: Box::new(left.clone()),
                    op: op.clone(),
                    right: Box::new(v),
                })
                .collect();
            if parts.is_empty() {
                return Ok(boolean(*all));
            }
            let join = if *all {
                BinaryOperator::And
            } else {
                BinaryOperator::Or
            };
            Ok(balanced(parts, &join))
        }
    }
}

/// The result's rows as literal expressions (a row of several columns as a row constructor),
/// each once; text values only where the matching left operand names a column.
fn distinct_rows(set: &RowSet, left: &[&Expr], cap: usize) -> Result<Vec<Expr>> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for row in &set.rows {
        let lits = literals(row, set)?;
        for (l, x) in lits.iter().zip(left) {
            if l.text && !names_column(x) {
                return Err(text_refusal());
            }
        }
        let key: Vec<&str> = lits.iter().map(|l| l.sql.as_str()).collect();
        if !seen.insert(key.join(",")) {
            continue;
        }
        if out.len() == cap {
            return Err(ProxyError::NotSupported(format!(
                "a subquery across shards returning more than {cap} distinct values (its result is written into the statement: narrow it, or give the shard keys so that every table routes to one shard)"
            )));
        }
        out.push(row_expr(lits.iter().map(|l| raw(&l.sql)).collect()));
    }
    Ok(out)
}

fn literals(row: &[Value], set: &RowSet) -> Result<Vec<Typed>> {
    row.iter()
        .zip(set.columns.iter())
        .map(|(v, c)| {
            typed_literal(v, c).map_err(|what| {
                ProxyError::NotSupported(format!(
                    "a subquery across shards returning {what}, which the proxy cannot write as a literal that compares the same"
                ))
            })
        })
        .collect()
}

/// The operands of the left side of IN: a row constructor's items, or the expression itself.
fn operands(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::Tuple(items) => items.iter().collect(),
        Expr::Nested(inner) => operands(inner),
        other => vec![other],
    }
}

/// A column, or a literal: an operand that may be repeated in each comparison.
fn plain_operand(e: &Expr) -> bool {
    matches!(
        strip(e),
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) | Expr::Value(_)
    )
}

fn row_expr(mut items: Vec<Expr>) -> Expr {
    if items.len() == 1 {
        items.remove(0)
    } else {
        Expr::Tuple(items)
    }
}

fn raw(sql: &str) -> Expr {
    crate::rewrite::raw_sql(sql)
}

fn boolean(b: bool) -> Expr {
    raw(if b { "TRUE" } else { "FALSE" })
}

/// `parts` joined by `op` as a balanced tree of parenthesised pairs (shallow for the parser).
fn balanced(mut parts: Vec<Expr>, op: &BinaryOperator) -> Expr {
    while parts.len() > 1 {
        let mut next = Vec::with_capacity(parts.len().div_ceil(2));
        let mut it = parts.into_iter();
        while let Some(a) = it.next() {
            next.push(match it.next() {
                Some(b) => Expr::Nested(Box::new(Expr::BinaryOp {
                    left: Box::new(a),
                    op: op.clone(),
                    right: Box::new(b),
                })),
                None => a,
            });
        }
        parts = next;
    }
    parts.pop().unwrap_or_else(|| boolean(true))
}

/// Puts each evaluated subquery in place of its marker.
fn replace_markers(stmt: &mut Statement, mut values: Vec<Expr>) {
    let _ = sqlparser::ast::visit_expressions_mut(stmt, |e| {
        if let Expr::Value(v) = e
            && let SqlValue::Placeholder(p) = &v.value
            && let Some(k) = p.strip_prefix(MARKER).and_then(|k| k.parse::<usize>().ok())
            && let Some(slot) = values.get_mut(k)
        {
            *e = std::mem::replace(slot, boolean(false));
        }
        ControlFlow::<()>::Continue(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontend::packets::ColumnDef;
    use mysql_async::consts::ColumnType;
    use std::sync::Arc;

    fn collect(sql: &str) -> (Statement, Collector) {
        let a = crate::sql::analyze::analyze(sql).unwrap();
        let mut stmt = a.stmt;
        let mut c = Collector::default();
        if let Statement::Query(q) = &mut stmt {
            walk_query(q, &mut c);
        }
        (stmt, c)
    }

    fn int_set(rows: &[Option<i64>]) -> RowSet {
        let col = ColumnDef {
            schema: Vec::new(),
            table: Vec::new(),
            org_table: Vec::new(),
            name: b"x".to_vec(),
            org_name: Vec::new(),
            charset: 63,
            length: 20,
            col_type: ColumnType::MYSQL_TYPE_LONGLONG,
            flags: 0,
            decimals: 0,
        };
        RowSet {
            columns: Arc::new(vec![col]),
            rows: rows
                .iter()
                .map(|v| vec![v.map(Value::Int).unwrap_or(Value::NULL)])
                .collect(),
            ..Default::default()
        }
    }

    /// `sql` with its subqueries replaced, each by `f(form)`.
    fn rewrite_with(sql: &str, sets: &[RowSet]) -> Result<String> {
        let (mut stmt, c) = collect(sql);
        let mut values = Vec::new();
        for (s, set) in c.subqueries.iter().zip(sets) {
            values.push(substitute(&s.form, set)?);
        }
        replace_markers(&mut stmt, values);
        let text = stmt.to_string();
        crate::sql::analyze::analyze(&text).expect("round trip");
        Ok(text)
    }

    #[test]
    fn conditions_only_and_uncorrelated_only() {
        let (_, c) = collect(
            "SELECT id, (SELECT MAX(id) FROM orders) FROM customers c WHERE id IN (SELECT customer_id FROM orders) AND EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.amount > (SELECT AVG(amount) FROM orders))",
        );
        let texts: Vec<String> = c.subqueries.iter().map(|s| s.query.to_string()).collect();
        assert_eq!(
            texts,
            vec![
                "SELECT customer_id FROM orders",
                "SELECT AVG(amount) FROM orders"
            ]
        );
        assert_eq!(c.correlated.as_deref(), Some("c.id"));
        let (_, c) = collect(
            "SELECT * FROM customers c JOIN orders o ON o.customer_id = c.id AND o.id IN (SELECT order_id FROM order_items i WHERE i.qty > 1) GROUP BY c.id HAVING COUNT(*) > (SELECT 1 FROM notes)",
        );
        assert_eq!(c.subqueries.len(), 2);
        assert!(c.correlated.is_none());
    }

    #[test]
    fn in_and_not_in_follow_mariadb() {
        let sql = "SELECT id FROM customers WHERE id IN (SELECT customer_id FROM orders)";
        assert_eq!(
            rewrite_with(sql, &[int_set(&[Some(3), Some(1), Some(3), None])]).unwrap(),
            "SELECT id FROM customers WHERE id IN (3, 1, NULL)"
        );
        assert_eq!(
            rewrite_with(sql, &[int_set(&[])]).unwrap(),
            "SELECT id FROM customers WHERE FALSE"
        );
        let sql = "SELECT id FROM customers WHERE NOT id NOT IN (SELECT customer_id FROM orders)";
        assert_eq!(
            rewrite_with(sql, &[int_set(&[])]).unwrap(),
            "SELECT id FROM customers WHERE NOT TRUE"
        );
        let sql = "SELECT id FROM customers WHERE (id, id) IN (SELECT customer_id FROM orders)";
        assert_eq!(
            rewrite_with(sql, &[int_set(&[Some(1)])])
                .unwrap_err()
                .code(),
            1241
        );
        let sql = "SELECT id FROM t WHERE id IN (SELECT x FROM u LIMIT 2)";
        assert_eq!(collect(sql).1.error.map(|e| e.code()), Some(1235));
    }

    #[test]
    fn scalars_and_exists() {
        let sql = "SELECT id FROM orders WHERE amount > (SELECT MAX(x) FROM u) ORDER BY id";
        assert_eq!(
            rewrite_with(sql, &[int_set(&[Some(5)])]).unwrap(),
            "SELECT id FROM orders WHERE amount > 5 ORDER BY id"
        );
        assert_eq!(
            rewrite_with(sql, &[int_set(&[])]).unwrap(),
            "SELECT id FROM orders WHERE amount > NULL ORDER BY id"
        );
        assert_eq!(
            rewrite_with(sql, &[int_set(&[Some(1), Some(2)])])
                .unwrap_err()
                .code(),
            1242
        );
        let sql = "SELECT id FROM t WHERE NOT EXISTS (SELECT 1 FROM u) OR EXISTS (SELECT 1 FROM v)";
        assert_eq!(
            rewrite_with(sql, &[int_set(&[]), int_set(&[Some(1)])]).unwrap(),
            "SELECT id FROM t WHERE TRUE OR TRUE"
        );
    }

    #[test]
    fn any_and_all() {
        let sql = "SELECT id FROM t WHERE id = ANY (SELECT x FROM u)";
        let Ok(a) = crate::sql::analyze::analyze(sql) else {
            return; // the parser does not know ANY here
        };
        drop(a);
        assert_eq!(
            rewrite_with(sql, &[int_set(&[Some(1), Some(2)])]).unwrap(),
            "SELECT id FROM t WHERE id IN (1, 2)"
        );
        let sql = "SELECT id FROM t WHERE id > ALL (SELECT x FROM u)";
        assert_eq!(
            rewrite_with(sql, &[int_set(&[Some(1), Some(2), None])]).unwrap(),
            "SELECT id FROM t WHERE ((id > 1 AND id > 2) AND id > NULL)"
        );
        assert_eq!(
            rewrite_with(sql, &[int_set(&[])]).unwrap(),
            "SELECT id FROM t WHERE TRUE"
        );
    }
}
