//! Test harness: one real MariaDB cluster per test binary (started by the sandbox, killed with
//! the process), the proxy in-process on a free port, and direct connections to each shard.
#![allow(dead_code)]

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder};
use shardgate::config::Rules;
use shardgate::sandbox::{Sandbox, SandboxSpec};
use std::net::SocketAddr;
use std::sync::OnceLock;

/// The cluster of this test binary: 2 shards x 1 replica.
pub fn cluster() -> &'static Sandbox {
    static CLUSTER: OnceLock<Sandbox> = OnceLock::new();
    CLUSTER.get_or_init(|| Sandbox::up(&SandboxSpec::temp(2, 1)).expect("sandbox up"))
}

/// A rules file for one test schema on the cluster: `tables` is the `[[schemas.tables]]` part.
pub fn rules_toml(schema: &str, tables: &str) -> String {
    rules_toml_with(schema, "backend_timeout_ms = 3000", tables)
}

/// Like [`rules_toml`], with `proxy` as the body of the `[proxy]` section (e.g.
/// `"backend_timeout_ms = 2000\nmax_connections = 2"`).
pub fn rules_toml_with(schema: &str, proxy: &str, tables: &str) -> String {
    let sb = cluster();
    // Tests write straight to the shards too and then read through the proxy: reads on
    // replicas must see those writes, which only `causal = "global"` promises (the replica
    // tests choose their own modes).
    let causal = if proxy.contains("causal") {
        ""
    } else {
        "causal = \"global\"\n"
    };
    let mut t = format!("listen = \"127.0.0.1:0\"\n[proxy]\n{proxy}\n{causal}\n");
    t.push_str(&format!(
        "[[users]]\nname = \"app\"\npassword = \"app\"\n\n[[users]]\nname = \"limited\"\npassword = \"pw\"\nschemas = [\"{schema}\"]\n\n[[users]]\nname = \"admin\"\npassword = \"admin\"\nadmin = true\n\n"
    ));
    // The proxy connects as the sandbox's limited account, as in production: every test
    // through the proxy also proves that account's rights are enough.
    for s in 0..2 {
        let replicas: Vec<String> = sb
            .proxy_replica_urls(s)
            .iter()
            .map(|u| format!("\"{u}\""))
            .collect();
        t.push_str(&format!(
            "[[shards]]\nname = \"s{s}\"\nprimary = \"{}\"\nreplicas = [{}]\n\n",
            sb.proxy_primary_url(s),
            replicas.join(", ")
        ));
    }
    // The main schema comes last: `[[schemas.tables]]` attaches to the last `[[schemas]]`.
    t.push_str(&format!("[[schemas]]\nname = \"{schema}_other\"\ndefault_shard = \"s1\"\n\n[[schemas]]\nname = \"{schema}\"\ndefault_shard = \"s0\"\n\n{tables}"));
    t
}

/// Validated rules for `rules_toml(schema, tables)`.
pub fn rules(schema: &str, tables: &str) -> Rules {
    rules_with(schema, "backend_timeout_ms = 3000", tables)
}

/// Validated rules for `rules_toml_with(schema, proxy, tables)`.
pub fn rules_with(schema: &str, proxy: &str, tables: &str) -> Rules {
    let text = rules_toml_with(schema, proxy, tables);
    match Rules::from_toml(&text, "test.toml") {
        Ok(r) => r,
        Err(e) => panic!("test rules invalid:\n{e}\n{text}"),
    }
}

/// A direct connection to shard `s`'s primary (no schema).
pub async fn direct(s: usize) -> Conn {
    let opts = Opts::from_url(&cluster().primary_url(s)).expect("url");
    Conn::new(OptsBuilder::from_opts(opts).prefer_socket(false))
        .await
        .expect("direct connection")
}

/// Recreates `schema` (and `schema_other`) as empty databases on every shard, usable by the
/// proxy's account.
pub async fn fresh_schema(schema: &str) {
    for s in 0..2 {
        let mut c = direct(s).await;
        for db in [schema.to_string(), format!("{schema}_other")] {
            c.query_drop(shardgate::sandbox::grant_schema_sql(&db))
                .await
                .expect("grant the proxy's account");
            c.query_drop(format!("DROP DATABASE IF EXISTS `{db}`"))
                .await
                .expect("drop db");
            c.query_drop(format!("CREATE DATABASE `{db}`"))
                .await
                .expect("create db");
        }
    }
}

/// Starts the proxy for `rules` on a free port in the current runtime.
pub async fn start_proxy(rules: Rules) -> SocketAddr {
    let server = shardgate::server::Server::bind(rules, "127.0.0.1:0")
        .await
        .expect("bind");
    let addr = server.local_addr().expect("addr");
    tokio::spawn(server.run(std::future::pending()));
    addr
}

/// Connection options for the proxy as app/app on `db`, to be adjusted (e.g.
/// `client_found_rows(true)`) before `Conn::new`.
pub fn proxy_opts(addr: SocketAddr, db: &str) -> OptsBuilder {
    OptsBuilder::default()
        .ip_or_hostname(addr.ip().to_string())
        .tcp_port(addr.port())
        .user(Some("app"))
        .pass(Some("app"))
        .db_name(Some(db))
        .prefer_socket(false)
}

/// A client connection to the proxy as `user`/`password`, schema `db`.
pub async fn client_as(
    addr: SocketAddr,
    user: &str,
    password: &str,
    db: Option<&str>,
) -> mysql_async::Result<Conn> {
    let b = OptsBuilder::default()
        .ip_or_hostname(addr.ip().to_string())
        .tcp_port(addr.port())
        .user(Some(user))
        .pass(Some(password))
        .db_name(db)
        .prefer_socket(false);
    Conn::new(b).await
}

/// A client connection to the proxy as app/app on `db`.
pub async fn client(addr: SocketAddr, db: &str) -> Conn {
    client_as(addr, "app", "app", Some(db))
        .await
        .expect("connect to the proxy")
}

/// Sorted first-column values of `sql` run directly on shard `s` in `db`.
pub async fn ids_on(s: usize, db: &str, sql: &str) -> Vec<i64> {
    let mut c = direct(s).await;
    c.query_drop(format!("USE `{db}`")).await.expect("use");
    let mut v: Vec<i64> = c.query(sql).await.expect("direct query");
    v.sort();
    v
}

/// The MySQL error code of a failed statement.
pub fn code(e: &mysql_async::Error) -> u16 {
    match e {
        mysql_async::Error::Server(s) => s.code,
        other => panic!("expected a server error, got {other:?}"),
    }
}

/// A fresh `db` on every shard, a proxy for `tables` and a client connected to it.
pub async fn setup(db: &str, tables: &str) -> (SocketAddr, Conn) {
    fresh_schema(db).await;
    let addr = start_proxy(rules(db, tables)).await;
    let c = client(addr, db).await;
    (addr, c)
}

/// One plain MariaDB server (no proxy, no shards) per test binary: the reference that answers
/// are compared with.
pub fn plain_server() -> &'static Sandbox {
    static PLAIN: OnceLock<Sandbox> = OnceLock::new();
    PLAIN.get_or_init(|| Sandbox::up(&SandboxSpec::temp(1, 0)).expect("plain MariaDB up"))
}

/// A connection to the plain server, in a fresh database `db` (dropped and created again).
pub async fn plain(db: &str) -> Conn {
    let opts = Opts::from_url(&plain_server().primary_url(0)).expect("url");
    let mut c = Conn::new(OptsBuilder::from_opts(opts).prefer_socket(false))
        .await
        .expect("connection to the plain MariaDB");
    c.query_drop(format!("DROP DATABASE IF EXISTS `{db}`"))
        .await
        .expect("drop db");
    c.query_drop(format!("CREATE DATABASE `{db}`"))
        .await
        .expect("create db");
    c.query_drop(format!("USE `{db}`")).await.expect("use");
    c
}

/// What one statement answered, as text that two servers' answers can be compared by: the
/// error code, or each result's columns (name, type, length, flags, character set) and rows,
/// or its OK packet (affected rows, insert id, info, warning count).
pub async fn answer(c: &mut Conn, sql: &str) -> String {
    use mysql_async::Value;
    let mut out = String::new();
    let mut result = match c.query_iter(sql).await {
        Ok(r) => r,
        Err(mysql_async::Error::Server(e)) => return format!("error {}", e.code),
        Err(e) => return format!("failed: {e}"),
    };
    loop {
        let cols: Vec<String> = result
            .columns()
            .map(|cs| {
                cs.iter()
                    .map(|c| {
                        format!(
                            "{} {:?}({}) flags {:?} cs {}",
                            c.name_str(),
                            c.column_type(),
                            c.column_length(),
                            c.flags(),
                            c.character_set()
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let rows: Vec<mysql_async::Row> = match result.collect().await {
            Ok(r) => r,
            Err(mysql_async::Error::Server(e)) => return format!("{out}error {}", e.code),
            Err(e) => return format!("{out}failed: {e}"),
        };
        if cols.is_empty() {
            out.push_str(&format!(
                "ok affected={} id={:?} info={:?} warnings={}; ",
                result.affected_rows(),
                result.last_insert_id(),
                result.info(),
                result.warnings()
            ));
        } else {
            out.push_str(&format!("{cols:?}"));
            for r in rows {
                let vals: Vec<String> = r
                    .unwrap_raw()
                    .into_iter()
                    .map(|v| match v {
                        None | Some(Value::NULL) => "NULL".into(),
                        Some(Value::Bytes(b)) => String::from_utf8_lossy(&b).into_owned(),
                        Some(other) => other.as_sql(true),
                    })
                    .collect();
                out.push_str(&format!(" {vals:?}"));
            }
            out.push_str(&format!(" warnings={}; ", result.warnings()));
        }
        if result.is_empty() {
            break;
        }
    }
    out
}

/// Runs `statements` through the proxy (`proxy`) and on the plain server (`reference`) in
/// turn, and asserts that each answers the same.
pub async fn same_answers(proxy: &mut Conn, reference: &mut Conn, statements: &[&str]) {
    for sql in statements {
        let want = answer(reference, sql).await;
        let got = answer(proxy, sql).await;
        assert_eq!(got, want, "`{sql}`: proxy (left) vs plain MariaDB (right)");
    }
}
