//! The sandbox's error type: every message says what went wrong and what to do.

use std::path::PathBuf;

/// Why a sandbox could not be started, inspected or stopped.
#[derive(thiserror::Error, Debug)]
pub enum SandboxError {
    /// A MariaDB program is not installed.
    #[error("{program} not found in PATH, /usr/sbin or /usr/local/sbin: apt-get install {package}")]
    MissingProgram {
        /// The program looked for (`mariadbd`, `mariadb`, `mariadb-install-db`).
        program: &'static str,
        /// The Debian/Ubuntu package that provides it.
        package: &'static str,
    },
    /// A file-system or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path involved.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// `mariadb-install-db` failed to create the system tables.
    #[error("mariadb-install-db failed in {datadir}; its output ends with:\n{output}")]
    InstallDb {
        /// The data directory being created.
        datadir: PathBuf,
        /// The tail of its output.
        output: String,
    },
    /// A server exited or never became ready.
    #[error("{server} (port {port}) failed to start: {reason}; the tail of {log}:\n{log_tail}")]
    StartFailed {
        /// The server's name (`s0`, `s0r0`, ...).
        server: String,
        /// Its TCP port.
        port: u16,
        /// What was observed.
        reason: String,
        /// The error log path.
        log: PathBuf,
        /// The last lines of the error log.
        log_tail: String,
    },
    /// A fixed port (`base_port` given) is already taken.
    #[error(
        "port {port} on 127.0.0.1 is in use: stop what listens there (`make clean-sandbox` if it is an old sandbox) or choose another --base-port"
    )]
    PortInUse {
        /// The busy port.
        port: u16,
    },
    /// Running SQL through the `mariadb` client failed.
    #[error("SQL on {server} failed: {sql}\n{stderr}")]
    Sql {
        /// The server's name.
        server: String,
        /// The statement(s) sent.
        sql: String,
        /// What the client printed on stderr.
        stderr: String,
    },
    /// A replica's IO or SQL thread did not reach the running state in time.
    #[error("replication on {server} did not start within {secs} s: {detail}; see {log}")]
    Replication {
        /// The replica's name.
        server: String,
        /// How long we waited.
        secs: u64,
        /// `SHOW SLAVE STATUS` fields that explain it.
        detail: String,
        /// The replica's error log.
        log: PathBuf,
    },
    /// `up` was asked to use a directory that already hosts running servers.
    #[error(
        "a sandbox is already running in {dir}: run `shardgate sandbox down --dir {dir}` first"
    )]
    AlreadyRunning {
        /// The sandbox directory.
        dir: PathBuf,
    },
    /// The directory holds something other than a sandbox.
    #[error(
        "{dir} is not empty and holds no sandbox.toml: refusing to use it; pick an empty or new directory"
    )]
    NotASandbox {
        /// The directory.
        dir: PathBuf,
    },
    /// `sandbox.toml` could not be read.
    #[error(
        "{path} is not a valid sandbox description ({detail}): stop its servers by hand and remove the directory"
    )]
    BadState {
        /// The file.
        path: PathBuf,
        /// The parse error.
        detail: String,
    },
    /// A shard or replica index outside the sandbox.
    #[error(
        "no server for shard {shard} replica {replica:?}: this sandbox has {shards} shards with {replicas} replicas each"
    )]
    NoSuchServer {
        /// The shard asked for.
        shard: usize,
        /// The replica asked for (`None` = primary).
        replica: Option<usize>,
        /// Shards in the sandbox.
        shards: usize,
        /// Replicas per shard.
        replicas: usize,
    },
    /// The spec cannot be honoured.
    #[error("invalid sandbox spec: {0}")]
    BadSpec(String),
    /// Waiting for something took too long.
    #[error("timed out after {secs} s waiting for {what}")]
    Timeout {
        /// What we waited for.
        what: String,
        /// How long.
        secs: u64,
    },
}

impl SandboxError {
    /// Wraps an I/O error with what was being done.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        SandboxError::Io {
            context: context.into(),
            source,
        }
    }
}
