//! End to end through the proxy against real MariaDB shards: placement checked by connecting to
//! each shard directly, reads compared with an unsharded copy, errors, transactions, ids.

mod common;

use common::*;
use mysql_async::prelude::Queryable;
use mysql_async::{Row, Value};

const HASH_TABLES: &str = r#"
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

fn texts(rows: Vec<Row>) -> Vec<Vec<Option<String>>> {
    rows.into_iter()
        .map(|r| {
            r.unwrap()
                .into_iter()
                .map(|v| match v {
                    Value::NULL => None,
                    Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
                    Value::Int(i) => Some(i.to_string()),
                    Value::UInt(u) => Some(u.to_string()),
                    Value::Double(d) => Some(d.to_string()),
                    Value::Float(f) => Some(f.to_string()),
                    other => Some(format!("{other:?}")),
                })
                .collect()
        })
        .collect()
}

/// Rows 11..=20 of `items`, one prepared INSERT each.
async fn insert_prepared(c: &mut mysql_async::Conn, names: &[&str]) {
    for id in 11..=20i64 {
        c.exec_drop(
            "INSERT INTO items (id, name, qty, price, data) VALUES (?, ?, ?, ?, ?)",
            (
                id,
                names[(id - 11) as usize],
                id % 4,
                format!("{}.25", id * 3),
                vec![0x0au8, id as u8],
            ),
        )
        .await
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hash_placement_and_reads_match_an_unsharded_copy() {
    let db = "e2e_hash";
    let (_, mut c) = setup(db, HASH_TABLES).await;
    c.query_drop("CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(20), qty INT, price DECIMAL(10,2), data VARBINARY(16))")
        .await
        .unwrap();
    // A multi-row insert split across shards, and prepared single-row inserts.
    let names = [
        "pear", "Apple", "fig", "apple", "kiwi", "plum", "date", "lime", "Fig", "nut",
    ];
    let mut values = Vec::new();
    for id in 1..=10i64 {
        values.push(format!(
            "({id}, '{}', {}, {}.25, X'0a{:02x}')",
            names[(id - 1) as usize],
            id % 4,
            id * 3,
            id
        ));
    }
    let insert = format!(
        "INSERT INTO items (id, name, qty, price, data) VALUES {}",
        values.join(", ")
    );
    c.query_drop(&insert).await.unwrap();
    assert_eq!(c.affected_rows(), 10);
    insert_prepared(&mut c, &names).await;
    // Placement: shard = id mod 2, checked on each shard directly.
    let evens: Vec<i64> = (1..=20).filter(|i| i % 2 == 0).collect();
    let odds: Vec<i64> = (1..=20).filter(|i| i % 2 == 1).collect();
    assert_eq!(ids_on(0, db, "SELECT id FROM items").await, evens);
    assert_eq!(ids_on(1, db, "SELECT id FROM items").await, odds);

    // The same rows in one unsharded database, read directly.
    let mut reference = direct(0).await;
    reference
        .query_drop("DROP DATABASE IF EXISTS e2e_ref")
        .await
        .unwrap();
    reference
        .query_drop("CREATE DATABASE e2e_ref")
        .await
        .unwrap();
    reference.query_drop("USE e2e_ref").await.unwrap();
    reference
        .query_drop("CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(20), qty INT, price DECIMAL(10,2), data VARBINARY(16))")
        .await
        .unwrap();
    reference.query_drop(&insert).await.unwrap();
    insert_prepared(&mut reference, &names).await;
    let queries = [
        "SELECT id, name FROM items WHERE id = 7",
        "SELECT id, name FROM items WHERE id = '8'",
        "SELECT id FROM items WHERE id IN (3, 4, 99) ORDER BY id",
        "SELECT id, name, price FROM items ORDER BY id",
        "SELECT id, name FROM items ORDER BY name, id LIMIT 3, 5",
        "SELECT id FROM items WHERE id BETWEEN 5 AND 12 ORDER BY id DESC",
        "SELECT COUNT(*), SUM(qty), MIN(name), MAX(price) FROM items",
        "SELECT SUM(qty) FROM items WHERE id BETWEEN 2 AND 9",
        "SELECT DISTINCT name FROM items ORDER BY name",
        "SELECT DISTINCT qty FROM items ORDER BY qty DESC",
        "SELECT * FROM items WHERE id = 5 OR id = 6 ORDER BY id",
        "SELECT name, data FROM items ORDER BY id LIMIT 4",
        "SELECT COUNT(*) FROM items WHERE id = -1",
    ];
    for q in queries {
        let want = texts(reference.query(q).await.unwrap());
        let text = texts(c.query(q).await.unwrap_or_else(|e| panic!("{q}: {e}")));
        assert_eq!(text, want, "text protocol: {q}");
        let binary = texts(c.exec(q, ()).await.unwrap_or_else(|e| panic!("{q}: {e}")));
        let want_binary = texts(reference.exec(q, ()).await.unwrap());
        assert_eq!(binary, want_binary, "binary protocol: {q}");
    }
    // Prepared statements with parameters route by the bound values.
    for id in [3i64, 4, 15] {
        let row: Option<(i64, String)> = c
            .exec_first("SELECT id, name FROM items WHERE id = ?", (id,))
            .await
            .unwrap();
        let want: Option<(i64, String)> = reference
            .exec_first("SELECT id, name FROM items WHERE id = ?", (id,))
            .await
            .unwrap();
        assert_eq!(row, want);
    }
    let got: Vec<i64> = c
        .exec(
            "SELECT id FROM items WHERE id BETWEEN ? AND ? ORDER BY id",
            (5, 9),
        )
        .await
        .unwrap();
    assert_eq!(got, vec![5, 6, 7, 8, 9]);
    // Bytes stay bytes: VARBINARY comes back with the binary charset.
    let data: Vec<u8> = c
        .query_first("SELECT data FROM items WHERE id = 12")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(data, vec![0x0a, 12]);
    // Updates and deletes route by key or fan out.
    c.query_drop("UPDATE items SET qty = qty + 100 WHERE id = 3")
        .await
        .unwrap();
    assert_eq!(c.affected_rows(), 1);
    assert_eq!(
        ids_on(1, db, "SELECT qty FROM items WHERE id = 3").await,
        vec![103]
    );
    c.query_drop("UPDATE items SET qty = 0 WHERE name = 'fig'")
        .await
        .unwrap();
    assert_eq!(
        c.affected_rows(),
        4,
        "fig and Fig, ids 3, 9, 13, 19, on both shards"
    );
    c.query_drop("DELETE FROM items WHERE id IN (19, 20)")
        .await
        .unwrap();
    assert_eq!(c.affected_rows(), 2);
    let n: i64 = c
        .query_first("SELECT COUNT(*) FROM items")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 18);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_algorithm_places_rows_where_the_rule_says() {
    let db = "e2e_algos";
    fresh_schema(db).await;
    let tables = r#"
[[schemas.tables]]
names = ["customers"]
algorithm = "list"
key = "city"
key_type = "string"
lists = [ { shard = "s0", values = ["paris", "lyon"] }, { shard = "s1", values = ["berlin", "munich"] } ]
default_shard = "s0"

[[schemas.tables]]
names = ["orders"]
algorithm = "range"
key = "created"
key_type = "date"
ranges = [ { shard = "s0", from = "2026-01-01", to = "2026-07-01" }, { shard = "s1", from = "2026-07-01", to = "2027-01-01" } ]

[[schemas.tables]]
names = ["sessions"]
algorithm = "consistent_hash"
key = "token"
key_type = "string"
virtual_nodes = 160

[[schemas.tables]]
names = ["countries"]
algorithm = "broadcast"
"#;
    let r = rules(db, tables);
    let sessions_rule = r.schema(db).unwrap().table("sessions").unwrap().clone();
    let addr = start_proxy(r).await;
    let mut c = client(addr, db).await;
    for ddl in [
        "CREATE TABLE customers (id INT PRIMARY KEY, city VARCHAR(20))",
        "CREATE TABLE orders (id INT PRIMARY KEY, created DATE)",
        "CREATE TABLE sessions (id INT PRIMARY KEY, token VARCHAR(40))",
        "CREATE TABLE countries (code CHAR(2) PRIMARY KEY, name VARCHAR(20))",
        "CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)",
    ] {
        c.query_drop(ddl).await.unwrap();
    }
    // list: case-insensitive like MySQL, unknown cities on the default shard
    c.query_drop("INSERT INTO customers (id, city) VALUES (1, 'paris'), (2, 'Berlin'), (3, 'LYON'), (4, 'munich'), (5, 'tokyo')")
        .await
        .unwrap();
    assert_eq!(
        ids_on(0, db, "SELECT id FROM customers").await,
        vec![1, 3, 5]
    );
    assert_eq!(ids_on(1, db, "SELECT id FROM customers").await, vec![2, 4]);
    let got: Vec<i64> = c
        .query("SELECT id FROM customers WHERE city = 'BERLIN'")
        .await
        .unwrap();
    assert_eq!(got, vec![2]);
    // range on dates; a date outside every range has no shard
    c.query_drop("INSERT INTO orders (id, created) VALUES (1, '2026-01-15'), (2, '2026-06-30'), (3, '2026-07-01'), (4, '2026-12-31')")
        .await
        .unwrap();
    assert_eq!(ids_on(0, db, "SELECT id FROM orders").await, vec![1, 2]);
    assert_eq!(ids_on(1, db, "SELECT id FROM orders").await, vec![3, 4]);
    let e = c
        .query_drop("INSERT INTO orders (id, created) VALUES (5, '2030-01-01')")
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1526);
    let got: Vec<i64> = c
        .query("SELECT id FROM orders WHERE created >= '2026-07-01' ORDER BY id")
        .await
        .unwrap();
    assert_eq!(got, vec![3, 4]);
    // consistent hash: each row on exactly the shard the ring names
    for i in 0..20 {
        c.exec_drop(
            "INSERT INTO sessions (id, token) VALUES (?, ?)",
            (i, format!("tok-{i}")),
        )
        .await
        .unwrap();
    }
    let mut expected = [Vec::new(), Vec::new()];
    for i in 0..20i64 {
        let key = shardgate::route::Key::coerce(
            sessions_rule.key_type,
            &Value::Bytes(format!("tok-{i}").into_bytes()),
        )
        .unwrap();
        expected[sessions_rule.shard_for_key(&key).unwrap()].push(i);
    }
    assert!(
        !expected[0].is_empty() && !expected[1].is_empty(),
        "20 keys should reach both shards"
    );
    assert_eq!(ids_on(0, db, "SELECT id FROM sessions").await, expected[0]);
    assert_eq!(ids_on(1, db, "SELECT id FROM sessions").await, expected[1]);
    // broadcast: every shard has every row, the proxy shows each once
    c.query_drop("INSERT INTO countries (code, name) VALUES ('fr', 'France'), ('de', 'Germany')")
        .await
        .unwrap();
    assert_eq!(c.affected_rows(), 2);
    for s in 0..2 {
        assert_eq!(
            ids_on(s, db, "SELECT COUNT(*) FROM countries").await,
            vec![2]
        );
    }
    let n: i64 = c
        .query_first("SELECT COUNT(*) FROM countries")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 2);
    // unsharded: only on the default shard
    c.query_drop("INSERT INTO notes (id, body) VALUES (1, 'x')")
        .await
        .unwrap();
    assert_eq!(ids_on(0, db, "SELECT id FROM notes").await, vec![1]);
    let e = direct(1)
        .await
        .query_drop(format!("SELECT * FROM `{db}`.notes"))
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1146);
    // SHOW TABLES lists logical tables once.
    let tables: Vec<String> = c.query("SHOW TABLES").await.unwrap();
    assert_eq!(
        tables,
        vec!["countries", "customers", "notes", "orders", "sessions"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_the_right_error_and_the_session_goes_on() {
    let db = "e2e_errors";
    let (addr, mut c) = setup(db, HASH_TABLES).await;
    c.query_drop("CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(20))")
        .await
        .unwrap();
    let cases = [
        ("SELEC 1", 1064),
        ("SELECT * FROM nosuch", 1146),
        (
            "SELECT name, COUNT(*) FROM items GROUP BY name WITH ROLLUP",
            1235,
        ),
        ("UPDATE items SET id = 5 WHERE id = 4", 1235),
        (
            "SELECT * FROM items a JOIN items b ON a.name = b.name",
            1235,
        ),
        ("INSERT INTO items VALUES (1)", 1136),
        ("INSERT INTO items (name) VALUES ('no key')", 1235),
        ("SELECT * FROM nosuchdb.t", 1049),
        ("SET GLOBAL max_connections = 10", 1227),
        ("XA START 'x'", 1235),
    ];
    for (sql, want) in cases {
        let e = c.query_drop(sql).await.unwrap_err();
        assert_eq!(code(&e), want, "{sql}: {e}");
        let one: i64 = c.query_first("SELECT 1").await.unwrap().unwrap();
        assert_eq!(one, 1, "the session still works after {sql}");
    }
    let e = client_as(addr, "app", "wrong", Some(db)).await.unwrap_err();
    assert_eq!(code(&e), 1045);
    let e = client_as(addr, "limited", "pw", Some(&format!("{db}_other")))
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1044);
    let e = client_as(addr, "app", "app", Some("nosuch"))
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1049);
    let mut l = client_as(addr, "limited", "pw", Some(db)).await.unwrap();
    let e = l.query_drop(format!("USE {db}_other")).await.unwrap_err();
    assert_eq!(code(&e), 1044);
    let dbs: Vec<String> = l.query("SHOW DATABASES").await.unwrap();
    // Its schema, and information_schema, which every user may read (as on MySQL).
    assert_eq!(dbs, vec![db.to_string(), "information_schema".into()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_commit_and_roll_back_on_every_shard() {
    let db = "e2e_txn";
    let (addr, mut c) = setup(db, HASH_TABLES).await;
    c.query_drop("CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(20))")
        .await
        .unwrap();
    c.query_drop("BEGIN").await.unwrap();
    c.query_drop("INSERT INTO items (id, name) VALUES (100, 'a'), (101, 'b')")
        .await
        .unwrap();
    let n: i64 = c
        .query_first("SELECT COUNT(*) FROM items")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 2, "the transaction sees its own writes");
    c.query_drop("ROLLBACK").await.unwrap();
    assert!(ids_on(0, db, "SELECT id FROM items").await.is_empty());
    assert!(ids_on(1, db, "SELECT id FROM items").await.is_empty());
    c.query_drop("START TRANSACTION").await.unwrap();
    c.query_drop("INSERT INTO items (id, name) VALUES (100, 'a'), (101, 'b')")
        .await
        .unwrap();
    c.query_drop("COMMIT").await.unwrap();
    assert_eq!(ids_on(0, db, "SELECT id FROM items").await, vec![100]);
    assert_eq!(ids_on(1, db, "SELECT id FROM items").await, vec![101]);
    // autocommit=0: statements open a transaction implicitly; others do not see it until COMMIT.
    c.query_drop("SET autocommit=0").await.unwrap();
    c.query_drop("INSERT INTO items (id, name) VALUES (102, 'c'), (103, 'd')")
        .await
        .unwrap();
    let mut other = client(addr, db).await;
    let n: i64 = other
        .query_first("SELECT COUNT(*) FROM items")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 2);
    c.query_drop("COMMIT").await.unwrap();
    let n: i64 = other
        .query_first("SELECT COUNT(*) FROM items")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 4);
    // A ROLLBACK with nothing open is fine.
    c.query_drop("ROLLBACK").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_increment_ids_are_dense_and_global() {
    let db = "e2e_ids";
    let (_, mut c) = setup(db, HASH_TABLES).await;
    c.query_drop("CREATE TABLE seq (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, v INT)")
        .await
        .unwrap();
    c.query_drop("INSERT INTO seq (v) VALUES (10), (20), (30)")
        .await
        .unwrap();
    assert_eq!(c.last_insert_id(), Some(1));
    c.query_drop("INSERT INTO seq (id, v) VALUES (0, 40)")
        .await
        .unwrap();
    assert_eq!(c.last_insert_id(), Some(4));
    c.exec_drop("INSERT INTO seq (id, v) VALUES (?, ?)", (Value::NULL, 50))
        .await
        .unwrap();
    assert_eq!(c.last_insert_id(), Some(5));
    let last: u64 = c
        .query_first("SELECT LAST_INSERT_ID()")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(last, 5);
    assert_eq!(ids_on(0, db, "SELECT id FROM seq").await, vec![2, 4]);
    assert_eq!(ids_on(1, db, "SELECT id FROM seq").await, vec![1, 3, 5]);
    // After DROP/CREATE the sequence starts again.
    c.query_drop("DROP TABLE seq").await.unwrap();
    c.query_drop("CREATE TABLE seq (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, v INT)")
        .await
        .unwrap();
    c.query_drop("INSERT INTO seq (v) VALUES (1)")
        .await
        .unwrap();
    assert_eq!(c.last_insert_id(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_variables_follow_the_session_to_every_shard() {
    let db = "e2e_vars";
    let (addr, mut c) = setup(db, HASH_TABLES).await;
    c.query_drop("CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(20))")
        .await
        .unwrap();
    c.query_drop("INSERT INTO items (id, name) VALUES (1, 'a'), (2, 'b')")
        .await
        .unwrap();
    c.query_drop("SET SESSION time_zone = '+05:00'")
        .await
        .unwrap();
    c.query_drop("SET sql_mode = 'ANSI_QUOTES'").await.unwrap();
    // Every statement, whatever shard it runs on, sees the session's variables.
    for id in [1, 2] {
        let row: Option<(i64, String, String)> = c
            .query_first(format!(
                "SELECT id, @@time_zone, @@sql_mode FROM items WHERE id = {id}"
            ))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            row.map(|r| (r.1, r.2)),
            Some(("+05:00".to_string(), "ANSI_QUOTES".to_string()))
        );
    }
    // ANSI_QUOTES really applies: "name" is a column now.
    c.query_drop(r#"INSERT INTO items (id, "name") VALUES (3, 'x')"#)
        .await
        .unwrap();
    // A variable the server rejects is an error and changes nothing.
    let e = c.query_drop("SET nosuch_variable = 1").await.unwrap_err();
    assert_eq!(code(&e), 1193);
    let tz: String = c.query_first("SELECT @@time_zone").await.unwrap().unwrap();
    assert_eq!(tz, "+05:00");
    // Another session is not affected.
    let mut other = client(addr, db).await;
    let tz: String = other
        .query_first("SELECT @@time_zone")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tz, "SYSTEM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_answers_for_the_session_not_a_backend() {
    let db = "e2e_local";
    let (_, mut c) = setup(db, HASH_TABLES).await;
    let user: String = c.query_first("SELECT USER()").await.unwrap().unwrap();
    assert_eq!(
        user, "app@127.0.0.1",
        "the backends' root account must not show through"
    );
    let cur: String = c
        .query_first("SELECT CURRENT_USER()")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cur, "app@%");
    c.query_drop("SET autocommit = 0").await.unwrap();
    let ac: i64 = c.query_first("SELECT @@autocommit").await.unwrap().unwrap();
    assert_eq!(ac, 0);
    let ac: i64 = c
        .query_first("SELECT @@session.autocommit")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ac, 0);
    c.query_drop("SET autocommit = 1").await.unwrap();
    let ac: i64 = c.query_first("SELECT @@autocommit").await.unwrap().unwrap();
    assert_eq!(ac, 1);
    let v: String = c.query_first("SELECT VERSION()").await.unwrap().unwrap();
    assert_eq!(v, shardgate::engine::SERVER_VERSION);
    let db_now: Option<String> = c.query_first("SELECT DATABASE()").await.unwrap().unwrap();
    assert_eq!(db_now.as_deref(), Some(db));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_warnings_reports_the_last_statement_whatever_shard_ran_it() {
    let db = "e2e_warn";
    let (_, mut c) = setup(db, HASH_TABLES).await;
    c.query_drop("CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(3))")
        .await
        .unwrap();
    c.query_drop("SET autocommit = 0").await.unwrap();
    c.query_drop("INSERT IGNORE INTO items (id, name) VALUES (1, 'toolong'), (2, 'x')")
        .await
        .unwrap();
    assert_eq!(c.get_warnings(), 1);
    let w: Vec<(String, u32, String)> = c.query("SHOW WARNINGS").await.unwrap();
    assert_eq!(w.len(), 1);
    assert_eq!((w[0].0.as_str(), w[0].1), ("Warning", 1265), "{w:?}");
    let n: u64 = c
        .query_first("SELECT @@warning_count")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 1, "the previous statement's warnings");
    c.query_drop("COMMIT").await.unwrap();
    let e = c.query_drop("SELECT * FROM nosuch").await.unwrap_err();
    assert_eq!(code(&e), 1146);
    let w: Vec<(String, u32, String)> = c.query("SHOW WARNINGS").await.unwrap();
    assert_eq!((w[0].0.as_str(), w[0].1), ("Error", 1146));
    c.query_drop("SELECT 1").await.unwrap();
    let w: Vec<(String, u32, String)> = c.query("SHOW WARNINGS").await.unwrap();
    assert!(w.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_user_authenticates_and_starts_a_fresh_session() {
    let db = "e2e_chuser";
    let (_, mut c) = setup(db, HASH_TABLES).await;
    c.query_drop("CREATE TABLE items (id BIGINT PRIMARY KEY)")
        .await
        .unwrap();
    c.query_drop("BEGIN").await.unwrap();
    c.query_drop("INSERT INTO items (id) VALUES (1), (2)")
        .await
        .unwrap();
    let opts = mysql_async::ChangeUserOpts::default()
        .with_user(Some("limited".into()))
        .with_pass(Some("pw".into()))
        .with_db_name(Some(db.into()));
    c.change_user(opts).await.unwrap();
    let user: String = c.query_first("SELECT USER()").await.unwrap().unwrap();
    assert_eq!(user, "limited@127.0.0.1");
    let dbs: Vec<String> = c.query("SHOW DATABASES").await.unwrap();
    assert_eq!(dbs, vec![db.to_string(), "information_schema".into()]);
    assert!(
        ids_on(0, db, "SELECT id FROM items").await.is_empty(),
        "the old session's transaction was rolled back"
    );
    assert!(ids_on(1, db, "SELECT id FROM items").await.is_empty());
    let bad = mysql_async::ChangeUserOpts::default()
        .with_user(Some("app".into()))
        .with_pass(Some("wrong".into()));
    let e = c.change_user(bad).await.unwrap_err();
    assert_eq!(code(&e), 1045);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_shard_results_stream_and_keep_the_transaction() {
    let db = "e2e_stream";
    let (_, mut c) = setup(db, HASH_TABLES).await;
    // 200,000 rows from one shard (MariaDB's sequence engine): relayed as they arrive.
    let mut n = 0u64;
    let mut sum = 0u64;
    let mut result = c
        .query_iter("SELECT seq FROM seq_1_to_200000")
        .await
        .unwrap();
    while let Some(row) = result.next().await.unwrap() {
        let v: u64 = mysql_async::from_row(row);
        n += 1;
        sum += v;
    }
    drop(result);
    assert_eq!((n, sum), (200_000, 200_000 * 200_001 / 2));
    // Prepared (binary protocol) too.
    let rows: Vec<u64> = c
        .exec("SELECT seq FROM seq_1_to_1000 WHERE seq > ?", (990,))
        .await
        .unwrap();
    assert_eq!(rows, (991..=1000).collect::<Vec<_>>());
    // Inside a transaction the streamed read uses the pinned connection and gives it back.
    c.query_drop("CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(20))")
        .await
        .unwrap();
    c.query_drop("BEGIN").await.unwrap();
    c.query_drop("INSERT INTO items (id, name) VALUES (100, 'a')")
        .await
        .unwrap();
    let seen: Option<String> = c
        .query_first("SELECT name FROM items WHERE id = 100")
        .await
        .unwrap();
    assert_eq!(
        seen.as_deref(),
        Some("a"),
        "the transaction reads its own write"
    );
    c.query_drop("INSERT INTO items (id, name) VALUES (102, 'b')")
        .await
        .unwrap();
    c.query_drop("ROLLBACK").await.unwrap();
    assert!(
        ids_on(0, db, "SELECT id FROM items").await.is_empty(),
        "both inserts were one transaction"
    );
    // An error from the backend for a streamed statement is an error packet.
    let e = c
        .query_drop("SELECT nosuchcolumn FROM items WHERE id = 1")
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1054);
    let one: i64 = c.query_first("SELECT 1").await.unwrap().unwrap();
    assert_eq!(one, 1);
}
