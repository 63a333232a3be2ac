//! The sandbox starts real MariaDB shards with working replication, and its
//! servers die with the process that started them.

use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use shardgate::sandbox::{Sandbox, SandboxSpec};

/// One 2x1 cluster for this test binary; its servers die with the process.
fn cluster() -> &'static Sandbox {
    static CLUSTER: OnceLock<Sandbox> = OnceLock::new();
    CLUSTER.get_or_init(|| Sandbox::up(&SandboxSpec::temp(2, 1)).expect("sandbox up"))
}

/// Tests that stop servers must not run beside tests that use them.
fn exclusive() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs SQL with the `mariadb` client over TCP, as an application would.
fn mariadb(port: u16, sql: &str) -> Result<String, String> {
    mariadb_as(port, "root", "", sql)
}

/// [`mariadb`] as `user` with `password`.
fn mariadb_as(port: u16, user: &str, password: &str, sql: &str) -> Result<String, String> {
    let out = Command::new("mariadb")
        .args(["--no-defaults", "--protocol=TCP", "-h127.0.0.1", "-N", "-B"])
        .arg(format!("-u{user}"))
        .arg(format!("-p{password}"))
        .arg(format!("-P{port}"))
        .args(["--connect-timeout=2", "-e", sql])
        .output()
        .expect("run mariadb client");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn port(sb: &Sandbox, shard: usize, replica: Option<usize>) -> u16 {
    sb.servers
        .iter()
        .find(|s| s.shard == shard && s.replica == replica)
        .expect("server exists")
        .port
}

/// Polls `sql` on `port` until it prints `want` (5 s at most).
fn eventually(port: u16, sql: &str, want: &str) {
    let start = Instant::now();
    loop {
        let got = mariadb(port, sql);
        if got.as_deref() == Ok(want) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{sql} on {port}: {got:?}, want {want}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn rows_reach_their_shards_replica_and_no_other_shard() {
    let _guard = exclusive();
    let sb = cluster();
    assert_eq!(sb.servers.len(), 4);
    for shard in 0..2 {
        let p = port(sb, shard, None);
        let sql = "CREATE DATABASE IF NOT EXISTS shop; \
                   CREATE TABLE IF NOT EXISTS shop.items (id INT PRIMARY KEY, name VARCHAR(20))";
        mariadb(p, sql).expect("create table");
    }
    mariadb(
        port(sb, 0, None),
        "INSERT INTO shop.items VALUES (1, 'on s0')",
    )
    .expect("insert");
    let count = "SELECT COUNT(*) FROM shop.items WHERE id = 1";
    eventually(
        port(sb, 0, Some(0)),
        "SELECT name FROM shop.items WHERE id = 1",
        "on s0",
    );
    sb.sync_replicas(1).expect("sync shard 1");
    assert_eq!(mariadb(port(sb, 1, None), count).as_deref(), Ok("0"));
    assert_eq!(mariadb(port(sb, 1, Some(0)), count).as_deref(), Ok("0"));
    // Replicas refuse writes from ordinary users: they are read_only.
    assert_eq!(
        sb.query(0, Some(0), "SELECT @@read_only").expect("query"),
        "1"
    );
    assert_eq!(sb.query(0, None, "SELECT @@read_only").expect("query"), "0");
}

#[test]
fn stopped_servers_refuse_connections_and_restart_with_their_data() {
    let _guard = exclusive();
    let sb = cluster();
    let (primary, replica) = (port(sb, 1, None), port(sb, 1, Some(0)));
    mariadb(
        primary,
        "CREATE DATABASE IF NOT EXISTS keep; CREATE TABLE IF NOT EXISTS keep.t (v INT)",
    )
    .expect("create");
    mariadb(primary, "INSERT INTO keep.t VALUES (7)").expect("insert");
    sb.sync_replicas(1).expect("sync");

    sb.stop_server(1, Some(0)).expect("stop replica");
    assert!(
        mariadb(replica, "SELECT 1").is_err(),
        "a stopped server still answers"
    );
    assert_eq!(sb.pid(1, Some(0)), None);
    mariadb(primary, "INSERT INTO keep.t VALUES (8)").expect("insert while replica is down");
    sb.start_server(1, Some(0)).expect("start replica");
    eventually(replica, "SELECT SUM(v) FROM keep.t", "15");

    sb.stop_server(1, None).expect("stop primary");
    assert!(mariadb(primary, "SELECT 1").is_err());
    sb.start_server(1, None).expect("start primary");
    assert_eq!(
        mariadb(primary, "SELECT SUM(v) FROM keep.t").as_deref(),
        Ok("15")
    );
    mariadb(primary, "INSERT INTO keep.t VALUES (1)").expect("insert after restart");
    // The replica reconnects by itself (MASTER_CONNECT_RETRY=1).
    eventually(replica, "SELECT SUM(v) FROM keep.t", "16");
}

#[test]
fn paused_servers_hang_and_resume() {
    let _guard = exclusive();
    let sb = cluster();
    sb.pause_server(0, Some(0)).expect("pause");
    assert!(
        mariadb(port(sb, 0, Some(0)), "SELECT 1").is_err(),
        "connect must time out"
    );
    sb.resume_server(0, Some(0)).expect("resume");
    assert_eq!(
        mariadb(port(sb, 0, Some(0)), "SELECT 1").as_deref(),
        Ok("1")
    );
}

#[test]
fn rules_toml_names_every_server() {
    let sb = cluster();
    let text = sb.rules_toml("127.0.0.1:0");
    let rules: toml::Table = text.parse().expect("rules parse as TOML");
    assert_eq!(rules["listen"].as_str(), Some("127.0.0.1:0"));
    let shards = rules["shards"].as_array().expect("shards array");
    assert_eq!(shards.len(), 2);
    for (i, shard) in shards.iter().enumerate() {
        assert_eq!(shard["name"].as_str(), Some(format!("s{i}").as_str()));
        // The proxy's limited account, never root.
        assert_eq!(
            shard["primary"].as_str(),
            Some(sb.proxy_primary_url(i).as_str())
        );
        let url = format!(
            "mysql://shardgate:shardgate@127.0.0.1:{}",
            port(sb, i, Some(0))
        );
        assert_eq!(
            shard["replicas"].as_array().expect("replicas")[0].as_str(),
            Some(url.as_str())
        );
    }
    // The rest of the example survives the rewrite.
    assert_eq!(rules["users"][0]["name"].as_str(), Some("app"));
    assert_eq!(rules["schemas"][0]["name"].as_str(), Some("shop"));
    let path = sb.write_rules("127.0.0.1:3307").expect("write rules");
    assert!(
        std::fs::read_to_string(path)
            .expect("read rules")
            .contains("127.0.0.1:3307")
    );
}

#[test]
fn the_proxy_account_has_only_what_the_proxy_needs() {
    // Logs in to every server: none may be stopped by another test meanwhile.
    let _g = exclusive();
    let sb = cluster();
    let proxy = |port: u16, sql: &str| {
        mariadb_as(
            port,
            shardgate::sandbox::PROXY_USER,
            shardgate::sandbox::PROXY_PASSWORD,
            sql,
        )
    };
    // On every server, replicas included: no global privilege but replication monitoring and
    // what a promotion does.
    for s in &sb.servers {
        let grants = proxy(s.port, "SHOW GRANTS").expect("the account logs in");
        let global = grants
            .lines()
            .find(|l| l.contains("ON *.*"))
            .unwrap_or_default();
        for p in [
            "BINLOG MONITOR",
            "SLAVE MONITOR",
            "READ_ONLY ADMIN",
            "REPLICATION SLAVE ADMIN",
            "RELOAD",
        ] {
            assert!(global.contains(p), "{p}: {grants}");
        }
        assert!(!grants.contains("ALL PRIVILEGES ON *.*"), "{grants}");
        assert!(!grants.contains("GRANT OPTION"), "{grants}");
    }
    let p0 = port(sb, 0, None);
    for sql in [
        "SELECT COUNT(*) FROM mysql.user",
        "CREATE USER sbx_probe",
        "SET GLOBAL max_connections = 10",
        "CREATE DATABASE sbx_not_granted",
    ] {
        let e = proxy(p0, sql).expect_err(sql);
        assert!(
            e.contains("1142") || e.contains("1227") || e.contains("1044") || e.contains("1045"),
            "{sql}: {e}"
        );
    }
    // Without FILE, LOAD_FILE() reads nothing.
    assert_eq!(
        proxy(p0, "SELECT LOAD_FILE('/etc/passwd') IS NULL").as_deref(),
        Ok("1")
    );
    assert_eq!(
        proxy(p0, "SHOW MASTER STATUS").map(|r| r.is_empty()),
        Ok(false)
    );
    // A granted schema: the account may create it, work in it and drop it; the grant reaches
    // the replicas through replication.
    sb.grant_schema("sbx_granted").expect("grant");
    let sql = "CREATE DATABASE IF NOT EXISTS sbx_granted; \
               CREATE TABLE sbx_granted.t (id INT PRIMARY KEY); \
               CREATE FUNCTION sbx_granted.f() RETURNS INT RETURN 1; \
               INSERT INTO sbx_granted.t VALUES (sbx_granted.f()); \
               SELECT COUNT(*) FROM sbx_granted.t";
    assert_eq!(proxy(p0, sql).as_deref(), Ok("1"));
    sb.sync_replicas(0).expect("sync");
    let r = port(sb, 0, Some(0));
    assert_eq!(
        proxy(r, "SELECT COUNT(*) FROM sbx_granted.t").as_deref(),
        Ok("1")
    );
    proxy(p0, "DROP DATABASE sbx_granted").expect("drop");
    // `_` in a schema name is no wildcard.
    assert!(proxy(p0, "CREATE DATABASE sbxxgranted").is_err());
}

/// Run in a child process: start a server, forget the sandbox and exit at once.
#[test]
fn servers_die_with_the_test_process() {
    if std::env::var_os("SANDBOX_CHILD").is_some() {
        let sb = Sandbox::up(&SandboxSpec::temp(1, 0)).expect("sandbox up");
        println!("CHILD {} {}", sb.servers[0].pid, sb.dir.display());
        std::mem::forget(sb);
        std::process::exit(0);
    }
    let exe = std::env::current_exe().expect("test exe");
    let out = Command::new(exe)
        .args([
            "--exact",
            "servers_die_with_the_test_process",
            "--nocapture",
        ])
        .env("SANDBOX_CHILD", "1")
        .output()
        .expect("run child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find_map(|l| l.strip_prefix("CHILD "));
    let line = line.unwrap_or_else(|| {
        panic!(
            "child said: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let (pid, dir) = line.split_once(' ').expect("pid and dir");
    let dead = || match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|s| s.trim_start().starts_with('Z')),
    };
    let start = Instant::now();
    while !dead() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "mariadbd {pid} outlived its test process"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_dir_all(dir);
}
