//! Failure behaviour against real MariaDB shards: a stopped or hung shard yields error 2013
//! naming it within `backend_timeout_ms` while the other shard keeps serving; pools recover when
//! the shard comes back; a multi-shard transaction that loses a shard says what happened to it;
//! shutdown drains and rolls back; the connection limit turns clients away with 1040.
//!
//! Tests that stop or pause s1 take [`exclusive`] so that no other test of this binary runs
//! beside them, and restore the server on the way out even when they fail.

mod common;

use common::*;
use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The proxy's backend timeout in these tests.
const TIMEOUT: Duration = Duration::from_millis(2000);
/// What an error may take beyond the timeout (scheduling, the error packet, a slow CI box).
const MARGIN: Duration = Duration::from_millis(1500);

/// Reads go to primaries here: these tests are about a shard's primary failing (reads served by
/// replicas while it is down are `tests/replicas.rs`'s).
const PROXY: &str = "backend_timeout_ms = 2000\nread_from = \"primary\"";

const TABLES: &str = r#"
[[schemas.tables]]
names = ["items"]
algorithm = "hash"
key = "id"
key_type = "int"
"#;

/// Serialises the tests of this binary: some of them stop or freeze shard s1.
async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// Brings s1's primary back (resumed and running) when dropped, so that a failing test does not
/// leave the cluster broken for the next one.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        let sb = cluster();
        // Both are no-ops when the server already runs.
        let _ = sb.resume_server(1, None);
        let _ = sb.start_server(1, None);
    }
}

async fn stop_s1() {
    tokio::task::spawn_blocking(|| cluster().stop_server(1, None).expect("stop s1"))
        .await
        .expect("stop task");
}

async fn start_s1() {
    tokio::task::spawn_blocking(|| cluster().start_server(1, None).expect("start s1"))
        .await
        .expect("start task");
}

fn pause_s1() {
    cluster().pause_server(1, None).expect("pause s1");
}

fn resume_s1() {
    cluster().resume_server(1, None).expect("resume s1");
}

/// A fresh schema with `items` holding ids 1..=40 (v = id), through a proxy with `proxy`
/// settings. Returns the proxy's address and the ids stored on s0 and on s1.
async fn setup(db: &str, proxy: &str) -> (SocketAddr, Vec<i64>, Vec<i64>) {
    fresh_schema(db).await;
    let addr = start_proxy(rules_with(db, proxy, TABLES)).await;
    let mut c = client(addr, db).await;
    c.query_drop("CREATE TABLE items (id BIGINT PRIMARY KEY, v INT NOT NULL)")
        .await
        .expect("create");
    let values: Vec<String> = (1..=40).map(|i| format!("({i}, {i})")).collect();
    c.query_drop(format!(
        "INSERT INTO items (id, v) VALUES {}",
        values.join(", ")
    ))
    .await
    .expect("insert");
    let on0 = ids_on(0, db, "SELECT id FROM items").await;
    let on1 = ids_on(1, db, "SELECT id FROM items").await;
    assert!(
        on0.len() >= 3 && on1.len() >= 3,
        "ids spread: {on0:?} {on1:?}"
    );
    (addr, on0, on1)
}

/// `SELECT v FROM items WHERE id = {id}` through `c`.
async fn point(c: &mut Conn, id: i64) -> mysql_async::Result<Option<i64>> {
    c.query_first(format!("SELECT v FROM items WHERE id = {id}"))
        .await
}

/// Asserts that `r` is error 2013 naming shard s1, and returns its message.
fn assert_lost_s1<T: std::fmt::Debug>(r: mysql_async::Result<T>, what: &str) -> String {
    let e = r.expect_err(what);
    let msg = e.to_string();
    assert_eq!(code(&e), 2013, "{what}: {msg}");
    assert!(
        msg.contains("s1"),
        "{what}: message should name shard s1: {msg}"
    );
    msg
}

/// Asserts `started` is within the backend timeout plus margin.
fn assert_bounded(started: Instant, what: &str) {
    let took = started.elapsed();
    assert!(
        took < TIMEOUT + MARGIN,
        "{what} took {took:?}, more than the backend timeout {TIMEOUT:?} + {MARGIN:?}"
    );
}

/// Asserts that a point query on s0 answers fast (well under the backend timeout).
async fn assert_s0_serves(c: &mut Conn, id0: i64, what: &str) {
    let started = Instant::now();
    assert_eq!(point(c, id0).await.expect(what), Some(id0), "{what}");
    let took = started.elapsed();
    assert!(took < Duration::from_millis(500), "{what} took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stopped_shard_fails_fast_others_serve_and_pools_recover() {
    let _guard = exclusive().await;
    let db = "fail_stop";
    let (addr, on0, on1) = setup(db, PROXY).await;
    let (id0, id1) = (on0[0], on1[0]);
    let mut c1 = client(addr, db).await;
    let mut c2 = client(addr, db).await;
    // Warm both pools, so that idle connections to s1 exist when it dies.
    assert_eq!(point(&mut c1, id1).await.unwrap(), Some(id1));
    assert_eq!(point(&mut c2, id1).await.unwrap(), Some(id1));
    assert_eq!(point(&mut c1, id0).await.unwrap(), Some(id0));

    let _restore = Restore;
    stop_s1().await;

    for (i, &id) in on1.iter().take(3).enumerate() {
        let started = Instant::now();
        assert_lost_s1(
            point(&mut c1, id).await,
            &format!("point query {i} on stopped s1"),
        );
        assert_bounded(started, "point query on stopped s1");
    }
    // Prepared statements take the same road.
    let started = Instant::now();
    let r: mysql_async::Result<Option<i64>> = c2
        .exec_first("SELECT v FROM items WHERE id = ?", (id1,))
        .await;
    assert_lost_s1(r, "prepared point query on stopped s1");
    assert_bounded(started, "prepared point query on stopped s1");

    // The same connection, another connection and a new one still reach s0.
    assert_s0_serves(&mut c1, id0, "s0 on the connection that saw the error").await;
    assert_s0_serves(&mut c2, id0, "s0 on another connection").await;
    let mut c3 = client(addr, db).await;
    assert_s0_serves(&mut c3, id0, "s0 on a new connection").await;

    // A scatter read fails as a whole: no partial answer with only s0's rows.
    let started = Instant::now();
    let r: mysql_async::Result<Option<i64>> = c3.query_first("SELECT COUNT(*) FROM items").await;
    assert_lost_s1(r, "scatter read with s1 stopped");
    assert_bounded(started, "scatter read with s1 stopped");
    let started = Instant::now();
    let r: mysql_async::Result<Vec<i64>> = c3.query("SELECT id FROM items ORDER BY id").await;
    assert_lost_s1(r, "ordered scatter read with s1 stopped");
    assert_bounded(started, "ordered scatter read with s1 stopped");

    // Back without restarting the proxy: the very first query on each connection works.
    start_s1().await;
    assert_eq!(
        point(&mut c1, id1).await.expect("s1 after restart"),
        Some(id1)
    );
    assert_eq!(
        point(&mut c2, id1).await.expect("s1 after restart, c2"),
        Some(id1)
    );
    let r: Option<i64> = c3
        .exec_first("SELECT v FROM items WHERE id = ?", (on1[1],))
        .await
        .expect("prepared on s1 after restart");
    assert_eq!(r, Some(on1[1]));
    let n: Option<i64> = c3.query_first("SELECT COUNT(*) FROM items").await.unwrap();
    assert_eq!(n, Some(40));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hung_shard_times_out_others_serve_and_pools_recover_unpoisoned() {
    let _guard = exclusive().await;
    let db = "fail_hang";
    let (addr, on0, on1) = setup(db, PROXY).await;
    let id0 = on0[0];
    let mut cs = Vec::new();
    for _ in 0..4 {
        cs.push(client(addr, db).await);
    }
    for (c, id) in cs.iter_mut().zip(&on1) {
        assert_eq!(point(c, *id).await.unwrap(), Some(*id));
    }

    let _restore = Restore;
    pause_s1();

    // Several clients hit the hung shard at once (pooled connections whose server froze, and
    // new connections that the kernel accepts but nobody answers); meanwhile s0 serves.
    let started = Instant::now();
    let hung: Vec<_> = cs
        .drain(..)
        .zip(on1.clone())
        .map(|(mut c, id)| {
            tokio::spawn(async move {
                let r = point(&mut c, id).await;
                (c, r, Instant::now())
            })
        })
        .collect();
    let mut other = client(addr, db).await;
    for i in 0..5 {
        assert_s0_serves(&mut other, on0[i % on0.len()], "s0 while s1 hangs").await;
    }
    for h in hung {
        let (c, r, done) = h.await.expect("task");
        assert_lost_s1(r, "point query on hung s1");
        assert!(
            done - started < TIMEOUT + MARGIN,
            "a query on hung s1 took {:?}",
            done - started
        );
        cs.push(c);
    }
    // The timed-out connections went back to the pool (or were dropped): later queries on s1
    // still fail within the timeout, on the same and on new client connections.
    for c in cs.iter_mut().take(2) {
        let started = Instant::now();
        assert_lost_s1(point(c, on1[1]).await, "second query on hung s1");
        assert_bounded(started, "second query on hung s1");
        assert_s0_serves(c, id0, "s0 on a connection that timed out on s1").await;
    }
    let mut fresh = client(addr, db).await;
    let started = Instant::now();
    let r: mysql_async::Result<Option<i64>> = fresh.query_first("SELECT COUNT(*) FROM items").await;
    assert_lost_s1(r, "scatter read with s1 hung");
    assert_bounded(started, "scatter read with s1 hung");
    let started = Instant::now();
    let r = fresh
        .query_drop(format!("UPDATE items SET v = -1 WHERE id = {}", on1[2]))
        .await;
    assert_lost_s1(r, "write on hung s1");
    assert_bounded(started, "write on hung s1");

    // After SIGCONT the server answers the statements that timed out. None of those late
    // answers may reach a later statement: each query must get its own row back.
    resume_s1();
    for round in 0..3 {
        for c in cs.iter_mut().chain(std::iter::once(&mut fresh)) {
            for &id in &on1 {
                let got = point(c, id).await.expect("s1 after resume");
                assert_eq!(
                    got,
                    Some(id),
                    "round {round}: query for id {id} got {got:?}"
                );
            }
        }
    }
    let n: Option<i64> = fresh
        .query_first("SELECT COUNT(*) FROM items")
        .await
        .unwrap();
    assert_eq!(n, Some(40));
    // The write that timed out may or may not have been applied once the server resumed
    // (the proxy told the client it lost the shard, not that it failed); either is honest.
    let v = ids_on(1, db, &format!("SELECT v FROM items WHERE id = {}", on1[2])).await;
    assert!(v == vec![-1] || v == vec![on1[2]], "{v:?}");
}

/// Waits (up to 20 s: recovery passes every 5 s) until s1 has no shardgate XA branch in doubt.
async fn no_branch_in_doubt_on_s1() {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rows: Vec<mysql_async::Row> = direct(1).await.query("XA RECOVER").await.unwrap();
        let ours = rows
            .into_iter()
            .filter(|r| {
                let data: Vec<u8> = r.get(3).unwrap_or_default();
                data.starts_with(shardgate::txn::xa::PREFIX.as_bytes())
            })
            .count();
        if ours == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{ours} branches still in doubt on s1"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Sets v = -1 for `ids` inside the open transaction of `c`.
async fn mark(c: &mut Conn, ids: &[i64]) {
    for id in ids {
        c.query_drop(format!("UPDATE items SET v = -1 WHERE id = {id}"))
            .await
            .expect("update in transaction");
    }
}

/// The v of `id` read directly on shard `s`.
async fn v_on(s: usize, db: &str, id: i64) -> Vec<i64> {
    ids_on(s, db, &format!("SELECT v FROM items WHERE id = {id}")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transaction_losing_a_shard_is_rolled_back_and_says_so() {
    let _guard = exclusive().await;
    let db = "fail_txn";
    let (addr, on0, on1) = setup(db, PROXY).await;
    let (id0, id1) = (on0[0], on1[0]);
    let mut c = client(addr, db).await;
    let _restore = Restore;

    // 1. s1 dies while the transaction is idle; COMMIT finds out before committing anything.
    c.query_drop("BEGIN").await.unwrap();
    mark(&mut c, &[id0, id1]).await;
    stop_s1().await;
    let started = Instant::now();
    let e = c
        .query_drop("COMMIT")
        .await
        .expect_err("COMMIT with s1 gone");
    assert_bounded(started, "COMMIT with s1 gone");
    let msg = e.to_string();
    assert!(msg.contains("s1"), "names the lost shard: {msg}");
    assert!(
        msg.contains("rolled back") && !msg.contains("PARTIALLY"),
        "says nothing was committed: {msg}"
    );
    assert_eq!(
        v_on(0, db, id0).await,
        vec![id0],
        "s0's part was rolled back"
    );
    // The session goes on.
    c.query_drop("ROLLBACK")
        .await
        .expect("ROLLBACK after the failed COMMIT");
    assert_s0_serves(&mut c, id0, "s0 after the failed COMMIT").await;
    start_s1().await;
    assert_eq!(
        v_on(1, db, id1).await,
        vec![id1],
        "s1's part was rolled back"
    );
    assert_eq!(point(&mut c, id1).await.unwrap(), Some(id1));

    // 2. A statement inside the transaction loses s1: whatever follows, COMMIT must not
    // commit s0's part alone, and a ROLLBACK ends it cleanly.
    c.query_drop("BEGIN").await.unwrap();
    mark(&mut c, &[id0, id1]).await;
    stop_s1().await;
    assert_lost_s1(
        c.query_drop(format!("UPDATE items SET v = -2 WHERE id = {}", on1[1]))
            .await,
        "update on s1 inside the transaction",
    );
    mark(&mut c, &[on0[1]]).await;
    let e = c
        .query_drop("COMMIT")
        .await
        .expect_err("COMMIT after losing s1");
    let msg = e.to_string();
    assert!(msg.contains("s1") && msg.contains("rolled back"), "{msg}");
    assert_eq!(v_on(0, db, id0).await, vec![id0]);
    assert_eq!(v_on(0, db, on0[1]).await, vec![on0[1]]);
    c.query_drop("ROLLBACK").await.expect("ROLLBACK");
    assert_s0_serves(&mut c, id0, "s0 after the transaction").await;
    start_s1().await;

    // 3. The same when s1 is lost by a statement spanning both shards: s0's pinned connection,
    // with its open transaction, must not go back to the pool for another client to use.
    c.query_drop("BEGIN").await.unwrap();
    mark(&mut c, &[id0]).await;
    stop_s1().await;
    let r = c.query_drop("UPDATE items SET v = -3").await;
    assert_eq!(code(&r.expect_err("scatter update with s1 gone")), 2013);
    // Other clients' autocommit writes on s0 are committed (not swallowed by a leaked open
    // transaction) and are not blocked by its row lock.
    let mut others = Vec::new();
    for _ in 0..3 {
        others.push(client(addr, db).await);
    }
    for o in others.iter_mut() {
        o.query_drop(format!("UPDATE items SET v = v WHERE id = {}", on0[2]))
            .await
            .expect("autocommit write on s0");
    }
    others[0]
        .query_drop(format!("UPDATE items SET v = 7 WHERE id = {}", on0[2]))
        .await
        .unwrap();
    assert_eq!(v_on(0, db, on0[2]).await, vec![7], "committed for everyone");
    // The UPDATE failed before it ran anywhere (s1 could not join), so like any failed
    // statement it leaves the transaction as it was: s0's part is intact and commits.
    c.query_drop("COMMIT")
        .await
        .expect("COMMIT of the intact part");
    assert_eq!(v_on(0, db, id0).await, vec![-1]);
    c.query_drop(format!("UPDATE items SET v = {id0} WHERE id = {id0}"))
        .await
        .expect("restore");
    c.query_drop("ROLLBACK").await.expect("ROLLBACK");
    start_s1().await;

    // 4. A session left inside a transaction can always ROLLBACK, even with the shard gone.
    c.query_drop("BEGIN").await.unwrap();
    mark(&mut c, &[id0, id1]).await;
    stop_s1().await;
    c.query_drop("ROLLBACK")
        .await
        .expect("ROLLBACK with s1 gone");
    assert_eq!(v_on(0, db, id0).await, vec![id0]);
    start_s1().await;
    assert_eq!(v_on(1, db, id1).await, vec![id1]);
    // 5. s1 hangs while the transaction is open: COMMIT gives up within the timeout and
    // commits nothing.
    c.query_drop("BEGIN").await.unwrap();
    mark(&mut c, &[id0, id1]).await;
    pause_s1();
    let started = Instant::now();
    let e = c
        .query_drop("COMMIT")
        .await
        .expect_err("COMMIT with s1 hung");
    assert_bounded(started, "COMMIT with s1 hung");
    let msg = e.to_string();
    assert!(msg.contains("s1") && msg.contains("rolled back"), "{msg}");
    assert!(!msg.contains("PARTIALLY"), "{msg}");
    assert_eq!(v_on(0, db, id0).await, vec![id0], "after: {msg}");
    assert_s0_serves(&mut c, id0, "s0 after COMMIT gave up on hung s1").await;
    resume_s1();
    // Under two-phase commit s1 may have prepared once it resumed: its branch then holds its row
    // until recovery rolls it back, by the rollback decision the failed COMMIT recorded.
    no_branch_in_doubt_on_s1().await;
    assert_eq!(v_on(1, db, id1).await, vec![id1]);

    // And a healthy two-shard transaction still commits.
    c.query_drop("BEGIN").await.unwrap();
    mark(&mut c, &[id0, id1]).await;
    c.query_drop("COMMIT").await.expect("COMMIT");
    assert_eq!(v_on(0, db, id0).await, vec![-1]);
    assert_eq!(v_on(1, db, id1).await, vec![-1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn graceful_shutdown_drains_rolls_back_and_refuses() {
    let _guard = exclusive().await;
    let db = "fail_shutdown";
    let (_, on0, _) = setup(db, PROXY).await;
    let server = shardgate::server::Server::bind(rules_with(db, PROXY, TABLES), "127.0.0.1:0")
        .await
        .expect("bind");
    let addr = server.local_addr().expect("addr");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(server.run(async {
        let _ = stop_rx.await;
    }));

    let mut in_txn = client(addr, db).await;
    in_txn.query_drop("BEGIN").await.unwrap();
    in_txn
        .query_drop("INSERT INTO items (id, v) VALUES (1000, 1), (1001, 1), (1002, 1)")
        .await
        .unwrap();
    let idle = client(addr, db).await;
    let mut busy = client(addr, db).await;
    assert_eq!(point(&mut busy, on0[0]).await.unwrap(), Some(on0[0]));
    // A statement running when shutdown starts is allowed to finish.
    let running = tokio::spawn(async move {
        let r: mysql_async::Result<Option<i64>> = busy.query_first("SELECT SLEEP(1.8)").await;
        r
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    stop_tx.send(()).expect("signal shutdown");
    tokio::time::sleep(Duration::from_millis(200)).await;
    // While the drain waits for the running statement, new clients are refused.
    assert!(
        !run.is_finished(),
        "the drain waits for the running statement"
    );
    let refused = tokio::time::timeout(
        Duration::from_millis(500),
        tokio::net::TcpStream::connect(addr),
    )
    .await
    .expect("a connection attempt during the drain fails at once, it does not hang");
    assert!(
        refused.is_err(),
        "new connections are refused during the drain"
    );
    let refused = tokio::time::timeout(
        Duration::from_millis(500),
        client_as(addr, "app", "app", None),
    )
    .await
    .expect("a client connecting during the drain fails at once");
    assert!(refused.is_err());
    assert!(!run.is_finished(), "still draining");

    tokio::time::timeout(Duration::from_secs(12), run)
        .await
        .expect("run() returns within the drain bound")
        .expect("run task");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    assert_eq!(
        running
            .await
            .expect("task")
            .expect("the running statement finished"),
        Some(0)
    );
    // The open transaction was rolled back: its rows are on no shard.
    for s in 0..2 {
        assert_eq!(
            ids_on(s, db, "SELECT id FROM items WHERE id >= 1000").await,
            Vec::<i64>::new(),
            "shard {s}"
        );
    }
    // The sessions were closed.
    assert!(in_txn.query_drop("SELECT 1").await.is_err());
    drop(idle);
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connection_limit_turns_the_third_client_away() {
    let _guard = exclusive().await;
    let db = "fail_limit";
    let (_, on0, on1) = setup(db, PROXY).await;
    let addr = start_proxy(rules_with(
        db,
        "backend_timeout_ms = 2000\nmax_connections = 2",
        TABLES,
    ))
    .await;
    let mut c1 = client(addr, db).await;
    let mut c2 = client(addr, db).await;
    let started = Instant::now();
    let third = client_as(addr, "app", "app", Some(db)).await;
    let e = third.expect_err("a third client is over the limit");
    assert_eq!(code(&e), 1040, "{e}");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(point(&mut c1, on0[0]).await.unwrap(), Some(on0[0]));
    assert_eq!(point(&mut c2, on1[0]).await.unwrap(), Some(on1[0]));
    // A slot freed by a client that leaves is given to the next one.
    c2.disconnect().await.unwrap();
    let mut again = None;
    for _ in 0..50 {
        match client_as(addr, "app", "app", Some(db)).await {
            Ok(c) => {
                again = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    let mut c3 = again.expect("a client connects once a slot is free");
    assert_eq!(point(&mut c3, on1[0]).await.unwrap(), Some(on1[0]));
    assert_eq!(point(&mut c1, on0[0]).await.unwrap(), Some(on0[0]));
}
