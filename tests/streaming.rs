//! Large cross-shard results: those whose merge holds nothing beyond the current rows (an
//! ORDER BY, a LIMIT, plain concatenation) are streamed through a k-way merge, so a proxy with
//! `merge_memory_limit_mb = 1` answers a ~4 MB sorted scatter read exactly as one MariaDB
//! does; those it must hold whole (GROUP BY, DISTINCT) fail past the limit with 1038 and leave
//! the connections, and a transaction on them, usable. Mid-stream errors, a LIMIT reached
//! early and a client that goes away leave the proxy serving right answers.

mod common;

use common::*;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};

const DB: &str = "streamed";

const TABLES: &str = r#"
[[schemas.tables]]
names = ["t"]
algorithm = "hash"
key = "id"
key_type = "int"
"#;

const PROXY: &str = "backend_timeout_ms = 10000\nmerge_memory_limit_mb = 1";

const ROWS: i64 = 20_000;

/// Case and accent ties under `utf8mb4_general_ci` (and a trailing space, ignored).
const CI: [&str; 10] = [
    "Émile", "emile", "EMILE", "Eve", "éve", "Zoé", "zoe", "a", "A ", "b",
];

const CREATE: &str = "CREATE TABLE t (id INT PRIMARY KEY, txt VARCHAR(255), ci VARCHAR(20), n INT) \
                      DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci";

/// ~200 bytes of text per row, whose order is not the id order (7919 is a unit mod 20011).
fn txt(id: i64) -> String {
    format!(
        "{:05} {}",
        (id * 7919) % 20011,
        "lorem ipsum dolor sit amet é ".repeat(6)
    )
}

/// The rows as multi-row INSERTs.
fn inserts() -> Vec<String> {
    (1..=ROWS)
        .collect::<Vec<_>>()
        .chunks(500)
        .map(|ids| {
            let values: Vec<String> = ids
                .iter()
                .map(|id| {
                    format!(
                        "({id}, '{}', '{}', {})",
                        txt(*id),
                        CI[(*id % 10) as usize],
                        id % 97
                    )
                })
                .collect();
            format!("INSERT INTO t VALUES {}", values.join(", "))
        })
        .collect()
}

fn server_error(e: &mysql_async::Error) -> (u16, String) {
    match e {
        mysql_async::Error::Server(s) => (s.code, s.message.clone()),
        other => panic!("expected a server error, got {other:?}"),
    }
}

async fn count(c: &mut Conn) -> i64 {
    c.query_first("SELECT COUNT(*) FROM t")
        .await
        .expect("count")
        .expect("a row")
}

/// Each shard's rows of `sql`, read directly from the backends, concatenated.
async fn direct_rows(sql: &str) -> Vec<(i64, String)> {
    let mut all = Vec::new();
    for s in 0..2 {
        let mut c = direct(s).await;
        c.query_drop(format!("USE `{DB}`")).await.expect("use");
        let rows: Vec<(i64, String)> = c.query(sql).await.expect("direct query");
        assert!(!rows.is_empty(), "shard {s} holds rows");
        all.extend(rows);
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_scatter_reads_stream_and_held_results_are_capped() {
    fresh_schema(DB).await;
    let addr = start_proxy(rules_with(DB, PROXY, TABLES)).await;
    let mut proxy = client(addr, DB).await;
    let mut reference = plain(DB).await;
    proxy
        .query_drop(CREATE)
        .await
        .expect("create through the proxy");
    reference.query_drop(CREATE).await.expect("create on plain");
    for sql in inserts() {
        proxy
            .query_drop(&sql)
            .await
            .expect("insert through the proxy");
        reference.query_drop(&sql).await.expect("insert on plain");
    }
    assert_eq!(count(&mut proxy).await, ROWS);

    // Streamed: each is ~4 MB through a proxy that may hold 1 MB for a merge, and answers
    // exactly (rows in order, column metadata, warnings; FOUND_ROWS() counts the rows sent).
    same_answers(
        &mut proxy,
        &mut reference,
        &[
            "SELECT id, txt FROM t ORDER BY txt, id",
            "SELECT FOUND_ROWS()",
            "SELECT id, txt FROM t ORDER BY txt DESC, id DESC",
            "SELECT id, txt FROM t ORDER BY txt, id LIMIT 10 OFFSET 5000",
            "SELECT id, txt FROM t ORDER BY txt DESC LIMIT 5000, 10",
            // Ties of a _ci collation (É = e = E, trailing space ignored), broken by id.
            "SELECT id, ci, txt FROM t ORDER BY ci, id",
            "SELECT id, ci FROM t ORDER BY ci DESC, id DESC LIMIT 3 OFFSET 9000",
            // A sort key that is not selected (a hidden column, dropped before the client).
            "SELECT id, txt FROM t ORDER BY n DESC, ci, id",
            "SELECT id FROM t ORDER BY txt LIMIT 7",
            // Warnings of both shards are added up.
            "SELECT id, CAST(txt AS SIGNED) FROM t WHERE id < 40 ORDER BY txt",
            "SELECT id, ci FROM t ORDER BY ci, id LIMIT 0",
        ],
    )
    .await;
    // The same read directly from the shards, merged in the test.
    let mut want = direct_rows("SELECT id, txt FROM t").await;
    want.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    let got: Vec<(i64, String)> = proxy
        .query("SELECT id, txt FROM t ORDER BY txt, id")
        .await
        .expect("streamed ORDER BY");
    assert_eq!(got.len(), want.len());
    assert!(
        got == want,
        "the proxy's merge equals the shards' rows sorted"
    );

    // Without ORDER BY: the shards' rows concatenated (the same multiset as one server's).
    let mut got: Vec<(i64, String)> = proxy
        .query("SELECT id, txt FROM t")
        .await
        .expect("streamed concatenation");
    let mut plain_rows: Vec<(i64, String)> = reference
        .query("SELECT id, txt FROM t")
        .await
        .expect("plain");
    got.sort();
    plain_rows.sort();
    assert!(got == plain_rows, "concatenated rows: the same multiset");
    let got: Vec<i64> = proxy
        .query("SELECT id FROM t LIMIT 5 OFFSET 3")
        .await
        .expect("a LIMIT without ORDER BY");
    assert_eq!(got.len(), 5);

    // The binary protocol (a prepared statement with a parameter) is streamed too.
    for sql in [
        "SELECT id, txt FROM t WHERE id > ? ORDER BY txt, id",
        "SELECT id, ci FROM t WHERE id > ? ORDER BY ci DESC, id",
    ] {
        let got: Vec<(i64, String)> = proxy.exec(sql, (10,)).await.expect(sql);
        let want: Vec<(i64, String)> = reference.exec(sql, (10,)).await.expect(sql);
        assert_eq!(got.len(), (ROWS - 10) as usize);
        assert!(got == want, "`{sql}`: binary protocol rows differ");
    }

    // Held whole for the merge: past 1 MB, error 1038 naming the setting; the connection
    // goes on (the backends' results were drained, not cut).
    for sql in [
        "SELECT txt, COUNT(*) FROM t GROUP BY txt",
        "SELECT DISTINCT txt FROM t",
    ] {
        let e = proxy.query_drop(sql).await.expect_err(sql);
        let (code, message) = server_error(&e);
        assert_eq!(code, 1038, "`{sql}`: {message}");
        assert!(message.contains("merge_memory_limit_mb"), "{message}");
        assert_eq!(count(&mut proxy).await, ROWS, "the connection goes on");
    }
    let e = proxy
        .exec_drop(
            "SELECT txt, COUNT(*) FROM t WHERE id > ? GROUP BY txt",
            (0,),
        )
        .await
        .expect_err("prepared GROUP BY past the limit");
    assert_eq!(server_error(&e).0, 1038);
    // Small held results are not affected.
    same_answers(
        &mut proxy,
        &mut reference,
        &["SELECT n, COUNT(*), MIN(id) FROM t GROUP BY n ORDER BY n"],
    )
    .await;

    // Inside a transaction: streamed reads and a refused held one give their connections
    // back to the transaction, which goes on and commits.
    for c in [&mut proxy, &mut reference] {
        c.query_drop("START TRANSACTION").await.expect("begin");
        c.query_drop("UPDATE t SET n = n + 1000 WHERE id <= 10")
            .await
            .expect("update");
    }
    same_answers(
        &mut proxy,
        &mut reference,
        &[
            "SELECT id, n, txt FROM t ORDER BY txt, id",
            "SELECT id, n FROM t ORDER BY n DESC, id LIMIT 12",
        ],
    )
    .await;
    let e = proxy
        .query_drop("SELECT txt, COUNT(*) FROM t GROUP BY txt")
        .await
        .expect_err("GROUP BY past the limit in a transaction");
    assert_eq!(server_error(&e).0, 1038);
    for c in [&mut proxy, &mut reference] {
        c.query_drop("UPDATE t SET n = n + 1000 WHERE id BETWEEN 5 AND 14")
            .await
            .expect("update after the streamed reads");
    }
    same_answers(
        &mut proxy,
        &mut reference,
        &["SELECT id, n FROM t ORDER BY n DESC, id LIMIT 16"],
    )
    .await;
    proxy.query_drop("COMMIT").await.expect("commit");
    reference.query_drop("COMMIT").await.expect("commit");
    let mut other = client(addr, DB).await;
    same_answers(
        &mut other,
        &mut reference,
        &["SELECT id, n FROM t WHERE n > 500 ORDER BY id"],
    )
    .await;

    // An error mid-stream on one shard (EXP overflows on one row): the client gets rows, then
    // the error; the connection goes on, in and out of a transaction.
    let bad = *ids_on(1, DB, "SELECT id FROM t WHERE id > 15000")
        .await
        .first()
        .expect("a row on shard 1");
    let failing = format!("SELECT id, EXP(IF(id = {bad}, 1000, 0)) FROM t ORDER BY id");
    let e = proxy
        .query::<Row, _>(failing.as_str())
        .await
        .expect_err("EXP overflow");
    assert_eq!(server_error(&e).0, 1690, "{e}");
    assert_eq!(count(&mut proxy).await, ROWS);
    proxy.query_drop("START TRANSACTION").await.expect("begin");
    proxy
        .query_drop("UPDATE t SET n = 7 WHERE id = 1")
        .await
        .expect("update");
    let e = proxy
        .query::<Row, _>(failing.as_str())
        .await
        .expect_err("EXP overflow in a transaction");
    assert_eq!(server_error(&e).0, 1690, "{e}");
    let n: Option<i64> = proxy
        .query_first("SELECT n FROM t WHERE id = 1")
        .await
        .expect("read in the transaction");
    assert_eq!(n, Some(7), "the transaction's own write is still seen");
    proxy.query_drop("ROLLBACK").await.expect("rollback");
    let n: Option<i64> = proxy
        .query_first("SELECT n FROM t WHERE id = 1")
        .await
        .expect("read after rollback");
    assert_eq!(n, Some(1001), "rolled back");

    // Clients that read a little of a large streamed result and go away (their runtime is shut
    // down: no orderly end) do not hurt the proxy.
    for _ in 0..4 {
        tokio::task::spawn_blocking(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let mut c = client(addr, DB).await;
                let mut r = c
                    .query_iter("SELECT id, txt, REPEAT(txt, 20) FROM t ORDER BY txt, id")
                    .await
                    .expect("streamed read");
                for _ in 0..10 {
                    r.next().await.expect("a row").expect("a row");
                }
                // Dropped mid-result: the connection's disconnect task dies with the runtime.
            });
            rt.shutdown_background();
        })
        .await
        .expect("the client's thread");
    }
    // The same, inside a transaction that updated a row: the connection the stream held goes
    // back to the pool without COMMIT or ROLLBACK, and is reset (the transaction rolled back,
    // its locks released, the character set and session settings restored) before anyone
    // borrows it again.
    let before: Option<i64> = proxy
        .query_first("SELECT n FROM t WHERE id = 2")
        .await
        .expect("n of id 2");
    for _ in 0..2 {
        tokio::task::spawn_blocking(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let mut c = client(addr, DB).await;
                c.query_drop("BEGIN").await.expect("begin");
                c.query_drop("UPDATE t SET n = n + 1000000 WHERE id = 2")
                    .await
                    .expect("update in the transaction");
                let mut r = c
                    .query_iter("SELECT id, txt, REPEAT(txt, 20) FROM t ORDER BY txt, id")
                    .await
                    .expect("streamed read in the transaction");
                for _ in 0..10 {
                    r.next().await.expect("a row").expect("a row");
                }
            });
            rt.shutdown_background();
        })
        .await
        .expect("the client's thread");
    }
    // Autocommit writes of other clients on that shard take the row lock and stay written.
    for _ in 0..4 {
        let mut c = client(addr, DB).await;
        c.query_drop("UPDATE t SET n = n + 1 WHERE id = 2")
            .await
            .expect("the row lock was released");
        c.query_drop("UPDATE t SET n = n - 1 WHERE id = 2")
            .await
            .expect("the row lock was released");
    }
    let mut on_shards: Vec<i64> = Vec::new();
    for s in 0..2 {
        let mut c = direct(s).await;
        c.query_drop(format!("USE `{DB}`")).await.expect("use");
        let n: Vec<i64> = c.query("SELECT n FROM t WHERE id = 2").await.expect("n");
        on_shards.extend(n);
    }
    assert_eq!(
        on_shards,
        before.into_iter().collect::<Vec<_>>(),
        "rolled back"
    );
    let mut after = client(addr, DB).await;
    same_answers(
        &mut after,
        &mut reference,
        &[
            "SELECT id, txt FROM t ORDER BY txt, id",
            "SELECT id, n FROM t ORDER BY n DESC, id LIMIT 20",
        ],
    )
    .await;
    assert_eq!(count(&mut proxy).await, ROWS);
}
