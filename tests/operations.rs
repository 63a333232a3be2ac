//! The operator's side against real servers: `RELOAD RULES` (atomic swap, invalid file
//! refused, moving reload refused unless forced, transactions finish on the old rules, no
//! statement lost under load), `SHOW RULES`, and the Prometheus endpoint.

mod common;

use common::*;
use mysql_async::prelude::*;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `customers` by id range: ids below `split` on s0, the rest on s1.
fn tables(split: u64) -> String {
    format!(
        "[[schemas.tables]]\nnames = [\"customers\"]\nalgorithm = \"range\"\nkey = \"id\"\nkey_type = \"int\"\nranges = [ {{ shard = \"s0\", to = {split} }}, {{ shard = \"s1\", from = {split} }} ]\n"
    )
}

fn write_rules(path: &Path, db: &str, proxy: &str, split: u64) {
    std::fs::write(path, rules_toml_with(db, proxy, &tables(split))).expect("write rules");
}

fn temp_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("shardgate-ops-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

/// A proxy serving from the rules file `path`, with metrics; its client and metrics addresses.
async fn start_from(path: &Path) -> (SocketAddr, SocketAddr) {
    let server = shardgate::server::Server::bind_file(path, Some("127.0.0.1:0"))
        .await
        .expect("bind")
        .metrics_on("127.0.0.1:0")
        .await
        .map_err(|(_, e)| e)
        .expect("metrics bind");
    let addr = server.local_addr().expect("addr");
    let metrics = server.metrics_addr().expect("metrics addr");
    tokio::spawn(server.run(std::future::pending()));
    (addr, metrics)
}

/// The rules version row is one per cluster: tests that reload take turns.
static RELOADS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn admin(addr: SocketAddr) -> mysql_async::Conn {
    client_as(addr, "admin", "admin", None)
        .await
        .expect("admin login")
}

async fn lines(c: &mut mysql_async::Conn, sql: &str) -> Vec<String> {
    c.query(sql).await.expect(sql)
}

async fn reload(c: &mut mysql_async::Conn, sql: &str) -> Result<Vec<String>, mysql_async::Error> {
    c.query::<String, _>(sql).await
}

async fn create_customers(db: &str) {
    for s in 0..2 {
        let mut c = direct(s).await;
        c.query_drop(format!(
            "CREATE TABLE `{db}`.customers (id BIGINT PRIMARY KEY, name VARCHAR(40))"
        ))
        .await
        .expect("create");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_rules_swaps_safely() {
    let _turn = RELOADS.lock().await;
    let db = "ops_reload";
    fresh_schema(db).await;
    create_customers(db).await;
    let path = temp_file("reload.toml");
    let proxy = "backend_timeout_ms = 3000";
    write_rules(&path, db, proxy, 1000);
    let (addr, _) = start_from(&path).await;
    let mut app = client(addr, db).await;
    let mut adm = admin(addr).await;

    // Admin only.
    for sql in ["RELOAD RULES", "SHOW RULES", "RELOAD RULES FORCE"] {
        let e = app.query_drop(sql).await.expect_err(sql);
        assert_eq!(code(&e), 1227, "{sql}: {e}");
    }
    // SHOW RULES: the file in force, secrets masked.
    let shown = lines(&mut adm, "SHOW RULES").await;
    assert!(shown[0].contains(path.to_str().unwrap()), "{shown:?}");
    assert!(shown.iter().any(|l| l.contains("to = 1000")), "{shown:?}");
    assert!(
        shown.iter().all(|l| !l.contains("password = \"app\"")),
        "a password shown: {shown:?}"
    );
    assert!(
        shown.iter().any(|l| l.contains("password = \"***\"")),
        "{shown:?}"
    );

    // Unchanged file: nothing happens.
    let r = reload(&mut adm, "RELOAD RULES").await.expect("reload");
    assert!(r[0].contains("unchanged"), "{r:?}");

    // Rows on both sides of the split.
    app.query_drop("INSERT INTO customers VALUES (5, 'a'), (1500, 'b'), (2500, 'c')")
        .await
        .expect("insert");

    // An invalid file is refused with its problem, and the old rules keep serving.
    write_rules(&path, db, "backend_timeout_ms = 3000\nbogus_key = 1", 1000);
    let e = reload(&mut adm, "RELOAD RULES").await.expect_err("invalid");
    assert_eq!(code(&e), 1105, "{e}");
    assert!(e.to_string().contains("bogus_key"), "{e}");
    let shown = lines(&mut adm, "SHOW RULES").await;
    assert!(shown.iter().any(|l| l.contains("to = 1000")), "{shown:?}");
    app.query_drop("INSERT INTO customers VALUES (6, 'd')")
        .await
        .expect("old rules still serve");
    assert_eq!(ids_on(0, db, "SELECT id FROM customers").await, vec![5, 6]);

    // A change of shards needs a restart.
    let moved_shards =
        rules_toml_with(db, proxy, &tables(1000)).replacen("name = \"s1\"", "name = \"s9\"", 1);
    std::fs::write(
        &path,
        moved_shards.replace("shard = \"s1\"", "shard = \"s9\""),
    )
    .unwrap();
    let e = reload(&mut adm, "RELOAD RULES").await.expect_err("shards");
    assert!(e.to_string().contains("restart"), "{e}");

    // Moving the split to 2000 moves the stored row 1500 from s1 to s0: refused.
    write_rules(&path, db, proxy, 2000);
    let e = reload(&mut adm, "RELOAD RULES")
        .await
        .expect_err("moves rows");
    assert_eq!(code(&e), 1105, "{e}");
    assert!(e.to_string().contains("would move 1 stored rows"), "{e}");
    app.query_drop("INSERT INTO customers VALUES (1600, 'e')")
        .await
        .expect("insert");
    assert_eq!(
        ids_on(1, db, "SELECT id FROM customers").await,
        vec![1500, 1600, 2500],
        "the refused reload changed the routing"
    );

    // A transaction opened before the reload finishes on the old rules; sessions switch
    // after it (and new sessions at once).
    let mut txn = client(addr, db).await;
    txn.query_drop("BEGIN").await.unwrap();
    txn.query_drop("INSERT INTO customers VALUES (1700, 'in txn')")
        .await
        .unwrap();
    let r = reload(&mut adm, "RELOAD RULES FORCE")
        .await
        .expect("forced reload");
    assert!(r[0].starts_with("rules reloaded"), "{r:?}");
    assert!(r.iter().any(|l| l.contains("FORCE")), "{r:?}");
    txn.query_drop("INSERT INTO customers VALUES (1800, 'in txn')")
        .await
        .unwrap();
    txn.query_drop("COMMIT").await.unwrap();
    txn.query_drop("INSERT INTO customers VALUES (1900, 'after')")
        .await
        .unwrap();
    app.query_drop("INSERT INTO customers VALUES (1950, 'other session')")
        .await
        .unwrap();
    let mut fresh = client(addr, db).await;
    fresh
        .query_drop("INSERT INTO customers VALUES (1960, 'new session')")
        .await
        .unwrap();
    assert_eq!(
        ids_on(0, db, "SELECT id FROM customers").await,
        vec![5, 6, 1900, 1950, 1960]
    );
    assert_eq!(
        ids_on(1, db, "SELECT id FROM customers").await,
        vec![1500, 1600, 1700, 1800, 2500]
    );
    let shown = lines(&mut adm, "SHOW RULES").await;
    assert!(shown.iter().any(|l| l.contains("to = 2000")), "{shown:?}");

    // The rules version is recorded for other proxies.
    let mut d = direct(0).await;
    let v: Option<String> = d
        .query_first("SELECT digest FROM shardgate.rules_version WHERE id = 1")
        .await
        .expect("version row");
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(v, Some(shardgate::engine::reload::digest(&text)));
}

/// A second proxy with the same file follows a reload made through the first one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_proxies_follow_the_rules_version() {
    let _turn = RELOADS.lock().await;
    let db = "ops_follow";
    fresh_schema(db).await;
    create_customers(db).await;
    let (a, b) = (temp_file("follow_a.toml"), temp_file("follow_b.toml"));
    let proxy = "backend_timeout_ms = 3000";
    write_rules(&a, db, proxy, 1000);
    write_rules(&b, db, proxy, 1000);
    let (addr_a, _) = start_from(&a).await;
    let (addr_b, _) = start_from(&b).await;
    // The empty table moves nothing: no FORCE needed.
    write_rules(&a, db, proxy, 3000);
    write_rules(&b, db, proxy, 3000);
    reload(&mut admin(addr_a).await, "RELOAD RULES")
        .await
        .expect("reload");
    let mut followed = false;
    for _ in 0..50 {
        let shown = lines(&mut admin(addr_b).await, "SHOW RULES").await;
        if shown.iter().any(|l| l.contains("to = 3000")) {
            followed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(followed, "proxy B did not follow within 10 s");
    let mut c = client(addr_b, db).await;
    c.query_drop("INSERT INTO customers VALUES (2500, 'x')")
        .await
        .unwrap();
    assert_eq!(ids_on(0, db, "SELECT id FROM customers").await, vec![2500]);
}

/// Reloads while clients write without pause: no statement fails, no connection drops, and
/// every acknowledged row is stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_under_load_loses_nothing() {
    let _turn = RELOADS.lock().await;
    let db = "ops_load";
    fresh_schema(db).await;
    create_customers(db).await;
    let path = temp_file("load.toml");
    write_rules(&path, db, "backend_timeout_ms = 3000", 1000);
    let (addr, _) = start_from(&path).await;
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for w in 0..6u64 {
        let (stop, acked) = (stop.clone(), acked.clone());
        workers.push(tokio::spawn(async move {
            let mut c = client(addr, db).await;
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let id = w * 1_000_000 + i;
                // Some in transactions (they span reloads), some alone.
                if i.is_multiple_of(3) {
                    c.query_drop("BEGIN").await.expect("begin");
                    c.exec_drop("INSERT INTO customers VALUES (?, 'x')", (id,))
                        .await
                        .expect("insert in txn");
                    let n: Option<u64> = c
                        .exec_first("SELECT COUNT(*) FROM customers WHERE id = ?", (id,))
                        .await
                        .expect("read in txn");
                    assert_eq!(n, Some(1));
                    c.query_drop("COMMIT").await.expect("commit");
                } else {
                    c.query_drop(format!("INSERT INTO customers VALUES ({id}, 'y')"))
                        .await
                        .expect("insert");
                }
                acked.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        }));
    }
    let mut adm = admin(addr).await;
    for round in 0..8 {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        // Alternate a setting that moves nothing.
        let proxy = format!(
            "backend_timeout_ms = 3000\nslow_statement_ms = {}",
            500 + round
        );
        write_rules(&path, db, &proxy, 1000);
        let r = reload(&mut adm, "RELOAD RULES").await.expect("reload");
        assert!(r[0].starts_with("rules reloaded"), "{r:?}");
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.expect("a worker failed");
    }
    let n = acked.load(Ordering::Relaxed);
    assert!(n > 50, "too little load to tell: {n}");
    let mut stored = 0;
    for s in 0..2 {
        let mut c = direct(s).await;
        let k: u64 = c
            .query_first(format!("SELECT COUNT(*) FROM `{db}`.customers"))
            .await
            .unwrap()
            .unwrap();
        stored += k;
    }
    assert_eq!(stored, n, "acknowledged rows vs stored rows");
}

/// One scrape of the metrics endpoint: the sample lines, parsed.
async fn scrape(addr: SocketAddr) -> HashMap<String, f64> {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let (head, body) = out.split_once("\r\n\r\n").expect("http answer");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    let mut samples = HashMap::new();
    for line in body.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix('#') {
            let mut w = rest.split_whitespace();
            assert!(matches!(w.next(), Some("HELP" | "TYPE")), "{line}");
            assert!(
                w.next().is_some_and(|n| n.starts_with("shardgate_")),
                "{line}"
            );
            continue;
        }
        // name{labels} value: labels are quoted, with no spaces in our values but for
        // HELP texts (comments).
        let (series, value) = line.rsplit_once(' ').expect(line);
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value of {line}"));
        let name = series.split('{').next().unwrap();
        assert!(
            name.starts_with("shardgate_")
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
        if let Some(labels) = series.strip_prefix(name)
            && !labels.is_empty()
        {
            assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
            for pair in labels[1..labels.len() - 1].split("\",") {
                let (k, v) = pair.split_once("=\"").expect(line);
                assert!(
                    k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "{line}"
                );
                assert!(!v.contains("SELECT"), "SQL in a label: {line}");
            }
        }
        samples.insert(series.to_string(), value);
    }
    samples
}

fn get(m: &HashMap<String, f64>, series: &str) -> f64 {
    m.get(series).copied().unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_with_traffic() {
    let _turn = RELOADS.lock().await;
    let db = "ops_metrics";
    fresh_schema(db).await;
    create_customers(db).await;
    let path = temp_file("metrics.toml");
    write_rules(&path, db, "backend_timeout_ms = 3000", 1000);
    let (addr, maddr) = start_from(&path).await;
    let mut c = client(addr, db).await;
    c.query_drop("INSERT INTO customers VALUES (1, 'a'), (2000, 'b')")
        .await
        .unwrap();
    let before = scrape(maddr).await;
    for i in 0..5 {
        let _: Vec<String> = c
            .query(format!(
                "SELECT name FROM customers WHERE id = {}",
                1 + i % 2
            ))
            .await
            .unwrap();
    }
    let _: Vec<String> = c.query("SELECT name FROM customers").await.unwrap();
    let e = c
        .query_drop("SELECT * FROM customers WHERE id = (SELECT MAX(id) FROM nowhere_at_all)")
        .await;
    assert!(e.is_err());
    let after = scrape(maddr).await;
    let single = r#"shardgate_statements_total{kind="select",outcome="ok",route="single"}"#;
    let scatter = r#"shardgate_statements_total{kind="select",outcome="ok",route="scatter"}"#;
    assert_eq!(get(&after, single) - get(&before, single), 5.0, "{after:?}");
    assert_eq!(
        get(&after, scatter) - get(&before, scatter),
        1.0,
        "{after:?}"
    );
    let errors: f64 = after
        .iter()
        .filter(|(k, _)| k.starts_with("shardgate_statements_total") && !k.contains("\"ok\""))
        .map(|(_, v)| v)
        .sum();
    assert!(
        errors >= 1.0,
        "the failed statement is not counted: {after:?}"
    );
    assert!(get(&after, "shardgate_client_connections") >= 1.0);
    // Per logical table: the six reads of `customers` (labels from the rules only).
    let table =
        r#"shardgate_table_statements_total{outcome="ok",schema="ops_metrics",table="customers"}"#;
    assert_eq!(get(&after, table) - get(&before, table), 6.0, "{after:?}");
    let table_hist = r#"shardgate_table_statement_duration_seconds_count{schema="ops_metrics",table="customers"}"#;
    assert!(
        get(&after, table_hist) - get(&before, table_hist) >= 7.0,
        "{after:?}"
    );
    assert!(
        !after.keys().any(|k| k.contains("nowhere_at_all")),
        "a table name from a statement became a label"
    );
    let hist = r#"shardgate_statement_duration_seconds_count{route="single"}"#;
    assert!(get(&after, hist) - get(&before, hist) >= 5.0, "{after:?}");
    assert!(
        get(&after, "shardgate_plan_cache_hits_total")
            > get(&before, "shardgate_plan_cache_hits_total"),
        "plan cache hits do not move"
    );
    assert!(
        after
            .keys()
            .any(|k| k.starts_with("shardgate_backend_pool_connections{")
                && k.contains("shard=\"s1\"")),
        "{after:?}"
    );
    // SHOW STATS (admins): the same counts by route, and by shard.
    let mut adm = admin(addr).await;
    let rows: Vec<mysql_async::Row> = adm.query("SHOW STATS").await.unwrap();
    let find = |scope: &str, name: &str| {
        rows.iter()
            .find(|r| {
                r.get::<String, _>("Scope").as_deref() == Some(scope)
                    && r.get::<String, _>("Name").as_deref() == Some(name)
            })
            .unwrap_or_else(|| panic!("no {scope} {name} in SHOW STATS"))
    };
    let single: u64 = find("route", "single").get("Statements").unwrap();
    assert!(single >= 6, "{single}");
    let p99: Option<String> = find("route", "single").get("P99_ms").unwrap();
    assert!(p99.unwrap().parse::<f64>().unwrap() > 0.0);
    let on_s0: u64 = find("shard", "s0").get("Statements").unwrap();
    assert!(on_s0 >= 3, "{on_s0}");
    let customers = find("table", "ops_metrics.customers");
    let n: u64 = customers.get("Statements").unwrap();
    let failed: u64 =
        customers.get::<u64, _>("Errors").unwrap() + customers.get::<u64, _>("Refused").unwrap();
    assert!(n >= 8 && failed >= 1, "{n} statements, {failed} failed");
    let e = c.query_drop("SHOW STATS").await.expect_err("not for apps");
    assert_eq!(code(&e), 1227);

    // SHOW SESSIONS: an open transaction and the shards it holds; apps see their own only.
    let mut t = client(addr, db).await;
    t.query_drop("BEGIN").await.unwrap();
    t.query_drop("UPDATE customers SET name = 'z' WHERE id = 2000")
        .await
        .unwrap();
    let tid: u64 = t
        .query_first("SELECT CONNECTION_ID()")
        .await
        .unwrap()
        .unwrap();
    let rows: Vec<mysql_async::Row> = adm.query("SHOW SESSIONS").await.unwrap();
    let row = rows
        .iter()
        .find(|r| r.get::<u64, _>("Id") == Some(tid))
        .expect("the session is listed");
    assert_eq!(row.get::<String, _>("Transaction").as_deref(), Some("open"));
    assert_eq!(row.get::<String, _>("Shards").as_deref(), Some("s1"));
    assert!(rows.len() >= 3, "admin sees every session");
    let mut limited = client_as(addr, "limited", "pw", Some(db)).await.unwrap();
    let mine: Vec<mysql_async::Row> = limited.query("SHOW SESSIONS").await.unwrap();
    assert_eq!(mine.len(), 1, "a user sees their own sessions only");
    limited.disconnect().await.unwrap();
    t.query_drop("ROLLBACK").await.unwrap();

    // Connections: one more client shows, and leaves.
    let open = |m: &HashMap<String, f64>| get(m, "shardgate_client_connections");
    let settled = || async {
        // A client's quit reaches the proxy a moment after the client is done.
        let mut last = scrape(maddr).await;
        for _ in 0..20 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let now = scrape(maddr).await;
            if open(&now) == open(&last) {
                return now;
            }
            last = now;
        }
        last
    };
    let base = settled().await;
    let extra = client(addr, db).await;
    assert_eq!(open(&scrape(maddr).await), open(&base) + 1.0);
    extra.disconnect().await.unwrap();
    let mut gone = false;
    for _ in 0..30 {
        if open(&scrape(maddr).await) == open(&base) {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(gone, "a closed session still counts");
    // A reload is counted.
    write_rules(&path, db, "backend_timeout_ms = 3001", 1000);
    reload(&mut admin(addr).await, "RELOAD RULES")
        .await
        .unwrap();
    let last = scrape(maddr).await;
    assert_eq!(
        get(&last, r#"shardgate_rule_reloads_total{outcome="applied"}"#),
        1.0
    );
    // Anything but /metrics.
    let mut s = tokio::net::TcpStream::connect(maddr).await.unwrap();
    s.write_all(b"GET /nope HTTP/1.1\r\n\r\n").await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 404"), "{out}");
}

/// `check --connect` reads every shard's tables: a key column missing from a physical table,
/// a key column of the wrong type or collation are errors; tables not created yet are notes.
/// A reload that changes how a table is split is refused (rows would stay in the old tables).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_connect_and_split_reloads() {
    let _turn = RELOADS.lock().await;
    let db = "ops_check";
    fresh_schema(db).await;
    let split = "[[schemas.tables]]\nnames = [\"orders\"]\nalgorithm = \"hash\"\nkey = \"id\"\nkey_type = \"int\"\ntables_per_shard = 2\n\n[[schemas.tables]]\nnames = [\"people\"]\nalgorithm = \"hash\"\nkey = \"name\"\nkey_type = \"string\"\n";
    let path = temp_file("check.toml");
    std::fs::write(
        &path,
        rules_toml_with(db, "backend_timeout_ms = 3000", split),
    )
    .expect("write");
    // orders_0 (s0) right, orders_2 (s0) without the key, orders_1 (s1) with a text key,
    // orders_3 (s1) not created; people: latin1 on s0, right on s1.
    let ddl = [
        (0, "CREATE TABLE orders_0 (id BIGINT PRIMARY KEY)"),
        (0, "CREATE TABLE orders_2 (oid BIGINT PRIMARY KEY)"),
        (1, "CREATE TABLE orders_1 (id VARCHAR(10) PRIMARY KEY)"),
        (
            0,
            "CREATE TABLE people (name VARCHAR(20) CHARACTER SET latin1 PRIMARY KEY)",
        ),
        (
            1,
            "CREATE TABLE people (name VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci PRIMARY KEY)",
        ),
    ];
    for (s, sql) in ddl {
        let mut c = direct(s).await;
        c.query_drop(format!("USE `{db}`")).await.expect("use");
        c.query_drop(sql).await.expect(sql);
    }
    let run = |path: PathBuf| {
        std::process::Command::new(env!("CARGO_BIN_EXE_shardgate"))
            .args(["check", "--connect", "--config"])
            .arg(path)
            .output()
            .expect("run shardgate check")
    };
    let out = run(path.clone());
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("error: ops_check.orders_2 on s0: no column `id`"),
        "{text}"
    );
    assert!(
        text.contains("error: ops_check.orders_1 on s1: key column `id` is varchar, which does not fit key_type = \"int\""),
        "{text}"
    );
    assert!(
        text.contains(
            "error: ops_check.people on s0: key column `name` has collation latin1_swedish_ci"
        ),
        "{text}"
    );
    assert!(!text.contains("people on s1"), "{text}");
    assert!(
        text.contains("note: ops_check.orders_3 on s1: not created yet"),
        "{text}"
    );
    assert!(!text.contains("orders_0 on s0"), "{text}");
    // Fixed: the check passes.
    let fixes = [
        (0, "DROP TABLE orders_2"),
        (0, "CREATE TABLE orders_2 (id BIGINT PRIMARY KEY)"),
        (1, "DROP TABLE orders_1"),
        (1, "CREATE TABLE orders_1 (id BIGINT PRIMARY KEY)"),
        (1, "CREATE TABLE orders_3 (id BIGINT PRIMARY KEY)"),
        (
            0,
            "ALTER TABLE people MODIFY name VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
        ),
    ];
    for (s, sql) in fixes {
        let mut c = direct(s).await;
        c.query_drop(format!("USE `{db}`")).await.expect("use");
        c.query_drop(sql).await.expect(sql);
    }
    let out = run(path.clone());
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("servers: OK"), "{text}");

    // A reload that splits `orders` otherwise is refused, then forced.
    let (addr, _) = start_from(&path).await;
    let mut a = admin(addr).await;
    let resplit = split.replace("tables_per_shard = 2", "tables_per_shard = 3");
    std::fs::write(
        &path,
        rules_toml_with(db, "backend_timeout_ms = 3000", &resplit),
    )
    .expect("write");
    let err = reload(&mut a, "RELOAD RULES")
        .await
        .expect_err("split change refused");
    assert_eq!(code(&err), 1105);
    assert!(
        err.to_string()
            .contains("changes how split tables are stored"),
        "{err}"
    );
    let forced = reload(&mut a, "RELOAD RULES FORCE").await.expect("forced");
    assert!(
        forced
            .iter()
            .any(|l| l.contains("split tables now use the new physical tables")),
        "{forced:?}"
    );
}

/// The proxy's connections to `db` on shard `s` (the servers' process list, read as root).
async fn backend_conns(s: usize, db: &str) -> i64 {
    backend_conns_where(s, db, "TRUE").await
}

/// [`backend_conns`] restricted by `cond` on the process list.
async fn backend_conns_where(s: usize, db: &str, cond: &str) -> i64 {
    let mut c = direct(s).await;
    c.query_first(format!(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'shardgate' AND DB = '{db}' AND {cond}"
    ))
    .await
    .expect("process list")
    .unwrap_or(0)
}

/// Sessions share backend connections: clients kept open after their statements hold none
/// (40 idle clients leave the one pooled connection per shard their statements used), and
/// with `max_backend_connections = 3` 24 clients running statements at once all succeed while
/// each server runs at most 3 of them at a time and sees at most 3 connections for the
/// database (statements outside a transaction, the INSERT's transaction over both shards and
/// the column lookup it needs share the one bound).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_share_a_bounded_pool_of_backend_connections() {
    let tables = "[[schemas.tables]]\nnames = [\"items\"]\nalgorithm = \"hash\"\nkey = \"id\"\nkey_type = \"int\"\n";
    // Idle clients.
    let idle_db = "ops_pool_idle";
    fresh_schema(idle_db).await;
    // Reads on the primaries, whose process lists are counted.
    let addr = start_proxy(rules_with(idle_db, "read_from = \"primary\"", tables)).await;
    let mut c = client(addr, idle_db).await;
    c.query_drop("CREATE TABLE items (id INT PRIMARY KEY, v INT)")
        .await
        .unwrap();
    c.query_drop("INSERT INTO items VALUES (1, 1), (2, 2), (3, 3), (4, 4)")
        .await
        .unwrap();
    let mut idle = Vec::new();
    for i in 0..40 {
        let mut c = client(addr, idle_db).await;
        let v: Option<i64> = c
            .query_first(format!("SELECT v FROM items WHERE id = {}", i % 4 + 1))
            .await
            .unwrap();
        assert_eq!(v, Some(i % 4 + 1));
        idle.push(c);
    }
    for s in 0..2 {
        let n = backend_conns(s, idle_db).await;
        assert!(
            // One per shard, give or take connections the pool opened while an earlier one
            // was still on its way back to it.
            (1..=4).contains(&n),
            "41 open clients, shard {s}: {n} backend connections"
        );
    }
    drop(idle);

    // Busy clients on a bounded pool.
    let db = "ops_pool_busy";
    fresh_schema(db).await;
    let addr = start_proxy(rules_with(
        db,
        "read_from = \"primary\"\nmax_backend_connections = 3",
        tables,
    ))
    .await;
    let mut c = client(addr, db).await;
    c.query_drop("CREATE TABLE items (id INT PRIMARY KEY, v INT)")
        .await
        .unwrap();
    c.query_drop("INSERT INTO items VALUES (1, 1), (2, 2), (3, 3), (4, 4)")
        .await
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        tokio::spawn(async move {
            let mut most = [0i64; 2];
            let mut most_running = [0i64; 2];
            while !done.load(Ordering::Relaxed) {
                for s in 0..2 {
                    most[s] = most[s].max(backend_conns(s, db).await);
                    let running = backend_conns_where(s, db, "COMMAND = 'Query'").await;
                    most_running[s] = most_running[s].max(running);
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            (most, most_running)
        })
    };
    let mut clients = Vec::new();
    for i in 0..24i64 {
        clients.push(tokio::spawn(async move {
            let mut c = client(addr, db).await;
            for _ in 0..3 {
                let v: Option<(i64, i64)> = c
                    .query_first(format!(
                        "SELECT SLEEP(0.2), v FROM items WHERE id = {}",
                        i % 4 + 1
                    ))
                    .await
                    .expect("a statement waits for a pooled connection, then runs");
                assert_eq!(v.map(|r| r.1), Some(i % 4 + 1));
            }
        }));
    }
    for c in clients {
        c.await.expect("client task");
    }
    done.store(true, Ordering::Relaxed);
    let (most, most_running) = sampler.await.expect("sampler");
    for s in 0..2 {
        let (m, r) = (most[s], most_running[s]);
        assert!(
            (1..=3).contains(&r),
            "shard {s}: at most {r} statements running at once, bound 3"
        );
        assert!(
            (1..=3).contains(&m),
            "shard {s}: at most {m} backend connections seen, bound 3"
        );
    }
}
