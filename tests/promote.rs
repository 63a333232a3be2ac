//! `PROMOTE REPLICA [n] OF SHARD name` against the sandbox's real GTID replication, on its own
//! cluster (1 shard: a primary and 2 replicas), with writers running through the proxy:
//! a switchover (the primary answers: it is made read-only, the chosen replica takes over,
//! the other replica follows it), then a failover (the new primary is stopped: the remaining
//! replica takes over). After each, every write the proxy acknowledged is on the new primary,
//! checked on the server itself; a restarted proxy keeps the new primary (topology file), and
//! only admins may promote.

mod common;

// The harness's helpers only: this test has its own cluster (common's starts on first use).
use common::{code, start_proxy};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder, Row};
use shardgate::config::Rules;
use shardgate::sandbox::{Sandbox, SandboxSpec};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const DB: &str = "promo";

fn rules(sb: &Sandbox) -> Rules {
    let replicas: Vec<String> = sb
        .proxy_replica_urls(0)
        .iter()
        .map(|u| format!("\"{u}\""))
        .collect();
    let text = format!(
        r#"listen = "127.0.0.1:0"
[proxy]
backend_timeout_ms = 3000
health_check_interval_ms = 200
topology_file = "{topology}"

[[users]]
name = "app"
password = "app"

[[users]]
name = "admin"
password = "admin"
admin = true

[[shards]]
name = "s0"
primary = "{primary}"
replicas = [{replicas}]

[[schemas]]
name = "{DB}"
default_shard = "s0"
"#,
        topology = sb.dir.join("topology.toml").display(),
        primary = sb.proxy_primary_url(0),
        replicas = replicas.join(", "),
    );
    Rules::from_toml(&text, "promote.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

async fn client(addr: SocketAddr, user: &str) -> Conn {
    let opts = OptsBuilder::default()
        .ip_or_hostname(addr.ip().to_string())
        .tcp_port(addr.port())
        .user(Some(user))
        .pass(Some(user))
        .db_name(Some(DB))
        .prefer_socket(false);
    Conn::new(opts).await.expect("connect to the proxy")
}

/// A root connection to server `port` directly.
async fn server(port: u16) -> Conn {
    let opts = Opts::from_url(&format!("mysql://root@127.0.0.1:{port}")).expect("url");
    Conn::new(OptsBuilder::from_opts(opts).prefer_socket(false))
        .await
        .expect("direct connection")
}

fn port(sb: &Sandbox, replica: Option<usize>) -> u16 {
    sb.servers
        .iter()
        .find(|s| s.shard == 0 && s.replica == replica)
        .expect("server")
        .port
}

async fn ids_on(port: u16) -> BTreeSet<i64> {
    let mut c = server(port).await;
    let ids: Vec<i64> = c
        .query(format!("SELECT id FROM {DB}.t"))
        .await
        .expect("ids");
    ids.into_iter().collect()
}

/// Writers inserting through the proxy until `stop`; each returns the ids it was told were
/// written (OK received), and how many inserts failed.
fn writers(
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    base: i64,
) -> Vec<tokio::task::JoinHandle<(Vec<i64>, u32)>> {
    (0..4)
        .map(|w| {
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut acked = Vec::new();
                let mut failed = 0;
                let mut c: Option<Conn> = None;
                let mut i = 0i64;
                while !stop.load(Ordering::Relaxed) {
                    let id = base + w * 100_000 + i;
                    i += 1;
                    let conn = match c.as_mut() {
                        Some(c) => c,
                        None => c.insert(client(addr, "app").await),
                    };
                    match conn
                        .query_drop(format!("INSERT INTO t (id, w) VALUES ({id}, {w})"))
                        .await
                    {
                        Ok(()) => acked.push(id),
                        Err(e) => {
                            failed += 1;
                            if !matches!(e, mysql_async::Error::Server(_)) {
                                c = None; // the session was lost: reconnect
                            }
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
                (acked, failed)
            })
        })
        .collect()
}

async fn collect(ws: Vec<tokio::task::JoinHandle<(Vec<i64>, u32)>>) -> (BTreeSet<i64>, u32) {
    let mut acked = BTreeSet::new();
    let mut failed = 0;
    for w in ws {
        let (a, f) = w.await.expect("writer");
        acked.extend(a);
        failed += f;
    }
    (acked, failed)
}

/// `PROMOTE ...` as admin: the answer's one row.
async fn promote(addr: SocketAddr, sql: &str) -> Row {
    let mut admin = client(addr, "admin").await;
    let rows: Vec<Row> = admin.query(sql).await.expect("PROMOTE");
    assert_eq!(rows.len(), 1);
    rows.into_iter().next().expect("row")
}

fn text(row: &Row, col: &str) -> Option<String> {
    row.get_opt::<Option<String>, _>(col)
        .and_then(Result::ok)
        .flatten()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switchover_then_failover_lose_no_acknowledged_write() {
    let sb = Sandbox::up(&SandboxSpec::temp(1, 2)).expect("sandbox up");
    let (p, r0, r1) = (port(&sb, None), port(&sb, Some(0)), port(&sb, Some(1)));
    sb.grant_schema(DB).expect("grant");
    sb.query(0, None, &format!("CREATE DATABASE {DB}"))
        .expect("create db");
    sb.query(
        0,
        None,
        &format!("CREATE TABLE {DB}.t (id BIGINT PRIMARY KEY, w INT NOT NULL)"),
    )
    .expect("create table");
    let rules = rules(&sb);
    let addr = start_proxy(rules.clone()).await;

    // Only admins promote; bad forms and names are refused with nothing changed.
    let mut app = client(addr, "app").await;
    let e = app
        .query_drop("PROMOTE REPLICA OF SHARD s0")
        .await
        .expect_err("app is no admin");
    assert_eq!(code(&e), 1227, "{e}");
    let mut admin = client(addr, "admin").await;
    let e = admin
        .query_drop("PROMOTE REPLICA OF s0")
        .await
        .expect_err("syntax");
    assert_eq!(code(&e), 1064, "{e}");
    let e = admin
        .query_drop("PROMOTE REPLICA OF SHARD nope")
        .await
        .expect_err("no such shard");
    assert_eq!(code(&e), 1105, "{e}");
    assert!(e.to_string().contains("s0"), "{e}");
    let e = admin
        .query_drop("PROMOTE REPLICA 2 OF SHARD s0")
        .await
        .expect_err("no replica 2");
    assert!(e.to_string().contains("no replica 2"), "{e}");
    let ro: Option<i64> = server(p)
        .await
        .query_first("SELECT @@read_only")
        .await
        .expect("read_only");
    assert_eq!(ro, Some(0), "a refused promotion changed nothing");

    // 1. Switchover to replica 1 while writers run: the primary answers.
    let stop = Arc::new(AtomicBool::new(false));
    let ws = writers(addr, stop.clone(), 0);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let row = promote(addr, "PROMOTE REPLICA 1 OF SHARD s0").await;
    assert_eq!(text(&row, "promoted_replica").as_deref(), Some("1"));
    assert_eq!(
        text(&row, "primary"),
        Some(format!("127.0.0.1:{r1}")),
        "{row:?}"
    );
    assert!(
        text(&row, "old_primary").is_some_and(|t| t.starts_with("answered")),
        "{row:?}"
    );
    assert_eq!(text(&row, "replicas_not_following"), None, "{row:?}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    stop.store(true, Ordering::Relaxed);
    let (acked, _) = collect(ws).await;
    assert!(acked.len() > 20, "writers made progress: {}", acked.len());
    let on_new = ids_on(r1).await;
    let lost: Vec<&i64> = acked.difference(&on_new).collect();
    assert!(
        lost.is_empty(),
        "acknowledged writes missing on the new primary: {lost:?}"
    );
    let on_old = ids_on(p).await;
    assert!(
        acked.iter().any(|id| !on_old.contains(id)),
        "writes went on, on the new primary, after the switchover"
    );
    // The old primary is read-only and out; replica 0 follows the new primary and has it all.
    let mut old = server(p).await;
    let ro: Option<i64> = old.query_first("SELECT @@read_only").await.expect("ro");
    assert_eq!(ro, Some(1), "the old primary was made read-only");
    let mut new = server(r1).await;
    let ro: Option<i64> = new.query_first("SELECT @@read_only").await.expect("ro");
    assert_eq!(ro, Some(0), "the new primary is writable");
    let status: Option<Row> = new.query_first("SHOW SLAVE STATUS").await.expect("status");
    assert!(status.is_none(), "the new primary replicates from no one");
    let pos: String = new
        .query_first("SELECT @@gtid_binlog_pos")
        .await
        .expect("pos")
        .expect("pos");
    let mut follower = server(r0).await;
    let status: Row = follower
        .query_first("SHOW SLAVE STATUS")
        .await
        .expect("status")
        .expect("replica 0 replicates");
    assert_eq!(
        status.get::<u16, _>("Master_Port"),
        Some(r1),
        "replica 0 follows the new primary"
    );
    let waited: Option<i64> = follower
        .query_first(format!("SELECT MASTER_GTID_WAIT('{pos}', 30)"))
        .await
        .expect("wait");
    assert_eq!(
        waited,
        Some(0),
        "replica 0 applies the new primary's writes"
    );
    assert_eq!(ids_on(r0).await, on_new, "replica 0 has every row");

    // 2. Failover: the new primary stops; replica 0 (the only one left) takes over.
    let stop = Arc::new(AtomicBool::new(false));
    let ws = writers(addr, stop.clone(), 1_000_000);
    tokio::time::sleep(Duration::from_millis(600)).await;
    sb.stop_server(0, Some(1)).expect("stop the primary");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let row = promote(addr, "PROMOTE REPLICA OF SHARD s0").await;
    assert_eq!(
        text(&row, "primary"),
        Some(format!("127.0.0.1:{r0}")),
        "{row:?}"
    );
    assert!(
        text(&row, "old_primary").is_some_and(|t| t.starts_with("did not answer")),
        "{row:?}"
    );
    let topology = sb.dir.join("topology.toml");
    assert_eq!(
        text(&row, "recorded_in"),
        Some(topology.display().to_string())
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    stop.store(true, Ordering::Relaxed);
    let (acked2, _) = collect(ws).await;
    let on_new = ids_on(r0).await;
    let lost: Vec<&i64> = acked
        .union(&acked2)
        .filter(|id| !on_new.contains(id))
        .collect();
    assert!(
        lost.is_empty(),
        "acknowledged writes missing after the failover: {lost:?}"
    );
    assert!(
        acked2.iter().any(|id| *id >= 1_000_000),
        "writes went on after the failover"
    );

    // 3. A restarted proxy keeps the promoted primary, even with the rules' primary back up.
    let recorded = std::fs::read_to_string(&topology).expect("topology file");
    assert!(recorded.contains(&format!("127.0.0.1:{r0}")), "{recorded}");
    let addr2 = start_proxy(rules).await;
    let mut c = client(addr2, "app").await;
    c.query_drop("INSERT INTO t (id, w) VALUES (9999999, 9)")
        .await
        .expect("write through a restarted proxy");
    assert!(ids_on(r0).await.contains(&9_999_999));
    assert!(!ids_on(p).await.contains(&9_999_999));
    let n: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM t")
        .await
        .expect("count");
    assert_eq!(n, Some(on_new.len() as i64 + 1));
    drop(sb);
}
