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
#[derive(Clone, Debug)]
pub enum Outcome {
    Ok(OkInfo),
    Rows(RowSet),
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
