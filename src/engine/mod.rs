//! One statement, start to finish: classify → analyze → route → execute → merge, plus the
//! statements the proxy answers itself (transaction control, SET, USE, SHOW DATABASES/TABLES).
//! The wire protocol stays in `frontend`; this module speaks in values.

mod admin;
mod columns;
mod exec;
mod found_rows;
mod local;
mod prepared;
mod program;
mod promotion;
mod proxy_views;
pub mod reload;
pub mod sessions;
mod subquery;
mod system_schema;
pub mod vars;

use crate::backend::sequence::Sequences;
use crate::backend::{Backends, Server};
use crate::config::{Rules, ShardId};
use crate::error::{ProxyError, Result};
use crate::execute::Outcome;
use crate::frontend::packets::ColumnDef;
use crate::plan::{Merge, Plan, Target};
use crate::route::router::{self, RouteInput};
use crate::sql::analyze::{Analysis, AnalyzeError, Kind, TableName};
use crate::sql::cache::PlanCache;
use crate::sql::command::{self, Command, TxChars};
use crate::sql::lexer;
use mysql_async::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::time::Instant;

pub use exec::finish_stream;
use exec::{run_plan, run_targets, run_targets_txn, run_with_prelude};
pub use local::check_schema;
use local::{error_warning, local_select, ok, show_tables, show_warnings, text_rows, use_schema};
use vars::UserValue;

/// The version the proxy announces. MySQL 5.7 makes clients use only what every supported
/// backend (MariaDB 10.x, MySQL 5.7+) provides: no RETURNING. MySQL 5.7's variable names
/// (`transaction_isolation`, ...) are mapped to the backend's (see `sql::session`).
pub const SERVER_VERSION: &str = "5.7.99-shardgate-0.1";

/// What every session shares under one version of the rules: the rules, what is derived from
/// them (the plan cache, the privilege gate), and the proxy's runtime state ([`Runtime`],
/// reached through `Deref`), which outlives reloads. A reload builds a new `Shared` around the
/// same `Runtime`; a session moves to it between statements outside a transaction (see
/// [`reload`]).
pub struct Shared {
    pub rules: Arc<Rules>,
    pub cache: PlanCache,
    /// The privilege boundary's state: the proxy's sessions, what the gate looks for.
    pub admin: admin::AdminState,
    pub rt: Arc<Runtime>,
}

/// The proxy's state that does not depend on the version of the rules (backends, health,
/// sessions, counters), kept across reloads.
pub struct Runtime {
    pub backends: Backends,
    pub sequences: Sequences,
    /// Column order of sharded tables, for INSERTs without a column list.
    pub columns: crate::backend::columns::Columns,
    pub next_conn_id: AtomicU32,
    pub questions: AtomicU64,
    pub started: Instant,
    /// Set once the XA decision table was created on the shards (the first time a session
    /// uses `txn_mode = 'xa'`, or at start-up when the rules choose it); recovery runs from then.
    pub xa: tokio::sync::OnceCell<()>,
    /// What the health checker knows of every backend: which replicas take reads.
    pub health: crate::execute::replicas::Health,
    /// The Prometheus metrics.
    pub metrics: crate::metrics::Metrics,
    /// The rules in force and how to replace them.
    pub reload: reload::Reloader,
}

impl std::ops::Deref for Shared {
    type Target = Runtime;
    fn deref(&self) -> &Runtime {
        &self.rt
    }
}

impl Shared {
    /// Makes sure two-phase commits can record decisions: creates the decision table on every
    /// shard, once.
    pub async fn ensure_xa(&self) {
        self.xa
            .get_or_init(|| crate::txn::xa::ensure_log(&self.backends, self.rules.shards.len()))
            .await;
    }

    /// Finishes in-doubt XA branches, now and then every `every`, until the task is dropped;
    /// idle until two-phase commit is in use. Each round reads the rules in force.
    pub async fn recovery_loop(self: std::sync::Arc<Self>, every: std::time::Duration) {
        loop {
            let sh = self.reload.current().unwrap_or_else(|| self.clone());
            if sh.rules.proxy.txn_mode == crate::config::TxnMode::Xa {
                sh.ensure_xa().await;
            }
            if sh.xa.initialized() {
                let timeout = sh
                    .rules
                    .proxy
                    .transaction_timeout
                    .min(std::time::Duration::from_secs(30));
                let r = crate::txn::xa::recover(
                    &sh.backends,
                    sh.rules.shards.len(),
                    timeout,
                    std::time::Duration::from_secs(600),
                )
                .await;
                if r != crate::txn::xa::Recovered::default() {
                    tracing::info!("XA recovery: {r:?}");
                }
                let recoveries = &sh.metrics.xa_recovered;
                recoveries
                    .with_label_values(&["committed"])
                    .inc_by(r.committed as u64);
                recoveries
                    .with_label_values(&["rolled_back"])
                    .inc_by(r.rolled_back as u64);
            }
            drop(sh);
            tokio::time::sleep(every).await;
        }
    }
}

impl Shared {
    /// Checks every backend every `health_check_interval_ms`, until the task is dropped (idle
    /// when no shard has replicas).
    pub async fn health_loop(self: std::sync::Arc<Self>) {
        let every = self.rules.proxy.health_check_interval;
        if self.rules.shards.iter().all(|s| s.replicas.is_empty()) {
            return;
        }
        let rt = self.rt.clone();
        drop(self);
        loop {
            rt.health.check_all(&rt.backends, every).await;
            tokio::time::sleep(every).await;
        }
    }

    /// Shared state for `rules`.
    pub fn new(rules: Rules) -> Shared {
        let rt = Arc::new(Runtime {
            backends: Backends::new(&rules),
            health: crate::execute::replicas::Health::new(&rules),
            sequences: Sequences::default(),
            columns: Default::default(),
            next_conn_id: AtomicU32::new(1),
            questions: AtomicU64::new(0),
            started: Instant::now(),
            xa: tokio::sync::OnceCell::new(),
            metrics: crate::metrics::Metrics::new(),
            reload: reload::Reloader::default(),
        });
        Shared::with_runtime(rules, rt, Arc::default())
    }

    /// The state for `rules` around an existing runtime and session list (a reload).
    fn with_runtime(rules: Rules, rt: Arc<Runtime>, sessions: Arc<sessions::Sessions>) -> Shared {
        Shared {
            cache: PlanCache::new(rules.proxy.plan_cache_size).counting(
                rt.metrics.plan_cache_hits.clone(),
                rt.metrics.plan_cache_misses.clone(),
            ),
            admin: admin::AdminState::new(&rules, sessions),
            rules: Arc::new(rules),
            rt,
        }
    }
}

/// A client session's state, as the engine sees it.
pub struct SessionState {
    pub user: String,
    pub schema: Option<String>,
    pub autocommit: bool,
    pub found_rows: bool,
    pub txn: Txn,
    pub last_insert_id: u64,
    /// `ROW_COUNT()`: the last statement's affected rows, -1 after a result set or an error.
    pub row_count: i64,
    /// `FOUND_ROWS()`: the rows of the last result set.
    pub found_rows_count: u64,
    /// What the statement running now says `FOUND_ROWS()` is to answer after it, instead of
    /// its rows (`SQL_CALC_FOUND_ROWS`).
    calc_found_rows: Option<u64>,
    pub conn_id: u32,
    /// The client's address, as `USER()` reports it.
    pub host: String,
    /// The last statement's warnings (or error), for SHOW WARNINGS: Level, Code, Message.
    pub warnings: Vec<Vec<Value>>,
    /// Session system variables the client set, by backend name: the SQL literal of the value
    /// each ended up with (read back from a backend after the SET).
    pub sys_vars: BTreeMap<String, String>,
    /// `sys_vars` as the one statement a new backend connection runs
    /// (see [`crate::backend::Setup`]).
    pub setup: crate::backend::Setup,
    /// User variables (`@name`, lower-cased), kept by the proxy and substituted into the
    /// statements that read them.
    pub user_vars: HashMap<String, UserValue>,
    /// `SET TRANSACTION ...` without SESSION: the characteristics of the next transaction.
    pub next_txn: TxChars,
    /// SQL-level prepared statements (`PREPARE name FROM ...`), by lower-cased name.
    pub sql_prepared: HashMap<String, prepared::SqlPrepared>,
    /// How deep statements run other statements (evaluating a value, EXECUTE, substituted
    /// session values): bounded, so that no statement can recurse without end.
    pub(crate) nesting: u8,
    /// The collation of the client's connection (its handshake, or `SET NAMES`), which text
    /// columns the proxy answers itself are described in.
    pub collation: u16,
    /// How a transaction writing several shards commits (`SET shardgate_txn_mode`; the rules'
    /// `txn_mode` by default).
    pub txn_mode: crate::config::TxnMode,
    /// Where reads outside a transaction go (`SET shardgate_read_from`; the rules' `read_from`).
    pub read_from: crate::config::ReadFrom,
    /// What a replica read must have seen (`SET shardgate_causal`; the rules' `causal`).
    pub causal: crate::config::Causal,
    /// The statement's own choice (`/* shardgate:primary */`, `/* shardgate:replica */`).
    pub hint: Option<crate::config::ReadFrom>,
    /// The route type of the statement running (for metrics): `local` until a plan runs.
    pub route: &'static str,
    /// The shards its plans ran on (bit n: shard n; shards past 63 are not told apart), for
    /// the slow-statement log.
    pub shards_hit: u64,
    /// The current statement's first logical table, as the per-table metrics name it
    /// (schema, label; see [`crate::metrics::table_label`]).
    pub stat_table: Option<(String, String)>,
    /// When this session last wrote each shard (the end of the statement or COMMIT): its reads
    /// there go to replicas known to have caught up since (read-your-writes).
    pub wrote_at: HashMap<ShardId, Instant>,
    /// Shards the running statement may write on, stamped into `wrote_at` when it ends.
    pub touched: Vec<ShardId>,
    /// The running command's statement text, shared with the backend statements it starts so
    /// that a large statement is not copied again (set by the frontend for the command only).
    pub text: Option<Arc<String>>,
}

impl SessionState {
    /// A fresh session.
    pub fn new(user: String, schema: Option<String>, found_rows: bool, conn_id: u32) -> Self {
        SessionState {
            user,
            schema,
            autocommit: true,
            found_rows,
            txn: Txn::default(),
            last_insert_id: 0,
            row_count: 0,
            found_rows_count: 0,
            calc_found_rows: None,
            conn_id,
            host: "localhost".into(),
            warnings: Vec::new(),
            sys_vars: BTreeMap::new(),
            setup: crate::backend::Setup::from([]),
            user_vars: HashMap::new(),
            next_txn: TxChars::default(),
            sql_prepared: HashMap::new(),
            nesting: 0,
            collation: 45,
            txn_mode: crate::config::TxnMode::default(),
            read_from: crate::config::ReadFrom::default(),
            causal: crate::config::Causal::default(),
            hint: None,
            route: "local",
            shards_hit: 0,
            stat_table: None,
            wrote_at: HashMap::new(),
            touched: Vec::new(),
            text: None,
        }
    }

    /// Takes the session defaults the rules set (`txn_mode`, `read_from`, `causal`).
    pub fn defaults_from(&mut self, rules: &Rules) {
        self.txn_mode = rules.proxy.txn_mode;
        self.read_from = rules.proxy.read_from;
        self.causal = rules.proxy.causal;
    }

    /// The running statement has ended (for a streamed result: its last row went out): the
    /// shards it may have written, and those of a transaction it was part of, count as written
    /// now.
    pub fn settle_writes(&mut self, txn_shards: &[ShardId]) {
        if self.touched.is_empty() && txn_shards.is_empty() {
            return;
        }
        let now = Instant::now();
        for s in self.touched.drain(..).chain(txn_shards.iter().copied()) {
            self.wrote_at.insert(s, now);
        }
    }

    /// Bytes per character of the connection's character set (column lengths are in bytes).
    pub fn max_char_len(&self) -> u32 {
        use mysql_common::collations::{Collation, CollationId};
        let c = Collation::resolve(CollationId::from(self.collation));
        u32::from(c.max_len()).max(1)
    }
}

use crate::txn::Txn;

/// Runs one statement. `params` is `Some` for COM_STMT_EXECUTE (binary protocol).
pub async fn run(
    sh: &Shared,
    st: &mut SessionState,
    sql: &str,
    params: Option<&[Value]>,
) -> Result<Outcome> {
    let mut cmd = command::classify(sql);
    // A statement the proxy runs as text (a prepared `SET @v = ?`) gets its values in place.
    let inlined;
    let (sql, params) = match params {
        Some(p) if !p.is_empty() && cmd != Command::Sql => {
            inlined = crate::rewrite::inline_text_params(sql, p);
            cmd = command::classify(&inlined);
            (inlined.as_str(), None)
        }
        _ => (sql, params),
    };
    if let Command::ShowWarnings { count, errors } = cmd {
        return Ok(show_warnings(st, count, errors));
    }
    st.hint = read_hint(sql);
    st.route = "local";
    st.shards_hit = 0;
    st.stat_table = None;
    let started = Instant::now();
    let txn_before = st.txn.pinned();
    let mut result = dispatch(sh, st, sql, params, cmd).await;
    let outcome = match &result {
        Ok(_) => "ok",
        Err(ProxyError::NotSupported(_)) => {
            sh.metrics.refusals.inc();
            "refused"
        }
        Err(_) => "error",
    };
    let took = started.elapsed();
    sh.metrics
        .statement(crate::metrics::kind_of(sql), st.route, outcome, took);
    if st.shards_hit.is_power_of_two() {
        let shard = st.shards_hit.trailing_zeros() as usize;
        sh.metrics.shard_statement(&sh.rules.shards, shard, took);
    }
    if let Some((schema, table)) = st.stat_table.take() {
        sh.metrics.table_statement(&schema, &table, outcome, took);
    }
    if let Err(e) = &result {
        tracing::info!(
            session = st.conn_id,
            user = %st.user,
            code = e.code(),
            "error to client: {e} (statement: {})",
            crate::sql::normalize::fingerprint(sql)
        );
    }
    let slow = sh.rules.proxy.slow_statement;
    if !slow.is_zero() && took > slow {
        let shards: Vec<&str> = (0..sh.rules.shards.len().min(64))
            .filter(|i| st.shards_hit & (1u64 << i) != 0)
            .map(|i| sh.rules.shards[i].name.as_str())
            .collect();
        tracing::warn!(
            session = st.conn_id,
            user = %st.user,
            route = st.route,
            shards = %shards.join(","),
            ms = took.as_millis() as u64,
            outcome,
            "slow statement: {}",
            crate::sql::normalize::fingerprint(sql)
        );
    }
    st.hint = None;
    if matches!(result, Ok(Outcome::Stream(_))) {
        // Stamped when the stream ends (`finish_stream`).
        st.touched.extend(txn_before);
    } else {
        st.settle_writes(&txn_before);
    }
    if let Err(e) = &result
        && let Some(deadlock) = end_on_deadlock(sh, st, e).await
    {
        result = Err(deadlock);
    }
    // What SHOW WARNINGS, ROW_COUNT() and FOUND_ROWS() will answer.
    // (Of a CALL's several results, the last one decides.)
    let last = match &mut result {
        Ok(Outcome::Multi(list)) => list.last_mut().map(Ok),
        Ok(other) => Some(Ok(other)),
        Err(e) => Some(Err(&*e)),
    };
    st.warnings = match last {
        Some(Ok(Outcome::Ok(o))) => std::mem::take(&mut o.warning_list),
        Some(Ok(Outcome::Rows(r))) => std::mem::take(&mut r.warning_list),
        // Known when the stream ends: see `finish_stream`.
        Some(Ok(_)) | None => Vec::new(),
        Some(Err(e)) => error_warning(e),
    };
    let last = match &result {
        Ok(Outcome::Multi(list)) => list.last(),
        Ok(other) => Some(other),
        Err(_) => None,
    };
    match last {
        Some(Outcome::Ok(o)) => st.row_count = i64::try_from(o.affected).unwrap_or(i64::MAX),
        Some(Outcome::Rows(r)) => {
            st.row_count = -1;
            st.found_rows_count = r.rows.len() as u64;
        }
        _ => st.row_count = -1,
    }
    if let Some(n) = st.calc_found_rows.take() {
        st.found_rows_count = n;
    }
    result
}

/// A `/* shardgate:primary */` or `/* shardgate:replica */` comment in the statement.
fn read_hint(sql: &str) -> Option<crate::config::ReadFrom> {
    let at = sql.find("shardgate:")?;
    let rest = sql[at + "shardgate:".len()..].trim_start();
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    crate::config::ReadFrom::parse(&word)
}

/// A statement of an open transaction that failed on a deadlock (1213) ends the whole
/// transaction, as on one server: the shard that reported it rolled its part back, so the others
/// are rolled back too (otherwise a client retrying from `START TRANSACTION` would commit their
/// half). In a transaction spanning several shards a lock wait timeout (1205) is the visible half
/// of a deadlock across shards that no server detects: it is reported as 1213 too, so drivers and
/// ORMs retry it as they retry a local deadlock. Returns the error to report instead, if any.
async fn end_on_deadlock(sh: &Shared, st: &mut SessionState, e: &ProxyError) -> Option<ProxyError> {
    let ProxyError::Backend { code, .. } = e else {
        return None;
    };
    if !st.txn.is_open() || !(*code == 1213 || (*code == 1205 && st.txn.spans_shards())) {
        return None;
    }
    let across = st.txn.spans_shards();
    if let Err(r) = st.txn.rollback(&sh.backends).await {
        tracing::warn!("rolling back after a deadlock: {r}");
    }
    let message = match (*code, across) {
        (1213, false) => return None,
        (1213, true) => "Deadlock found when trying to get lock; try restarting transaction (the transaction was rolled back on every shard)".to_string(),
        _ => format!(
            "Deadlock found when trying to get lock; try restarting transaction (a row lock wait in a transaction across shards exceeded {} s, the sign of a deadlock between shards: the transaction was rolled back on every shard)",
            sh.rules.proxy.cross_shard_lock_wait()
        ),
    };
    Some(ProxyError::Backend {
        code: 1213,
        state: "40001".into(),
        message,
    })
}

async fn dispatch(
    sh: &Shared,
    st: &mut SessionState,
    sql: &str,
    params: Option<&[Value]>,
    cmd: Command,
) -> Result<Outcome> {
    // The privilege boundary, and what the proxy answers about its own sessions and users.
    if let Some(r) = admin::gate(sh, st, sql, params, &cmd).await {
        return r;
    }
    check_txn_age(sh, st).await?;
    match cmd {
        Command::Begin(chars) => {
            if st.txn.is_open() {
                st.txn.commit(&sh.backends).await?;
            }
            begin(st, chars);
            Ok(ok())
        }
        Command::Commit => {
            let xa = st.txn.is_xa();
            let done = st.txn.commit_noting(&sh.backends).await;
            if xa {
                let outcome = if done.is_ok() { "committed" } else { "failed" };
                sh.metrics.xa.with_label_values(&[outcome]).inc();
            }
            match done? {
                None => Ok(ok()),
                // Decided and durable, but a shard has not confirmed: recovery finishes it.
                Some(note) => Ok(Outcome::Ok(crate::execute::OkInfo {
                    warnings: 1,
                    warning_list: vec![vec![
                        Value::from("Warning"),
                        Value::from(1180u16),
                        Value::from(note),
                    ]],
                    ..Default::default()
                })),
            }
        }
        Command::Rollback => {
            if st.txn.is_xa() {
                sh.metrics.xa.with_label_values(&["rolled_back"]).inc();
            }
            st.txn.rollback(&sh.backends).await?;
            Ok(ok())
        }
        Command::Set(items) => vars::set(sh, st, items).await,
        Command::SetTransaction { session, chars } => {
            vars::set_transaction(sh, st, session, chars).await
        }
        Command::SetStatement { prefix, stmt } => {
            if command::classify(&stmt) != Command::Sql {
                return Err(ProxyError::NotSupported(
                    "SET STATEMENT ... FOR a statement the proxy answers itself".into(),
                ));
            }
            run_sql_prefixed(sh, st, &stmt, params, Some(&prefix)).await
        }
        Command::Prepare { name, from } => prepared::prepare(sh, st, &name, from).await,
        Command::Execute { name, using } => prepared::execute(sh, st, &name, &using).await,
        Command::Deallocate(name) => prepared::deallocate(st, &name),
        Command::Use(db) => use_schema(sh, st, &db).await,
        Command::ShowDatabases => {
            let rows = sh
                .rules
                .schemas
                .iter()
                .filter(|s| sh.rules.user(&st.user).is_some_and(|u| u.may_use(&s.name)))
                .map(|s| vec![Value::Bytes(s.name.clone().into_bytes())])
                .collect();
            Ok(text_rows(&["Database"], rows))
        }
        Command::ShowTables { full, schema, like } => {
            show_tables(sh, st, sql, full, schema, like).await
        }
        Command::ShowForTable { schema, table } => {
            let t = TableName {
                schema,
                name: table,
            };
            let (schema, rule) = router::resolve(&sh.rules, st.schema.as_deref(), &t)?;
            if let Some(rule) = &rule
                && let Some(split) = &rule.split
            {
                // Asked of the first physical table, answered with the logical name.
                let physical = split.physical(0, &rule.name);
                let text = crate::rewrite::physical::rename_in_text(sql, &t.name, &physical);
                let plan = single(split.shard_of(0));
                let out = run_plan(sh, st, &plan, &text, None, false, false).await?;
                return Ok(local::logical_table(out, &physical, &t.name));
            }
            let shard = rule
                .and_then(|r| r.shards.first().copied())
                .unwrap_or(schema.default_shard);
            run_plan(sh, st, &single(shard), sql, None, false, false).await
        }
        Command::ShowOther => {
            let shard = fallback(sh, st);
            run_plan(sh, st, &single(shard), sql, None, false, false).await
        }
        Command::ShowWarnings { count, errors } => Ok(show_warnings(st, count, errors)),
        Command::Program(p) => program::run(sh, st, sql, p).await,
        Command::Unsupported(what) => Err(ProxyError::NotSupported(what)),
        Command::Sql => run_sql(sh, st, sql, params).await,
    }
}

/// Opens a transaction with `chars`, plus what `SET TRANSACTION` left for the next one.
fn begin(st: &mut SessionState, chars: TxChars) {
    let next = std::mem::take(&mut st.next_txn);
    st.txn.begin(TxChars {
        isolation: chars.isolation.or(next.isolation),
        read_only: chars.read_only.or(next.read_only),
        snapshot: chars.snapshot,
    });
}

fn single(shard: ShardId) -> Plan {
    Plan {
        targets: vec![Target::on(shard)],
        merge: Merge::Pass,
        write: false,
        replica_ok: false,
    }
}

fn fallback(sh: &Shared, st: &SessionState) -> ShardId {
    st.schema
        .as_deref()
        .and_then(|s| sh.rules.schema(s))
        .map(|s| s.default_shard)
        .unwrap_or(0)
}

async fn check_txn_age(sh: &Shared, st: &mut SessionState) -> Result<()> {
    if let Some(t) = st.txn.started()
        && t.elapsed() > sh.rules.proxy.transaction_timeout
    {
        let _ = st.txn.rollback(&sh.backends).await;
        return Err(ProxyError::Transaction(format!(
            "the transaction was open longer than transaction_timeout ({} ms) and was rolled back",
            sh.rules.proxy.transaction_timeout.as_millis()
        )));
    }
    Ok(())
}

async fn run_sql(
    sh: &Shared,
    st: &mut SessionState,
    sql: &str,
    params: Option<&[Value]>,
) -> Result<Outcome> {
    run_sql_prefixed(sh, st, sql, params, None).await
}

/// [`run_sql`] boxed, for the statements that run another statement (a value to evaluate, a
/// statement with session values substituted, `EXECUTE`).
pub(crate) fn run_sql_boxed<'a>(
    sh: &'a Shared,
    st: &'a mut SessionState,
    sql: &'a str,
    params: Option<&'a [Value]>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Outcome>> + Send + 'a>> {
    Box::pin(async move {
        enter(st)?;
        let r = run_sql_prefixed(sh, &mut *st, sql, params, None).await;
        st.nesting -= 1;
        r
    })
}

pub(super) fn run_prefixed_boxed<'a>(
    sh: &'a Shared,
    st: &'a mut SessionState,
    sql: &'a str,
    prefix: Option<&'a str>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Outcome>> + Send + 'a>> {
    Box::pin(async move {
        enter(st)?;
        let r = run_sql_prefixed(sh, &mut *st, sql, None, prefix).await;
        st.nesting -= 1;
        r
    })
}

/// Counts one more level of statements run on behalf of another; refuses past a few levels,
/// so that no statement can recurse without end. The caller decrements `nesting` after.
pub(crate) fn enter(st: &mut SessionState) -> Result<()> {
    const MAX_NESTING: u8 = 8;
    if st.nesting >= MAX_NESTING {
        return Err(ProxyError::NotSupported(
            "statements nested this deep (a value needing a statement needing a value ...)".into(),
        ));
    }
    st.nesting += 1;
    Ok(())
}

/// Runs a statement through analyze → route → execute → merge. `prefix`: the
/// `SET STATEMENT ... FOR ` the client wrote before it, put back before what each shard runs.
async fn run_sql_prefixed(
    sh: &Shared,
    st: &mut SessionState,
    sql: &str,
    params: Option<&[Value]>,
    prefix: Option<&str>,
) -> Result<Outcome> {
    // information_schema (about the logical schemas only), and the backends' other schemas.
    if let Some(r) = system_schema::intercept(sh, st, sql, params, prefix).await {
        return r;
    }
    // Text statements: literals become the bound values of a shared, normalised analysis.
    let cached = match params {
        Some(_) => sh.cache.get(sql).map(|a| (a, Vec::new())),
        None => sh.cache.get_text(sql),
    };
    let (analysis, literals) = match cached {
        Ok(a) => a,
        Err(AnalyzeError::Multiple) => {
            return Err(ProxyError::Syntax("one statement expected".into()));
        }
        Err(AnalyzeError::Parse(msg)) => {
            // sqlparser refuses some valid MySQL: such a statement may run on the default shard
            // when it names no table of the rules; otherwise placing it would be a guess.
            let schema = st.schema.as_deref().and_then(|s| sh.rules.schema(s));
            if let Some(t) =
                schema.and_then(|s| lexer::identifiers(sql).find_map(|name| s.table(&name)))
            {
                return Err(ProxyError::Syntax(format!(
                    "{msg} (shardgate must parse statements on sharded table `{}`)",
                    t.name
                )));
            }
            let shard = fallback(sh, st);
            let text = match prefix {
                Some(p) => format!("{p}{sql}"),
                None => sql.to_string(),
            };
            // User variables live in the proxy: the connection gets the session's values first.
            let vars = lexer::user_vars(sql);
            if !vars.is_empty() {
                let pre = local::user_var_prelude(st, &vars);
                return run_with_prelude(sh, st, shard, &pre, &text, params).await;
            }
            return run_plan(sh, st, &single(shard), &text, params, true, false).await;
        }
    };
    let bound: &[Value] = params.unwrap_or(&literals);
    if params.is_some() && bound.len() != analysis.param_count {
        return Err(ProxyError::Malformed(format!(
            "{} parameters bound, the statement has {}",
            bound.len(),
            analysis.param_count
        )));
    }
    if analysis.assigns_vars {
        return Err(ProxyError::NotSupported(
            "assigning a user variable inside a statement (`@v := ...`): use SET @v = ... or SELECT ... INTO @v".into(),
        ));
    }
    if !analysis.into_vars.is_empty() {
        return local::select_into(sh, st, &analysis, bound).await;
    }
    if prefix.is_none()
        && let Some(o) = local_select(st, &analysis)
    {
        return Ok(o);
    }
    if analysis.session_refs {
        // The session's values take the references' place; the result is a plain statement.
        let text = local::with_session_values(sh, st, sql, params.unwrap_or_default())?;
        let columns = local::select_list_columns(st, &analysis);
        let out = run_prefixed_boxed(sh, st, &text, prefix).await?;
        return Ok(local::patch_columns(out, &columns));
    }
    // The per-table metrics count the statement under the first table the rules place, else
    // under its first table's schema as `(unsharded)`.
    let resolved = analysis.tables.iter().filter_map(|t| {
        router::resolve(&sh.rules, st.schema.as_deref(), t)
            .ok()
            .map(|(s, _)| (s, t))
    });
    let mut first = None;
    for (schema, t) in resolved {
        if schema.rule_name(&t.name).is_some() {
            first = Some((schema, t));
            break;
        }
        first.get_or_insert((schema, t));
    }
    // A statement run on the way (a subquery evaluated first) counts under its statement.
    if let Some((schema, t)) = first.filter(|_| st.stat_table.is_none()) {
        st.stat_table = Some((
            schema.name.clone(),
            crate::metrics::table_label(schema, &t.name),
        ));
    }
    let schema = st.schema.clone();
    let current = schema.as_deref();
    let table_columns = columns::for_insert(sh, st, &analysis).await?;
    let cols = table_columns.as_deref();
    // Only a key of 0 for an auto_increment table depends on the session's sql_mode: ask then.
    let no_auto_value_on_zero = router::zero_key_given(&sh.rules, current, &analysis, cols, bound)?
        && sql_mode_has(sh, st, "NO_AUTO_VALUE_ON_ZERO").await?;
    let needed = router::ids_needed(
        &sh.rules,
        current,
        &analysis,
        cols,
        bound,
        no_auto_value_on_zero,
    )?;
    let ids = match needed {
        Some((rule, n)) => {
            let schema_name = analysis.tables[0]
                .schema
                .clone()
                .or_else(|| st.schema.clone())
                .unwrap_or_default();
            let schema = sh
                .rules
                .schema(&schema_name)
                .ok_or(ProxyError::UnknownDatabase(schema_name.clone()))?;
            sh.sequences
                .next_ids(&sh.backends, schema, &rule, n, sh.rules.proxy.id_block_size)
                .await?
        }
        None => Vec::new(),
    };
    let pinned = st.txn.pinned();
    let routed = router::route(&RouteInput {
        rules: &sh.rules,
        schema: st.schema.as_deref(),
        analysis: &analysis,
        params: bound,
        ids: &ids,
        pinned: &pinned,
        no_auto_value_on_zero,
        columns: cols,
    });
    let mut plan = match routed {
        Ok(p) => p,
        // Subqueries across shards: evaluated first when uncorrelated (see `subquery`).
        Err(ProxyError::NotSupported(why))
            if analysis.select.as_ref().is_some_and(|s| s.multi_table) =>
        {
            return subquery::run(sh, st, &analysis, bound, prefix, why).await;
        }
        Err(e) => return Err(e),
    };
    if let Some(p) = prefix {
        wrap_targets(&mut plan, sql, &analysis, params, |body| {
            format!("{p}{body}")
        });
    }
    let is_ddl = matches!(analysis.kind, Kind::Ddl | Kind::Database { .. });
    if is_ddl && st.txn.is_open() {
        // MySQL commits an open transaction before DDL; so does the proxy, on every shard.
        st.txn.commit(&sh.backends).await?;
    }
    if found_rows::wanted(&analysis) {
        let (out, total) = found_rows::run(sh, st, plan, sql, &analysis, params).await?;
        st.calc_found_rows = Some(total);
        return Ok(out);
    }
    let stream = analysis.kind == Kind::Select;
    let out = run_plan(sh, st, &plan, sql, params, !is_ddl, stream).await;
    columns::forget(sh, st, &analysis);
    let out = out?;
    if is_ddl {
        reset_sequences(sh, st, &analysis).await;
    }
    if let Outcome::Ok(o) = &out
        && let Some(id) = generated_id(sh, st, &analysis, &ids, o.last_insert_id)
    {
        // An id the backend reported for a table the proxy does not number may be an
        // explicit one, which LAST_INSERT_ID() does not take.
        let by_backend = ids.is_empty() && !analysis.sets_last_insert_id;
        let generated = match plan.targets.as_slice() {
            [t] if by_backend => {
                columns::backend_generated(sh, st, &analysis, t.shard, bound, no_auto_value_on_zero)
                    .await
            }
            _ => true,
        };
        if generated {
            st.last_insert_id = id;
        }
    }
    if analysis.kind == Kind::Insert
        && let Some((rule, id)) = router::largest_explicit_id(
            &sh.rules,
            current,
            &analysis,
            cols,
            bound,
            no_auto_value_on_zero,
        )
        && let Some(t) = analysis.tables.first()
        && let Ok((schema, _)) = router::resolve(&sh.rules, st.schema.as_deref(), t)
        && let Err(e) = sh.sequences.observe(&sh.backends, schema, &rule, id).await
    {
        // The row is written; a sequence left behind only risks a later duplicate-key error.
        tracing::warn!(
            "could not move the id sequence of {} past {id}: {e}",
            rule.name
        );
    }
    Ok(out)
}

/// The value `LAST_INSERT_ID()` takes after a statement: the first id generated for it (by the
/// proxy's sequence or by the backend), or the argument of `LAST_INSERT_ID(expr)`. An id the
/// statement gave explicitly does not count, although the OK packet carries it.
fn generated_id(
    sh: &Shared,
    st: &SessionState,
    a: &Analysis,
    ids: &[u64],
    ok_id: u64,
) -> Option<u64> {
    if let Some(first) = ids.first() {
        return Some(*first);
    }
    if a.sets_last_insert_id {
        return Some(ok_id);
    }
    if ok_id == 0 || a.kind != Kind::Insert {
        return None;
    }
    // A table the proxy numbers got explicit ids only (else `ids` would hold some).
    let sequenced = a.tables.first().is_some_and(|t| {
        router::resolve(&sh.rules, st.schema.as_deref(), t)
            .is_ok_and(|(_, rule)| rule.is_some_and(|r| r.numbered_column().is_some()))
    });
    (!sequenced).then_some(ok_id)
}

/// `expr` (SQL text of a value) with the session's values in place of its session references:
/// `SET sql_mode = @saved` runs on the backend as `SET sql_mode = '...'`.
pub(crate) fn substitute_text(sh: &Shared, st: &SessionState, expr: &str) -> Result<String> {
    use sqlparser::ast::{SelectItem, SetExpr, Statement};
    let Ok(a) = crate::sql::analyze::analyze(&format!("SELECT {expr}")) else {
        return Ok(expr.to_string()); // a bare word (`TRADITIONAL`, `DEFAULT`): no references
    };
    if !a.session_refs {
        return Ok(expr.to_string());
    }
    let Ok(text) = local::with_session_values(sh, st, &format!("SELECT {expr}"), &[]) else {
        return Ok(expr.to_string());
    };
    let Ok(mut stmts) = crate::sql::analyze::parse(&text) else {
        return Ok(expr.to_string());
    };
    if let Some(Statement::Query(q)) = stmts.pop()
        && let SetExpr::Select(s) = *q.body
        && let Some(item) = s.projection.first()
    {
        let e = match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
            _ => return Ok(expr.to_string()),
        };
        return Ok(e.to_string());
    }
    Ok(expr.to_string())
}

/// Sets every target's text to `wrap(text)`, where a target that runs the client's own text
/// gets it with its parameters inlined: `SET STATEMENT ... FOR ` before it, or a statement
/// after it on the same connection.
fn wrap_targets(
    plan: &mut Plan,
    sql: &str,
    a: &Analysis,
    params: Option<&[Value]>,
    wrap: impl Fn(&str) -> String,
) {
    let original = match params {
        Some(p) if !p.is_empty() => {
            let mut stmt = a.stmt.clone();
            crate::rewrite::inline_params(&mut stmt, p);
            stmt.to_string()
        }
        _ => sql.to_string(),
    };
    for t in &mut plan.targets {
        let body = t.sql.take().unwrap_or_else(|| original.clone());
        t.sql = Some(wrap(&body));
    }
}

/// One of the proxy's own connections to `shard`'s primary in the session's state, and the
/// bound of each wait on it.
async fn primary_wire<'a>(
    sh: &'a Shared,
    st: &SessionState,
    shard: ShardId,
) -> Result<(
    crate::backend::wire::pool::PooledWire,
    crate::execute::Step<'a>,
)> {
    let conn = sh
        .backends
        .wire_on(
            Server::primary(shard),
            st.schema.as_deref(),
            st.found_rows,
            &st.setup,
        )
        .await?;
    let step = crate::execute::Step {
        timeout: sh.backends.timeout(),
        shard: sh.backends.shard_name(shard),
    };
    Ok((conn, step))
}

/// Whether the session's sql_mode (its SETs replayed on a backend connection over the
/// server's default) contains `mode`.
async fn sql_mode_has(sh: &Shared, st: &SessionState, mode: &str) -> Result<bool> {
    let shard = fallback(sh, st);
    let (mut conn, step) = primary_wire(sh, st, shard).await?;
    let sql_mode = step
        .wait(conn.query_first("SELECT @@SESSION.sql_mode"))
        .await?
        .unwrap_or_default();
    Ok(String::from_utf8_lossy(&sql_mode)
        .split(',')
        .any(|m| m.eq_ignore_ascii_case(mode)))
}

/// After DDL on an auto_increment table, its sequence restarts after the largest stored id.
async fn reset_sequences(sh: &Shared, st: &SessionState, a: &Analysis) {
    for t in &a.tables {
        if let Ok((schema, Some(rule))) = router::resolve(&sh.rules, st.schema.as_deref(), t)
            && rule.numbered_column().is_some()
            && let Err(e) = sh.sequences.reset(&sh.backends, schema, &rule).await
        {
            // The DDL itself succeeded; a stale sequence only means ids continue higher.
            tracing::warn!("could not reset the id sequence of {}: {e}", rule.name);
        }
    }
}

/// Column metadata and parameter count of a statement, for COM_STMT_PREPARE: the statement is
/// prepared on one shard that holds its first table.
pub async fn prepare(sh: &Shared, st: &SessionState, sql: &str) -> Result<(usize, Vec<ColumnDef>)> {
    if command::classify(sql) != Command::Sql {
        let params = lexer::tokens(sql, usize::MAX)
            .iter()
            .filter(|t| **t == lexer::Tok::Sym('?'))
            .count();
        return Ok((params, Vec::new()));
    }
    let analysis = sh.cache.get(sql);
    let mut shard = match &analysis {
        Ok(a) => match a.tables.first() {
            Some(t) if system_schema::is_system_table(st, t) => fallback(sh, st),
            Some(t) => {
                let (schema, rule) = router::resolve(&sh.rules, st.schema.as_deref(), t)?;
                rule.and_then(|r| r.shards.first().copied())
                    .unwrap_or(schema.default_shard)
            }
            None => fallback(sh, st),
        },
        Err(_) => fallback(sh, st),
    };
    // Split tables are prepared as their first physical table (on that table's shard).
    let mut text = std::borrow::Cow::Borrowed(sql);
    if let Ok(a) = &analysis {
        for t in &a.tables {
            if let Ok((_, Some(rule))) = router::resolve(&sh.rules, st.schema.as_deref(), t)
                && let Some(split) = &rule.split
            {
                shard = split.shard_of(0);
                let physical = split.physical(0, &rule.name);
                text = crate::rewrite::physical::rename_in_text(&text, &t.name, &physical).into();
            }
        }
    }
    let sql = &*text;
    let (mut conn, step) = primary_wire(sh, st, shard).await?;
    // Kept in the connection's statement cache: the executions that follow may find it there.
    let stmt = step
        .wait(conn.prepare(&*crate::sql::text::encode(sql)))
        .await?;
    Ok((usize::from(stmt.params), stmt.columns.to_vec()))
}

/// Columns of a table, for COM_FIELD_LIST.
pub async fn field_list(sh: &Shared, st: &mut SessionState, table: &str) -> Result<Vec<ColumnDef>> {
    let t = TableName {
        schema: None,
        name: table.to_string(),
    };
    let mut table = table.to_string();
    let shard = if system_schema::is_system_table(st, &t) {
        fallback(sh, st)
    } else {
        let (schema, rule) = router::resolve(&sh.rules, st.schema.as_deref(), &t)?;
        match rule {
            // A split table's columns are its first physical table's.
            Some(r) if r.split.is_some() => {
                let split = r
                    .split
                    .as_ref()
                    .map(|s| (s.shard_of(0), s.physical(0, &r.name)));
                let (shard, physical) = split.unwrap_or((schema.default_shard, table.clone()));
                table = physical;
                shard
            }
            r => r
                .and_then(|r| r.shards.first().copied())
                .unwrap_or(schema.default_shard),
        }
    };
    let sql = format!("SELECT * FROM `{}` LIMIT 0", table.replace('`', "``"));
    match run_plan(sh, st, &single(shard), &sql, None, false, false).await? {
        Outcome::Rows(r) => Ok(r.columns.to_vec()),
        Outcome::Stream(s) => Ok(s.columns.to_vec()),
        Outcome::Ok(_) | Outcome::Multi(_) => Ok(Vec::new()),
    }
}

/// Ends a session: an open transaction is rolled back.
pub async fn close(sh: &Shared, st: &mut SessionState) {
    if st.txn.is_open() {
        // Nothing to tell: the client is gone.
        let _ = st.txn.rollback(&sh.backends).await;
    }
}
