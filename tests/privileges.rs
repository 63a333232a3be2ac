//! The proxy is a privilege boundary (issue 12 item 15), on real servers: statements that
//! administer a server are refused to application users with MySQL's codes (and reach the
//! backend for an admin of the rules), SHOW PROCESSLIST and KILL act on the proxy's own sessions,
//! SHOW GRANTS shows the rules, and nothing an application sends creates an account on a shard.

mod common;

use common::*;
use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use std::time::{Duration, Instant};

const TABLES: &str = r#"
[[schemas.tables]]
names = ["items"]
algorithm = "hash"
key = "id"
key_type = "int"
"#;

/// The error code of `sql`, and that the session still works after it.
async fn refused(c: &mut Conn, sql: &str) -> u16 {
    let e = c
        .query_drop(sql)
        .await
        .expect_err(&format!("{sql} must be refused"));
    let got = code(&e);
    let one: Option<i64> = c.query_first("SELECT 1").await.unwrap();
    assert_eq!(one, Some(1), "the session goes on after {sql}");
    got
}

/// Users named exactly `name` on shard `s`, read directly.
async fn accounts_on(s: usize, name: &str) -> i64 {
    let n: Option<i64> = direct(s)
        .await
        .exec_first("SELECT COUNT(*) FROM mysql.user WHERE User = ?", (name,))
        .await
        .unwrap();
    n.unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrative_statements_are_refused_to_application_users() {
    let db = "pv_refuse";
    let (addr, mut c) = setup(db, TABLES).await;
    c.query_drop("CREATE TABLE items (id BIGINT PRIMARY KEY, v VARCHAR(20))")
        .await
        .unwrap();
    let other = format!("{db}_other");
    let cases: Vec<(String, u16)> = [
        ("CREATE USER pv_probe IDENTIFIED BY 'x'", 1227),
        ("CREATE OR REPLACE USER pv_probe", 1227),
        ("ALTER USER shardgate ACCOUNT LOCK", 1227),
        ("DROP USER IF EXISTS root", 1227),
        ("RENAME USER a TO b", 1227),
        ("CREATE ROLE pv_role", 1227),
        ("GRANT ALL PRIVILEGES ON *.* TO app", 1227),
        ("REVOKE SELECT ON items FROM app", 1227),
        ("SET PASSWORD = PASSWORD('x')", 1227),
        ("SET ROLE pv_role", 1227),
        ("SET DEFAULT ROLE pv_role", 1227),
        ("SHUTDOWN", 1227),
        ("INSTALL SONAME 'ha_connect'", 1227),
        ("UNINSTALL PLUGIN unix_socket", 1227),
        ("SET GLOBAL max_connections = 10", 1227),
        ("SET @@global.max_connections = 10", 1227),
        ("SET sql_log_bin = 0", 1227),
        ("SELECT * FROM items INTO OUTFILE '/tmp/pv_out'", 1227),
        ("SELECT v FROM items INTO DUMPFILE '/tmp/pv_dump'", 1227),
        ("SELECT LOAD_FILE('/etc/passwd')", 1227),
        ("LOAD DATA INFILE '/etc/passwd' INTO TABLE items", 1227),
        (
            "LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE items",
            1227,
        ),
        ("CREATE TABLE pv_dir (id INT) DATA DIRECTORY = '/tmp'", 1227),
        ("CHANGE MASTER TO MASTER_HOST = '10.0.0.1'", 1227),
        ("START SLAVE", 1227),
        ("STOP REPLICA", 1227),
        ("RESET MASTER", 1227),
        ("RESET SLAVE ALL", 1227),
        ("PURGE BINARY LOGS BEFORE NOW()", 1227),
        ("FLUSH TABLES", 1227),
        ("FLUSH PRIVILEGES", 1227),
        ("BINLOG 'AAAA'", 1227),
        ("SHOW MASTER STATUS", 1227),
        ("SHOW SLAVE STATUS", 1227),
        ("SHOW BINARY LOGS", 1227),
        ("SHOW BINLOG EVENTS", 1227),
        ("SHOW ENGINE INNODB STATUS", 1227),
        ("SELECT * FROM information_schema.INNODB_TRX", 1227),
        // The backends' own schemas: table-level 1142, schema-level 1044.
        ("SELECT User, Password FROM mysql.user", 1142),
        ("SELECT * FROM `mysql`.`user` WHERE 1 = 0", 1142),
        (
            "UPDATE mysql.user SET Password = '' WHERE User = 'root'",
            1142,
        ),
        ("DELETE FROM mysql.global_priv", 1142),
        ("SELECT * FROM performance_schema.threads", 1142),
        ("SELECT * FROM sys.version", 1142),
        ("SHOW CREATE TABLE mysql.user", 1142),
        ("DESCRIBE mysql.user", 1142),
        ("USE mysql", 1044),
        ("SHOW TABLES FROM mysql", 1044),
        ("SHOW TABLE STATUS FROM performance_schema", 1044),
        // Hidden where the parser does not look: executable comments run on the server.
        ("SELECT 1 /*!, LOAD_FILE('/etc/passwd') */", 1227),
        (
            "SELECT 1 /*M!100000 , (SELECT COUNT(*) FROM mysql.user) */",
            1142,
        ),
        (
            "SELECT id FROM items /*! UNION SELECT User FROM mysql.user */",
            1142,
        ),
        // Statements the parser refuses are checked all the same.
        ("SELECT * FROM mysql.user LOCK IN SHARE MODE", 1142),
    ]
    .into_iter()
    .map(|(s, n)| (s.to_string(), n))
    .chain([
        // Prepared (SQL level): checked when prepared, and when executed.
        ("PREPARE pv FROM 'FLUSH TABLES'".to_string(), 1227),
        ("SET @pv = 'SELECT * FROM mysql.user'".to_string(), 0),
        ("PREPARE pv FROM @pv".to_string(), 1142),
    ])
    .collect();
    for (sql, want) in &cases {
        if *want == 0 {
            c.query_drop(sql).await.unwrap();
            continue;
        }
        assert_eq!(refused(&mut c, sql).await, *want, "{sql}");
    }
    // The refusal says what is missing, and how to get it through the proxy.
    let e = c.query_drop("CREATE USER pv_probe").await.unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("CREATE USER privilege") && msg.contains("admin = true"),
        "{msg}"
    );
    let e = c.query_drop("SELECT * FROM mysql.user").await.unwrap_err();
    assert!(
        e.to_string()
            .contains("SELECT command denied to user 'app'@'127.0.0.1' for table `mysql`.`user`"),
        "{e}"
    );
    // Prepared (binary protocol): checked at each execute.
    let e = c
        .exec_drop("SELECT LOAD_FILE(?)", ("/etc/passwd",))
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1227);
    // A user limited to one schema reaches no other, however named.
    let mut l = client_as(addr, "limited", "pw", Some(db)).await.unwrap();
    for (sql, want) in [
        (format!("SELECT * FROM {other}.t"), 1142),
        (
            format!("SELECT * FROM `{other}`.t LOCK IN SHARE MODE"),
            1142,
        ),
        (format!("INSERT INTO {other}.t VALUES (1)"), 1142),
        (format!("DROP DATABASE {other}"), 1044),
        (format!("CREATE DATABASE IF NOT EXISTS {other}"), 1044),
        (format!("SHOW TABLES FROM {other}"), 1044),
        (format!("SELECT 1 /*!, (SELECT 1 FROM {other}.t) */"), 1142),
    ] {
        assert_eq!(refused(&mut l, &sql).await, want, "{sql}");
    }
    // Nothing of that reached a backend: no account was created anywhere.
    for s in 0..2 {
        assert_eq!(accounts_on(s, "pv_probe").await, 0, "shard {s}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_never_reaches_a_backend_thread() {
    let db = "pv_backend_kill";
    let (_addr, mut c) = setup(db, TABLES).await;
    c.query_drop("CREATE TABLE items (id BIGINT PRIMARY KEY)")
        .await
        .unwrap();
    c.query_drop("INSERT INTO items (id) VALUES (1), (2)")
        .await
        .unwrap();
    // The proxy's pooled connections are threads of the backend account on each shard (those
    // in this test's schema: other tests' connections come and go meanwhile).
    const PROXY_THREADS: &str = "SELECT ID FROM information_schema.PROCESSLIST \
        WHERE USER = 'shardgate' AND DB = 'pv_backend_kill'";
    let threads: Vec<u64> = direct(0).await.query(PROXY_THREADS).await.unwrap();
    assert!(!threads.is_empty(), "the proxy holds pooled connections");
    let own: u64 = c
        .query_first("SELECT CONNECTION_ID()")
        .await
        .unwrap()
        .unwrap();
    for t in threads.iter().filter(|t| **t != own) {
        assert_eq!(
            refused(&mut c, &format!("KILL {t}")).await,
            1094,
            "KILL {t}"
        );
        assert_eq!(refused(&mut c, &format!("KILL QUERY {t}")).await, 1094);
    }
    let still: Vec<u64> = direct(0).await.query(PROXY_THREADS).await.unwrap();
    for t in &threads {
        assert!(still.contains(t), "backend thread {t} survived");
    }
    let n: Option<i64> = c.query_first("SELECT COUNT(*) FROM items").await.unwrap();
    assert_eq!(n, Some(2));
}

/// The rules of `db` with the backends' root account instead of the limited one, so that an
/// admin's statements can do on a backend what they say.
fn root_rules(db: &str) -> shardgate::config::Rules {
    let text = rules_toml(db, TABLES).replace("shardgate:shardgate@", "root@");
    shardgate::config::Rules::from_toml(&text, "root.toml").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_reaches_the_backend() {
    let db = "pv_admin";
    fresh_schema(db).await;
    // Behind the limited account, an admin's statement reaches the backend, which refuses
    // what the account may not do: the proxy does not add rights.
    let addr = start_proxy(rules(db, TABLES)).await;
    let mut admin = client_as(addr, "admin", "admin", Some(db)).await.unwrap();
    let e = admin.query_drop("CREATE USER pv_made").await.unwrap_err();
    assert_eq!(code(&e), 1227);
    assert!(e.to_string().contains("CREATE USER"), "{e}");
    assert_eq!(accounts_on(0, "pv_made").await, 0);
    let e = admin
        .query_drop("SELECT COUNT(*) FROM mysql.user")
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("'shardgate'@"),
        "the backend answered: {e}"
    );

    // Behind root, they do what they say.
    let addr = start_proxy(root_rules(db)).await;
    let mut admin = client_as(addr, "admin", "admin", Some(db)).await.unwrap();
    let mut app = client(addr, db).await;
    assert_eq!(refused(&mut app, "CREATE USER pv_made").await, 1227);
    assert_eq!(accounts_on(0, "pv_made").await, 0);
    admin.query_drop("CREATE USER pv_made").await.unwrap();
    assert_eq!(accounts_on(0, "pv_made").await, 1, "on the default shard");
    admin.query_drop("DROP USER pv_made").await.unwrap();
    let n: Option<i64> = admin
        .query_first("SELECT COUNT(*) FROM mysql.user WHERE User = 'root'")
        .await
        .unwrap();
    assert!(n.unwrap_or(0) > 0);
    admin.query_drop("FLUSH TABLES").await.unwrap();
    let status: Vec<mysql_async::Row> = admin.query("SHOW MASTER STATUS").await.unwrap();
    assert_eq!(status.len(), 1);
    // SET GLOBAL is the logical server's: every shard gets it.
    admin
        .query_drop("SET GLOBAL max_connections = 499")
        .await
        .unwrap();
    for s in 0..2 {
        let v: Option<u64> = direct(s)
            .await
            .query_first("SELECT @@global.max_connections")
            .await
            .unwrap();
        assert_eq!(v, Some(499), "shard {s}");
    }
    admin
        .query_drop("SET GLOBAL max_connections = 500")
        .await
        .unwrap();
    // What would break the proxy itself is refused to admins too, with 1235.
    for sql in ["SET PASSWORD = PASSWORD('x')", "SHUTDOWN"] {
        assert_eq!(refused(&mut admin, sql).await, 1235, "{sql}");
    }
}

/// The processlist rows `c` sees: (id, user, command, info).
async fn processlist(c: &mut Conn) -> Vec<(u64, String, String, Option<String>)> {
    let rows: Vec<mysql_async::Row> = c.query("SHOW PROCESSLIST").await.unwrap();
    rows.into_iter()
        .map(|r| {
            (
                r.get::<u64, _>(0).unwrap(),
                r.get::<String, _>(1).unwrap(),
                r.get::<String, _>(4).unwrap(),
                r.get::<Option<String>, _>(7).unwrap(),
            )
        })
        .collect()
}

async fn conn_id(c: &mut Conn) -> u64 {
    c.query_first("SELECT CONNECTION_ID()")
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processlist_lists_the_proxys_sessions() {
    let db = "pv_plist";
    let (addr, mut app1) = setup(db, TABLES).await;
    let mut app2 = client(addr, db).await;
    let mut lim = client_as(addr, "limited", "pw", Some(db)).await.unwrap();
    let mut admin = client_as(addr, "admin", "admin", Some(db)).await.unwrap();
    let (a1, a2, l, ad) = (
        conn_id(&mut app1).await,
        conn_id(&mut app2).await,
        conn_id(&mut lim).await,
        conn_id(&mut admin).await,
    );
    let ids = |rows: &[(u64, String, String, Option<String>)]| {
        let mut v: Vec<u64> = rows.iter().map(|r| r.0).collect();
        v.sort();
        v
    };
    // Without admin, a user sees its own sessions only (MySQL without PROCESS).
    let seen = processlist(&mut app1).await;
    assert_eq!(ids(&seen), vec![a1, a2]);
    let me = seen.iter().find(|r| r.0 == a1).unwrap();
    assert_eq!(
        (me.1.as_str(), me.2.as_str(), me.3.as_deref()),
        ("app", "Query", Some("SHOW PROCESSLIST"))
    );
    let other = seen.iter().find(|r| r.0 == a2).unwrap();
    assert_eq!((other.2.as_str(), other.3.as_deref()), ("Sleep", None));
    assert_eq!(ids(&processlist(&mut lim).await), vec![l]);
    // An admin sees every session, and no backend thread.
    let all = processlist(&mut admin).await;
    let mut want = vec![a1, a2, l, ad];
    want.sort();
    assert_eq!(ids(&all), want);
    assert!(all.iter().all(|r| r.1 != "shardgate" && r.1 != "root"));
    // information_schema.PROCESSLIST is the same list, queryable like a table.
    let rows: Vec<(u64, String)> = app2
        .query("SELECT ID, USER FROM information_schema.PROCESSLIST ORDER BY ID")
        .await
        .unwrap();
    assert_eq!(rows, vec![(a1, "app".into()), (a2, "app".into())]);
    let n: Option<i64> = admin
        .query_first("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'limited'")
        .await
        .unwrap();
    assert_eq!(n, Some(1));
    let full: Vec<mysql_async::Row> = admin.query("SHOW FULL PROCESSLIST").await.unwrap();
    assert_eq!(full.len(), 4);
    // The list follows the sessions: a closed one is gone.
    drop(lim);
    let start = Instant::now();
    while ids(&processlist(&mut admin).await).contains(&l) {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "session {l} stays listed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether row `id` of `db.table` on shard `s` is locked by some transaction (a locking read
/// that may not wait fails).
async fn locked(s: usize, db: &str, table: &str, id: i64) -> bool {
    let sql = format!("SELECT id FROM `{db}`.`{table}` WHERE id = ? FOR UPDATE NOWAIT");
    let r: mysql_async::Result<Option<i64>> = direct(s).await.exec_first(sql, (id,)).await;
    r.is_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_connection_ends_the_client_and_rolls_back() {
    let db = "pv_kill";
    let (addr, mut victim) = setup(db, TABLES).await;
    victim
        .query_drop("CREATE TABLE items (id BIGINT PRIMARY KEY)")
        .await
        .unwrap();
    victim
        .query_drop("CREATE TABLE notes (id BIGINT PRIMARY KEY)")
        .await
        .unwrap();
    let id = conn_id(&mut victim).await;
    victim.query_drop("BEGIN").await.unwrap();
    victim
        .query_drop("INSERT INTO items (id) VALUES (1), (2)")
        .await
        .unwrap();
    victim
        .query_drop("INSERT INTO notes (id) VALUES (7)")
        .await
        .unwrap();
    // id 1 lives on s1, id 2 on s0 (hash), notes on the default shard s0.
    assert!(locked(1, db, "items", 1).await && locked(0, db, "items", 2).await);
    assert!(locked(0, db, "notes", 7).await);
    // Another user may not; an unknown id is 1094.
    let mut lim = client_as(addr, "limited", "pw", Some(db)).await.unwrap();
    assert_eq!(refused(&mut lim, &format!("KILL {id}")).await, 1095);
    assert_eq!(refused(&mut lim, &format!("KILL QUERY {id}")).await, 1095);
    assert_eq!(refused(&mut lim, "KILL 999999").await, 1094);
    // The same user (or an admin) may.
    let mut killer = client(addr, db).await;
    killer
        .query_drop(format!("KILL CONNECTION {id}"))
        .await
        .unwrap();
    let e = victim.query_drop("SELECT 1").await.unwrap_err();
    assert!(
        !matches!(e, mysql_async::Error::Server(_)),
        "the victim's connection is closed: {e:?}"
    );
    // Its transaction was rolled back on both shards: no open writes, no rows, no locks.
    let start = Instant::now();
    while locked(1, db, "items", 1).await || locked(0, db, "items", 2).await {
        assert!(start.elapsed() < Duration::from_secs(5), "still locked");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for s in 0..2 {
        assert!(ids_on(s, db, "SELECT id FROM items").await.is_empty());
    }
    let mut d = direct(0).await;
    d.query_drop(format!("INSERT INTO {db}.notes (id) VALUES (7)"))
        .await
        .unwrap();
    assert!(!processlist(&mut killer).await.iter().any(|r| r.0 == id));
    // Killing oneself: MariaDB's 1927, then the connection is gone.
    let me = conn_id(&mut killer).await;
    let e = killer.query_drop(format!("KILL {me}")).await.unwrap_err();
    assert_eq!(code(&e), 1927);
    assert!(killer.query_drop("SELECT 1").await.is_err());
}

async fn wait_for_statement(admin: &mut Conn, info: &str) -> u64 {
    let start = Instant::now();
    loop {
        let id: Option<u64> = admin
            .exec_first(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO = ?",
                (info,),
            )
            .await
            .unwrap();
        if let Some(id) = id {
            return id;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "{info} never ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_query_interrupts_the_statement_and_keeps_the_session() {
    let db = "pv_killq";
    // The backend's wait is longer than the sleep: only the KILL may end the statement (under
    // load, the kill can arrive after the usual test timeout of 3 s, which would end it 2013).
    fresh_schema(db).await;
    let addr = start_proxy(rules_with(db, "backend_timeout_ms = 30000", TABLES)).await;
    let mut c = client(addr, db).await;
    c.query_drop("CREATE TABLE items (id BIGINT PRIMARY KEY)")
        .await
        .unwrap();
    let mut admin = client_as(addr, "admin", "admin", Some(db)).await.unwrap();
    c.query_drop("BEGIN").await.unwrap();
    c.query_drop("INSERT INTO items (id) VALUES (3)")
        .await
        .unwrap();
    let sleeper = tokio::spawn(async move {
        let started = Instant::now();
        let r = c.query_drop("SELECT SLEEP(20) FROM items").await;
        (c, r, started.elapsed())
    });
    let id = wait_for_statement(&mut admin, "SELECT SLEEP(20) FROM items").await;
    admin.query_drop(format!("KILL QUERY {id}")).await.unwrap();
    let (mut c, r, took) = sleeper.await.unwrap();
    // MariaDB's answer to an interrupted statement, long before the sleep would end.
    assert_eq!(code(&r.unwrap_err()), 1317);
    assert!(took < Duration::from_secs(10), "{took:?}");
    // As in MySQL, the session and its transaction go on.
    c.query_drop("INSERT INTO items (id) VALUES (4)")
        .await
        .unwrap();
    c.query_drop("COMMIT").await.unwrap();
    let mut all = ids_on(0, db, "SELECT id FROM items").await;
    all.extend(ids_on(1, db, "SELECT id FROM items").await);
    all.sort();
    assert_eq!(all, vec![3, 4]);
}

async fn grants(c: &mut Conn, sql: &str) -> Vec<String> {
    c.query(sql).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_grants_shows_the_rules_view() {
    let db = "pv_grants";
    let (addr, mut app) = setup(db, TABLES).await;
    let app_grants = vec![
        "GRANT USAGE ON *.* TO `app`@`%`".to_string(),
        format!("GRANT ALL PRIVILEGES ON `{db}_other`.* TO `app`@`%`"),
        format!("GRANT ALL PRIVILEGES ON `{db}`.* TO `app`@`%`"),
    ];
    assert_eq!(grants(&mut app, "SHOW GRANTS").await, app_grants);
    assert_eq!(
        grants(&mut app, "SHOW GRANTS FOR CURRENT_USER()").await,
        app_grants
    );
    assert_eq!(grants(&mut app, "SHOW GRANTS FOR app").await, app_grants);
    assert_eq!(refused(&mut app, "SHOW GRANTS FOR admin").await, 1044);
    let mut lim = client_as(addr, "limited", "pw", Some(db)).await.unwrap();
    assert_eq!(
        grants(&mut lim, "SHOW GRANTS").await,
        vec![
            "GRANT USAGE ON *.* TO `limited`@`%`".to_string(),
            format!("GRANT ALL PRIVILEGES ON `{db}`.* TO `limited`@`%`"),
        ]
    );
    let mut admin = client_as(addr, "admin", "admin", Some(db)).await.unwrap();
    assert_eq!(
        grants(&mut admin, "SHOW GRANTS").await,
        vec!["GRANT ALL PRIVILEGES ON *.* TO `admin`@`%`".to_string()]
    );
    assert_eq!(
        grants(&mut admin, "SHOW GRANTS FOR 'limited'@'%'")
            .await
            .len(),
        2
    );
    assert_eq!(refused(&mut admin, "SHOW GRANTS FOR nobody").await, 1141);
    // The column is named as MySQL names it; the backend account's grants never show.
    let rows: Vec<mysql_async::Row> = app.query("SHOW GRANTS").await.unwrap();
    assert_eq!(rows[0].columns_ref()[0].name_str(), "Grants for app@%");
    // The privilege views of information_schema say the same.
    let privs: Vec<(String, String)> = app
        .query("SELECT GRANTEE, PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES")
        .await
        .unwrap();
    assert_eq!(privs, vec![("'app'@'%'".into(), "USAGE".into())]);
    let n: Option<i64> = lim
        .query_first(
            "SELECT COUNT(DISTINCT TABLE_SCHEMA) FROM information_schema.SCHEMA_PRIVILEGES",
        )
        .await
        .unwrap();
    assert_eq!(n, Some(1));
    let roles: Vec<String> = app
        .query("SELECT ROLE_NAME FROM information_schema.ENABLED_ROLES")
        .await
        .unwrap();
    assert!(roles.is_empty());
}

/// `EXPLAIN SHARDS statement`: an admin sees the plan the proxy makes (as `shardgate route`
/// prints it) and nothing runs; anyone else gets 1227.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_shards_shows_the_plan_to_admins_only() {
    let db = "pv_explain";
    fresh_schema(db).await;
    let rules = rules(db, TABLES);
    let addr = start_proxy(rules.clone()).await;
    let mut admin = client_as(addr, "admin", "admin", Some(db)).await.unwrap();
    admin
        .query_drop("CREATE TABLE items (id INT PRIMARY KEY, v INT)")
        .await
        .unwrap();
    for sql in [
        "SELECT v FROM items WHERE id = 5",
        "SELECT v FROM items ORDER BY v LIMIT 3",
        "DELETE FROM items WHERE id IN (1, 2)",
        "SET autocommit = 0",
    ] {
        let got: Vec<String> = admin
            .query(format!("EXPLAIN SHARDS {sql}"))
            .await
            .unwrap_or_else(|e| panic!("EXPLAIN SHARDS {sql}: {e}"));
        let want = shardgate::route::preview::explain(&rules, Some(db), sql).unwrap();
        assert_eq!(got.join("\n") + "\n", want, "{sql}");
        assert!(got.len() >= 2 || sql.starts_with("SET"), "{sql}: {got:?}");
    }
    // The DELETE was only explained.
    admin
        .query_drop("INSERT INTO items VALUES (1, 1), (2, 2)")
        .await
        .unwrap();
    let _: Vec<String> = admin
        .query("explain shards DELETE FROM items WHERE id IN (1, 2)")
        .await
        .unwrap();
    let n: Option<i64> = admin
        .query_first("SELECT COUNT(*) FROM items")
        .await
        .unwrap();
    assert_eq!(n, Some(2));
    // Errors are the statement's own.
    let e = admin
        .query_drop("EXPLAIN SHARDS SELECT * FROM nowhere.t")
        .await
        .unwrap_err();
    assert_eq!(code(&e), 1049);
    let e = admin.query_drop("EXPLAIN SHARDS").await.unwrap_err();
    assert_eq!(code(&e), 1064);
    let mut app = client(addr, db).await;
    assert_eq!(
        refused(&mut app, "EXPLAIN SHARDS SELECT v FROM items WHERE id = 5").await,
        1227
    );
    // Plain EXPLAIN still reaches the backend.
    let rows: Vec<mysql_async::Row> = app
        .query("EXPLAIN SELECT v FROM items WHERE id = 5")
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
}
