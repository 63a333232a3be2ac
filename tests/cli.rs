//! The `shardgate` binary as a DBA and an operator use it: `check` on good and bad rules files,
//! `sandbox up` writing rules that `check` accepts, and `serve` stopping gracefully on SIGTERM.

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
    std::fs::write(&path, rules_toml(db, tables)).unwrap();
    let mut child = shardgate()
        .args(["serve", "--config"])
        .arg(&path)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
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
    let _ = std::fs::remove_dir_all(&dir);
}
