//! Uncorrelated subqueries across shards are evaluated first and their values written into the
//! statement: every statement runs through the proxy (2 shards) and on a plain MariaDB holding
//! the same rows, answers compared (rows in order, column metadata, error codes). Also: inside
//! a transaction the subquery sees the transaction's own writes, prepared statements bind their
//! parameters inside the subquery, MariaDB's 1242 for a scalar subquery of several rows, the
//! cap on inlined values, and correlated subqueries refused with 1235.

mod common;

use common::*;
use mysql_async::prelude::Queryable;
use mysql_async::{Row, Value};

const TABLES: &str = r#"
[[schemas.tables]]
names = ["customers"]
algorithm = "hash"
key = "id"
key_type = "int"

[[schemas.tables]]
names = ["orders", "many"]
algorithm = "hash"
key = "customer_id"
key_type = "int"
"#;

const SETUP: &[&str] = &[
    "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(30), code VARCHAR(10) COLLATE utf8mb4_bin, born DATE, score DOUBLE)",
    "CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, amount DECIMAL(20,2), qty INT, flags BIGINT UNSIGNED, at DATETIME(3))",
    "CREATE TABLE many (id INT PRIMARY KEY, customer_id INT NOT NULL)",
    "INSERT INTO customers VALUES (1,'Émile','ab','2000-01-01',0.1), (2,'emile','AB','2000-01-02',0.5), \
     (3,'Zoë',NULL,NULL,NULL), (4,'zoe','x\\'y','2000-01-01',1e300), (5,NULL,'ab',NULL,0.1), \
     (6,'Bob','b','1999-12-31',-2.5), (7,'bob ','B','2000-01-02',0.5)",
    "INSERT INTO orders VALUES (10,1,100.50,2,18446744073709551615,'2026-01-01 10:00:00.123'), \
     (11,1,20.00,NULL,1,'2026-01-02 00:00:00.000'), (12,2,999.99,5,2,NULL), \
     (13,4,0.01,1,NULL,'2026-01-01 10:00:00.123'), (14,6,NULL,3,3,'2026-02-01 00:00:00.500'), \
     (15,6,100.50,0,4,'2026-02-01 00:00:00.500')",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subqueries_across_shards_answer_like_one_server() {
    let (_addr, mut proxy) = setup("subq", TABLES).await;
    let mut reference = plain("subq").await;
    for sql in SETUP {
        proxy.query_drop(*sql).await.expect(sql);
        reference.query_drop(*sql).await.expect(sql);
    }
    for s in 0..2 {
        assert!(
            !ids_on(s, "subq", "SELECT id FROM customers")
                .await
                .is_empty(),
            "shard {s} holds no customer"
        );
    }
    same_answers(
        &mut proxy,
        &mut reference,
        &[
            "SELECT id, name FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE amount > 50) ORDER BY id",
            "SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM orders) ORDER BY id",
            "SELECT id FROM customers WHERE id NOT IN (SELECT qty FROM orders) ORDER BY id",
            "SELECT id FROM customers WHERE id IN (SELECT qty FROM orders) ORDER BY id",
            "SELECT id FROM customers WHERE (score IN (SELECT customer_id FROM orders WHERE id > 100)) IS NULL ORDER BY id",
            "SELECT id FROM customers WHERE score NOT IN (SELECT customer_id FROM orders WHERE id > 100) ORDER BY id",
            "SELECT id FROM customers WHERE (id, 2) IN (SELECT customer_id, qty FROM orders) ORDER BY id",
            "SELECT id FROM customers WHERE id = (SELECT customer_id FROM orders WHERE id = 12)",
            "SELECT id FROM customers WHERE id = (SELECT customer_id FROM orders WHERE id = 99)",
            "SELECT id FROM customers WHERE id > (SELECT customer_id FROM orders)",
            "SELECT id FROM orders WHERE amount > (SELECT AVG(amount) FROM orders) ORDER BY id",
            "SELECT id FROM orders WHERE amount = (SELECT MAX(amount) FROM orders) ORDER BY id",
            "SELECT id FROM orders WHERE flags IN (SELECT flags FROM orders WHERE qty > 1) ORDER BY id",
            "SELECT id FROM orders WHERE at = (SELECT MIN(at) FROM orders) ORDER BY id",
            "SELECT id FROM orders WHERE at IN (SELECT at FROM orders WHERE customer_id = 6) ORDER BY id",
            "SELECT id FROM customers WHERE score IN (SELECT score FROM customers WHERE id IN (1, 4)) ORDER BY id",
            "SELECT id FROM customers WHERE born IN (SELECT born FROM customers WHERE id = 1) ORDER BY id",
            // Text: the column's collation decides (general_ci: É = e, trailing spaces; _bin).
            "SELECT id FROM customers WHERE name IN (SELECT name FROM customers WHERE id IN (1, 6)) ORDER BY id",
            "SELECT id FROM customers WHERE code IN (SELECT code FROM customers WHERE id = 1) ORDER BY id",
            "SELECT id FROM customers WHERE code = (SELECT code FROM customers WHERE id = 4) ORDER BY id",
            "SELECT id FROM customers WHERE EXISTS (SELECT 1 FROM orders WHERE qty > 4) ORDER BY id",
            "SELECT id FROM customers WHERE EXISTS (SELECT 1 FROM orders WHERE qty > 40) ORDER BY id",
            "SELECT id FROM customers WHERE NOT EXISTS (SELECT 1 FROM orders WHERE qty > 40) ORDER BY id",
            "SELECT id FROM customers WHERE id = ANY (SELECT customer_id FROM orders) ORDER BY id",
            "SELECT id FROM customers WHERE id > ALL (SELECT qty FROM orders WHERE qty IS NOT NULL) ORDER BY id",
            "SELECT id FROM customers WHERE id > ALL (SELECT qty FROM orders) ORDER BY id",
            "SELECT id FROM customers WHERE id < ANY (SELECT qty FROM orders) ORDER BY id",
            "SELECT customer_id, COUNT(*) FROM orders GROUP BY customer_id HAVING COUNT(*) > (SELECT MIN(qty) FROM orders) ORDER BY customer_id",
        ],
    )
    .await;

    // MariaDB's error for a scalar subquery of several rows, with its SQLSTATE.
    let err = proxy
        .query_drop("SELECT id FROM customers WHERE id > (SELECT customer_id FROM orders)")
        .await
        .expect_err("several rows");
    match &err {
        mysql_async::Error::Server(e) => {
            assert_eq!((e.code, e.state.as_str()), (1242, "21000"), "{e:?}");
            assert_eq!(e.message, "Subquery returns more than 1 row");
        }
        other => panic!("{other:?}"),
    }

    // Prepared statements: parameters inside the subquery and outside.
    for (sql, params) in [
        (
            "SELECT id FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE amount > ?) AND id < ? ORDER BY id",
            vec![Value::Int(50), Value::Int(5)],
        ),
        (
            "SELECT id, name FROM customers WHERE name = (SELECT name FROM customers WHERE id = ?) ORDER BY id",
            vec![Value::Int(2)],
        ),
        (
            "SELECT id FROM orders WHERE amount < (SELECT AVG(amount) FROM orders WHERE qty > ?) ORDER BY id",
            vec![Value::Bytes(b"1".to_vec())],
        ),
    ] {
        let want: Vec<Row> = reference.exec(sql, params.clone()).await.expect(sql);
        let got: Vec<Row> = proxy.exec(sql, params).await.expect(sql);
        let show =
            |rows: Vec<Row>| -> Vec<Vec<Value>> { rows.into_iter().map(Row::unwrap).collect() };
        assert_eq!(show(got), show(want), "{sql}");
    }

    // Inside a transaction the subquery reads the transaction's own uncommitted rows.
    for c in [&mut proxy, &mut reference] {
        c.query_drop("BEGIN").await.expect("begin");
        c.query_drop(
            "INSERT INTO orders VALUES (20, 3, 5000, 9, 5, NULL), (21, 7, 5000, 9, 6, NULL)",
        )
        .await
        .expect("insert");
    }
    same_answers(
        &mut proxy,
        &mut reference,
        &["SELECT id FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE amount > 4000) ORDER BY id"],
    )
    .await;
    for c in [&mut proxy, &mut reference] {
        c.query_drop("ROLLBACK").await.expect("rollback");
    }
    same_answers(
        &mut proxy,
        &mut reference,
        &["SELECT id FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE amount > 4000) ORDER BY id"],
    )
    .await;

    // Refused, never answered differently: correlated subqueries, a write's subquery, text
    // compared with a literal, subqueries in the SELECT list.
    for sql in [
        "SELECT id FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id + 1)",
        "SELECT id FROM customers c WHERE id IN (SELECT customer_id FROM orders WHERE qty > c.id)",
        "SELECT id FROM customers c WHERE id IN (SELECT customer_id FROM orders WHERE qty > score)",
        "UPDATE customers SET score = 1 WHERE id IN (SELECT customer_id FROM orders)",
        "SELECT id FROM customers WHERE 'emile' IN (SELECT name FROM customers)",
        "SELECT id, (SELECT MAX(amount) FROM orders) FROM customers",
    ] {
        let err = proxy.query_drop(sql).await.expect_err(sql);
        assert_eq!(code(&err), 1235, "{sql}: {err}");
    }
    let err = proxy
        .query_drop("SELECT id FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id + 1)")
        .await
        .expect_err("correlated");
    assert!(err.to_string().contains("correlated"), "{err}");

    // More values than the cap: refused with a message saying so.
    let rows: Vec<String> = (1..=10_001).map(|i| format!("({i}, {i})")).collect();
    proxy
        .query_drop(format!("INSERT INTO many VALUES {}", rows.join(", ")))
        .await
        .expect("insert many");
    let err = proxy
        .query_drop("SELECT id FROM customers WHERE id IN (SELECT id FROM many)")
        .await
        .expect_err("too many values");
    assert_eq!(code(&err), 1235);
    assert!(err.to_string().contains("10000"), "{err}");
    let n: Option<i64> = proxy
        .query_first(
            "SELECT COUNT(*) FROM customers WHERE id IN (SELECT id FROM many WHERE id <= 10000)",
        )
        .await
        .expect("at the cap");
    assert_eq!(n, Some(7));
}
