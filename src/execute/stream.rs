//! A single shard's rows relayed while the backend sends them, so a large result never sits
//! whole in the proxy's memory. A task owns the backend connection meanwhile, sends the rows
//! through a bounded channel (a slow client slows the backend read, not the proxy's memory) and
//! hands the connection back at the end. Several shards' streams merged into one (see
//! `merge::stream`) are a [`RowStream`] too, whose end hands back every shard's connection.

use super::{Job, OkInfo, Outcome, Step, drain, fetch_warnings, ok_info, params_of, row_values};
use crate::config::ShardId;
use crate::error::{ProxyError, Result};
use crate::frontend::packets::ColumnDef;
use mysql_async::prelude::{Protocol, Queryable};
use mysql_async::{Conn, QueryResult, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// The end of a streamed result: the warning count and `SHOW WARNINGS` rows.
pub type StreamEnd = (u16, Vec<Vec<Value>>);

/// The connections a stream used, one per shard: `None` for one that was lost.
pub type Conns = Vec<(ShardId, Option<Conn>)>;

/// Rows buffered between the backend and a slow client, per streamed statement.
const STREAM_BUFFER: usize = 256;

/// How the backend task ended: rows (whose end is a [`StreamEnd`]) or a non-row answer.
enum End {
    Rows(StreamEnd),
    Ok(OkInfo),
}

/// A streamed result, as the session reads it.
pub struct RowStream {
    pub columns: Arc<Vec<ColumnDef>>,
    /// Rows in order; an `Err` ends the stream.
    pub rows: mpsc::Receiver<Result<Vec<Value>>>,
    done: Done,
}

/// The task that feeds a [`RowStream`], and the shards the rows come from.
enum Done {
    /// One shard's backend task.
    Shard(ShardId, JoinHandle<(Option<Conn>, Result<End>)>),
    /// A merge of several shards' streams, which ends them all.
    Merged(Vec<ShardId>, JoinHandle<(Conns, Result<StreamEnd>)>),
}

impl RowStream {
    /// A stream fed by `task`, which relays the rows of streams of `shards` into `rows` and
    /// ends with every shard's connection.
    pub fn merged(
        columns: Arc<Vec<ColumnDef>>,
        rows: mpsc::Receiver<Result<Vec<Value>>>,
        task: JoinHandle<(Conns, Result<StreamEnd>)>,
        shards: Vec<ShardId>,
    ) -> RowStream {
        RowStream {
            columns,
            rows,
            done: Done::Merged(shards, task),
        }
    }

    /// Waits for the task feeding the stream: each shard's connection (if still usable) and how
    /// the result ended. Call after the rows were read (or the receiver dropped: the backend
    /// tasks then drain the rest).
    pub async fn finish(self) -> (Conns, Result<StreamEnd>) {
        drop(self.rows);
        let failed = || ProxyError::Transaction("a backend task failed".into());
        match self.done {
            Done::Shard(shard, task) => {
                let (conn, end) = match task.await {
                    Ok((conn, Ok(End::Rows(end)))) => (conn, Ok(end)),
                    Ok((conn, Ok(End::Ok(_)))) => (conn, Ok((0, Vec::new()))),
                    Ok((conn, Err(e))) => (conn, Err(e)),
                    Err(_) => (None, Err(failed())),
                };
                (vec![(shard, conn)], end)
            }
            Done::Merged(shards, task) => match task.await {
                Ok(done) => done,
                Err(_) => (
                    shards.into_iter().map(|s| (s, None)).collect(),
                    Err(failed()),
                ),
            },
        }
    }

    /// The shards the rows come from.
    pub fn shards(&self) -> &[ShardId] {
        match &self.done {
            Done::Shard(shard, _) => std::slice::from_ref(shard),
            Done::Merged(shards, _) => shards,
        }
    }
}

impl std::fmt::Debug for RowStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RowStream from shards {:?} ({} columns)",
            self.shards(),
            self.columns.len()
        )
    }
}

/// How a streamed statement started: an answer that is not rows (or an error) is complete at
/// once, with the connection back; rows come as a [`RowStream`].
pub enum Started {
    Done(Option<Conn>, Result<Outcome>),
    Rows(RowStream),
}

/// Starts `job` on `conn` in a task of its own and returns once the backend has sent the column
/// definitions, or has answered without rows.
pub async fn start_stream(
    conn: Conn,
    job: Arc<Job>,
    timeout: Duration,
    shard: ShardId,
    name: String,
) -> Started {
    let (head_tx, head_rx) = oneshot::channel::<Arc<Vec<ColumnDef>>>();
    let (row_tx, row_rx) = mpsc::channel(STREAM_BUFFER);
    // Registered here, in the session's task: the relay task does not see its task-local.
    let tracked = match super::inflight::track(&name, conn.id()) {
        Ok(t) => t,
        Err(_) => return Started::Done(Some(conn), Err(ProxyError::interrupted())),
    };
    let done = tokio::spawn(async move {
        let mut conn = conn;
        let step = Step {
            timeout,
            shard: &name,
        };
        let r = stream_rows(&mut conn, &job, &step, head_tx, row_tx).await;
        super::inflight::release(tracked).await;
        match r {
            Err(e) if e.is_connection_loss() => (None, Err(e)),
            other => (Some(conn), other),
        }
    });
    if let Ok(columns) = head_rx.await {
        return Started::Rows(RowStream {
            columns,
            rows: row_rx,
            done: Done::Shard(shard, done),
        });
    }
    // No columns were sent: the task has ended (or is ending) with a non-row answer or an error.
    match done.await {
        Ok((conn, Ok(End::Ok(info)))) => Started::Done(conn, Ok(Outcome::Ok(info))),
        Ok((conn, Ok(End::Rows(_)))) => Started::Done(
            conn,
            Err(ProxyError::Transaction("rows without columns".into())),
        ),
        Ok((conn, Err(e))) => Started::Done(conn, Err(e)),
        Err(_) => Started::Done(
            None,
            Err(ProxyError::Transaction("a backend task failed".into())),
        ),
    }
}

async fn stream_rows(
    conn: &mut Conn,
    job: &Job,
    step: &Step<'_>,
    head: oneshot::Sender<Arc<Vec<ColumnDef>>>,
    rows: mpsc::Sender<Result<Vec<Value>>>,
) -> Result<End> {
    // The client's bytes, restored from the lossless text form (see `sql::text`).
    let sql = crate::sql::text::encode(&job.sql);
    let end = match &job.params {
        Some(params) => {
            let mut result = step
                .within(conn.exec_iter(&*sql, params_of(params)))
                .await?;
            relay(&mut result, step, head, &rows).await?
        }
        None => {
            let mut result = step.within(conn.query_iter(&*sql)).await?;
            relay(&mut result, step, head, &rows).await?
        }
    };
    Ok(match end {
        End::Rows((count, _)) => End::Rows((count, fetch_warnings(conn, count, step).await?)),
        End::Ok(mut info) => {
            info.warning_list = fetch_warnings(conn, info.warnings, step).await?;
            End::Ok(info)
        }
    })
}

/// Sends the columns, then each row. A client that went away (the receiver dropped) stops the
/// relay, and the rest of the result is drained.
async fn relay<P: Protocol>(
    result: &mut QueryResult<'_, '_, P>,
    step: &Step<'_>,
    head: oneshot::Sender<Arc<Vec<ColumnDef>>>,
    rows: &mpsc::Sender<Result<Vec<Value>>>,
) -> Result<End> {
    let end = match result.columns() {
        Some(cols) if !cols.is_empty() => {
            let _ = head.send(Arc::new(cols.iter().map(ColumnDef::from_backend).collect()));
            let mut receiving = true;
            loop {
                match step.within(result.next()).await {
                    Ok(Some(row)) => {
                        if receiving && rows.send(Ok(row_values(row))).await.is_err() {
                            receiving = false;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        // The client sees the same error the task ends with.
                        let same = ProxyError::Backend {
                            code: e.code(),
                            state: e.sqlstate().to_string(),
                            message: e.to_string(),
                        };
                        let _ = rows.send(Err(same)).await;
                        return Err(e);
                    }
                }
            }
            End::Rows((result.warnings(), Vec::new()))
        }
        _ => End::Ok(ok_info(result)),
    };
    drain(result, step).await?;
    Ok(end)
}
