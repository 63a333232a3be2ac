//! SQL-level prepared statements (`PREPARE s FROM ...`, `EXECUTE s USING @a`,
//! `DEALLOCATE PREPARE s`), as the mariadb CLI and scripts use them. The statement belongs to
//! the session, like a binary-protocol one: each EXECUTE is analysed and routed by its values,
//! never answered by whichever shard happened to prepare it.

use super::{SessionState, Shared};
use crate::error::{ProxyError, Result};
use crate::execute::{OkInfo, Outcome};
use crate::sql::command::{self, PrepareFrom};
use mysql_async::Value;

/// A statement prepared with `PREPARE`.
#[derive(Clone, Debug)]
pub struct SqlPrepared {
    /// The statement text (in the lossless form of `sql::text`).
    pub sql: String,
    /// Its number of `?` placeholders.
    pub params: usize,
}

fn unknown(name: &str, what: &str) -> ProxyError {
    ProxyError::Sql {
        code: 1243,
        state: "HY000",
        message: format!("Unknown prepared statement handler ({name}) given to {what}"),
    }
}

/// `PREPARE name FROM 'text' | @var`: checked by preparing it on a backend (so syntax errors
/// and unknown tables are reported now, as MySQL does), then kept for the session.
pub(super) async fn prepare(
    sh: &Shared,
    st: &mut SessionState,
    name: &str,
    from: PrepareFrom,
) -> Result<Outcome> {
    let bytes = match from {
        PrepareFrom::Text(b) => b,
        PrepareFrom::Var(v) => st
            .user_vars
            .get(&v)
            .and_then(|x| x.text())
            .unwrap_or_else(|| b"NULL".to_vec()),
    };
    let sql = crate::sql::text::decode(&bytes).trim().to_string();
    // A new PREPARE of the same name replaces the old statement even when it fails.
    st.sql_prepared.remove(&name.to_ascii_lowercase());
    if sql.is_empty() {
        return Err(ProxyError::Sql {
            code: 1065,
            state: "42000",
            message: "Query was empty".into(),
        });
    }
    if matches!(
        command::classify(&sql),
        command::Command::Prepare { .. }
            | command::Command::Execute { .. }
            | command::Command::Deallocate(_)
    ) {
        return Err(ProxyError::Sql {
            code: 1295,
            state: "HY000",
            message: "This command is not supported in the prepared statement protocol yet".into(),
        });
    }
    let (params, _) = super::prepare(sh, st, &sql).await?;
    st.sql_prepared
        .insert(name.to_ascii_lowercase(), SqlPrepared { sql, params });
    Ok(Outcome::Ok(OkInfo {
        info: "Statement prepared".into(),
        ..Default::default()
    }))
}

/// `EXECUTE name [USING @a, 5, ...]`: the statement runs as if the client had sent it, with the
/// values (user variables, literals, expressions) bound to its placeholders.
pub(super) async fn execute(
    sh: &Shared,
    st: &mut SessionState,
    name: &str,
    using: &[String],
) -> Result<Outcome> {
    let Some(p) = st.sql_prepared.get(&name.to_ascii_lowercase()).cloned() else {
        return Err(unknown(name, "EXECUTE"));
    };
    if using.len() != p.params {
        return Err(ProxyError::Sql {
            code: 1210,
            state: "HY000",
            message: "Incorrect arguments to EXECUTE".into(),
        });
    }
    let mut values: Vec<Value> = Vec::with_capacity(using.len());
    for expr in using {
        values.push(super::vars::evaluate(sh, st, expr).await?.param());
    }
    let cmd = command::classify(&p.sql);
    let params = (!values.is_empty()).then_some(values.as_slice());
    super::enter(st)?;
    let r = Box::pin(super::dispatch(sh, &mut *st, &p.sql, params, cmd)).await;
    st.nesting -= 1;
    r
}

/// `DEALLOCATE PREPARE name` / `DROP PREPARE name`.
pub(super) fn deallocate(st: &mut SessionState, name: &str) -> Result<Outcome> {
    match st.sql_prepared.remove(&name.to_ascii_lowercase()) {
        Some(_) => Ok(Outcome::Ok(OkInfo::default())),
        None => Err(unknown(name, "DEALLOCATE PREPARE")),
    }
}
