//! Compound statements, empty and comment-only queries through the proxy, each answered as a
//! plain MariaDB answers the same text (a shard's server, connected directly, in the same test).

mod common;

use common::*;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row, Value};

fn text(v: &Value) -> String {
    match v {
        Value::NULL => "NULL".into(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        other => format!("{other:?}"),
    }
}

/// Each result of `sql` as text: `ok`, the rows, or `error <code>: <message>`, which ends it.
async fn answers(c: &mut Conn, sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut r = match c.query_iter(sql).await {
        Ok(r) => r,
        Err(e) => return vec![format!("error {}: {e}", code(&e))],
    };
    loop {
        let had_columns = !r.columns_ref().is_empty();
        match r.collect::<Row>().await {
            Ok(rows) if had_columns => out.push(
                rows.iter()
                    .map(|row| {
                        let cells: Vec<String> = row.clone().unwrap().iter().map(text).collect();
                        cells.join(",")
                    })
                    .collect::<Vec<_>>()
                    .join(";"),
            ),
            Ok(_) => out.push("ok".into()),
            Err(e) => {
                out.push(format!("error {}", code(&e)));
                break;
            }
        }
        if r.is_empty() {
            break;
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_and_comment_only_queries_answer_like_mariadb() {
    let db = "cmp_empty";
    let (_addr, mut proxied) = setup(db, "").await;
    let mut plain = direct(0).await;
    for sql in [
        "",
        "   ",
        " \n\t ",
        ";",
        " ;; ",
        "-- only a comment",
        "/* c */",
        "# x",
        "/*! */",
        "/* a */ ;",
        "select 1;",
        "select 1; -- x",
        "select 1 -- c\n;  # x",
        "select 1; ;select 2",
        "select 1;; select 2",
        "select 1;;",
        "/*!40101 select 5 */",
        "select 1--1; select 2",
        "select 'a;''b'; select \"c;\\\"d\"",
    ] {
        let want = answers(&mut plain, sql).await;
        let got = answers(&mut proxied, sql).await;
        // Error messages differ in wording: compare codes, and the messages of 1065.
        let codes = |v: &[String]| -> Vec<String> {
            v.iter()
                .map(|a| a.split(':').next().unwrap_or(a).to_string())
                .collect()
        };
        assert_eq!(
            codes(&got),
            codes(&want),
            "{sql:?}: {got:?} vs MariaDB {want:?}"
        );
    }
    let e = proxied.query_drop("  ").await.unwrap_err();
    assert_eq!(
        (code(&e), e.to_string().contains("Query was empty")),
        (1065, true),
        "{e}"
    );
    // The session goes on.
    assert_eq!(answers(&mut proxied, "select 7").await, vec!["7"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_programs_run_whole_and_calls_work() {
    let tables = r#"
[[schemas.tables]]
names = ["orders"]
algorithm = "hash"
key = "id"
key_type = "int"
"#;
    let db = "cmp_proc";
    let (_addr, mut c) = setup(db, tables).await;
    let plain_db = format!("{db}_plain");
    let mut plain = direct(0).await;
    plain
        .query_drop(format!("DROP DATABASE IF EXISTS {plain_db}"))
        .await
        .unwrap();
    plain
        .query_drop(format!("CREATE DATABASE {plain_db}"))
        .await
        .unwrap();
    plain.query_drop(format!("USE {plain_db}")).await.unwrap();
    let script = "CREATE TABLE notes (id INT PRIMARY KEY, body VARCHAR(20));
        CREATE PROCEDURE add_note(IN i INT, IN b VARCHAR(20))
        BEGIN
          DECLARE n INT DEFAULT 0;
          IF i > 0 THEN INSERT INTO notes VALUES (i, b); ELSE SET n = -1; END IF;
          SELECT COUNT(*), n FROM notes;
        END;
        BEGIN NOT ATOMIC INSERT INTO notes VALUES (2, 'b'); INSERT INTO notes VALUES (3, 'c'); END;
        SELECT id, body FROM notes ORDER BY id";
    let want = answers(&mut plain, script).await;
    assert_eq!(
        answers(&mut c, script).await,
        want,
        "the script on a plain MariaDB"
    );
    assert_eq!(want, vec!["ok", "ok", "ok", "2,b;3,c"]);
    for call in ["CALL add_note(1, 'one;two')", "CALL add_note(0, 'none')"] {
        let want = answers(&mut plain, call).await;
        let got = answers(&mut c, call).await;
        // Every result set of the procedure, then the CALL's own OK.
        assert_eq!(got, want, "{call}: {got:?} vs MariaDB {want:?}");
    }
    let all = "SELECT id, body FROM notes ORDER BY id";
    assert_eq!(answers(&mut c, all).await, answers(&mut plain, all).await);

    // Routines are created on every shard, so that a function works across shards.
    let routines = "SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = ?";
    for s in 0..2 {
        let mut d = direct(s).await;
        let n: Option<i64> = d.exec_first(routines, (db,)).await.unwrap();
        assert_eq!(n, Some(1), "shard {s}");
    }
    c.query_drop("CREATE TABLE orders (id BIGINT PRIMARY KEY)")
        .await
        .unwrap();
    c.query_drop("INSERT INTO orders (id) VALUES (1), (2), (3), (4)")
        .await
        .unwrap();
    let create_fn = "CREATE FUNCTION twice(x BIGINT) RETURNS BIGINT DETERMINISTIC RETURN x * 2";
    assert_eq!(answers(&mut c, create_fn).await, vec!["ok"]);
    let doubled: Vec<i64> = c
        .query("SELECT twice(id) FROM orders ORDER BY 1")
        .await
        .unwrap();
    assert_eq!(doubled, vec![2, 4, 6, 8]);

    // A routine or block that names a sharded table would see one shard's rows: refused.
    for sql in [
        "CREATE PROCEDURE bad() SELECT COUNT(*) FROM orders",
        "CREATE PROCEDURE bad2() BEGIN PREPARE s FROM 'DELETE FROM orders'; EXECUTE s; END",
        "BEGIN NOT ATOMIC DELETE FROM orders; END",
    ] {
        let e = c.query_drop(sql).await.unwrap_err();
        assert_eq!(code(&e), 1235, "{sql}: {e}");
        assert!(e.to_string().contains("`orders`"), "{e}");
    }
    for s in 0..2 {
        let mut d = direct(s).await;
        let n: Option<i64> = d.exec_first(routines, (db,)).await.unwrap();
        assert_eq!(n, Some(2), "shard {s}: add_note and twice only");
    }

    // Triggers are not programs of their own: on a sharded table refused, else where the table is.
    let e = c
        .query_drop("CREATE TRIGGER o_bi BEFORE INSERT ON orders FOR EACH ROW BEGIN SET NEW.id = NEW.id; END")
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1235, "{e}");
    c.query_drop("CREATE TRIGGER n_bi BEFORE INSERT ON notes FOR EACH ROW BEGIN SET NEW.body = UPPER(NEW.body); END")
        .await
        .unwrap();
    let triggers = "SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = ?";
    for (s, want) in [(0, 1), (1, 0)] {
        let mut d = direct(s).await;
        let n: Option<i64> = d.exec_first(triggers, (db,)).await.unwrap();
        assert_eq!(n, Some(want), "shard {s}");
    }

    // BEGIN alone still starts a transaction, inside a multi-statement text too.
    answers(
        &mut c,
        "BEGIN; INSERT INTO notes VALUES (9, 'gone'); ROLLBACK",
    )
    .await;
    let n: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM notes WHERE id = 9")
        .await
        .unwrap();
    assert_eq!(n, Some(0));

    c.query_drop("DROP PROCEDURE add_note; DROP FUNCTION twice")
        .await
        .unwrap();
    for s in 0..2 {
        let mut d = direct(s).await;
        let n: Option<i64> = d.exec_first(routines, (db,)).await.unwrap();
        assert_eq!(n, Some(0), "shard {s}");
    }
}
