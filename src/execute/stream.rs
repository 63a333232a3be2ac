//! A single shard's rows relayed while the backend sends them, so a large result never sits
//! whole in the proxy's memory. A producer owns the backend connection meanwhile, sends the rows
//! through a bounded channel (a slow client slows the backend read, not the proxy's memory) and
//! hands the connection back at the end. The producer of a statement the session relays itself
//! is a future the session's own task polls while it reads the rows ([`RowStream::next`]): no
//! task is spawned and no other thread woken per statement, which is most of what a point
//! select costs beyond its two sends; the inputs of a merge each run in a task of their own,
//! so that the shards are read in parallel. Several shards' streams merged into one (see
//! `merge::stream`) are a [`RowStream`] too, whose end hands back every shard's connection.

use super::{Job, OkInfo, Outcome, Step};
use crate::backend::wire::pool::PooledWire;
use crate::backend::wire::{Answer, RawRows, WireConn};
use crate::config::ShardId;
use crate::error::{ProxyError, Result};
use crate::frontend::packets::ColumnDef;
use mysql_async::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// The end of a streamed result: the warning count and `SHOW WARNINGS` rows.
pub type StreamEnd = (u16, Vec<Vec<Value>>);

/// The connections a stream used, one per shard: `None` for one that was lost.
pub type Conns = Vec<(ShardId, Option<PooledWire>)>;

/// Rows travel from a producer to its reader in batches: what the backend had already sent,
/// up to this many rows. A channel operation per row cost about as much as relaying the row.
pub const BATCH: usize = 32;

/// Batches buffered between the backend and a slow client, per streamed statement (so at most
/// `STREAM_BUFFER * BATCH` rows wait in the proxy).
const STREAM_BUFFER: usize = 8;

/// Rows travelling together: decoded into values, or the payloads a server sent (rows of our
/// own connection, [`crate::backend::wire`], which a client reading the same protocol gets
/// unchanged).
#[derive(Debug)]
pub enum Rows {
    Values(Vec<Vec<Value>>),
    Raw {
        rows: RawRows,
        /// Whether they are in the binary protocol (a prepared statement's), else text.
        binary: bool,
    },
}

impl Rows {
    /// The rows as values (`columns` types a binary row's).
    pub fn into_values(self, columns: &[ColumnDef]) -> Result<Vec<Vec<Value>>> {
        match self {
            Rows::Values(v) => Ok(v),
            Rows::Raw { rows, binary } => {
                rows.values(binary, columns).map_err(ProxyError::Malformed)
            }
        }
    }
}

/// What a producer sends its reader: rows (never an empty batch), or the error that ends them.
pub type Batch = Result<Rows>;

/// Rows gathered into [`Batch`]es: a producer pushes each row and flushes before it waits, so
/// a row the backend has sent never waits for the next one.
#[derive(Default)]
pub struct Batcher {
    rows: Vec<Vec<Value>>,
    /// The reader went away: rows are dropped from then on.
    gone: bool,
}

impl Batcher {
    /// Adds a row; a full batch is sent. False once the reader is gone.
    pub async fn push(&mut self, out: &mpsc::Sender<Batch>, row: Vec<Value>) -> bool {
        if !self.gone {
            self.rows.push(row);
            if self.rows.len() >= BATCH {
                self.flush(out).await;
            }
        }
        !self.gone
    }

    /// Sends the rows held, if any. False once the reader is gone.
    pub async fn flush(&mut self, out: &mpsc::Sender<Batch>) -> bool {
        if !self.gone && !self.rows.is_empty() {
            let rows = std::mem::replace(&mut self.rows, Vec::with_capacity(BATCH));
            self.gone = out.send(Ok(Rows::Values(rows))).await.is_err();
        }
        !self.gone
    }

    /// Sends the rows held, then the error that ends them.
    pub async fn fail(&mut self, out: &mpsc::Sender<Batch>, e: ProxyError) {
        if self.flush(out).await {
            let _ = out.send(Err(e)).await;
        }
    }
}

/// How the backend task ended: rows (whose end is a [`StreamEnd`]) or a non-row answer.
enum End {
    Rows(StreamEnd),
    Ok(OkInfo),
}

/// A streamed result, as the session reads it (with [`RowStream::next`]).
pub struct RowStream {
    pub columns: Arc<Vec<ColumnDef>>,
    /// Rows in order; an `Err` ends the stream.
    rows: mpsc::Receiver<Batch>,
    /// The rest of the batch being read.
    batch: std::vec::IntoIter<Vec<Value>>,
    done: Done,
}

/// What one shard's producer ends with: its connection (None when lost) and how it ended.
type Produced = (Option<PooledWire>, Result<End>);

/// The work that feeds a [`RowStream`], and the shards the rows come from.
enum Done {
    /// One shard's backend statement; whether its end hands the connection back (false: a
    /// connection outside a transaction, which went back to its pool by itself).
    Shard(ShardId, Producer, bool),
    /// A merge of several shards' streams, which ends them all; whether any hands back.
    Merged(Vec<ShardId>, JoinHandle<(Conns, Result<StreamEnd>)>, bool),
}

/// One shard's producer: a task of its own, or a future polled by whoever reads the rows.
enum Producer {
    Task(JoinHandle<Produced>),
    Inline(Pin<Box<dyn Future<Output = Produced> + Send>>),
    Ended(Produced),
    /// Its end was taken (by [`Producer::end`]).
    Gone,
}

impl Producer {
    /// Runs the producer to its end (a task: waits for it).
    async fn end(&mut self) -> Produced {
        let failed = || ProxyError::Transaction("a backend task failed".into());
        match std::mem::replace(self, Producer::Gone) {
            Producer::Task(task) => task.await.unwrap_or_else(|_| (None, Err(failed()))),
            Producer::Inline(fut) => fut.await,
            Producer::Ended(out) => out,
            Producer::Gone => (None, Err(failed())),
        }
    }

    /// Polls an inline producer until it ends (pending forever otherwise: a task runs alone).
    async fn run(&mut self) {
        if let Producer::Inline(fut) = self {
            let out = fut.await;
            *self = Producer::Ended(out);
        } else {
            std::future::pending::<()>().await;
        }
    }
}

impl RowStream {
    /// A stream fed by `task`, which relays the rows of streams of `shards` into `rows` and
    /// ends with every shard's connection.
    pub fn merged(
        columns: Arc<Vec<ColumnDef>>,
        rows: mpsc::Receiver<Batch>,
        task: JoinHandle<(Conns, Result<StreamEnd>)>,
        shards: Vec<ShardId>,
        hands_back: bool,
    ) -> RowStream {
        RowStream {
            columns,
            rows,
            batch: Vec::new().into_iter(),
            done: Done::Merged(shards, task, hands_back),
        }
    }

    /// The next row (`Err` ends the stream), `None` at the end. An inline producer is polled
    /// meanwhile, so the backend is read as the rows are taken.
    pub async fn next(&mut self) -> Option<Result<Vec<Value>>> {
        loop {
            if let Some(row) = self.batch.next() {
                return Some(Ok(row));
            }
            match self.next_batch().await? {
                Ok(rows) => match rows.into_values(&self.columns) {
                    Ok(rows) => self.batch = rows.into_iter(),
                    Err(e) => return Some(Err(e)),
                },
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// The next rows as they travelled (`Err` ends the stream), `None` at the end: for a
    /// reader that can relay a server's payloads as they are. Not to be mixed with
    /// [`RowStream::next`].
    pub async fn next_rows(&mut self) -> Option<Batch> {
        self.next_batch().await
    }

    async fn next_batch(&mut self) -> Option<Batch> {
        let RowStream { rows, done, .. } = self;
        match done {
            Done::Shard(_, producer @ Producer::Inline(_), _) => {
                tokio::select! {
                    biased;
                    item = rows.recv() => return item,
                    () = producer.run() => {}
                }
                // Ended: what it sent is buffered.
                rows.recv().await
            }
            _ => rows.recv().await,
        }
    }

    /// Waits for the work feeding the stream: each shard's connection (if still usable) and
    /// how the result ended. Call after the rows were read (or not: the backends' producers
    /// then drain the rest).
    pub async fn finish(self) -> (Conns, Result<StreamEnd>) {
        drop(self.rows);
        let failed = || ProxyError::Transaction("a backend task failed".into());
        match self.done {
            Done::Shard(shard, mut producer, hands_back) => {
                let (conn, end) = match producer.end().await {
                    (conn, Ok(End::Rows(end))) => (conn, Ok(end)),
                    (conn, Ok(End::Ok(_))) => (conn, Ok((0, Vec::new()))),
                    (conn, Err(e)) => (conn, Err(e)),
                };
                // Nothing to give back is not a lost connection (which ends a transaction's
                // part on that shard): a stream that did not join the transaction has none.
                let conns = if hands_back {
                    vec![(shard, conn)]
                } else {
                    Vec::new()
                };
                (conns, end)
            }
            Done::Merged(shards, task, hands_back) => match task.await {
                Ok(done) => done,
                Err(_) => (
                    if hands_back {
                        shards.into_iter().map(|s| (s, None)).collect()
                    } else {
                        Vec::new()
                    },
                    Err(failed()),
                ),
            },
        }
    }

    /// The shards the rows come from.
    pub fn shards(&self) -> &[ShardId] {
        match &self.done {
            Done::Shard(shard, _, _) => std::slice::from_ref(shard),
            Done::Merged(shards, _, _) => shards,
        }
    }

    /// Whether [`RowStream::finish`] hands connections back (those of a transaction), rather
    /// than pooled ones outside a transaction having gone back by themselves.
    pub fn hands_back(&self) -> bool {
        match &self.done {
            Done::Shard(_, _, h) | Done::Merged(_, _, h) => *h,
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
    Done(Option<PooledWire>, Result<Outcome>),
    Rows(RowStream),
}

/// Starts `job` on `conn` and returns once the backend has sent the column definitions, or has
/// answered without rows; the rows reach the reader as the payloads the server sent.
/// `inline`: the rows are produced as the caller reads them, in the caller's task; else in a
/// task of their own (the inputs of a merge, read in parallel). `hands_back`: the connection
/// is a transaction's, handed back at the stream's end (`None` when it was lost); else it goes
/// back to its pool when the producer ends (closed instead if the result was not read to its
/// end), and the stream's end hands back none.
pub async fn start_stream(
    conn: PooledWire,
    job: Arc<Job>,
    timeout: Duration,
    shard: ShardId,
    name: String,
    inline: bool,
    hands_back: bool,
) -> Started {
    let (head_tx, head_rx) = oneshot::channel::<Arc<Vec<ColumnDef>>>();
    let (row_tx, row_rx) = mpsc::channel(STREAM_BUFFER);
    // Registered here, in the session's task: the relay task does not see its task-local.
    let tracked = match super::inflight::track(&name, conn.connection_id()) {
        Ok(t) => t,
        Err(_) => return Started::Done(hands_back.then_some(conn), Err(ProxyError::interrupted())),
    };
    let work = async move {
        let mut conn = conn;
        let step = Step {
            timeout,
            shard: &name,
        };
        let r = wire_rows(&mut conn, &job, &step, head_tx, row_tx).await;
        super::inflight::release(tracked).await;
        match r {
            Err(e) if e.is_connection_loss() => (None, Err(e)),
            other => (hands_back.then_some(conn), other),
        }
    };
    started(work, inline, head_rx, row_rx, shard, hands_back).await
}

/// Runs a producer (inline or in a task) until it sent its columns, or ended without them.
async fn started(
    work: impl Future<Output = Produced> + Send + 'static,
    inline: bool,
    mut head_rx: oneshot::Receiver<Arc<Vec<ColumnDef>>>,
    row_rx: mpsc::Receiver<Batch>,
    shard: ShardId,
    hands_back: bool,
) -> Started {
    let mut producer = if inline {
        Producer::Inline(Box::pin(work))
    } else {
        Producer::Task(tokio::spawn(work))
    };
    let columns = tokio::select! {
        biased;
        head = &mut head_rx => head.ok(),
        // An inline producer that ended first sent its columns before its rows, if any.
        () = producer.run() => head_rx.try_recv().ok(),
    };
    if let Some(columns) = columns {
        return Started::Rows(RowStream {
            columns,
            rows: row_rx,
            batch: Vec::new().into_iter(),
            done: Done::Shard(shard, producer, hands_back),
        });
    }
    // No columns were sent: the producer has ended (or is ending) with a non-row answer or an
    // error.
    match producer.end().await {
        (conn, Ok(End::Ok(info))) => Started::Done(conn, Ok(Outcome::Ok(info))),
        (conn, Ok(End::Rows(_))) => Started::Done(
            conn,
            Err(ProxyError::Transaction("rows without columns".into())),
        ),
        (conn, Err(e)) => Started::Done(conn, Err(e)),
    }
}

/// Runs `job` on `conn`: sends the columns, then the rows in batches of what has arrived (at
/// most [`BATCH`]), flushed to the reader before each wait. A reader that went away stops
/// nothing: the rest is read and dropped, so that the connection can be used again.
async fn wire_rows(
    conn: &mut WireConn,
    job: &Job,
    step: &Step<'_>,
    head: oneshot::Sender<Arc<Vec<ColumnDef>>>,
    out: mpsc::Sender<Batch>,
) -> Result<End> {
    let binary = job.params.is_some();
    let answer = super::send_job(conn, job, step).await?;
    let end = match answer {
        Answer::Rows(columns) => {
            let _ = head.send(columns);
            let mut gone = false;
            loop {
                let mut rows = RawRows::default();
                let r = step.wait(conn.read_rows(&mut rows, BATCH)).await;
                if !gone && !rows.is_empty() {
                    gone = out.send(Ok(Rows::Raw { rows, binary })).await.is_err();
                }
                match r {
                    Ok(Some(end)) => break End::Rows((end.warnings, Vec::new())),
                    Ok(None) => {}
                    Err(e) => {
                        if !gone {
                            let _ = out.send(Err(e.same())).await;
                        }
                        return Err(e);
                    }
                }
            }
        }
        Answer::Done(ok) => End::Ok(ok.into()),
    };
    // Only the first result is relayed (as for mysql_async's connections): the rest is read.
    if conn.more_results() {
        step.wait(conn.drain()).await?;
    }
    Ok(match end {
        End::Rows((count, _)) => End::Rows((count, wire_warnings(conn, count, step).await?)),
        End::Ok(mut info) => {
            info.warning_list = wire_warnings(conn, info.warnings, step).await?;
            End::Ok(info)
        }
    })
}

/// The `SHOW WARNINGS` rows of the statement that just ran on `conn` (its last `count`): warnings
/// live on the connection that produced them, which the session may not use next, so they are
/// fetched right after the statement, for a later SHOW WARNINGS.
pub(crate) async fn wire_warnings(
    conn: &mut WireConn,
    count: u16,
    step: &Step<'_>,
) -> Result<Vec<Vec<Value>>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let mut rows = RawRows::default();
    let columns = match step.wait(conn.query("SHOW WARNINGS")).await? {
        Answer::Rows(c) => c.len(),
        Answer::Done(_) => return Ok(Vec::new()),
    };
    while step
        .wait(conn.read_rows(&mut rows, usize::MAX))
        .await?
        .is_none()
    {}
    let mut all = rows.text_values(columns).map_err(ProxyError::Malformed)?;
    // The statement's own are the last `count`.
    Ok(all.split_off(all.len().saturating_sub(usize::from(count))))
}
