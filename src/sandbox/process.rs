//! Process plumbing: finding the MariaDB programs, spawning servers (optionally
//! tied to this process's life), signalling them and running SQL through the client.

use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use super::SandboxError;

/// The MariaDB programs a sandbox needs.
#[derive(Debug, Clone)]
pub(crate) struct Programs {
    pub mariadbd: PathBuf,
    pub client: PathBuf,
    pub install_db: PathBuf,
}

impl Programs {
    /// Finds the programs in PATH, then in the sbin directories (mariadbd lives in
    /// /usr/sbin, which is not on every user's PATH).
    pub fn find() -> Result<Programs, SandboxError> {
        Ok(Programs {
            mariadbd: find_program(&["mariadbd", "mysqld"], "mariadbd", "mariadb-server")?,
            client: find_program(&["mariadb", "mysql"], "mariadb", "mariadb-client")?,
            install_db: find_program(
                &["mariadb-install-db", "mysql_install_db"],
                "mariadb-install-db",
                "mariadb-server",
            )?,
        })
    }
}

fn find_program(
    names: &[&str],
    program: &'static str,
    package: &'static str,
) -> Result<PathBuf, SandboxError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.extend(["/usr/sbin", "/usr/local/sbin", "/usr/bin"].map(PathBuf::from));
    for name in names {
        for dir in &dirs {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(SandboxError::MissingProgram { program, package })
}

/// A spawn request for the long-lived spawner thread.
struct Request {
    cmd: Command,
    reply: mpsc::Sender<io::Result<Child>>,
}

/// The spawner thread's inbox; `None` if the thread could not be created.
static SPAWNER: OnceLock<Option<Mutex<mpsc::Sender<Request>>>> = OnceLock::new();

/// Spawns `cmd` with stdio detached.
///
/// With `die_with_parent`, the child gets `PR_SET_PDEATHSIG = SIGKILL`. That signal
/// fires when the *thread* that forked the child exits, and test threads exit all
/// the time, so such children are forked by one dedicated thread that lives as long
/// as the process. Without it, the child starts its own session (`setsid`) so that a
/// Ctrl-C in the terminal that ran `shardgate sandbox up` does not reach it.
pub(crate) fn spawn(mut cmd: Command, die_with_parent: bool) -> io::Result<Child> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if !die_with_parent {
        // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        return cmd.spawn();
    }
    let inbox = SPAWNER
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Request>();
            thread::Builder::new()
                .name("sandbox-spawner".into())
                .spawn(move || spawner_loop(rx))
                .ok()
                .map(|_| Mutex::new(tx))
        })
        .as_ref()
        .ok_or_else(|| io::Error::other("could not start the sandbox spawner thread"))?;
    let (reply, answer) = mpsc::channel();
    inbox
        .lock()
        .map_err(|_| io::Error::other("sandbox spawner lock poisoned"))?
        .send(Request { cmd, reply })
        .map_err(|_| io::Error::other("sandbox spawner thread is gone"))?;
    answer
        .recv()
        .map_err(|_| io::Error::other("sandbox spawner thread is gone"))?
}

/// Forks every requested child, then (never, in practice) parks forever: this
/// thread must outlive the children it forked.
fn spawner_loop(rx: mpsc::Receiver<Request>) {
    let parent = std::process::id();
    for Request { mut cmd, reply } in rx {
        // SAFETY: prctl, getppid and _exit are async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(io::Error::last_os_error());
                }
                // The parent may have died before prctl took effect.
                if libc::getppid() as u32 != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
        // The requester may have given up; nothing to do then.
        let _ = reply.send(cmd.spawn());
    }
    loop {
        thread::park();
    }
}

/// Sends `signal` to `pid`; a process that is already gone is not an error.
pub(crate) fn signal(pid: u32, signal: i32) -> io::Result<()> {
    // SAFETY: plain syscall.
    let rc = unsafe { libc::kill(pid as libc::pid_t, signal) };
    if rc == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::ESRCH) {
        Ok(())
    } else {
        Err(err)
    }
}

/// Whether a process with this pid exists (zombies count: reap your own children).
pub(crate) fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Whether `pid` is a MariaDB server started on `datadir` (guards against pid reuse).
/// Without /proc we cannot tell, and trust the pid file.
pub(crate) fn is_server_on(pid: u32, datadir: &Path) -> bool {
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(bytes) => {
            let cmdline = String::from_utf8_lossy(&bytes);
            cmdline.contains(&*datadir.to_string_lossy())
        }
        // No such process, or no /proc at all (then trust the pid file).
        Err(_) => !Path::new("/proc/self").exists(),
    }
}

/// Waits until `done` says yes, polling every `step`; false on timeout.
pub(crate) fn wait_until(
    timeout: Duration,
    step: Duration,
    mut done: impl FnMut() -> bool,
) -> bool {
    let start = Instant::now();
    loop {
        if done() {
            return true;
        }
        if start.elapsed() >= timeout {
            return false;
        }
        thread::sleep(step);
    }
}

/// Where the client connects.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Endpoint<'a> {
    /// The server's Unix socket (root@localhost).
    Socket(&'a Path),
    /// TCP on 127.0.0.1 (root@127.0.0.1).
    Tcp(u16),
}

/// Runs `sql` with the `mariadb` client as root in batch mode without column
/// names; returns stdout without its final newline.
pub(crate) fn run_sql(
    programs: &Programs,
    server: &str,
    endpoint: Endpoint<'_>,
    sql: &str,
) -> Result<String, SandboxError> {
    run_client(programs, server, endpoint, sql, false)
}

/// Runs one statement and prints its rows vertically (`Name: value` lines).
pub(crate) fn run_sql_vertical(
    programs: &Programs,
    server: &str,
    endpoint: Endpoint<'_>,
    sql: &str,
) -> Result<String, SandboxError> {
    run_client(programs, server, endpoint, sql, true)
}

fn run_client(
    programs: &Programs,
    server: &str,
    endpoint: Endpoint<'_>,
    sql: &str,
    vertical: bool,
) -> Result<String, SandboxError> {
    let mut cmd = Command::new(&programs.client);
    cmd.args(["--no-defaults", "-uroot", "--batch", "--connect-timeout=5"]);
    cmd.arg(if vertical {
        "--vertical"
    } else {
        "--skip-column-names"
    });
    match endpoint {
        Endpoint::Socket(path) => {
            cmd.arg(format!("--socket={}", path.display()));
        }
        Endpoint::Tcp(port) => {
            cmd.args(["--protocol=TCP", "-h127.0.0.1"])
                .arg(format!("-P{port}"));
        }
    }
    let out = cmd
        .arg("-e")
        .arg(sql)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| SandboxError::io(format!("running {}", programs.client.display()), e))?;
    if !out.status.success() {
        return Err(SandboxError::Sql {
            server: server.to_string(),
            sql: sql.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    if text.ends_with('\n') {
        text.pop();
    }
    Ok(text)
}

/// The last `lines` lines of a text file (empty if unreadable).
pub(crate) fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
