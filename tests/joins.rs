//! Joins through the proxy against real shards, compared with one plain MariaDB server
//! holding the same rows: co-located tables (`[[schemas.colocated]]`) joined on their keys on
//! one shard or on every shard in parallel, broadcast tables, and the joins that stay refused.

mod common;

use common::*;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row, Value};

const TABLES: &str = r#"
[[schemas.tables]]
names = ["products"]
algorithm = "hash"
key = "id"
key_type = "int"

[[schemas.tables]]
names = ["orders"]
algorithm = "hash"
key = "product_id"
key_type = "int"
auto_increment = "id"

[[schemas.tables]]
names = ["customers"]
algorithm = "hash"
key = "id"
key_type = "int"

[[schemas.tables]]
names = ["countries"]
algorithm = "broadcast"

[[schemas.colocated]]
tables = ["products.id", "orders.product_id"]
"#;

const DDL: &[&str] = &[
    "CREATE TABLE countries (code CHAR(2) PRIMARY KEY, name VARCHAR(20))",
    "CREATE TABLE products (id BIGINT PRIMARY KEY, name VARCHAR(20), country CHAR(2))",
    "CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, product_id BIGINT NOT NULL, customer_id BIGINT, qty INT, FOREIGN KEY (product_id) REFERENCES products (id))",
    "CREATE TABLE customers (id BIGINT PRIMARY KEY, name VARCHAR(20))",
];

const DATA: &[&str] = &[
    "INSERT INTO countries (code, name) VALUES ('fr', 'France'), ('de', 'Germany')",
    "INSERT INTO products (id, name, country) VALUES (1, 'pear', 'fr'), (2, 'Apple', 'de'), (3, 'fig', 'fr'), (4, 'date', 'de'), (5, 'Kiwi', 'fr'), (6, 'plum', 'de')",
    "INSERT INTO orders (id, product_id, customer_id, qty) VALUES (1, 1, 1, 3), (2, 2, 2, 5), (3, 1, 3, 1), (4, 3, 1, 4), (5, 4, 2, 2), (6, 5, 3, 7), (7, 2, 1, 6), (8, 4, 3, 4), (9, 3, 2, 9), (10, 1, 1, 8), (11, 5, 2, 2), (12, 2, 3, 1)",
    "INSERT INTO customers (id, name) VALUES (1, 'ann'), (2, 'bob'), (3, 'cy')",
];

/// Rows as comparable text.
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

async fn rows(c: &mut Conn, sql: &str) -> Vec<Vec<Option<String>>> {
    match c.query(sql).await {
        Ok(r) => texts(r),
        Err(e) => panic!("{sql}: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_of_co_located_tables_answer_as_one_database() {
    let db = "joins_colo";
    let (_addr, mut c) = setup(db, TABLES).await;
    // The reference: one plain MariaDB (no proxy) holding the same rows in one database.
    let mut plain = plain(db).await;
    for sql in DDL.iter().chain(DATA) {
        c.query_drop(*sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        plain.query_drop(*sql).await.unwrap();
    }
    // Orders live with their product (hash: product_id mod 2).
    assert_eq!(
        ids_on(0, db, "SELECT DISTINCT product_id FROM orders").await,
        vec![2, 4]
    );
    assert_eq!(
        ids_on(1, db, "SELECT DISTINCT product_id FROM orders").await,
        vec![1, 3, 5]
    );
    // Each statement: (SQL, whether its rows come in a defined order).
    let queries: &[(&str, bool)] = &[
        // A key on either side: one shard.
        (
            "SELECT o.qty, p.name FROM orders o JOIN products p ON p.id = o.product_id WHERE p.id = 3 ORDER BY o.qty",
            true,
        ),
        (
            "SELECT o.id, o.qty FROM products JOIN orders o ON products.id = o.product_id WHERE o.product_id IN (2, 4) ORDER BY o.id",
            true,
        ),
        (
            "SELECT p.name, COUNT(o.id), SUM(o.qty) FROM products p JOIN orders o ON o.product_id = p.id WHERE o.product_id = 2 GROUP BY p.name",
            true,
        ),
        // No key (orders.id is not the shard key): every shard, merged.
        (
            "SELECT o.id, p.name FROM orders o JOIN products p ON p.id = o.product_id WHERE o.id = 5",
            true,
        ),
        (
            "SELECT p.name, o.qty FROM products p JOIN orders o ON o.product_id = p.id",
            false,
        ),
        (
            "SELECT p.name, o.qty FROM products p JOIN orders o ON o.product_id = p.id ORDER BY p.name, o.qty",
            true,
        ),
        (
            "SELECT COUNT(*), SUM(o.qty), MIN(p.name), MAX(o.id) FROM products p JOIN orders o ON p.id = o.product_id",
            true,
        ),
        (
            "SELECT p.id, o.id FROM products p LEFT JOIN orders o ON o.product_id = p.id ORDER BY p.id, o.id",
            true,
        ),
        (
            "SELECT o.id FROM orders o JOIN products p ON p.id = o.product_id ORDER BY o.id DESC LIMIT 2, 3",
            true,
        ),
        (
            "SELECT p.name FROM products p JOIN orders o ON p.id = o.product_id ORDER BY o.id LIMIT 4",
            true,
        ),
        (
            "SELECT * FROM products p JOIN orders o ON o.product_id = p.id ORDER BY o.id",
            true,
        ),
        (
            "SELECT DISTINCT p.name FROM products p JOIN orders o ON o.product_id = p.id WHERE o.qty > 3 ORDER BY p.name",
            true,
        ),
        (
            "SELECT p.name, o.qty FROM products p, orders o WHERE p.id = o.product_id AND o.qty > 3 ORDER BY o.qty, p.id",
            true,
        ),
        (
            "SELECT a.id, b.id FROM orders a JOIN orders b ON a.product_id = b.product_id AND a.id < b.id ORDER BY a.id, b.id",
            true,
        ),
        // Broadcast tables join anything.
        (
            "SELECT p.name, c.name FROM products p JOIN countries c ON c.code = p.country ORDER BY p.id",
            true,
        ),
        (
            "SELECT c.name, SUM(o.qty) FROM orders o JOIN products p ON p.id = o.product_id JOIN countries c ON c.code = p.country WHERE p.id = 4 GROUP BY c.name",
            true,
        ),
        // Grouped across the shards of a co-located join, folded by the proxy.
        (
            "SELECT p.name, COUNT(*), SUM(o.qty), AVG(o.qty) FROM products p JOIN orders o ON o.product_id = p.id GROUP BY p.name ORDER BY p.name",
            true,
        ),
        // Two instances of one table, each with its own key on one shard.
        (
            "SELECT a.name, b.name FROM customers a, customers b WHERE a.id = 1 AND b.id = 3",
            true,
        ),
    ];
    for (sql, ordered) in queries {
        let (mut got, mut want) = (rows(&mut c, sql).await, rows(&mut plain, sql).await);
        assert!(!want.is_empty(), "{sql}: the reference returns rows");
        if *ordered {
            // Column names, rows in order and warnings, as the plain server answers them.
            same_answers(&mut c, &mut plain, &[sql]).await;
        } else {
            got.sort();
            want.sort();
        }
        assert_eq!(got, want, "{sql}");
    }
    // The same through a prepared statement.
    let sql = "SELECT o.qty FROM orders o JOIN products p ON p.id = o.product_id WHERE p.id = ? ORDER BY o.qty";
    let got: Vec<i64> = c.exec(sql, (4,)).await.unwrap();
    let want: Vec<i64> = plain.exec(sql, (4,)).await.unwrap();
    assert_eq!(got, want);

    // A write joining co-located tables runs on every shard; counts add up.
    let upd = "UPDATE orders o JOIN products p ON p.id = o.product_id SET o.qty = o.qty + 100 WHERE p.country = 'fr'";
    // The OK packet too: affected rows and `Rows matched: .. Changed: ..` summed over shards.
    same_answers(&mut c, &mut plain, &[upd]).await;
    let check = "SELECT id, qty FROM orders ORDER BY id";
    assert_eq!(rows(&mut c, check).await, rows(&mut plain, check).await);

    // A write of a broadcast table that reads a sharded one would change some copies only.
    let e = c
        .query_drop("UPDATE countries c JOIN products p ON p.country = c.code SET c.name = 'X' WHERE p.id = 1")
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1235, "{e}");
    for s in 0..2 {
        let mut d = direct(s).await;
        d.query_drop(format!("USE `{db}`")).await.unwrap();
        let names: Vec<String> = d
            .query("SELECT name FROM countries ORDER BY code")
            .await
            .unwrap();
        assert_eq!(names, ["Germany", "France"], "shard {s}");
    }

    // Refused, naming the construct: tables that are not co-located, instances on two
    // shards, an outer join keeping a broadcast table's rows.
    for sql in [
        "SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id",
        "SELECT * FROM customers a, customers b WHERE a.id = 1 AND b.id = 2",
        "SELECT * FROM countries c LEFT JOIN products p ON p.country = c.code",
        "SELECT p.name, JSON_ARRAYAGG(o.id) FROM products p JOIN orders o ON o.product_id = p.id GROUP BY p.name",
    ] {
        let e = c.query_drop(sql).await.unwrap_err();
        assert_eq!(code(&e), 1235, "{sql}: {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_keys_must_stay_on_one_shard() {
    let db = "joins_fk";
    let (_addr, mut c) = setup(db, TABLES).await;
    for sql in DDL {
        c.query_drop(*sql).await.unwrap();
    }
    // The co-located foreign key holds on each shard.
    c.query_drop("INSERT INTO products (id, name) VALUES (1, 'a'), (2, 'b')")
        .await
        .unwrap();
    c.query_drop("INSERT INTO orders (product_id, qty) VALUES (1, 1), (2, 1)")
        .await
        .unwrap();
    let e = c
        .query_drop("INSERT INTO orders (product_id, qty) VALUES (3, 1)")
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1452, "no product 3: {e}");
    // A foreign key whose parent rows may be elsewhere is refused before it runs anywhere.
    for sql in [
        "ALTER TABLE orders ADD CONSTRAINT fk_c FOREIGN KEY (customer_id) REFERENCES customers (id)",
        "CREATE TABLE notes (id INT PRIMARY KEY, product_id BIGINT, FOREIGN KEY (product_id) REFERENCES products (id))",
    ] {
        let e = c.query_drop(sql).await.unwrap_err();
        assert_eq!(code(&e), 1235, "{sql}: {e}");
        assert!(e.to_string().contains("foreign key"), "{e}");
    }
    for s in 0..2 {
        let fks: Vec<String> = ids_on_text(
            s,
            db,
            "SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'orders'",
        )
        .await;
        assert_eq!(fks.len(), 1, "shard {s}: only the co-located key: {fks:?}");
    }
}

/// First-column text values of `sql` run directly on shard `s` in `db`.
async fn ids_on_text(s: usize, db: &str, sql: &str) -> Vec<String> {
    let mut c = direct(s).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    c.query(sql).await.unwrap()
}
