//! One MariaDB server of a sandbox: its files, its command line, starting it on a
//! free port and stopping it.

use std::collections::HashSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Mutex;
use std::time::Duration;

use super::SandboxError;
use super::process::{self, Endpoint, Programs};

/// How long a server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a clean shutdown may take before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts at a free port when the one picked was taken meanwhile.
const PORT_ATTEMPTS: usize = 8;

/// Ports this process has handed out, so parallel starts never pick the same one.
static TAKEN_PORTS: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// The files and fixed settings of one server.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// `s0` for shard 0's primary, `s0r1` for its second replica.
    pub name: String,
    pub shard: usize,
    pub replica: Option<usize>,
    pub server_id: u32,
    pub datadir: PathBuf,
    pub socket: PathBuf,
    pub pid_file: PathBuf,
    pub log: PathBuf,
    /// Private tmpdir: at startup mariadbd deletes every `#sql*` file in its tmpdir,
    /// which breaks servers starting beside it if they share /tmp.
    pub tmpdir: PathBuf,
}

impl Layout {
    /// The layout of a server under the sandbox directory `dir`.
    pub fn new(dir: &Path, shard: usize, replica: Option<usize>, server_id: u32) -> Layout {
        let name = match replica {
            None => format!("s{shard}"),
            Some(r) => format!("s{shard}r{r}"),
        };
        let base = dir.join(&name);
        Layout {
            shard,
            replica,
            server_id,
            datadir: base.join("data"),
            socket: base.join("mariadbd.sock"),
            pid_file: base.join("mariadbd.pid"),
            log: base.join("error.log"),
            tmpdir: base.join("tmp"),
            name,
        }
    }

    /// The mariadbd command line for this server on `port`.
    fn command(&self, programs: &Programs, port: u16) -> Command {
        let mut cmd = Command::new(&programs.mariadbd);
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", self.datadir.display()))
            .arg(format!("--port={port}"))
            .arg(format!("--socket={}", self.socket.display()))
            .arg(format!("--pid-file={}", self.pid_file.display()))
            .arg(format!("--log-error={}", self.log.display()))
            .arg(format!("--tmpdir={}", self.tmpdir.display()))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--server-id={}", self.server_id));
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } == 0 {
            // mariadbd refuses to run as root unless told to; with "root" it
            // keeps its credentials, which also keeps PR_SET_PDEATHSIG armed.
            cmd.arg("--user=root");
        }
        cmd.args([
            "--log-bin=mysql-bin",
            "--relay-log=relay-bin",
            "--log-slave-updates",
            "--binlog-format=ROW",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
            "--innodb-buffer-pool-size=32M",
            "--innodb-log-file-size=8M",
            "--innodb-use-native-aio=OFF",
            "--performance-schema=OFF",
            "--skip-name-resolve",
            // Cross-shard transactions can wait on each other where no single
            // server sees a deadlock: keep such waits short.
            "--innodb-lock-wait-timeout=3",
            "--max-connections=500",
            // The proxy's account has no SUPER: with the binlog on, creating a stored function
            // or a trigger would need it (1419). The proxy runs CREATE FUNCTION/TRIGGER.
            "--log-bin-trust-function-creators=1",
            // Tests need speed, not durability.
            "--innodb-flush-log-at-trx-commit=2",
            "--sync-binlog=0",
        ]);
        if self.replica.is_some() {
            cmd.arg("--read-only");
        }
        cmd
    }

    /// Starts the server and waits until it answers on its socket. With `port`
    /// `None` a free port is picked, and picked again if another process grabs it
    /// before mariadbd binds it. Returns the child and the port it listens on.
    pub fn start(
        &self,
        programs: &Programs,
        port: Option<u16>,
        die_with_parent: bool,
    ) -> Result<(Child, u16), SandboxError> {
        let mut last = None;
        for _ in 0..PORT_ATTEMPTS {
            let chosen = match port {
                Some(p) if port_is_free(p) => p,
                Some(p) => return Err(SandboxError::PortInUse { port: p }),
                None => free_port()?,
            };
            match self.start_on(programs, chosen, die_with_parent) {
                Err(StartError::PortTaken(e)) if port.is_none() => last = Some(e),
                Err(StartError::PortTaken(e)) | Err(StartError::Other(e)) => return Err(e),
                Ok(child) => return Ok((child, chosen)),
            }
        }
        Err(last.unwrap_or_else(|| SandboxError::BadSpec("no free port found".into())))
    }

    fn start_on(
        &self,
        programs: &Programs,
        port: u16,
        die_with_parent: bool,
    ) -> Result<Child, StartError> {
        std::fs::create_dir_all(&self.tmpdir).map_err(|e| {
            StartError::Other(SandboxError::io(
                format!("creating {}", self.tmpdir.display()),
                e,
            ))
        })?;
        // A stale pid file or socket from a killed run would confuse mariadbd.
        let _ = std::fs::remove_file(&self.pid_file);
        let _ = std::fs::remove_file(&self.socket);
        let log_start = std::fs::metadata(&self.log).map(|m| m.len()).unwrap_or(0);
        let mut child =
            process::spawn(self.command(programs, port), die_with_parent).map_err(|e| {
                StartError::Other(SandboxError::io(
                    format!("starting {}", programs.mariadbd.display()),
                    e,
                ))
            })?;
        let mut exited = None;
        let ready = process::wait_until(START_TIMEOUT, Duration::from_millis(50), || {
            if let Ok(Some(status)) = child.try_wait() {
                exited = Some(status);
                return true;
            }
            self.socket.exists()
                && process::run_sql(
                    programs,
                    &self.name,
                    Endpoint::Socket(&self.socket),
                    "SELECT 1",
                )
                .is_ok()
        });
        if let Some(status) = exited {
            let new_log = log_since(&self.log, log_start);
            let err = self.failed(port, format!("mariadbd exited with {status}"));
            if new_log.contains("Address already in use") || new_log.contains("Bind on TCP/IP port")
            {
                return Err(StartError::PortTaken(err));
            }
            return Err(StartError::Other(err));
        }
        if !ready {
            let _ = child.kill();
            let _ = child.wait();
            let secs = START_TIMEOUT.as_secs();
            return Err(StartError::Other(
                self.failed(port, format!("no answer on its socket within {secs} s")),
            ));
        }
        Ok(child)
    }

    /// A start failure carrying the tail of the error log.
    pub fn failed(&self, port: u16, reason: String) -> SandboxError {
        SandboxError::StartFailed {
            server: self.name.clone(),
            port,
            reason,
            log: self.log.clone(),
            log_tail: process::tail(&self.log, 25),
        }
    }
}

enum StartError {
    PortTaken(SandboxError),
    Other(SandboxError),
}

/// What the error log gained since it was `from` bytes long.
fn log_since(log: &Path, from: u64) -> String {
    let bytes = std::fs::read(log).unwrap_or_default();
    let from = usize::try_from(from).unwrap_or(0).min(bytes.len());
    String::from_utf8_lossy(&bytes[from..]).into_owned()
}

/// Whether 127.0.0.1:`port` can be bound right now.
pub(crate) fn port_is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// A port the kernel says is free, never one this process handed out before.
fn free_port() -> Result<u16, SandboxError> {
    let mut taken = TAKEN_PORTS
        .lock()
        .map_err(|_| SandboxError::BadSpec("port registry lock poisoned".into()))?;
    let taken = taken.get_or_insert_with(HashSet::new);
    for _ in 0..100 {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .map_err(|e| SandboxError::io("binding 127.0.0.1:0 to find a free port", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| SandboxError::io("reading a bound port", e))?
            .port();
        if taken.insert(port) {
            return Ok(port);
        }
    }
    Err(SandboxError::BadSpec("no free port found".into()))
}

/// Stops a server: SIGTERM (a clean shutdown), then SIGKILL after a timeout.
/// With our own `child` we reap it; otherwise we poll the pid.
pub(crate) fn stop(pid: u32, child: Option<&mut Child>, sig: i32) -> Result<(), SandboxError> {
    process::signal(pid, sig).map_err(|e| SandboxError::io(format!("signalling pid {pid}"), e))?;
    let mut child = child;
    let mut gone = || match child.as_deref_mut() {
        Some(c) => !matches!(c.try_wait(), Ok(None)),
        None => !process::alive(pid),
    };
    if process::wait_until(STOP_TIMEOUT, Duration::from_millis(20), &mut gone) {
        return Ok(());
    }
    process::signal(pid, libc::SIGKILL)
        .map_err(|e| SandboxError::io(format!("killing pid {pid}"), e))?;
    if process::wait_until(Duration::from_secs(10), Duration::from_millis(20), gone) {
        Ok(())
    } else {
        Err(SandboxError::Timeout {
            what: format!("pid {pid} to exit after SIGKILL"),
            secs: 10,
        })
    }
}
