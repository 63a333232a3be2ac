//! `DIR/sandbox.toml`: the servers of a sandbox, for `down` and for other tools.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::SandboxError;

/// The file name of the description inside a sandbox directory.
pub(crate) const STATE_FILE: &str = "sandbox.toml";

/// What `sandbox.toml` holds.
#[derive(Debug, Serialize)]
pub(crate) struct State {
    /// Shards in the sandbox.
    pub shards: usize,
    /// Replicas per shard.
    pub replicas: usize,
    /// Whether the servers die with the process that started them.
    pub kill_on_parent_exit: bool,
    /// The process that ran `up`.
    pub owner_pid: u32,
    /// One entry per server, primaries and replicas.
    pub servers: Vec<ServerRecord>,
}

/// One server in `sandbox.toml`.
#[derive(Debug, Serialize)]
pub(crate) struct ServerRecord {
    pub name: String,
    pub shard: usize,
    /// Absent for a primary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<usize>,
    pub port: u16,
    /// The pid at `up`; the pid file has the current one.
    pub pid: u32,
    pub url: String,
    pub datadir: PathBuf,
    pub socket: PathBuf,
    pub pid_file: PathBuf,
    pub error_log: PathBuf,
}

impl State {
    /// Writes the description into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), SandboxError> {
        let path = dir.join(STATE_FILE);
        let text = toml::to_string(self).map_err(|e| SandboxError::BadState {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        let header = "# Written by `shardgate sandbox up`; `shardgate sandbox down` reads it.\n";
        std::fs::write(&path, format!("{header}{text}"))
            .map_err(|e| SandboxError::io(format!("writing {}", path.display()), e))
    }
}
