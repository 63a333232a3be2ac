//! The shard-key predicates of a WHERE clause, for one key column: `=`, `IN (...)`, `BETWEEN`,
//! `< <= > >=`, combined by AND/OR. Anything else says nothing about the key ([`Cond::Any`]).

use super::ValueRef;
use super::analyze::value_ref;
use sqlparser::ast::{BinaryOperator, Expr};
use std::ops::Bound;

/// What a predicate says about the key column.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    /// No restriction the proxy can use.
    Any,
    /// key ∈ values.
    In(Vec<ValueRef>),
    /// lo < / <= key < / <= hi.
    Range(Bound<ValueRef>, Bound<ValueRef>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
}

/// The condition `expr` puts on column `key`, which may be qualified by any of `qualifiers`
/// (the table's name or alias).
pub fn key_condition(expr: &Expr, key: &str, qualifiers: &[&str]) -> Cond {
    let is_key = |e: &Expr| is_column(e, key, qualifiers);
    match expr {
        Expr::Nested(inner) => key_condition(inner, key, qualifiers),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => Cond::And(vec![
            key_condition(left, key, qualifiers),
            key_condition(right, key, qualifiers),
        ]),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Or,
            right,
        } => Cond::Or(vec![
            key_condition(left, key, qualifiers),
            key_condition(right, key, qualifiers),
        ]),
        Expr::BinaryOp { left, op, right } => {
            let (col_left, value) = if is_key(left) {
                (true, value_ref(right))
            } else if is_key(right) {
                (false, value_ref(left))
            } else {
                return Cond::Any;
            };
            if value == ValueRef::Expr {
                return Cond::Any;
            }
            // Normalise `v op key` to `key op' v`.
            let op = if col_left { op.clone() } else { flip(op) };
            match op {
                BinaryOperator::Eq => Cond::In(vec![value]),
                BinaryOperator::Lt => Cond::Range(Bound::Unbounded, Bound::Excluded(value)),
                BinaryOperator::LtEq => Cond::Range(Bound::Unbounded, Bound::Included(value)),
                BinaryOperator::Gt => Cond::Range(Bound::Excluded(value), Bound::Unbounded),
                BinaryOperator::GtEq => Cond::Range(Bound::Included(value), Bound::Unbounded),
                _ => Cond::Any,
            }
        }
        Expr::InList {
            expr,
            list,
            negated: false,
        } if is_key(expr) => {
            let values: Vec<ValueRef> = list.iter().map(value_ref).collect();
            if values.contains(&ValueRef::Expr) {
                Cond::Any
            } else {
                Cond::In(values)
            }
        }
        Expr::Between {
            expr,
            negated: false,
            low,
            high,
        } if is_key(expr) => {
            let (lo, hi) = (value_ref(low), value_ref(high));
            if lo == ValueRef::Expr || hi == ValueRef::Expr {
                Cond::Any
            } else {
                Cond::Range(Bound::Included(lo), Bound::Included(hi))
            }
        }
        _ => Cond::Any,
    }
}

fn flip(op: &BinaryOperator) -> BinaryOperator {
    match op {
        BinaryOperator::Lt => BinaryOperator::Gt,
        BinaryOperator::LtEq => BinaryOperator::GtEq,
        BinaryOperator::Gt => BinaryOperator::Lt,
        BinaryOperator::GtEq => BinaryOperator::LtEq,
        other => other.clone(),
    }
}

/// Whether `e` is column `key` (case-insensitive), bare or qualified by one of `qualifiers`.
pub fn is_column(e: &Expr, key: &str, qualifiers: &[&str]) -> bool {
    match e {
        Expr::Identifier(i) => i.value.eq_ignore_ascii_case(key),
        Expr::CompoundIdentifier(parts) => match parts.as_slice() {
            [t, c] => {
                c.value.eq_ignore_ascii_case(key)
                    && qualifiers.iter().any(|q| q.eq_ignore_ascii_case(&t.value))
            }
            [_, t, c] => {
                c.value.eq_ignore_ascii_case(key)
                    && qualifiers.iter().any(|q| q.eq_ignore_ascii_case(&t.value))
            }
            _ => false,
        },
        Expr::Nested(inner) => is_column(inner, key, qualifiers),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mysql_async::Value;
    use sqlparser::ast::Statement;

    fn cond(sql: &str) -> Cond {
        let a = crate::sql::analyze::analyze(&format!("SELECT * FROM t AS x WHERE {sql}")).unwrap();
        let Statement::Query(q) = &a.stmt else {
            panic!()
        };
        let sqlparser::ast::SetExpr::Select(s) = q.body.as_ref() else {
            panic!()
        };
        key_condition(s.selection.as_ref().unwrap(), "id", &["t", "x"])
    }

    fn lit(i: i64) -> ValueRef {
        ValueRef::Lit(Value::Int(i))
    }

    #[test]
    fn equality_in_and_ranges() {
        assert_eq!(cond("id = 5"), Cond::In(vec![lit(5)]));
        assert_eq!(cond("5 = x.id"), Cond::In(vec![lit(5)]));
        assert_eq!(cond("ID = ?"), Cond::In(vec![ValueRef::Param(0)]));
        assert_eq!(cond("id IN (1, 2)"), Cond::In(vec![lit(1), lit(2)]));
        assert_eq!(
            cond("id BETWEEN 1 AND 9"),
            Cond::Range(Bound::Included(lit(1)), Bound::Included(lit(9)))
        );
        assert_eq!(
            cond("10 > id"),
            Cond::Range(Bound::Unbounded, Bound::Excluded(lit(10)))
        );
        assert_eq!(
            cond("id = 1 OR t.id = 2"),
            Cond::Or(vec![Cond::In(vec![lit(1)]), Cond::In(vec![lit(2)])])
        );
        assert_eq!(
            cond("(k = 1 AND id = -3)"),
            Cond::And(vec![Cond::Any, Cond::In(vec![lit(-3)])])
        );
    }

    #[test]
    fn what_says_nothing() {
        assert_eq!(cond("id <> 5"), Cond::Any);
        assert_eq!(cond("id NOT IN (1)"), Cond::Any);
        assert_eq!(cond("id = k"), Cond::Any);
        assert_eq!(cond("other.id = 5"), Cond::Any);
        assert_eq!(cond("id + 1 = 5"), Cond::Any);
    }
}
