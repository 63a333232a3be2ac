//! Real clients through the proxy: the `mariadb` command-line client (batch and interactive, with
//! and without `-A`), `mariadb-admin`, PyMySQL (a Python driver with client-side interpolation and
//! implicit transactions), and mysql_async for protocol corners (COM_RESET_CONNECTION,
//! COM_STMT_SEND_LONG_DATA, binary-protocol types, status flags, warnings, CLIENT_FOUND_ROWS).

mod common;

use common::*;
use mysql_async::consts::StatusFlags;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row, Value};
use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Stdio};

const TABLES: &str = r#"
[[schemas.tables]]
names = ["t", "typed", "blobs"]
algorithm = "hash"
key = "id"
key_type = "int"

[[schemas.tables]]
names = ["py_items"]
algorithm = "hash"
key = "id"
key_type = "int"
"#;

/// Output of a finished client process.
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Run {
    fn all(&self) -> String {
        format!("--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr)
    }
}

/// Runs `program args` with `input` on stdin, bounded by `timeout 120` so a client waiting on a
/// proxy that never answers fails the test instead of hanging it.
fn run(program: &str, args: &[String], input: &str) -> Run {
    let mut child = Command::new("timeout")
        .arg("120")
        .arg(program)
        .args(args)
        .env("TERM", "dumb")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} runs (make deps installs it): {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn cli_args(addr: SocketAddr, extra: &[&str]) -> Vec<String> {
    let mut a = vec![
        "--no-defaults".to_string(),
        "--protocol=TCP".into(),
        "-h127.0.0.1".into(),
        format!("-P{}", addr.port()),
        "-uapp".into(),
        "-papp".into(),
    ];
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// The `mariadb` client in batch mode (stdin is a pipe), tab-separated output.
fn mariadb_batch(addr: SocketAddr, db: &str, script: &str) -> Run {
    run("mariadb", &cli_args(addr, &[db]), script)
}

/// The `mariadb` client in interactive mode: `script` gives it a terminal, so it prints the
/// welcome banner (`SELECT @@version_comment LIMIT 1`) and, without `-A`, reads every table's
/// columns with COM_FIELD_LIST for name completion.
fn mariadb_interactive(addr: SocketAddr, db: &str, extra: &[&str], input: &str) -> Run {
    let mut words = vec!["mariadb".to_string()];
    words.extend(cli_args(addr, extra));
    words.push(db.to_string());
    let cmd = words.join(" ");
    let r = run("script", &["-qec".into(), cmd, "/dev/null".into()], input);
    // Drop the terminal's colour escapes so assertions read plain text.
    let mut plain = String::with_capacity(r.stdout.len());
    let mut chars = r.stdout.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch == '\u{1b}' {
            match chars.next() {
                Some('[') => {
                    for c in chars.by_ref() {
                        if c.is_ascii_alphabetic() {
                            break;
                        }
                    }
                }
                Some('(') => {
                    chars.next();
                }
                _ => {}
            }
        } else if ch != '\r' {
            plain.push(ch);
        }
    }
    Run { stdout: plain, ..r }
}

fn assert_has(r: &Run, needles: &[&str]) {
    for n in needles {
        assert!(
            r.stdout.contains(n),
            "expected {n:?} in the output:\n{}",
            r.all()
        );
    }
}

async fn proxy_for(db: &str) -> SocketAddr {
    fresh_schema(db).await;
    start_proxy(rules(db, TABLES)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_cli_batch_mode() {
    let db = "cli_batch";
    let addr = proxy_for(db).await;
    let script = format!(
        "SELECT @@version_comment LIMIT 1;\n\
         CREATE TABLE t (id BIGINT PRIMARY KEY, name VARCHAR(20), amount DECIMAL(10,2));\n\
         INSERT INTO t (id, name, amount) VALUES (1, 'one', 1.50), (2, 'two', 2.25), (3, 'three', 3.00);\n\
         SHOW DATABASES;\n\
         SHOW TABLES;\n\
         SHOW CREATE TABLE t;\n\
         SHOW COLUMNS FROM t;\n\
         DESCRIBE t;\n\
         SELECT DATABASE();\n\
         SELECT id, name, amount FROM t ORDER BY id;\n\
         SELECT 'marker1'; SELECT 'marker2';\n\
         delimiter //\n\
         SELECT 'multi1' AS m; SELECT 'multi2' AS m//\n\
         delimiter ;\n\
         USE {db}_other\n\
         SELECT DATABASE();\n\
         USE {db}\n\
         SELECT name FROM t WHERE id = 2;\n"
    );
    let r = mariadb_batch(addr, db, &script);
    assert!(r.ok, "mariadb exited with an error:\n{}", r.all());
    assert_has(
        &r,
        &[
            "@@version_comment\n",
            "Database\n",
            &format!("\n{db}\n"),
            &format!("\n{db}_other\n"),
            &format!("Tables_in_{db}\nt\n"),
            "t\tCREATE TABLE `t` (",
            "Field\tType\tNull\tKey\tDefault\tExtra\nid\tbigint(20)\tNO\tPRI\tNULL\t\n",
            "name\tvarchar(20)\tYES\t\tNULL\t\n",
            "amount\tdecimal(10,2)\tYES\t\tNULL\t\n",
            &format!("DATABASE()\n{db}\n"),
            "id\tname\tamount\n1\tone\t1.50\n2\ttwo\t2.25\n3\tthree\t3.00\n",
            "marker1\nmarker1\nmarker2\nmarker2\n",
            "m\nmulti1\nm\nmulti2\n",
            &format!("DATABASE()\n{db}_other\n"),
            "name\ntwo\n",
        ],
    );
    // Placement follows the rule (hash of an int key: id mod 2).
    assert_eq!(ids_on(0, db, "SELECT id FROM t").await, vec![2]);
    assert_eq!(ids_on(1, db, "SELECT id FROM t").await, vec![1, 3]);

    // An error keeps its code and stops the batch, as against a server.
    let r = mariadb_batch(addr, db, "SELECT * FROM missing_table;\n");
    assert!(!r.ok);
    assert!(r.stderr.contains("ERROR 1146"), "{}", r.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_cli_interactive_with_and_without_completion() {
    let db = "cli_tty";
    let addr = proxy_for(db).await;
    let mut c = client(addr, db).await;
    c.query_drop("CREATE TABLE t (id BIGINT PRIMARY KEY, name VARCHAR(20))")
        .await
        .unwrap();
    c.query_drop("INSERT INTO t (id, name) VALUES (1, 'alpha'), (2, 'beta')")
        .await
        .unwrap();
    let input = format!(
        "SHOW TABLES;\n\
         use {db}_other\n\
         SELECT DATABASE();\n\
         use {db}\n\
         SELECT id, name FROM t ORDER BY id;\n\
         INSERT INTO t (id, name) VALUES (4, 'delta');\n\
         SELECT name FROM t WHERE id = 4;\n\
         status\n\
         quit\n"
    );
    for extra in [&[][..], &["-A"][..]] {
        let r = mariadb_interactive(addr, db, extra, &input);
        assert!(r.ok, "mariadb {extra:?} exited with an error:\n{}", r.all());
        assert!(
            !r.stdout.contains("ERROR"),
            "mariadb {extra:?} reported an error:\n{}",
            r.all()
        );
        if extra.is_empty() {
            assert_has(&r, &["Reading table information for completion"]);
        }
        assert_has(
            &r,
            &[
                "Welcome to the MariaDB monitor",
                "Server version: 5.7.99-shardgate-0.1",
                "| t ",
                "Database changed",
                &format!("| {db}_other "),
                "|  1 | alpha |",
                "|  2 | beta  |",
                "Query OK, 1 row affected",
                "| delta |",
                "Uptime:",
                "Bye",
            ],
        );
        c.query_drop("DELETE FROM t WHERE id = 4").await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_admin_ping_and_status() {
    let addr = proxy_for("cli_admin").await;
    let r = run("mariadb-admin", &cli_args(addr, &["ping"]), "");
    assert!(r.ok, "{}", r.all());
    assert!(r.stdout.contains("is alive"), "{}", r.all());
    let r = run("mariadb-admin", &cli_args(addr, &["status"]), "");
    assert!(r.ok, "{}", r.all());
    assert!(
        r.stdout.starts_with("Uptime: ") && r.stdout.contains("Questions: "),
        "COM_STATISTICS answer:\n{}",
        r.all()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pymysql_types_transactions_and_rowcount() {
    let import = Command::new("python3")
        .args(["-c", "import pymysql"])
        .output()
        .expect("python3 runs");
    assert!(
        import.status.success(),
        "PyMySQL is not installed for python3: run `make deps` (it installs it). {}",
        String::from_utf8_lossy(&import.stderr)
    );
    let db = "py_client";
    let addr = proxy_for(db).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pymysql_client.py");
    let port = addr.port().to_string();
    let out = tokio::process::Command::new("timeout")
        .args(["120", "python3", script, "127.0.0.1", &port, db])
        .output()
        .await
        .expect("python3 runs");
    let text = format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the PyMySQL script failed:\n{text}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    for line in [
        "inserted 10",
        "types ok",
        "rowcount ok",
        "found rows ok",
        "transactions ok",
        "ping ok",
        "version 5.7.99-shardgate-0.1",
        "done",
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "missing {line:?}:\n{text}"
        );
    }
    // The rows really are where the rule puts them, with the updates committed.
    assert_eq!(
        ids_on(0, db, "SELECT id FROM py_items").await,
        vec![2, 4, 6, 8, 10]
    );
    assert_eq!(
        ids_on(1, db, "SELECT id FROM py_items").await,
        vec![1, 3, 5, 7, 9]
    );
    let mut d = direct(0).await;
    let price: String = d
        .query_first(format!("SELECT price FROM `{db}`.py_items WHERE id = 4"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(price, "5.50");
}

fn status_of(c: &Conn) -> StatusFlags {
    c.last_ok_packet()
        .expect("an OK packet was received")
        .status_flags()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_connection_rolls_back_and_restores_autocommit() {
    let db = "ma_reset";
    let addr = proxy_for(db).await;
    let mut c = client(addr, db).await;
    c.query_drop("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(10))")
        .await
        .unwrap();
    c.query_drop("SET autocommit = 0").await.unwrap();
    assert!(!status_of(&c).contains(StatusFlags::SERVER_STATUS_AUTOCOMMIT));
    c.query_drop("INSERT INTO t (id, v) VALUES (1, 'a')")
        .await
        .unwrap();
    assert!(status_of(&c).contains(StatusFlags::SERVER_STATUS_IN_TRANS));
    assert_eq!(ids_on(1, db, "SELECT id FROM t").await, Vec::<i64>::new());
    assert!(c.reset().await.unwrap(), "COM_RESET_CONNECTION supported");
    assert_eq!(
        ids_on(1, db, "SELECT id FROM t").await,
        Vec::<i64>::new(),
        "the reset rolled the open transaction back"
    );
    let n: i64 = c
        .query_first("SELECT COUNT(*) FROM t")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 0);
    // Autocommit is on again: this insert is visible on the shard at once.
    c.query_drop("INSERT INTO t (id, v) VALUES (2, 'b')")
        .await
        .unwrap();
    let st = status_of(&c);
    assert!(st.contains(StatusFlags::SERVER_STATUS_AUTOCOMMIT), "{st:?}");
    assert!(!st.contains(StatusFlags::SERVER_STATUS_IN_TRANS), "{st:?}");
    assert_eq!(ids_on(0, db, "SELECT id FROM t").await, vec![2]);
    // Prepared statements of the session are gone after a reset, and new ones work.
    let s = c.prep("SELECT v FROM t WHERE id = ?").await.unwrap();
    let v: Option<String> = c.exec_first(&s, (2,)).await.unwrap();
    assert_eq!(v.as_deref(), Some("b"));
    c.reset().await.unwrap();
    let err = c.exec_first::<String, _, _>(&s, (2,)).await.unwrap_err();
    assert_eq!(code(&err), 1243, "unknown prepared statement handler");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_data_parameter_round_trips() {
    let db = "ma_long";
    // The shards must accept what the proxy forwards (itself as long data: > 16 MiB).
    // Replicas too: reads of the blob go to them.
    for s in 0..2 {
        direct(s)
            .await
            .query_drop("SET GLOBAL max_allowed_packet = 67108864")
            .await
            .unwrap();
        for r in 0..cluster().replica_urls(s).len() {
            cluster()
                .query(s, Some(r), "SET GLOBAL max_allowed_packet = 67108864")
                .expect("replica max_allowed_packet");
        }
    }
    let addr = proxy_for(db).await;
    let mut c = client(addr, db).await;
    // mysql_common's ComStmtExecuteRequestBuilder::build sends every bytes parameter with
    // COM_STMT_SEND_LONG_DATA when the execute packet would exceed MAX_PAYLOAD_LEN (16 MiB - 1):
    // 10 + bitmap + 1 + 2 per param + lenenc(len) + len. 17 MiB is well past it.
    let big: Vec<u8> = (0..17 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let got: Option<(u64, Vec<u8>)> = c
        .exec_first("SELECT LENGTH(?), MD5(?)", (big.clone(), big.clone()))
        .await
        .unwrap();
    let (len, md5) = got.unwrap();
    assert_eq!(len, big.len() as u64);
    let want: Option<Vec<u8>> = direct(0)
        .await
        .exec_first("SELECT MD5(?)", (big.clone(),))
        .await
        .unwrap();
    assert_eq!(Some(md5), want);
    // A long parameter and a routed key: the row lands on the key's shard and reads back whole.
    c.query_drop("CREATE TABLE blobs (id BIGINT PRIMARY KEY, data LONGBLOB)")
        .await
        .unwrap();
    c.exec_drop(
        "INSERT INTO blobs (id, data) VALUES (?, ?)",
        (3, big.clone()),
    )
    .await
    .unwrap();
    assert_eq!(ids_on(1, db, "SELECT id FROM blobs").await, vec![3]);
    let back: Option<Vec<u8>> = c
        .exec_first("SELECT data FROM blobs WHERE id = ?", (3,))
        .await
        .unwrap();
    assert!(back == Some(big), "the blob came back changed");
    // The text protocol: a 17 MiB statement (COM_QUERY split into packets by the client), and
    // the row it wrote read back as text (split into packets by the proxy).
    let text: String = (0..17 * 1024 * 1024)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    c.query_drop(format!("INSERT INTO blobs (id, data) VALUES (6, '{text}')"))
        .await
        .unwrap();
    assert_eq!(ids_on(0, db, "SELECT id FROM blobs").await, vec![6]);
    let back: Option<String> = c
        .query_first("SELECT data FROM blobs WHERE id = 6")
        .await
        .unwrap();
    assert!(
        back.as_deref() == Some(text.as_str()),
        "the text came back changed"
    );
    // The same statement with a small value goes in one execute packet.
    c.exec_drop(
        "INSERT INTO blobs (id, data) VALUES (?, ?)",
        (4, vec![1u8, 2, 3]),
    )
    .await
    .unwrap();
    let small: Option<Vec<u8>> = c
        .exec_first("SELECT data FROM blobs WHERE id = ?", (4,))
        .await
        .unwrap();
    assert_eq!(small, Some(vec![1, 2, 3]));
}

/// Column metadata the client decodes by: type, flags, charset, decimals, length.
fn meta(row: &Row) -> Vec<String> {
    row.columns_ref()
        .iter()
        .map(|c| {
            format!(
                "{} {:?} {:?} cs={} dec={} len={}",
                c.name_str(),
                c.column_type(),
                c.flags(),
                c.character_set(),
                c.decimals(),
                c.column_length()
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_protocol_types_match_a_direct_connection() {
    let db = "ma_types";
    let addr = proxy_for(db).await;
    let mut c = client(addr, db).await;
    c.query_drop(
        "CREATE TABLE typed (id BIGINT PRIMARY KEY, dt DATETIME(6), dt0 DATETIME, d DATE, \
         tm TIME, tm3 TIME(3), dbl DOUBLE, ub BIGINT UNSIGNED, n INT NULL, ti TINYINT, \
         dec2 DECIMAL(10,2), vb VARBINARY(8), s VARCHAR(10))",
    )
    .await
    .unwrap();
    c.query_drop(
        "INSERT INTO typed (id, dt, dt0, d, tm, tm3, dbl, ub, n, ti, dec2, vb, s) VALUES \
         (1, '2026-11-22 10:20:30.123456', '2026-01-01 00:00:00', '2026-02-28', '12:34:56', \
          '-838:59:59.000', 3.25, 18446744073709551615, NULL, -5, -12.30, X'00FF80', 'héllo'), \
         (2, '1999-12-31 23:59:59.000001', '2000-01-01 12:00:00', '1000-01-01', '00:00:00', \
          '100:00:00.5', -1e300, 0, 7, 127, 0.01, X'', ''), \
         (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    )
    .await
    .unwrap();
    let cols = "id, dt, dt0, d, tm, tm3, dbl, ub, n, ti, dec2, vb, s";
    let one = format!("SELECT {cols} FROM typed WHERE id = ?");
    for id in [1i64, 2, 3] {
        let mut d = direct((id % 2) as usize).await;
        d.query_drop(format!("USE {db}")).await.unwrap();
        let want: Row = d.exec_first(&one, (id,)).await.unwrap().unwrap();
        let got: Row = c.exec_first(&one, (id,)).await.unwrap().unwrap();
        assert_eq!(meta(&got), meta(&want), "column definitions, id {id}");
        assert_eq!(
            got.clone().unwrap(),
            want.clone().unwrap(),
            "binary values, id {id}"
        );
        // The text protocol carries the same values as text.
        let tq = format!("SELECT {cols} FROM typed WHERE id = {id}");
        let want_t: Row = d.query_first(&tq).await.unwrap().unwrap();
        let got_t: Row = c.query_first(&tq).await.unwrap().unwrap();
        assert_eq!(got_t.unwrap(), want_t.unwrap(), "text values, id {id}");
    }
    // A scatter read merged by the proxy keeps the binary encodings too.
    let all = format!("SELECT {cols} FROM typed ORDER BY id");
    let got: Vec<Row> = c.exec(&all, ()).await.unwrap();
    let mut want: Vec<Vec<Value>> = Vec::new();
    for s in 0..2 {
        let mut d = direct(s).await;
        d.query_drop(format!("USE {db}")).await.unwrap();
        let rows: Vec<Row> = d.exec(&all, ()).await.unwrap();
        want.extend(rows.into_iter().map(Row::unwrap));
    }
    want.sort_by_key(|r| match r[0] {
        Value::Int(i) => i,
        _ => i64::MAX,
    });
    let got: Vec<Vec<Value>> = got.into_iter().map(Row::unwrap).collect();
    assert_eq!(got, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_flags_and_warnings_are_relayed() {
    let db = "ma_status";
    let addr = proxy_for(db).await;
    let mut c = client(addr, db).await;
    c.query_drop("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(3))")
        .await
        .unwrap();
    c.query_drop("BEGIN").await.unwrap();
    let st = status_of(&c);
    assert!(st.contains(StatusFlags::SERVER_STATUS_IN_TRANS), "{st:?}");
    c.query_drop("INSERT INTO t (id, v) VALUES (1, 'a')")
        .await
        .unwrap();
    assert!(status_of(&c).contains(StatusFlags::SERVER_STATUS_IN_TRANS));
    c.query_drop("COMMIT").await.unwrap();
    let st = status_of(&c);
    assert!(!st.contains(StatusFlags::SERVER_STATUS_IN_TRANS), "{st:?}");
    assert!(st.contains(StatusFlags::SERVER_STATUS_AUTOCOMMIT), "{st:?}");

    // INSERT IGNORE truncating a value warns even in strict mode (1265 Data truncated).
    c.query_drop("INSERT IGNORE INTO t (id, v) VALUES (2, 'abcdef')")
        .await
        .unwrap();
    assert_eq!(c.get_warnings(), 1, "warnings of an OK packet");
    c.exec_drop("INSERT IGNORE INTO t (id, v) VALUES (?, ?)", (4, "abcdef"))
        .await
        .unwrap();
    assert_eq!(c.get_warnings(), 1, "warnings of a prepared statement's OK");
    // Warnings of a result set travel in its final EOF/OK: SELECT 1/0 (1365 Division by 0).
    let mut d = direct(0).await;
    d.query_drop("SELECT 1/0").await.unwrap();
    assert_eq!(d.get_warnings(), 1, "MariaDB itself warns");
    let v: Option<Option<i64>> = c.query_first("SELECT 1/0").await.unwrap();
    assert_eq!(v, Some(None));
    assert_eq!(c.get_warnings(), 1, "warnings of a result set");
    let v: Option<Option<i64>> = c.exec_first("SELECT 1/0", ()).await.unwrap();
    assert_eq!(v, Some(None));
    assert_eq!(c.get_warnings(), 1, "warnings of a binary result set");
    c.query_drop("SELECT 1").await.unwrap();
    assert_eq!(c.get_warnings(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_found_rows_is_per_client() {
    let db = "ma_found";
    let addr = proxy_for(db).await;
    let mut changed = client(addr, db).await;
    let mut found = Conn::new(proxy_opts(addr, db).client_found_rows(true))
        .await
        .unwrap();
    changed
        .query_drop("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(10))")
        .await
        .unwrap();
    changed
        .query_drop("INSERT INTO t (id, v) VALUES (1, 'a'), (2, 'a'), (3, 'a')")
        .await
        .unwrap();
    for _ in 0..2 {
        // Interleaved, so a shared backend connection would leak one client's flag to the other.
        found
            .query_drop("UPDATE t SET v = 'a' WHERE id = 1")
            .await
            .unwrap();
        assert_eq!(found.affected_rows(), 1, "CLIENT_FOUND_ROWS: matched rows");
        changed
            .query_drop("UPDATE t SET v = 'a' WHERE id = 1")
            .await
            .unwrap();
        assert_eq!(changed.affected_rows(), 0, "default: changed rows");
        found
            .exec_drop("UPDATE t SET v = ? WHERE id IN (1, 2, 3)", ("a",))
            .await
            .unwrap();
        assert_eq!(found.affected_rows(), 3, "matched rows over both shards");
        changed
            .exec_drop("UPDATE t SET v = ? WHERE id IN (1, 2, 3)", ("a",))
            .await
            .unwrap();
        assert_eq!(changed.affected_rows(), 0);
    }
    // Inside a transaction (pinned connections) too.
    found.query_drop("BEGIN").await.unwrap();
    found
        .query_drop("UPDATE t SET v = 'a' WHERE id = 2")
        .await
        .unwrap();
    assert_eq!(found.affected_rows(), 1);
    found.query_drop("COMMIT").await.unwrap();
}
