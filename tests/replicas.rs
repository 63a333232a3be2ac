//! Reads on replicas, against the sandbox's real GTID replication (2 shards x 1 replica):
//! where reads land (each server's own `Com_select`), read-your-writes while replication is
//! slowed and stopped at random, `causal = "global"` across two proxies, a replica that stops
//! or stops replicating, and a shard whose primary is down.
//!
//! The tests change replication and stop servers of the one cluster: they run one at a time.

mod common;

use common::*;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const TABLES: &str = r#"
[[schemas.tables]]
names = ["kv"]
algorithm = "hash"
key = "id"
key_type = "int"
"#;

async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// A root connection to shard `s`'s primary (`None`) or replica `r`.
async fn server(s: usize, replica: Option<usize>) -> Conn {
    let url = match replica {
        None => cluster().primary_url(s),
        Some(r) => cluster().replica_urls(s)[r].clone(),
    };
    let opts = Opts::from_url(&url).expect("url");
    Conn::new(OptsBuilder::from_opts(opts).prefer_socket(false))
        .await
        .expect("direct connection")
}

/// `Com_select` of every server: [s0 primary, s0 replica, s1 primary, s1 replica].
async fn selects() -> [u64; 4] {
    let mut out = [0; 4];
    for (i, (s, r)) in [(0, None), (0, Some(0)), (1, None), (1, Some(0))]
        .into_iter()
        .enumerate()
    {
        let mut c = server(s, r).await;
        let row: Option<(String, u64)> = c
            .query_first("SHOW GLOBAL STATUS LIKE 'Com_select'")
            .await
            .expect("status");
        out[i] = row.expect("Com_select").1;
        c.disconnect().await.ok();
    }
    out
}

/// `SHOW SHARDS` as text (NULL as "").
async fn show_shards(admin: &mut Conn) -> Vec<Vec<String>> {
    let rows: Vec<mysql_async::Row> = admin.query("SHOW SHARDS").await.expect("SHOW SHARDS");
    rows.into_iter()
        .map(|r| {
            (0..r.len())
                .map(|i| match r.as_ref(i) {
                    Some(mysql_async::Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
                    Some(mysql_async::Value::NULL) | None => String::new(),
                    Some(v) => v.as_sql(true).trim_matches('\'').to_string(),
                })
                .collect()
        })
        .collect()
}

/// Selects on primaries and on replicas between two [`selects`] (without the one the second
/// call's own connection runs as it connects).
fn delta(before: [u64; 4], after: [u64; 4]) -> (u64, u64) {
    let d: Vec<u64> = (0..4).map(|i| after[i] - before[i] - 1).collect();
    (d[0] + d[2], d[1] + d[3])
}

/// A proxy on a fresh `db` with table `kv` holding ids 0..n (v = 0), replicas in sync.
async fn kv_proxy(db: &str, proxy: &str, n: i64) -> SocketAddr {
    // Whatever an earlier failed test left: both replicas replicate, undelayed.
    set_delay(0).await;
    fresh_schema(db).await;
    let addr = start_proxy(rules_with(db, proxy, TABLES)).await;
    let mut c = client(addr, db).await;
    c.query_drop("CREATE TABLE kv (id INT PRIMARY KEY, v INT NOT NULL)")
        .await
        .expect("create");
    let values: Vec<String> = (0..n).map(|i| format!("({i}, 0)")).collect();
    c.query_drop(format!("INSERT INTO kv VALUES {}", values.join(",")))
        .await
        .expect("insert");
    for s in 0..2 {
        cluster().sync_replicas(s).expect("replicas in sync");
    }
    addr
}

/// Waits until a read of shard `s` from a session that never wrote lands on its replica.
async fn until_replica_reads(addr: SocketAddr, db: &str, s: usize, within: Duration) {
    let start = Instant::now();
    let mut c = client(addr, db).await;
    c.query_drop("SET shardgate_causal = 'none'")
        .await
        .expect("set");
    while start.elapsed() < within {
        let mut r = server(s, Some(0)).await;
        let before: (String, u64) = r
            .query_first("SHOW GLOBAL STATUS LIKE 'Com_select'")
            .await
            .unwrap()
            .unwrap();
        for _ in 0..5 {
            let _: Option<i64> = c
                .query_first(format!("SELECT v FROM kv WHERE id = {s}"))
                .await
                .expect("read");
        }
        let after: (String, u64) = r
            .query_first("SHOW GLOBAL STATUS LIKE 'Com_select'")
            .await
            .unwrap()
            .unwrap();
        if after.1 - before.1 >= 5 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("reads of shard {s} never reached its replica within {within:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_land_on_replicas_and_everything_else_on_primaries() {
    let _g = serial().await;
    let db = "rep_land";
    let addr = kv_proxy(db, "backend_timeout_ms = 3000\ncausal = \"session\"", 100).await;
    until_replica_reads(addr, db, 0, Duration::from_secs(10)).await;
    until_replica_reads(addr, db, 1, Duration::from_secs(10)).await;

    // A session that has not written: point reads and scatter reads go to replicas.
    let mut c = client(addr, db).await;
    let before = selects().await;
    for i in 0..400 {
        let v: Option<i64> = c
            .query_first(format!("SELECT v FROM kv WHERE id = {}", i % 100))
            .await
            .expect("point read");
        assert_eq!(v, Some(0));
    }
    for _ in 0..20 {
        let n: Option<i64> = c
            .query_first("SELECT COUNT(*) FROM kv")
            .await
            .expect("scatter read");
        assert_eq!(n, Some(100));
    }
    // The binary protocol too.
    let stmt = c
        .prep("SELECT v FROM kv WHERE id = ?")
        .await
        .expect("prepare");
    for i in 0..40 {
        let v: Option<i64> = c.exec_first(&stmt, (i,)).await.expect("execute");
        assert_eq!(v, Some(0));
    }
    let (on_primaries, on_replicas) = delta(before, selects().await);
    let reads = 400 + 20 * 2 + 40;
    assert!(
        on_replicas >= reads * 9 / 10,
        "only {on_replicas} of {reads} reads reached the replicas ({on_primaries} on primaries)"
    );
    assert!(
        on_primaries <= reads / 10,
        "{on_primaries} reads reached the primaries"
    );

    // What must not go to a replica, goes to the primary.
    let before = selects().await;
    for _ in 0..10 {
        c.query_drop("/* shardgate:primary */ SELECT v FROM kv WHERE id = 1")
            .await
            .expect("hinted read");
        c.query_drop("SELECT v FROM kv WHERE id = 1 FOR UPDATE")
            .await
            .expect("locking read");
        c.query_drop("/* shardgate:primary */ SELECT COUNT(*) FROM kv")
            .await
            .expect("hinted scatter read");
    }
    c.query_drop("START TRANSACTION").await.unwrap();
    for _ in 0..10 {
        c.query_drop("SELECT v FROM kv WHERE id = 1").await.unwrap();
    }
    c.query_drop("COMMIT").await.unwrap();
    c.query_drop("SET shardgate_read_from = 'primary'")
        .await
        .unwrap();
    let mode: Option<String> = c.query_first("SELECT @@shardgate_read_from").await.unwrap();
    assert_eq!(mode.as_deref(), Some("primary"));
    for _ in 0..10 {
        c.query_drop("SELECT v FROM kv WHERE id = 1").await.unwrap();
    }
    // ... and the replica hint takes a statement back to the replicas (in a session that has
    // not written: the locking reads above count as writes for read-your-writes).
    let mut c2 = client(addr, db).await;
    c2.query_drop("SET shardgate_read_from = 'primary'")
        .await
        .unwrap();
    for _ in 0..10 {
        c2.query_drop("SELECT /* shardgate:replica */ v FROM kv WHERE id = 3")
            .await
            .unwrap();
    }
    let after = selects().await;
    let (on_primaries, _) = delta(before, after);
    assert!(
        on_primaries >= 60,
        "locked, hinted, transactional and read_from=primary reads: {on_primaries} of 60 on the primaries"
    );
    assert!(
        after[3] - before[3] > 10,
        "the replica hint did not reach shard 1's replica"
    );
    let bad = c
        .query_drop("SET shardgate_read_from = 'nowhere'")
        .await
        .unwrap_err();
    assert_eq!(code(&bad), 1231);
}

/// Runs `sessions` clients over ids owned by each; every read must see the session's own
/// last write. Returns the number of stale reads seen.
async fn own_writes(
    addr: SocketAddr,
    db: &str,
    causal: &str,
    sessions: i64,
    rounds: usize,
) -> usize {
    let mut tasks = Vec::new();
    for k in 0..sessions {
        let db = db.to_string();
        let causal = causal.to_string();
        tasks.push(tokio::spawn(async move {
            let mut c = client(addr, &db).await;
            c.query_drop(format!("SET shardgate_causal = '{causal}'"))
                .await
                .expect("set causal");
            let ids: Vec<i64> = (0..4).map(|j| k * 4 + j).collect();
            let mut mine = std::collections::HashMap::new();
            for &id in &ids {
                let v: Option<i64> = c
                    .query_first(format!(
                        "/* shardgate:primary */ SELECT v FROM kv WHERE id = {id}"
                    ))
                    .await
                    .expect("read");
                mine.insert(id, v.expect("row"));
            }
            let mut stale = 0;
            for i in 0..rounds {
                let id = ids[i % ids.len()];
                if i % 3 == 0 {
                    c.query_drop(format!("UPDATE kv SET v = v + 1 WHERE id = {id}"))
                        .await
                        .expect("update");
                    *mine.get_mut(&id).unwrap() += 1;
                }
                if i % 7 == 0 {
                    // A pause now and then lets the checker see the replica catch up.
                    tokio::time::sleep(Duration::from_millis(30)).await;
                }
                let v: Option<i64> = c
                    .query_first(format!("SELECT v FROM kv WHERE id = {id}"))
                    .await
                    .expect("read");
                if v != Some(mine[&id]) {
                    stale += 1;
                }
            }
            stale
        }));
    }
    let mut stale = 0;
    for t in tasks {
        stale += t.await.expect("session task");
    }
    stale
}

/// Stops and starts the SQL thread of both replicas at random until `stop`.
fn chaos(stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut r0 = server(0, Some(0)).await;
        let mut r1 = server(1, Some(0)).await;
        let mut turn = 0u64;
        while !stop.load(Ordering::Relaxed) {
            turn += 1;
            let c = if turn.is_multiple_of(2) {
                &mut r0
            } else {
                &mut r1
            };
            c.query_drop("STOP SLAVE SQL_THREAD")
                .await
                .expect("stop sql thread");
            tokio::time::sleep(Duration::from_millis(50 + rand::random::<u64>() % 250)).await;
            c.query_drop("START SLAVE SQL_THREAD")
                .await
                .expect("start sql thread");
            tokio::time::sleep(Duration::from_millis(rand::random::<u64>() % 300)).await;
        }
        for c in [&mut r0, &mut r1] {
            c.query_drop("START SLAVE").await.ok();
        }
    })
}

async fn set_delay(secs: u32) {
    for s in 0..2 {
        let mut c = server(s, Some(0)).await;
        c.query_drop(format!(
            "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = {secs}; START SLAVE"
        ))
        .await
        .expect("set MASTER_DELAY");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_your_writes_while_replication_stalls() {
    let _g = serial().await;
    let db = "rep_ryw";
    let proxy = "backend_timeout_ms = 3000\ncausal = \"session\"\nhealth_check_interval_ms = 100\nmax_replica_lag_s = 30";
    let addr = kv_proxy(db, proxy, 64).await;
    until_replica_reads(addr, db, 0, Duration::from_secs(10)).await;

    // The SQL threads stop and start at random: never a stale read, and replicas still serve.
    let before = selects().await;
    let stop = Arc::new(AtomicBool::new(false));
    let chaos_task = chaos(stop.clone());
    let stale = own_writes(addr, db, "session", 8, 400).await;
    stop.store(true, Ordering::Relaxed);
    chaos_task.await.expect("chaos");
    let (_, on_replicas) = delta(before, selects().await);
    assert_eq!(stale, 0, "stale reads in causal = 'session'");
    assert!(
        on_replicas >= 100,
        "only {on_replicas} reads went to replicas: the test proves nothing"
    );

    // Replication delayed by 2 s: still exact for the writer...
    set_delay(2).await;
    let stale = own_writes(addr, db, "session", 4, 150).await;
    assert_eq!(
        stale, 0,
        "stale reads in causal = 'session' with MASTER_DELAY"
    );
    // ... while without the guarantee the same workload reads stale rows: the check can fail.
    let stale = own_writes(addr, db, "none", 4, 150).await;
    set_delay(0).await;
    assert!(
        stale > 0,
        "causal = 'none' under a 2 s delay read no stale row"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_mode_sees_writes_through_another_proxy() {
    let _g = serial().await;
    let db = "rep_global";
    let addr = kv_proxy(
        db,
        "backend_timeout_ms = 3000\ncausal = \"global\"\nhealth_check_interval_ms = 200",
        8,
    )
    .await;
    let other = start_proxy(rules_with(
        db,
        "backend_timeout_ms = 3000\ncausal = \"global\"\nhealth_check_interval_ms = 200",
        TABLES,
    ))
    .await;
    until_replica_reads(addr, db, 0, Duration::from_secs(10)).await;
    until_replica_reads(other, db, 1, Duration::from_secs(10)).await;
    let stop = Arc::new(AtomicBool::new(false));
    let chaos_task = chaos(stop.clone());
    let before = selects().await;
    let mut writer = client(addr, db).await;
    let mut reader = client(other, db).await;
    let mut stale = 0;
    for i in 1..=600 {
        let id = i % 8;
        writer
            .query_drop(format!("UPDATE kv SET v = {i} WHERE id = {id}"))
            .await
            .expect("write");
        let v: Option<i64> = reader
            .query_first(format!("SELECT v FROM kv WHERE id = {id}"))
            .await
            .expect("read");
        if v != Some(i) {
            stale += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    chaos_task.await.expect("chaos");
    let (_, on_replicas) = delta(before, selects().await);
    assert_eq!(
        stale, 0,
        "a read through one proxy missed a write through the other"
    );
    // Each replica read also runs MASTER_GTID_WAIT there: at least some 2 x 100.
    assert!(on_replicas >= 200, "only {on_replicas} selects on replicas");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_replica_is_skipped_and_used_again() {
    let _g = serial().await;
    let db = "rep_stop";
    let addr = kv_proxy(
        db,
        "backend_timeout_ms = 3000\ncausal = \"none\"\nhealth_check_interval_ms = 300",
        20,
    )
    .await;
    until_replica_reads(addr, db, 0, Duration::from_secs(10)).await;
    // SHOW SHARDS (admins): every server with its role, state and address.
    let mut admin = client_as(addr, "admin", "admin", Some(db)).await.unwrap();
    let shards = show_shards(&mut admin).await;
    let servers: Vec<(&str, &str, &str)> = shards
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str()))
        .collect();
    assert_eq!(
        servers,
        [
            ("s0", "s0", "primary"),
            ("s0", "s0 replica 0", "replica"),
            ("s1", "s1", "primary"),
            ("s1", "s1 replica 0", "replica")
        ]
    );
    let port = |s: usize, r: Option<usize>| {
        let url = match r {
            None => cluster().primary_url(s),
            Some(r) => cluster().replica_urls(s)[r].clone(),
        };
        let o = Opts::from_url(&url).unwrap();
        format!("{}:{}", o.ip_or_hostname(), o.tcp_port())
    };
    assert_eq!(shards[0][3], port(0, None));
    assert_eq!(shards[1][3], port(0, Some(0)));
    assert_eq!(shards[0][4], "up");
    assert_eq!(shards[1][4], "in rotation", "{:?}", shards[1]);
    assert!(
        shards[1][6].contains('-'),
        "a GTID position: {:?}",
        shards[1]
    );
    let mut app = client(addr, db).await;
    let e = app.query_drop("SHOW SHARDS").await.unwrap_err();
    assert_eq!(code(&e), 1227);

    cluster().stop_server(0, Some(0)).expect("stop replica");
    let mut c = client(addr, db).await;
    let start = Instant::now();
    // Reads of shard 0 go on without an error and without waiting for the dead replica.
    for i in 0..200 {
        let t = Instant::now();
        let v: Option<i64> = c
            .query_first(format!("SELECT v FROM kv WHERE id = {}", (i % 10) * 2))
            .await
            .expect("read while the replica is down");
        assert_eq!(v, Some(0));
        assert!(
            t.elapsed() < Duration::from_millis(3500),
            "a read waited {:?}",
            t.elapsed()
        );
    }
    let n: Option<i64> = c.query_first("SELECT COUNT(*) FROM kv").await.unwrap();
    assert_eq!(n, Some(20));
    println!("200 reads with the replica down took {:?}", start.elapsed());
    // The checker sees it down (out of the rotation, and why) within a few checks.
    let seen = Instant::now();
    loop {
        let row = show_shards(&mut admin).await.swap_remove(1);
        if row[4] == "down" {
            assert!(!row[9].is_empty(), "a reason: {row:?}");
            break;
        }
        assert!(seen.elapsed() < Duration::from_secs(10), "{row:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cluster().start_server(0, Some(0)).expect("restart replica");
    until_replica_reads(addr, db, 0, Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_stopped_replicating_is_not_read() {
    let _g = serial().await;
    let db = "rep_lag";
    let addr = kv_proxy(
        db,
        "backend_timeout_ms = 3000\ncausal = \"none\"\nhealth_check_interval_ms = 200\nmax_replica_lag_s = 1",
        20,
    )
    .await;
    until_replica_reads(addr, db, 1, Duration::from_secs(10)).await;
    let mut r1 = server(1, Some(0)).await;
    r1.query_drop("STOP SLAVE").await.expect("stop slave");
    // Rows the replica will not have.
    let mut p1 = server(1, None).await;
    p1.query_drop(format!(
        "INSERT INTO `{db}`.kv VALUES (101, 1), (103, 1), (105, 1)"
    ))
    .await
    .expect("insert on the primary");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut c = client(addr, db).await;
    let before = selects().await;
    for _ in 0..100 {
        let n: Option<i64> = c
            .query_first("SELECT COUNT(*) FROM kv WHERE id > 100")
            .await
            .expect("read");
        assert_eq!(n, Some(3), "a read missed rows the stopped replica lacks");
    }
    let after = selects().await;
    // One select is the measuring connection's own (mysql_async reads settings as it connects).
    assert_eq!(after[3] - before[3] - 1, 0, "the stopped replica was read");
    r1.query_drop("START SLAVE").await.expect("start slave");
    until_replica_reads(addr, db, 1, Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_primary_fails_writes_clearly_and_reads_go_on() {
    let _g = serial().await;
    let db = "rep_noprimary";
    let addr = kv_proxy(
        db,
        "backend_timeout_ms = 2000\ncausal = \"session\"\nhealth_check_interval_ms = 200",
        20,
    )
    .await;
    until_replica_reads(addr, db, 1, Duration::from_secs(10)).await;
    cluster()
        .stop_server(1, None)
        .expect("stop shard 1's primary");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut c = client(addr, db).await;
    // Shard 1's rows (odd ids) are still readable, from its replica.
    for i in 0..50 {
        let v: Option<i64> = c
            .query_first(format!("SELECT v FROM kv WHERE id = {}", (i % 10) * 2 + 1))
            .await
            .expect("read of shard 1 with its primary down");
        assert_eq!(v, Some(0));
    }
    // A write there fails fast and names the shard.
    let t = Instant::now();
    let e = c
        .query_drop("UPDATE kv SET v = 1 WHERE id = 1")
        .await
        .unwrap_err();
    assert!(
        t.elapsed() < Duration::from_millis(2600),
        "the write took {:?}",
        t.elapsed()
    );
    assert!(
        e.to_string().contains("s1"),
        "the error does not name the shard: {e}"
    );
    // Shard 0 is not affected.
    c.query_drop("UPDATE kv SET v = 5 WHERE id = 2")
        .await
        .expect("write to shard 0");
    let v: Option<i64> = c
        .query_first("SELECT v FROM kv WHERE id = 2")
        .await
        .unwrap();
    assert_eq!(v, Some(5));
    cluster()
        .start_server(1, None)
        .expect("restart the primary");
    // Replication resumes by itself (the replica retries every second).
    let mut r1 = server(1, Some(0)).await;
    let start = Instant::now();
    loop {
        let row: Option<mysql_async::Row> = r1.query_first("SHOW SLAVE STATUS").await.unwrap();
        let io: Option<String> = row.and_then(|r| r.get("Slave_IO_Running"));
        if io.as_deref() == Some("Yes") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "replication did not resume"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `START TRANSACTION READ ONLY` runs on replicas (one per shard, no XA), answers what the
/// replicas hold, refuses writes as MariaDB does (1792); a read-write transaction and a
/// transaction whose first statement asks for the primary run on primaries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_transaction_runs_on_replicas() {
    let _g = serial().await;
    let db = "rep_ro_txn";
    let addr = kv_proxy(db, "backend_timeout_ms = 3000\ncausal = \"session\"", 10).await;
    until_replica_reads(addr, db, 0, Duration::from_secs(10)).await;
    until_replica_reads(addr, db, 1, Duration::from_secs(10)).await;
    // A value only the replicas hold (not written to any binary log): an answer of 70 comes
    // from replicas, 0 from primaries.
    for s in 0..2 {
        let mut r = server(s, Some(0)).await;
        r.query_drop(format!("SET sql_log_bin = 0; UPDATE `{db}`.kv SET v = 7"))
            .await
            .expect("mark the replica's copy");
    }
    let mut c = client(addr, db).await;
    let sum = "SELECT CAST(SUM(v) AS SIGNED) FROM kv";

    c.query_drop("START TRANSACTION READ ONLY").await.unwrap();
    let v: Option<i64> = c.query_first(sum).await.unwrap();
    assert_eq!(v, Some(70), "a read-only transaction over both shards");
    let one: Option<i64> = c
        .query_first("SELECT v FROM kv WHERE id = 0")
        .await
        .unwrap();
    assert_eq!(one, Some(7));
    let proxy_err = c
        .query_drop("UPDATE kv SET v = 1 WHERE id = 0")
        .await
        .expect_err("a write in a read-only transaction");
    c.query_drop("COMMIT").await.expect("commit");
    // What one MariaDB answers to the same.
    let mut plain = server(0, None).await;
    plain
        .query_drop(format!("USE `{db}`; START TRANSACTION READ ONLY"))
        .await
        .unwrap();
    let plain_err = plain
        .query_drop("UPDATE kv SET v = 1 WHERE id = 0")
        .await
        .expect_err("MariaDB refuses it");
    plain.query_drop("ROLLBACK").await.unwrap();
    assert_eq!(
        code(&proxy_err),
        code(&plain_err),
        "{proxy_err} / {plain_err}"
    );
    assert_eq!(code(&proxy_err), 1792);

    // Read-write transactions read the primaries.
    c.query_drop("START TRANSACTION").await.unwrap();
    let v: Option<i64> = c.query_first(sum).await.unwrap();
    assert_eq!(v, Some(0), "a read-write transaction");
    c.query_drop("COMMIT").await.unwrap();
    c.query_drop("BEGIN").await.unwrap();
    let v: Option<i64> = c.query_first(sum).await.unwrap();
    assert_eq!(v, Some(0), "BEGIN");
    c.query_drop("ROLLBACK").await.unwrap();
    // The statement that joins a shard may ask for its primary.
    c.query_drop("START TRANSACTION READ ONLY").await.unwrap();
    let v: Option<i64> = c
        .query_first(format!("/* shardgate:primary */ {sum}"))
        .await
        .unwrap();
    assert_eq!(v, Some(0), "hinted to the primary");
    let v: Option<i64> = c.query_first(sum).await.unwrap();
    assert_eq!(v, Some(0), "the transaction stays where it joined");
    c.query_drop("COMMIT").await.unwrap();
    // And so may the session.
    c.query_drop("SET shardgate_read_from = 'primary'; START TRANSACTION READ ONLY")
        .await
        .unwrap();
    let v: Option<i64> = c.query_first(sum).await.unwrap();
    assert_eq!(v, Some(0), "read_from = primary");
    c.query_drop("COMMIT; SET shardgate_read_from = 'replica'")
        .await
        .unwrap();

    // Read-your-writes holds in a read-only transaction too: after this session's write the
    // transaction reads it (from a replica that applied it, or from the primary).
    c.query_drop("UPDATE kv SET v = 9 WHERE id = 0")
        .await
        .unwrap();
    c.query_drop("START TRANSACTION READ ONLY").await.unwrap();
    let one: Option<i64> = c
        .query_first("SELECT v FROM kv WHERE id = 0")
        .await
        .unwrap();
    assert_eq!(one, Some(9), "the session's own write");
    c.query_drop("COMMIT").await.unwrap();
}

/// Reads go to the server with the fewest requests outstanding: with the primary taking reads
/// too (`primary_reads`), a replica on which reads hang (a table locked there) gets no new
/// read while the primary is free. `KILL QUERY` through the proxy interrupts the read that
/// hangs on the replica.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_avoid_a_busy_replica_and_kill_query_reaches_it() {
    let _g = serial().await;
    let db = "rep_lor";
    let addr = kv_proxy(
        db,
        "backend_timeout_ms = 60000\ncausal = \"none\"\nprimary_reads = true",
        10,
    )
    .await;
    until_replica_reads(addr, db, 0, Duration::from_secs(10)).await;
    let clients = 12;
    let mut conns = Vec::new();
    for _ in 0..clients {
        conns.push(client(addr, db).await);
    }
    let mut locker = server(0, Some(0)).await;
    locker
        .query_drop(format!("LOCK TABLES `{db}`.kv WRITE"))
        .await
        .expect("lock the replica's table");
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for mut c in conns {
        let done = done.clone();
        let id = c.id();
        tasks.push((
            id,
            tokio::spawn(async move {
                let r: mysql_async::Result<Option<i64>> =
                    c.query_first("SELECT v FROM kv WHERE id = 0").await;
                done.fetch_add(1, Ordering::SeqCst);
                r
            }),
        ));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Reads that went to the primary end at once; those on the replica hang.
    let start = Instant::now();
    while done.load(Ordering::SeqCst) < clients - 1 && start.elapsed() < Duration::from_secs(15) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let finished = done.load(Ordering::SeqCst);
    assert!(
        finished >= clients - 2,
        "{} of {clients} reads hang on the locked replica",
        clients - finished
    );
    // KILL QUERY of the hanging ones, through the proxy: MariaDB's 1317 for each.
    let mut admin = client(addr, db).await;
    let mut killed = 0;
    for (id, task) in tasks {
        if task.is_finished() {
            let r = task.await.expect("task");
            assert_eq!(r.expect("a read that did not hang"), Some(0));
            continue;
        }
        admin
            .query_drop(format!("KILL QUERY {id}"))
            .await
            .expect("kill query");
        let r = tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("KILL QUERY ends a read hanging on a replica")
            .expect("task");
        assert_eq!(code(&r.expect_err("killed")), 1317);
        killed += 1;
    }
    assert_eq!(killed, clients - finished);
    locker.query_drop("UNLOCK TABLES").await.unwrap();
}
