//! Backend connections, in pools per (server, database, client flags, session setup), created
//! on first use. This is the narrow interface the rest of the proxy uses to reach a shard.
//! Every connection is the proxy's own ([`wire`]): client statements in and out of
//! transactions, the XA coordinator, and administration and background work (sequences,
//! column lookups, `shardgate check`, promotion, replica positions, rules diff and reload),
//! one pool per key under one bound. A `KILL QUERY` opens a connection outside the pools
//! ([`Backends::connect_unpooled`]), so that it never waits behind what it interrupts.
//! mysql_async's URL parser still reads the shards' URLs.

pub mod check;
pub mod columns;
pub mod sequence;
pub mod wire;

use crate::config::{Rules, ShardId};
use crate::error::{ProxyError, Result};
use mysql_async::Opts;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Pools keyed by (shard, database, CLIENT_FOUND_ROWS, session SET statements): a backend
/// connection carries the flags of its own handshake and the variables set on it, so clients
/// with different flags or variables must not share connections. Sessions that set the same
/// variables (as every instance of one application does) share a pool.
type PoolKey = (Server, Option<String>, bool, Setup);

/// One backend server: a shard's primary, or one of its replicas (by position in the rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Server {
    pub shard: ShardId,
    /// `None`: the primary; `Some(i)`: the shard's replica `i`.
    pub replica: Option<usize>,
}

impl Server {
    /// The primary of `shard`.
    pub fn primary(shard: ShardId) -> Server {
        Server {
            shard,
            replica: None,
        }
    }
}

/// A shard's servers: URLs as written, and as connection options (an invalid URL keeps its
/// message).
struct ShardServers {
    primary_url: String,
    replica_urls: Vec<String>,
    primary: Result<Opts, String>,
    replicas: Vec<Result<Opts, String>>,
    /// The gauges of every pool open to the primary, and to each replica: what is lent out
    /// of them is what runs on that server now ([`Backends::loads`]).
    primary_pools: Vec<Arc<wire::pool::Gauges>>,
    replica_pools: Vec<Vec<Arc<wire::pool::Gauges>>>,
}

impl ShardServers {
    fn new(primary: &str, replicas: &[String]) -> ShardServers {
        let opts = |u: &str| Opts::from_url(u).map_err(|e| e.to_string());
        ShardServers {
            primary_url: primary.to_string(),
            replica_urls: replicas.to_vec(),
            primary: opts(primary),
            replicas: replicas.iter().map(|u| opts(u)).collect(),
            primary_pools: Vec::new(),
            replica_pools: vec![Vec::new(); replicas.len()],
        }
    }
}

/// Requests outstanding on each server of a shard: connections lent out of its pools plus
/// requests waiting for one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Loads {
    pub primary: usize,
    /// One per replica, in order (empty: the shard has no replica).
    pub replicas: Vec<usize>,
}

/// One server of a shard as an operator sees it (`SHOW SHARDS`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerView {
    pub server: Server,
    /// `host:port` (never the URL: it holds the backend account's password).
    pub address: String,
    /// Connections lent out of its pools (and requests waiting for one).
    pub in_use: usize,
    /// Open connections idle in its pools.
    pub idle: usize,
}

fn idle(pools: &[Arc<wire::pool::Gauges>]) -> usize {
    use std::sync::atomic::Ordering::Relaxed;
    pools.iter().map(|g| g.idle.load(Relaxed)).sum()
}

fn address(opts: &Result<Opts, String>) -> String {
    match opts {
        Ok(o) => format!("{}:{}", o.ip_or_hostname(), o.tcp_port()),
        Err(_) => "(invalid URL)".into(),
    }
}

fn outstanding(pools: &[Arc<wire::pool::Gauges>]) -> usize {
    use std::sync::atomic::Ordering::Relaxed;
    pools
        .iter()
        .map(|g| g.in_use.load(Relaxed) + g.waiting.load(Relaxed))
        .sum()
}

/// The servers of every shard and the pools open to them, under one lock: a promotion changes
/// a shard's servers and drops its pools at once.
struct State {
    servers: Vec<ShardServers>,
    pools: HashMap<PoolKey, Arc<wire::pool::WirePool>>,
    /// Shards whose primary takes no new connection: a promotion is under way.
    fenced: std::collections::HashSet<ShardId>,
}

/// SET statements a session ran, replayed on each new backend connection of its pools.
pub type Setup = std::sync::Arc<[String]>;

/// What a pool runs on each new connection: the character set the proxy speaks with backends
/// first (utf8mb4, whatever the server's defaults are), then the session's SET statements. One multi-statement text: one round trip.
fn setup_statements(setup: &Setup) -> Vec<String> {
    let mut text = String::from("SET NAMES utf8mb4 COLLATE utf8mb4_general_ci");
    for s in setup.iter() {
        text.push_str("; ");
        text.push_str(s);
    }
    vec![text]
}

/// Connections to every shard's primary and replicas.
pub struct Backends {
    /// Shard names (they never change).
    names: Vec<String>,
    state: Mutex<State>,
    timeout: Duration,
    /// Connections one pool keeps open at most (`max_backend_connections`).
    pool_max: usize,
    /// Whether the backends are MariaDB (learned from the first connection; assumed until
    /// then): MySQL's variable names are mapped to MariaDB's only for MariaDB.
    mysql: std::sync::atomic::AtomicBool,
}

impl Backends {
    /// Prepares pools for the shards of `rules` (nothing connects until first use).
    pub fn new(rules: &Rules) -> Backends {
        let servers = rules
            .shards
            .iter()
            .map(|s| ShardServers::new(&s.primary, &s.replicas))
            .collect();
        Backends {
            names: rules.shards.iter().map(|s| s.name.clone()).collect(),
            state: Mutex::new(State {
                servers,
                pools: HashMap::new(),
                fenced: Default::default(),
            }),
            timeout: rules.proxy.backend_timeout,
            pool_max: rules.proxy.max_backend_connections.max(1),
            mysql: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Whether the backends are MariaDB rather than MySQL.
    pub fn is_mariadb(&self) -> bool {
        !self.mysql.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The time a backend gets to connect or to answer a statement.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The name of a shard, for messages.
    pub fn shard_name(&self, shard: ShardId) -> &str {
        self.names.get(shard).map(String::as_str).unwrap_or("?")
    }

    /// A server's name for messages: the shard's name for its primary, `s0 replica 1` for a
    /// replica.
    pub fn server_name(&self, server: Server) -> String {
        match server.replica {
            None => self.shard_name(server.shard).to_string(),
            Some(r) => format!("{} replica {r}", self.shard_name(server.shard)),
        }
    }

    /// The server [`Backends::server_name`] named `name`.
    pub fn server_named(&self, name: &str) -> Option<Server> {
        let (shard_name, replica) = match name.rsplit_once(" replica ") {
            Some((s, r)) if !self.names.iter().any(|n| n == name) => (s, Some(r.parse().ok()?)),
            _ => (name, None),
        };
        let shard = self.names.iter().position(|n| n == shard_name)?;
        Some(Server { shard, replica })
    }

    /// How many replicas `shard` has.
    pub fn replica_count(&self, shard: ShardId) -> usize {
        self.state
            .lock()
            .ok()
            .and_then(|st| st.servers.get(shard).map(|s| s.replicas.len()))
            .unwrap_or(0)
    }

    /// What runs on each server of `shard` now, for least-outstanding-requests balancing.
    pub fn loads(&self, shard: ShardId) -> Loads {
        self.state
            .lock()
            .ok()
            .and_then(|st| {
                st.servers.get(shard).map(|s| Loads {
                    primary: outstanding(&s.primary_pools),
                    replicas: s.replica_pools.iter().map(|p| outstanding(p)).collect(),
                })
            })
            .unwrap_or_default()
    }

    /// Every server of `shard`, primary first, with its pools' gauges.
    pub fn servers(&self, shard: ShardId) -> Vec<ServerView> {
        let Ok(st) = self.state.lock() else {
            return Vec::new();
        };
        let Some(s) = st.servers.get(shard) else {
            return Vec::new();
        };
        let mut out = vec![ServerView {
            server: Server::primary(shard),
            address: address(&s.primary),
            in_use: outstanding(&s.primary_pools),
            idle: idle(&s.primary_pools),
        }];
        for (r, opts) in s.replicas.iter().enumerate() {
            let pools = s.replica_pools.get(r).map_or(&[][..], |p| &p[..]);
            out.push(ServerView {
                server: Server {
                    shard,
                    replica: Some(r),
                },
                address: address(opts),
                in_use: outstanding(pools),
                idle: idle(pools),
            });
        }
        out
    }

    /// The URLs of `shard`'s primary and replicas (replicas in order), as written.
    pub fn urls(&self, shard: ShardId) -> (String, Vec<String>) {
        self.state
            .lock()
            .ok()
            .and_then(|st| {
                st.servers
                    .get(shard)
                    .map(|s| (s.primary_url.clone(), s.replica_urls.clone()))
            })
            .unwrap_or_default()
    }

    /// Makes `primary` the primary of `shard` and `replicas` its replicas (a promotion). Every
    /// pool of the shard is dropped: its connections go to servers whose roles changed
    /// (connections lent out finish what they run and are not returned).
    pub fn replace_shard(&self, shard: ShardId, primary: &str, replicas: &[String]) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        if let Some(s) = st.servers.get_mut(shard) {
            *s = ShardServers::new(primary, replicas);
        }
        st.pools.retain(|k, p| {
            let keep = k.0.shard != shard;
            if !keep {
                p.close();
            }
            keep
        });
    }

    /// Fences `shard`'s primary (`on`) or lifts the fence: while fenced, no session gets a
    /// connection to it (1290, retry), so a promotion can wait for the writes already sent.
    pub fn fence(&self, shard: ShardId, on: bool) {
        if let Ok(mut st) = self.state.lock() {
            if on {
                st.fenced.insert(shard);
            } else {
                st.fenced.remove(&shard);
            }
        }
    }

    /// The state, locked to open a pool to `server` (refused while its primary is fenced).
    fn lock_for(&self, server: Server) -> Result<std::sync::MutexGuard<'_, State>> {
        let st = self
            .state
            .lock()
            .map_err(|_| ProxyError::Transaction("backend pool lock poisoned".into()))?;
        if server.replica.is_none() && st.fenced.contains(&server.shard) {
            return Err(self.fenced(server.shard));
        }
        Ok(st)
    }

    /// `server`'s shard and its connection options (from its URL).
    fn server_opts<'s>(
        &self,
        st: &'s mut State,
        server: Server,
    ) -> Result<(&'s mut ShardServers, Opts)> {
        let lost = |detail: &str| ProxyError::BackendLost {
            shard: self.server_name(server),
            detail: detail.to_string(),
        };
        let servers = st
            .servers
            .get_mut(server.shard)
            .ok_or_else(|| lost("no such shard"))?;
        let opts = match server.replica {
            None => &servers.primary,
            Some(r) => servers
                .replicas
                .get(r)
                .ok_or_else(|| lost("no such replica"))?,
        };
        let opts = opts.clone().map_err(|e| lost(&e))?;
        Ok((servers, opts))
    }

    /// The answer while `shard`'s primary is fenced.
    fn fenced(&self, shard: ShardId) -> ProxyError {
        ProxyError::Sql {
            code: 1290,
            state: "HY000",
            message: format!(
                "shard {} is switching to a new primary (PROMOTE REPLICA): retry the statement",
                self.shard_name(shard)
            ),
        }
    }

    /// The pool for `server`, database `db`, the handshake's CLIENT_FOUND_ROWS and the
    /// session's `setup` (opened on first use; refused while `server` is a fenced primary).
    fn wire_pool(
        &self,
        server: Server,
        db: Option<&str>,
        found_rows: bool,
        setup: &Setup,
    ) -> Result<Arc<wire::pool::WirePool>> {
        let key = (server, db.map(str::to_string), found_rows, setup.clone());
        let mut st = self.lock_for(server)?;
        if let Some(p) = st.pools.get(&key) {
            return Ok(p.clone());
        }
        let (servers, opts) = self.server_opts(&mut st, server)?;
        let connect = wire::ConnectOpts {
            db: db.map(str::to_string),
            found_rows,
            ..wire::ConnectOpts::from_opts(&opts)
        };
        let setup_text = setup_statements(setup).pop();
        let pool = wire::pool::WirePool::new(
            &self.server_name(server),
            connect,
            setup_text,
            self.pool_max,
        );
        let gauges = match server.replica {
            None => Some(&mut servers.primary_pools),
            Some(r) => servers.replica_pools.get_mut(r),
        };
        if let Some(g) = gauges {
            g.push(pool.gauges());
        }
        st.pools.insert(key, pool.clone());
        Ok(pool)
    }

    /// One of our own connections ([`wire`]) to `server`, using database `db`, where the
    /// session's `setup` statements ran, within the backend timeout. It goes back to its pool
    /// when dropped.
    pub async fn wire_on(
        &self,
        server: Server,
        db: Option<&str>,
        found_rows: bool,
        setup: &Setup,
    ) -> Result<wire::pool::PooledWire> {
        let pool = self.wire_pool(server, db, found_rows, setup)?;
        let c = pool.get(self.timeout).await?;
        // MySQL's versions are 5.x, 8.x, 9.x; MariaDB's 10.x and 11.x.
        let major: u32 = c
            .server_version()
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(10);
        self.mysql
            .store(major < 10, std::sync::atomic::Ordering::Relaxed);
        Ok(c)
    }

    /// A connection of our own to `server` outside every pool (so not counted against
    /// `max_backend_connections`), within the backend timeout: for a `KILL QUERY`, which must
    /// not wait behind the statements it interrupts. Close it with [`wire::WireConn::quit`].
    pub async fn connect_unpooled(&self, server: Server) -> Result<wire::WireConn> {
        let opts = {
            let mut st = self.lock_for(server)?;
            self.server_opts(&mut st, server)?.1
        };
        let name = self.server_name(server);
        let connect = wire::ConnectOpts::from_opts(&opts);
        match tokio::time::timeout(self.timeout, wire::WireConn::connect(&name, &connect)).await {
            Ok(r) => r,
            Err(_) => Err(ProxyError::BackendLost {
                shard: name,
                detail: format!("no connection within {} ms", self.timeout.as_millis()),
            }),
        }
    }

    /// One of our own connections to `shard`'s primary using database `db`, without session
    /// settings, within the backend timeout.
    pub async fn wire(
        &self,
        shard: ShardId,
        db: Option<&str>,
        found_rows: bool,
    ) -> Result<wire::pool::PooledWire> {
        self.wire_on(Server::primary(shard), db, found_rows, &Setup::from([]))
            .await
    }

    /// Closes every pool (at shutdown): idle connections are closed, and those lent out are
    /// closed when they come back.
    pub async fn close(&self) {
        if let Ok(mut st) = self.state.lock() {
            for (_, p) in st.pools.drain() {
                p.close();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Backends, Server};
    use crate::config::Rules;

    #[test]
    fn server_names_go_both_ways() {
        let text = r#"listen = "127.0.0.1:3307"
[[users]]
name = "u"
password = ""
[[shards]]
name = "s0"
primary = "mysql://u:secret@h0:1"
replicas = ["mysql://u@h0:2", "mysql://u@h0:3"]
[[shards]]
name = "east replica 1"
primary = "mysql://u@h1:1"
[[schemas]]
name = "db"
default_shard = "s0"
"#;
        let rules = Rules::from_toml(text, "test.toml").unwrap_or_else(|e| panic!("{e}"));
        let b = Backends::new(&rules);
        let servers = [
            Server::primary(0),
            Server {
                shard: 0,
                replica: Some(1),
            },
            // A shard whose own name looks like a replica's.
            Server::primary(1),
            Server {
                shard: 1,
                replica: Some(0),
            },
        ];
        for s in servers {
            assert_eq!(b.server_named(&b.server_name(s)), Some(s), "{s:?}");
        }
        assert_eq!(b.server_named("nowhere"), None);
        assert_eq!(b.server_named("s0 replica x"), None);
        assert_eq!(b.loads(0).replicas, vec![0, 0]);
        assert_eq!(b.loads(1).replicas, Vec::<usize>::new());
        let view = b.servers(0);
        let addrs: Vec<&str> = view.iter().map(|v| v.address.as_str()).collect();
        assert_eq!(addrs, ["h0:1", "h0:2", "h0:3"]);
        assert_eq!(view[2].server, servers[1]);
    }
}
