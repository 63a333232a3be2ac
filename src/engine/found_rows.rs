//! `SELECT SQL_CALC_FOUND_ROWS ... LIMIT n`: `FOUND_ROWS()` then answers how many rows the
//! SELECT would have returned without its LIMIT. Each shard counts its own rows (the shards run
//! the SELECT with the modifier, followed by `SELECT FOUND_ROWS()` on the same connection), and
//! the proxy adds them up. That sum is exact when the shards' rows are disjoint parts of the
//! answer; when the merge folds rows together (aggregates, DISTINCT, GROUP BY across shards) it
//! is not, and the statement is refused rather than answered with a wrong count.

use super::{SessionState, Shared, begin, run_targets, run_targets_txn};
use crate::error::{ProxyError, Result};
use crate::execute::Outcome;
use crate::plan::{Merge, Plan};
use crate::sql::analyze::Analysis;
use crate::sql::command::TxChars;
use mysql_async::Value;
use sqlparser::ast::{SetExpr, Statement};

/// Whether the statement is a SELECT with the `SQL_CALC_FOUND_ROWS` modifier.
pub(super) fn wanted(a: &Analysis) -> bool {
    let Statement::Query(q) = &a.stmt else {
        return false;
    };
    match q.body.as_ref() {
        SetExpr::Select(s) => s
            .select_modifiers
            .as_ref()
            .is_some_and(|m| m.sql_calc_found_rows),
        _ => false,
    }
}

/// Runs `plan` (of a `SQL_CALC_FOUND_ROWS` SELECT) and returns the merged rows and the total
/// count `FOUND_ROWS()` is to answer.
pub(super) async fn run(
    sh: &Shared,
    st: &mut SessionState,
    mut plan: Plan,
    sql: &str,
    a: &Analysis,
    params: Option<&[Value]>,
) -> Result<(Outcome, u64)> {
    if plan.targets.len() > 1 {
        let summable = match &plan.merge {
            Merge::Rows(r) => r.aggregates.is_none() && !r.distinct,
            _ => false,
        };
        let grouped = match &a.stmt {
            Statement::Query(q) => match q.body.as_ref() {
                SetExpr::Select(s) => !matches!(
                    &s.group_by,
                    sqlparser::ast::GroupByExpr::Expressions(e, _) if e.is_empty()
                ),
                _ => true,
            },
            _ => true,
        };
        if !summable || grouped {
            return Err(ProxyError::NotSupported(
                "SQL_CALC_FOUND_ROWS with aggregates, DISTINCT or GROUP BY across shards (run a \
                 separate SELECT COUNT(*))"
                    .into(),
            ));
        }
    }
    // Every shard's text, then the count on the same connection.
    super::wrap_targets(&mut plan, sql, a, params, |body| {
        format!("{body}; SELECT FOUND_ROWS()")
    });
    if !st.autocommit && !st.txn.is_open() {
        begin(st, TxChars::default());
    }
    let outcomes = if st.txn.is_open() {
        run_targets_txn(sh, st, &plan, sql, None).await?
    } else {
        run_targets(sh, st, &plan, sql, None).await?
    };
    let mut total = 0u64;
    let mut rows = Vec::with_capacity(outcomes.len());
    for o in outcomes {
        let Outcome::Multi(mut parts) = o else {
            return Err(ProxyError::Sql {
                code: 1105,
                state: "HY000",
                message: "a shard did not answer SELECT FOUND_ROWS()".into(),
            });
        };
        if let Some(Outcome::Rows(count)) = parts.pop() {
            total += count
                .rows
                .first()
                .and_then(|r| r.first())
                .map(count_of)
                .unwrap_or(0);
        }
        rows.push(
            parts
                .into_iter()
                .next()
                .unwrap_or(Outcome::Multi(Vec::new())),
        );
    }
    Ok((crate::merge::merge(&plan.merge, rows)?, total))
}

fn count_of(v: &Value) -> u64 {
    match v {
        Value::Int(n) => u64::try_from(*n).unwrap_or(0),
        Value::UInt(n) => *n,
        Value::Bytes(b) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        _ => 0,
    }
}
