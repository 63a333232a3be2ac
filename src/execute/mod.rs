//! The execute stage: runs one statement on backend connections, concurrently across shards,
//! each wait bounded by the backend timeout. It never decides where a statement goes: the plan
//! did. Buffered results (for merges) are read here; a single shard's rows can instead be
//! relayed as they arrive ([`stream`]).

pub mod budget;
pub mod gtid;
pub mod inflight;
pub mod promote;
pub mod replicas;
pub mod stream;

use crate::backend::wire::pool::PooledWire;
use crate::backend::wire::{Answer, RawRows, WireConn};
use crate::error::{ProxyError, Result};
use crate::frontend::packets::ColumnDef;
use mysql_async::prelude::{Protocol, Queryable};
use mysql_async::{Conn, Params, QueryResult, Row, Value};
use std::sync::Arc;
use std::time::Duration;

pub use budget::MergeBudget;
pub use stream::{
    BATCH, Batch, Batcher, Conns, RowStream, Rows, Started, StreamEnd, start_stream,
    start_wire_stream,
};

/// An OK answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OkInfo {
    pub affected: u64,
    pub last_insert_id: u64,
    pub warnings: u16,
    pub info: String,
    /// The rows of `SHOW WARNINGS` on the connection that ran the statement.
    pub warning_list: Vec<Vec<Value>>,
}

/// A result set, decoded into values.
#[derive(Clone, Debug, Default)]
pub struct RowSet {
    pub columns: Arc<Vec<ColumnDef>>,
    pub rows: Vec<Vec<Value>>,
    pub warnings: u16,
    /// The rows of `SHOW WARNINGS` on the connection that ran the statement.
    pub warning_list: Vec<Vec<Value>>,
}

/// What one statement produced on one shard.
#[derive(Debug)]
pub enum Outcome {
    Ok(OkInfo),
    Rows(RowSet),
    /// A single shard's rows, delivered as they arrive (see [`start_stream`]).
    Stream(RowStream),
    /// Several results of one statement (a CALL: each SELECT of the procedure, then its OK),
    /// relayed in order.
    Multi(Vec<Outcome>),
}

/// What to run: the SQL text and, for the binary protocol, the bound parameters.
pub struct Job {
    pub sql: Text,
    pub params: Option<Vec<Value>>,
}

/// Statement text for a backend: a part of a shared text, so that the client's statement (which
/// may be tens of megabytes) is not copied for each shard it goes to.
#[derive(Clone, Debug)]
pub struct Text {
    all: Arc<str>,
    start: usize,
    end: usize,
}

impl Text {
    /// `part`, shared from `all` when it lies within it, else copied.
    pub fn within(all: Option<&Arc<str>>, part: &str) -> Text {
        if let Some(all) = all {
            let base = all.as_ptr() as usize;
            let at = part.as_ptr() as usize;
            if at >= base && at + part.len() <= base + all.len() {
                return Text {
                    all: all.clone(),
                    start: at - base,
                    end: at - base + part.len(),
                };
            }
        }
        Text::from(part)
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text {
            all: Arc::from(s),
            start: 0,
            end: s.len(),
        }
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::from(s.as_str())
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        // Both ends were taken from a `&str` inside `all`, so they are character boundaries.
        self.all.get(self.start..self.end).unwrap_or_default()
    }
}

/// One wait for a backend, bounded: the timeout applies to each wait (the first answer, then
/// each row), not to a whole statement, so a large result that keeps flowing is not cut off
/// while a backend that stops answering is given up within `timeout`.
pub(crate) struct Step<'a> {
    pub timeout: Duration,
    /// The shard's name, for error messages.
    pub shard: &'a str,
}

impl Step<'_> {
    pub(crate) async fn within<T>(
        &self,
        f: impl std::future::Future<Output = mysql_async::Result<T>>,
    ) -> Result<T> {
        // Polled once before the deadline is armed: most rows of a result are already in the
        // connection's buffer, and a deadline costs a clock read and a timer entry each.
        let mut f = std::pin::pin!(f);
        if let Some(r) = ready_now(f.as_mut()).await {
            return r.map_err(|e| ProxyError::from_backend(self.shard, e));
        }
        match tokio::time::timeout(self.timeout, f).await {
            Ok(r) => r.map_err(|e| ProxyError::from_backend(self.shard, e)),
            Err(_) => Err(ProxyError::BackendLost {
                shard: self.shard.to_string(),
                detail: format!("no answer within {} ms", self.timeout.as_millis()),
            }),
        }
    }
}

impl Step<'_> {
    /// [`Step::within`] for a future of the proxy's own connections ([`crate::backend::wire`]).
    /// A wait that times out drops the future, which leaves the connection unusable (it is
    /// closed instead of going back to its pool).
    pub(crate) async fn wait<T>(
        &self,
        f: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        let mut f = std::pin::pin!(f);
        if let Some(r) = ready_now(f.as_mut()).await {
            return r;
        }
        match tokio::time::timeout(self.timeout, f).await {
            Ok(r) => r,
            Err(_) => Err(ProxyError::BackendLost {
                shard: self.shard.to_string(),
                detail: format!("no answer within {} ms", self.timeout.as_millis()),
            }),
        }
    }
}

/// `f`'s output if it is ready now, else `None` (`f` was polled once with the caller's waker
/// and may be awaited further).
pub(crate) async fn ready_now<F: std::future::Future>(
    mut f: std::pin::Pin<&mut F>,
) -> Option<F::Output> {
    std::future::poll_fn(|cx| match f.as_mut().poll(cx) {
        std::task::Poll::Ready(r) => std::task::Poll::Ready(Some(r)),
        std::task::Poll::Pending => std::task::Poll::Ready(None),
    })
    .await
}

/// A row's values. (mysql_common's `Row::unwrap` panics on a value taken out earlier; the
/// proxy never takes one, but a missing value is better relayed as NULL than as a panic.)
pub(crate) fn row_values(row: Row) -> Vec<Value> {
    row.unwrap_raw()
        .into_iter()
        .map(|v| v.unwrap_or(Value::NULL))
        .collect()
}

/// The job's parameters as mysql_async takes them.
pub(crate) fn params_of(params: &[Value]) -> Params {
    if params.is_empty() {
        Params::Empty
    } else {
        Params::Positional(params.to_vec())
    }
}

/// Warnings live on the connection that produced them, which the session may not use next:
/// they are fetched right after the statement, so that SHOW WARNINGS can be answered later.
pub(crate) async fn fetch_warnings(
    conn: &mut Conn,
    count: u16,
    step: &Step<'_>,
) -> Result<Vec<Vec<Value>>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let mut rows: Vec<Row> = step.within(conn.query("SHOW WARNINGS")).await?;
    // The statement's own are the last `count` (a statement that uses no table leaves those of
    // the one before it in the list).
    let own = rows.split_off(rows.len().saturating_sub(usize::from(count)));
    Ok(own.into_iter().map(row_values).collect())
}

/// Drains further result sets (a CALL), so the connection is clean; only the first is relayed.
pub(crate) async fn drain<P: Protocol>(
    result: &mut QueryResult<'_, '_, P>,
    step: &Step<'_>,
) -> Result<()> {
    while !result.is_empty() {
        while step.within(result.next()).await?.is_some() {}
    }
    Ok(())
}

/// The OK answer a result ended with.
pub(crate) fn ok_info<P: Protocol>(result: &QueryResult<'_, '_, P>) -> OkInfo {
    OkInfo {
        affected: result.affected_rows(),
        last_insert_id: result.last_insert_id().unwrap_or(0),
        warnings: result.warnings(),
        info: result.info().into_owned(),
        warning_list: Vec::new(),
    }
}

/// Runs `job` on `conn` and reads the whole result. `shard` names the shard in error messages.
pub async fn run(conn: &mut Conn, job: &Job, timeout: Duration, shard: &str) -> Result<Outcome> {
    run_within(conn, job, timeout, shard, None).await
}

/// [`run`], with the rows held counted against `budget` (a result for a merge).
async fn run_within(
    conn: &mut Conn,
    job: &Job,
    timeout: Duration,
    shard: &str,
    budget: Option<&MergeBudget>,
) -> Result<Outcome> {
    let tracked = inflight::track(shard, conn.id()).map_err(|_| ProxyError::interrupted())?;
    let r = run_tracked(conn, job, timeout, shard, budget).await;
    inflight::release(tracked).await;
    r
}

async fn run_tracked(
    conn: &mut Conn,
    job: &Job,
    timeout: Duration,
    shard: &str,
    budget: Option<&MergeBudget>,
) -> Result<Outcome> {
    let step = Step { timeout, shard };
    // The client's bytes, restored from the lossless text form (see `sql::text`).
    let sql = crate::sql::text::encode(&job.sql);
    let mut outcome = match &job.params {
        Some(params) => {
            let mut result = step
                .within(conn.exec_iter(&*sql, params_of(params)))
                .await?;
            read_result(&mut result, &step, budget).await?
        }
        None => {
            let mut result = step.within(conn.query_iter(&*sql)).await?;
            read_result(&mut result, &step, budget).await?
        }
    };
    // Warnings are those of the statement's last result.
    let last = match &mut outcome {
        Outcome::Multi(list) => list.last_mut(),
        other => Some(other),
    };
    match last {
        Some(Outcome::Ok(o)) => o.warning_list = fetch_warnings(conn, o.warnings, &step).await?,
        Some(Outcome::Rows(r)) => r.warning_list = fetch_warnings(conn, r.warnings, &step).await?,
        _ => {}
    }
    Ok(outcome)
}

/// Reads every result of a statement: one for most, several for a CALL.
async fn read_result<P: Protocol>(
    result: &mut QueryResult<'_, '_, P>,
    step: &Step<'_>,
    budget: Option<&MergeBudget>,
) -> Result<Outcome> {
    let mut all = vec![read_one(result, step, budget).await?];
    // A result not yet read shows its columns (none for an OK); a CALL ends with an OK.
    while result.columns().is_some() {
        all.push(read_one(result, step, budget).await?);
    }
    Ok(if all.len() == 1 {
        all.remove(0)
    } else {
        Outcome::Multi(all)
    })
}

/// Reads one result. With a `budget`, once the statement's rows pass it the rows are dropped
/// and the rest is drained (the connection stays usable): the answer is then 1038.
async fn read_one<P: Protocol>(
    result: &mut QueryResult<'_, '_, P>,
    step: &Step<'_>,
    budget: Option<&MergeBudget>,
) -> Result<Outcome> {
    let outcome = match result.columns() {
        Some(cols) if !cols.is_empty() => {
            let columns: Vec<ColumnDef> = cols.iter().map(ColumnDef::from_backend).collect();
            let mut rows = Vec::new();
            let mut over = false;
            while let Some(row) = step.within(result.next()).await? {
                if over {
                    continue;
                }
                let row = row_values(row);
                if budget.is_some_and(|b| !b.hold(&row)) {
                    over = true;
                    rows = Vec::new();
                    continue;
                }
                rows.push(row);
            }
            if let (true, Some(b)) = (over, budget) {
                return Err(ProxyError::MergeMemory {
                    limit_mb: b.limit_mb(),
                });
            }
            Outcome::Rows(RowSet {
                columns: Arc::new(columns),
                rows,
                warnings: result.warnings(),
                warning_list: Vec::new(),
            })
        }
        _ => {
            let ok = ok_info(result);
            // Step past this OK-only result, so the next one (if any) comes up.
            let _ = step.within(result.next()).await?;
            Outcome::Ok(ok)
        }
    };
    Ok(outcome)
}

/// Runs each (connection, job) concurrently and returns them in the same order with results.
/// `budget`: the rows all of them may hold together (a result read for a merge).
pub async fn run_all(
    work: Vec<(Conn, Arc<Job>, String)>,
    timeout: Duration,
    budget: Option<Arc<MergeBudget>>,
) -> Vec<(Conn, Result<Outcome>)> {
    let futs = work.into_iter().map(|(mut conn, job, shard)| {
        let budget = budget.clone();
        async move {
            let r = run_within(&mut conn, &job, timeout, &shard, budget.as_deref()).await;
            (conn, r)
        }
    });
    futures_util::future::join_all(futs).await
}

impl From<crate::backend::wire::OkPacket> for OkInfo {
    fn from(ok: crate::backend::wire::OkPacket) -> OkInfo {
        OkInfo {
            affected: ok.affected_rows,
            last_insert_id: ok.last_insert_id,
            warnings: ok.warnings,
            info: ok.info,
            warning_list: Vec::new(),
        }
    }
}

/// Sends `job` on one of the proxy's own connections (prepared and executed when it has
/// parameters) and reads its first answer, each wait bounded by `step`.
pub(crate) async fn send_job(conn: &mut WireConn, job: &Job, step: &Step<'_>) -> Result<Answer> {
    // The client's bytes, restored from the lossless text form (see `sql::text`).
    let sql = crate::sql::text::encode(&job.sql);
    match &job.params {
        Some(params) => {
            let stmt = step.wait(conn.prepare(&*sql)).await?;
            step.wait(conn.execute(&stmt, params)).await
        }
        None => step.wait(conn.query(&*sql)).await,
    }
}

/// Runs each (connection, job) of the proxy's own connections ([`crate::backend::wire`])
/// concurrently, as [`run_all`] does for mysql_async's.
pub async fn run_all_wire(
    work: Vec<(PooledWire, Arc<Job>, String)>,
    timeout: Duration,
    budget: Option<Arc<MergeBudget>>,
) -> Vec<(PooledWire, Result<Outcome>)> {
    let futs = work.into_iter().map(|(mut conn, job, shard)| {
        let budget = budget.clone();
        async move {
            let r = run_wire(&mut conn, &job, timeout, &shard, budget.as_deref()).await;
            (conn, r)
        }
    });
    futures_util::future::join_all(futs).await
}

/// [`run_within`] on one of the proxy's own connections.
async fn run_wire(
    conn: &mut WireConn,
    job: &Job,
    timeout: Duration,
    shard: &str,
    budget: Option<&MergeBudget>,
) -> Result<Outcome> {
    let tracked =
        inflight::track(shard, conn.connection_id()).map_err(|_| ProxyError::interrupted())?;
    let r = run_wire_tracked(conn, job, timeout, shard, budget).await;
    inflight::release(tracked).await;
    r
}

async fn run_wire_tracked(
    conn: &mut WireConn,
    job: &Job,
    timeout: Duration,
    shard: &str,
    budget: Option<&MergeBudget>,
) -> Result<Outcome> {
    let step = Step { timeout, shard };
    let binary = job.params.is_some();
    let mut answer = send_job(conn, job, &step).await;
    // Every result of the statement: one for most, several for a CALL.
    let mut all = Vec::with_capacity(1);
    loop {
        all.push(read_wire_result(conn, answer?, binary, &step, budget).await?);
        if !conn.more_results() {
            break;
        }
        answer = step.wait(conn.next_answer()).await;
    }
    let mut outcome = if all.len() == 1 {
        all.remove(0)
    } else {
        Outcome::Multi(all)
    };
    // Warnings are those of the statement's last result.
    let last = match &mut outcome {
        Outcome::Multi(list) => list.last_mut(),
        other => Some(other),
    };
    match last {
        Some(Outcome::Ok(o)) => {
            o.warning_list = stream::wire_warnings(conn, o.warnings, &step).await?
        }
        Some(Outcome::Rows(r)) => {
            r.warning_list = stream::wire_warnings(conn, r.warnings, &step).await?
        }
        _ => {}
    }
    Ok(outcome)
}

/// Reads one result whole (as [`read_one`] does): its rows decoded into values, counted
/// against `budget` (past it the rest is read and dropped, and the answer is 1038).
async fn read_wire_result(
    conn: &mut WireConn,
    answer: Answer,
    binary: bool,
    step: &Step<'_>,
    budget: Option<&MergeBudget>,
) -> Result<Outcome> {
    let columns = match answer {
        Answer::Done(ok) => return Ok(Outcome::Ok(ok.into())),
        Answer::Rows(columns) => columns,
    };
    let mut rows = Vec::new();
    let mut over = false;
    let mut raw = RawRows::default();
    let end = loop {
        raw.clear();
        let end = step.wait(conn.read_rows(&mut raw, BATCH)).await?;
        if !over {
            let decoded = raw
                .values(binary, &columns)
                .map_err(ProxyError::Malformed)?;
            for row in decoded {
                if budget.is_some_and(|b| !b.hold(&row)) {
                    over = true;
                    rows = Vec::new();
                    break;
                }
                rows.push(row);
            }
        }
        if let Some(end) = end {
            break end;
        }
    };
    if let (true, Some(b)) = (over, budget) {
        return Err(ProxyError::MergeMemory {
            limit_mb: b.limit_mb(),
        });
    }
    Ok(Outcome::Rows(RowSet {
        columns,
        rows,
        warnings: end.warnings,
        warning_list: Vec::new(),
    }))
}
