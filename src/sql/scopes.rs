//! The table instances of a statement, scope by scope (each SELECT, UPDATE or DELETE with its
//! own FROM and WHERE): a shard-key predicate binds to a table instance, not a table name
//! (`customers a, customers b WHERE a.id = 7 AND b.id = 8` reads two keys), and a join ties
//! instances together when its condition equates their shard keys (`ON p.id = o.product_id`).
//! The caller says which column is each table's shard key, so this stays free of rules.
//!
//! Which conditions restrict which instance follows SQL's meaning: the WHERE clause and an inner
//! join's ON restrict every instance they name; an outer join's ON restricts only its nullable
//! side (the preserved side keeps every row whatever the ON says). Likewise an equality of keys
//! ties two instances both ways only where both are restricted by it; an outer join's ON ties
//! its nullable side to the preserved side one way (the nullable rows that matter are those
//! matching a preserved row), and a correlated subquery's condition ties its instance to the
//! enclosing query's instance the same one-way manner (see [`Scopes::follows`]).

use super::analyze::{TableName, table_name};
use super::keycond::{Cond, is_column, key_condition};
use sqlparser::ast::{
    BinaryOperator, Delete, Expr, FromTable, JoinConstraint, JoinOperator, Query, Select, SetExpr,
    SetOperator, Statement, TableFactor, TableWithJoins, UpdateTableFromKind, Visit, Visitor,
};
use std::ops::{ControlFlow, Range};

/// One table as a statement uses it.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    pub table: TableName,
    /// The alias the statement gives it (then only the alias qualifies its columns).
    pub alias: Option<String>,
    /// What the conditions restricting it say about its shard key: its scope's WHERE clause
    /// and the ON conditions that restrict it (`Any` when the table has no key, or the
    /// conditions nothing usable). Only rows satisfying it can take part in the answer.
    pub cond: Cond,
}

impl Instance {
    /// The name that qualifies its columns: the alias, else the table name.
    pub fn qualifier(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.table.name)
    }
}

/// What the scopes of a statement say about its table instances.
#[derive(Debug, Default)]
pub struct Scopes {
    /// Every table instance, in the order the walk met them.
    pub instances: Vec<Instance>,
    /// Pairs of instances of one scope whose shard keys an equality joins in a condition that
    /// restricts both (a conjunct `a.key = b.key` of the WHERE clause or of an inner join's
    /// ON, or `USING (key)` of an inner join): every row combination that takes part has
    /// equal keys.
    pub key_joins: Vec<(usize, usize)>,
    /// (anchor, follower): the follower's rows that take part in the answer have the shard key
    /// of an anchor row they combine with, but the anchor's rows are not restricted by the
    /// follower's. From an outer join's ON equating the preserved side's key with the
    /// nullable side's, or a subquery's condition equating its instance's key with a key of
    /// the enclosing query's instance (a correlated subquery).
    pub follows: Vec<(usize, usize)>,
    /// For each outer join, the instances of the side whose rows it keeps without a match.
    pub preserved: Vec<Vec<usize>>,
    /// One scope of plain tables (joined or not): no subquery, derived table, set operation
    /// (UNION), CTE or table function. Only such a statement can run on several shards as a
    /// join whose per-shard results are simply combined.
    pub flat: bool,
    /// The constructs that make the statement more than one scope of plain tables ("UNION",
    /// "a subquery", "a derived table", ...), in the order met, each once: for messages.
    pub constructs: Vec<&'static str>,
    /// The statement calls a window function (`... OVER (...)`), which a shard computes over
    /// its own rows only.
    pub window: bool,
    /// The number of instances of the statement's own scope (the first walked: an UPDATE's or
    /// DELETE's tables, the outermost SELECT's FROM); they come first in `instances`.
    pub top: usize,
}

/// Walks `stmt`; `key` names the shard key column of a table (None: no key, e.g. unsharded).
pub fn scopes(stmt: &Statement, key: &dyn Fn(&TableName) -> Option<String>) -> Scopes {
    let mut w = Walker {
        key,
        out: Scopes::default(),
        keys: Vec::new(),
        count: 0,
        frames: Vec::new(),
        queries: Vec::new(),
        opaque: Vec::new(),
    };
    let _ = stmt.visit(&mut w);
    w.out.flat = w.count == 1 && w.out.constructs.is_empty();
    w.out
}

/// A condition of a scope and the instances (indices in [`Scopes::instances`]) it restricts.
struct Condition<'s> {
    expr: &'s Expr,
    restricts: Vec<usize>,
}

/// A shard-key column reference, resolved.
#[derive(Clone, Copy, PartialEq)]
enum KeyRef {
    /// The key of an instance of the scope being walked.
    Here(usize),
    /// The key of an instance of an enclosing scope (a correlated reference).
    Outer(usize),
}

struct Walker<'k> {
    key: &'k dyn Fn(&TableName) -> Option<String>,
    out: Scopes,
    /// The shard key of each instance, parallel to `out.instances`.
    keys: Vec<Option<String>>,
    /// Scopes met.
    count: usize,
    /// The scopes enclosing the walk's position, innermost last: the instances of each, or
    /// None for a wall no column reference sees through (a derived table's or CTE's query).
    frames: Vec<Option<Range<usize>>>,
    /// For each query being walked: whether it pushed a wall on `frames`.
    queries: Vec<bool>,
    /// The queries of derived tables and CTEs met, which cannot see enclosing scopes.
    opaque: Vec<*const Query>,
}

impl Walker<'_> {
    fn construct(&mut self, what: &'static str) {
        if !self.out.constructs.contains(&what) {
            self.out.constructs.push(what);
        }
    }
}

impl Visitor for Walker<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        let opaque = self.opaque.iter().any(|p| std::ptr::eq(*p, q));
        // The statement's own query (of a SELECT, or of an EXPLAIN): no query or scope
        // encloses it.
        let top = self.queries.is_empty() && self.frames.is_empty();
        if !opaque && !top {
            self.construct("a subquery");
        }
        if let Some(with) = &q.with {
            self.construct("WITH (a common table expression)");
            for cte in &with.cte_tables {
                self.opaque.push(cte.query.as_ref() as *const Query);
            }
        }
        match q.body.as_ref() {
            SetExpr::Select(_) => {}
            SetExpr::SetOperation { op, .. } => self.construct(match op {
                SetOperator::Union => "UNION",
                SetOperator::Intersect => "INTERSECT",
                SetOperator::Except | SetOperator::Minus => "EXCEPT",
            }),
            _ => self.construct("a table value constructor or other query body"),
        }
        if opaque {
            self.frames.push(None);
        }
        self.queries.push(opaque);
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _q: &Query) -> ControlFlow<()> {
        if self.queries.pop() == Some(true) {
            self.frames.pop();
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, s: &Select) -> ControlFlow<()> {
        let from: Vec<&TableWithJoins> = s.from.iter().collect();
        self.scope(&from, s.selection.as_ref());
        ControlFlow::Continue(())
    }

    fn post_visit_select(&mut self, _s: &Select) -> ControlFlow<()> {
        self.frames.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        if let Expr::Function(f) = e
            && f.over.is_some()
        {
            self.out.window = true;
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_statement(&mut self, st: &Statement) -> ControlFlow<()> {
        match st {
            Statement::Update(u) => {
                let mut from = vec![&u.table];
                if let Some(UpdateTableFromKind::BeforeSet(v) | UpdateTableFromKind::AfterSet(v)) =
                    &u.from
                {
                    from.extend(v);
                }
                self.scope(&from, u.selection.as_ref());
            }
            Statement::Delete(Delete {
                from,
                using,
                selection,
                ..
            }) => {
                let (FromTable::WithFromKeyword(v) | FromTable::WithoutKeyword(v)) = from;
                let mut tables: Vec<&TableWithJoins> = v.iter().collect();
                tables.extend(using.iter().flatten());
                self.scope(&tables, selection.as_ref());
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn post_visit_statement(&mut self, st: &Statement) -> ControlFlow<()> {
        if matches!(st, Statement::Update(_) | Statement::Delete(_)) {
            self.frames.pop();
        }
        ControlFlow::Continue(())
    }
}

impl Walker<'_> {
    /// One scope: its FROM groups (comma-separated, each with its joins) and its WHERE. Pushes
    /// the scope's frame (popped by the visitor after its subqueries).
    fn scope(&mut self, from: &[&TableWithJoins], selection: Option<&Expr>) {
        self.count += 1;
        let start = self.out.instances.len();
        let mut conds: Vec<Condition> = Vec::new();
        let mut usings = Vec::new();
        for group in from {
            self.group(group, &mut conds, &mut usings);
        }
        let range = start..self.out.instances.len();
        if self.count == 1 {
            self.out.top = range.len();
        }
        for i in range.clone() {
            let k = (self.key)(&self.out.instances[i].table);
            self.keys.push(k);
        }
        if let Some(w) = selection {
            conds.push(Condition {
                expr: w,
                restricts: range.clone().collect(),
            });
        }
        // Each instance's key condition: the conjunction of the conditions restricting it.
        for i in range.clone() {
            let Some(k) = self.keys[i].clone() else {
                continue;
            };
            let q = self.out.instances[i].qualifier().to_string();
            let mut parts: Vec<Cond> = conds
                .iter()
                .filter(|c| c.restricts.contains(&i))
                .map(|c| key_condition(c.expr, &k, &[q.as_str()]))
                .filter(|c| *c != Cond::Any)
                .collect();
            self.out.instances[i].cond = match parts.len() {
                0 => Cond::Any,
                1 => parts.remove(0),
                _ => Cond::And(parts),
            };
        }
        for c in &conds {
            for e in conjuncts(c.expr) {
                if let Expr::BinaryOp {
                    left,
                    op: BinaryOperator::Eq | BinaryOperator::Spaceship,
                    right,
                } = e
                    && let (Some(a), Some(b)) = (
                        self.key_ref(left, range.clone()),
                        self.key_ref(right, range.clone()),
                    )
                {
                    self.tie(a, b, &c.restricts);
                }
            }
        }
        for (left, right, columns, restricts) in usings {
            for c in &columns {
                let has_key = |i: &usize| {
                    self.keys[*i]
                        .as_deref()
                        .is_some_and(|k| k.eq_ignore_ascii_case(c))
                };
                if let (Some(&a), Some(&b)) = (
                    left.iter().find(|i| has_key(i)),
                    right.iter().find(|i| has_key(i)),
                ) {
                    self.tie(KeyRef::Here(a), KeyRef::Here(b), &restricts);
                }
            }
        }
        self.frames.push(Some(range));
    }

    /// Records what an equality of two keys in a condition restricting `restricts` says.
    fn tie(&mut self, a: KeyRef, b: KeyRef, restricts: &[usize]) {
        match (a, b) {
            (KeyRef::Here(a), KeyRef::Here(b)) if a != b => {
                match (restricts.contains(&a), restricts.contains(&b)) {
                    (true, true) => self.out.key_joins.push((a, b)),
                    (false, true) => self.out.follows.push((a, b)),
                    (true, false) => self.out.follows.push((b, a)),
                    (false, false) => {}
                }
            }
            (KeyRef::Here(h), KeyRef::Outer(o)) | (KeyRef::Outer(o), KeyRef::Here(h))
                if restricts.contains(&h) =>
            {
                self.out.follows.push((o, h));
            }
            _ => {}
        }
    }

    /// The instance whose shard key `e` is: in the scope being walked (`here`), a column
    /// qualified by its alias or name, or a bare column that is the key of exactly one of its
    /// instances (a bare name that another table also has is ambiguous, and MySQL refuses the
    /// statement); else, for a qualified column whose qualifier no instance of the scope has,
    /// the innermost enclosing scope's instance of that name (a correlated reference). A bare
    /// column no instance here has as its key may be any table's column: not resolved.
    fn key_ref(&self, e: &Expr, here: Range<usize>) -> Option<KeyRef> {
        let e = strip_nested(e);
        let qualifier = match e {
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                Some(parts[parts.len() - 2].value.as_str())
            }
            Expr::CompoundIdentifier(_) | Expr::Identifier(_) => None,
            _ => return None,
        };
        let is_key = |i: usize| {
            self.keys[i]
                .as_deref()
                .is_some_and(|k| is_column(e, k, &[self.out.instances[i].qualifier()]))
        };
        let Some(q) = qualifier else {
            let found: Vec<usize> = here.filter(|&i| is_key(i)).collect();
            return match found.as_slice() {
                [one] => Some(KeyRef::Here(*one)),
                _ => None,
            };
        };
        let named = |i: &usize| self.out.instances[*i].qualifier().eq_ignore_ascii_case(q);
        if let Some(i) = here.clone().find(named) {
            return is_key(i).then_some(KeyRef::Here(i));
        }
        for frame in self.frames.iter().rev() {
            let Some(range) = frame else {
                return None;
            };
            if let Some(i) = range.clone().find(named) {
                return is_key(i).then_some(KeyRef::Outer(i));
            }
        }
        None
    }

    /// A FROM group (a table and its joins); returns its instances. ON conditions go to
    /// `conds` with the instances they restrict (both sides of an inner join, the nullable
    /// side of an outer join), USING lists to `usings` (left instances, right instances,
    /// columns, instances restricted).
    fn group<'s>(
        &mut self,
        group: &'s TableWithJoins,
        conds: &mut Vec<Condition<'s>>,
        usings: &mut Vec<Usings>,
    ) -> Vec<usize> {
        let mut left = self.factor(&group.relation, conds, usings);
        for j in &group.joins {
            let right = self.factor(&j.relation, conds, usings);
            let (constraint, preserved) = match &j.join_operator {
                JoinOperator::Join(c)
                | JoinOperator::Inner(c)
                | JoinOperator::CrossJoin(c)
                | JoinOperator::StraightJoin(c) => (c, None),
                JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (c, Some(left.clone())),
                JoinOperator::Right(c) | JoinOperator::RightOuter(c) => (c, Some(right.clone())),
                _ => {
                    self.construct("a join of this kind");
                    left.extend(right);
                    continue;
                }
            };
            let restricts: Vec<usize> = match &preserved {
                None => left.iter().chain(&right).copied().collect(),
                Some(kept) => left
                    .iter()
                    .chain(&right)
                    .copied()
                    .filter(|i| !kept.contains(i))
                    .collect(),
            };
            match constraint {
                JoinConstraint::On(e) => conds.push(Condition { expr: e, restricts }),
                JoinConstraint::Using(cols) => usings.push((
                    left.clone(),
                    right.clone(),
                    cols.iter().map(crate::rewrite::last_part).collect(),
                    restricts,
                )),
                JoinConstraint::Natural | JoinConstraint::None => {}
            }
            if let Some(p) = preserved {
                self.out.preserved.push(p);
            }
            left.extend(right);
        }
        left
    }

    fn factor<'s>(
        &mut self,
        f: &'s TableFactor,
        conds: &mut Vec<Condition<'s>>,
        usings: &mut Vec<Usings>,
    ) -> Vec<usize> {
        match f {
            TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } => {
                self.out.instances.push(Instance {
                    table: table_name(name),
                    alias: alias.as_ref().map(|a| a.name.value.clone()),
                    cond: Cond::Any,
                });
                vec![self.out.instances.len() - 1]
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => self.group(table_with_joins, conds, usings),
            // Derived tables are scopes of their own (the walk visits their SELECT), which
            // see no enclosing scope's columns.
            TableFactor::Derived { subquery, .. } => {
                self.construct("a derived table");
                self.opaque.push(subquery.as_ref() as *const Query);
                Vec::new()
            }
            _ => {
                self.construct("a table function or other table expression");
                Vec::new()
            }
        }
    }
}

/// A USING list: left instances, right instances, columns, instances the join restricts.
type Usings = (Vec<usize>, Vec<usize>, Vec<String>, Vec<usize>);

fn strip_nested(e: &Expr) -> &Expr {
    match e {
        Expr::Nested(inner) => strip_nested(inner),
        other => other,
    }
}

/// The conjuncts of `e`: `a AND (b AND c)` gives a, b, c.
fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            let mut v = conjuncts(left);
            v.extend(conjuncts(right));
            v
        }
        Expr::Nested(inner) => conjuncts(inner),
        other => vec![other],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::ValueRef;
    use mysql_async::Value;

    /// Scopes of `sql`, with keys: products.id, customers.id, orders.product_id.
    fn walk(sql: &str) -> Scopes {
        let a = crate::sql::analyze::analyze(sql).unwrap();
        let keys = |t: &TableName| match t.name.as_str() {
            "products" | "customers" => Some("id".to_string()),
            "orders" => Some("product_id".to_string()),
            _ => None,
        };
        scopes(&a.stmt, &keys)
    }

    fn is(v: i64) -> Cond {
        Cond::In(vec![ValueRef::Lit(Value::Int(v))])
    }

    #[test]
    fn predicates_bind_to_instances() {
        let s = walk("SELECT * FROM customers a, customers b WHERE a.id = 7 AND b.id = 8");
        assert_eq!(s.instances.len(), 2);
        assert_eq!(s.instances[0].cond, Cond::And(vec![is(7), Cond::Any]));
        assert_eq!(s.instances[1].cond, Cond::And(vec![Cond::Any, is(8)]));
        assert!(s.key_joins.is_empty() && s.flat);
    }

    #[test]
    fn key_equalities_join_instances() {
        for sql in [
            "SELECT * FROM orders o JOIN products p ON p.id = o.product_id WHERE o.id = 5",
            "SELECT * FROM products JOIN orders ON orders.product_id = products.id",
            "SELECT * FROM orders, products WHERE qty > 1 AND product_id = products.id",
            "SELECT * FROM products p LEFT JOIN orders o ON (o.product_id <=> p.id AND o.qty > 1)",
            "SELECT * FROM customers JOIN products USING (id)",
        ] {
            let s = walk(sql);
            assert_eq!(s.key_joins.len() + s.follows.len(), 1, "{sql}: {s:?}");
            assert!(s.flat, "{sql}");
        }
        // `orders.id` is not its key; an OR says nothing for every row.
        for sql in [
            "SELECT * FROM orders o JOIN products p ON p.id = o.id",
            "SELECT * FROM orders o, products p WHERE p.id = o.product_id OR o.qty = 1",
        ] {
            assert!(walk(sql).key_joins.is_empty(), "{sql}");
        }
    }

    #[test]
    fn on_conditions_restrict_inner_joins_and_the_nullable_side() {
        // An inner join's ON restricts both sides, like the WHERE clause.
        let s = walk("SELECT * FROM customers a JOIN customers b ON b.id = 8 WHERE a.id = 7");
        assert_eq!(s.instances[0].cond, is(7));
        assert_eq!(s.instances[1].cond, is(8));
        // An outer join's ON restricts the nullable side only: every row of `a` is kept.
        let s = walk("SELECT * FROM customers a LEFT JOIN customers b ON a.id = 7 AND b.id = 8");
        assert_eq!(s.instances[0].cond, Cond::Any);
        assert_eq!(s.instances[1].cond, Cond::And(vec![Cond::Any, is(8)]));
        let s = walk("SELECT * FROM customers a RIGHT JOIN customers b ON a.id = 7 AND b.id = 8");
        assert_eq!(s.instances[0].cond, Cond::And(vec![is(7), Cond::Any]));
        assert_eq!(s.instances[1].cond, Cond::Any);
    }

    #[test]
    fn outer_joins_tie_one_way() {
        let s = walk("SELECT * FROM products p LEFT JOIN orders o ON o.product_id = p.id");
        assert_eq!((s.key_joins.len(), s.follows.clone()), (0, vec![(0, 1)]));
        let s = walk("SELECT * FROM products p RIGHT JOIN orders o USING (id)");
        assert!(
            s.follows.is_empty() && s.key_joins.is_empty(),
            "orders.id is not its key"
        );
        let s = walk("SELECT * FROM products p RIGHT JOIN customers c USING (id)");
        assert_eq!(s.follows, vec![(1, 0)]);
        // Both keys on the preserved side: the ON decides matches of `o` only, not of p and c.
        let s = walk(
            "SELECT * FROM products p JOIN customers c ON TRUE LEFT JOIN orders o ON p.id = c.id",
        );
        assert!(s.follows.is_empty() && s.key_joins.is_empty(), "{s:?}");
    }

    #[test]
    fn correlated_subqueries_follow_the_enclosing_instance() {
        let s = walk(
            "SELECT * FROM products p WHERE p.id = 7 AND EXISTS (SELECT 1 FROM orders o WHERE o.product_id = p.id)",
        );
        assert_eq!(s.follows, vec![(0, 1)]);
        assert_eq!(s.constructs, vec!["a subquery"]);
        // The inner alias shadows the outer one.
        let s = walk(
            "SELECT * FROM products p WHERE EXISTS (SELECT 1 FROM orders p WHERE p.product_id = p.id)",
        );
        assert!(s.follows.is_empty(), "{s:?}");
        // A derived table sees no enclosing scope.
        let s = walk(
            "SELECT * FROM products p WHERE p.id IN (SELECT t.x FROM (SELECT 1 AS x FROM orders o WHERE o.product_id = p.id) t)",
        );
        assert!(s.follows.is_empty(), "{s:?}");
        assert_eq!(s.constructs, vec!["a subquery", "a derived table"]);
    }

    #[test]
    fn window_functions_are_seen() {
        assert!(walk("SELECT ROW_NUMBER() OVER (ORDER BY id) FROM customers").window);
        assert!(
            walk("SELECT * FROM (SELECT SUM(id) OVER (PARTITION BY name) FROM customers) t").window
        );
        assert!(!walk("SELECT SUM(id) FROM customers").window);
    }

    #[test]
    fn outer_joins_record_the_side_they_keep() {
        let s = walk("SELECT * FROM countries c LEFT JOIN orders o ON o.country = c.code");
        assert_eq!(s.preserved, vec![vec![0]]);
        let s = walk("SELECT * FROM countries c RIGHT JOIN orders o ON o.country = c.code");
        assert_eq!(s.preserved, vec![vec![1]]);
    }

    #[test]
    fn subqueries_and_unions_are_not_flat() {
        for sql in [
            "SELECT * FROM orders WHERE product_id IN (SELECT id FROM products)",
            "SELECT id FROM products UNION SELECT product_id FROM orders",
            "SELECT * FROM (SELECT * FROM orders) o",
            "WITH x AS (SELECT 1) SELECT * FROM orders",
        ] {
            let s = walk(sql);
            assert!(!s.flat && !s.constructs.is_empty(), "{sql}");
        }
        assert_eq!(
            walk("SELECT id FROM products UNION SELECT product_id FROM orders").constructs,
            vec!["UNION"]
        );
        let s =
            walk("SELECT * FROM orders WHERE product_id = 3 AND qty IN (SELECT qty FROM orders)");
        assert_eq!(s.instances.len(), 2);
        assert_eq!(s.instances[1].cond, Cond::Any, "the subquery's own WHERE");
        let s = walk(
            "UPDATE orders o JOIN products p ON p.id = o.product_id SET o.qty = 1 WHERE p.id = 2",
        );
        assert_eq!((s.key_joins.len(), s.instances[1].cond.clone()), (1, is(2)));
        assert!(s.flat);
    }
}
