//! Where rows land, checked on each shard directly: keys that look like "no key" (0), tables
//! placed by a name pattern (`names = ["t_*"]`), ids the proxy numbers in a column other than
//! the shard key.

mod common;

use common::*;
use mysql_async::Value;
use mysql_async::prelude::Queryable;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_zero_is_an_ordinary_key_without_auto_increment() {
    // shards = ["s1", "s0"]: hash position 0 is s1, so key 0 cannot land there by default.
    let tables = r#"
[[schemas.tables]]
names = ["wallets"]
algorithm = "hash"
key = "id"
key_type = "int"
shards = ["s1", "s0"]
"#;
    let db = "place_zero";
    let (_addr, mut c) = setup(db, tables).await;
    c.query_drop("CREATE TABLE wallets (id BIGINT PRIMARY KEY, owner VARCHAR(20))")
        .await
        .unwrap();
    c.query_drop("INSERT INTO wallets (id, owner) VALUES (0, 'zero'), (1, 'one')")
        .await
        .unwrap();
    c.exec_drop("INSERT INTO wallets (id, owner) VALUES (?, ?)", (2, "two"))
        .await
        .unwrap();
    assert_eq!(ids_on(1, db, "SELECT id FROM wallets").await, vec![0, 2]);
    assert_eq!(ids_on(0, db, "SELECT id FROM wallets").await, vec![1]);
    let owner: Option<String> = c
        .exec_first("SELECT owner FROM wallets WHERE id = ?", (0,))
        .await
        .unwrap();
    assert_eq!(owner.as_deref(), Some("zero"));
    c.query_drop("UPDATE wallets SET owner = 'nil' WHERE id = 0")
        .await
        .unwrap();
    let owner: Option<String> = c
        .query_first("SELECT owner FROM wallets WHERE id = 0")
        .await
        .unwrap();
    assert_eq!(owner.as_deref(), Some("nil"));
    // NULL is no key at all: refused, with the key named.
    let e = c
        .query_drop("INSERT INTO wallets (id, owner) VALUES (NULL, 'nobody')")
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1235, "{e}");
    assert!(e.to_string().contains("NULL shard key `id`"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_zero_on_auto_increment_follows_no_auto_value_on_zero() {
    let tables = r#"
[[schemas.tables]]
names = ["tickets"]
algorithm = "hash"
key = "id"
key_type = "int"
auto_increment = true
"#;
    let db = "place_zero_ai";
    let (_addr, mut c) = setup(db, tables).await;
    let ddl = "CREATE TABLE tickets (id BIGINT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(10))";
    c.query_drop(ddl).await.unwrap();
    // What MariaDB itself does, on a plain table of the same definition.
    let mut plain = direct(0).await;
    plain
        .query_drop(format!("CREATE TABLE `{db}_other`.tickets (id BIGINT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(10))"))
        .await
        .unwrap();
    let other = format!("`{db}_other`.tickets");
    // Without the mode, 0 asks for an id: the row gets 1 (a fresh sequence), on s1.
    c.query_drop("INSERT INTO tickets (id, v) VALUES (0, 'auto')")
        .await
        .unwrap();
    plain
        .query_drop(format!("INSERT INTO {other} (id, v) VALUES (0, 'auto')"))
        .await
        .unwrap();
    // With it, 0 is stored as 0 (on s0, position 0); NULL still asks for an id.
    c.query_drop("SET sql_mode = 'STRICT_TRANS_TABLES,NO_AUTO_VALUE_ON_ZERO'")
        .await
        .unwrap();
    plain
        .query_drop("SET sql_mode = 'STRICT_TRANS_TABLES,NO_AUTO_VALUE_ON_ZERO'")
        .await
        .unwrap();
    c.query_drop("INSERT INTO tickets (id, v) VALUES (0, 'zero'), (NULL, 'next')")
        .await
        .unwrap();
    plain
        .query_drop(format!(
            "INSERT INTO {other} (id, v) VALUES (0, 'zero'), (NULL, 'next')"
        ))
        .await
        .unwrap();
    // Ids other than 0 are the sequence's (the proxy's 1, 2; InnoDB may skip some): compare
    // which rows got 0 and that every other row got an id of its own.
    let zero_rows = "SELECT v FROM {t} WHERE id = 0";
    let proxied: Vec<String> = c.query(zero_rows.replace("{t}", "tickets")).await.unwrap();
    let on_plain: Vec<String> = plain.query(zero_rows.replace("{t}", &other)).await.unwrap();
    assert_eq!(proxied, vec!["zero".to_string()]);
    assert_eq!(
        proxied, on_plain,
        "the row a plain MariaDB stores with id 0"
    );
    let distinct = "SELECT COUNT(DISTINCT id), COUNT(*) FROM {t}";
    let counts: Option<(i64, i64)> = plain
        .query_first(distinct.replace("{t}", &other))
        .await
        .unwrap();
    assert_eq!(counts, Some((3, 3)));
    assert_eq!(ids_on(0, db, "SELECT id FROM tickets").await, vec![0, 2]);
    let v: Option<String> = c
        .query_first("SELECT v FROM tickets WHERE id = 0")
        .await
        .unwrap();
    assert_eq!(v.as_deref(), Some("zero"));
}

/// How many tables named `table` the database `db` of shard `s` holds (0 or 1).
async fn has_table(s: usize, db: &str, table: &str) -> i64 {
    let mut c = direct(s).await;
    let n: Option<i64> = c
        .exec_first(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            (db, table),
        )
        .await
        .unwrap();
    n.unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_matching_one_pattern_are_placed_by_its_rule() {
    let tables = r#"
[[schemas.tables]]
names = ["t_*"]
algorithm = "hash"
key = "customer_id"
key_type = "int"

[[schemas.tables]]
names = ["log_??"]
algorithm = "hash"
key = "id"
key_type = "int"
auto_increment = true
shards = ["s1", "s0"]
"#;
    let db = "place_pattern";
    let (_addr, mut c) = setup(db, tables).await;
    for t in ["t_acme", "T_Globex"] {
        c.query_drop(format!(
            "CREATE TABLE {t} (customer_id BIGINT PRIMARY KEY, name VARCHAR(20))"
        ))
        .await
        .unwrap();
    }
    for t in ["log_a1", "log_b2", "log_abc"] {
        c.query_drop(format!(
            "CREATE TABLE {t} (id BIGINT PRIMARY KEY, msg VARCHAR(20))"
        ))
        .await
        .unwrap();
    }
    // DDL of a pattern table runs on every shard of the rule; other tables are unsharded.
    for t in ["t_acme", "T_Globex", "log_a1", "log_b2"] {
        assert_eq!(
            (has_table(0, db, t).await, has_table(1, db, t).await),
            (1, 1),
            "{t}"
        );
    }
    assert_eq!(
        (
            has_table(0, db, "log_abc").await,
            has_table(1, db, "log_abc").await
        ),
        (1, 0),
        "log_?? does not match log_abc: it lives on the default shard"
    );

    c.query_drop("INSERT INTO t_acme (customer_id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')")
        .await
        .unwrap();
    c.exec_drop(
        "INSERT INTO T_Globex (customer_id, name) VALUES (?, ?), (?, ?)",
        (4, "d", 5, "e"),
    )
    .await
    .unwrap();
    assert_eq!(
        ids_on(0, db, "SELECT customer_id FROM t_acme").await,
        vec![2]
    );
    assert_eq!(
        ids_on(1, db, "SELECT customer_id FROM t_acme").await,
        vec![1, 3]
    );
    assert_eq!(
        ids_on(0, db, "SELECT customer_id FROM T_Globex").await,
        vec![4]
    );
    assert_eq!(
        ids_on(1, db, "SELECT customer_id FROM T_Globex").await,
        vec![5]
    );
    let name: Option<String> = c
        .query_first("SELECT name FROM t_acme WHERE customer_id = 3")
        .await
        .unwrap();
    assert_eq!(name.as_deref(), Some("c"));
    let n: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM T_Globex")
        .await
        .unwrap();
    assert_eq!(n, Some(2));

    // Each table of an auto_increment pattern rule has its own sequence.
    c.query_drop("INSERT INTO log_a1 (msg) VALUES ('x'), ('y')")
        .await
        .unwrap();
    c.query_drop("INSERT INTO log_b2 (msg) VALUES ('z')")
        .await
        .unwrap();
    // shards = ["s1", "s0"]: MOD(id, 2) = 0 is s1.
    assert_eq!(ids_on(0, db, "SELECT id FROM log_a1").await, vec![1]);
    assert_eq!(ids_on(1, db, "SELECT id FROM log_a1").await, vec![2]);
    assert_eq!(ids_on(0, db, "SELECT id FROM log_b2").await, vec![1]);

    // A statement the proxy cannot parse may not run on one shard of a pattern table.
    let e = c.query_drop("OPTIMIZE TABLE t_acme").await.unwrap_err();
    assert_eq!(code(&e), 1064, "{e}");
    assert!(e.to_string().contains("sharded table `t_acme`"), "{e}");

    let shown: Vec<String> = c.query("SHOW TABLES").await.unwrap();
    for t in ["t_acme", "T_Globex", "log_a1", "log_b2", "log_abc"] {
        assert!(
            shown.iter().any(|s| s == t),
            "SHOW TABLES lacks {t}: {shown:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_numbered_column_that_is_not_the_key_gets_global_ids() {
    let tables = r#"
[[schemas.tables]]
names = ["orders"]
algorithm = "hash"
key = "product_id"
key_type = "int"
auto_increment = "id"

[[schemas.tables]]
names = ["undeclared"]
algorithm = "hash"
key = "k"
key_type = "int"

[[schemas.tables]]
names = ["per_shard"]
algorithm = "hash"
key = "k"
key_type = "int"
auto_increment = false
"#;
    let db = "place_ai_column";
    let (_addr, mut c) = setup(db, tables).await;
    c.query_drop("CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, product_id BIGINT NOT NULL, qty INT)")
        .await
        .unwrap();
    // Split over both shards by product_id; ids from one sequence, in VALUES order.
    c.query_drop("INSERT INTO orders (product_id, qty) VALUES (1, 10), (2, 20), (1, 11), (2, 21)")
        .await
        .unwrap();
    assert_eq!((c.affected_rows(), c.last_insert_id()), (4, Some(1)));
    let last: Option<u64> = c.query_first("SELECT LAST_INSERT_ID()").await.unwrap();
    assert_eq!(last, Some(1));
    // NULL asks for an id (prepared); the OK packet and LAST_INSERT_ID() say which.
    c.exec_drop(
        "INSERT INTO orders (id, product_id, qty) VALUES (?, ?, ?)",
        (Value::NULL, 2, 22),
    )
    .await
    .unwrap();
    assert_eq!(c.last_insert_id(), Some(5));
    // An explicit id is stored as given, moves the sequence on, and leaves LAST_INSERT_ID().
    c.query_drop("INSERT INTO orders (id, product_id, qty) VALUES (100, 1, 12)")
        .await
        .unwrap();
    let last: Option<u64> = c.query_first("SELECT LAST_INSERT_ID()").await.unwrap();
    assert_eq!(last, Some(5));
    c.query_drop("INSERT INTO orders (product_id, qty) VALUES (2, 23)")
        .await
        .unwrap();
    assert_eq!(c.last_insert_id(), Some(101));
    // Each shard holds its products' orders, and no id is on both.
    assert_eq!(
        ids_on(1, db, "SELECT id FROM orders").await,
        vec![1, 3, 100]
    );
    assert_eq!(
        ids_on(0, db, "SELECT id FROM orders").await,
        vec![2, 4, 5, 101]
    );
    let rows: Vec<(u64, i64, i64)> = c
        .query("SELECT id, product_id, qty FROM orders ORDER BY id")
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![
            (1, 1, 10),
            (2, 2, 20),
            (3, 1, 11),
            (4, 2, 21),
            (5, 2, 22),
            (100, 1, 12),
            (101, 2, 23)
        ]
    );
    // The shard key is still needed: the id does not place the row.
    let e = c
        .query_drop("INSERT INTO orders (qty) VALUES (1)")
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1235, "{e}");
    assert!(e.to_string().contains("shard key `product_id`"), "{e}");

    // DDL time: an AUTO_INCREMENT column nobody numbers globally is refused, on no shard;
    // `auto_increment = false` says each shard numbers its own.
    let e = c
        .query_drop("CREATE TABLE undeclared (id BIGINT AUTO_INCREMENT PRIMARY KEY, k BIGINT)")
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1235, "{e}");
    assert!(e.to_string().contains("auto_increment = \"id\""), "{e}");
    assert_eq!(
        (
            has_table(0, db, "undeclared").await,
            has_table(1, db, "undeclared").await
        ),
        (0, 0)
    );
    c.query_drop("CREATE TABLE per_shard (id BIGINT AUTO_INCREMENT PRIMARY KEY, k BIGINT)")
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_without_a_column_list_is_placed_by_the_key_position() {
    // The key is the third column, and the proxy numbers the first.
    let tables = r#"
[[schemas.tables]]
names = ["notes", "ghost"]
algorithm = "hash"
key = "owner"
key_type = "int"
auto_increment = "id"
"#;
    let db = "place_positional";
    let (_addr, mut c) = setup(db, tables).await;
    c.query_drop("CREATE TABLE notes (id BIGINT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(20), owner BIGINT NOT NULL)")
        .await
        .unwrap();
    c.query_drop("INSERT INTO notes VALUES (NULL, 'a', 1), (DEFAULT, 'b', 2), (10, 'c', 3)")
        .await
        .unwrap();
    assert_eq!((c.affected_rows(), c.last_insert_id()), (3, Some(1)));
    c.exec_drop("INSERT INTO notes VALUES (?, ?, ?)", (Value::NULL, "d", 4))
        .await
        .unwrap();
    assert_eq!(c.last_insert_id(), Some(11), "the sequence moved past 10");
    assert_eq!(ids_on(1, db, "SELECT owner FROM notes").await, vec![1, 3]);
    assert_eq!(ids_on(0, db, "SELECT owner FROM notes").await, vec![2, 4]);
    assert_eq!(ids_on(0, db, "SELECT id FROM notes").await, vec![2, 11]);
    // MySQL's errors: a row with another number of values, a table that does not exist.
    let e = c
        .query_drop("INSERT INTO notes VALUES (NULL, 'x', 5), (NULL, 'y')")
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1136, "{e}");
    assert!(e.to_string().contains("at row 2"), "{e}");
    let e = c
        .query_drop("INSERT INTO ghost VALUES (1, 'x', 5)")
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1146, "{e}");
    // `VALUES ()` gives the key its default: no shard can be chosen.
    let e = c
        .query_drop("INSERT INTO notes VALUES ()")
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1235, "{e}");

    // After ALTER TABLE through the proxy, the new column order is read again.
    c.query_drop("ALTER TABLE notes ADD COLUMN tag VARCHAR(5) FIRST")
        .await
        .unwrap();
    c.query_drop("INSERT INTO notes VALUES ('t', NULL, 'e', 5)")
        .await
        .unwrap();
    assert_eq!(c.last_insert_id(), Some(12));
    assert_eq!(
        ids_on(1, db, "SELECT owner FROM notes").await,
        vec![1, 3, 5]
    );
    // A column added behind the proxy's back (directly on each shard) is found when a row's
    // value count stops matching; invisible columns take no value, as in MariaDB.
    for s in 0..2 {
        direct(s)
            .await
            .query_drop(format!(
                "ALTER TABLE `{db}`.notes ADD COLUMN secret INT INVISIBLE DEFAULT 7, ADD COLUMN extra INT"
            ))
            .await
            .unwrap();
    }
    c.query_drop("INSERT INTO notes VALUES ('u', NULL, 'f', 6, 60)")
        .await
        .unwrap();
    type Note = (Option<String>, u64, String, i64, Option<i64>, i64);
    let rows: Vec<Note> = c
        .query("SELECT tag, id, body, owner, extra, secret FROM notes ORDER BY owner")
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![
            (None, 1, "a".into(), 1, None, 7),
            (None, 2, "b".into(), 2, None, 7),
            (None, 10, "c".into(), 3, None, 7),
            (None, 11, "d".into(), 4, None, 7),
            (Some("t".into()), 12, "e".into(), 5, None, 7),
            (Some("u".into()), 13, "f".into(), 6, Some(60), 7),
        ]
    );
    assert_eq!(
        ids_on(0, db, "SELECT owner FROM notes").await,
        vec![2, 4, 6]
    );
}
