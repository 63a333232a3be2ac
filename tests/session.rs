//! What the proxy answers for the session, compared statement by statement with a plain
//! MariaDB holding the same tables: merged OK packets and ROW_COUNT() of statements split over
//! shards, session functions inside larger statements, SET / SET STATEMENT / transaction access
//! modes, warnings of SET, LAST_INSERT_ID(), user variables, SQL-level PREPARE/EXECUTE, and a
//! client announcing latin1. Rows are checked on each shard directly where placement matters.

mod common;

use common::*;
use mysql_async::prelude::Queryable;

const TABLES: &str = r#"
[[schemas.tables]]
names = ["items"]
algorithm = "hash"
key = "id"
key_type = "int"

[[schemas.tables]]
names = ["seq"]
algorithm = "hash"
key = "id"
key_type = "int"
auto_increment = true
"#;

const DDL: &[&str] = &[
    "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20), qty INT)",
    "CREATE TABLE seq (id BIGINT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(10))",
    "CREATE TABLE plain_ai (id BIGINT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(10))",
    "CREATE TABLE r (id INT)",
    "CREATE TABLE c2 (c CHAR(2))",
];

/// The proxy and the plain server, each with the tables of `DDL` in `db`.
async fn both(db: &str) -> (mysql_async::Conn, mysql_async::Conn) {
    let (_, mut proxy) = setup(db, TABLES).await;
    let mut reference = plain(db).await;
    for ddl in DDL {
        proxy.query_drop(*ddl).await.unwrap();
        reference.query_drop(*ddl).await.unwrap();
    }
    (proxy, reference)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_over_several_shards_answer_like_one_server() {
    let (mut p, mut r) = both("sess_ok").await;
    same_answers(
        &mut p,
        &mut r,
        &[
            // 3 rows over 2 shards: summed affected rows, `Records: 3 ...`, ROW_COUNT() 3.
            "INSERT INTO items (id, name, qty) VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3)",
            "SELECT ROW_COUNT()",
            "UPDATE items SET qty = qty + 1 WHERE id IN (1, 2, 3)",
            "SELECT ROW_COUNT()",
            "UPDATE items SET qty = qty WHERE id IN (1, 2, 3)",
            "SELECT ROW_COUNT()",
            "SELECT id, name FROM items ORDER BY id",
            "SELECT ROW_COUNT()",
            // Two rows, one per shard: each shard reports no info of its own.
            "INSERT INTO items (id, name, qty) VALUES (4, 'd', 4), (5, 'e', 5)",
            "INSERT IGNORE INTO items (id, name, qty) VALUES (4, 'x', 0), (6, 'f', 6)",
            "INSERT INTO items (id, name, qty) VALUES (1, 'a', 1), (2, 'z', 2) ON DUPLICATE KEY UPDATE name = VALUES(name)",
            "SELECT ROW_COUNT()",
            "DELETE FROM items WHERE id IN (5, 6)",
            "SELECT ROW_COUNT()",
            "SET @x = 1",
            "SELECT ROW_COUNT(), FOUND_ROWS()",
            // SQL_CALC_FOUND_ROWS: each shard counts its rows without the LIMIT.
            "SELECT SQL_CALC_FOUND_ROWS id, name FROM items ORDER BY id LIMIT 2",
            "SELECT FOUND_ROWS()",
            "SELECT SQL_CALC_FOUND_ROWS id FROM items WHERE id > 1 ORDER BY id DESC LIMIT 1, 1",
            "SELECT FOUND_ROWS()",
            "SELECT SQL_CALC_FOUND_ROWS id FROM items WHERE id = 2 LIMIT 0",
            "SELECT FOUND_ROWS()",
            "SELECT id FROM items ORDER BY id LIMIT 1",
            "SELECT FOUND_ROWS()",
        ],
    )
    .await;
    // Counting rows the merge folds together would be a wrong count: refused.
    let e = p
        .query_drop("SELECT SQL_CALC_FOUND_ROWS DISTINCT qty FROM items LIMIT 1")
        .await
        .expect_err("refused");
    assert!(
        matches!(&e, mysql_async::Error::Server(s) if s.code == 1235 && s.message.contains("SQL_CALC_FOUND_ROWS")),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_values_are_the_same_wherever_they_appear() {
    let (mut p, mut r) = both("sess_fn").await;
    let alone: String = p.query_first("SELECT VERSION()").await.unwrap().unwrap();
    let (inside, one): (String, i64) = p.query_first("SELECT VERSION(), 1").await.unwrap().unwrap();
    assert_eq!(
        (alone.as_str(), inside.as_str(), one),
        (
            shardgate::engine::SERVER_VERSION,
            shardgate::engine::SERVER_VERSION,
            1
        )
    );
    let id: u64 = p
        .query_first("SELECT CONNECTION_ID()")
        .await
        .unwrap()
        .unwrap();
    let within: (u64, String) = p
        .query_first("SELECT CONNECTION_ID(), CONCAT('x', CONNECTION_ID())")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(within, (id, format!("x{id}")));
    same_answers(
        &mut p,
        &mut r,
        &[
            "SET @cid = CONNECTION_ID()",
            "SELECT @cid = CONNECTION_ID()",
            "INSERT INTO plain_ai (v) VALUES ('a'), ('b')",
            "SELECT LAST_INSERT_ID() + 10, CONCAT('id ', LAST_INSERT_ID())",
            "SELECT DATABASE(), @@autocommit, @@in_transaction",
            "SET autocommit = 0",
            "SELECT @@autocommit, 1 + @@autocommit",
            "INSERT INTO items (id, name) VALUES (7, 'g')",
            "SELECT @@in_transaction, @@autocommit",
            "ROLLBACK",
            "SET autocommit = 1",
            "SET SESSION tx_isolation = 'READ-COMMITTED'",
            "SELECT @@tx_isolation",
            "SET tx_read_only = 1",
            "INSERT INTO items (id, name) VALUES (8, 'h')",
            "SET tx_read_only = 0",
        ],
    )
    .await;
    // MySQL's names (the proxy announces MySQL 5.7) for MariaDB's tx_isolation / tx_read_only,
    // in reads and in SET: the plain MariaDB 10.11 does not know them, so they are checked
    // against the MariaDB names.
    p.query_drop("SET SESSION transaction_isolation = 'SERIALIZABLE'")
        .await
        .unwrap();
    let levels: (String, String, String) = p
        .query_first(
            "SELECT @@transaction_isolation, @@session.transaction_isolation, @@tx_isolation",
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        levels,
        (
            "SERIALIZABLE".into(),
            "SERIALIZABLE".into(),
            "SERIALIZABLE".into()
        )
    );
    p.query_drop("SET transaction_read_only = 1").await.unwrap();
    let e = p
        .query_drop("INSERT INTO items (id, name) VALUES (8, 'h')")
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1792);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_settings_are_carried_statements_are_not() {
    let (mut p, mut r) = both("sess_set").await;
    same_answers(
        &mut p,
        &mut r,
        &[
            // Runs once, with its setting for that one statement.
            "SET STATEMENT sql_mode='' FOR INSERT INTO r VALUES (1)",
            "SET sort_buffer_size = 300000",
            "SET sql_mode = 'STRICT_ALL_TABLES'",
            "SELECT COUNT(*) FROM r",
            // A later SET of one variable replaces what an earlier SET of two said.
            "SET sql_mode = '', sort_buffer_size = 300000",
            "SET sql_mode = 'STRICT_ALL_TABLES'",
            "SELECT @@sql_mode, @@sort_buffer_size",
            "INSERT INTO c2 VALUES ('abc')",
            "SET sql_mode = CONCAT(@@sql_mode, ',NO_ZERO_DATE')",
            "SELECT @@sql_mode",
            "SET sql_mode = DEFAULT",
            "SELECT @@sql_mode = @@GLOBAL.sql_mode",
            // Transaction access modes.
            "START TRANSACTION READ ONLY",
            "INSERT INTO items (id, name) VALUES (9, 'i')",
            "ROLLBACK",
            "SET TRANSACTION READ ONLY",
            "START TRANSACTION",
            "INSERT INTO items (id, name) VALUES (9, 'i')",
            "COMMIT",
            "START TRANSACTION",
            "INSERT INTO items (id, name) VALUES (9, 'i')",
            "COMMIT",
            "SELECT id, name FROM items WHERE id = 9",
            // Warnings of SET statements, and SHOW ERRORS leaving the list alone.
            "SET @@tmp_table_size = 1024",
            "SHOW WARNINGS",
            "SELECT @@warning_count",
            "SELECT * FROM no_such_table",
            "SHOW ERRORS",
            "SHOW WARNINGS",
            "SHOW COUNT(*) ERRORS",
        ],
    )
    .await;
    // The SET STATEMENT row exists once (r is unsharded: on the default shard s0).
    assert_eq!(ids_on(0, "sess_set", "SELECT id FROM r").await, vec![1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_insert_id_counts_generated_ids_only() {
    let (mut p, mut r) = both("sess_lid").await;
    // seq: numbered by the proxy; plain_ai: unsharded, numbered by its server.
    for table in ["seq", "plain_ai"] {
        same_answers(
            &mut p,
            &mut r,
            &[
                &format!("INSERT INTO {table} (id, v) VALUES (NULL, 'a')"),
                "SELECT LAST_INSERT_ID()",
                &format!("INSERT INTO {table} (id, v) VALUES (-1, 'b')"),
                "SELECT LAST_INSERT_ID()",
                &format!("INSERT INTO {table} (id, v) VALUES (5, 'c')"),
                "SELECT LAST_INSERT_ID()",
                &format!("INSERT INTO {table} VALUES (7, 'g'), (8, 'h')"),
                "SELECT LAST_INSERT_ID()",
                // The counter moves past an explicit id.
                &format!("INSERT INTO {table} (v) VALUES ('d'), ('e')"),
                "SELECT LAST_INSERT_ID()",
                &format!("SELECT id, v FROM {table} ORDER BY id"),
                &format!("UPDATE {table} SET v = 'f' WHERE id = LAST_INSERT_ID(6)"),
                "SELECT LAST_INSERT_ID()",
            ],
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_variables_and_sql_prepared_statements() {
    let (mut p, mut r) = both("sess_var").await;
    same_answers(
        &mut p,
        &mut r,
        &[
            "INSERT INTO items (id, name, qty) VALUES (1, 'a', 10), (2, 'b', 20), (3, 'c', 30), (4, 'd', 40)",
            "SET @v := 3, @s = 'it''s', @d = 1.50, @n = NULL",
            "SELECT @v, @s, @d, @n, @undefined",
            // Typed as MariaDB types the references, inside larger expressions too.
            "SELECT @v, @v + 1, @s, 'x', @@autocommit, @@autocommit + 1, LAST_INSERT_ID() + 1",
            "SELECT @v AS a, name FROM items WHERE id = @v",
            "SELECT id, name FROM items WHERE id = @v",
            "SELECT qty INTO @q FROM items WHERE id = 2",
            "SELECT @q",
            "SELECT qty INTO @q FROM items WHERE id = 99",
            "SELECT @q",
            "SELECT qty INTO @q FROM items ORDER BY id",
            "UPDATE items SET qty = @q + 1 WHERE id = @v",
            "SELECT id, qty FROM items ORDER BY id",
            // SQL-level prepared statements, routed by each execution's values.
            "PREPARE total FROM 'SELECT COUNT(*), SUM(qty) FROM items'",
            "EXECUTE total",
            "PREPARE one FROM 'SELECT id, name FROM items WHERE id = ?'",
            "EXECUTE one USING 2",
            "SET @id = 3",
            "EXECUTE one USING @id",
            "EXECUTE one USING 1, 2",
            "SET @sql = 'INSERT INTO items (id, name, qty) VALUES (?, ?, 0)'",
            "PREPARE ins FROM @sql",
            "SET @name = 'e'",
            "EXECUTE ins USING 5, @name",
            "EXECUTE ins USING 6, 'f'",
            "SELECT id, name FROM items ORDER BY id",
            "DEALLOCATE PREPARE ins",
            "EXECUTE ins USING 7, 'g'",
            "DROP PREPARE nosuch",
        ],
    )
    .await;
    // Rows inserted by EXECUTE went to their own shards.
    assert_eq!(
        ids_on(0, "sess_var", "SELECT id FROM items").await,
        vec![2, 4, 6]
    );
    assert_eq!(
        ids_on(1, "sess_var", "SELECT id FROM items").await,
        vec![1, 3, 5]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_latin1_client_gets_latin1() {
    let db = "sess_cs";
    let (addr, mut p) = setup(db, TABLES).await;
    let mut r = plain(db).await;
    for c in [&mut p, &mut r] {
        c.query_drop(
            "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20) CHARACTER SET utf8mb4)",
        )
        .await
        .unwrap();
    }
    // The mariadb CLI announcing latin1 in its handshake, with latin1 bytes in its text
    // ('é' is E9), against the proxy and the plain server.
    let script = b"INSERT INTO items (id, name) VALUES (1, 'caf\xe9');\nSELECT @@character_set_client, @@character_set_results, @@collation_connection, name, HEX(name), LENGTH(name) FROM items;\n";
    let run = |port: u16, user: &str, pw: &str| {
        let mut child = std::process::Command::new("timeout")
            .args([
                "60",
                "mariadb",
                "--no-defaults",
                "--protocol=TCP",
                "-h127.0.0.1",
            ])
            .arg(format!("-P{port}"))
            .arg(format!("-u{user}"))
            .args((!pw.is_empty()).then(|| format!("-p{pw}")))
            .args([
                "--default-character-set=latin1",
                "--batch",
                "--column-type-info",
                db,
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("mariadb client");
        use std::io::Write;
        child.stdin.take().unwrap().write_all(script).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let plain_port = plain_server().servers[0].port;
    let via_proxy = run(addr.port(), "app", "app");
    let direct = run(plain_port, "root", "");
    assert_eq!(
        String::from_utf8_lossy(&via_proxy),
        String::from_utf8_lossy(&direct)
    );
    // Stored as UTF-8 on the shard, shown as latin1 to the client.
    let hex: Vec<String> = {
        let mut c = direct_db(1, db).await;
        c.query("SELECT HEX(name) FROM items").await.unwrap()
    };
    assert_eq!(hex, vec!["636166C3A9".to_string()]);
    assert!(via_proxy.windows(4).any(|w| w == b"caf\xe9"));
}

async fn direct_db(s: usize, db: &str) -> mysql_async::Conn {
    let mut c = direct(s).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    c
}

/// A transaction whose statement outlives `backend_timeout_ms` loses that shard's connection
/// mid-transaction. That connection is never lent again with the transaction open: other
/// clients' autocommit writes take the row lock and stay written, and the lost transaction's
/// write is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_lost_mid_transaction_is_reset_before_reuse() {
    let db = "sess_reset";
    fresh_schema(db).await;
    let addr = start_proxy(rules_with(db, "backend_timeout_ms = 1000", TABLES)).await;
    let mut c = client(addr, db).await;
    c.query_drop("CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20), qty INT)")
        .await
        .unwrap();
    c.query_drop("INSERT INTO items VALUES (2, 'b', 5)")
        .await
        .unwrap();
    c.query_drop("BEGIN").await.unwrap();
    c.query_drop("UPDATE items SET qty = 100 WHERE id = 2")
        .await
        .unwrap();
    // Outlives the backend timeout: the shard's connection is given up, its transaction open.
    let e = c
        .query_drop("SELECT SLEEP(3) FROM items WHERE id = 2")
        .await
        .expect_err("the statement outlives backend_timeout_ms");
    assert_eq!(code(&e), 2013, "{e}");
    let _ = c.query_drop("ROLLBACK").await;
    drop(c);
    // The server ends the SLEEP; the pool then takes the connection back.
    tokio::time::sleep(std::time::Duration::from_millis(3000)).await;
    for _ in 0..4 {
        let mut other = client(addr, db).await;
        other
            .query_drop("UPDATE items SET qty = qty + 1 WHERE id = 2")
            .await
            .expect("the row lock is free and the write commits");
    }
    let mut qty = Vec::new();
    for s in 0..2 {
        let mut d = direct_db(s, db).await;
        let q: Vec<i64> = d.query("SELECT qty FROM items WHERE id = 2").await.unwrap();
        qty.extend(q);
    }
    assert_eq!(
        qty,
        vec![9],
        "5, plus four committed increments, the lost 100 gone"
    );
}
