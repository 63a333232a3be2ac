//! Checks on CREATE/ALTER TABLE through the proxy, made before the statement runs anywhere:
//! what the table is about to declare must agree with its rule, or the data would go wrong
//! later without anyone being told (DESIGN.md: "otherwise say so at DDL time").
//!
//! - An AUTO_INCREMENT column of a sharded table must be the column its rule numbers
//!   (`auto_increment = "id"`), or the rule must say that each shard numbers its own rows
//!   (`auto_increment = false`): otherwise every shard would hand out the same ids.
//! - A foreign key holds on each shard only if every row's parent row is on the row's shard:
//!   a parent table on every shard of the child (broadcast, or unsharded beside an unsharded
//!   child), or a co-located parent referenced by the shard keys (`FOREIGN KEY (product_id)
//!   REFERENCES products (id)` with products.id and orders.product_id co-located).

use super::dml::co_located;
use super::{Placement, RouteInput, placement, resolve};
use crate::config::{Algorithm, AutoIncrement, TableRule};
use crate::error::{ProxyError, Result};
use crate::sql::analyze::{TableName, table_name};
use sqlparser::ast::{
    AlterTableOperation, ColumnOption, ColumnOptionDef, ForeignKeyConstraint, Ident, ObjectName,
    Statement, TableConstraint,
};

/// Refuses a CREATE/ALTER TABLE whose columns contradict the table's rule.
pub(super) fn check(inp: &RouteInput<'_>) -> Result<()> {
    let (name, columns): (_, Vec<(&Ident, Vec<&ColumnOption>)>) = match &inp.analysis.stmt {
        Statement::CreateTable(ct) => (
            &ct.name,
            ct.columns
                .iter()
                .map(|c| (&c.name, options(&c.options)))
                .collect(),
        ),
        Statement::AlterTable(at) => (
            &at.name,
            at.operations
                .iter()
                .filter_map(|op| match op {
                    AlterTableOperation::AddColumn { column_def, .. } => {
                        Some((&column_def.name, options(&column_def.options)))
                    }
                    AlterTableOperation::ChangeColumn {
                        new_name, options, ..
                    } => Some((new_name, options.iter().collect())),
                    AlterTableOperation::ModifyColumn {
                        col_name, options, ..
                    } => Some((col_name, options.iter().collect())),
                    _ => None,
                })
                .collect(),
        ),
        _ => return Ok(()),
    };
    for (columns, fk) in foreign_keys(&inp.analysis.stmt) {
        check_foreign_key(inp, name, &columns, fk)?;
    }
    let Placement::Sharded(rule) = placement(inp.rules, inp.schema, &table_name(name))? else {
        return Ok(());
    };
    for (column, options) in &columns {
        if options.iter().any(|o| is_auto_increment(o)) {
            auto_increment_column(&rule, &column.value)?;
        }
    }
    // A new table must have the column its rule numbers (`CREATE TABLE ... LIKE`/`AS SELECT`
    // list no columns here: the backend has the last word then).
    if let (Statement::CreateTable(ct), Some(numbered)) =
        (&inp.analysis.stmt, rule.numbered_column())
        && !ct.columns.is_empty()
        && !columns
            .iter()
            .any(|(c, _)| c.value.eq_ignore_ascii_case(numbered))
    {
        return Err(ProxyError::NotSupported(format!(
            "CREATE TABLE `{}` without column `{numbered}`, which its rule numbers (auto_increment = \"{numbered}\"): add the column, or change the rule",
            rule.name
        )));
    }
    Ok(())
}

fn options(defs: &[ColumnOptionDef]) -> Vec<&ColumnOption> {
    defs.iter().map(|d| &d.option).collect()
}

/// MySQL's `AUTO_INCREMENT` column option (sqlparser keeps it as dialect-specific tokens).
fn is_auto_increment(o: &ColumnOption) -> bool {
    matches!(o, ColumnOption::DialectSpecific(tokens)
        if tokens.iter().any(|t| t.to_string().eq_ignore_ascii_case("AUTO_INCREMENT")))
}

/// Refuses an AUTO_INCREMENT `column` that nobody numbers globally.
fn auto_increment_column(rule: &TableRule, column: &str) -> Result<()> {
    match &rule.auto_increment {
        AutoIncrement::PerShard => Ok(()),
        AutoIncrement::Proxy(c) if c.eq_ignore_ascii_case(column) => Ok(()),
        AutoIncrement::Proxy(c) => Err(ProxyError::NotSupported(format!(
            "AUTO_INCREMENT column `{column}` on sharded table `{}`, whose rule numbers `{c}` (auto_increment = \"{c}\"): each shard would number `{column}` on its own and its ids would repeat across shards; make `{c}` the AUTO_INCREMENT column, or change the rule",
            rule.name
        ))),
        AutoIncrement::Undeclared => Err(ProxyError::NotSupported(format!(
            "AUTO_INCREMENT column `{column}` on sharded table `{}` whose rule does not say who numbers it: each shard would number its own rows and ids would repeat across shards. Add auto_increment = \"{column}\" to its rule (the proxy numbers it from a global sequence), or auto_increment = false (each shard numbers its own)",
            rule.name
        ))),
    }
}

/// The foreign keys a CREATE/ALTER TABLE declares, each with its local columns (a column's
/// own `REFERENCES` names no columns: it is that column's).
fn foreign_keys(stmt: &Statement) -> Vec<(Vec<String>, &ForeignKeyConstraint)> {
    let mut columns: Vec<(&Ident, Vec<&ColumnOption>)> = Vec::new();
    let mut constraints: Vec<&TableConstraint> = Vec::new();
    match stmt {
        Statement::CreateTable(ct) => {
            columns.extend(ct.columns.iter().map(|c| (&c.name, options(&c.options))));
            constraints.extend(&ct.constraints);
        }
        Statement::AlterTable(at) => {
            for op in &at.operations {
                match op {
                    AlterTableOperation::AddConstraint { constraint, .. } => {
                        constraints.push(constraint)
                    }
                    AlterTableOperation::AddColumn { column_def, .. } => {
                        columns.push((&column_def.name, options(&column_def.options)))
                    }
                    AlterTableOperation::ChangeColumn {
                        new_name, options, ..
                    } => columns.push((new_name, options.iter().collect())),
                    AlterTableOperation::ModifyColumn {
                        col_name, options, ..
                    } => columns.push((col_name, options.iter().collect())),
                    _ => {}
                }
            }
        }
        _ => {}
    }
    let mut out = Vec::new();
    for (name, opts) in columns {
        for o in opts {
            if let ColumnOption::ForeignKey(fk) = o {
                out.push((vec![name.value.clone()], fk));
            }
        }
    }
    for c in constraints {
        if let TableConstraint::ForeignKey(fk) = c {
            out.push((fk.columns.iter().map(|i| i.value.clone()).collect(), fk));
        }
    }
    out
}

/// Refuses a foreign key of table `child` whose parent rows may live on another shard than
/// the rows referencing them: the constraint, checked by each shard alone, would refuse
/// valid rows or miss dangling ones.
fn check_foreign_key(
    inp: &RouteInput<'_>,
    child: &ObjectName,
    columns: &[String],
    fk: &ForeignKeyConstraint,
) -> Result<()> {
    let child = table_name(child);
    let parent = table_name(&fk.foreign_table);
    // An unqualified parent is in the child's database.
    let parent = TableName {
        schema: parent.schema.or_else(|| child.schema.clone()),
        name: parent.name,
    };
    let (cschema, crule) = resolve(inp.rules, inp.schema, &child)?;
    let (pschema, prule) = resolve(inp.rules, inp.schema, &parent)?;
    let child_shards = match &crule {
        Some(r) => r.shards.clone(),
        None => vec![cschema.default_shard],
    };
    let (c, p) = (&child.name, &parent.name);
    let sharded = |r: &Option<std::sync::Arc<TableRule>>| {
        r.as_ref()
            .filter(|r| !matches!(*r.algorithm, Algorithm::Broadcast))
            .cloned()
    };
    let Some(prule) = sharded(&prule) else {
        // The parent is whole wherever it is: enough if it is on every shard of the child.
        let parent_shards = match &prule {
            Some(r) => r.shards.clone(),
            None => vec![pschema.default_shard],
        };
        if child_shards.iter().all(|s| parent_shards.contains(s)) {
            return Ok(());
        }
        return Err(ProxyError::NotSupported(format!(
            "a foreign key from `{c}` to `{p}`, which is not on every shard holding `{c}`: a shard without the parent rows would refuse the rows referencing them (make `{p}` a broadcast table on those shards, or drop the foreign key)"
        )));
    };
    let Some(crule) = sharded(&crule)
        .filter(|r| co_located((&cschema.name, r.as_ref()), (&pschema.name, prule.as_ref())))
    else {
        return Err(ProxyError::NotSupported(format!(
            "a foreign key from `{c}` to sharded table `{p}`, which are not co-located: a row and the row it references may be on different shards, where the constraint cannot find it (declare both in [[schemas.colocated]] and reference the shard key, or drop the foreign key)"
        )));
    };
    let (ckey, pkey) = (
        crule.key.as_deref().unwrap_or(""),
        prule.key.as_deref().unwrap_or(""),
    );
    let pairs_keys = columns
        .iter()
        .zip(&fk.referred_columns)
        .any(|(l, r)| l.eq_ignore_ascii_case(ckey) && r.value.eq_ignore_ascii_case(pkey));
    if pairs_keys {
        return Ok(());
    }
    Err(ProxyError::NotSupported(format!(
        "a foreign key from `{c}` ({}) to `{p}` ({}) that does not pair their shard keys (`{c}`.`{ckey}` referencing `{p}`.`{pkey}`): a row and the row it references may be on different shards (reference the shard key, or drop the foreign key)",
        columns.join(", "),
        fk.referred_columns
            .iter()
            .map(|i| i.value.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )))
}
