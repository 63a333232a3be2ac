//! The `shardgate` binary as a DBA and an operator use it: `check` on good and bad rules files,
//! `route` previews (the golden plans of `tests/routing/cases.toml`, keys of each algorithm),
//! `sandbox up` writing rules that `check` accepts, and `serve` reloading on SIGHUP and stopping
//! gracefully on SIGTERM.

#[path = "routing/cases.rs"]
mod cases;
mod common;

use common::*;
use mysql_async::prelude::Queryable;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn shardgate() -> Command {
    Command::new(env!("CARGO_BIN_EXE_shardgate"))
}

#[test]
fn check_accepts_the_examples_and_lists_every_problem_of_a_bad_file() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for f in [
        "example",
        "hash",
        "range",
        "list",
        "consistent_hash",
        "patterns",
    ] {
        let out = shardgate()
            .args(["check", "--config"])
            .arg(root.join(format!("rules/{f}.toml")))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{f}.toml: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let dir = std::env::temp_dir().join(format!("shardgate-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        r#"listen = "127.0.0.1:3307"
colour = "blue"

[[users]]
name = "app"
password = "app"

[[shards]]
name = "s0"
primary = "mysql://root@127.0.0.1:4000"

[[schemas]]
name = "shop"
default_shard = "s9"

[[schemas.tables]]
names = ["orders"]
algorithm = "range"
key = "id"
key_type = "int"
ranges = [ { shard = "s0", from = 0, to = 100 }, { shard = "s0", from = 50, to = 200 } ]

[[schemas.tables]]
names = ["products"]
algorithm = "hash"
key = "id"
key_type = "int"

[[schemas.colocated]]
tables = ["products.id", "reviews.product_id"]
"#,
    )
    .unwrap();
    let out = shardgate()
        .args(["check", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("bad.toml:2") && text.contains("colour"),
        "unknown key with its line:\n{text}"
    );
    assert!(text.contains("s9"), "unknown shard:\n{text}");
    assert!(text.contains("overlap"), "overlapping ranges:\n{text}");
    assert!(
        text.contains("bad.toml:30")
            && text.contains("colocated[0].tables[1]")
            && text.contains("no [[schemas.tables]] rule names table \"reviews\""),
        "a co-located table without a rule, with its line:\n{text}"
    );
    assert!(
        text.lines().count() >= 3,
        "every problem, one per line:\n{text}"
    );
    let missing = shardgate()
        .args(["check", "--config", "/nonexistent/rules.toml"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}

fn route(args: &[&str]) -> (bool, String, String) {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = shardgate()
        .args(["route", "--config"])
        .arg(root.join("rules/example.toml"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `route` prints the plans the golden routing cases hold (the proxy's own plans), with each
/// shard's SQL spelled out, and where reads go.
#[test]
fn route_previews_the_golden_plans() {
    let cases = cases::load();
    let mut checked = 0;
    for c in cases.cases {
        if !c.params.is_empty() || c.columns.is_some() || c.expect.starts_with("parse error") {
            continue;
        }
        let (ok, out, err) = route(&[&c.sql]);
        if let Some(e) = c.expect.trim().strip_prefix("error ") {
            assert!(!ok, "{}: {out}", c.sql);
            assert_eq!(err.trim(), format!("error {e}"), "{}", c.sql);
        } else {
            assert!(ok, "{}: {err}", c.sql);
            let want = c.expect.trim().replace("<original>", &c.sql);
            let got: Vec<&str> = out.lines().filter(|l| !l.starts_with("runs on:")).collect();
            assert_eq!(got.join("\n"), want, "{}", c.sql);
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} golden cases previewed");

    let (ok, out, _) = route(&["SELECT c FROM sbtest1 WHERE id = 5"]);
    assert!(ok);
    assert!(out.ends_with("runs on: a replica of each shard outside transactions (per read_from and causal), else the primary\n"), "{out}");
    let (_, out, _) = route(&["SELECT c FROM sbtest1 WHERE id = 5 FOR UPDATE"]);
    assert!(
        out.contains("runs on: the primary of each shard (a read a replica"),
        "{out}"
    );
    let (_, out, _) = route(&["UPDATE sbtest1 SET k = 1 WHERE id = 5"]);
    assert!(
        out.ends_with("runs on: the primary of each shard\n"),
        "{out}"
    );
    let (ok, out, _) = route(&["SET autocommit = 0"]);
    assert!(
        ok && out.contains("not a statement on tables") && out.contains("(s0)"),
        "{out}"
    );
    let (ok, _, err) = route(&["SELEC 1"]);
    assert!(!ok && err.starts_with("error 1064: "), "{err}");
    let (ok, _, err) = route(&["SELECT * FROM nowhere.t"]);
    assert!(!ok && err.starts_with("error 1049: "), "{err}");
}

/// `route --table T --key K`: the shard of one key, for each kind of rule.
#[test]
fn route_answers_for_one_key() {
    let key = |t: &str, k: &str| route(&["--table", t, "--key", k]);
    assert_eq!(
        key("orders", "2026-08-15").1,
        "shop.orders created = 2026-08-15: s1\n"
    );
    assert_eq!(
        key("orders", "2026-03-15").1,
        "shop.orders created = 2026-03-15: s0\n"
    );
    // Outside every range: the table's default_shard.
    assert_eq!(
        key("orders", "2031-01-01").1,
        "shop.orders created = 2031-01-01: s0\n"
    );
    // By the column's collation: 'MUNICH ' is 'munich'.
    assert_eq!(
        key("customers", "MUNICH ").1,
        "shop.customers city = MUNICH : s1\n"
    );
    // A hash key as a string routes like the number (as `id = '5'` does).
    assert_eq!(key("sbtest1", "5").1, "shop.sbtest1 id = 5: s1\n");
    assert_eq!(key("sbtest1", "6").1, "shop.sbtest1 id = 6: s0\n");
    let (ok, out, _) = key("sessions", "abc");
    assert!(
        ok && out.starts_with("shop.sessions token = abc: s"),
        "{out}"
    );
    let (ok, out, _) = key("countries", "FR");
    assert_eq!(
        (ok, out.as_str()),
        (
            true,
            "shop.countries is a broadcast table: every row is on each of s0, s1\n"
        )
    );
    let (ok, out, _) = key("notes", "1");
    assert_eq!(
        (ok, out.as_str()),
        (true, "shop.notes is not sharded: every row is on s0\n")
    );
    let (ok, _, err) = key("orders", "someday");
    assert!(
        !ok && err.starts_with("error 1525: ") && err.contains("orders.created"),
        "{err}"
    );
    let (ok, _, err) = key("orders", "2026-01-01' OR 1");
    assert!(!ok && err.starts_with("error 1525: "), "{err}");
    // Neither a statement nor a key: clap's usage error.
    let (ok, _, err) = route(&[]);
    assert!(!ok && err.contains("Usage"), "{err}");
}

#[test]
fn sandbox_up_with_one_shard_writes_rules_that_check_accepts() {
    let dir = std::env::temp_dir().join(format!("sg-one-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let up = shardgate()
        .args([
            "sandbox",
            "up",
            "--shards",
            "1",
            "--replicas",
            "0",
            "--base-port",
            "0",
        ])
        .arg("--dir")
        .arg(&dir)
        .output()
        .unwrap();
    let check = up.status.success().then(|| {
        shardgate()
            .args(["check", "--config"])
            .arg(dir.join("rules.toml"))
            .output()
            .unwrap()
    });
    let demo = up
        .status
        .success()
        .then(|| demo_flow(&dir.join("rules.toml")));
    // Down before asserting, so that a failure leaves no server behind.
    let down = shardgate()
        .args(["sandbox", "down", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        up.status.success(),
        "sandbox up: {}{}",
        String::from_utf8_lossy(&up.stdout),
        String::from_utf8_lossy(&up.stderr)
    );
    let check = check.unwrap();
    assert!(
        check.status.success(),
        "check rejects the sandbox's own rules:\n{}",
        String::from_utf8_lossy(&check.stdout)
    );
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    if let Some(Err(e)) = demo {
        panic!("make demo's flow: {e}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `make demo`'s flow on a sandbox's rules: they name the limited account, never root, and
/// `serve` with them lets `app` work in `shop` while refusing what administers a server.
fn demo_flow(rules: &std::path::Path) -> Result<(), String> {
    let text = std::fs::read_to_string(rules).map_err(|e| e.to_string())?;
    if !text.contains("mysql://shardgate:shardgate@127.0.0.1:") || text.contains("root@") {
        return Err(format!("the rules do not use the proxy's account:\n{text}"));
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        l.local_addr().map_err(|e| e.to_string())?.port()
    };
    let mut serve = shardgate()
        .args(["serve", "--config"])
        .arg(rules)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let client = |user: &str, sql: &str| {
        Command::new("mariadb")
            .args(["--no-defaults", "--protocol=TCP", "-h127.0.0.1", "-N", "-B"])
            .arg(format!("-P{port}"))
            .arg(format!("-u{user}"))
            .arg(format!("-p{user}"))
            .args(["shop", "-e", sql])
            .output()
    };
    let started = Instant::now();
    let result = (|| {
        while client("app", "SELECT 1").map_or(true, |o| !o.status.success()) {
            if started.elapsed() > Duration::from_secs(10) {
                return Err("the proxy did not come up".to_string());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let out = client(
            "app",
            "CREATE TABLE demo (id BIGINT PRIMARY KEY); INSERT INTO demo VALUES (1), (2); SELECT COUNT(*) FROM demo; DROP TABLE demo",
        )
        .map_err(|e| e.to_string())?;
        let said = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !out.status.success() || said != "2" {
            return Err(format!(
                "app in shop: {said} {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let out = client("app", "CREATE USER demo_user").map_err(|e| e.to_string())?;
        if !String::from_utf8_lossy(&out.stderr).contains("1227") {
            return Err("CREATE USER was not refused to app".into());
        }
        let out = client("admin", "SHOW GRANTS").map_err(|e| e.to_string())?;
        if !String::from_utf8_lossy(&out.stdout).contains("ALL PRIVILEGES ON *.*") {
            return Err("admin is no admin".into());
        }
        Ok(())
    })();
    let _ = serve.kill();
    let _ = serve.wait();
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stops_gracefully_on_sigterm_and_rolls_back_open_transactions() {
    let db = "cli_serve";
    fresh_schema(db).await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = std::env::temp_dir().join(format!("shardgate-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rules.toml");
    let tables = "[[schemas.tables]]\nnames = [\"items\"]\nalgorithm = \"hash\"\nkey = \"id\"\nkey_type = \"int\"\n";
    // One worker thread (`worker_threads`), checked below in the process's thread list.
    std::fs::write(&path, rules_toml_with(db, "worker_threads = 1", tables)).unwrap();
    let log = dir.join("serve.log");
    let mut child = shardgate()
        .args(["serve", "--log-format", "json", "--config"])
        .arg(&path)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let started = Instant::now();
    let mut c = loop {
        match client_as(addr, "app", "app", Some(db)).await {
            Ok(c) => break c,
            Err(_) if started.elapsed() < Duration::from_secs(10) => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("the proxy did not come up: {e}"),
        }
    };
    c.query_drop("CREATE TABLE items (id BIGINT PRIMARY KEY)")
        .await
        .unwrap();
    let workers = std::fs::read_dir(format!("/proc/{}/task", child.id()))
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim() == "shardgate-work")
        .count();
    assert_eq!(workers, 1, "worker_threads = 1 runs one worker thread");
    // SIGHUP reloads the changed file and does not stop the proxy: the session goes on.
    std::fs::write(
        &path,
        rules_toml_with(
            db,
            "worker_threads = 1\nbackend_timeout_ms = 3000\nslow_statement_ms = 2000",
            tables,
        ),
    )
    .unwrap();
    unsafe { libc::kill(child.id() as i32, libc::SIGHUP) };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGHUP stopped the proxy"
    );
    let n: Option<i64> = c.query_first("SELECT COUNT(*) FROM items").await.unwrap();
    assert_eq!(n, Some(0));
    c.query_drop("BEGIN").await.unwrap();
    c.query_drop("INSERT INTO items (id) VALUES (1), (2)")
        .await
        .unwrap();
    // SIGTERM: stop accepting, drain, roll back the open transaction, exit 0.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "shardgate did not exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status}");
    assert!(ids_on(0, db, "SELECT id FROM items").await.is_empty());
    assert!(ids_on(1, db, "SELECT id FROM items").await.is_empty());
    assert!(
        client_as(addr, "app", "app", Some(db)).await.is_err(),
        "nothing listens any more"
    );
    // --log-format json: one JSON object per line, with the start and the SIGHUP answer.
    let text = std::fs::read_to_string(&log).unwrap();
    let messages: Vec<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
            v["fields"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("shardgate listening on")),
        "{text}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("SIGHUP: rules reloaded from")),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
