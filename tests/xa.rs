//! Two-phase commit (`txn_mode = "xa"`) against the sandbox's real MariaDB shards: a
//! transaction that writes two shards commits on both or on neither, leaves no XA branch in
//! doubt, records its decision on its first shard; recovery finishes prepared branches from the
//! decision rows (commit, roll back, leave young ones, never touch another tool's); `single`
//! refuses a second shard.

mod common;

use common::*;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use shardgate::backend::Backends;
use shardgate::txn::xa;
use std::time::Duration;

const TABLES: &str = r#"
[[schemas.tables]]
names = ["accounts"]
algorithm = "list"
key = "id"
key_type = "int"
lists = [ { shard = "s0", values = [1, 2, 3] }, { shard = "s1", values = [11, 12, 13] } ]
"#;

async fn balances(db: &str) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    for s in 0..2 {
        let mut c = direct(s).await;
        let rows: Vec<(i64, i64)> = c
            .query(format!("SELECT id, bal FROM `{db}`.accounts ORDER BY id"))
            .await
            .unwrap();
        out.extend(rows);
    }
    out.sort();
    out
}

/// Our in-doubt branches on shard `s` (gtrid, bqual).
async fn in_doubt(s: usize) -> Vec<(String, String)> {
    let mut c = direct(s).await;
    let rows: Vec<Row> = c.query("XA RECOVER").await.unwrap();
    rows.into_iter()
        .filter_map(|r| {
            let (_f, g, b, data): (i64, usize, usize, Vec<u8>) = mysql_async::from_row(r);
            let s = String::from_utf8_lossy(&data).into_owned();
            (s.len() >= g + b).then(|| (s[..g].to_string(), s[g..g + b].to_string()))
        })
        .collect()
}

async fn setup_accounts(db: &str, proxy: &str) -> (Conn, Backends) {
    let (c, backends, _) = setup_accounts_at(db, proxy).await;
    (c, backends)
}

async fn setup_accounts_at(db: &str, proxy: &str) -> (Conn, Backends, std::net::SocketAddr) {
    fresh_schema(db).await;
    let rules = rules_with(db, proxy, TABLES);
    let backends = Backends::new(&rules);
    let addr = start_proxy(rules).await;
    let mut c = client(addr, db).await;
    c.query_drop("CREATE TABLE accounts (id INT PRIMARY KEY, bal INT NOT NULL)")
        .await
        .unwrap();
    c.query_drop("INSERT INTO accounts VALUES (1,100),(2,100),(3,100),(11,100),(12,100),(13,100)")
        .await
        .unwrap();
    (c, backends, addr)
}

/// The proxies' own branches in doubt on shard `s` (not the recovery test's hand-made ones).
async fn proxies_in_doubt(s: usize) -> Vec<(String, String)> {
    in_doubt(s)
        .await
        .into_iter()
        .filter(|(g, _)| g.starts_with(xa::PREFIX) && !g.starts_with("sg1:test:"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shard_transactions_commit_everywhere_or_nowhere() {
    let db = "xa_commit";
    let (mut c, _backends) =
        setup_accounts(db, "backend_timeout_ms = 3000\ntxn_mode = \"xa\"").await;
    // A transfer across the two shards commits on both.
    c.query_drop("START TRANSACTION").await.unwrap();
    c.query_drop("UPDATE accounts SET bal = bal - 30 WHERE id = 1")
        .await
        .unwrap();
    c.query_drop("UPDATE accounts SET bal = bal + 30 WHERE id = 11")
        .await
        .unwrap();
    // The transaction sees its own writes on both shards.
    let mid: Vec<(i64, i64)> = c
        .query("SELECT id, bal FROM accounts WHERE id IN (1, 11) ORDER BY id")
        .await
        .unwrap();
    assert_eq!(mid, vec![(1, 70), (11, 130)]);
    c.query_drop("COMMIT").await.unwrap();
    let b = balances(db).await;
    assert!(b.contains(&(1, 70)) && b.contains(&(11, 130)), "{b:?}");
    for s in 0..2 {
        assert_eq!(
            proxies_in_doubt(s).await,
            vec![],
            "shard {s} has no branch left in doubt"
        );
    }
    // The decision was recorded on the coordinator (the first shard the transaction touched).
    let mut d0 = direct(0).await;
    let n: Option<i64> = d0
        .query_first("SELECT COUNT(*) FROM shardgate.xa_decisions WHERE decision = 'commit' AND gtrid LIKE 'sg1:%:s0'")
        .await
        .unwrap();
    assert!(n.unwrap_or(0) >= 1, "a commit decision on s0");

    // ROLLBACK undoes both shards.
    c.query_drop("BEGIN").await.unwrap();
    c.query_drop("UPDATE accounts SET bal = bal - 5 WHERE id = 12")
        .await
        .unwrap();
    c.query_drop("UPDATE accounts SET bal = bal + 5 WHERE id = 2")
        .await
        .unwrap();
    c.query_drop("ROLLBACK").await.unwrap();
    assert_eq!(balances(db).await, b);

    // Read on one shard, write on the other: one shard wrote, it commits on its own.
    c.query_drop("BEGIN").await.unwrap();
    let _: Vec<i64> = c
        .query("SELECT bal FROM accounts WHERE id = 3")
        .await
        .unwrap();
    c.query_drop("UPDATE accounts SET bal = bal + 1 WHERE id = 13")
        .await
        .unwrap();
    c.query_drop("COMMIT").await.unwrap();
    assert!(balances(db).await.contains(&(13, 101)));

    // A branch whose connection dies before COMMIT: nothing commits anywhere.
    let before = balances(db).await;
    c.query_drop("BEGIN").await.unwrap();
    c.query_drop("UPDATE accounts SET bal = bal - 50 WHERE id = 2")
        .await
        .unwrap();
    c.query_drop("UPDATE accounts SET bal = bal + 50 WHERE id = 12")
        .await
        .unwrap();
    let mut d1 = direct(1).await;
    let victims: Vec<i64> = d1
        .query(format!("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '{db}' AND ID IN (SELECT trx_mysql_thread_id FROM information_schema.innodb_trx)"))
        .await
        .unwrap();
    assert!(!victims.is_empty(), "the branch on s1 is open");
    for id in victims {
        let _ = d1.query_drop(format!("KILL {id}")).await;
    }
    let err = c
        .query_drop("COMMIT")
        .await
        .expect_err("a lost branch fails the commit");
    assert!(err.to_string().contains("rolled back"), "{err}");
    assert_eq!(balances(db).await, before, "nothing committed");
    for s in 0..2 {
        assert_eq!(proxies_in_doubt(s).await, vec![]);
    }
    // The session goes on.
    c.query_drop("UPDATE accounts SET bal = bal WHERE id = 1")
        .await
        .unwrap();
}

/// A transaction's backend connections go back to their pools once it ends, its XA branch's
/// too (committed in two phases, in one phase, or rolled back): ten transactions over both
/// shards, one after the other, run on the same one or two connections of each shard rather
/// than opening new ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ended_transactions_give_their_connections_back() {
    let db = "xa_reuse";
    let (mut c, _backends) = setup_accounts(db, "txn_mode = \"xa\"").await;
    let mut seen = [
        std::collections::BTreeSet::new(),
        std::collections::BTreeSet::new(),
    ];
    for i in 0..10 {
        c.query_drop("BEGIN").await.unwrap();
        // Every third transaction only reads the first shard: the branch's shard alone wrote,
        // and commits in one phase.
        let first = if i % 3 == 1 {
            "SELECT bal FROM accounts WHERE id = 1"
        } else {
            "UPDATE accounts SET bal = bal - 1 WHERE id = 1"
        };
        c.query_drop(first).await.unwrap();
        c.query_drop("UPDATE accounts SET bal = bal + 1 WHERE id = 11")
            .await
            .unwrap();
        for (s, ids) in seen.iter_mut().enumerate() {
            let mut d = direct(s).await;
            let now: Vec<u64> = d
                .query(format!(
                    "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'shardgate' AND DB = '{db}'"
                ))
                .await
                .unwrap();
            ids.extend(now);
        }
        c.query_drop(if i % 4 == 3 { "ROLLBACK" } else { "COMMIT" })
            .await
            .unwrap();
    }
    for (s, ids) in seen.iter().enumerate() {
        assert!(
            (1..=2).contains(&ids.len()),
            "shard {s}: the transactions ran on {} backend connections ({ids:?})",
            ids.len()
        );
    }
    // Committed: 0, 1, 2, 4, 5, 6, 8, 9 (3 and 7 rolled back); 1 and 4 wrote shard s1 only.
    let b = balances(db).await;
    assert_eq!(b[0], (1, 100 - 6), "{b:?}");
    assert_eq!(b[3], (11, 100 + 8), "{b:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_mode_refuses_a_second_shard_and_the_variable_switches_modes() {
    let db = "xa_single";
    let (mut c, _) = setup_accounts(db, "backend_timeout_ms = 3000\ntxn_mode = \"single\"").await;
    let before = balances(db).await;
    c.query_drop("BEGIN").await.unwrap();
    c.query_drop("UPDATE accounts SET bal = bal - 1 WHERE id = 1")
        .await
        .unwrap();
    let err = c
        .query_drop("UPDATE accounts SET bal = bal + 1 WHERE id = 11")
        .await
        .expect_err("a second shard under single");
    assert!(err.to_string().contains("single"), "{err}");
    c.query_drop("ROLLBACK").await.unwrap();
    assert_eq!(balances(db).await, before);
    let err = c
        .query_drop("SET shardgate_txn_mode = 'sometimes'")
        .await
        .expect_err("unknown mode");
    assert_eq!(code(&err), 1231);
    c.query_drop("SET shardgate_txn_mode = 'xa'").await.unwrap();
    c.query_drop("BEGIN").await.unwrap();
    c.query_drop("UPDATE accounts SET bal = bal - 1 WHERE id = 1")
        .await
        .unwrap();
    c.query_drop("UPDATE accounts SET bal = bal + 1 WHERE id = 11")
        .await
        .unwrap();
    c.query_drop("COMMIT").await.unwrap();
    let after = balances(db).await;
    assert!(
        after.contains(&(1, 99)) && after.contains(&(11, 101)),
        "{after:?}"
    );
}

/// Prepares a branch by hand on shard `s`, as a proxy that died after its prepare leaves it.
async fn prepared_branch(s: usize, gtrid: &str, sql: &str) {
    let mut c = direct(s).await;
    let x = xa::xid(gtrid, if s == 0 { "s0" } else { "s1" });
    c.query_drop(format!("XA START {x}")).await.unwrap();
    c.query_drop(sql).await.unwrap();
    c.query_drop(format!("XA END {x}")).await.unwrap();
    c.query_drop(format!("XA PREPARE {x}")).await.unwrap();
    c.disconnect().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_finishes_prepared_branches_from_the_decisions() {
    let db = "xa_recover";
    // Other proxies of this test binary run their own recovery on the same shards: what is
    // checked is the end state, whoever reached it.
    let (_c, backends) = setup_accounts(db, "backend_timeout_ms = 3000").await;
    xa::ensure_log(&backends, 2).await;
    let old_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        - 3_600_000;
    let committed = format!("sg1:test:{old_ms}:1:s0");
    let undecided = format!("sg1:test:{old_ms}:2:s0");
    let young = format!("sg1:test:{}:3:s0", old_ms + 3_600_000);
    let foreign = "other-tool-xid-1";
    // The coordinator (s0) recorded a commit for the first one only. Recorded before the
    // branch is prepared: the other proxies' recovery would otherwise find an old branch with
    // no decision first, and record its rollback.
    let mut d0 = direct(0).await;
    d0.query_drop(format!(
        "INSERT INTO shardgate.xa_decisions (gtrid, decision) VALUES ('{committed}', 'commit')"
    ))
    .await
    .unwrap();
    prepared_branch(
        1,
        &committed,
        &format!("UPDATE `{db}`.accounts SET bal = 1 WHERE id = 11"),
    )
    .await;
    prepared_branch(
        1,
        &undecided,
        &format!("UPDATE `{db}`.accounts SET bal = 2 WHERE id = 12"),
    )
    .await;
    prepared_branch(
        1,
        &young,
        &format!("UPDATE `{db}`.accounts SET bal = 3 WHERE id = 13"),
    )
    .await;
    prepared_branch(
        0,
        foreign,
        &format!("UPDATE `{db}`.accounts SET bal = 4 WHERE id = 3"),
    )
    .await;

    xa::recover(
        &backends,
        2,
        Duration::from_secs(30),
        Duration::from_secs(600),
    )
    .await;
    let b = balances(db).await;
    assert!(b.contains(&(11, 1)), "the decided branch committed: {b:?}");
    assert!(
        b.contains(&(12, 100)),
        "the undecided old branch rolled back: {b:?}"
    );
    // Its rollback is recorded, so a late commit of its coordinator cannot win.
    let d: Option<String> = d0
        .query_first(format!(
            "SELECT decision FROM shardgate.xa_decisions WHERE gtrid = '{undecided}'"
        ))
        .await
        .unwrap();
    assert_eq!(d.as_deref(), Some("rollback"));
    // Only this test's branches: other tests' proxies may be mid-commit.
    let left1: Vec<String> = in_doubt(1)
        .await
        .into_iter()
        .map(|(g, _)| g)
        .filter(|g| g.starts_with("sg1:test:"))
        .collect();
    assert_eq!(
        left1,
        vec![young.clone()],
        "a young branch waits for its decision"
    );
    let left0: Vec<String> = in_doubt(0)
        .await
        .into_iter()
        .map(|(g, _)| g)
        .filter(|g| !g.starts_with(xa::PREFIX) || g.starts_with("sg1:test:"))
        .collect();
    assert_eq!(
        left0,
        vec![foreign.to_string()],
        "another tool's branch is untouched"
    );

    // The young one's coordinator decides; the next pass commits it.
    d0.query_drop(format!(
        "INSERT INTO shardgate.xa_decisions (gtrid, decision) VALUES ('{young}', 'commit')"
    ))
    .await
    .unwrap();
    xa::recover(
        &backends,
        2,
        Duration::from_secs(30),
        Duration::from_secs(600),
    )
    .await;
    assert!(balances(db).await.contains(&(13, 3)));
    assert!(
        in_doubt(1)
            .await
            .iter()
            .all(|(g, _)| !g.starts_with("sg1:test:")),
        "every hand-made branch on s1 is finished"
    );
    // Clean up the foreign branch by hand, as its own tool would.
    d0.query_drop(format!("XA ROLLBACK {}", xa::xid(foreign, "s0")))
        .await
        .unwrap();
}

async fn in_transaction(c: &mut Conn) -> i64 {
    c.query_first("SELECT @@in_transaction")
        .await
        .unwrap()
        .unwrap_or(-1)
}

/// Runs `sql` on `c` in a task (it may wait for a lock) and gives the connection back.
fn spawn_stmt(
    mut c: Conn,
    sql: &'static str,
) -> tokio::task::JoinHandle<(Conn, mysql_async::Result<()>)> {
    tokio::spawn(async move {
        let r = c.query_drop(sql).await;
        (c, r)
    })
}

/// Waits until shard `s` runs statement `info` (a statement waiting for a row lock shows there;
/// INNODB_TRX does not list an XA branch that has not written yet).
async fn running_on(s: usize, info: &str) {
    let mut d = direct(s).await;
    let start = std::time::Instant::now();
    loop {
        let n: Option<i64> = d
            .exec_first(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE CONCAT('%', ?)",
                (info,),
            )
            .await
            .unwrap();
        if n.unwrap_or(0) > 0 {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "`{info}` never ran on shard {s}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlocks_across_and_within_shards_end_the_whole_transaction_with_1213() {
    let db = "xa_deadlock";
    // The default mode (xa); lock waits in multi-shard transactions bounded below 3 s.
    let (mut c0, _b, addr) = setup_accounts_at(db, "backend_timeout_ms = 3000").await;
    let mode: Option<String> = c0.query_first("SELECT @@shardgate_txn_mode").await.unwrap();
    assert_eq!(mode.as_deref(), Some("xa"), "xa is the default");

    // Across shards: T1 holds 1 (s0) and waits for 11 (s1); T2 holds 11 and waits for 1. No
    // server sees the cycle; T1's bounded wait ends it as a deadlock.
    let mut t1 = client(addr, db).await;
    let mut t2 = client(addr, db).await;
    t1.query_drop("BEGIN").await.unwrap();
    t1.query_drop("UPDATE accounts SET bal = bal - 10 WHERE id = 1")
        .await
        .unwrap();
    t2.query_drop("BEGIN").await.unwrap();
    t2.query_drop("UPDATE accounts SET bal = bal - 20 WHERE id = 11")
        .await
        .unwrap();
    let waiting = spawn_stmt(t1, "UPDATE accounts SET bal = bal + 10 WHERE id = 11");
    // T2's own bounded wait starts 1.5 s after T1's has begun (seen on s1): T1's rollback has
    // that long to release row 1. (A fixed sleep after spawning T1 was too little on a loaded
    // 2-core VM, where T1's statement itself may start late.)
    running_on(1, "UPDATE accounts SET bal = bal + 10 WHERE id = 11").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    t2.query_drop("UPDATE accounts SET bal = bal + 20 WHERE id = 1")
        .await
        .expect("T2 gets the lock once T1 is rolled back");
    let (mut t1, r) = waiting.await.unwrap();
    let err = r.expect_err("T1 is the deadlock's victim");
    assert_eq!(code(&err), 1213, "{err}");
    assert_eq!(in_transaction(&mut t1).await, 0, "T1's transaction is over");
    // T1 wrote nothing anywhere (its part on s0 was rolled back, not left to a later COMMIT).
    t1.query_drop("COMMIT").await.unwrap();
    t2.query_drop("COMMIT").await.unwrap();
    let after = balances(db).await;
    assert!(
        after.contains(&(1, 120)) && after.contains(&(11, 80)),
        "{after:?}"
    );

    // Within one shard, in a transaction that also wrote the other: the server picks a victim,
    // whose write on the other shard is rolled back too.
    let mut t1 = client(addr, db).await;
    let mut t2 = client(addr, db).await;
    t1.query_drop("BEGIN").await.unwrap();
    t1.query_drop("UPDATE accounts SET bal = bal + 1 WHERE id = 12")
        .await
        .unwrap();
    t1.query_drop("UPDATE accounts SET bal = bal + 1 WHERE id = 2")
        .await
        .unwrap();
    t2.query_drop("BEGIN").await.unwrap();
    t2.query_drop("UPDATE accounts SET bal = bal + 1 WHERE id = 13")
        .await
        .unwrap();
    t2.query_drop("UPDATE accounts SET bal = bal + 1 WHERE id = 3")
        .await
        .unwrap();
    let waiting = spawn_stmt(t1, "UPDATE accounts SET bal = bal + 1 WHERE id = 3");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r2 = t2
        .query_drop("UPDATE accounts SET bal = bal + 1 WHERE id = 2")
        .await;
    let (mut t1, r1) = waiting.await.unwrap();
    let (victim, survivor, victim_row) = match (&r1, &r2) {
        (Err(e), Ok(())) => {
            assert_eq!(code(e), 1213, "{e}");
            (&mut t1, &mut t2, 12)
        }
        (Ok(()), Err(e)) => {
            assert_eq!(code(e), 1213, "{e}");
            (&mut t2, &mut t1, 13)
        }
        other => panic!("one deadlock victim expected: {other:?}"),
    };
    assert_eq!(in_transaction(victim).await, 0);
    survivor.query_drop("COMMIT").await.unwrap();
    let after2 = balances(db).await;
    let was = after.iter().find(|(id, _)| *id == victim_row).unwrap().1;
    assert!(
        after2.contains(&(victim_row, was)),
        "the victim's write on the other shard was rolled back: {after2:?}"
    );
    assert_ne!(after2, after, "the survivor committed");
    for s in 0..2 {
        assert_eq!(proxies_in_doubt(s).await, vec![]);
    }
}
