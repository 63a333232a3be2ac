//! The table instances of a statement, scope by scope (each SELECT, UPDATE or DELETE with its
//! own FROM and WHERE): a shard-key predicate binds to a table instance, not a table name
//! (`customers a, customers b WHERE a.id = 7 AND b.id = 8` reads two keys), and a join ties
//! instances together when its condition equates their shard keys (`ON p.id = o.product_id`).
//! The caller says which column is each table's shard key, so this stays free of rules.

use super::analyze::{TableName, table_name};
use super::keycond::{Cond, is_column, key_condition};
use sqlparser::ast::{
    BinaryOperator, Delete, Expr, FromTable, JoinConstraint, JoinOperator, Query, Select, SetExpr,
    Statement, TableFactor, TableWithJoins, UpdateTableFromKind, Visit, Visitor,
};
use std::ops::ControlFlow;

/// One table as a statement uses it.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    pub table: TableName,
    /// The alias the statement gives it (then only the alias qualifies its columns).
    pub alias: Option<String>,
    /// What the WHERE clause of its scope says about its shard key (`Any` when the table has
    /// no key, or the WHERE nothing usable).
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
    /// Pairs of instances of one scope whose shard keys an equality joins: a conjunct
    /// `a.key = b.key` of an ON condition or of the WHERE clause, or `USING (key)`.
    pub key_joins: Vec<(usize, usize)>,
    /// For each outer join, the instances of the side whose rows it keeps without a match.
    pub preserved: Vec<Vec<usize>>,
    /// One scope of plain tables (joined or not): no subquery, derived table, set operation
    /// (UNION), CTE or table function. Only such a statement can run on several shards as a
    /// join whose per-shard results are simply combined.
    pub flat: bool,
    /// The number of instances of the statement's own scope (the first walked: an UPDATE's or
    /// DELETE's tables, the outermost SELECT's FROM); they come first in `instances`.
    pub top: usize,
}

/// Walks `stmt`; `key` names the shard key column of a table (None: no key, e.g. unsharded).
pub fn scopes(stmt: &Statement, key: &dyn Fn(&TableName) -> Option<String>) -> Scopes {
    let mut w = Walker {
        key,
        out: Scopes::default(),
        count: 0,
        complex: false,
    };
    let _ = stmt.visit(&mut w);
    w.out.flat = w.count == 1 && !w.complex;
    w.out
}

struct Walker<'k> {
    key: &'k dyn Fn(&TableName) -> Option<String>,
    out: Scopes,
    /// Scopes met.
    count: usize,
    /// Something that makes the statement more than one scope of plain tables.
    complex: bool,
}

impl Visitor for Walker<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        if q.with.is_some() || !matches!(q.body.as_ref(), SetExpr::Select(_)) {
            self.complex = true;
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, s: &Select) -> ControlFlow<()> {
        let from: Vec<&TableWithJoins> = s.from.iter().collect();
        self.scope(&from, s.selection.as_ref());
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
}

impl Walker<'_> {
    /// One scope: its FROM groups (comma-separated, each with its joins) and its WHERE.
    fn scope(&mut self, from: &[&TableWithJoins], selection: Option<&Expr>) {
        self.count += 1;
        let start = self.out.instances.len();
        let mut ons: Vec<&Expr> = Vec::new();
        let mut usings = Vec::new();
        for group in from {
            self.group(group, &mut ons, &mut usings);
        }
        let range = start..self.out.instances.len();
        if self.count == 1 {
            self.out.top = range.len();
        }
        let keys: Vec<Option<String>> = range
            .clone()
            .map(|i| (self.key)(&self.out.instances[i].table))
            .collect();
        if let Some(w) = selection {
            for (i, key) in range.clone().zip(&keys) {
                if let Some(k) = key {
                    let q = self.out.instances[i].qualifier().to_string();
                    self.out.instances[i].cond = key_condition(w, k, &[q.as_str()]);
                }
            }
        }
        let scope = Scope {
            instances: &self.out.instances[range.clone()],
            keys: &keys,
            start,
        };
        let mut joins = Vec::new();
        for e in ons.into_iter().chain(selection) {
            for c in conjuncts(e) {
                if let Expr::BinaryOp {
                    left,
                    op: BinaryOperator::Eq | BinaryOperator::Spaceship,
                    right,
                } = c
                    && let (Some(a), Some(b)) = (scope.key_of(left), scope.key_of(right))
                    && a != b
                {
                    joins.push((a, b));
                }
            }
        }
        for (left, right, columns) in usings {
            for c in &columns {
                let has_key = |i: &usize| {
                    keys[*i - start]
                        .as_deref()
                        .is_some_and(|k| k.eq_ignore_ascii_case(c))
                };
                if let (Some(&a), Some(&b)) = (
                    left.iter().find(|i| has_key(i)),
                    right.iter().find(|i| has_key(i)),
                ) {
                    joins.push((a, b));
                }
            }
        }
        self.out.key_joins.extend(joins);
    }

    /// A FROM group (a table and its joins); returns its instances. ON conditions go to
    /// `ons`, USING lists to `usings` (left instances, right instances, columns).
    fn group<'s>(
        &mut self,
        group: &'s TableWithJoins,
        ons: &mut Vec<&'s Expr>,
        usings: &mut Vec<(Vec<usize>, Vec<usize>, Vec<String>)>,
    ) -> Vec<usize> {
        let mut left = self.factor(&group.relation, ons, usings);
        for j in &group.joins {
            let right = self.factor(&j.relation, ons, usings);
            let (constraint, preserved) = match &j.join_operator {
                JoinOperator::Join(c)
                | JoinOperator::Inner(c)
                | JoinOperator::CrossJoin(c)
                | JoinOperator::StraightJoin(c) => (c, None),
                JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (c, Some(left.clone())),
                JoinOperator::Right(c) | JoinOperator::RightOuter(c) => (c, Some(right.clone())),
                _ => {
                    self.complex = true;
                    left.extend(right);
                    continue;
                }
            };
            match constraint {
                JoinConstraint::On(e) => ons.push(e),
                JoinConstraint::Using(cols) => usings.push((
                    left.clone(),
                    right.clone(),
                    cols.iter().map(crate::rewrite::last_part).collect(),
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
        ons: &mut Vec<&'s Expr>,
        usings: &mut Vec<(Vec<usize>, Vec<usize>, Vec<String>)>,
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
            } => self.group(table_with_joins, ons, usings),
            // Derived tables are scopes of their own (the walk visits their SELECT).
            _ => {
                self.complex = true;
                Vec::new()
            }
        }
    }
}

/// The instances of one scope, with their shard keys, for resolving column references.
struct Scope<'a> {
    instances: &'a [Instance],
    keys: &'a [Option<String>],
    /// Index of the scope's first instance in [`Scopes::instances`].
    start: usize,
}

impl Scope<'_> {
    /// The instance whose shard key `e` is: a column qualified by its alias or name, or a bare
    /// column that is the key of exactly one instance (a bare name that another table also
    /// has is ambiguous, and MySQL refuses the statement).
    fn key_of(&self, e: &Expr) -> Option<usize> {
        let found: Vec<usize> = (0..self.instances.len())
            .filter(|&i| {
                let Some(k) = self.keys[i].as_deref() else {
                    return false;
                };
                is_column(e, k, &[self.instances[i].qualifier()])
            })
            .collect();
        match found.as_slice() {
            [one] => Some(self.start + one),
            _ => None,
        }
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
            assert_eq!(s.key_joins.len(), 1, "{sql}: {s:?}");
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
            assert!(!walk(sql).flat, "{sql}");
        }
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
