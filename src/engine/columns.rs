//! The table columns the router needs for an INSERT without a column list (read through
//! `backend::columns`), and forgetting them after statements that may change a table.

use super::{SessionState, Shared};
use crate::error::Result;
use crate::route::router;
use crate::sql::analyze::{Analysis, Kind};
use std::sync::Arc;

/// For an `INSERT INTO t VALUES (...)` into a sharded table: the table's columns in order.
/// A row whose number of values differs from the cached list reads them again first (a
/// column added or dropped on the backends since), so only a real mismatch reaches the
/// client as 1136.
pub(super) async fn for_insert(
    sh: &Shared,
    st: &SessionState,
    a: &Analysis,
) -> Result<Option<Arc<[String]>>> {
    let Some(p) = router::positional_insert(&sh.rules, st.schema.as_deref(), a)? else {
        return Ok(None);
    };
    let get = |fresh| {
        sh.columns
            .get(&sh.backends, p.shard, &p.schema, &p.table, fresh)
    };
    let columns = get(false).await?;
    if p.row_lengths.iter().any(|&n| n != columns.len()) {
        return Ok(Some(get(true).await?));
    }
    Ok(Some(columns))
}

/// Forgets the columns of every table a statement that may change tables names (DDL, and
/// statements the analysis does not classify, such as RENAME TABLE), whether it succeeded or
/// not: a DDL may have run on some shards only.
pub(super) fn forget(sh: &Shared, st: &SessionState, a: &Analysis) {
    match &a.kind {
        Kind::Select | Kind::Insert | Kind::Update | Kind::Delete => {}
        Kind::Database { name } => sh.columns.forget_schema(name),
        Kind::Ddl | Kind::Other => {
            for t in &a.tables {
                if let Some(schema) = t.schema.as_deref().or(st.schema.as_deref()) {
                    sh.columns.forget(schema, &t.name);
                    // A split table's columns are read from one of its physical tables.
                    if let Some(rule) = sh.rules.schema(schema).and_then(|s| s.table(&t.name))
                        && let Some(split) = &rule.split
                    {
                        for name in split.physical_names(&rule.name) {
                            sh.columns.forget(schema, &name);
                        }
                    }
                }
            }
        }
    }
}

/// After an INSERT into a table the proxy does not number, on `shard`, that the backend
/// answered with a non-zero insert id: whether the server generated it. MySQL's OK packet
/// also carries an explicit value given to an AUTO_INCREMENT column, which `LAST_INSERT_ID()`
/// does not take; the table's AUTO_INCREMENT column (read from the backend, cached) tells the
/// two apart. When that cannot be told (INSERT ... SELECT, a backend that does not answer),
/// the id counts as generated, as before.
pub(super) async fn backend_generated(
    sh: &Shared,
    st: &SessionState,
    a: &Analysis,
    shard: crate::config::ShardId,
    params: &[mysql_async::Value],
    no_auto_value_on_zero: bool,
) -> bool {
    let Some(t) = a.tables.first() else {
        return true;
    };
    let Ok((schema, _)) = router::resolve(&sh.rules, st.schema.as_deref(), t) else {
        return true;
    };
    let Ok(Some(column)) = sh
        .columns
        .auto_increment(&sh.backends, shard, &schema.name, &t.name)
        .await
    else {
        return true;
    };
    let listed = matches!(&a.stmt, sqlparser::ast::Statement::Insert(i) if !i.columns.is_empty());
    let table_columns = if listed {
        None
    } else {
        match sh
            .columns
            .get(&sh.backends, shard, &schema.name, &t.name, false)
            .await
        {
            Ok(c) => Some(c),
            Err(_) => return true,
        }
    };
    router::all_explicit(
        a,
        table_columns.as_deref(),
        &column,
        params,
        no_auto_value_on_zero,
    ) != Some(true)
}
