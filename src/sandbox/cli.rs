//! What `shardgate sandbox up|down` run, so that main.rs only parses arguments.

use std::path::Path;

use super::{Sandbox, SandboxError, SandboxSpec};

/// The address the generated rules make the proxy listen on.
const DEMO_LISTEN: &str = "127.0.0.1:3307";

/// Starts a sandbox in `dir` whose servers outlive this process, writes
/// `DIR/rules.toml` (listening on 127.0.0.1:3307) and prints the servers.
pub fn cli_up(
    dir: &Path,
    shards: usize,
    replicas: usize,
    base_port: u16,
) -> Result<(), SandboxError> {
    let spec = SandboxSpec {
        dir: dir.to_path_buf(),
        shards,
        replicas,
        base_port,
        kill_on_parent_exit: false,
    };
    let sandbox = Sandbox::up(&spec)?;
    let rules = sandbox.write_rules(DEMO_LISTEN)?;
    // The example rules declare schema `shop`: its database must exist on every shard
    // (replicas receive it through replication), and the proxy's account may use it.
    for shard in 0..shards {
        sandbox.query(shard, None, "CREATE DATABASE IF NOT EXISTS shop")?;
    }
    sandbox.grant_schema("shop")?;
    println!("sandbox up in {}", sandbox.dir.display());
    for s in &sandbox.servers {
        let role = match s.replica {
            None => "primary".to_string(),
            Some(r) => format!("replica {r}"),
        };
        println!(
            "  shard s{} {:<10} {}  pid {:<7} mariadb -h127.0.0.1 -P{} -uroot",
            s.shard,
            role,
            s.url(),
            s.pid,
            s.port
        );
    }
    println!(
        "rules: {} (the proxy connects as {}, with rights on schema shop only)",
        rules.display(),
        super::PROXY_USER
    );
    println!(
        "stop:  shardgate sandbox down --dir {}",
        sandbox.dir.display()
    );
    Ok(())
}

/// Stops the servers of the sandbox in `dir` and waits for them to exit.
pub fn cli_down(dir: &Path) -> Result<(), SandboxError> {
    Sandbox::down(dir)?;
    println!("sandbox in {} is down", dir.display());
    Ok(())
}
