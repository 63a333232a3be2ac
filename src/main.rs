//! The `shardgate` command: `serve` runs the proxy, `check` validates a rules file, `route`
//! previews where a statement or a key goes, `sandbox` starts and stops local MariaDB servers.

use clap::{Parser, Subcommand};
use shardgate::config::Rules;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "shardgate",
    version,
    about = "A sharding proxy that speaks the MySQL protocol"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
    /// Log level of shardgate's own messages: error, warn, info, debug or trace (other crates
    /// log warnings and errors only). RUST_LOG, when set, replaces this filter entirely.
    #[arg(long, global = true, default_value = "info")]
    log_level: LogLevel,
    /// One step more detail than --log-level per -v (-v: debug, -vv: trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Log lines as text (colours only on a terminal) or as JSON objects, one per line.
    #[arg(long, global = true, default_value = "text")]
    log_format: LogFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Logs to stderr, filtered by RUST_LOG when set, else by `--log-level` and `-v` for
/// shardgate's own messages and at `warn` for the crates it uses (sqlparser's parser traces
/// would drown everything at debug).
fn init_logs(cli: &Cli) {
    use std::io::IsTerminal;
    let levels = ["error", "warn", "info", "debug", "trace"];
    let at = (cli.log_level as usize + usize::from(cli.verbose)).min(levels.len() - 1);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("warn,shardgate={}", levels[at]))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the proxy in the foreground (SIGTERM or Ctrl-C stops it gracefully).
    Serve {
        #[arg(long)]
        config: PathBuf,
        /// Overrides the rules file's `listen`.
        #[arg(long)]
        listen: Option<String>,
        /// Where Prometheus metrics are served (`http://ADDR/metrics`), or `off`; overrides
        /// the rules' `metrics_listen` (default 127.0.0.1:9104).
        #[arg(long)]
        metrics_listen: Option<String>,
    },
    /// Validate a rules file and print every problem with its location; with --connect, also
    /// compare it with the servers (each key column exists, with a type and collation that fit).
    Check {
        #[arg(long)]
        config: PathBuf,
        /// Connect to every shard's primary and check the tables the rules place.
        #[arg(long)]
        connect: bool,
    },
    /// Show where a statement or a key goes under a rules file, without connecting anywhere:
    /// each shard with the SQL it would run, where reads go, and how results merge.
    #[command(group(clap::ArgGroup::new("what").required(true).args(["sql", "key"])))]
    Route {
        #[arg(long)]
        config: PathBuf,
        /// The logical schema statements run in (default: the rules file's first schema).
        #[arg(long)]
        schema: Option<String>,
        /// With --key: the logical table whose key is given.
        #[arg(long, requires = "key")]
        table: Option<String>,
        /// A shard key value of --table (as it would appear in SQL, without quotes).
        #[arg(long, requires = "table")]
        key: Option<String>,
        /// The statement to route (literal values, no `?`).
        sql: Option<String>,
    },
    /// Work on rules files without a running proxy (`rules diff`).
    Rules {
        #[command(subcommand)]
        cmd: RulesCmd,
    },
    /// Local MariaDB servers for the demo and the tests.
    Sandbox {
        #[command(subcommand)]
        cmd: SandboxCmd,
    },
}

#[derive(Subcommand)]
enum RulesCmd {
    /// What changing OLD to NEW moves, without connecting anywhere: per table, the key
    /// intervals or values that change shard (for hash rules an estimate from a sample of
    /// keys), tables added or removed, broadcast tables gaining shards, schemas whose default
    /// shard changes, shards whose URLs change. Unchanged tables are counted, not listed.
    /// Exit code: 0 when no key changes shard, 2 when keys change shard, 1 on errors (an
    /// invalid file, a shard that --count cannot reach).
    Diff {
        /// The rules file in use.
        old: PathBuf,
        /// The changed rules file.
        new: PathBuf,
        /// Also connect to the shards of OLD and count the stored rows that NEW places on
        /// another shard, per table and per (from shard -> to shard).
        #[arg(long)]
        count: bool,
    },
}

#[derive(Subcommand)]
enum SandboxCmd {
    /// Start N shards with R replicas each, and write DIR/rules.toml for them.
    Up {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value_t = 2)]
        shards: usize,
        #[arg(long, default_value_t = 1)]
        replicas: usize,
        #[arg(long, default_value_t = 4000)]
        base_port: u16,
    },
    /// Stop the servers started in DIR.
    Down {
        #[arg(long)]
        dir: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(&cli);
    match cli.cmd {
        Cmd::Check { config, connect } => match Rules::load(&config) {
            Ok(rules) => {
                println!("{}: OK", config.display());
                if connect {
                    return ExitCode::from(shardgate::backend::check::cli(&rules));
                }
                ExitCode::SUCCESS
            }
            Err(errs) => {
                println!("{errs}");
                ExitCode::FAILURE
            }
        },
        Cmd::Route {
            config,
            schema,
            table,
            key,
            sql,
        } => route(&config, schema, table, key, sql),
        Cmd::Serve {
            config,
            listen,
            metrics_listen,
        } => serve(config, listen, metrics_listen),
        Cmd::Sandbox { cmd } => sandbox(cmd),
        Cmd::Rules {
            cmd: RulesCmd::Diff { old, new, count },
        } => ExitCode::from(shardgate::route::diff::cli(&old, &new, count)),
    }
}

fn route(
    config: &std::path::Path,
    schema: Option<String>,
    table: Option<String>,
    key: Option<String>,
    sql: Option<String>,
) -> ExitCode {
    use shardgate::route::preview;
    let rules = match Rules::load(config) {
        Ok(r) => r,
        Err(errs) => {
            eprintln!("{errs}");
            return ExitCode::FAILURE;
        }
    };
    let schema = schema.or_else(|| rules.schemas.first().map(|s| s.name.clone()));
    let answer = match (table, key, sql) {
        (Some(t), Some(k), _) => preview::explain_key(&rules, schema.as_deref(), &t, &k),
        (_, _, Some(sql)) => preview::explain(&rules, schema.as_deref(), &sql),
        _ => {
            eprintln!("give a statement, or --table with --key");
            return ExitCode::from(2);
        }
    };
    match answer {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error {}: {e}", e.code());
            ExitCode::FAILURE
        }
    }
}

fn serve(config: PathBuf, listen: Option<String>, metrics_listen: Option<String>) -> ExitCode {
    // Crash points of the fault tests, armed by FAILPOINTS (only with the `failpoints` feature).
    let _failpoints = shardgate::txn::fault::setup();
    let rules = match Rules::load(&config) {
        Ok(r) => r,
        Err(errs) => {
            eprintln!("{errs}");
            return ExitCode::FAILURE;
        }
    };
    #[cfg(unix)]
    raise_open_files_limit(&rules);
    return_large_buffers();
    // `worker_threads = 0` keeps tokio's default: one thread per core.
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    // Named for `top -H` and the like (a thread name holds at most 15 bytes).
    builder.enable_all().thread_name("shardgate-work");
    if rules.proxy.worker_threads > 0 {
        builder.worker_threads(rules.proxy.worker_threads);
    }
    let rt = match builder.build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let addr = listen.unwrap_or_else(|| rules.listen.clone());
        let mut server = match shardgate::server::Server::bind_file(&config, Some(&addr)).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("cannot listen on {addr}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let explicit = metrics_listen.is_some() || rules.proxy.metrics_listen != shardgate::config::DEFAULT_METRICS_LISTEN;
        let maddr = metrics_listen.unwrap_or_else(|| rules.proxy.metrics_listen.clone());
        if !maddr.is_empty() && maddr != "off" {
            server = match server.metrics_on(&maddr).await {
                Ok(s) => s,
                Err((s, e)) if !explicit => {
                    tracing::warn!("metrics not served: cannot listen on {maddr} (the default): {e}; set metrics_listen or --metrics-listen");
                    s
                }
                Err((_, e)) => {
                    eprintln!("cannot serve metrics on {maddr}: {e}");
                    return ExitCode::FAILURE;
                }
            };
        }
        tracing::info!(
            "shardgate listening on {}{}",
            server.local_addr().map(|a| a.to_string()).unwrap_or(addr),
            server
                .metrics_addr()
                .map(|a| format!(", metrics on http://{a}/metrics"))
                .unwrap_or_default()
        );
        #[cfg(unix)]
        tokio::spawn(on_hangup(server.shared()));
        server.run(shutdown_signal()).await;
        ExitCode::SUCCESS
    })
}

/// Large buffers (a statement or a row of many megabytes) go back to the system when freed.
/// glibc's malloc otherwise raises its mmap threshold after the first such buffer and keeps
/// later ones in its heaps: a burst of large statements left the proxy holding hundreds of
/// megabytes for good. Rows and statements of the hot path are far below the threshold.
fn return_large_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable of the allocator; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// Raises the soft limit of open files to the hard limit: every client and backend connection
/// is a file descriptor, and the usual soft limit (1024) is below what the default
/// `max_connections` needs. Warns when even the hard limit is below that need, since clients
/// past it are then refused. (Two libc calls; a crate such as `rlimit` would wrap the same.)
#[cfg(unix)]
fn raise_open_files_limit(rules: &Rules) {
    let p = &rules.proxy;
    let servers: usize = rules.shards.iter().map(|s| 1 + s.replicas.len()).sum();
    let need = (p.max_connections + servers * p.max_backend_connections + 64) as libc::rlim_t;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read or write the struct passed.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return;
    }
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            lim = raised;
        }
    }
    if lim.rlim_cur < need {
        tracing::warn!(
            "the open files limit is {}, below the ~{need} that max_connections = {} and \
             max_backend_connections = {} over {servers} backend servers can use: clients past \
             it are refused; raise it (ulimit -n, or LimitNOFILE= in a systemd unit)",
            lim.rlim_cur,
            p.max_connections,
            p.max_backend_connections
        );
    }
}

/// SIGHUP reloads the rules file, as `RELOAD RULES` does (never forced: a change that moves
/// stored rows is refused). The proxy keeps running whatever the outcome: a hang-up must never
/// stop it; the outcome is logged.
#[cfg(unix)]
async fn on_hangup(sh: std::sync::Arc<shardgate::engine::Shared>) {
    let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
        return;
    };
    while hup.recv().await.is_some() {
        let now = sh.reload.current().unwrap_or_else(|| sh.clone());
        // On failure `reload` logged why; the running rules are unchanged.
        if let Ok(lines) = shardgate::engine::reload::reload(&now, false).await {
            tracing::info!("SIGHUP: {}", lines.join("\n"));
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn sandbox(cmd: SandboxCmd) -> ExitCode {
    let result = match cmd {
        SandboxCmd::Up {
            dir,
            shards,
            replicas,
            base_port,
        } => shardgate::sandbox::cli_up(&dir, shards, replicas, base_port),
        SandboxCmd::Down { dir } => shardgate::sandbox::cli_down(&dir),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sandbox: {e}");
            ExitCode::FAILURE
        }
    }
}
