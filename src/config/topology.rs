//! The topology file (`[proxy] topology_file`): which server is each shard's primary after a
//! promotion, so that a restarted proxy keeps routing writes to the promoted replica even though
//! the rules file still names the old primary. Written by the proxy, read at start-up, where
//! its `[[shards]]` entries replace the rules file's servers of the shards they name.

use super::Rules;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The file's content.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct Topology {
    #[serde(default)]
    pub shards: Vec<ShardServers>,
}

/// One shard's servers after a promotion.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct ShardServers {
    pub name: String,
    pub primary: String,
    #[serde(default)]
    pub replicas: Vec<String>,
}

/// Reads the topology file of `rules` (if it names one and it exists) and applies it. An
/// unreadable file is an error: starting on the rules file's old primary could split a shard's
/// writes between two servers.
pub fn apply(rules: &mut Rules) -> Result<(), String> {
    let Some(path) = rules.proxy.topology_file.clone() else {
        return Ok(());
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(format!(
                "cannot read the topology file {}: {e}",
                path.display()
            ));
        }
    };
    let topo: Topology = toml::from_str(&text)
        .map_err(|e| format!("the topology file {} is invalid: {e}", path.display()))?;
    for s in topo.shards {
        let Some(shard) = rules.shards.iter_mut().find(|r| r.name == s.name) else {
            return Err(format!(
                "the topology file {} names shard \"{}\", which the rules do not declare",
                path.display(),
                s.name
            ));
        };
        tracing::info!(
            "shard {}: primary {} (from the topology file {})",
            s.name,
            super::url::check_mysql_url(&s.primary).unwrap_or_default(),
            path.display()
        );
        shard.replica_weights = s
            .replicas
            .iter()
            .map(|u| {
                shard
                    .replicas
                    .iter()
                    .position(|r| r == u)
                    .and_then(|i| shard.replica_weights.get(i).copied())
                    .unwrap_or(1)
            })
            .collect();
        shard.primary = s.primary;
        shard.replicas = s.replicas;
    }
    Ok(())
}

/// Records `shard`'s servers in the topology file at `path` (other shards' entries kept),
/// replacing the file atomically (written beside it, then renamed).
pub fn record(path: &Path, shard: ShardServers) -> Result<(), String> {
    let mut topo: Topology = match std::fs::read_to_string(path) {
        Ok(t) => toml::from_str(&t).map_err(|e| format!("{}: {e}", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Topology::default(),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    topo.shards.retain(|s| s.name != shard.name);
    topo.shards.push(shard);
    let body = toml::to_string(&topo).map_err(|e| e.to_string())?;
    let text = format!(
        "# Written by shardgate when a replica was promoted (PROMOTE REPLICA). At start-up these\n# shards' servers replace those of the rules file. Delete an entry once the rules file says\n# the same.\n\n{body}"
    );
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The URLs carry the backend account's password.
        let _ = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600));
    }
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}
