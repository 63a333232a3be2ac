//! System schemas (issue 12 item 17), on real servers: information_schema through the proxy
//! answers about the logical schemas exactly as one plain MariaDB with the same schema does
//! (each logical table once, wherever its rule puts it; the proxy's own table and the backends'
//! schemas hidden); mysql, performance_schema and sys are for admin users only; CREATE, DROP and
//! ALTER DATABASE of a logical schema run on every shard, of anything else are refused.

mod common;

use common::*;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder, Row, Value};

/// Tables sharded over both shards, by name and by pattern, unsharded ones (on the default
/// shard s0) and an auto_increment table (so that the proxy's `shardgate_sequences` exists):
/// the schema's objects all live on its default shard, with a second schema whose default is
/// s1.
const TOGETHER: &str = r#"
[[schemas.tables]]
names = ["orders", "customers"]
algorithm = "hash"
key = "id"
key_type = "int"

[[schemas.tables]]
names = ["t_*"]
algorithm = "hash"
key = "id"
key_type = "int"

[[schemas.tables]]
names = ["seqd"]
algorithm = "hash"
key = "id"
key_type = "int"
auto_increment = true
"#;

/// Every placement an object can have: as [`TOGETHER`], but `customers` and the `t_*` tables
/// on s1 only, so that the schema's objects are spread over both shards.
const SPREAD: &str = r#"
[[schemas.tables]]
names = ["orders"]
algorithm = "hash"
key = "customer_id"
key_type = "int"

[[schemas.tables]]
names = ["customers"]
algorithm = "hash"
key = "id"
key_type = "int"
shards = ["s1"]

[[schemas.tables]]
names = ["t_*"]
algorithm = "hash"
key = "id"
key_type = "int"
shards = ["s1"]

[[schemas.tables]]
names = ["seqd"]
algorithm = "hash"
key = "id"
key_type = "int"
auto_increment = true
"#;

/// The schema, as DDL that runs the same through the proxy and on the plain server.
const DDL: &[&str] = &[
    "CREATE TABLE authors (id BIGINT PRIMARY KEY, name VARCHAR(40) NOT NULL, UNIQUE KEY uk_name (name))",
    "CREATE TABLE notes (id BIGINT PRIMARY KEY, author_id BIGINT, body TEXT, KEY k_author (author_id), CONSTRAINT fk_author FOREIGN KEY (author_id) REFERENCES authors (id))",
    "CREATE TABLE orders (id BIGINT NOT NULL, customer_id BIGINT NOT NULL, total DECIMAL(10,2) DEFAULT 0, PRIMARY KEY (customer_id, id), KEY k_total (total))",
    "CREATE TABLE customers (id BIGINT PRIMARY KEY, email VARCHAR(80) CHECK (email LIKE '%@%'))",
    "CREATE TABLE t_acme (id BIGINT PRIMARY KEY, v INT)",
    "CREATE TABLE seqd (id BIGINT PRIMARY KEY AUTO_INCREMENT, v INT)",
    "CREATE VIEW v_notes AS SELECT id, body FROM notes",
    "CREATE PROCEDURE p_count() SELECT COUNT(*) FROM authors",
    "CREATE TRIGGER tr_notes BEFORE INSERT ON notes FOR EACH ROW SET NEW.body = COALESCE(NEW.body, '')",
];

/// A connection to the plain server (`common::plain_server`) in database `db`, as it is (the
/// common `plain` recreates its database, which information_schema is not).
async fn plain_conn(db: &str) -> Conn {
    let opts = Opts::from_url(&plain_server().primary_url(0)).expect("url");
    Conn::new(
        OptsBuilder::from_opts(opts)
            .prefer_socket(false)
            .db_name(Some(db)),
    )
    .await
    .expect("plain connection")
}

/// The same schema through a proxy (app connected to `db`) and on the plain server.
async fn prepare(db: &str, tables: &str) -> (std::net::SocketAddr, Conn, Conn) {
    let other = format!("{db}_other");
    std::thread::spawn(|| {
        plain_server();
    })
    .join()
    .unwrap();
    let mut p = plain_conn("mysql").await;
    for d in [db, other.as_str()] {
        p.query_drop(format!("DROP DATABASE IF EXISTS `{d}`"))
            .await
            .unwrap();
        p.query_drop(format!("CREATE DATABASE `{d}`"))
            .await
            .unwrap();
    }
    let (addr, mut c) = setup(db, tables).await;
    let mut p = plain_conn(db).await;
    for sql in DDL {
        c.query_drop(*sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        p.query_drop(*sql).await.unwrap();
    }
    let logs = format!("CREATE TABLE `{other}`.logs (id BIGINT PRIMARY KEY, msg VARCHAR(100))");
    c.query_drop(&logs).await.unwrap();
    p.query_drop(&logs).await.unwrap();
    c.query_drop("INSERT INTO seqd (v) VALUES (1), (2), (3)")
        .await
        .unwrap();
    (addr, c, p)
}

/// Each query answers the same through the proxy (`c`) and on the plain server (`p`), and
/// something: a query answering no row proves nothing.
async fn same(c: &mut Conn, p: &mut Conn, queries: &[String]) {
    for q in queries {
        let mut want = rows(p, q).await;
        let mut got = rows(c, q).await;
        if !q.contains("ORDER BY") && !q.contains("order by") && !q.starts_with("SHOW") {
            want.sort();
            got.sort();
        }
        assert_eq!(got, want, "{q}");
        assert!(!got.is_empty(), "{q} answered no row");
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => other.as_sql(true),
    }
}

async fn rows(c: &mut Conn, sql: &str) -> Vec<Vec<String>> {
    let rows: Vec<Row> = c.query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.into_iter()
        .map(|r| r.unwrap().iter().map(text).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn information_schema_answers_like_one_server() {
    let db = "is_same";
    let (addr, mut c, mut p) = prepare(db, TOGETHER).await;
    let queries = [
        // What ORMs and GUI tools send.
        format!("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{db}'"),
        "SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME".into(),
        "SELECT COUNT(*) FROM information_schema.engines".into(),
        "SELECT * FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'orders' ORDER BY ORDINAL_POSITION".into(),
        "select column_name, data_type, is_nullable, column_key from information_schema.columns where table_schema = database() order by table_name, ordinal_position".into(),
        format!("SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA LIKE '{db}%' ORDER BY 1, 2"),
        format!("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ('{db}', '{db}_other')"),
        format!("SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '{db}%' ORDER BY 1"),
        "SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX".into(),
        "SELECT CONSTRAINT_NAME, TABLE_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION".into(),
        "SELECT CONSTRAINT_NAME, TABLE_NAME, CONSTRAINT_TYPE FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, CONSTRAINT_NAME".into(),
        "SELECT CONSTRAINT_NAME, TABLE_NAME, REFERENCED_TABLE_NAME, UPDATE_RULE, DELETE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()".into(),
        "SELECT CONSTRAINT_NAME, TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()".into(),
        "SELECT TABLE_NAME, VIEW_DEFINITION, IS_UPDATABLE FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()".into(),
        "SELECT ROUTINE_NAME, ROUTINE_TYPE, ROUTINE_DEFINITION FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()".into(),
        "SELECT TRIGGER_NAME, EVENT_MANIPULATION, EVENT_OBJECT_TABLE, ACTION_STATEMENT, ACTION_TIMING FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()".into(),
        // Joins, subqueries, LIMIT, aggregates over the views, across the shards that own them.
        "SELECT t.TABLE_NAME, c.COLUMN_NAME FROM information_schema.TABLES t JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE' ORDER BY 1, 2".into(),
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME LIMIT 2, 3".into(),
        "SELECT COUNT(*), MIN(TABLE_NAME), MAX(TABLE_NAME) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()".into(),
        "SELECT t.TABLE_NAME, e.SUPPORT FROM information_schema.TABLES t JOIN information_schema.ENGINES e ON e.ENGINE = t.ENGINE WHERE t.TABLE_SCHEMA = DATABASE() ORDER BY 1".into(),
        "SELECT CHARACTER_SET_NAME, MAXLEN FROM information_schema.CHARACTER_SETS ORDER BY 1".into(),
        // Reflection outside information_schema.
        format!("SHOW FULL TABLES FROM {db}"),
        "SHOW CREATE TABLE orders".into(),
        "SHOW INDEX FROM notes".into(),
        "DESCRIBE information_schema.TABLES".into(),
        "SHOW COLUMNS FROM COLUMNS FROM information_schema".into(),
    ];
    same(&mut c, &mut p, &queries).await;
    // A user who sees one schema only: any statement runs where that schema lives.
    let mut l = client_as(addr, "limited", "pw", Some(db)).await.unwrap();
    same(
        &mut l,
        &mut p,
        &["SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (SELECT TABLE_NAME FROM information_schema.COLUMNS WHERE COLUMN_NAME = 'email') ORDER BY 1".into(),
          "SELECT TABLE_NAME, COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() GROUP BY TABLE_NAME ORDER BY 1".into()],
    )
    .await;
    // Statements the binary protocol prepares.
    let q = "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE ? ORDER BY 1";
    let got: Vec<String> = c.exec(q, (db, "%o%")).await.unwrap();
    let want: Vec<String> = p.exec(q, (db, "%o%")).await.unwrap();
    assert_eq!(got, want);
    // information_schema as the current schema.
    let mut i = client_as(addr, "app", "app", Some("information_schema"))
        .await
        .unwrap();
    let mut pi = plain_conn("information_schema").await;
    for q in [
        format!("SELECT TABLE_NAME FROM TABLES WHERE TABLE_SCHEMA = '{db}' ORDER BY 1"),
        "SHOW TABLES LIKE 'COLL%'".into(),
        "SELECT DATABASE()".into(),
    ] {
        assert_eq!(rows(&mut i, &q).await, rows(&mut pi, &q).await, "{q}");
    }
    c.query_drop("USE information_schema").await.unwrap();
    let n: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM COLUMNS WHERE TABLE_NAME = 'orders'")
        .await
        .unwrap();
    assert_eq!(n, Some(3));
}

async fn count(c: &mut Conn, q: &str) -> i64 {
    let n: Option<i64> = c
        .query_first(q)
        .await
        .unwrap_or_else(|e| panic!("{q}: {e}"));
    n.unwrap_or(-1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_logical_schemas_are_described() {
    let db = "is_hidden";
    let (addr, mut c, mut p) = prepare(db, SPREAD).await;
    let other = format!("{db}_other");
    // Tables on s1 only, on both shards and on s0 only: each described once, by its owner.
    same(
        &mut c,
        &mut p,
        &[
            format!("SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA LIKE '{db}%' ORDER BY 1, 2"),
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION".into(),
            "SELECT CONSTRAINT_NAME, TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()".into(),
            "SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX".into(),
            "SELECT COUNT(*), MAX(TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()".into(),
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1 LIMIT 1, 4".into(),
            format!("SHOW FULL TABLES FROM {db}"),
            // Grouped across shards: each table's columns are counted where the table is read.
            "SELECT TABLE_NAME, COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() GROUP BY TABLE_NAME ORDER BY TABLE_NAME".into(),
        ],
    )
    .await;
    // Rows of several shards cannot be joined there: refused, not answered wrong.
    for q in [
        "SELECT t.TABLE_NAME, c.COLUMN_NAME FROM information_schema.TABLES t JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME WHERE t.TABLE_SCHEMA = DATABASE()",
        "SELECT TABLE_NAME, (SELECT COUNT(*) FROM information_schema.COLUMNS c WHERE c.TABLE_NAME = t.TABLE_NAME) FROM information_schema.TABLES t WHERE TABLE_SCHEMA = DATABASE()",
    ] {
        let e = c.query_drop(q).await.unwrap_err();
        assert_eq!(code(&e), 1235, "{q}");
    }
    // The proxy's table exists (on the default shard) but is never shown.
    let direct_n: Option<i64> = direct(0)
        .await
        .exec_first(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'shardgate_sequences'",
            (db,),
        )
        .await
        .unwrap();
    assert_eq!(direct_n, Some(1));
    for q in [
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_NAME = 'shardgate_sequences'".to_string(),
        "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_NAME = 'shardgate_sequences'".into(),
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ('mysql', 'performance_schema', 'sys')".into(),
        "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN ('mysql', 'performance_schema', 'sys', 'test')".into(),
        "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'sys'".into(),
        // Another test's database on the same servers is no logical schema here.
        "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'is_same'".into(),
    ] {
        assert_eq!(count(&mut c, &q).await, 0, "{q}");
    }
    let schemas: Vec<String> = c
        .query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY 1")
        .await
        .unwrap();
    assert_eq!(
        schemas,
        vec!["information_schema".to_string(), db.into(), other.clone()]
    );
    let dbs: Vec<String> = c.query("SHOW DATABASES").await.unwrap();
    assert_eq!(dbs, schemas);
    // Each table once, though `orders` and `seqd` live on both shards.
    let n = count(
        &mut c,
        &format!("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{db}'"),
    )
    .await;
    assert_eq!(
        n, 7,
        "authors, notes, orders, customers, t_acme, seqd, v_notes: once each"
    );
    // A user limited to one schema sees that one only.
    let mut l = client_as(addr, "limited", "pw", Some(db)).await.unwrap();
    let schemas: Vec<String> = l
        .query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY 1")
        .await
        .unwrap();
    assert_eq!(schemas, vec!["information_schema".to_string(), db.into()]);
    assert_eq!(
        count(
            &mut l,
            &format!(
                "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{other}'"
            )
        )
        .await,
        0
    );
    let dbs: Vec<String> = l.query("SHOW DATABASES").await.unwrap();
    assert_eq!(dbs, schemas);
    // SHOW forms that list every schema's objects are filtered the same way.
    let procs: Vec<Row> = c.query("SHOW PROCEDURE STATUS").await.unwrap();
    let names: Vec<(String, String)> = procs
        .iter()
        .map(|r| (r.get(0).unwrap(), r.get(1).unwrap()))
        .collect();
    assert_eq!(names, vec![(db.to_string(), "p_count".to_string())]);
    let status: Vec<Row> = c.query("SHOW TABLE STATUS").await.unwrap();
    let names: Vec<String> = status.iter().map(|r| r.get(0).unwrap()).collect();
    assert!(
        !names.iter().any(|n| n == "shardgate_sequences"),
        "{names:?}"
    );
    // Views the proxy does not know, and backend internals, are not for applications.
    let e = c
        .query_drop("SELECT * FROM information_schema.INNODB_TRX")
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1227);
    let e = c
        .query_drop("SELECT * FROM information_schema.NO_SUCH_VIEW")
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1235);
    // information_schema may not be mixed with the logical tables, nor written.
    let e = c
        .query_drop(
            "SELECT * FROM orders JOIN information_schema.TABLES t ON t.TABLE_NAME = 'orders'",
        )
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1235);
    let e = c
        .query_drop("SELECT * FROM information_schema.TABLES LOCK IN SHARE MODE")
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1064);
    let e = c
        .query_drop("SELECT 1 /*!, (SELECT COUNT(*) FROM information_schema.TABLES) */")
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1235);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_schemas_are_for_admins_only() {
    let db = "is_admin";
    fresh_schema(db).await;
    let text = rules_toml(db, TOGETHER).replace("shardgate:shardgate@", "root@");
    let addr = start_proxy(shardgate::config::Rules::from_toml(&text, "t.toml").unwrap()).await;
    let mut app = client(addr, db).await;
    for (sql, want) in [
        ("SELECT COUNT(*) FROM mysql.user", 1142),
        ("SELECT * FROM performance_schema.session_status", 1142),
        ("SELECT * FROM sys.version", 1142),
        ("USE performance_schema", 1044),
        ("SHOW TABLES FROM sys", 1044),
    ] {
        let e = app.query_drop(sql).await.unwrap_err();
        assert_eq!(code(&e), want, "{sql}");
    }
    assert!(client_as(addr, "app", "app", Some("mysql")).await.is_err());
    let mut admin = client_as(addr, "admin", "admin", Some(db)).await.unwrap();
    let n: Option<i64> = admin
        .query_first("SELECT COUNT(*) FROM mysql.user WHERE User = 'root'")
        .await
        .unwrap();
    assert!(n.unwrap_or(0) > 0);
    let v: Vec<Row> = admin.query("SELECT * FROM sys.version").await.unwrap();
    assert_eq!(v.len(), 1);
    let tables: Vec<String> = admin.query("SHOW TABLES FROM mysql").await.unwrap();
    assert!(tables.iter().any(|t| t == "user"), "{tables:?}");
    admin.query_drop("USE mysql").await.unwrap();
    let n: Option<i64> = admin
        .query_first("SELECT COUNT(*) FROM user WHERE User = 'root'")
        .await
        .unwrap();
    assert!(n.unwrap_or(0) > 0);
    let mut m = client_as(addr, "admin", "admin", Some("performance_schema"))
        .await
        .unwrap();
    let _: Vec<Row> = m.query("SHOW TABLES").await.unwrap();
}

async fn databases_on(s: usize, like: &str) -> Vec<String> {
    direct(s)
        .await
        .query(format!("SHOW DATABASES LIKE '{like}'"))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_and_drop_database_of_logical_schemas_only() {
    let db = "is_ddl";
    let other = format!("{db}_other");
    let (addr, mut c) = setup(db, TOGETHER).await;
    c.query_drop(format!("DROP DATABASE {other}"))
        .await
        .unwrap();
    for s in 0..2 {
        assert!(databases_on(s, &other).await.is_empty(), "shard {s}");
    }
    c.query_drop(format!(
        "CREATE DATABASE IF NOT EXISTS {other} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    ))
    .await
    .unwrap();
    c.query_drop(format!("ALTER DATABASE {other} CHARACTER SET latin1"))
        .await
        .unwrap();
    for s in 0..2 {
        assert_eq!(
            databases_on(s, &other).await,
            vec![other.clone()],
            "shard {s}"
        );
        let cs: Option<String> = direct(s)
            .await
            .exec_first(
                "SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
                (&other,),
            )
            .await
            .unwrap();
        assert_eq!(cs.as_deref(), Some("latin1"), "shard {s}");
    }
    // Anything else is refused, and nothing is created anywhere.
    for (sql, want) in [
        ("CREATE DATABASE is_ddl_undeclared", 1235),
        ("CREATE SCHEMA IF NOT EXISTS is_ddl_undeclared", 1235),
        ("DROP DATABASE IF EXISTS is_ddl_undeclared", 1235),
        (
            "ALTER DATABASE is_ddl_undeclared CHARACTER SET utf8mb4",
            1235,
        ),
        ("DROP DATABASE mysql", 1044),
        ("CREATE DATABASE sys", 1044),
    ] {
        let e = c.query_drop(sql).await.unwrap_err();
        assert_eq!(code(&e), want, "{sql}");
    }
    for s in 0..2 {
        assert!(databases_on(s, "is_ddl_undeclared").await.is_empty());
    }
    // A user limited to one schema may not create or drop another.
    let mut l = client_as(addr, "limited", "pw", Some(db)).await.unwrap();
    let e = l
        .query_drop(format!("DROP DATABASE {other}"))
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1044);
    assert_eq!(databases_on(1, &other).await, vec![other.clone()]);
}

/// Statistics of a schema with every placement: `big` and `numbered` spread over both shards
/// (the proxy numbers `numbered`), `dims` broadcast, `solo` unsharded (s0), `far` on s1 only.
const STATS: &str = r#"
[[schemas.tables]]
names = ["big"]
algorithm = "hash"
key = "id"
key_type = "int"

[[schemas.tables]]
names = ["numbered"]
algorithm = "hash"
key = "id"
key_type = "int"
auto_increment = true

[[schemas.tables]]
names = ["dims"]
algorithm = "broadcast"

[[schemas.tables]]
names = ["far"]
algorithm = "hash"
key = "id"
key_type = "int"
shards = ["s1"]
"#;

/// One shard's numbers for a table: rows, data, index, free, auto_increment.
type Numbers = [Option<u64>; 5];

/// Each table's numbers as shard `s` reports them directly.
async fn numbers_on(s: usize, db: &str) -> std::collections::BTreeMap<String, Numbers> {
    let rows: Vec<Row> = direct(s)
        .await
        .exec(
            "SELECT TABLE_NAME, TABLE_ROWS, DATA_LENGTH, INDEX_LENGTH, DATA_FREE, AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME <> 'shardgate_sequences'",
            (db,),
        )
        .await
        .unwrap();
    rows.into_iter()
        .map(|r| {
            let n = |i: usize| r.get::<Option<u64>, _>(i).unwrap();
            (r.get(0).unwrap(), [n(1), n(2), n(3), n(4), n(5)])
        })
        .collect()
}

/// Each index column's cardinality on shard `s`: (table, index, seq) -> cardinality.
async fn cardinality_on(
    s: usize,
    db: &str,
) -> std::collections::BTreeMap<(String, String, u64), Option<i64>> {
    let rows: Vec<Row> = direct(s)
        .await
        .exec(
            "SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, CARDINALITY FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME <> 'shardgate_sequences'",
            (db,),
        )
        .await
        .unwrap();
    rows.into_iter()
        .map(|r| {
            (
                (r.get(0).unwrap(), r.get(1).unwrap(), r.get(2).unwrap()),
                r.get(3).unwrap(),
            )
        })
        .collect()
}

fn sum(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x + y),
        (x, None) | (None, x) => x,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_add_up_over_the_shards() {
    let db = "is_stats";
    let (_addr, mut c) = setup(db, STATS).await;
    for sql in [
        "CREATE TABLE big (id BIGINT PRIMARY KEY, grp INT, pad VARCHAR(100), KEY k_grp (grp)) ENGINE=InnoDB",
        "CREATE TABLE numbered (id BIGINT PRIMARY KEY AUTO_INCREMENT, v INT) ENGINE=InnoDB",
        "CREATE TABLE dims (id INT PRIMARY KEY, name VARCHAR(20)) ENGINE=InnoDB",
        "CREATE TABLE solo (id INT PRIMARY KEY, v INT, KEY k_v (v)) ENGINE=InnoDB",
        "CREATE TABLE far (id BIGINT PRIMARY KEY, v INT) ENGINE=InnoDB",
    ] {
        c.query_drop(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let values =
        |n: usize, f: &dyn Fn(usize) -> String| (1..=n).map(f).collect::<Vec<_>>().join(", ");
    for sql in [
        format!(
            "INSERT INTO big (id, grp, pad) VALUES {}",
            values(60, &|i| format!(
                "({i}, {}, REPEAT('x', {}))",
                i % 7,
                i % 90
            ))
        ),
        format!(
            "INSERT INTO numbered (v) VALUES {}",
            values(9, &|i| format!("({i})"))
        ),
        format!(
            "INSERT INTO dims VALUES {}",
            values(10, &|i| format!("({i}, 'd{i}')"))
        ),
        format!(
            "INSERT INTO solo VALUES {}",
            values(45, &|i| format!("({i}, {})", i % 5))
        ),
        format!(
            "INSERT INTO far VALUES {}",
            values(5, &|i| format!("({i}, {i})"))
        ),
    ] {
        c.query_drop(&sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    // Stable estimates: each shard's statistics recomputed where its tables are.
    for s in 0..2 {
        let mut d = direct(s).await;
        let names: Vec<String> = d
            .exec(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
                (db,),
            )
            .await
            .unwrap();
        for t in names {
            d.query_drop(format!("ANALYZE TABLE `{db}`.`{t}`"))
                .await
                .unwrap();
        }
    }
    // What each shard reports directly, and what the proxy must make of it.
    let on = [numbers_on(0, db).await, numbers_on(1, db).await];
    let mut want: std::collections::BTreeMap<String, Numbers> = Default::default();
    for t in ["big", "numbered"] {
        let (a, b) = (on[0][t], on[1][t]);
        want.insert(
            t.into(),
            [
                sum(a[0], b[0]),
                sum(a[1], b[1]),
                sum(a[2], b[2]),
                sum(a[3], b[3]),
                a[4].max(b[4]),
            ],
        );
    }
    want.insert("dims".into(), on[0]["dims"]);
    want.insert("solo".into(), on[0]["solo"]);
    want.insert("far".into(), on[1]["far"]);
    assert_eq!(
        want["big"][0],
        Some(60),
        "InnoDB counts small tables exactly"
    );
    assert_eq!(want["numbered"][4], Some(10), "one past the largest id");
    let avg = |n: &Numbers| match (n[0], n[1]) {
        (Some(0), _) | (Some(_), None) => Some(0),
        (Some(r), Some(d)) => Some(d / r),
        (None, _) => None,
    };

    // information_schema.TABLES: each table once, with the combined numbers.
    let rows: Vec<Row> = c
        .query("SELECT TABLE_NAME, TABLE_ROWS, DATA_LENGTH, INDEX_LENGTH, DATA_FREE, AUTO_INCREMENT, AVG_ROW_LENGTH FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME")
        .await
        .unwrap();
    let got: Vec<(String, Numbers, Option<u64>)> = rows
        .iter()
        .map(|r| {
            let n = |i: usize| r.get::<Option<u64>, _>(i).unwrap();
            (r.get(0).unwrap(), [n(1), n(2), n(3), n(4), n(5)], n(6))
        })
        .collect();
    let expected: Vec<(String, Numbers, Option<u64>)> =
        want.iter().map(|(t, n)| (t.clone(), *n, avg(n))).collect();
    assert_eq!(got, expected);
    // SELECT *, a WHERE on the name, a join-free single row.
    let row: Row = c
        .query_first(format!(
            "SELECT * FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{db}' AND TABLE_NAME = 'big'"
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.get::<Option<u64>, _>("TABLE_ROWS").unwrap(), Some(60));
    assert_eq!(
        row.get::<Option<u64>, _>("DATA_LENGTH").unwrap(),
        want["big"][1]
    );
    assert_eq!(row.get::<String, _>("TABLE_NAME").unwrap(), "big");
    // ORDER BY, LIMIT and WHERE on a statistic see the combined numbers, not one shard's.
    let mut ranked: Vec<(u64, String)> = want
        .iter()
        .map(|(t, n)| (n[0].unwrap_or(0), t.clone()))
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let top: Vec<String> = c
        .query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_ROWS DESC, TABLE_NAME LIMIT 2")
        .await
        .unwrap();
    assert_eq!(top, vec![ranked[0].1.clone(), ranked[1].1.clone()]);
    assert_eq!(top[0], "big");
    let most_on_one = on[0]["big"][0].max(on[1]["big"][0]).unwrap_or(0);
    let over: Vec<String> = c
        .query(format!(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_ROWS > {most_on_one} ORDER BY 1"
        ))
        .await
        .unwrap();
    let mut over_want: Vec<String> = ranked
        .iter()
        .filter(|(n, _)| *n > most_on_one)
        .map(|(_, t)| t.clone())
        .collect();
    over_want.sort();
    assert!(over_want.contains(&"big".to_string()));
    assert_eq!(over, over_want);
    let total: Option<String> = c
        .query_first(
            "SELECT SUM(TABLE_ROWS) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
        )
        .await
        .unwrap();
    let all: u64 = want.values().filter_map(|n| n[0]).sum();
    assert_eq!(total, Some(all.to_string()));
    // Read where the tables live (s0 and s1): combining rows there is still refused.
    let e = c
        .query_drop("SELECT t.TABLE_NAME, s.INDEX_NAME FROM information_schema.TABLES t JOIN information_schema.STATISTICS s ON s.TABLE_SCHEMA = t.TABLE_SCHEMA AND s.TABLE_NAME = t.TABLE_NAME WHERE t.TABLE_SCHEMA = DATABASE() ORDER BY t.TABLE_ROWS")
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1235);

    // SHOW TABLE STATUS: the same numbers, each table once, by name.
    let status: Vec<Row> = c.query("SHOW TABLE STATUS").await.unwrap();
    let got: Vec<(String, Numbers, Option<u64>)> = status
        .iter()
        .map(|r| {
            let n = |k: &str| r.get::<Option<u64>, _>(k).unwrap();
            (
                r.get("Name").unwrap(),
                [
                    n("Rows"),
                    n("Data_length"),
                    n("Index_length"),
                    n("Data_free"),
                    n("Auto_increment"),
                ],
                n("Avg_row_length"),
            )
        })
        .collect();
    assert_eq!(got, expected);
    let like: Vec<Row> = c.query("SHOW TABLE STATUS LIKE 'b%'").await.unwrap();
    assert_eq!(like.len(), 1);
    assert_eq!(like[0].get::<Option<u64>, _>("Rows").unwrap(), Some(60));
    let e = c
        .query_drop("SHOW TABLE STATUS WHERE Rows > 10")
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1235);
    let named: Vec<Row> = c
        .query(format!("SHOW TABLE STATUS FROM {db} WHERE Name = 'far'"))
        .await
        .unwrap();
    assert_eq!(named.len(), 1);

    // Cardinality: summed for the spread tables, one copy's (or the one shard's) otherwise.
    let cards = [cardinality_on(0, db).await, cardinality_on(1, db).await];
    let mut card_want: Vec<(String, String, u64, Option<i64>)> = Vec::new();
    for ((t, i, q), c0) in &cards[0] {
        let v = match t.as_str() {
            "big" | "numbered" => match (c0, cards[1][&(t.clone(), i.clone(), *q)]) {
                (Some(a), Some(b)) => Some(a + b),
                (a, None) => *a,
                (None, b) => b,
            },
            "far" => continue,
            _ => *c0,
        };
        card_want.push((t.clone(), i.clone(), *q, v));
    }
    for ((t, i, q), c1) in &cards[1] {
        if t == "far" {
            card_want.push((t.clone(), i.clone(), *q, *c1));
        }
    }
    card_want.sort();
    let mut got: Vec<(String, String, u64, Option<i64>)> = c
        .query("SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, CARDINALITY FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1, 2, 3")
        .await
        .unwrap();
    // (ORDER BY follows the view's case-insensitive collation: `k_grp` before `PRIMARY`.)
    got.sort();
    assert_eq!(got, card_want);
    let top: Vec<(String, String)> = c
        .query("SELECT TABLE_NAME, INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND CARDINALITY > 40 ORDER BY CARDINALITY DESC, 1")
        .await
        .unwrap();
    assert_eq!(
        top,
        vec![
            ("big".to_string(), "PRIMARY".to_string()),
            ("solo".into(), "PRIMARY".into())
        ]
    );
    let big_primary = card_want
        .iter()
        .find(|w| w.0 == "big" && w.1 == "PRIMARY")
        .and_then(|w| w.3);
    assert_eq!(big_primary, Some(60));
    let index: Vec<Row> = c.query("SHOW INDEX FROM big").await.unwrap();
    let got: Vec<(String, u64, Option<i64>)> = index
        .iter()
        .map(|r| {
            (
                r.get("Key_name").unwrap(),
                r.get("Seq_in_index").unwrap(),
                r.get("Cardinality").unwrap(),
            )
        })
        .collect();
    let want_big: Vec<(String, u64, Option<i64>)> = card_want
        .iter()
        .filter(|w| w.0 == "big")
        .map(|w| (w.1.clone(), w.2, w.3))
        .collect();
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(sorted, want_big, "each index column once, summed");
    let e = c
        .query_drop("SHOW INDEX FROM big WHERE Cardinality > 1")
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1235);
    // A broadcast table's index: one copy's numbers.
    let dims: Vec<Row> = c.query("SHOW KEYS FROM dims").await.unwrap();
    assert_eq!(dims.len(), 1);
    assert_eq!(
        dims[0].get::<Option<i64>, _>("Cardinality").unwrap(),
        cards[0][&("dims".to_string(), "PRIMARY".to_string(), 1)]
    );

    // Every view and SHOW form lists each logical table once.
    let tables = ["big", "dims", "far", "numbered", "solo"];
    for q in [
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1",
        "SELECT DISTINCT TABLE_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND ORDINAL_POSITION = 1 ORDER BY 1",
        "SELECT TABLE_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = 'PRIMARY' ORDER BY 1",
        "SELECT TABLE_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY 1",
        "SELECT TABLE_NAME FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = DATABASE() AND CONSTRAINT_TYPE = 'PRIMARY KEY' ORDER BY 1",
    ] {
        let got: Vec<String> = c.query(q).await.unwrap();
        assert_eq!(got, tables, "{q}");
    }
    let full: Vec<(String, String)> = c.query("SHOW FULL TABLES").await.unwrap();
    let names: Vec<&str> = full.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, tables);
    let columns = count(
        &mut c,
        "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'big'",
    )
    .await;
    assert_eq!(columns, 3);
    assert_eq!(
        count(
            &mut c,
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_NAME = 'big'"
        )
        .await,
        1
    );
}

/// An information_schema read inside a transaction (a read that does not join it) leaves the
/// transaction whole: its writes on every shard, the default shard included, commit, and it
/// reads its own uncommitted rows before that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_information_schema_read_inside_a_transaction_leaves_it_whole() {
    let db = "sys_in_txn";
    fresh_schema(db).await;
    let (_addr, mut c) = setup(db, TOGETHER).await;
    c.query_drop("CREATE TABLE orders (id INT PRIMARY KEY, v INT)")
        .await
        .unwrap();
    c.query_drop("CREATE TABLE notes (id INT PRIMARY KEY)")
        .await
        .unwrap();
    c.query_drop("BEGIN").await.unwrap();
    c.query_drop("INSERT INTO notes VALUES (1)").await.unwrap();
    c.query_drop("INSERT INTO orders VALUES (1, 1), (2, 2), (3, 3), (4, 4)")
        .await
        .unwrap();
    for q in [
        format!("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{db}'"),
        format!(
            "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '{db}' \
             AND TABLE_NAME = 'orders'"
        ),
    ] {
        let n: Option<i64> = c.query_first(&q).await.unwrap();
        assert_eq!(n, Some(2), "{q}");
    }
    let own: Option<i64> = c.query_first("SELECT COUNT(*) FROM notes").await.unwrap();
    assert_eq!(own, Some(1), "the transaction reads its own row");
    c.query_drop("COMMIT").await.unwrap();
    assert_eq!(ids_on(0, db, "SELECT id FROM notes").await, vec![1]);
    let mut orders = ids_on(0, db, "SELECT id FROM orders").await;
    orders.extend(ids_on(1, db, "SELECT id FROM orders").await);
    orders.sort();
    assert_eq!(orders, vec![1, 2, 3, 4]);
}
