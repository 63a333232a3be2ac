//! The execute stage: runs one statement on backend connections, concurrently across shards,
//! each bounded by the backend timeout. It never decides where a statement goes: the plan did.

use crate::error::{ProxyError, Result};
use crate::frontend::packets::ColumnDef;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Params, Value};
use std::sync::Arc;
use std::time::Duration;

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
}

/// The end of a streamed result: the warning count and `SHOW WARNINGS` rows.
pub type StreamEnd = (u16, Vec<Vec<Value>>);

/// Rows of a single-shard SELECT relayed while the backend sends them, so a large result never
/// sits whole in the proxy's memory. A task owns the backend connection meanwhile and hands it
/// back through `done` at the end.
pub struct RowStream {
    pub columns: Arc<Vec<ColumnDef>>,
    /// Rows in order; an `Err` ends the stream.
    pub rows: tokio::sync::mpsc::Receiver<Result<Vec<Value>>>,
    /// The connection (if still usable) and how the result ended.
    pub done: tokio::task::JoinHandle<(Option<Conn>, Result<StreamEnd>)>,
    /// The shard the rows come from.
    pub shard: crate::config::ShardId,
}

impl std::fmt::Debug for RowStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RowStream from shard {} ({} columns)",
            self.shard,
            self.columns.len()
        )
    }
}

/// How a streamed statement started: a result that is not rows (or an error) is complete at
/// once, with the connection back; rows come as a [`RowStream`].
pub enum Started {
    Done(Option<Conn>, Result<Outcome>),
    Rows(RowStream),
}

/// Rows buffered between the backend and a slow client, per streamed statement.
const STREAM_BUFFER: usize = 256;

/// Starts `job` on `conn` in a task of its own and returns as soon as the backend has sent the
/// column definitions (or a non-row answer).
pub async fn start_stream(
    conn: Conn,
    job: Arc<Job>,
    timeout: Duration,
    shard: crate::config::ShardId,
    name: String,
) -> Started {
    let (head_tx, head_rx) = tokio::sync::oneshot::channel::<Result<Option<Arc<Vec<ColumnDef>>>>>();
    let (row_tx, row_rx) = tokio::sync::mpsc::channel(STREAM_BUFFER);
    let done = tokio::spawn(async move {
        let mut conn = conn;
        let step = Step {
            timeout,
            shard: &name,
        };
        let r = stream_rows(&mut conn, &job, &step, head_tx, row_tx).await;
        match r {
            Err(e) if e.is_connection_loss() => (None, Err(e)),
            other => (Some(conn), other),
        }
    });
    match head_rx.await {
        Ok(Ok(Some(columns))) => Started::Rows(RowStream {
            columns,
            rows: row_rx,
            done,
            shard,
        }),
        // Not rows, or an error before any: the task ends on its own; take its result.
        _ => match done.await {
            Ok((conn, Ok((warnings, list)))) => {
                // An OK result: the task stored it as the last "row".
                let mut rx = row_rx;
                let info = match rx.try_recv() {
                    Ok(Ok(v)) => ok_from_row(v, warnings, list),
                    _ => OkInfo {
                        warnings,
                        warning_list: list,
                        ..Default::default()
                    },
                };
                Started::Done(conn, Ok(Outcome::Ok(info)))
            }
            Ok((conn, Err(e))) => Started::Done(conn, Err(e)),
            Err(_) => Started::Done(
                None,
                Err(ProxyError::Transaction("a backend task failed".into())),
            ),
        },
    }
}

/// OK results travel through the row channel as [affected, last_insert_id, info].
fn ok_from_row(v: Vec<Value>, warnings: u16, list: Vec<Vec<Value>>) -> OkInfo {
    let num = |x: Option<&Value>| match x {
        Some(Value::UInt(u)) => *u,
        _ => 0,
    };
    let info = match v.get(2) {
        Some(Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    };
    OkInfo {
        affected: num(v.first()),
        last_insert_id: num(v.get(1)),
        warnings,
        info,
        warning_list: list,
    }
}

async fn stream_rows(
    conn: &mut Conn,
    job: &Job,
    step: &Step<'_>,
    head: tokio::sync::oneshot::Sender<Result<Option<Arc<Vec<ColumnDef>>>>>,
    rows: tokio::sync::mpsc::Sender<Result<Vec<Value>>>,
) -> Result<StreamEnd> {
    let started = match &job.params {
        Some(params) => {
            let p = if params.is_empty() {
                Params::Empty
            } else {
                Params::Positional(params.clone())
            };
            step.within(conn.exec_iter(&*job.sql, p))
                .await
                .map(either_binary)
        }
        None => step
            .within(conn.query_iter(&*job.sql))
            .await
            .map(either_text),
    };
    let warnings = match started {
        Err(e) => {
            let _ = head.send(Ok(None));
            return Err(e);
        }
        Ok(Either::Text(mut result)) => relay(&mut result, step, head, &rows).await?,
        Ok(Either::Binary(mut result)) => relay(&mut result, step, head, &rows).await?,
    };
    let mut list = Vec::new();
    if warnings > 0 {
        let w: Vec<mysql_async::Row> = step.within(conn.query("SHOW WARNINGS")).await?;
        list = w.into_iter().map(|r| r.unwrap()).collect();
    }
    Ok((warnings, list))
}

enum Either<'a, 'b> {
    Text(mysql_async::QueryResult<'a, 'b, mysql_async::TextProtocol>),
    Binary(mysql_async::QueryResult<'a, 'b, mysql_async::BinaryProtocol>),
}

fn either_text<'a, 'b>(
    r: mysql_async::QueryResult<'a, 'b, mysql_async::TextProtocol>,
) -> Either<'a, 'b> {
    Either::Text(r)
}

fn either_binary<'a, 'b>(
    r: mysql_async::QueryResult<'a, 'b, mysql_async::BinaryProtocol>,
) -> Either<'a, 'b> {
    Either::Binary(r)
}

/// Sends the head, then each row; returns the warning count. A client that went away (the
/// receiver dropped) stops the relay, and the rest of the result is drained.
async fn relay<P: mysql_async::prelude::Protocol>(
    result: &mut mysql_async::QueryResult<'_, '_, P>,
    step: &Step<'_>,
    head: tokio::sync::oneshot::Sender<Result<Option<Arc<Vec<ColumnDef>>>>>,
    rows: &tokio::sync::mpsc::Sender<Result<Vec<Value>>>,
) -> Result<u16> {
    match result.columns() {
        Some(cols) if !cols.is_empty() => {
            let defs: Vec<ColumnDef> = cols.iter().map(ColumnDef::from_backend).collect();
            let _ = head.send(Ok(Some(Arc::new(defs))));
            let mut receiving = true;
            loop {
                match step.within(result.next()).await {
                    Ok(Some(row)) => {
                        if receiving && rows.send(Ok(row.unwrap())).await.is_err() {
                            receiving = false;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        let _ = rows
                            .send(Err(ProxyError::BackendLost {
                                shard: step.shard.to_string(),
                                detail: e.to_string(),
                            }))
                            .await;
                        return Err(e);
                    }
                }
            }
        }
        _ => {
            let ok = vec![
                Value::UInt(result.affected_rows()),
                Value::UInt(result.last_insert_id().unwrap_or(0)),
                Value::Bytes(result.info().into_owned().into_bytes()),
            ];
            let _ = rows.send(Ok(ok)).await;
            let _ = head.send(Ok(None));
        }
    }
    let warnings = result.warnings();
    while !result.is_empty() {
        while step.within(result.next()).await?.is_some() {}
    }
    Ok(warnings)
}

/// What to run: the SQL text and, for the binary protocol, the bound parameters.
pub struct Job {
    pub sql: Arc<str>,
    pub params: Option<Vec<Value>>,
}

/// Runs `job` on `conn`. `timeout` bounds each wait for the backend (the first answer, then
/// each row), not the whole statement: a large result that keeps flowing is not cut off, while
/// a backend that stops answering is given up within `timeout`. `shard` names the shard in
/// error messages.
pub async fn run(conn: &mut Conn, job: &Job, timeout: Duration, shard: &str) -> Result<Outcome> {
    let step = Step { timeout, shard };
    let mut outcome = run_statement(conn, job, &step).await?;
    // Warnings live on the connection that produced them, which the session may not use next:
    // fetch them now, so that SHOW WARNINGS can be answered later.
    let (count, list) = match &mut outcome {
        Outcome::Ok(o) => (o.warnings, &mut o.warning_list),
        Outcome::Rows(r) => (r.warnings, &mut r.warning_list),
        Outcome::Stream(_) => return Ok(outcome),
    };
    if count > 0 {
        let rows: Vec<mysql_async::Row> = step.within(conn.query("SHOW WARNINGS")).await?;
        *list = rows.into_iter().map(|r| r.unwrap()).collect();
    }
    Ok(outcome)
}

/// One wait for a backend, bounded.
struct Step<'a> {
    timeout: Duration,
    shard: &'a str,
}

impl Step<'_> {
    async fn within<T>(
        &self,
        f: impl std::future::Future<Output = mysql_async::Result<T>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.timeout, f).await {
            Ok(r) => r.map_err(|e| ProxyError::from_backend(self.shard, e)),
            Err(_) => Err(ProxyError::BackendLost {
                shard: self.shard.to_string(),
                detail: format!("no answer within {} ms", self.timeout.as_millis()),
            }),
        }
    }
}

async fn run_statement(conn: &mut Conn, job: &Job, step: &Step<'_>) -> Result<Outcome> {
    match &job.params {
        Some(params) => {
            let p = if params.is_empty() {
                Params::Empty
            } else {
                Params::Positional(params.clone())
            };
            let mut result = step.within(conn.exec_iter(&*job.sql, p)).await?;
            read_result(&mut result, step).await
        }
        None => {
            let mut result = step.within(conn.query_iter(&*job.sql)).await?;
            read_result(&mut result, step).await
        }
    }
}

async fn read_result<P: mysql_async::prelude::Protocol>(
    result: &mut mysql_async::QueryResult<'_, '_, P>,
    step: &Step<'_>,
) -> Result<Outcome> {
    let columns = result.columns();
    let outcome = match columns {
        Some(cols) if !cols.is_empty() => {
            let defs: Vec<ColumnDef> = cols.iter().map(ColumnDef::from_backend).collect();
            let mut rows = Vec::new();
            while let Some(row) = step.within(result.next()).await? {
                rows.push(row.unwrap());
            }
            Outcome::Rows(RowSet {
                columns: Arc::new(defs),
                rows,
                warnings: result.warnings(),
                warning_list: Vec::new(),
            })
        }
        _ => Outcome::Ok(OkInfo {
            affected: result.affected_rows(),
            last_insert_id: result.last_insert_id().unwrap_or(0),
            warnings: result.warnings(),
            info: result.info().into_owned(),
            warning_list: Vec::new(),
        }),
    };
    // Further result sets (a CALL) are drained so the connection is clean; only the first is
    // relayed for now.
    while !result.is_empty() {
        while step.within(result.next()).await?.is_some() {}
    }
    Ok(outcome)
}

/// Runs each (connection, job) concurrently and returns them in the same order with results.
pub async fn run_all(
    work: Vec<(Conn, Arc<Job>, String)>,
    timeout: Duration,
) -> Vec<(Conn, Result<Outcome>)> {
    let futs = work.into_iter().map(|(mut conn, job, shard)| async move {
        let r = run(&mut conn, &job, timeout, &shard).await;
        (conn, r)
    });
    futures_util::future::join_all(futs).await
}
