//! The proxy's own backend connection (`backend::wire`) against a real MariaDB: every answer
//! compared with what mysql_async (the client the rest of the proxy was checked with) reads
//! from the same server for the same statement.

mod common;

use common::plain_server;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder, Value};
use shardgate::backend::wire::{Answer, ConnectOpts, RawRows, WireConn};
use shardgate::error::ProxyError;
use shardgate::frontend::packets::ColumnDef;

fn opts(db: Option<&str>) -> ConnectOpts {
    let o = Opts::from_url(&plain_server().primary_url(0)).expect("url");
    ConnectOpts {
        db: db.map(str::to_string),
        ..ConnectOpts::from_opts(&o)
    }
}

async fn wire(db: Option<&str>) -> WireConn {
    WireConn::connect("plain", &opts(db))
        .await
        .expect("connect")
}

async fn reference(db: &str) -> Conn {
    let o = Opts::from_url(&plain_server().primary_url(0)).expect("url");
    Conn::new(
        OptsBuilder::from_opts(o)
            .prefer_socket(false)
            .db_name(Some(db)),
    )
    .await
    .expect("reference connection")
}

/// Creates database `db` with a table of many column types and a few rows.
async fn fixture(db: &str) {
    let mut c = common::plain(db).await;
    c.query_drop(
        "CREATE TABLE t (id INT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, \
         bu BIGINT UNSIGNED, f FLOAT, d DOUBLE, dec1 DECIMAL(10,3), s VARCHAR(20), \
         b VARBINARY(10), dt DATETIME(6), da DATE, tm TIME(3), y YEAR, j JSON, e ENUM('a','b'), \
         bit1 BIT(5), bl BLOB)",
    )
    .await
    .unwrap();
    c.query_drop(
        "INSERT INTO t VALUES \
         (1, -5, 250, 18446744073709551615, 1.5, -2.25, 12.345, 'héllo', x'00ff', \
          '2024-02-29 13:14:15.123456', '2024-02-29', '-838:59:58.5', 2024, '{\"a\": 1}', 'b', b'10101', 'blob'), \
         (2, NULL, NULL, 7, NULL, NULL, NULL, '', x'', '1000-01-01 00:00:00', '9999-12-31', '00:00:00', NULL, NULL, NULL, NULL, NULL), \
         (3, 127, 0, 0, -0.0, 1e300, -0.001, 'x', NULL, NULL, NULL, '12:00:00', 1901, '[]', 'a', b'0', '')",
    )
    .await
    .unwrap();
}

/// Every row of `sql` through mysql_async: columns and values.
async fn reference_rows(
    c: &mut Conn,
    sql: &str,
    params: Option<Vec<Value>>,
) -> (Vec<ColumnDef>, Vec<Vec<Value>>) {
    let rows: Vec<mysql_async::Row> = match params {
        None => c.query(sql).await.unwrap(),
        Some(p) => c.exec(sql, p).await.unwrap(),
    };
    let cols = rows
        .first()
        .map(|r| {
            r.columns_ref()
                .iter()
                .map(ColumnDef::from_backend)
                .collect()
        })
        .unwrap_or_default();
    let values = rows
        .into_iter()
        .map(|r| {
            r.unwrap_raw()
                .into_iter()
                .map(|v| v.unwrap_or(Value::NULL))
                .collect()
        })
        .collect();
    (cols, values)
}

/// Every row of the current result through the wire connection.
async fn read_all(w: &mut WireConn) -> RawRows {
    let mut rows = RawRows::default();
    while w.read_rows(&mut rows, usize::MAX).await.unwrap().is_none() {}
    rows
}

#[tokio::test]
async fn text_and_binary_rows_read_as_mysql_async_reads_them() {
    fixture("wire_types").await;
    let mut r = reference("wire_types").await;
    let mut w = wire(Some("wire_types")).await;
    // MariaDB's "5.5.5-" prefix is taken off: the version is what the server is (the proxy
    // tells MySQL from MariaDB by its major number).
    let version = w.server_version().to_string();
    assert!(version.contains("MariaDB"), "{version}");
    assert!(
        version.starts_with("10.") || version.starts_with("11."),
        "{version}"
    );
    let sql = "SELECT * FROM t ORDER BY id";

    // Text protocol.
    let (ref_cols, ref_rows) = reference_rows(&mut r, sql, None).await;
    let Answer::Rows(cols) = w.query(sql).await.unwrap() else {
        panic!("rows expected")
    };
    assert_eq!(&cols[..], &ref_cols[..]);
    let rows = read_all(&mut w).await;
    assert_eq!(rows.len(), 3);
    assert_eq!(rows.text_values(cols.len()).unwrap(), ref_rows);
    assert!(w.is_ready());

    // Binary protocol, with parameters of every kind.
    let psql = "SELECT *, ? AS p1, ? AS p2, ? AS p3, ? AS p4, ? AS p5, ? AS p6, ? AS p7 \
                FROM t WHERE id >= ? ORDER BY id";
    let params = vec![
        Value::Int(-42),
        Value::UInt(u64::MAX),
        Value::Bytes("naïve".as_bytes().to_vec()),
        Value::Double(0.125),
        Value::Date(2020, 1, 2, 3, 4, 5, 6),
        Value::Time(true, 1, 2, 3, 4, 0),
        Value::NULL,
        Value::Int(1),
    ];
    let (ref_cols, ref_rows) = reference_rows(&mut r, psql, Some(params.clone())).await;
    let stmt = w.prepare(psql).await.unwrap();
    assert_eq!(stmt.params, 8);
    let Answer::Rows(cols) = w.execute(&stmt, &params).await.unwrap() else {
        panic!("rows expected")
    };
    assert_eq!(&cols[..], &ref_cols[..]);
    let rows = read_all(&mut w).await;
    assert_eq!(rows.binary_values(&cols).unwrap(), ref_rows);
    // The same statement again comes from the connection's cache.
    let again = w.prepare(psql).await.unwrap();
    assert_eq!(again.id, stmt.id);

    // A wrong parameter count is refused before anything is sent.
    let e = w.execute(&stmt, &params[..2]).await.unwrap_err();
    assert_eq!(e.code(), 1210);
    assert!(w.is_ready());
}

#[tokio::test]
async fn ok_errors_warnings_and_several_results() {
    fixture("wire_ok").await;
    let mut w = wire(Some("wire_ok")).await;

    let ok = w
        .query_drop("INSERT INTO t (id, s) VALUES (10, 'a'), (11, 'b')")
        .await
        .unwrap();
    assert_eq!(ok.affected_rows, 2);
    assert_eq!(ok.info, "Records: 2  Duplicates: 0  Warnings: 0");
    let ok = w
        .query_drop("UPDATE t SET s = 'c' WHERE id >= 10")
        .await
        .unwrap();
    assert_eq!(ok.info, "Rows matched: 2  Changed: 2  Warnings: 0");

    // A server error keeps its code, state and message; the connection goes on.
    let e = w.query("SELEC 1").await.unwrap_err();
    match &e {
        ProxyError::Backend {
            code,
            state,
            message,
        } => {
            assert_eq!((*code, state.as_str()), (1064, "42000"));
            assert!(message.contains("SELEC"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(w.is_ready());
    let e = w
        .query_drop("INSERT INTO t (id) VALUES (10)")
        .await
        .unwrap_err();
    assert_eq!(e.code(), 1062);

    // Warnings are counted in the EOF packet.
    let Answer::Rows(_) = w.query("SELECT 1/0").await.unwrap() else {
        panic!("rows expected")
    };
    let mut rows = RawRows::default();
    let end = loop {
        if let Some(end) = w.read_rows(&mut rows, usize::MAX).await.unwrap() {
            break end;
        }
    };
    assert_eq!(end.warnings, 1);
    assert_eq!(rows.text_values(1).unwrap(), vec![vec![Value::NULL]]);

    // Several statements in one text: each result in turn.
    let Answer::Rows(c) = w
        .query("SELECT 1 AS a; DO 1; SELECT 'x', 'y'")
        .await
        .unwrap()
    else {
        panic!("rows expected")
    };
    assert_eq!(c.len(), 1);
    assert_eq!(
        read_all(&mut w).await.text_values(1).unwrap(),
        vec![vec![Value::Bytes(b"1".to_vec())]]
    );
    assert!(w.more_results());
    assert!(matches!(w.next_answer().await.unwrap(), Answer::Done(_)));
    let Answer::Rows(c) = w.next_answer().await.unwrap() else {
        panic!("rows expected")
    };
    assert_eq!(c.len(), 2);
    assert_eq!(read_all(&mut w).await.len(), 1);
    assert!(!w.more_results());
    assert!(w.is_ready());

    // An error in a later statement ends the command after the results before it.
    let Answer::Rows(_) = w
        .query("SELECT 1; SELECT * FROM nowhere; SELECT 2")
        .await
        .unwrap()
    else {
        panic!("rows expected")
    };
    read_all(&mut w).await;
    assert_eq!(w.next_answer().await.unwrap_err().code(), 1146);
    assert!(w.is_ready());

    // Transaction status, reset, ping, database switch.
    w.query_drop("BEGIN").await.unwrap();
    assert!(w.in_transaction());
    w.query_drop("COMMIT").await.unwrap();
    assert!(!w.in_transaction());
    w.query_drop("SET @v = 5").await.unwrap();
    w.reset().await.unwrap();
    w.ping().await.unwrap();
    let Answer::Rows(_) = w.query("SELECT @v IS NULL, DATABASE()").await.unwrap() else {
        panic!("rows expected")
    };
    assert_eq!(
        read_all(&mut w).await.text_values(2).unwrap(),
        vec![vec![
            Value::Bytes(b"1".to_vec()),
            Value::Bytes(b"wire_ok".to_vec())
        ]]
    );
    w.use_db("mysql").await.unwrap();
    assert_eq!(w.use_db("no_such_db_here").await.unwrap_err().code(), 1049);
    w.quit().await;
}

#[tokio::test]
async fn found_rows_and_login_errors() {
    fixture("wire_login").await;
    let mut plain = wire(Some("wire_login")).await;
    let mut found = WireConn::connect(
        "plain",
        &ConnectOpts {
            found_rows: true,
            ..opts(Some("wire_login"))
        },
    )
    .await
    .unwrap();
    let same = "UPDATE t SET s = s WHERE id = 1";
    assert_eq!(plain.query_drop(same).await.unwrap().affected_rows, 0);
    assert_eq!(found.query_drop(same).await.unwrap().affected_rows, 1);

    // A password-protected account, a wrong password, an unknown database.
    let mut root = reference("wire_login").await;
    root.query_drop("CREATE USER IF NOT EXISTS 'wire_u'@'127.0.0.1' IDENTIFIED BY 's3cret'")
        .await
        .unwrap();
    root.query_drop("GRANT SELECT ON wire_login.* TO 'wire_u'@'127.0.0.1'")
        .await
        .unwrap();
    let user = |password: &str, db: &str| ConnectOpts {
        user: "wire_u".into(),
        password: password.into(),
        db: Some(db.into()),
        ..opts(None)
    };
    let mut ok = WireConn::connect("plain", &user("s3cret", "wire_login"))
        .await
        .unwrap();
    assert_eq!(ok.query_drop("SELECT 1").await.unwrap().status & 2, 2);
    let e = WireConn::connect("plain", &user("wrong", "wire_login"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), 1045, "{e}");
    let e = WireConn::connect("plain", &user("s3cret", "mysql"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), 1044, "{e}");
    // A server that is not there.
    let e = WireConn::connect(
        "gone",
        &ConnectOpts {
            port: 1,
            ..opts(None)
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ProxyError::BackendLost { .. }), "{e:?}");
}

#[tokio::test]
async fn rows_come_in_batches_of_what_arrived_and_large_packets_join() {
    let mut root = common::plain("wire_large").await;
    // MariaDB's default (16 MiB) is below the statement; new connections take the global.
    root.query_drop("SET GLOBAL max_allowed_packet = 67108864")
        .await
        .unwrap();
    let mut w = wire(Some("wire_large")).await;

    // 5,000 rows read in batches of at most 100: every row once, in order.
    let Answer::Rows(_) = w.query("SELECT seq FROM seq_1_to_5000").await.unwrap() else {
        panic!("rows expected")
    };
    let mut seen = Vec::new();
    let mut batches = 0;
    loop {
        let mut rows = RawRows::default();
        let end = w.read_rows(&mut rows, 100).await.unwrap();
        assert!(rows.len() <= 100);
        batches += 1;
        for v in rows.text_values(1).unwrap() {
            let Value::Bytes(b) = &v[0] else { panic!() };
            seen.push(
                String::from_utf8(b.clone())
                    .unwrap()
                    .parse::<u32>()
                    .unwrap(),
            );
        }
        if end.is_some() {
            break;
        }
    }
    assert_eq!(seen, (1..=5000).collect::<Vec<_>>());
    assert!(batches >= 50, "{batches} batches");

    // A 17 MiB statement (sent in two packets from the caller's text) and a 17 MiB value
    // read back (joined from two packets), byte for byte.
    w.query_drop("CREATE TABLE big (id INT PRIMARY KEY, v LONGTEXT)")
        .await
        .unwrap();
    let value: String = (0..17 * 1024 * 1024)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let ok = w
        .query_drop(&format!("INSERT INTO big VALUES (1, '{value}')"))
        .await
        .unwrap();
    assert_eq!(ok.affected_rows, 1);
    let Answer::Rows(_) = w.query("SELECT v FROM big WHERE id = 1").await.unwrap() else {
        panic!("rows expected")
    };
    let rows = read_all(&mut w).await;
    assert_eq!(
        rows.text_values(1).unwrap(),
        vec![vec![Value::Bytes(value.into_bytes())]]
    );
    // And the reference agrees on its length.
    let len: Option<u64> = root
        .query_first("SELECT LENGTH(v) FROM big WHERE id = 1")
        .await
        .unwrap();
    assert_eq!(len, Some(17 * 1024 * 1024));
}

#[tokio::test]
async fn an_interrupted_read_leaves_the_connection_unusable() {
    let _ = common::plain("wire_cut").await;
    let mut w = wire(Some("wire_cut")).await;
    // The answer takes a second: the read is dropped before it comes.
    let r = tokio::time::timeout(
        std::time::Duration::from_millis(100),
        w.query("SELECT SLEEP(1)"),
    )
    .await;
    assert!(r.is_err(), "the query should not have answered yet");
    assert!(!w.is_ready());
    let e = w.query("SELECT 1").await.unwrap_err();
    assert!(matches!(e, ProxyError::BackendLost { .. }), "{e:?}");

    // A result not read to its end refuses the next command, and drain() clears it.
    let mut w = wire(Some("wire_cut")).await;
    let Answer::Rows(_) = w
        .query("SELECT seq FROM seq_1_to_100; SELECT 2")
        .await
        .unwrap()
    else {
        panic!("rows expected")
    };
    assert!(!w.is_ready());
    assert!(w.query("SELECT 1").await.is_err());
    // That refusal did not break the connection: what was left can still be read.
    w.drain().await.unwrap();
    assert!(w.is_ready());
    w.query_drop("SELECT 1").await.unwrap();
}

/// The proxy over the plain server alone (one shard, its root account), schema `db`.
async fn proxy_over_plain(db: &str, proxy: &str) -> std::net::SocketAddr {
    let text = format!(
        "listen = \"127.0.0.1:0\"\n[proxy]\n{proxy}\n\n[[users]]\nname = \"app\"\npassword = \"app\"\n\n\
         [[shards]]\nname = \"s0\"\nprimary = \"{}\"\n\n[[schemas]]\nname = \"{db}\"\ndefault_shard = \"s0\"\n",
        plain_server().primary_url(0)
    );
    let rules = shardgate::config::Rules::from_toml(&text, "wire.toml")
        .unwrap_or_else(|e| panic!("rules: {e}\n{text}"));
    common::start_proxy(rules).await
}

/// Reads outside a transaction go through the proxy's own connections, whose rows reach the
/// client as the server sent them: the same columns and values as the server gives directly,
/// in both protocols.
#[tokio::test]
async fn rows_relayed_through_the_proxy_match_the_server() {
    fixture("wire_relay").await;
    let addr = proxy_over_plain("wire_relay", "backend_timeout_ms = 5000").await;
    let mut p = common::client(addr, "wire_relay").await;
    let mut r = reference("wire_relay").await;
    for sql in [
        "SELECT * FROM t ORDER BY id",
        "SELECT id, s, dt FROM t WHERE id = 1",
        "SELECT COUNT(*), SUM(d), MAX(s) FROM t",
    ] {
        assert_eq!(
            reference_rows(&mut p, sql, None).await,
            reference_rows(&mut r, sql, None).await,
            "{sql}"
        );
    }
    let psql = "SELECT *, ? AS p FROM t WHERE id >= ? ORDER BY id";
    for params in [
        vec![Value::Bytes(b"x".to_vec()), Value::Int(1)],
        vec![Value::Double(2.5), Value::Int(3)],
        vec![Value::NULL, Value::Int(2)],
    ] {
        assert_eq!(
            reference_rows(&mut p, psql, Some(params.clone())).await,
            reference_rows(&mut r, psql, Some(params.clone())).await,
            "{params:?}"
        );
    }
    // Writes outside a transaction too: affected rows, insert ids, warnings, errors, the same
    // through the proxy as on the server (each on a table of its own).
    for (c, table) in [(&mut p, "a"), (&mut r, "a_ref")] {
        c.query_drop(format!(
            "CREATE TABLE {table} (id INT AUTO_INCREMENT PRIMARY KEY, v TINYINT)"
        ))
        .await
        .unwrap();
    }
    let mut seen = Vec::new();
    for (c, table) in [(&mut p, "a"), (&mut r, "a_ref")] {
        c.query_drop(format!("INSERT IGNORE INTO {table} (v) VALUES (1), (300)"))
            .await
            .unwrap();
        let ok = (c.affected_rows(), c.last_insert_id(), c.get_warnings());
        let warnings: Vec<(String, u16, String)> = c.query("SHOW WARNINGS").await.unwrap();
        let e = c
            .query_drop(format!("INSERT INTO {table} (id, v) VALUES (1, 1)"))
            .await
            .unwrap_err();
        seen.push((ok, warnings, common::code(&e)));
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0].0, (2, Some(1), 1));
    assert_eq!(seen[0].1[0].1, 1264);
    assert_eq!(seen[0].2, 1062);
}

/// A read that outlives the backend timeout fails with 2013, and its connection is closed, not
/// lent again: the next statements (on a pool of one) get their own answers, never the late
/// one. A client that leaves in the middle of a result leaves the connection usable too.
#[tokio::test]
async fn a_timed_out_read_never_answers_the_next_statement() {
    let _ = common::plain("wire_timeout").await;
    let addr = proxy_over_plain(
        "wire_timeout",
        "backend_timeout_ms = 700\nmax_backend_connections = 1",
    )
    .await;
    let mut c = common::client(addr, "wire_timeout").await;
    let e = c.query_drop("SELECT SLEEP(2), 'late'").await.unwrap_err();
    assert_eq!(common::code(&e), 2013, "{e}");
    for i in 0..5 {
        let v: Option<String> = c.query_first(format!("SELECT 'fresh{i}'")).await.unwrap();
        assert_eq!(v.as_deref(), Some(format!("fresh{i}").as_str()));
        let v: Option<String> = c.exec_first("SELECT ?", (format!("p{i}"),)).await.unwrap();
        assert_eq!(v.as_deref(), Some(format!("p{i}").as_str()));
    }

    // A client that reads one row of 200,000 and leaves (its runtime shut down: no orderly
    // end, the rest of the result is never read by it).
    tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut gone = common::client(addr, "wire_timeout").await;
            let mut result = gone
                .query_iter("SELECT seq, REPEAT('x', 100) FROM seq_1_to_200000")
                .await
                .unwrap();
            let first: Option<mysql_async::Row> = result.next().await.unwrap();
            assert!(first.is_some());
        });
        rt.shutdown_background();
    })
    .await
    .expect("the client's thread");
    let mut other = common::client(addr, "wire_timeout").await;
    let n: Option<i64> = other
        .query_first("SELECT COUNT(*) FROM seq_1_to_1000")
        .await
        .unwrap();
    assert_eq!(n, Some(1000));
}
