//! `PROMOTE REPLICA [n] OF SHARD name` (admins only; the gate in [`super::admin`] refuses it to
//! others with 1227): runs [`crate::execute::promote::promote`], puts the shard's replicas out
//! of rotation until the health checker has seen them under their new primary, records the new
//! servers in the topology file, and answers one row saying what was done.

use super::Shared;
use crate::config::topology::{self, ShardServers};
use crate::error::{ProxyError, Result};
use crate::execute::promote::promote;
use crate::execute::{Outcome, RowSet};
use crate::frontend::packets::ColumnDef;
use mysql_async::Value;
use mysql_async::consts::ColumnType;
use std::sync::Arc;

/// One promotion at a time across the proxy's sessions: two at once could each pick a
/// different replica of the same shard.
static PROMOTING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn error(message: String) -> ProxyError {
    ProxyError::Sql {
        code: 1105,
        state: "HY000",
        message,
    }
}

/// Promotes replica `replica` (the most advanced when `None`) of the shard named `name`.
pub(super) async fn run(sh: &Shared, name: &str, replica: Option<usize>) -> Result<Outcome> {
    let Some(shard) = sh
        .rules
        .shards
        .iter()
        .position(|s| s.name.eq_ignore_ascii_case(name))
    else {
        let names: Vec<&str> = sh.rules.shards.iter().map(|s| s.name.as_str()).collect();
        return Err(error(format!(
            "PROMOTE: there is no shard named '{name}' (the rules declare {})",
            names.join(", ")
        )));
    };
    let _one = PROMOTING.lock().await;
    let weights: Vec<u32> = sh
        .health
        .shard(shard)
        .map(|h| h.replicas.iter().map(|r| r.weight).collect())
        .unwrap_or_default();
    let wait = sh.rules.proxy.backend_timeout;
    let done = promote(&sh.backends, shard, replica, wait).await?;
    let weights: Vec<u32> = (0..weights.len())
        .filter(|r| *r != done.replica)
        .map(|r| weights[r])
        .collect();
    sh.health.reset_shard(shard, &weights);
    let shard_name = sh.backends.shard_name(shard).to_string();
    let address = |u: &str| crate::config::url::check_mysql_url(u).unwrap_or_default();
    tracing::warn!(
        "shard {shard_name}: replica {} ({}) is the primary now (applied {})",
        done.replica,
        address(&done.primary),
        done.applied
    );
    let recorded = match &sh.rules.proxy.topology_file {
        None => {
            "no topology_file in the rules: a restart goes back to the rules' primary".to_string()
        }
        Some(path) => match topology::record(
            path,
            ShardServers {
                name: shard_name.clone(),
                primary: done.primary.clone(),
                replicas: done.replicas.clone(),
            },
        ) {
            Ok(()) => path.display().to_string(),
            Err(e) => {
                tracing::error!("shard {shard_name}: the promotion was not recorded: {e}");
                format!("NOT RECORDED ({e}): a restart would go back to the old primary")
            }
        },
    };
    let not_repointed: Vec<String> = done
        .not_repointed
        .iter()
        .map(|(server, why)| format!("{server}: {why}"))
        .collect();
    let text = ColumnType::MYSQL_TYPE_VAR_STRING;
    let columns = vec![
        ColumnDef::synthetic("shard", text),
        ColumnDef::synthetic("promoted_replica", ColumnType::MYSQL_TYPE_LONGLONG),
        ColumnDef::synthetic("primary", text),
        ColumnDef::synthetic("applied_gtid", text),
        ColumnDef::synthetic("old_primary", text),
        ColumnDef::synthetic("replicas_not_following", text),
        ColumnDef::synthetic("recorded_in", text),
    ];
    let s = |v: &str| Value::Bytes(v.as_bytes().to_vec());
    let row = vec![
        s(&shard_name),
        Value::UInt(done.replica as u64),
        s(&address(&done.primary)),
        s(&done.applied.to_string()),
        s(if done.old_primary_answered {
            "answered: made read-only, out of the shard"
        } else {
            "did not answer: out of the shard"
        }),
        if not_repointed.is_empty() {
            Value::NULL
        } else {
            s(&not_repointed.join("; "))
        },
        s(&recorded),
    ];
    Ok(Outcome::Rows(RowSet {
        columns: Arc::new(columns),
        rows: vec![row],
        ..Default::default()
    }))
}
