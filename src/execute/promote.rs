//! Promoting a replica to primary (`PROMOTE REPLICA [n] OF SHARD name`, admin users only).
//!
//! 1. The candidate: the replica named, or the one that has received the most (`Gtid_IO_Pos`).
//! 2. What it must have applied first, so that no acknowledged write is lost. The proxy stops
//!    sending the shard's primary anything new (a fence: sessions get 1290 and may retry). If
//!    the old primary still answers, it is made read-only, the proxy account's other sessions
//!    on it are ended (that account may write through `read_only`), and its
//!    `@@gtid_binlog_pos` is the target (a switchover); if not, everything the candidate has
//!    received (a failover: a MariaDB primary that is shut down first sends its connected
//!    replicas every transaction it wrote). The candidate
//!    applies it (`MASTER_GTID_WAIT`, bounded) or the promotion is abandoned with nothing
//!    changed (the old primary is made writable again).
//! 3. The candidate stops replicating (`STOP SLAVE; RESET SLAVE ALL`) and becomes writable.
//! 4. The other replicas replicate from it (`CHANGE MASTER TO MASTER_HOST=.., MASTER_PORT=..,
//!    MASTER_USE_GTID = slave_pos`, keeping their replication account).
//! 5. The proxy routes the shard to the new primary at once (see
//!    [`crate::backend::Backends::replace_shard`]); the caller records it in the topology
//!    file. The old primary leaves the shard: if it comes back it is not used.

use super::gtid::Gtid;
use crate::backend::wire::pool::PooledWire;
use crate::backend::{Backends, Server, Setup};
use crate::config::ShardId;
use crate::error::{ProxyError, Result};
use std::time::Duration;

/// What a promotion did.
#[derive(Debug)]
pub struct Promotion {
    /// The index (before the promotion) of the replica that became the primary.
    pub replica: usize,
    /// Its URL.
    pub primary: String,
    /// The shard's replicas now (URLs).
    pub replicas: Vec<String>,
    /// The position the new primary had applied before it took writes.
    pub applied: Gtid,
    /// Whether the old primary answered (it was made read-only and left the shard).
    pub old_primary_answered: bool,
    /// Replicas that could not be repointed, with the reason.
    pub not_repointed: Vec<(String, String)>,
}

fn failed(shard: &str, what: impl std::fmt::Display) -> ProxyError {
    ProxyError::Sql {
        code: 1105,
        state: "HY000",
        message: format!("PROMOTE on shard {shard} failed: {what}"),
    }
}

async fn bounded<T>(
    limit: Duration,
    what: &str,
    f: impl std::future::Future<Output = Result<T>>,
) -> std::result::Result<T, String> {
    match tokio::time::timeout(limit, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!("{what}: no answer within {} ms", limit.as_millis())),
    }
}

/// A replica's received and applied positions.
struct ReplicaPos {
    conn: PooledWire,
    received: Gtid,
}

async fn replica_pos(
    backends: &Backends,
    server: Server,
    limit: Duration,
) -> std::result::Result<ReplicaPos, String> {
    let mut conn = match tokio::time::timeout(
        limit,
        backends.wire_on(server, None, false, &Setup::from([])),
    )
    .await
    {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return Err(e.to_string()),
        Err(_) => return Err("no connection".into()),
    };
    let (columns, rows) = bounded(
        limit,
        "SHOW SLAVE STATUS",
        conn.query_table("SHOW SLAVE STATUS"),
    )
    .await?;
    let row = rows
        .into_iter()
        .next()
        .ok_or("it is not replicating (SHOW SLAVE STATUS is empty)")?;
    let text = |name: &str| crate::backend::wire::named_text(&columns, &row, name);
    let mut received = Gtid::parse(&text("Gtid_IO_Pos")).unwrap_or_default();
    received.advance(&Gtid::parse(&text("Gtid_Slave_Pos")).unwrap_or_default());
    Ok(ReplicaPos { conn, received })
}

/// Lifts the fence on the shard's primary when the promotion ends, however it ends.
struct Unfence<'a> {
    backends: &'a Backends,
    shard: ShardId,
}

impl Drop for Unfence<'_> {
    fn drop(&mut self) {
        self.backends.fence(self.shard, false);
    }
}

/// Ends every other session of the connection's account on its server (`KILL CONNECTION`;
/// without the PROCESS privilege an account sees only its own sessions, which is what is
/// wanted) and waits until they are gone.
async fn end_other_sessions(
    c: &mut PooledWire,
    limit: Duration,
) -> std::result::Result<(), String> {
    let list = "SELECT ID FROM information_schema.PROCESSLIST \
                WHERE USER = SUBSTRING_INDEX(CURRENT_USER(), '@', 1) AND ID <> CONNECTION_ID()";
    for _ in 0..40 {
        let rows = bounded(limit, "listing the proxy's sessions", c.query_rows(list)).await?;
        if rows.is_empty() {
            return Ok(());
        }
        let ids = rows.into_iter().filter_map(|r| match r.into_iter().next() {
            Some(mysql_async::Value::Bytes(b)) => String::from_utf8(b).ok(),
            _ => None,
        });
        for id in ids {
            // 1094 (unknown thread): it ended meanwhile.
            let _ = c.query_drop(format!("KILL CONNECTION {id}")).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err("the proxy's sessions on the old primary did not end within 2 s".into())
}

/// `host`, `port` of a `mysql://user[:password]@host:port` URL.
fn host_port(url: &str) -> Option<(String, u16)> {
    let server = crate::config::url::check_mysql_url(url).ok()?;
    let (host, port) = server.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Some((host.to_string(), port.parse().ok()?))
}

/// Promotes replica `choice` of `shard` (the most advanced when `None`). `wait` bounds each
/// step that waits on replication.
pub async fn promote(
    backends: &Backends,
    shard: ShardId,
    choice: Option<usize>,
    wait: Duration,
) -> Result<Promotion> {
    let name = backends.shard_name(shard).to_string();
    let limit = backends.timeout().min(Duration::from_secs(5));
    let n = backends.replica_count(shard);
    if n == 0 {
        return Err(failed(&name, "the shard has no replica"));
    }
    if let Some(c) = choice
        && c >= n
    {
        return Err(failed(
            &name,
            format!("it has {n} replica(s), numbered from 0; there is no replica {c}"),
        ));
    }
    // 1. The candidate.
    let mut seen = Vec::new();
    for r in 0..n {
        let server = Server {
            shard,
            replica: Some(r),
        };
        seen.push(replica_pos(backends, server, limit).await);
    }
    let candidate = match choice {
        Some(c) => match &seen[c] {
            Ok(_) => c,
            Err(e) => return Err(failed(&name, format!("replica {c}: {e}"))),
        },
        None => {
            let mut best: Option<usize> = None;
            for (r, s) in seen.iter().enumerate() {
                let Ok(s) = s else { continue };
                best = match best {
                    Some(b) => match &seen[b] {
                        Ok(bs) if bs.received.covers(&s.received) => Some(b),
                        _ => Some(r),
                    },
                    None => Some(r),
                };
            }
            best.ok_or_else(|| {
                let why: Vec<String> = seen
                    .iter()
                    .enumerate()
                    .filter_map(|(r, s)| s.as_ref().err().map(|e| format!("replica {r}: {e}")))
                    .collect();
                failed(&name, format!("no replica answers ({})", why.join("; ")))
            })?
        }
    };
    // 2. What it must apply first.
    let old = tokio::time::timeout(limit, backends.wire(shard, None, false)).await;
    let mut old_primary = match old {
        Ok(Ok(c)) => Some(c),
        _ => None,
    };
    // The proxy sends the shard's primary nothing new from here on (sessions get 1290, retry).
    backends.fence(shard, true);
    let _unfence = Unfence { backends, shard };
    let target = match &mut old_primary {
        Some(c) => {
            bounded(
                limit,
                "SET GLOBAL read_only = 1 on the old primary",
                c.query_drop("SET GLOBAL read_only = 1"),
            )
            .await
            .map_err(|e| failed(&name, e))?;
            // The proxy's own account may write through read_only (READ_ONLY ADMIN): end its
            // other sessions there, so that what they were writing is committed or rolled
            // back before the position is read.
            if let Err(e) = end_other_sessions(c, limit).await {
                let _ = c.query_drop("SET GLOBAL read_only = 0").await;
                return Err(failed(&name, format!("{e}; nothing was changed")));
            }
            let pos = bounded(
                limit,
                "reading the old primary's position",
                c.query_first("SELECT @@gtid_binlog_pos"),
            )
            .await
            .map_err(|e| failed(&name, e))?;
            Gtid::parse(&String::from_utf8_lossy(pos.as_deref().unwrap_or_default()))
                .unwrap_or_default()
        }
        None => match &seen[candidate] {
            Ok(s) => s.received.clone(),
            Err(e) => return Err(failed(&name, e)),
        },
    };
    let mut cand = match seen.swap_remove(candidate) {
        Ok(s) => s.conn,
        Err(e) => return Err(failed(&name, e)),
    };
    let waited = bounded(
        wait + limit,
        "waiting for the replica to apply what it received",
        cand.query_first(format!(
            "SELECT MASTER_GTID_WAIT('{target}', {:.3})",
            wait.as_secs_f64()
        )),
    )
    .await;
    if waited.as_ref().map(|w| w.as_deref()) != Ok(Some(b"0".as_slice())) {
        if let Some(c) = &mut old_primary {
            // Nothing changed: the old primary takes writes again.
            let _ = c.query_drop("SET GLOBAL read_only = 0").await;
        }
        let why = match waited {
            Err(e) => e,
            Ok(_) => format!(
                "replica {candidate} did not apply GTID {target} within {} ms",
                wait.as_millis()
            ),
        };
        return Err(failed(&name, format!("{why}; nothing was changed")));
    }
    // 3. The candidate becomes the primary.
    let became = bounded(
        limit,
        "making the replica a primary",
        cand.query_drop("STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = 0"),
    )
    .await;
    if let Err(e) = became {
        // Undo what can be undone: the replica replicates again (unless its configuration
        // was already reset), the old primary takes writes again.
        let restarted = bounded(limit, "START SLAVE", cand.query_drop("START SLAVE")).await;
        let reopened = match &mut old_primary {
            Some(c) => bounded(
                limit,
                "SET GLOBAL read_only = 0",
                c.query_drop("SET GLOBAL read_only = 0"),
            )
            .await
            .map(drop),
            None => Ok(()),
        };
        let state = match (restarted, reopened) {
            (Ok(_), Ok(())) => "nothing was changed".to_string(),
            (r, o) => format!(
                "CHECK THE SHARD BY HAND: replica {candidate} {}, the old primary {}",
                r.map_or_else(
                    |e| format!("does not replicate ({e})"),
                    |_| "replicates".into()
                ),
                o.map_or_else(
                    |e| format!("may be read-only ({e})"),
                    |_| "takes writes".into()
                ),
            ),
        };
        return Err(failed(&name, format!("{e}; {state}")));
    }
    let urls = backends.urls(shard);
    let primary = urls.1.get(candidate).cloned().unwrap_or_default();
    let (host, port) = host_port(&primary)
        .ok_or_else(|| failed(&name, format!("cannot read host and port from {primary}")))?;
    // 4. The other replicas follow it.
    let mut replicas = Vec::new();
    let mut not_repointed = Vec::new();
    for (r, url) in urls.1.iter().enumerate() {
        if r == candidate {
            continue;
        }
        replicas.push(url.clone());
        let server = Server {
            shard,
            replica: Some(r),
        };
        let sql = format!(
            "STOP SLAVE; CHANGE MASTER TO MASTER_HOST = '{host}', MASTER_PORT = {port}, MASTER_USE_GTID = slave_pos; START SLAVE"
        );
        let done = match tokio::time::timeout(
            limit,
            backends.wire_on(server, None, false, &Setup::from([])),
        )
        .await
        {
            Ok(Ok(mut c)) => bounded(limit, "CHANGE MASTER", c.query_drop(sql)).await,
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("no connection".into()),
        };
        if let Err(e) = done {
            tracing::warn!(
                "shard {name}: replica {r} ({url}) could not follow the new primary: {e}"
            );
            not_repointed.push((
                crate::config::url::check_mysql_url(url).unwrap_or_default(),
                e,
            ));
        }
    }
    // 5. The proxy's routing.
    backends.replace_shard(shard, &primary, &replicas);
    Ok(Promotion {
        replica: candidate,
        primary,
        replicas,
        applied: target,
        old_primary_answered: old_primary.is_some(),
        not_repointed,
    })
}
