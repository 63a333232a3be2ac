//! Table splitting: one logical table stored as several physical tables on each shard. A hash
//! rule with `tables_per_shard` numbers the physical tables globally (`orders_0 .. orders_3`
//! over 2 shards, key k in `orders_{k mod 4}` on shard `k mod 2`); range and list entries name
//! their physical table. Placement is checked on each shard directly; answers are compared with
//! a plain MariaDB holding the same rows in one table `orders`.

mod common;

use common::*;
use mysql_async::Conn;
use mysql_async::prelude::Queryable;

/// `orders` hashed on `id` into 4 physical tables over 2 shards: `orders_0`, `orders_2` on s0,
/// `orders_1`, `orders_3` on s1.
const HASH_SPLIT: &str = r#"
[[schemas.tables]]
names = ["orders"]
algorithm = "hash"
key = "id"
key_type = "int"
tables_per_shard = 2
"#;

const ORDERS_DDL: &str = "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(20), amount DECIMAL(10,2), qty INT)";

/// Ids 1..20, three customers, amounts and quantities that differ.
const ORDERS_ROWS: &str = "INSERT INTO orders (id, customer, amount, qty) VALUES \
    (1, 'ann', 10.50, 1), (2, 'bob', 20.00, 2), (3, 'cy', 5.25, 3), (4, 'ann', 7.75, 4), \
    (5, 'bob', 12.00, 5), (6, 'cy', 3.10, 1), (7, 'ann', 99.99, 2), (8, 'bob', 1.01, 3), \
    (9, 'cy', 44.40, 4), (10, 'ann', 8.80, 5), (11, 'bob', 0.50, 1), (12, 'cy', 61.00, 2), \
    (13, 'ann', 13.13, 3), (14, 'bob', 14.14, 4), (15, 'cy', 15.15, 5), (16, 'ann', 16.16, 1), \
    (17, 'bob', 17.17, 2), (18, 'cy', 18.18, 3), (19, 'ann', 19.19, 4), (20, 'bob', 2.20, 5)";

/// The tables of database `db` on shard `s`, sorted.
async fn tables_on(s: usize, db: &str) -> Vec<String> {
    let mut c = direct(s).await;
    let mut v: Vec<String> = c
        .query(format!("SHOW TABLES FROM `{db}`"))
        .await
        .unwrap_or_else(|e| panic!("SHOW TABLES FROM {db} on shard {s}: {e}"));
    v.sort();
    v
}

/// Sorted ids of physical table `table` of `db` on shard `s`.
async fn ids_in(s: usize, db: &str, table: &str) -> Vec<i64> {
    ids_on(s, db, &format!("SELECT id FROM `{table}`")).await
}

/// Runs `sql` through the proxy and on the reference, both must succeed.
async fn both_run(proxy: &mut Conn, reference: &mut Conn, sql: &str) {
    proxy
        .query_drop(sql)
        .await
        .unwrap_or_else(|e| panic!("through the proxy: {sql}: {e}"));
    reference
        .query_drop(sql)
        .await
        .unwrap_or_else(|e| panic!("on the reference: {sql}: {e}"));
}

/// Like `same_answers`, but runs every statement before failing, and names each one whose
/// answers differ (so one report lists every difference).
async fn same_answers_all(proxy: &mut Conn, reference: &mut Conn, statements: &[&str]) {
    let mut diffs = Vec::new();
    for sql in statements {
        let want = answer(reference, sql).await;
        let got = answer(proxy, sql).await;
        if got != want {
            diffs.push(format!("`{sql}`:\n  proxy:     {got}\n  reference: {want}"));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} of {} statements answer differently through the proxy than on plain MariaDB:\n{}",
        diffs.len(),
        statements.len(),
        diffs.join("\n")
    );
}

/// Column names and rows (as text) of `sql`.
async fn named_rows(c: &mut Conn, sql: &str) -> (Vec<String>, Vec<Vec<Option<String>>>) {
    let mut result = c
        .query_iter(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let names = result
        .columns()
        .map(|cs| cs.iter().map(|c| c.name_str().into_owned()).collect())
        .unwrap_or_default();
    let rows: Vec<mysql_async::Row> = result
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let rows = rows
        .into_iter()
        .map(|r| {
            r.unwrap()
                .into_iter()
                .map(|v| match v {
                    mysql_async::Value::NULL => None,
                    mysql_async::Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
                    other => Some(other.as_sql(true)),
                })
                .collect()
        })
        .collect();
    (names, rows)
}

/// Checks that each physical table `orders_g` of the hash split holds exactly the ids of
/// `ids` with `id mod 4 == g`, on shard `g mod 2`, and that no table `orders` exists.
async fn assert_hash_placement(db: &str, ids: &[i64]) {
    for g in 0..4i64 {
        let s = (g % 2) as usize;
        let want: Vec<i64> = ids.iter().copied().filter(|i| i % 4 == g).collect();
        assert_eq!(
            ids_in(s, db, &format!("orders_{g}")).await,
            want,
            "ids in {db}.orders_{g} on shard {s}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hash_split_places_rows_by_table_and_answers_like_one_table() {
    let db = "split_hash";
    let (_addr, mut c) = setup(db, HASH_SPLIT).await;
    let mut reference = plain(db).await;
    both_run(&mut c, &mut reference, ORDERS_DDL).await;

    // Every physical table on its shard, and no table named `orders`.
    assert_eq!(tables_on(0, db).await, ["orders_0", "orders_2"], "shard 0");
    assert_eq!(tables_on(1, db).await, ["orders_1", "orders_3"], "shard 1");

    // One multi-row INSERT over 4 tables: one OK packet, counts summed.
    same_answers(&mut c, &mut reference, &[ORDERS_ROWS, "SELECT ROW_COUNT()"]).await;
    let all: Vec<i64> = (1..=20).collect();
    assert_hash_placement(db, &all).await;
    // id 5 is in orders_1 on shard 1 (5 mod 4 = 1).
    assert_eq!(ids_in(1, db, "orders_1").await, [1, 5, 9, 13, 17]);

    same_answers_all(
        &mut c,
        &mut reference,
        &[
            // Point selects, each in one physical table.
            "SELECT * FROM orders WHERE id = 5",
            "SELECT customer, amount FROM orders WHERE id = 4",
            "SELECT id FROM orders WHERE id = 21",
            "SELECT * FROM orders WHERE id = '7'",
            // IN lists: two tables of one shard, and tables of both shards.
            "SELECT id, amount FROM orders WHERE id IN (1, 3) ORDER BY id",
            "SELECT id, customer FROM orders WHERE id IN (1, 2, 3, 4, 8, 13) ORDER BY id",
            "SELECT id FROM orders WHERE id IN (2, 6, 10) ORDER BY id DESC",
            "SELECT COUNT(*) FROM orders WHERE id IN (1, 3, 5, 7)",
            // Full scans merged over the 4 tables.
            "SELECT * FROM orders ORDER BY id",
            "SELECT id FROM orders ORDER BY amount DESC, id",
            "SELECT id, customer FROM orders ORDER BY customer, id DESC",
            "SELECT id, amount FROM orders ORDER BY id LIMIT 3 OFFSET 2",
            "SELECT id FROM orders ORDER BY id DESC LIMIT 5",
            "SELECT id, qty FROM orders ORDER BY qty DESC, id LIMIT 4",
            "SELECT id FROM orders WHERE id > 15 ORDER BY id",
            "SELECT id FROM orders WHERE id BETWEEN 3 AND 9 ORDER BY id",
            "SELECT id FROM orders WHERE customer = 'bob' ORDER BY id",
            // Aggregates.
            "SELECT COUNT(*) FROM orders",
            "SELECT COUNT(*), SUM(amount), AVG(amount), MIN(amount), MAX(amount) FROM orders",
            "SELECT SUM(qty), AVG(qty), MIN(id), MAX(id) FROM orders",
            "SELECT SUM(amount) FROM orders WHERE id IN (1, 3)",
            "SELECT customer, COUNT(*), SUM(amount), MAX(id) FROM orders GROUP BY customer ORDER BY customer",
            "SELECT qty, COUNT(*), MIN(amount) FROM orders GROUP BY qty ORDER BY qty DESC",
            "SELECT DISTINCT customer FROM orders ORDER BY customer",
            "SELECT DISTINCT qty FROM orders ORDER BY qty",
            "SELECT COUNT(DISTINCT customer), COUNT(DISTINCT qty) FROM orders",
            // Qualified names and aliases: the physical table must keep answering to them.
            "SELECT orders.id, orders.customer FROM orders WHERE orders.id IN (2, 7) ORDER BY orders.id",
            "SELECT o.id FROM orders o WHERE o.id = 3",
            "SELECT o.id, o.amount FROM orders AS o WHERE o.id > 16 ORDER BY o.id",
            "SELECT orders.* FROM orders WHERE id = 7",
            "SELECT orders.id, orders.qty FROM orders ORDER BY orders.qty, orders.id",
            "SELECT `orders`.`id` FROM `orders` WHERE `orders`.`id` = 11",
            &format!("SELECT orders.id FROM {db}.orders WHERE {db}.orders.id = 9"),
            // The table joined with itself on its key.
            "SELECT orders.id, o2.amount FROM orders JOIN orders o2 ON o2.id = orders.id WHERE orders.id = 5",
            "SELECT a.id, b.qty FROM orders a JOIN orders b ON a.id = b.id ORDER BY a.id",
        ],
    )
    .await;

    // Writes: by key, over two tables of one shard, over everything.
    same_answers_all(
        &mut c,
        &mut reference,
        &[
            "UPDATE orders SET qty = qty + 10 WHERE id = 6",
            "SELECT ROW_COUNT()",
            "UPDATE orders SET customer = 'dan' WHERE id IN (1, 3, 5)",
            "SELECT ROW_COUNT()",
            "UPDATE orders SET amount = amount * 2",
            "SELECT ROW_COUNT()",
            "UPDATE orders SET qty = qty WHERE id > 0",
            "UPDATE orders o SET o.qty = o.qty + 1 WHERE o.id = 9",
            "SELECT * FROM orders ORDER BY id",
            "DELETE FROM orders WHERE id BETWEEN 5 AND 12",
            "SELECT ROW_COUNT()",
            "DELETE FROM orders WHERE id = 20",
            "DELETE FROM orders WHERE id = 20",
            "INSERT INTO orders (id, customer, amount, qty) VALUES (22, 'eve', 1.00, 1)",
            "INSERT INTO orders (id, customer, amount, qty) VALUES (5, 'fay', 2.00, 2), (24, 'gus', 3.00, 3)",
            "INSERT INTO orders (id, customer, amount, qty) VALUES (1, 'dup', 0, 0)",
            "SELECT * FROM orders ORDER BY id",
            "SELECT COUNT(*), SUM(amount) FROM orders",
        ],
    )
    .await;
    let left = [1, 2, 3, 4, 5, 13, 14, 15, 16, 17, 18, 19, 22, 24];
    assert_hash_placement(db, &left).await;
    // The updates reached the rows in their physical tables.
    let mut d = direct(1).await;
    let dan: Vec<i64> = d
        .query(format!(
            "SELECT id FROM `{db}`.orders_1 WHERE customer = 'dan' UNION ALL SELECT id FROM `{db}`.orders_3 WHERE customer = 'dan' ORDER BY id"
        ))
        .await
        .unwrap();
    assert_eq!(dan, [1, 3], "ids renamed 'dan' on shard 1");
    assert_eq!(
        tables_on(0, db).await,
        ["orders_0", "orders_2"],
        "shard 0 at the end"
    );
    assert_eq!(
        tables_on(1, db).await,
        ["orders_1", "orders_3"],
        "shard 1 at the end"
    );
}

/// `orders` range-split by month on `created`: November on s0, December and January in two
/// tables of s1, every other date in `orders_old` on s0.
const RANGE_SPLIT: &str = r#"
[[schemas.tables]]
names = ["orders"]
algorithm = "range"
key = "created"
key_type = "date"
ranges = [
  { shard = "s0", from = "2026-11-01", to = "2026-12-01", table = "orders_202611" },
  { shard = "s1", from = "2026-12-01", to = "2027-01-01", table = "{table}_202612" },
  { shard = "s1", from = "2027-01-01", to = "2027-02-01", table = "orders_202701" },
]
default_shard = "s0"
default_table = "{table}_old"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_split_places_dates_in_their_month_table() {
    let db = "split_range";
    let (_addr, mut c) = setup(db, RANGE_SPLIT).await;
    let mut reference = plain(db).await;
    both_run(
        &mut c,
        &mut reference,
        "CREATE TABLE orders (id BIGINT NOT NULL, created DATE NOT NULL, amount INT, PRIMARY KEY (created, id))",
    )
    .await;
    assert_eq!(
        tables_on(0, db).await,
        ["orders_202611", "orders_old"],
        "shard 0"
    );
    assert_eq!(
        tables_on(1, db).await,
        ["orders_202612", "orders_202701"],
        "shard 1"
    );

    same_answers_all(
        &mut c,
        &mut reference,
        &["INSERT INTO orders (id, created, amount) VALUES \
            (1, '2026-11-01', 10), (2, '2026-11-30', 20), \
            (3, '2026-12-01', 30), (4, '2026-12-15', 40), (5, '2026-12-31', 50), \
            (6, '2027-01-01', 60), (7, '2027-01-14', 70), (8, '2027-01-15', 80), (9, '2027-01-31', 90), \
            (10, '2026-10-31', 100), (11, '2027-02-01', 110), (12, '2020-05-05', 120)"],
    )
    .await;
    assert_eq!(ids_in(0, db, "orders_202611").await, [1, 2]);
    assert_eq!(ids_in(1, db, "orders_202612").await, [3, 4, 5]);
    assert_eq!(ids_in(1, db, "orders_202701").await, [6, 7, 8, 9]);
    assert_eq!(ids_in(0, db, "orders_old").await, [10, 11, 12]);

    same_answers_all(
        &mut c,
        &mut reference,
        &[
            // Spans both tables of shard 1.
            "SELECT id, created FROM orders WHERE created >= '2026-12-15' AND created < '2027-01-15' ORDER BY created",
            "SELECT COUNT(*), SUM(amount) FROM orders WHERE created >= '2026-12-15' AND created < '2027-01-15'",
            "SELECT id FROM orders WHERE created BETWEEN '2026-11-15' AND '2027-01-01' ORDER BY id",
            // A point date.
            "SELECT * FROM orders WHERE created = '2026-12-31'",
            "SELECT * FROM orders WHERE created = '2027-01-01'",
            "SELECT id FROM orders WHERE created = '2026-12-02'",
            // Outside every range: orders_old.
            "SELECT id, amount FROM orders WHERE created = '2020-05-05'",
            "SELECT id FROM orders WHERE created < '2026-11-01' ORDER BY id",
            "SELECT id FROM orders WHERE created >= '2027-02-01'",
            // Everything, ordered and limited.
            "SELECT id, created FROM orders ORDER BY created LIMIT 4",
            "SELECT id, created FROM orders ORDER BY created DESC LIMIT 3 OFFSET 1",
            "SELECT * FROM orders ORDER BY created",
            "SELECT MIN(created), MAX(created), COUNT(*), SUM(amount) FROM orders",
            "SELECT o.id FROM orders o WHERE o.created IN ('2026-11-30', '2026-12-01', '2027-01-31') ORDER BY o.id",
            // Writes by range.
            "UPDATE orders SET amount = amount + 1 WHERE created >= '2026-12-15' AND created < '2027-01-15'",
            "DELETE FROM orders WHERE created = '2020-05-05'",
            "SELECT id, amount FROM orders ORDER BY id",
        ],
    )
    .await;
    assert_eq!(ids_in(0, db, "orders_old").await, [10, 11]);
    let amounts = ids_on(
        1,
        db,
        "SELECT amount FROM orders_202612 UNION ALL SELECT amount FROM orders_202701",
    )
    .await;
    assert_eq!(amounts, [30, 41, 51, 61, 71, 80, 90]);
}

/// `customers` list-split on `region`: eu and us in their own tables, others in the default.
const LIST_SPLIT: &str = r#"
[[schemas.tables]]
names = ["customers"]
algorithm = "list"
key = "region"
key_type = "string"
lists = [
  { shard = "s0", values = ["fr", "de"], table = "customers_eu" },
  { shard = "s1", values = ["us"], table = "{table}_us" },
  { shard = "s1", values = ["ca", "mx"], table = "customers_am" },
]
default_shard = "s0"
default_table = "customers_rest"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_split_places_values_in_their_table() {
    let db = "split_list";
    let (_addr, mut c) = setup(db, LIST_SPLIT).await;
    let mut reference = plain(db).await;
    both_run(
        &mut c,
        &mut reference,
        "CREATE TABLE customers (id BIGINT NOT NULL, region VARCHAR(8) NOT NULL, name VARCHAR(20), PRIMARY KEY (region, id))",
    )
    .await;
    assert_eq!(tables_on(0, db).await, ["customers_eu", "customers_rest"]);
    assert_eq!(tables_on(1, db).await, ["customers_am", "customers_us"]);
    same_answers_all(
        &mut c,
        &mut reference,
        &[
            "INSERT INTO customers (id, region, name) VALUES (1, 'fr', 'ann'), (2, 'DE', 'bob'), \
           (3, 'us', 'cy'), (4, 'ca', 'dee'), (5, 'mx', 'eve'), (6, 'jp', 'fay'), (7, 'us', 'gus')",
        ],
    )
    .await;
    assert_eq!(ids_in(0, db, "customers_eu").await, [1, 2]);
    assert_eq!(ids_in(0, db, "customers_rest").await, [6]);
    assert_eq!(ids_in(1, db, "customers_us").await, [3, 7]);
    assert_eq!(ids_in(1, db, "customers_am").await, [4, 5]);
    same_answers_all(
        &mut c,
        &mut reference,
        &[
            "SELECT id, name FROM customers WHERE region = 'us' ORDER BY id",
            "SELECT id FROM customers WHERE region IN ('us', 'ca', 'mx') ORDER BY id",
            "SELECT id FROM customers WHERE region = 'jp'",
            "SELECT id FROM customers WHERE region = 'de'",
            "SELECT region, COUNT(*) FROM customers GROUP BY region ORDER BY region",
            "SELECT c.id, c.region FROM customers c ORDER BY c.id",
            "UPDATE customers SET name = 'x' WHERE region IN ('fr', 'us')",
            "SELECT * FROM customers ORDER BY id",
        ],
    )
    .await;
}

/// Amounts of ids 1 and 3 read on shard 1 directly (orders_1 and orders_3).
async fn amounts_1_3(db: &str) -> Vec<String> {
    let mut d = direct(1).await;
    d.query(format!(
        "SELECT CAST(amount AS CHAR) FROM `{db}`.orders_1 WHERE id = 1 UNION ALL SELECT CAST(amount AS CHAR) FROM `{db}`.orders_3 WHERE id = 3"
    ))
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_spans_the_physical_tables_of_a_shard() {
    let db = "split_txn";
    let (_addr, mut c) = setup(db, HASH_SPLIT).await;
    c.query_drop(ORDERS_DDL).await.unwrap();
    c.query_drop(ORDERS_ROWS).await.unwrap();
    assert_eq!(amounts_1_3(db).await, ["10.50", "5.25"]);
    let scan = "SELECT id, CAST(amount AS CHAR) FROM orders WHERE id <= 4 ORDER BY id";
    let before: Vec<(i64, String)> = c.query(scan).await.unwrap();
    assert_eq!(
        before,
        [
            (1, "10.50".to_string()),
            (2, "20.00".to_string()),
            (3, "5.25".to_string()),
            (4, "7.75".to_string())
        ]
    );

    // ROLLBACK: ids 1 and 3 are orders_1 and orders_3, both on shard 1.
    c.query_drop("BEGIN").await.unwrap();
    c.query_drop("UPDATE orders SET amount = amount + 100 WHERE id IN (1, 3)")
        .await
        .unwrap();
    assert_eq!(c.affected_rows(), 2, "rows changed by the UPDATE");
    // Not committed yet: other sessions still see the old amounts.
    assert_eq!(
        amounts_1_3(db).await,
        ["10.50", "5.25"],
        "seen from outside the transaction"
    );
    // The transaction sees its own changes, in both tables, on a scatter read.
    let inside: Vec<(i64, String)> = c.query(scan).await.unwrap();
    assert_eq!(
        inside,
        [
            (1, "110.50".to_string()),
            (2, "20.00".to_string()),
            (3, "105.25".to_string()),
            (4, "7.75".to_string())
        ],
        "{scan} inside the transaction"
    );
    let sum: Option<String> = c
        .query_first("SELECT CAST(SUM(amount) AS CHAR) FROM orders WHERE id IN (1, 3)")
        .await
        .unwrap();
    assert_eq!(sum.as_deref(), Some("215.75"), "sum inside the transaction");
    c.query_drop("ROLLBACK").await.unwrap();
    assert_eq!(amounts_1_3(db).await, ["10.50", "5.25"], "after ROLLBACK");
    let after: Vec<(i64, String)> = c.query(scan).await.unwrap();
    assert_eq!(after, before, "{scan} after ROLLBACK");

    // COMMIT: the same changes stay.
    c.query_drop("BEGIN").await.unwrap();
    c.query_drop("UPDATE orders SET amount = amount + 100 WHERE id IN (1, 3)")
        .await
        .unwrap();
    let inside: Vec<(i64, String)> = c.query(scan).await.unwrap();
    assert_eq!(inside[0], (1, "110.50".to_string()));
    assert_eq!(inside[2], (3, "105.25".to_string()));
    c.query_drop("COMMIT").await.unwrap();
    assert_eq!(amounts_1_3(db).await, ["110.50", "105.25"], "after COMMIT");
    let after: Vec<(i64, String)> = c.query(scan).await.unwrap();
    assert_eq!(after, inside, "{scan} after COMMIT");
    // Nothing else moved: still 20 rows, each in its table.
    let n: Option<i64> = c.query_first("SELECT COUNT(*) FROM orders").await.unwrap();
    assert_eq!(n, Some(20));
    let all: Vec<i64> = (1..=20).collect();
    assert_hash_placement(db, &all).await;
}

/// `orders` and `items` split alike (hash, 2 tables per shard) and co-located.
const COLOCATED_SPLIT: &str = r#"
[[schemas.tables]]
names = ["orders"]
algorithm = "hash"
key = "id"
key_type = "int"
tables_per_shard = 2

[[schemas.tables]]
names = ["items"]
algorithm = "hash"
key = "order_id"
key_type = "int"
tables_per_shard = 2

[[schemas.colocated]]
tables = ["orders.id", "items.order_id"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn co_located_split_tables_join_table_by_table() {
    let db = "split_join";
    let (_addr, mut c) = setup(db, COLOCATED_SPLIT).await;
    let mut reference = plain(db).await;
    for sql in [
        "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(20))",
        "CREATE TABLE items (id BIGINT NOT NULL, order_id BIGINT NOT NULL, sku VARCHAR(10), qty INT, PRIMARY KEY (order_id, id))",
        "INSERT INTO orders (id, customer) VALUES (1, 'ann'), (2, 'bob'), (3, 'cy'), (4, 'ann'), (5, 'bob'), (6, 'cy'), (7, 'ann'), (8, 'dee')",
        "INSERT INTO items (id, order_id, sku, qty) VALUES \
         (1, 1, 'pear', 1), (2, 1, 'fig', 2), (3, 2, 'kiwi', 3), (4, 3, 'pear', 4), (5, 3, 'plum', 5), \
         (6, 4, 'fig', 6), (7, 5, 'kiwi', 7), (8, 5, 'pear', 8), (9, 5, 'date', 9), (10, 6, 'plum', 1), \
         (11, 7, 'fig', 2), (12, 9, 'lost', 3)",
    ] {
        both_run(&mut c, &mut reference, sql).await;
    }
    assert_eq!(
        tables_on(0, db).await,
        ["items_0", "items_2", "orders_0", "orders_2"]
    );
    assert_eq!(
        tables_on(1, db).await,
        ["items_1", "items_3", "orders_1", "orders_3"]
    );
    for g in 0..4i64 {
        let s = (g % 2) as usize;
        let order_ids = ids_on(s, db, &format!("SELECT DISTINCT order_id FROM items_{g}")).await;
        assert!(
            order_ids.iter().all(|o| o % 4 == g) && !order_ids.is_empty(),
            "items_{g} on shard {s} holds order ids {order_ids:?}"
        );
    }
    assert_eq!(ids_in(1, db, "items_1").await, [1, 2, 7, 8, 9, 12]);

    same_answers_all(
        &mut c,
        &mut reference,
        &[
            // A key on either side: one physical table pair.
            "SELECT o.id, o.customer, i.sku, i.qty FROM orders o JOIN items i ON i.order_id = o.id WHERE o.id = 5 ORDER BY i.id",
            "SELECT i.id, o.customer FROM items i JOIN orders o ON o.id = i.order_id WHERE i.order_id = 3 ORDER BY i.id",
            "SELECT orders.customer, items.sku FROM orders JOIN items ON items.order_id = orders.id WHERE orders.id = 1 ORDER BY items.sku",
            // Two tables of one shard, and tables of both shards.
            "SELECT o.id, i.id FROM orders o JOIN items i ON i.order_id = o.id WHERE o.id IN (1, 3) ORDER BY i.id",
            // (Key columns are left out of this select list: MariaDB drops their key flags when
            // its plan goes through a temporary table, which it does for four keys in one table
            // and not for one key per physical table.)
            "SELECT o.customer, i.sku, i.qty FROM orders o JOIN items i ON i.order_id = o.id WHERE o.id IN (2, 3, 4, 5) ORDER BY i.id",
            // No key: every physical table pair, merged.
            "SELECT o.customer, i.qty FROM orders o, items i WHERE o.id = i.order_id ORDER BY i.qty DESC, i.id LIMIT 5",
            "SELECT COUNT(*), SUM(i.qty), MIN(i.sku), MAX(o.customer) FROM orders o JOIN items i ON i.order_id = o.id",
            "SELECT o.id, i.id FROM orders o LEFT JOIN items i ON i.order_id = o.id ORDER BY o.id, i.id",
            "SELECT DISTINCT o.customer FROM orders o JOIN items i ON i.order_id = o.id WHERE i.qty > 4 ORDER BY o.customer",
            "SELECT o.id, COUNT(*) FROM orders o JOIN items i ON i.order_id = o.id WHERE o.id = 5 GROUP BY o.id",
        ],
    )
    .await;
    // Every physical table pair: the rows, in order, and column names. Not the column flags:
    // MariaDB's key flags on a joined column depend on its plan, which goes through a
    // temporary table for the 8 orders of the reference but not for the 2 orders and 1 item of
    // `orders_0`, `items_0` (so a plain server answers this very query with other flags too).
    let sql = "SELECT o.id, o.customer, i.id, i.sku, i.qty FROM orders o JOIN items i ON i.order_id = o.id ORDER BY i.id";
    let want = named_rows(&mut reference, sql).await;
    assert_eq!(want.1.len(), 11, "{sql}: rows of the reference");
    assert_eq!(named_rows(&mut c, sql).await, want, "{sql}");
}

/// `orders` split, `payments` sharded on the same key but not split.
const SPLIT_AND_UNSPLIT: &str = r#"
[[schemas.tables]]
names = ["orders"]
algorithm = "hash"
key = "id"
key_type = "int"
tables_per_shard = 2

[[schemas.tables]]
names = ["payments"]
algorithm = "hash"
key = "order_id"
key_type = "int"
"#;

const SCATTER_JOINS: &[&str] = &[
    "SELECT * FROM orders o JOIN payments p ON p.order_id = o.id",
    "SELECT o.id, p.amount FROM orders o JOIN payments p ON p.order_id = o.id ORDER BY o.id",
    "SELECT COUNT(*) FROM payments p LEFT JOIN orders o ON o.id = p.order_id",
    "SELECT o.id FROM orders o, payments p WHERE o.id = p.order_id AND p.amount > 1",
];

/// A fresh `db` with `orders` split and `payments` unsplit, through the proxy and on the
/// reference.
async fn split_and_unsplit(db: &str) -> (Conn, Conn) {
    let (_addr, mut c) = setup(db, SPLIT_AND_UNSPLIT).await;
    let mut reference = plain(db).await;
    for sql in [
        "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(20))",
        "CREATE TABLE payments (id BIGINT NOT NULL, order_id BIGINT NOT NULL, amount INT, PRIMARY KEY (order_id, id))",
        "INSERT INTO orders (id, customer) VALUES (1, 'ann'), (2, 'bob'), (3, 'cy'), (4, 'dee'), (5, 'eve')",
        "INSERT INTO payments (id, order_id, amount) VALUES (1, 1, 5), (2, 3, 7), (3, 5, 9), (4, 2, 4), (5, 5, 1)",
    ] {
        both_run(&mut c, &mut reference, sql).await;
    }
    assert_eq!(tables_on(0, db).await, ["orders_0", "orders_2", "payments"]);
    assert_eq!(tables_on(1, db).await, ["orders_1", "orders_3", "payments"]);
    (c, reference)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_table_joined_with_an_unsplit_one_across_tables_is_refused() {
    let db = "split_refuse";
    let (mut c, _reference) = split_and_unsplit(db).await;
    for sql in SCATTER_JOINS {
        match c.query_drop(*sql).await {
            Ok(()) => panic!("{sql}: answered, expected error 1235"),
            Err(e) => assert_eq!(code(&e), 1235, "{sql}: {e}"),
        }
    }
    // The session goes on.
    let n: Option<i64> = c.query_first("SELECT COUNT(*) FROM orders").await.unwrap();
    assert_eq!(n, Some(5));

    // Declaring them co-located does not make them placed alike: either the rules are
    // refused, or the joins are.
    let colocated = format!(
        "{SPLIT_AND_UNSPLIT}\n[[schemas.colocated]]\ntables = [\"orders.id\", \"payments.order_id\"]\n"
    );
    let text = rules_toml(db, &colocated);
    if let Ok(r) = shardgate::config::Rules::from_toml(&text, "test.toml") {
        let addr = start_proxy(r).await;
        let mut c2 = client(addr, db).await;
        for sql in SCATTER_JOINS {
            match c2.query_drop(*sql).await {
                Ok(()) => panic!("{sql} (declared co-located): answered, expected error 1235"),
                Err(e) => assert_eq!(code(&e), 1235, "{sql} (declared co-located): {e}"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_table_joins_an_unsplit_one_restricted_to_one_physical_table() {
    let db = "split_one_table_join";
    let (mut c, mut reference) = split_and_unsplit(db).await;
    // Each table restricted to one key: one physical table of orders (orders_1, on s1) and
    // the payments of s1.
    same_answers_all(
        &mut c,
        &mut reference,
        &[
            "SELECT o.id, o.customer, p.amount FROM orders o JOIN payments p ON p.order_id = o.id WHERE o.id = 5 AND p.order_id = 5 ORDER BY p.id",
            "SELECT orders.customer, payments.amount FROM orders JOIN payments ON payments.order_id = orders.id WHERE orders.id = 2 AND payments.order_id = 2",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_and_describe_name_the_logical_table() {
    let db = "split_show";
    let (_addr, mut c) = setup(db, HASH_SPLIT).await;
    let mut reference = plain(db).await;
    both_run(&mut c, &mut reference, ORDERS_DDL).await;
    both_run(
        &mut c,
        &mut reference,
        "CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)",
    )
    .await;
    both_run(&mut c, &mut reference, ORDERS_ROWS).await;

    let shown: Vec<String> = c.query("SHOW TABLES").await.unwrap();
    assert_eq!(shown, ["notes", "orders"], "SHOW TABLES through the proxy");
    same_answers_all(
        &mut c,
        &mut reference,
        &[
            "SHOW TABLES",
            "SHOW TABLES LIKE 'ord%'",
            "SHOW FULL TABLES",
            &format!("SHOW TABLES FROM {db}"),
            "DESCRIBE orders",
            "DESC orders id",
            "SHOW COLUMNS FROM orders",
            "SHOW CREATE TABLE orders",
            &format!("SHOW CREATE TABLE {db}.orders"),
        ],
    )
    .await;
}

/// The first column of every row of `sql`.
async fn first_column(c: &mut Conn, sql: &str) -> Vec<String> {
    let (_, rows) = named_rows(c, sql).await;
    rows.into_iter()
        .map(|r| r.into_iter().next().flatten().unwrap_or_default())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn information_schema_and_table_status_name_the_logical_table() {
    let db = "split_info";
    let (_addr, mut c) = setup(db, HASH_SPLIT).await;
    let mut reference = plain(db).await;
    both_run(
        &mut c,
        &mut reference,
        "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(20), amount DECIMAL(10,2), qty INT, UNIQUE KEY by_customer (customer, id), KEY by_qty (qty))",
    )
    .await;
    both_run(
        &mut c,
        &mut reference,
        "CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)",
    )
    .await;
    both_run(&mut c, &mut reference, ORDERS_ROWS).await;
    let tables = format!("TABLE_SCHEMA = '{db}'");
    same_answers_all(
        &mut c,
        &mut reference,
        &[
            &format!("SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COLLATION FROM information_schema.TABLES WHERE {tables} ORDER BY TABLE_NAME"),
            &format!("SELECT TABLE_NAME FROM information_schema.TABLES WHERE {tables} AND TABLE_NAME = 'orders'"),
            &format!("SELECT TABLE_NAME FROM information_schema.TABLES WHERE {tables} AND TABLE_NAME LIKE 'orders%'"),
            &format!("SELECT COUNT(*) FROM information_schema.TABLES WHERE {tables}"),
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1",
            &format!("SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, COLUMN_KEY FROM information_schema.COLUMNS WHERE {tables} ORDER BY TABLE_NAME, ORDINAL_POSITION"),
            &format!("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE {tables} AND TABLE_NAME = 'orders' ORDER BY ORDINAL_POSITION"),
            &format!("SELECT TABLE_NAME, COUNT(*) FROM information_schema.COLUMNS WHERE {tables} GROUP BY TABLE_NAME ORDER BY TABLE_NAME"),
            &format!("SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE FROM information_schema.STATISTICS WHERE {tables} ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"),
            &format!("SELECT TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE FROM information_schema.TABLE_CONSTRAINTS WHERE {tables} ORDER BY 1, 2"),
            &format!("SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, ORDINAL_POSITION FROM information_schema.KEY_COLUMN_USAGE WHERE {tables} ORDER BY 1, 2, 4"),
        ],
    )
    .await;

    // Statistics: the rows of the four physical tables add up (exact after ANALYZE on tables
    // this small), on the one row of the logical table.
    for (s, t) in [
        (0, "orders_0"),
        (0, "orders_2"),
        (1, "orders_1"),
        (1, "orders_3"),
    ] {
        direct(s)
            .await
            .query_drop(format!("ANALYZE TABLE `{db}`.`{t}`"))
            .await
            .unwrap();
    }
    let rows: Vec<(String, u64)> = c
        .query(format!(
            "SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES WHERE {tables} AND TABLE_NAME = 'orders'"
        ))
        .await
        .unwrap();
    assert_eq!(rows, vec![("orders".to_string(), 20)]);

    // SHOW TABLE STATUS: each table once, by its logical name; LIKE on the logical name.
    assert_eq!(
        first_column(&mut c, "SHOW TABLE STATUS").await,
        ["notes", "orders"]
    );
    assert_eq!(
        first_column(&mut c, "SHOW TABLE STATUS LIKE 'ord%'").await,
        ["orders"]
    );
    assert_eq!(
        first_column(
            &mut c,
            &format!("SHOW TABLE STATUS FROM {db} LIKE 'orders'")
        )
        .await,
        ["orders"]
    );
    assert!(
        first_column(&mut c, "SHOW TABLE STATUS LIKE 'orders_%'")
            .await
            .is_empty()
    );
    let (names, status) = named_rows(&mut c, "SHOW TABLE STATUS LIKE 'orders'").await;
    let rows_at = names.iter().position(|n| n == "Rows").unwrap();
    assert_eq!(status[0][rows_at].as_deref(), Some("20"));
    assert_eq!(
        code(
            &c.query_drop("SHOW TABLE STATUS WHERE Name = 'orders'")
                .await
                .unwrap_err()
        ),
        1235
    );

    // SHOW INDEX: the logical name, every index once, cardinalities summed.
    let (names, index) = named_rows(&mut c, "SHOW INDEX FROM orders").await;
    let (_, want) = named_rows(&mut reference, "SHOW INDEX FROM orders").await;
    let col = |n: &str| names.iter().position(|x| x == n).unwrap();
    let key =
        |rows: &[Vec<Option<String>>]| -> Vec<(Option<String>, Option<String>, Option<String>)> {
            rows.iter()
                .map(|r| {
                    (
                        r[col("Table")].clone(),
                        r[col("Key_name")].clone(),
                        r[col("Column_name")].clone(),
                    )
                })
                .collect()
        };
    assert_eq!(key(&index), key(&want));
    let primary = index
        .iter()
        .find(|r| r[col("Key_name")].as_deref() == Some("PRIMARY"))
        .unwrap();
    assert_eq!(primary[col("Cardinality")].as_deref(), Some("20"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_table_drops_every_physical_table() {
    let db = "split_drop";
    let (_addr, mut c) = setup(db, HASH_SPLIT).await;
    let mut reference = plain(db).await;
    both_run(&mut c, &mut reference, ORDERS_DDL).await;
    both_run(&mut c, &mut reference, ORDERS_ROWS).await;
    assert_eq!(tables_on(0, db).await, ["orders_0", "orders_2"]);
    assert_eq!(tables_on(1, db).await, ["orders_1", "orders_3"]);
    same_answers_all(
        &mut c,
        &mut reference,
        &[
            "DROP TABLE orders",
            "SELECT * FROM orders WHERE id = 5",
            "SELECT COUNT(*) FROM orders",
            "DROP TABLE orders",
        ],
    )
    .await;
    c.query_drop("DROP TABLE IF EXISTS orders")
        .await
        .expect("DROP TABLE IF EXISTS of a dropped split table");
    assert_eq!(tables_on(0, db).await, Vec::<String>::new(), "shard 0");
    assert_eq!(tables_on(1, db).await, Vec::<String>::new(), "shard 1");
    // Created again, empty, with every physical table.
    same_answers_all(
        &mut c,
        &mut reference,
        &[
            ORDERS_DDL,
            "SELECT COUNT(*) FROM orders",
            "INSERT INTO orders (id, customer, amount, qty) VALUES (1, 'a', 1, 1), (2, 'b', 2, 2)",
            "SELECT id FROM orders ORDER BY id",
        ],
    )
    .await;
    assert_eq!(tables_on(0, db).await, ["orders_0", "orders_2"]);
    assert_eq!(tables_on(1, db).await, ["orders_1", "orders_3"]);
    assert_eq!(ids_in(1, db, "orders_1").await, [1]);
    assert_eq!(ids_in(0, db, "orders_2").await, [2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_statements_reach_the_physical_tables() {
    let db = "split_prepared";
    let (_addr, mut c) = setup(db, HASH_SPLIT).await;
    let mut reference = plain(db).await;
    both_run(&mut c, &mut reference, ORDERS_DDL).await;
    both_run(&mut c, &mut reference, ORDERS_ROWS).await;
    let sql = "SELECT customer, amount FROM orders WHERE id = ?";
    for id in [5i64, 6, 12] {
        let got = c.exec_first::<(String, String), _, _>(sql, (id,)).await;
        let want: Option<(String, String)> = reference.exec_first(sql, (id,)).await.unwrap();
        assert!(want.is_some(), "{sql} with id {id}: a row on the reference");
        match got {
            Ok(got) => assert_eq!(got, want, "{sql} with id {id}"),
            Err(e) => panic!("{sql} with id {id}: {e}, expected {want:?}"),
        }
    }
    let sql = "SELECT id FROM orders WHERE id IN (?, ?, ?) ORDER BY id";
    let got = c.exec::<i64, _, _>(sql, (1, 3, 6)).await;
    match got {
        Ok(got) => assert_eq!(got, [1, 3, 6], "{sql}"),
        Err(e) => panic!("{sql} with 1, 3, 6: {e}"),
    }
    let sql = "UPDATE orders SET qty = ? WHERE id = ?";
    if let Err(e) = c.exec_drop(sql, (77, 7)).await {
        panic!("{sql} with 77, 7: {e}");
    }
    assert_eq!(
        ids_on(1, db, "SELECT id FROM orders_3 WHERE qty = 77").await,
        [7]
    );
    let sql = "INSERT INTO orders (id, customer, amount, qty) VALUES (?, ?, ?, ?)";
    if let Err(e) = c.exec_drop(sql, (22, "x", "1.00", 1)).await {
        panic!("{sql} with id 22: {e}");
    }
    assert_eq!(
        ids_on(0, db, "SELECT id FROM orders_2 WHERE id > 20").await,
        [22]
    );
}
