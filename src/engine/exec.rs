//! Running a plan on the backends: pooled connections or the session's transaction, streamed
//! reads (a single shard's, or several shards' merged as they arrive), and collecting the
//! shards' outcomes for the merge.

use super::local::error_warning;
use super::{SessionState, Shared, begin};
use crate::backend::Server;
use crate::backend::wire::pool::PooledWire;
use crate::config::{Causal, ReadFrom, ShardId};
use crate::error::{ProxyError, Result};
use crate::execute::replicas::ReadNeed;
use crate::execute::{self, Job, MergeBudget, Outcome, Text};
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
    st.route = crate::metrics::route_of(plan);
    for t in &plan.targets {
        st.shards_hit |= 1u64 << t.shard.min(63);
    }
    if !plan.replica_ok {
        // It may write: once it ends, this session's reads there wait for replicas to catch up.
        st.touched.extend(plan.targets.iter().map(|t| t.shard));
    }
    if stream
        && plan.merge == Merge::Pass
        && let [target] = plan.targets.as_slice()
    {
        return start_stream(sh, st, plan.replica_ok, target, sql, params, use_txn).await;
    }
    // A transaction's shard has one connection: its several targets cannot stream at once.
    if stream
        && plan.targets.len() > 1
        && !(use_txn && repeats_shard(plan))
        && let Merge::Rows(m) = &plan.merge
        && crate::merge::stream::streamable(m)
    {
        return start_merged_stream(sh, st, plan, m, sql, params, use_txn).await;
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
                sql: Some(q.clone()),
                ..Target::on(shard)
            }],
            merge: Merge::Pass,
            write: false,
            replica_ok: plan.replica_ok,
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
    st.touched.push(shard);
    let mut conn = acquire(sh, st, shard, use_txn).await?;
    let name = sh.backends.shard_name(shard).to_string();
    let timeout = sh.backends.timeout();
    let pre_job = Job {
        sql: pre.into(),
        params: None,
    };
    let job = Job {
        sql: Text::within(st.text.as_ref(), sql),
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
) -> Result<PooledWire> {
    if use_txn && let Some(c) = st.txn.take(shard) {
        return Ok(c);
    }
    let c = sh
        .backends
        .wire_on(
            Server::primary(shard),
            st.schema.as_deref(),
            st.found_rows,
            &st.setup,
        )
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
    plan_replica_ok: bool,
    t: &Target,
    sql: &str,
    params: Option<&[Value]>,
    use_txn: bool,
) -> Result<Outcome> {
    if !use_txn {
        return start_pooled_stream(sh, st, plan_replica_ok, t, sql, params).await;
    }
    let (conn, server) = acquire_read(sh, st, plan_replica_ok, t.shard, use_txn).await?;
    let bound = lock_bound(sh, st, use_txn);
    let started = execute::start_stream(
        conn,
        job(st.text.as_ref(), t, sql, params, bound),
        sh.backends.timeout(),
        t.shard,
        sh.backends.server_name(server),
        true,
        true,
    )
    .await;
    match started {
        execute::Started::Rows(stream) => Ok(Outcome::Stream(stream)),
        execute::Started::Done(conn, result) => {
            give_back(st, use_txn, t.shard, conn);
            result
        }
    }
}

/// [`start_stream`] outside a transaction: on a pooled connection (on a replica when one
/// may answer), which goes back to its pool by itself.
async fn start_pooled_stream(
    sh: &Shared,
    st: &mut SessionState,
    plan_replica_ok: bool,
    t: &Target,
    sql: &str,
    params: Option<&[Value]>,
) -> Result<Outcome> {
    let (conn, server) = pooled_read(sh, st, plan_replica_ok, t.shard).await?;
    let run = |conn, server| {
        execute::start_stream(
            conn,
            job(st.text.as_ref(), t, sql, params, None),
            sh.backends.timeout(),
            t.shard,
            sh.backends.server_name(server),
            true,
            false,
        )
    };
    let started = match run(conn, server).await {
        // A replica lost before its first answer: once more, on the primary.
        execute::Started::Done(_, Err(e)) if server.replica.is_some() && e.is_connection_loss() => {
            sh.health.mark_failed(server, &e.to_string());
            let primary = Server::primary(t.shard);
            let conn = sh
                .backends
                .wire_on(primary, st.schema.as_deref(), st.found_rows, &st.setup)
                .await?;
            run(conn, primary).await
        }
        other => other,
    };
    match started {
        execute::Started::Rows(stream) => Ok(Outcome::Stream(stream)),
        execute::Started::Done(_, result) => result,
    }
}

/// A pooled connection for a read of `shard` outside a transaction: on a replica when
/// [`replica_for`] picks one (see [`replica_conn`]), else on the primary.
async fn pooled_read(
    sh: &Shared,
    st: &SessionState,
    replica_ok: bool,
    shard: ShardId,
) -> Result<(PooledWire, Server)> {
    if let Some(server) = replica_for(sh, st, replica_ok, shard, false) {
        match replica_conn(sh, st, server).await {
            Ok(c) => return Ok((c, server)),
            Err(e) => {
                if e.is_connection_loss() {
                    sh.health.mark_failed(server, &e.to_string());
                }
                tracing::debug!(
                    "read on {} goes to the primary: {e}",
                    sh.backends.server_name(server)
                );
            }
        }
    }
    let server = Server::primary(shard);
    let c = sh
        .backends
        .wire_on(server, st.schema.as_deref(), st.found_rows, &st.setup)
        .await?;
    Ok((c, server))
}

/// A connection to replica `server` that, in `causal = "global"`, has applied everything its
/// primary had committed when this was called (else an error: the read goes to the primary).
async fn replica_conn(sh: &Shared, st: &SessionState, server: Server) -> Result<PooledWire> {
    let mut c = sh
        .backends
        .wire_on(server, st.schema.as_deref(), st.found_rows, &st.setup)
        .await?;
    let Some(target) = causal_target(sh, st, server).await else {
        return Ok(c);
    };
    let name = sh.backends.server_name(server);
    let step = execute::Step {
        timeout: sh.backends.timeout(),
        shard: &name,
    };
    let waited = step
        .wait(c.query_first(causal_wait_sql(sh, &target)))
        .await?;
    causal_waited(
        sh,
        server,
        &target,
        waited.as_deref() == Some(b"0".as_slice()),
    )?;
    Ok(c)
}

/// The replica a read of `shard` goes to, if any: outside a transaction, for a statement a
/// replica may answer (`replica_ok`), when the session (or the statement's hint) reads from
/// replicas and one in rotation satisfies the session's consistency mode.
fn replica_for(
    sh: &Shared,
    st: &SessionState,
    replica_ok: bool,
    shard: ShardId,
    use_txn: bool,
) -> Option<Server> {
    if use_txn || !replica_ok || st.hint.unwrap_or(st.read_from) != ReadFrom::Replica {
        return None;
    }
    let loads = sh.backends.loads(shard);
    if loads.replicas.is_empty() {
        return None;
    }
    let need = ReadNeed {
        causal: st.causal,
        wrote_at: st.wrote_at.get(&shard).copied(),
    };
    let r = sh.health.pick(shard, need, &loads)?;
    Some(Server {
        shard,
        replica: Some(r),
    })
}

/// A connection for a read of `shard` in the session's transaction (outside one, reads take
/// [`pooled_read`]): a `READ ONLY` transaction's part on a replica when [`replica_for`] picks one,
/// else as [`acquire`] gives it. A replica that fails here is left for the primary.
pub(super) async fn acquire_read(
    sh: &Shared,
    st: &mut SessionState,
    replica_ok: bool,
    shard: ShardId,
    use_txn: bool,
) -> Result<(PooledWire, Server)> {
    if st.txn.is_read_only()
        && !st.txn.has_joined(shard)
        && let Some(server) = replica_for(sh, st, replica_ok, shard, false)
        && let Some(c) = read_only_part(sh, st, server).await
    {
        return Ok((c, server));
    }
    let c = acquire(sh, st, shard, use_txn).await?;
    Ok((c, st.txn.server(shard)))
}

/// A `READ ONLY` transaction's part on `server`, a replica of a shard the transaction has not
/// joined yet (after the session's consistency mode was satisfied, as for any replica read).
/// `None` when the replica cannot take it: the part then runs on the primary.
async fn read_only_part(sh: &Shared, st: &mut SessionState, server: Server) -> Option<PooledWire> {
    let why = match replica_conn(sh, st, server).await {
        Ok(c) => match Txn::join(&sh.backends, server.shard, c, st.txn.chars(), None).await {
            Ok(c) => {
                st.txn.joined_on(server);
                return Some(c);
            }
            Err(e) => e,
        },
        Err(e) => e,
    };
    if why.is_connection_loss() {
        sh.health.mark_failed(server, &why.to_string());
    }
    tracing::debug!(
        "read-only transaction on {} goes to the primary: {why}",
        sh.backends.server_name(server)
    );
    None
}

/// The GTID position a read on replica `server` must see first, under `causal = "global"`,
/// when the replica is not already known to have it.
async fn causal_target(
    sh: &Shared,
    st: &SessionState,
    server: Server,
) -> Option<crate::execute::gtid::Gtid> {
    if st.causal != Causal::Global {
        return None;
    }
    let target = match crate::execute::replicas::primary_pos(&sh.backends, server.shard).await {
        Ok(p) => p,
        // Nothing new is acknowledged by a primary that does not answer: the replica has
        // what there is (and the read must not wait on that primary a second time).
        Err(e) => {
            tracing::debug!("global read without the primary's position: {e}");
            return None;
        }
    };
    (!sh.health.has_applied(server, &target)).then_some(target)
}

/// The statement that waits (up to `causal_wait_ms`) for a replica to apply `target`.
fn causal_wait_sql(sh: &Shared, target: &crate::execute::gtid::Gtid) -> String {
    let wait = sh.rules.proxy.causal_wait.as_secs_f64();
    format!("SELECT MASTER_GTID_WAIT('{target}', {wait:.3})")
}

/// After [`causal_wait_sql`] ran on `server`: remembered when `applied`, else the error that
/// sends the read to the primary.
fn causal_waited(
    sh: &Shared,
    server: Server,
    target: &crate::execute::gtid::Gtid,
    applied: bool,
) -> Result<()> {
    if !applied {
        return Err(ProxyError::Transaction(format!(
            "{} had not applied GTID {target} within causal_wait_ms",
            sh.backends.server_name(server)
        )));
    }
    sh.health.observe(server, target);
    Ok(())
}

/// Starts a scatter read whose merge needs no state beyond the current rows: a stream on every
/// target, merged as the rows arrive (see `merge::stream`). The connections go back in
/// [`finish_stream`]; when a shard fails to start, the others are ended (their results
/// drained) and given back, and its error is the answer.
async fn start_merged_stream(
    sh: &Shared,
    st: &mut SessionState,
    plan: &Plan,
    m: &crate::plan::RowMerge,
    sql: &str,
    params: Option<&[Value]>,
    use_txn: bool,
) -> Result<Outcome> {
    let bound = lock_bound(sh, st, use_txn);
    let shared = st.text.clone();
    let started = if use_txn {
        let conns = acquire_all(sh, st, plan, use_txn).await?;
        futures_util::future::join_all(plan.targets.iter().zip(conns).map(|(t, c)| {
            let name = sh.backends.shard_name(t.shard).to_string();
            let job = job(shared.as_ref(), t, sql, params, bound);
            execute::start_stream(c, job, sh.backends.timeout(), t.shard, name, false, true)
        }))
        .await
    } else {
        // Outside a transaction: pooled connections, as for a single shard's read.
        let conns = futures_util::future::join_all(
            plan.targets
                .iter()
                .map(|t| pooled_read(sh, st, plan.replica_ok, t.shard)),
        )
        .await;
        let mut taken = Vec::with_capacity(conns.len());
        for c in conns {
            taken.push(c?);
        }
        futures_util::future::join_all(plan.targets.iter().zip(taken).map(|(t, (c, _))| {
            let name = sh.backends.shard_name(t.shard).to_string();
            let job = job(shared.as_ref(), t, sql, params, bound);
            execute::start_stream(c, job, sh.backends.timeout(), t.shard, name, false, false)
        }))
        .await
    };
    let mut streams = Vec::with_capacity(started.len());
    let mut failed = None;
    for (t, s) in plan.targets.iter().zip(started) {
        match s {
            execute::Started::Rows(s) => streams.push(s),
            execute::Started::Done(conn, r) => {
                give_back(st, use_txn, t.shard, conn);
                failed.get_or_insert(r.err().unwrap_or_else(|| {
                    ProxyError::Transaction(
                        "a shard answered something else than one result set where rows were expected".into(),
                    )
                }));
            }
        }
    }
    let merge = match (failed, streams.first()) {
        (None, Some(first)) => crate::merge::stream::StreamMerge::new(m, first.columns.clone()),
        (Some(e), _) => Err(e),
        (None, None) => Err(ProxyError::Transaction("no result from any shard".into())),
    };
    match merge {
        Ok(merge) => Ok(Outcome::Stream(merge.start(streams))),
        Err(e) => {
            let ends =
                futures_util::future::join_all(streams.into_iter().map(|s| s.finish())).await;
            for (conns, _) in ends {
                give_back_all(st, use_txn, conns);
            }
            Err(e)
        }
    }
}

/// Connections for every target of `plan` (see [`acquire`]); on a failure those already taken
/// go back, and the transaction's parts on those shards stay intact.
async fn acquire_all(
    sh: &Shared,
    st: &mut SessionState,
    plan: &Plan,
    use_txn: bool,
) -> Result<Vec<PooledWire>> {
    let mut conns: Vec<PooledWire> = Vec::with_capacity(plan.targets.len());
    for t in &plan.targets {
        match acquire_read(sh, st, plan.replica_ok, t.shard, use_txn).await {
            Ok((c, _)) => conns.push(c),
            Err(e) => {
                for (t, c) in plan.targets.iter().zip(conns) {
                    give_back(st, use_txn, t.shard, Some(c));
                }
                return Err(e);
            }
        }
    }
    Ok(conns)
}

/// Returns a streamed statement's connections to the transaction (or drops them to the pool),
/// records its warnings and row count (`rows` were relayed), and returns the warning count.
pub fn finish_stream(
    st: &mut SessionState,
    conns: execute::Conns,
    end: &Result<execute::StreamEnd>,
    rows: u64,
) -> u16 {
    let in_txn = st.txn.is_open();
    give_back_all(st, in_txn, conns);
    st.settle_writes(&[]);
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

fn give_back_all(st: &mut SessionState, use_txn: bool, conns: execute::Conns) {
    for (shard, conn) in conns {
        give_back(st, use_txn, shard, conn);
    }
}

pub(super) fn give_back(
    st: &mut SessionState,
    use_txn: bool,
    shard: ShardId,
    conn: Option<PooledWire>,
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

/// What `t` runs: its rewritten text, or the client's (`sql`, shared from `shared`, the
/// session's whole statement text, when it lies within it) and parameters.
pub(super) fn job(
    shared: Option<&Arc<String>>,
    t: &Target,
    sql: &str,
    params: Option<&[Value]>,
    bound: Option<u64>,
) -> Arc<Job> {
    let (text, params) = match &t.sql {
        Some(rewritten) => (rewritten.as_str(), None),
        None => (sql, params.map(<[Value]>::to_vec)),
    };
    let sql = match bound {
        // The client's own `SET STATEMENT ... FOR` cannot take a second prefix: it keeps its
        // choice.
        Some(secs) if !starts_with_set_statement(text) => Text::from(format!(
            "SET STATEMENT innodb_lock_wait_timeout={secs} FOR {text}"
        )),
        _ => Text::within(shared, text),
    };
    Arc::new(Job { sql, params })
}

fn starts_with_set_statement(sql: &str) -> bool {
    let mut words = sql.split_ascii_whitespace();
    matches!((words.next(), words.next()), (Some(a), Some(b))
        if a.eq_ignore_ascii_case("SET") && b.eq_ignore_ascii_case("STATEMENT"))
}

/// The lock wait bound of a statement about to run in the session's transaction: once the
/// transaction spans several shards, a wait for a row lock may be half of a deadlock that no
/// server sees, so it is bounded (`cross_shard_lock_wait_s`); the error it then ends with is
/// reported as a deadlock (see `super::end_on_deadlock`).
fn lock_bound(sh: &Shared, st: &SessionState, use_txn: bool) -> Option<u64> {
    (use_txn && st.txn.spans_shards()).then(|| sh.rules.proxy.cross_shard_lock_wait())
}

/// Runs the targets on pooled connections (autocommit): reads a replica may answer on
/// replicas (see [`acquire_read`]); a target whose replica is lost before it answers runs once
/// more on its primary.
pub(super) async fn run_targets(
    sh: &Shared,
    st: &SessionState,
    plan: &Plan,
    sql: &str,
    params: Option<&[Value]>,
) -> Result<Vec<Outcome>> {
    let shared = st.text.as_ref();
    let conns = futures_util::future::join_all(
        plan.targets
            .iter()
            .map(|t| pooled_read(sh, st, plan.replica_ok, t.shard)),
    )
    .await;
    let mut work = Vec::with_capacity(conns.len());
    let mut servers = Vec::with_capacity(conns.len());
    for (t, c) in plan.targets.iter().zip(conns) {
        let (c, server) = c?;
        servers.push(server);
        work.push((
            c,
            job(shared, t, sql, params, None),
            sh.backends.server_name(server),
        ));
    }
    let budget = merge_budget(sh, plan);
    let mut results = execute::run_all(work, sh.backends.timeout(), budget.clone()).await;
    for (i, server) in servers.iter().enumerate() {
        let lost = matches!(&results[i].1, Err(e) if e.is_connection_loss());
        if server.replica.is_none() || !lost {
            continue;
        }
        if let Err(e) = &results[i].1 {
            sh.health.mark_failed(*server, &e.to_string());
        }
        let t = &plan.targets[i];
        let c = sh
            .backends
            .wire_on(
                Server::primary(t.shard),
                st.schema.as_deref(),
                st.found_rows,
                &st.setup,
            )
            .await?;
        let name = sh.backends.shard_name(t.shard).to_string();
        let again = execute::run_all(
            vec![(c, job(shared, t, sql, params, None), name)],
            sh.backends.timeout(),
            budget.clone(),
        )
        .await;
        if let Some(r) = again.into_iter().next() {
            results[i] = r;
        }
    }
    collect(plan, results, |_, _| {})
}

/// The memory budget of a result read whole for a merge of several shards (one shard's result
/// is the answer as it is, and is not held for a merge).
fn merge_budget(sh: &Shared, plan: &Plan) -> Option<Arc<MergeBudget>> {
    (plan.targets.len() > 1)
        .then(|| Arc::new(MergeBudget::new(sh.rules.proxy.merge_memory_limit_mb)))
}

/// Runs the targets on the transaction's pinned connections, pinning new shards as needed.
/// Targets of one shard (the physical tables of a split table) share its one connection, so
/// they run in waves: the first target of each shard, then the second, and so on.
pub(super) async fn run_targets_txn(
    sh: &Shared,
    st: &mut SessionState,
    plan: &Plan,
    sql: &str,
    params: Option<&[Value]>,
) -> Result<Vec<Outcome>> {
    if !repeats_shard(plan) {
        return run_wave_txn(sh, st, plan, sql, params).await;
    }
    let mut waves: Vec<Vec<usize>> = Vec::new();
    for (i, t) in plan.targets.iter().enumerate() {
        let slot = waves
            .iter_mut()
            .find(|w| w.iter().all(|&j| plan.targets[j].shard != t.shard));
        match slot {
            Some(w) => w.push(i),
            None => waves.push(vec![i]),
        }
    }
    let mut out: Vec<Option<Outcome>> = (0..plan.targets.len()).map(|_| None).collect();
    for wave in waves {
        let part = Plan {
            targets: wave.iter().map(|&i| plan.targets[i].clone()).collect(),
            ..plan.clone()
        };
        let outcomes = run_wave_txn(sh, st, &part, sql, params).await?;
        for (i, o) in wave.into_iter().zip(outcomes) {
            out[i] = Some(o);
        }
    }
    out.into_iter()
        .map(|o| o.ok_or_else(|| ProxyError::Transaction("a target gave no result".into())))
        .collect()
}

/// Whether two targets of the plan are on one shard (see [`run_targets_txn`]).
pub(super) fn repeats_shard(plan: &Plan) -> bool {
    plan.targets
        .iter()
        .enumerate()
        .any(|(i, t)| plan.targets[..i].iter().any(|u| u.shard == t.shard))
}

/// Runs targets on distinct shards in the session's transaction (see [`run_targets_txn`]).
async fn run_wave_txn(
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
    let conns = acquire_all(sh, st, plan, true).await?;
    let bound = lock_bound(sh, st, true);
    let shared = st.text.clone();
    let work = plan
        .targets
        .iter()
        .zip(conns)
        .map(|(t, conn)| {
            (
                conn,
                job(shared.as_ref(), t, sql, params, bound),
                sh.backends.shard_name(t.shard).to_string(),
            )
        })
        .collect();
    let results = execute::run_all(work, sh.backends.timeout(), merge_budget(sh, plan)).await;
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
pub(super) fn collect<C>(
    plan: &Plan,
    results: Vec<(C, Result<Outcome>)>,
    mut keep: impl FnMut(ShardId, C),
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
