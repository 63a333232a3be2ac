//! shardgate: a sharding proxy that speaks the MySQL wire protocol.
//!
//! Every statement travels the same road, and each stage has its module:
//!
//! ```text
//! client ─► frontend ─► sql (analyze) ─► route ─► rewrite ─► execute ─► merge ─► client
//! ```
//!
//! - [`frontend`]: the MySQL protocol server: codec, handshake, session state, commands.
//! - [`sql`]: SQL text → [`sql::analyze::Analysis`] (statement kind, tables, key predicates),
//!   cached per statement text.
//! - [`route`]: rules + analysis + bound values → [`plan::Plan`]; one file per algorithm.
//! - [`rewrite`]: per-shard SQL by editing the AST (LIMIT pushdown, INSERT splitting, ids).
//! - [`engine`]: drives one statement through the stages; answers what the proxy knows itself.
//! - [`execute`]: runs a plan's targets concurrently on backend connections, with timeouts.
//! - [`merge`]: combines shard results (concatenation, ORDER BY, LIMIT, aggregates, DISTINCT).
//! - [`txn`]: a session's transaction: pinned backend connections per shard.
//! - [`backend`]: connection pools per server, id sequences.
//! - [`config`]: the rules file, validated into domain types.
//! - [`sandbox`]: real MariaDB servers for the demo and the tests.
//! - [`server`]: accept loop, connection limit, graceful shutdown.
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod backend;
pub mod config;
pub mod engine;
pub mod error;
pub mod execute;
pub mod frontend;
pub mod merge;
pub mod metrics;
pub mod plan;
pub mod rewrite;
pub mod route;
pub mod sandbox;
pub mod server;
pub mod sql;
pub mod txn;
