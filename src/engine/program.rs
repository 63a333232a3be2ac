//! Stored routine definitions and compound statements, which run on a backend as a whole: the
//! proxy cannot route the statements inside them, so they may not touch a table of the rules.
//!
//! `CREATE`/`ALTER`/`DROP` `PROCEDURE`/`FUNCTION` run on every shard, so that a function works
//! in a statement scattered over the shards, and `CALL` (which names no table) runs on the
//! schema's default shard like any statement on unsharded tables. A trigger (of an unsharded
//! table) and a compound statement (`BEGIN NOT ATOMIC ... END`, a top-level `IF`, ...) run on
//! the default shard.

use super::{SessionState, Shared, fallback, run_plan, single};
use crate::config::{Rules, Schema, TableRule};
use crate::error::{ProxyError, Result};
use crate::execute::Outcome;
use crate::plan::{Merge, Plan, Target};
use crate::sql::lexer::{Tok, tokens};
use crate::sql::split::Program;
use std::sync::Arc;

/// Runs a stored program statement (see the module documentation).
pub(super) async fn run(
    sh: &Shared,
    st: &mut SessionState,
    sql: &str,
    program: Program,
) -> Result<Outcome> {
    let current = st.schema.as_deref().and_then(|s| sh.rules.schema(s));
    if let Some(rule) = rule_table_in(&sh.rules, current, sql, true) {
        let what = match program {
            Program::Routine => "a stored routine",
            Program::Trigger => "a trigger",
            Program::Block => "a compound statement",
        };
        return Err(ProxyError::NotSupported(format!(
            "{what} that names table `{}` of the rules (it runs on one shard as a whole and would see or place rows there only; keep sharded tables out of routines)",
            rule.name
        )));
    }
    match program {
        Program::Routine => {
            // Like DDL: the server commits an open transaction first.
            if st.txn.is_open() {
                st.txn.commit(&sh.backends).await?;
            }
            let plan = Plan {
                targets: (0..sh.rules.shards.len()).map(Target::on).collect(),
                merge: Merge::Affected {
                    multi_row: false,
                    upsert: false,
                    broadcast: true,
                    first_id: None,
                },
                write: true,
                replica_ok: false,
            };
            run_plan(sh, st, &plan, sql, None, false, false).await
        }
        Program::Trigger => {
            // On an unsharded table, which lives on the default shard (with DDL's commit).
            if st.txn.is_open() {
                st.txn.commit(&sh.backends).await?;
            }
            let shard = fallback(sh, st);
            run_plan(sh, st, &single(shard), sql, None, false, false).await
        }
        Program::Block => {
            let shard = fallback(sh, st);
            run_plan(sh, st, &single(shard), sql, None, true, false).await
        }
    }
}

/// The first table of the rules that `sql` names: any word or quoted name of the current
/// schema's rules, or `db.t` of another declared schema. With `strings`, the text of string
/// literals is searched too (a routine may run it with PREPARE). Conservative: a column that
/// has a sharded table's name counts.
pub(super) fn rule_table_in(
    rules: &Rules,
    current: Option<&Schema>,
    sql: &str,
    strings: bool,
) -> Option<Arc<TableRule>> {
    let toks = tokens(sql, usize::MAX);
    let name = |t: &Tok| match t {
        Tok::Word(w) => Some(w.to_lowercase()),
        Tok::Quoted(q) => Some(q.clone()),
        _ => None,
    };
    toks.iter().enumerate().find_map(|(i, t)| {
        if let Tok::Str(text) = t {
            return strings
                .then(|| rule_table_in(rules, current, text, false))
                .flatten();
        }
        let table = name(t)?;
        let schema = match i.checked_sub(2).map(|q| (&toks[q], &toks[q + 1])) {
            Some((db, Tok::Sym('.'))) => {
                let db = name(db)?;
                rules
                    .schemas
                    .iter()
                    .find(|s| s.name.eq_ignore_ascii_case(&db))
            }
            _ => current,
        };
        schema?.table(&table)
    })
}
