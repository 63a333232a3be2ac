//! Real MariaDB servers from the system's packages, for the demo and the tests:
//! shards of one primary and N replicas, fresh data directories, binlog replication.
//!
//! Tests start a sandbox with `kill_on_parent_exit` (its servers die with the test
//! process, even from a `static`); `shardgate sandbox up` starts one that outlives
//! the CLI and records it in `DIR/sandbox.toml` and per-server pid files, which
//! `shardgate sandbox down` uses.

mod cli;
mod control;
mod error;
mod process;
mod rules;
mod server;
mod setup;
mod state;

use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use cli::{cli_down, cli_up};
pub use error::SandboxError;
pub use setup::{PROXY_PASSWORD, PROXY_USER, grant_schema_sql};

use process::{Endpoint, Programs};
use server::Layout;
use state::{STATE_FILE, ServerRecord, State};

/// What to start.
#[derive(Debug, Clone)]
pub struct SandboxSpec {
    /// The sandbox directory (created; must be new, empty, or an old sandbox).
    pub dir: PathBuf,
    /// Number of shards (at least 1).
    pub shards: usize,
    /// Replicas per shard.
    pub replicas: usize,
    /// First port; servers take consecutive ports in the order s0, s0r0, ..., s1, ...
    /// 0 = pick free ports.
    pub base_port: u16,
    /// Kill the servers when this process dies (and when the `Sandbox` is dropped,
    /// which then also removes `dir`). For tests; the CLI uses `false`.
    pub kill_on_parent_exit: bool,
}

impl SandboxSpec {
    /// A spec for tests: a unique directory under the system temp dir, free ports,
    /// servers tied to this process. Also removes the directories that earlier,
    /// now dead, test processes left behind.
    pub fn temp(shards: usize, replicas: usize) -> SandboxSpec {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        sweep_stale_temp_dirs();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("{TEMP_PREFIX}{}-{n}", std::process::id());
        SandboxSpec {
            dir: std::env::temp_dir().join(name),
            shards,
            replicas,
            base_port: 0,
            kill_on_parent_exit: true,
        }
    }
}

/// Prefix of the directories `SandboxSpec::temp` creates: `shardgate-sandbox-PID-N`.
const TEMP_PREFIX: &str = "shardgate-sandbox-";

fn sweep_stale_temp_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix(TEMP_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        if pid.is_some_and(|p| !process::alive(p)) {
            // Best effort: another sweeper may be removing it too.
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// One running server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// Its shard (0-based).
    pub shard: usize,
    /// `None` for the primary, else the replica's index.
    pub replica: Option<usize>,
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    /// Its pid when `up` returned (see [`Sandbox::pid`] after a restart).
    pub pid: u32,
    /// Its data directory.
    pub datadir: PathBuf,
}

impl ServerInfo {
    /// `mysql://root@127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}", self.port)
    }

    /// `mysql://shardgate:PASSWORD@127.0.0.1:PORT`: the limited account the proxy uses (see
    /// [`PROXY_USER`]).
    pub fn proxy_url(&self) -> String {
        format!(
            "mysql://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{}",
            self.port
        )
    }
}

/// A running set of shards; see the module docs.
#[derive(Debug)]
pub struct Sandbox {
    /// The sandbox directory (absolute).
    pub dir: PathBuf,
    /// Every server, shard by shard, each primary followed by its replicas.
    pub servers: Vec<ServerInfo>,
    shards: usize,
    replicas: usize,
    kill_on_parent_exit: bool,
    programs: Programs,
    layouts: Vec<Layout>,
    /// The processes we started; `None` once stopped.
    children: Mutex<Vec<Option<Child>>>,
}

impl Sandbox {
    /// Starts every server and returns once each accepts connections and every
    /// replica's IO and SQL threads run. Blocking; a 2x1 cluster takes a few seconds.
    pub fn up(spec: &SandboxSpec) -> Result<Sandbox, SandboxError> {
        if spec.shards == 0 {
            return Err(SandboxError::BadSpec("at least one shard is needed".into()));
        }
        let count = spec.shards * (1 + spec.replicas);
        if spec.base_port != 0 && usize::from(spec.base_port) + count > 65536 {
            return Err(SandboxError::BadSpec(format!(
                "{count} ports from {} do not fit below 65536",
                spec.base_port
            )));
        }
        let programs = Programs::find()?;
        let dir = prepare_dir(&spec.dir)?;
        let layouts: Vec<Layout> = (0..spec.shards)
            .flat_map(|s| (0..=spec.replicas).map(move |r| (s, r.checked_sub(1))))
            .enumerate()
            .map(|(i, (s, r))| Layout::new(&dir, s, r, u32::try_from(i + 1).unwrap_or(u32::MAX)))
            .collect();
        if let Some(l) = layouts.iter().find(|l| l.socket.as_os_str().len() > 100) {
            return Err(SandboxError::BadSpec(format!(
                "socket path {} is too long for Unix sockets: use a shorter --dir",
                l.socket.display()
            )));
        }
        let template = dir.join("template");
        let template_tmp = dir.join("template-tmp");
        setup::install_template(&programs, &template, &template_tmp)?;
        let kill = spec.kill_on_parent_exit;
        let started: Vec<Result<(Child, u16), SandboxError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = layouts
                .iter()
                .enumerate()
                .map(|(i, layout)| {
                    let fixed = (spec.base_port != 0).then(|| spec.base_port + i as u16);
                    let (programs, template) = (&programs, &template);
                    scope.spawn(move || {
                        setup::copy_tree(template, &layout.datadir)?;
                        let (mut child, port) = layout.start(programs, fixed, kill)?;
                        let ready = setup::grant_root(programs, layout)
                            .and_then(|()| setup::create_proxy_account(programs, layout))
                            .and_then(|()| {
                                process::run_sql(
                                    programs,
                                    &layout.name,
                                    Endpoint::Tcp(port),
                                    "SELECT 1",
                                )
                            });
                        if let Err(e) = ready {
                            let _ = child.kill();
                            let _ = child.wait();
                            return Err(e);
                        }
                        Ok((child, port))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(SandboxError::BadSpec("start thread panicked".into()))
                    })
                })
                .collect()
        });
        let mut children = Vec::new();
        let mut ports = Vec::new();
        let mut first_error = None;
        for result in started {
            match result {
                Ok((child, port)) => {
                    children.push(Some(child));
                    ports.push(port);
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_error {
            kill_all(&mut children);
            return Err(e);
        }
        // Each server has its own copy now.
        let _ = std::fs::remove_dir_all(&template);
        let _ = std::fs::remove_dir_all(&template_tmp);
        let servers: Vec<ServerInfo> = layouts
            .iter()
            .zip(&ports)
            .zip(&children)
            .map(|((l, &port), child)| ServerInfo {
                shard: l.shard,
                replica: l.replica,
                port,
                pid: child.as_ref().map_or(0, Child::id),
                datadir: l.datadir.clone(),
            })
            .collect();
        let sandbox = Sandbox {
            dir,
            servers,
            shards: spec.shards,
            replicas: spec.replicas,
            kill_on_parent_exit: kill,
            programs,
            layouts,
            children: Mutex::new(children),
        };
        // On error the sandbox is dropped here, which stops servers tied to us; the
        // others must not linger either.
        let ready = sandbox
            .start_all_replication()
            .and_then(|()| sandbox.write_state());
        if let Err(e) = ready {
            if !kill {
                sandbox.kill_children();
            }
            return Err(e);
        }
        Ok(sandbox)
    }

    fn start_all_replication(&self) -> Result<(), SandboxError> {
        std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .layouts
                .iter()
                .zip(&self.servers)
                .filter(|(l, _)| l.replica.is_some())
                .map(|(l, _)| {
                    let primary_port = self.port(l.shard, None)?;
                    Ok(scope
                        .spawn(move || setup::start_replication(&self.programs, l, primary_port)))
                })
                .collect::<Result<_, SandboxError>>()?;
            for h in handles {
                h.join().unwrap_or_else(|_| {
                    Err(SandboxError::BadSpec("replication thread panicked".into()))
                })?;
            }
            Ok(())
        })
    }

    fn write_state(&self) -> Result<(), SandboxError> {
        let servers = self
            .layouts
            .iter()
            .zip(&self.servers)
            .map(|(l, s)| ServerRecord {
                name: l.name.clone(),
                shard: s.shard,
                replica: s.replica,
                port: s.port,
                pid: s.pid,
                url: s.url(),
                datadir: l.datadir.clone(),
                socket: l.socket.clone(),
                pid_file: l.pid_file.clone(),
                error_log: l.log.clone(),
            })
            .collect();
        State {
            shards: self.shards,
            replicas: self.replicas,
            kill_on_parent_exit: self.kill_on_parent_exit,
            owner_pid: std::process::id(),
            servers,
        }
        .write(&self.dir)
    }

    /// The index of a server in `servers`.
    fn index(&self, shard: usize, replica: Option<usize>) -> Result<usize, SandboxError> {
        let in_range = shard < self.shards && replica.is_none_or(|r| r < self.replicas);
        if !in_range {
            return Err(SandboxError::NoSuchServer {
                shard,
                replica,
                shards: self.shards,
                replicas: self.replicas,
            });
        }
        Ok(shard * (1 + self.replicas) + replica.map_or(0, |r| r + 1))
    }

    fn port(&self, shard: usize, replica: Option<usize>) -> Result<u16, SandboxError> {
        Ok(self.servers[self.index(shard, replica)?].port)
    }

    /// SIGKILLs and reaps every server we started (failure paths and `Drop`).
    fn kill_children(&self) {
        match self.children.lock() {
            Ok(mut children) => kill_all(&mut children),
            Err(poisoned) => kill_all(&mut poisoned.into_inner()),
        }
    }
}

fn kill_all(children: &mut [Option<Child>]) {
    for child in children.iter_mut().filter_map(Option::take) {
        let mut child = child;
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Makes `dir` an empty, absolute sandbox directory. An old sandbox there is wiped
/// unless one of its servers still runs; anything else is refused.
fn prepare_dir(dir: &Path) -> Result<PathBuf, SandboxError> {
    let ctx = |what: &str| format!("{what} {}", dir.display());
    if dir.exists() {
        if control::running_servers(dir).next().is_some() {
            return Err(SandboxError::AlreadyRunning {
                dir: dir.to_path_buf(),
            });
        }
        let mut entries =
            std::fs::read_dir(dir).map_err(|e| SandboxError::io(ctx("reading"), e))?;
        let empty = entries.next().is_none();
        let ours = dir.join(STATE_FILE).exists()
            || dir.join("template").exists()
            || dir.join("s0").exists();
        if !empty && !ours {
            return Err(SandboxError::NotASandbox {
                dir: dir.to_path_buf(),
            });
        }
        std::fs::remove_dir_all(dir)
            .map_err(|e| SandboxError::io(ctx("removing old sandbox"), e))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| SandboxError::io(ctx("creating"), e))?;
    dir.canonicalize()
        .map_err(|e| SandboxError::io(ctx("resolving"), e))
}
