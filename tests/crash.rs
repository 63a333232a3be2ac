//! Two-phase commit under faults, against real MariaDB servers (3 shards) and the real proxy
//! binary (built with the `failpoints` feature, as `make test` builds it), run as a child process
//! that the test kills with SIGKILL, or that kills itself at an armed failpoint.
//!
//! - `bank_and_flash_sale_survive_crashes`: clients transfer money between accounts on different
//!   shards and buy products (stock on the product's shard, the order on the buyer's), while the
//!   proxy is killed at every failpoint of the commit path and at random moments, and a shard's
//!   MariaDB is killed and restarted. After recovery: money is conserved, every account equals its
//!   ledger, nothing is oversold, every acknowledged commit is present, no branch is in doubt.
//! - `another_proxy_finishes_a_dead_proxys_transactions`: a proxy dies for good after its decision
//!   (or before it); a second proxy instance commits (or rolls back) what the first left prepared.
//!
//! The long form (minutes of faults instead of seconds) runs by hand:
//! `SHARDGATE_CRASH_ROUNDS=20 cargo test --release --features failpoints --test crash -- --nocapture`.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder, Row};
use rand::Rng;
use shardgate::sandbox::{Sandbox, SandboxSpec};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

const SHARDS: usize = 3;

/// Whether this build has the failpoints compiled in (`--features failpoints`): without them the
/// tests fail loudly instead of passing without faults.
const FAILPOINTS_BUILT: bool = cfg!(feature = "failpoints");

fn cluster() -> &'static Sandbox {
    static CLUSTER: OnceLock<Sandbox> = OnceLock::new();
    CLUSTER.get_or_init(|| Sandbox::up(&SandboxSpec::temp(SHARDS, 0)).expect("sandbox up"))
}

/// The tests kill servers and proxies: one at a time.
async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The rules of these tests: `db` holds accounts + transfers (hashed by id) and products
/// (hashed by id) + orders (hashed by user_id) on 3 shards.
fn write_rules(db: &str, port: u16) -> PathBuf {
    let sb = cluster();
    let mut t = format!(
        "listen = \"127.0.0.1:{port}\"\n[proxy]\nbackend_timeout_ms = 3000\ntransaction_timeout_ms = 4000\ntxn_mode = \"xa\"\n\n[[users]]\nname = \"app\"\npassword = \"app\"\n\n"
    );
    for s in 0..SHARDS {
        t.push_str(&format!(
            "[[shards]]\nname = \"s{s}\"\nprimary = \"{}\"\n\n",
            sb.proxy_primary_url(s)
        ));
    }
    t.push_str(&format!(
        "[[schemas]]\nname = \"{db}\"\ndefault_shard = \"s0\"\n\n\
         [[schemas.tables]]\nnames = [\"accounts\", \"transfers\", \"products\"]\nalgorithm = \"hash\"\nkey = \"id\"\nkey_type = \"int\"\n\n\
         [[schemas.tables]]\nnames = [\"orders\"]\nalgorithm = \"hash\"\nkey = \"user_id\"\nkey_type = \"int\"\n"
    ));
    let path =
        std::env::temp_dir().join(format!("shardgate-crash-{}-{db}.toml", std::process::id()));
    std::fs::write(&path, t).expect("write rules");
    path
}

/// The proxy binary as a child process.
struct Proxy {
    child: Child,
}

impl Proxy {
    /// Starts the proxy on `port` with `failpoints` armed (the `fail` crate's FAILPOINTS
    /// syntax) and waits until it accepts clients.
    async fn start(rules: &PathBuf, port: u16, failpoints: &str) -> Proxy {
        if !FAILPOINTS_BUILT {
            panic!(
                "the crash tests need the failpoints feature: run them with `make test` or `cargo test --features failpoints`"
            );
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(std::env::temp_dir().join(format!("shardgate-crash-{}.log", std::process::id())))
            .expect("proxy log");
        let child = Command::new(env!("CARGO_BIN_EXE_shardgate"))
            .args(["serve", "--config"])
            .arg(rules)
            .env("FAILPOINTS", failpoints)
            .env("RUST_LOG", "shardgate=info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start the proxy");
        let mut p = Proxy { child };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(c) = Conn::new(opts(port, None)).await {
                let _ = c.disconnect().await;
                return p;
            }
            match p.child.try_wait() {
                // Clients may reach an armed failpoint before this check connects.
                Ok(Some(_)) if !failpoints.is_empty() => return p,
                Ok(Some(status)) => panic!("the proxy exited at start-up: {status}"),
                _ => {}
            }
            assert!(
                Instant::now() < deadline,
                "the proxy did not start within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits up to `limit` for the proxy to die at its armed failpoint: true when it did (by
    /// SIGKILL), false when it was still running (it is then killed).
    async fn crashes_within(&mut self, limit: Duration) -> bool {
        use std::os::unix::process::ExitStatusExt;
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.signal() == Some(libc::SIGKILL);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.kill();
        false
    }

    fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.kill();
    }
}

fn opts(port: u16, db: Option<&str>) -> OptsBuilder {
    OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .user(Some("app"))
        .pass(Some("app"))
        .db_name(db)
        .prefer_socket(false)
}

async fn direct(s: usize) -> Conn {
    let o = Opts::from_url(&cluster().primary_url(s)).expect("url");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match Conn::new(OptsBuilder::from_opts(o.clone()).prefer_socket(false)).await {
            Ok(c) => return c,
            Err(e) if Instant::now() > deadline => panic!("shard {s}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// A fresh `db` on every shard, usable by the proxy's account.
async fn fresh_db(db: &str) {
    for s in 0..SHARDS {
        let mut c = direct(s).await;
        c.query_drop(shardgate::sandbox::grant_schema_sql(db))
            .await
            .unwrap();
        c.query_drop(format!("DROP DATABASE IF EXISTS `{db}`"))
            .await
            .unwrap();
        c.query_drop(format!("CREATE DATABASE `{db}`"))
            .await
            .unwrap();
    }
}

const ACCOUNTS: i64 = 30;
const BALANCE: i64 = 1000;
const PRODUCTS: i64 = 5;
const STOCK: i64 = 150;

/// Creates and fills the tables through the proxy, and checks that they spread over all shards.
async fn fill(port: u16, db: &str) {
    let mut c = Conn::new(opts(port, Some(db))).await.unwrap();
    for ddl in [
        "CREATE TABLE accounts (id INT PRIMARY KEY, bal INT NOT NULL)",
        "CREATE TABLE transfers (id BIGINT PRIMARY KEY, src INT NOT NULL, dst INT NOT NULL, amt INT NOT NULL)",
        "CREATE TABLE products (id INT PRIMARY KEY, stock INT NOT NULL)",
        "CREATE TABLE orders (id BIGINT NOT NULL, user_id INT NOT NULL, product_id INT NOT NULL, qty INT NOT NULL, PRIMARY KEY (user_id, id))",
    ] {
        c.query_drop(ddl).await.unwrap();
    }
    let rows: Vec<String> = (1..=ACCOUNTS).map(|i| format!("({i},{BALANCE})")).collect();
    c.query_drop(format!("INSERT INTO accounts VALUES {}", rows.join(",")))
        .await
        .unwrap();
    let rows: Vec<String> = (1..=PRODUCTS).map(|i| format!("({i},{STOCK})")).collect();
    c.query_drop(format!("INSERT INTO products VALUES {}", rows.join(",")))
        .await
        .unwrap();
    for s in 0..SHARDS {
        let n: Option<i64> = direct(s)
            .await
            .query_first(format!("SELECT COUNT(*) FROM `{db}`.accounts"))
            .await
            .unwrap();
        assert!(n.unwrap_or(0) > 0, "shard {s} holds accounts");
    }
}

/// What the clients saw acknowledged.
#[derive(Default)]
struct Acks {
    transfers: Mutex<Vec<i64>>,
    orders: Mutex<Vec<(i64, i64)>>,
    cross_shard: AtomicU64,
    deadlocks: AtomicU64,
    failed: AtomicU64,
}

/// The shard of an id under `algorithm = "hash"`: id mod N (see `route::hash`).
fn shard_of(key: i64) -> usize {
    key.rem_euclid(SHARDS as i64) as usize
}

/// One transfer: Ok(true) acknowledged, Ok(false) refused (not enough money).
async fn transfer(
    c: &mut Conn,
    id: i64,
    src: i64,
    dst: i64,
    amt: i64,
) -> mysql_async::Result<bool> {
    c.query_drop("START TRANSACTION").await?;
    c.query_drop(format!(
        "UPDATE accounts SET bal = bal - {amt} WHERE id = {src} AND bal >= {amt}"
    ))
    .await?;
    if c.affected_rows() == 0 {
        c.query_drop("ROLLBACK").await?;
        return Ok(false);
    }
    c.query_drop(format!(
        "UPDATE accounts SET bal = bal + {amt} WHERE id = {dst}"
    ))
    .await?;
    c.query_drop(format!(
        "INSERT INTO transfers VALUES ({id}, {src}, {dst}, {amt})"
    ))
    .await?;
    c.query_drop("COMMIT").await?;
    Ok(true)
}

/// One purchase: Ok(true) acknowledged, Ok(false) sold out.
async fn buy(
    c: &mut Conn,
    id: i64,
    user: i64,
    product: i64,
    qty: i64,
) -> mysql_async::Result<bool> {
    c.query_drop("START TRANSACTION").await?;
    c.query_drop(format!(
        "UPDATE products SET stock = stock - {qty} WHERE id = {product} AND stock >= {qty}"
    ))
    .await?;
    if c.affected_rows() == 0 {
        c.query_drop("ROLLBACK").await?;
        return Ok(false);
    }
    c.query_drop(format!(
        "INSERT INTO orders VALUES ({id}, {user}, {product}, {qty})"
    ))
    .await?;
    c.query_drop("COMMIT").await?;
    Ok(true)
}

/// A client that keeps transferring (`bank`) or buying until `stop`, reconnecting after errors.
async fn client(
    port: u16,
    db: String,
    worker: i64,
    bank: bool,
    stop: Arc<AtomicBool>,
    acks: Arc<Acks>,
) {
    let mut conn: Option<Conn> = None;
    let mut n = 0i64;
    while !stop.load(Ordering::Relaxed) {
        let mut c = match conn.take() {
            Some(c) => c,
            None => match Conn::new(opts(port, Some(&db))).await {
                Ok(c) => c,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        n += 1;
        let id = worker * 1_000_000 + n;
        let (a, b, amt) = {
            let mut r = rand::rng();
            let a = r.random_range(1..=if bank { ACCOUNTS } else { PRODUCTS });
            let b = r.random_range(1..=ACCOUNTS);
            (a, b, r.random_range(1..=if bank { 50 } else { 3 }))
        };
        if bank && a == b {
            conn = Some(c);
            continue;
        }
        let work = async {
            if bank {
                transfer(&mut c, id, a, b, amt).await
            } else {
                buy(&mut c, id, b, a, amt).await
            }
        };
        match tokio::time::timeout(Duration::from_secs(20), work).await {
            Ok(Ok(true)) => {
                if bank {
                    acks.transfers.lock().unwrap().push(id);
                    if shard_of(a) != shard_of(b) {
                        acks.cross_shard.fetch_add(1, Ordering::Relaxed);
                    }
                } else {
                    acks.orders.lock().unwrap().push((b, id));
                    if shard_of(a) != shard_of(b) {
                        acks.cross_shard.fetch_add(1, Ordering::Relaxed);
                    }
                }
                conn = Some(c);
            }
            Ok(Ok(false)) => conn = Some(c),
            Ok(Err(mysql_async::Error::Server(e))) if e.code == 1213 => {
                // Rolled back on every shard: a retry would start afresh.
                acks.deadlocks.fetch_add(1, Ordering::Relaxed);
                conn = Some(c);
            }
            // Anything else (the proxy died, a shard died): the outcome is unknown to this
            // client; it reconnects. Atomicity is what the final checks prove.
            _ => {
                acks.failed.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// Every shard's XA branches of shardgate's (gtrid starting with `sg1:`).
async fn our_branches() -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for s in 0..SHARDS {
        let rows: Vec<Row> = direct(s).await.query("XA RECOVER").await.unwrap();
        for r in rows {
            let (_f, g, _b, data): (i64, usize, usize, Vec<u8>) = mysql_async::from_row(r);
            let text = String::from_utf8_lossy(&data[..g.min(data.len())]).into_owned();
            if text.starts_with(shardgate::txn::xa::PREFIX) {
                out.push((s, text));
            }
        }
    }
    out
}

/// Waits until recovery has left no branch of ours in doubt.
async fn no_branch_in_doubt(within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let left = our_branches().await;
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "XA branches still in doubt after {within:?}: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Rows of `sql` (two integer columns) on every shard, directly.
async fn everywhere(db: &str, sql: &str) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    for s in 0..SHARDS {
        let mut c = direct(s).await;
        c.query_drop(format!("USE `{db}`")).await.unwrap();
        let rows: Vec<(i64, i64)> = c.query(sql).await.unwrap();
        out.extend(rows);
    }
    out
}

/// The invariants, read from each shard directly.
async fn check_bank(db: &str, acks: &Acks) {
    let balances: BTreeMap<i64, i64> = everywhere(db, "SELECT id, bal FROM accounts")
        .await
        .into_iter()
        .collect();
    assert_eq!(balances.len() as i64, ACCOUNTS);
    let total: i64 = balances.values().sum();
    assert_eq!(total, ACCOUNTS * BALANCE, "money is conserved");
    assert!(
        balances.values().all(|b| *b >= 0),
        "no account is negative: {balances:?}"
    );
    // Each account equals its ledger: every transfer's three writes committed together.
    let mut ledger: BTreeMap<i64, i64> = (1..=ACCOUNTS).map(|i| (i, BALANCE)).collect();
    let mut stored = BTreeSet::new();
    for s in 0..SHARDS {
        let mut c = direct(s).await;
        let rows: Vec<(i64, i64, i64, i64)> = c
            .query(format!("SELECT id, src, dst, amt FROM `{db}`.transfers"))
            .await
            .unwrap();
        for (id, src, dst, amt) in rows {
            *ledger.entry(src).or_default() -= amt;
            *ledger.entry(dst).or_default() += amt;
            stored.insert(id);
        }
    }
    assert_eq!(balances, ledger, "every balance equals its ledger");
    let acked = acks.transfers.lock().unwrap().clone();
    let missing: Vec<i64> = acked
        .iter()
        .filter(|id| !stored.contains(id))
        .copied()
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged transfers missing: {missing:?}"
    );
}

async fn check_sale(db: &str, acks: &Acks) {
    let stock: BTreeMap<i64, i64> = everywhere(db, "SELECT id, stock FROM products")
        .await
        .into_iter()
        .collect();
    let mut sold: BTreeMap<i64, i64> = BTreeMap::new();
    let mut stored = BTreeSet::new();
    for s in 0..SHARDS {
        let mut c = direct(s).await;
        let rows: Vec<(i64, i64, i64, i64)> = c
            .query(format!(
                "SELECT user_id, id, product_id, qty FROM `{db}`.orders"
            ))
            .await
            .unwrap();
        for (user, id, product, qty) in rows {
            *sold.entry(product).or_default() += qty;
            stored.insert((user, id));
        }
    }
    for p in 1..=PRODUCTS {
        let left = stock[&p];
        assert!(left >= 0, "product {p} oversold: stock {left}");
        assert_eq!(
            STOCK,
            left + sold.get(&p).copied().unwrap_or(0),
            "product {p}: initial stock = remaining + ordered"
        );
    }
    let acked = acks.orders.lock().unwrap().clone();
    let missing: Vec<&(i64, i64)> = acked.iter().filter(|o| !stored.contains(o)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged orders missing: {missing:?}"
    );
}

/// The commit path's failpoints, in the order a commit passes them; `recover_before_finish`
/// follows `after_decision`, which leaves prepared branches for the next proxy to recover.
const POINTS: &[&str] = &[
    "xa::before_prepare",
    "xa::prepared_one",
    "xa::before_decision",
    "xa::after_decision",
    "xa::recover_before_finish",
    "xa::committed_one",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bank_and_flash_sale_survive_crashes() {
    let _serial = serial().await;
    let db = "crash_bank";
    fresh_db(db).await;
    let port = free_port();
    let rules = write_rules(db, port);
    {
        let _p = Proxy::start(&rules, port, "").await;
        fill(port, db).await;
    }
    let rounds: usize = std::env::var("SHARDGATE_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(Acks::default());
    let workers: Vec<_> = (0..6)
        .map(|w| {
            tokio::spawn(client(
                port,
                db.to_string(),
                w + 1,
                w < 4,
                stop.clone(),
                acks.clone(),
            ))
        })
        .collect();
    let mut reached = BTreeSet::new();
    for round in 0..rounds {
        // The proxy kills itself at each failpoint, a few commits in.
        for point in POINTS {
            // Recovery's point is reached once per branch in doubt, and the crash before it
            // may have left only one: it fires at the first.
            let skip = if *point == "xa::recover_before_finish" {
                0
            } else {
                rand::rng().random_range(0..4)
            };
            let mut p = Proxy::start(&rules, port, &format!("{point}={skip}*off->return")).await;
            if p.crashes_within(Duration::from_secs(15)).await {
                reached.insert(*point);
            }
        }
        // SIGKILL at random moments.
        for _ in 0..3 {
            let mut p = Proxy::start(&rules, port, "").await;
            let ms = rand::rng().random_range(200..1500);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            p.kill();
        }
        // A shard's MariaDB crashes (SIGKILL) and restarts under load; its prepared branches
        // survive in its binlog.
        {
            let _p = Proxy::start(&rules, port, "").await;
            tokio::time::sleep(Duration::from_millis(800)).await;
            let victim = round % SHARDS;
            let pid = cluster().pid(victim, None).expect("shard running");
            // SAFETY: kill(2) on the sandbox's own server process.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            tokio::time::sleep(Duration::from_millis(700)).await;
            cluster()
                .start_server(victim, None)
                .expect("restart the shard");
            tokio::time::sleep(Duration::from_millis(1500)).await;
        }
    }
    // A last proxy, no faults: the clients run a little, then stop; recovery finishes the rest.
    let _last = Proxy::start(&rules, port, "").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    no_branch_in_doubt(Duration::from_secs(60)).await;
    let acked = acks.transfers.lock().unwrap().len() + acks.orders.lock().unwrap().len();
    eprintln!(
        "acknowledged {acked} commits ({} across shards), {} deadlocks reported as 1213, {} outcomes unknown to the client; failpoints reached: {reached:?}",
        acks.cross_shard.load(Ordering::Relaxed),
        acks.deadlocks.load(Ordering::Relaxed),
        acks.failed.load(Ordering::Relaxed),
    );
    assert!(
        acks.cross_shard.load(Ordering::Relaxed) >= 20,
        "the clients committed across shards"
    );
    for point in POINTS {
        assert!(
            reached.contains(point),
            "the proxy never reached failpoint {point}"
        );
    }
    check_bank(db, &acks).await;
    check_sale(db, &acks).await;
}

/// Two accounts on different shards, the first one's shard first (the coordinator).
fn cross_pair() -> (i64, i64) {
    let a = 1;
    let b = (2..=ACCOUNTS)
        .find(|b| shard_of(*b) != shard_of(a))
        .expect("accounts on two shards");
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_proxy_finishes_a_dead_proxys_transactions() {
    let _serial = serial().await;
    let db = "crash_handover";
    fresh_db(db).await;
    let port = free_port();
    let rules = write_rules(db, port);
    {
        let _p = Proxy::start(&rules, port, "").await;
        fill(port, db).await;
    }
    no_branch_in_doubt(Duration::from_secs(30)).await;
    let (a, b) = cross_pair();
    for (point, committed) in [("xa::after_decision", true), ("xa::before_decision", false)] {
        // The first proxy dies for good at `point`, during one transfer's COMMIT.
        let mut first = Proxy::start(&rules, port, &format!("{point}=return")).await;
        let mut c = Conn::new(opts(port, Some(db))).await.unwrap();
        let id = if committed { 1 } else { 2 };
        let r = transfer(&mut c, id, a, b, 7).await;
        assert!(r.is_err(), "the COMMIT never answered: the proxy died");
        assert!(
            first.crashes_within(Duration::from_secs(5)).await,
            "died at {point}"
        );
        let left = our_branches().await;
        assert!(!left.is_empty(), "{point}: a branch is left prepared");
        // A second instance (another process, another instance id) finishes it.
        let _second = Proxy::start(&rules, port, "").await;
        no_branch_in_doubt(Duration::from_secs(30)).await;
        let ids: Vec<(i64, i64)> = everywhere(db, "SELECT id, amt FROM transfers").await;
        assert_eq!(
            ids.contains(&(id, 7)),
            committed,
            "{point}: the transfer is {}",
            if committed {
                "committed"
            } else {
                "rolled back"
            }
        );
        let acks = Acks::default();
        if committed {
            acks.transfers.lock().unwrap().push(id);
        }
        check_bank(db, &acks).await;
    }
}
