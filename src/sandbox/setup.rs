//! Building a sandbox's servers: one `mariadb-install-db` into a template, copies
//! of it for every server, root over TCP, and replication for the replicas.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::SandboxError;
use super::process::{self, Endpoint, Programs};
use super::server::Layout;

/// How long a replica's IO and SQL threads may take to start.
const REPLICATION_TIMEOUT: Duration = Duration::from_secs(30);

/// Creates fresh system tables in `datadir` (about a second; done once per sandbox),
/// using `tmpdir` (created) for its temporary tables: a shared /tmp is not safe, as
/// every starting mariadbd deletes the `#sql*` files it finds there.
pub(crate) fn install_template(
    programs: &Programs,
    datadir: &Path,
    tmpdir: &Path,
) -> Result<(), SandboxError> {
    std::fs::create_dir_all(tmpdir)
        .map_err(|e| SandboxError::io(format!("creating {}", tmpdir.display()), e))?;
    let mut cmd = Command::new(&programs.install_db);
    cmd.arg("--no-defaults")
        .arg(format!("--datadir={}", datadir.display()))
        .arg(format!("--tmpdir={}", tmpdir.display()))
        .args([
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
            // Passed through to mariadbd: the servers must use the same redo log size.
            "--innodb-log-file-size=8M",
        ]);
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        cmd.arg("--user=root");
    }
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| SandboxError::io(format!("running {}", programs.install_db.display()), e))?;
    if out.status.success() {
        return Ok(());
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    Err(SandboxError::InstallDb {
        datadir: datadir.to_path_buf(),
        output: lines[lines.len().saturating_sub(25)..].join("\n"),
    })
}

/// Copies a directory tree of plain files (a data directory).
pub(crate) fn copy_tree(from: &Path, to: &Path) -> Result<(), SandboxError> {
    let ctx = |what: &str, p: &Path| format!("{what} {}", p.display());
    std::fs::create_dir_all(to).map_err(|e| SandboxError::io(ctx("creating", to), e))?;
    let entries = std::fs::read_dir(from).map_err(|e| SandboxError::io(ctx("reading", from), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| SandboxError::io(ctx("reading", from), e))?;
        let src = entry.path();
        let dst = to.join(entry.file_name());
        let kind = entry
            .file_type()
            .map_err(|e| SandboxError::io(ctx("inspecting", &src), e))?;
        if kind.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(|e| SandboxError::io(ctx("copying", &src), e))?;
        }
    }
    Ok(())
}

/// Lets root log in over TCP from 127.0.0.1 without a password (the installer
/// usually creates that account already; this makes sure). Kept out of the binlog
/// so replicas do not replay it.
pub(crate) fn grant_root(programs: &Programs, layout: &Layout) -> Result<(), SandboxError> {
    let sql = "SET sql_log_bin = 0; \
               CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; \
               GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;";
    process::run_sql(
        programs,
        &layout.name,
        Endpoint::Socket(&layout.socket),
        sql,
    )?;
    Ok(())
}

/// The backend account the proxy uses (see [`create_proxy_account`]).
pub const PROXY_USER: &str = "shardgate";
/// Its password. The sandbox is a local test bed (root has no password either); the rules file
/// it writes carries this in the shards' URLs.
pub const PROXY_PASSWORD: &str = "shardgate";

/// Creates the account the proxy connects as, with only the rights the proxy needs, rather
/// than root: behind a proxy that is a privilege boundary, the backend account is the last
/// line of defence. Its only global privileges are replication monitoring (`BINLOG MONITOR`,
/// `SLAVE MONITOR`: GTID positions and replica state, which read/write splitting and lag
/// checks read) and what `PROMOTE REPLICA` does (`READ_ONLY ADMIN`: `SET GLOBAL read_only`;
/// `REPLICATION SLAVE ADMIN`: `STOP SLAVE`, `CHANGE MASTER`; `RELOAD`: `RESET SLAVE ALL`); each
/// logical schema is granted with [`grant_schema_sql`]. Created on
/// every server with the binlog off, like root's, so that replicas have it whatever their
/// replication state. (XA needs no privilege on MariaDB 10.11: `XA RECOVER` lists every
/// prepared transaction to any account, which recovery after a crash relies on.)
pub(crate) fn create_proxy_account(
    programs: &Programs,
    layout: &Layout,
) -> Result<(), SandboxError> {
    let sql = format!(
        "SET sql_log_bin = 0; \
         CREATE USER IF NOT EXISTS '{PROXY_USER}'@'127.0.0.1' IDENTIFIED BY '{PROXY_PASSWORD}'; \
         GRANT BINLOG MONITOR, SLAVE MONITOR, READ_ONLY ADMIN, REPLICATION SLAVE ADMIN, RELOAD ON *.* TO '{PROXY_USER}'@'127.0.0.1'; \
         GRANT ALL PRIVILEGES ON `shardgate`.* TO '{PROXY_USER}'@'127.0.0.1';"
    );
    process::run_sql(
        programs,
        &layout.name,
        Endpoint::Socket(&layout.socket),
        &sql,
    )?;
    Ok(())
}

/// The GRANT that lets the proxy's account use the logical schema `db`: every privilege on
/// that database (tables, DDL, the schema itself, the `shardgate_sequences` table, stored
/// routines, triggers, views, events), nothing outside it. `_` and `%` are escaped: in a
/// GRANT they are wildcards.
pub fn grant_schema_sql(db: &str) -> String {
    let mut name = String::with_capacity(db.len() + 4);
    for c in db.chars() {
        match c {
            '`' => name.push_str("``"),
            '_' | '%' | '\\' => {
                name.push('\\');
                name.push(c);
            }
            c => name.push(c),
        }
    }
    format!("GRANT ALL PRIVILEGES ON `{name}`.* TO '{PROXY_USER}'@'127.0.0.1'")
}

/// Points a replica at its primary (GTID, root as the replication user) and starts it.
pub(crate) fn start_replication(
    programs: &Programs,
    replica: &Layout,
    primary_port: u16,
) -> Result<(), SandboxError> {
    let sql = format!(
        "STOP SLAVE; \
         CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primary_port}, \
         MASTER_USER='root', MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos, \
         MASTER_CONNECT_RETRY=1; \
         START SLAVE;"
    );
    process::run_sql(
        programs,
        &replica.name,
        Endpoint::Socket(&replica.socket),
        &sql,
    )?;
    wait_replication(programs, replica)
}

/// Waits until `SHOW SLAVE STATUS` says both threads run.
pub(crate) fn wait_replication(programs: &Programs, replica: &Layout) -> Result<(), SandboxError> {
    let mut last = String::new();
    let running = process::wait_until(REPLICATION_TIMEOUT, Duration::from_millis(50), || {
        let status = process::run_sql_vertical(
            programs,
            &replica.name,
            Endpoint::Socket(&replica.socket),
            "SHOW SLAVE STATUS",
        );
        last = match status {
            Ok(text) => text,
            Err(e) => e.to_string(),
        };
        field(&last, "Slave_IO_Running") == Some("Yes")
            && field(&last, "Slave_SQL_Running") == Some("Yes")
    });
    if running {
        return Ok(());
    }
    let detail = [
        "Slave_IO_Running",
        "Slave_SQL_Running",
        "Last_IO_Error",
        "Last_SQL_Error",
    ]
    .iter()
    .map(|f| format!("{f}={}", field(&last, f).unwrap_or("?")))
    .collect::<Vec<_>>()
    .join(", ");
    Err(SandboxError::Replication {
        server: replica.name.clone(),
        secs: REPLICATION_TIMEOUT.as_secs(),
        detail,
        log: replica.log.clone(),
    })
}

/// A field of vertical (`\G`) output: `   Name: value`.
fn field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == name).then(|| value.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn reads_vertical_fields() {
        let text = "*** 1. row ***\n  Slave_IO_Running: Yes\n Last_IO_Error: a: b\n";
        assert_eq!(field(text, "Slave_IO_Running"), Some("Yes"));
        assert_eq!(field(text, "Last_IO_Error"), Some("a: b"));
        assert_eq!(field(text, "Slave_SQL_Running"), None);
    }
}
