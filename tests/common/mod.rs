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
    let mut t = format!("listen = \"127.0.0.1:0\"\n[proxy]\n{proxy}\n\n");
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
