//! Running a plan on the backends: pooled connections or the session's transaction, streamed
//! single-shard reads, and collecting the shards' outcomes for the merge.

use super::local::error_warning;
use super::{SessionState, Shared, begin};
use crate::config::ShardId;
use crate::error::{ProxyError, Result};
use crate::execute::{self, Job, Outcome};
use crate::plan::{Merge, Plan, Target};
use crate::sql::command::TxChars;
use crate::txn::Txn;
use mysql_async::Value;
use std::sync::Arc;

/// Runs a plan and merges the result. `in_txn`: whether the statement joins the session's
/// transaction (implicitly opening one under autocommit=0).
pub(super) async fn run_plan(
    sh: &Shared,
    st: &mut SessionState,
    plan: &Plan,
    sql: &str,
    params: Option<&[Value]>,
    in_txn: bool,
    stream: bool,
) -> Result<Outcome> {
    if in_txn && !st.autocommit && !st.txn.is_open() {
        begin(st, TxChars::default());
    }
    let use_txn = in_txn && st.txn.is_open();
    if stream
        && plan.merge == Merge::Pass
        && let [target] = plan.targets.as_slice()
    {
        return start_stream(sh, st, target, sql, params, use_txn).await;
    }
    let outcomes = if use_txn {
        run_targets_txn(sh, st, plan, sql, params).await?
    } else {
        run_targets(sh, st, plan, sql, params).await?
    };
    if let Merge::Rows(m) = &plan.merge
        && crate::merge::eval::needed(m)
    {
        return merge_with_eval(sh, st, plan, m, outcomes, use_txn).await;
    }
    crate::merge::merge(&plan.merge, outcomes)
}

/// A merge whose expressions over merged aggregates (and HAVING) one backend evaluates: fold,
/// evaluate on the plan's first shard (in the session's transaction when there is one, with
/// the session's settings), then sort and limit.
async fn merge_with_eval(
    sh: &Shared,
    st: &mut SessionState,
    plan: &Plan,
    m: &crate::plan::RowMerge,
    outcomes: Vec<Outcome>,
    use_txn: bool,
) -> Result<Outcome> {
    use crate::merge;
    let mut folded = merge::fold(m, merge::row_sets(outcomes)?)?;
    let shard = plan.targets.first().map(|t| t.shard).unwrap_or(0);
    let mut values = Vec::new();
    for q in merge::eval::queries(m, &folded)? {
        let one = Plan {
            targets: vec![Target {
                shard,
                sql: Some(q.clone()),
            }],
            merge: Merge::Pass,
            write: false,
        };
        let out = if use_txn {
            run_targets_txn(sh, st, &one, &q, None).await?
        } else {
            run_targets(sh, st, &one, &q, None).await?
        };
        match out.into_iter().next() {
            Some(Outcome::Rows(r)) => {
                folded.warnings = folded.warnings.saturating_add(r.warnings);
                folded.warning_list.extend(r.warning_list);
                values.extend(r.rows.into_iter().next().unwrap_or_default());
            }
            _ => {
                return Err(ProxyError::Transaction(
                    "the evaluation of merged expressions returned no row".into(),
                ));
            }
        }
    }
    merge::eval::apply(m, &mut folded, values)?;
    Ok(Outcome::Rows(merge::finish(m, folded)?))
}

/// Runs `pre` then `sql` on one connection of `shard` (joining the session's transaction as any
/// statement does), and returns what `sql` answered.
pub(super) async fn run_with_prelude(
    sh: &Shared,
    st: &mut SessionState,
    shard: ShardId,
    pre: &str,
    sql: &str,
    params: Option<&[Value]>,
) -> Result<Outcome> {
    if !st.autocommit && !st.txn.is_open() {
        begin(st, TxChars::default());
    }
    let use_txn = st.txn.is_open();
    let mut conn = acquire(sh, st, shard, use_txn).await?;
    let name = sh.backends.shard_name(shard).to_string();
    let timeout = sh.backends.timeout();
    let pre_job = Job {
        sql: Arc::from(pre),
        params: None,
    };
    let job = Job {
        sql: Arc::from(sql),
        params: params.map(<[Value]>::to_vec),
    };
    let r = match execute::run(&mut conn, &pre_job, timeout, &name).await {
        Ok(_) => execute::run(&mut conn, &job, timeout, &name).await,
        Err(e) => Err(e),
    };
    let usable = !matches!(&r, Err(e) if e.is_connection_loss());
    give_back(st, use_txn, shard, usable.then_some(conn));
    r
}

/// A connection for `shard`: in a transaction the pinned one (the shard joins the transaction
/// on first use), otherwise one from the pool.
pub(super) async fn acquire(
    sh: &Shared,
    st: &mut SessionState,
    shard: ShardId,
    use_txn: bool,
) -> Result<mysql_async::Conn> {
    if use_txn && let Some(c) = st.txn.take(shard) {
        return Ok(c);
    }
    let c = sh
        .backends
        .conn_with(shard, st.schema.as_deref(), st.found_rows, &st.setup)
        .await?;
    if use_txn {
        let branch = st.txn.branch_for(&sh.backends, st.txn_mode, shard)?;
        let joined = Txn::join(&sh.backends, shard, c, st.txn.chars(), branch.as_deref()).await;
        if joined.is_err() {
            st.txn.join_failed(shard);
        }
        return joined;
    }
    Ok(c)
}

/// Starts a single-shard read whose rows are relayed as they arrive. The connection goes back
/// to the transaction (or the pool) in [`finish_stream`], once the client has the rows.
pub(super) async fn start_stream(
    sh: &Shared,
    st: &mut SessionState,
    t: &Target,
    sql: &str,
    params: Option<&[Value]>,
    use_txn: bool,
) -> Result<Outcome> {
    let conn = acquire(sh, st, t.shard, use_txn).await?;
    let name = sh.backends.shard_name(t.shard).to_string();
    match execute::start_stream(
        conn,
        job(t, sql, params),
        sh.backends.timeout(),
        t.shard,
        name,
    )
    .await
    {
        execute::Started::Rows(stream) => Ok(Outcome::Stream(stream)),
        execute::Started::Done(conn, result) => {
            give_back(st, use_txn, t.shard, conn);
            result
        }
    }
}

/// Returns a streamed statement's connection to the transaction (or drops it to the pool),
/// records its warnings and row count (`rows` were relayed), and returns the warning count.
pub fn finish_stream(
    st: &mut SessionState,
    shard: ShardId,
    conn: Option<mysql_async::Conn>,
    end: &Result<execute::StreamEnd>,
    rows: u64,
) -> u16 {
    let in_txn = st.txn.is_open();
    give_back(st, in_txn, shard, conn);
    match end {
        Ok((count, list)) => {
            st.warnings = list.clone();
            st.found_rows_count = rows;
            *count
        }
        Err(e) => {
            st.warnings = error_warning(e);
            0
        }
    }
}

pub(super) fn give_back(
    st: &mut SessionState,
    use_txn: bool,
    shard: ShardId,
    conn: Option<mysql_async::Conn>,
) {
    if !use_txn {
        return; // a pooled connection goes back to its pool when dropped
    }
    match conn {
        Some(c) => st.txn.put(shard, c),
        // Lost with this shard's part of the transaction.
        None => st.txn.forget(shard),
    }
}

pub(super) fn job(t: &Target, sql: &str, params: Option<&[Value]>) -> Arc<Job> {
    Arc::new(match &t.sql {
        Some(rewritten) => Job {
            sql: Arc::from(rewritten.as_str()),
            params: None,
        },
        None => Job {
            sql: Arc::from(sql),
            params: params.map(<[Value]>::to_vec),
        },
    })
}

/// Runs the targets on pooled connections (autocommit).
pub(super) async fn run_targets(
    sh: &Shared,
    st: &SessionState,
    plan: &Plan,
    sql: &str,
    params: Option<&[Value]>,
) -> Result<Vec<Outcome>> {
    let db = st.schema.as_deref();
    let conns = futures_util::future::join_all(
        plan.targets
            .iter()
            .map(|t| sh.backends.conn_with(t.shard, db, st.found_rows, &st.setup)),
    )
    .await;
    let mut work = Vec::with_capacity(conns.len());
    for (t, c) in plan.targets.iter().zip(conns) {
        work.push((
            c?,
            job(t, sql, params),
            sh.backends.shard_name(t.shard).to_string(),
        ));
    }
    collect(
        plan,
        execute::run_all(work, sh.backends.timeout()).await,
        |_, _| {},
    )
}

/// Runs the targets on the transaction's pinned connections, pinning new shards as needed.
pub(super) async fn run_targets_txn(
    sh: &Shared,
    st: &mut SessionState,
    plan: &Plan,
    sql: &str,
    params: Option<&[Value]>,
) -> Result<Vec<Outcome>> {
    if plan.write {
        let shards: Vec<ShardId> = plan.targets.iter().map(|t| t.shard).collect();
        st.txn.note_writes(st.txn_mode, &shards)?;
    }
    let mut work = Vec::with_capacity(plan.targets.len());
    for t in &plan.targets {
        let conn = match acquire(sh, st, t.shard, true).await {
            Ok(c) => c,
            Err(e) => {
                // Give back what this statement took: those shards' parts stay intact.
                for (conn, _, _, shard) in work {
                    st.txn.put(shard, conn);
                }
                return Err(e);
            }
        };
        work.push((
            conn,
            job(t, sql, params),
            sh.backends.shard_name(t.shard).to_string(),
            t.shard,
        ));
    }
    let work: Vec<_> = work.into_iter().map(|(c, j, n, _)| (c, j, n)).collect();
    let results = execute::run_all(work, sh.backends.timeout()).await;
    let mut back = Vec::new();
    let out = collect(plan, results, |shard, conn| back.push((shard, conn)));
    for t in &plan.targets {
        if !back.iter().any(|(s, _)| *s == t.shard) {
            // Its connection was lost, and with it this shard's part of the transaction.
            st.txn.forget(t.shard);
        }
    }
    for (shard, conn) in back {
        st.txn.put(shard, conn);
    }
    out
}

/// Checks every target's result; `keep` receives the connections still usable.
pub(super) fn collect(
    plan: &Plan,
    results: Vec<(mysql_async::Conn, Result<Outcome>)>,
    mut keep: impl FnMut(ShardId, mysql_async::Conn),
) -> Result<Vec<Outcome>> {
    let mut outcomes = Vec::with_capacity(results.len());
    let mut first_err: Option<ProxyError> = None;
    let mut succeeded = 0;
    for (t, (conn, r)) in plan.targets.iter().zip(results) {
        match r {
            Ok(o) => {
                succeeded += 1;
                outcomes.push(o);
                keep(t.shard, conn);
            }
            Err(e) => {
                if !e.is_connection_loss() {
                    keep(t.shard, conn);
                }
                first_err.get_or_insert(e);
            }
        }
    }
    match first_err {
        None => Ok(outcomes),
        Some(e) if plan.write && succeeded > 0 => Err(ProxyError::Transaction(format!(
            "the statement succeeded on {succeeded} of {} shards and failed on another: {e} (outside a transaction those shards keep their changes)",
            plan.targets.len()
        ))),
        Some(e) => Err(e),
    }
}
