//! sysbench through the proxy, as users will run it: sbtest tables hash-sharded by id over two
//! real MariaDB shards, prepare/run/cleanup of the standard OLTP tests in both prepared-statement
//! modes, with no failed statement and rows on both shards.

mod common;

use common::*;
use std::process::Command;

const TABLES: usize = 2;
const TABLE_SIZE: i64 = 1000;

fn sysbench(test: &str, port: u16, ps_mode: &str, phase: &str) -> String {
    sysbench_with(test, port, ps_mode, phase, &[])
}

fn sysbench_with(test: &str, port: u16, ps_mode: &str, phase: &str, extra: &[&str]) -> String {
    let out = Command::new("sysbench")
        .arg(test)
        .args([
            "--db-driver=mysql",
            "--mysql-host=127.0.0.1",
            "--mysql-user=app",
            "--mysql-password=app",
            "--mysql-db=shop",
        ])
        .arg(format!("--mysql-port={port}"))
        .arg(format!("--db-ps-mode={ps_mode}"))
        .arg(format!("--tables={TABLES}"))
        .arg(format!("--table-size={TABLE_SIZE}"))
        .args(["--time=3", "--threads=2", "--report-interval=0"])
        .args(extra)
        .arg(phase)
        .output()
        .expect("sysbench runs (make deps installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "sysbench {test} {phase} --db-ps-mode={ps_mode} failed:\n{text}"
    );
    text
}

/// The number after `label` in sysbench's report (e.g. `ignored errors:`).
fn number_after(report: &str, label: &str) -> u64 {
    report
        .lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no `{label}` in sysbench output:\n{report}"))
}

/// `Com_select` of every server: the primaries', then the replicas' (summed).
async fn selects() -> (u64, u64) {
    use mysql_async::prelude::Queryable;
    let mut out = (0, 0);
    for s in 0..2 {
        let mut urls = vec![(false, cluster().primary_url(s))];
        urls.extend(cluster().replica_urls(s).into_iter().map(|u| (true, u)));
        for (replica, url) in urls {
            let opts = mysql_async::Opts::from_url(&url).expect("url");
            let mut c = mysql_async::Conn::new(
                mysql_async::OptsBuilder::from_opts(opts).prefer_socket(false),
            )
            .await
            .expect("direct connection");
            let row: Option<(String, u64)> = c
                .query_first("SHOW GLOBAL STATUS LIKE 'Com_select'")
                .await
                .expect("status");
            let n = row.expect("Com_select").1;
            if replica {
                out.1 += n;
            } else {
                out.0 += n;
            }
            c.disconnect().await.ok();
        }
    }
    out
}

/// Both tests use the sandbox rules' schema `shop`: they take turns.
static SHOP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sysbench_oltp_tests_run_clean_through_the_proxy() {
    let _turn = SHOP.lock().await;
    fresh_schema("shop").await;
    let rules =
        shardgate::config::Rules::from_toml(&cluster().rules_toml("127.0.0.1:0"), "sandbox rules")
            .expect("sandbox rules are valid");
    let addr = start_proxy(rules).await;
    let port = addr.port();
    let tests = [
        "oltp_read_write",
        "oltp_read_only",
        "oltp_point_select",
        "oltp_insert",
        "oltp_delete",
        "oltp_update_index",
    ];
    for ps_mode in ["auto", "disable"] {
        for test in tests {
            sysbench(test, port, ps_mode, "prepare");
            // Ids 1..N exactly as against MySQL, spread over both shards by id mod 2.
            let evens = ids_on(0, "shop", "SELECT id FROM sbtest1").await;
            let odds = ids_on(1, "shop", "SELECT id FROM sbtest1").await;
            assert_eq!(
                evens,
                (1..=TABLE_SIZE).filter(|i| i % 2 == 0).collect::<Vec<_>>(),
                "{test}: shard s0"
            );
            assert_eq!(
                odds,
                (1..=TABLE_SIZE).filter(|i| i % 2 == 1).collect::<Vec<_>>(),
                "{test}: shard s1"
            );
            let before = selects().await;
            let report = sysbench(test, port, ps_mode, "run");
            let after = selects().await;
            if test == "oltp_read_only" {
                // sysbench wraps its reads in BEGIN ... COMMIT: a transaction that may write,
                // so they stay on the primaries. With --skip-trx=on they are autocommit reads,
                // and at least 90% of them go to replicas (each server's own Com_select; the
                // health checks' few selects count too).
                let (p, r) = (after.0 - before.0, after.1 - before.1);
                println!(
                    "{test} --db-ps-mode={ps_mode}: {p} selects on primaries, {r} on replicas"
                );
                let before = selects().await;
                let report = sysbench_with(test, port, ps_mode, "run", &["--skip-trx=on"]);
                let after = selects().await;
                let (p, r) = (after.0 - before.0, after.1 - before.1);
                println!(
                    "{test} --skip-trx=on --db-ps-mode={ps_mode}: {p} selects on primaries, {r} on replicas"
                );
                assert!(number_after(&report, "queries:") > 0, "{report}");
                assert_eq!(number_after(&report, "ignored errors:"), 0, "{report}");
                assert!(
                    r * 10 >= (p + r) * 9,
                    "{test} --skip-trx=on: {p} selects on primaries, {r} on replicas"
                );
            }
            let transactions = number_after(&report, "transactions:");
            let ignored = number_after(&report, "ignored errors:");
            assert!(transactions > 0, "{test}: no transaction ran:\n{report}");
            // Deadlocks/lock-wait timeouts between shards are retried by sysbench; keep them rare.
            // A deadlock across two shards is seen by neither server: it ends when both threads'
            // lock waits time out (3 s in the sandbox, the length of the run), so one such
            // deadlock (2 errors) is allowed on top of 1 in 20 transactions.
            assert!(
                ignored <= 2 || ignored * 20 <= transactions,
                "{test} ({ps_mode}): {ignored} ignored errors for {transactions} transactions"
            );
            println!(
                "{test} --db-ps-mode={ps_mode}: {transactions} transactions, {ignored} ignored errors"
            );
            sysbench(test, port, ps_mode, "cleanup");
            let left = ids_on(0, "shop", "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'shop' AND table_name LIKE 'sbtest%'").await;
            assert_eq!(
                left,
                vec![0],
                "{test}: cleanup dropped the tables on shard s0"
            );
        }
    }
}

/// `RELOAD RULES` every 300 ms while sysbench's read-write test runs through the proxy: every
/// reload takes, and sysbench sees no failed statement and no lost connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloads_under_sysbench_lose_nothing() {
    use mysql_async::prelude::Queryable;
    let _turn = SHOP.lock().await;
    fresh_schema("shop").await;
    let base = cluster().rules_toml("127.0.0.1:0");
    assert!(base.contains("[proxy]\n"), "{base}");
    // Each version changes a setting that moves no row.
    let version = |n: u32| {
        base.replacen(
            "[proxy]\n",
            &format!("[proxy]\nslow_statement_ms = {}\n", 1000 + n),
            1,
        )
    };
    let dir = std::env::temp_dir().join(format!("shardgate-sysbench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rules.toml");
    std::fs::write(&path, version(0)).unwrap();
    let server = shardgate::server::Server::bind_file(&path, Some("127.0.0.1:0"))
        .await
        .expect("bind");
    let addr = server.local_addr().expect("addr");
    tokio::spawn(server.run(std::future::pending()));
    let port = addr.port();
    sysbench("oltp_read_write", port, "auto", "prepare");
    let run = tokio::task::spawn_blocking(move || {
        sysbench_with(
            "oltp_read_write",
            port,
            "auto",
            "run",
            &["--time=6", "--threads=4"],
        )
    });
    let mut admin = client_as(addr, "admin", "admin", None)
        .await
        .expect("admin");
    let mut reloads = 0;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    while !run.is_finished() {
        reloads += 1;
        std::fs::write(&path, version(reloads)).unwrap();
        let r: Vec<String> = admin.query("RELOAD RULES").await.expect("reload");
        assert!(r[0].starts_with("rules reloaded"), "{r:?}");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let report = run.await.expect("sysbench thread");
    assert!(reloads >= 5, "only {reloads} reloads during the run");
    let transactions = number_after(&report, "transactions:");
    let ignored = number_after(&report, "ignored errors:");
    assert!(transactions > 0, "no transaction ran:\n{report}");
    assert_eq!(number_after(&report, "reconnects:"), 0, "{report}");
    // As in the test above: cross-shard deadlocks are retried by sysbench, kept rare.
    assert!(
        ignored <= 2 || ignored * 20 <= transactions,
        "{ignored} ignored errors for {transactions} transactions:\n{report}"
    );
    println!(
        "{reloads} reloads under sysbench: {transactions} transactions, {ignored} ignored errors"
    );
    sysbench("oltp_read_write", port, "auto", "cleanup");
    let _ = std::fs::remove_dir_all(&dir);
}
