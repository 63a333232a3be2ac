//! Checks on CREATE/ALTER TABLE through the proxy, made before the statement runs anywhere:
//! what the table is about to declare must agree with its rule, or the data would go wrong
//! later without anyone being told (DESIGN.md: "otherwise say so at DDL time").
//!
//! - An AUTO_INCREMENT column of a sharded table must be the column its rule numbers
//!   (`auto_increment = "id"`), or the rule must say that each shard numbers its own rows
//!   (`auto_increment = false`): otherwise every shard would hand out the same ids.

use super::{Placement, RouteInput, placement};
use crate::config::{AutoIncrement, TableRule};
use crate::error::{ProxyError, Result};
use crate::sql::analyze::table_name;
use sqlparser::ast::{AlterTableOperation, ColumnOption, ColumnOptionDef, Ident, Statement};

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
