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
use mysql_async::Value;
use std::sync::Arc;
use std::time::Duration;

pub use budget::MergeBudget;
pub use stream::{BATCH, Batch, Batcher, Conns, RowStream, Rows, Started, StreamEnd, start_stream};

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
    /// An `Arc<String>` rather than an `Arc<str>`: the client's statement becomes one without
    /// a copy of its bytes (see the frontend's COM_QUERY).
    all: Arc<String>,
    start: usize,
    end: usize,
}

impl Text {
    /// `part`, shared from `all` when it lies within it, else copied.
    pub fn within(all: Option<&Arc<String>>, part: &str) -> Text {
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
            all: Arc::new(s.to_string()),
            start: 0,
            end: s.len(),
        }
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        let end = s.len();
        Text {
            all: Arc::new(s),
            start: 0,
            end,
        }
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
    /// Awaits `f`, a command on a backend connection. Polled once before the deadline is
    /// armed: most rows of a result are already in the connection's buffer, and a deadline
    /// costs a clock read and a timer entry each. A wait that times out drops the future, which
    /// leaves the connection unusable (it is closed instead of going back to its pool).
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

/// Runs `job` on `conn` and reads the whole result. `shard` names the shard in error messages.
pub async fn run(
    conn: &mut WireConn,
    job: &Job,
    timeout: Duration,
    shard: &str,
) -> Result<Outcome> {
    run_within(conn, job, timeout, shard, None).await
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

/// Runs each (connection, job) concurrently and returns them in the same order with results.
/// `budget`: the rows all of them may hold together (a result read for a merge).
pub async fn run_all(
    work: Vec<(PooledWire, Arc<Job>, String)>,
    timeout: Duration,
    budget: Option<Arc<MergeBudget>>,
) -> Vec<(PooledWire, Result<Outcome>)> {
    let futs = work.into_iter().map(|(mut conn, job, shard)| {
        let budget = budget.clone();
        async move {
            let r = run_within(&mut conn, &job, timeout, &shard, budget.as_deref()).await;
            (conn, r)
        }
    });
    futures_util::future::join_all(futs).await
}

/// Runs `job` on `conn` and reads the whole result, with the rows held counted against
/// `budget` (a result for a merge). `shard` names the shard in error messages.
pub async fn run_within(
    conn: &mut WireConn,
    job: &Job,
    timeout: Duration,
    shard: &str,
    budget: Option<&MergeBudget>,
) -> Result<Outcome> {
    let tracked =
        inflight::track(shard, conn.connection_id()).map_err(|_| ProxyError::interrupted())?;
    let r = run_tracked(conn, job, timeout, shard, budget).await;
    inflight::release(tracked).await;
    r
}

async fn run_tracked(
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
        all.push(read_result(conn, answer?, binary, &step, budget).await?);
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

/// Reads one result whole: its rows decoded into values, counted against `budget` (past it
/// the rest is read and dropped, so the connection stays usable, and the answer is 1038).
async fn read_result(
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
