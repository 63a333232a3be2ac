//! The `shardgate` command: `serve` runs the proxy, `check` validates a rules file, `sandbox`
//! starts and stops local MariaDB servers.

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
    },
    /// Validate a rules file and print every problem with its location.
    Check {
        #[arg(long)]
        config: PathBuf,
    },
    /// Local MariaDB servers for the demo and the tests.
    Sandbox {
        #[command(subcommand)]
        cmd: SandboxCmd,
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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Check { config } => match Rules::load(&config) {
            Ok(_) => {
                println!("{}: OK", config.display());
                ExitCode::SUCCESS
            }
            Err(errs) => {
                print!("{errs}");
                ExitCode::FAILURE
            }
        },
        Cmd::Serve { config, listen } => serve(config, listen),
        Cmd::Sandbox { cmd } => sandbox(cmd),
    }
}

fn serve(config: PathBuf, listen: Option<String>) -> ExitCode {
    // Crash points of the fault tests, armed by FAILPOINTS (only with the `failpoints` feature).
    let _failpoints = shardgate::txn::fault::setup();
    let rules = match Rules::load(&config) {
        Ok(r) => r,
        Err(errs) => {
            eprint!("{errs}");
            return ExitCode::FAILURE;
        }
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let addr = listen.unwrap_or_else(|| rules.listen.clone());
        let server = match shardgate::server::Server::bind(rules, &addr).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("cannot listen on {addr}: {e}");
                return ExitCode::FAILURE;
            }
        };
        tracing::info!(
            "shardgate listening on {}",
            server.local_addr().map(|a| a.to_string()).unwrap_or(addr)
        );
        server.run(shutdown_signal()).await;
        ExitCode::SUCCESS
    })
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
