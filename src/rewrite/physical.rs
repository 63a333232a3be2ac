//! Physical table names for split tables (see [`crate::config::split`]): each target of a plan
//! whose statement reads or writes a split table runs the statement with the logical name
//! replaced by that target's physical table.
//!
//! The rename is alias-safe. In a SELECT, an UPDATE and a multi-table DELETE, a table reference
//! without an alias becomes `orders_3 AS orders`, so every `orders.col` of the statement (and
//! the result's table name) keeps meaning what the client wrote. Where MariaDB takes no alias
//! (INSERT, a single-table DELETE, DDL), the name is replaced in place and so is every column
//! qualifier naming the table.

use crate::error::{ProxyError, Result};
use crate::plan::{Physical, Plan};
use crate::sql::analyze::Analysis;
use mysql_async::Value;
use sqlparser::ast::{
    Delete, Expr, FromTable, Ident, ObjectName, ObjectNamePart, Statement, TableAlias, TableFactor,
    VisitMut, VisitorMut,
};
use std::ops::ControlFlow;

/// Puts each target's physical table names into its SQL (the target's rewritten SQL, or the
/// client's statement with its parameters inlined).
pub fn apply(plan: &mut Plan, a: &Analysis, params: &[Value], current: Option<&str>) -> Result<()> {
    for t in &mut plan.targets {
        if t.tables.is_empty() {
            continue;
        }
        let mut stmt = match &t.sql {
            Some(sql) => {
                let mut parsed = crate::sql::analyze::parse(sql).map_err(|e| {
                    ProxyError::NotSupported(format!(
                        "a statement on a split table whose per-shard form could not be read again ({e:?})"
                    ))
                })?;
                match parsed.pop() {
                    Some(s) if parsed.is_empty() => s,
                    _ => {
                        return Err(ProxyError::NotSupported(
                            "several statements on a split table in one text".into(),
                        ));
                    }
                }
            }
            None => {
                let mut s = a.stmt.clone();
                super::inline_params(&mut s, params);
                s
            }
        };
        rename(&mut stmt, &t.tables, current);
        t.sql = Some(stmt.to_string());
    }
    Ok(())
}

/// `sql` (a statement the proxy relays as text, such as `SHOW CREATE TABLE t`) with every
/// identifier `logical` (bare or back-quoted, not inside strings or comments) replaced by the
/// back-quoted `physical`.
pub fn rename_in_text(sql: &str, logical: &str, physical: &str) -> String {
    use crate::sql::lexer::{Tok, spanned_tokens};
    let mut out = String::with_capacity(sql.len() + physical.len());
    let mut at = 0;
    for (tok, range) in spanned_tokens(sql, usize::MAX) {
        let hit = match &tok {
            Tok::Word(w) | Tok::Quoted(w) => w.eq_ignore_ascii_case(logical),
            _ => false,
        };
        if hit {
            out.push_str(&sql[at..range.start]);
            out.push('`');
            out.push_str(&physical.replace('`', "``"));
            out.push('`');
            at = range.end;
        }
    }
    out.push_str(&sql[at..]);
    out
}

/// Replaces the split tables of `stmt` by their physical tables (`current`: the session's
/// schema, which unqualified names are in).
pub fn rename(stmt: &mut Statement, tables: &[Physical], current: Option<&str>) {
    let alias = takes_alias(stmt);
    let mut v = Renamer {
        tables,
        current,
        alias,
    };
    let _ = stmt.visit(&mut v);
}

/// Whether the statement's table references may take an alias in MariaDB.
fn takes_alias(stmt: &Statement) -> bool {
    match stmt {
        Statement::Query(_) | Statement::Update(_) => true,
        Statement::Delete(d) => !single_table(d),
        Statement::Explain { statement, .. } => takes_alias(statement),
        _ => false,
    }
}

/// `DELETE FROM t WHERE ...`: MariaDB (before 11.6) takes no alias there.
fn single_table(d: &Delete) -> bool {
    let from = match &d.from {
        FromTable::WithFromKeyword(v) | FromTable::WithoutKeyword(v) => v,
    };
    d.tables.is_empty()
        && d.using.is_none()
        && from.len() == 1
        && from.iter().all(|t| t.joins.is_empty())
}

struct Renamer<'a> {
    tables: &'a [Physical],
    current: Option<&'a str>,
    alias: bool,
}

impl Renamer<'_> {
    /// The physical table for a name of the statement, if it names a split table.
    fn find(&self, schema: Option<&str>, name: &str) -> Option<&Physical> {
        let schema = schema.or(self.current)?;
        self.tables
            .iter()
            .find(|p| p.schema == schema && p.logical.eq_ignore_ascii_case(name))
    }

    /// The physical table of an object name (`t` or `db.t`).
    fn of_name(&self, name: &ObjectName) -> Option<&Physical> {
        match ident_parts(name).as_deref() {
            Some([t]) => self.find(None, t),
            Some([db, t]) => self.find(Some(db), t),
            _ => None,
        }
    }
}

fn ident_parts(name: &ObjectName) -> Option<Vec<&str>> {
    name.0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => Some(i.value.as_str()),
            _ => None,
        })
        .collect()
}

fn quoted(name: &str) -> Ident {
    Ident::with_quote('`', name)
}

/// `name` with its last part replaced by `physical`.
fn set_last(name: &mut ObjectName, physical: &str) {
    if let Some(last) = name.0.last_mut() {
        *last = ObjectNamePart::Identifier(quoted(physical));
    }
}

impl VisitorMut for Renamer<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, tf: &mut TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table { name, alias, .. } = tf
            && let Some(p) = self.of_name(name)
        {
            let (logical, physical) = (p.logical.clone(), p.physical.clone());
            set_last(name, &physical);
            if self.alias && alias.is_none() {
                *alias = Some(TableAlias {
                    explicit: true,
                    name: quoted(&logical),
                    columns: Vec::new(),
                    at: None,
                });
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, name: &mut ObjectName) -> ControlFlow<()> {
        // Names outside table references: an INSERT's table, DDL (a table reference was
        // renamed above and no longer matches).
        if let Some(p) = self.of_name(name) {
            let physical = p.physical.clone();
            set_last(name, &physical);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_statement(&mut self, stmt: &mut Statement) -> ControlFlow<()> {
        // Lists of names that are not visited as relations.
        match stmt {
            Statement::Drop { names, .. } => {
                for n in names {
                    if let Some(p) = self.of_name(n) {
                        let physical = p.physical.clone();
                        set_last(n, &physical);
                    }
                }
            }
            Statement::Truncate(t) => {
                for target in &mut t.table_names {
                    if let Some(p) = self.of_name(&target.name) {
                        let physical = p.physical.clone();
                        set_last(&mut target.name, &physical);
                    }
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        let Expr::CompoundIdentifier(parts) = e else {
            return ControlFlow::Continue(());
        };
        match parts.len() {
            // db.t.col
            3 => {
                let (db, t) = (parts[0].value.clone(), parts[1].value.clone());
                if let Some(p) = self.find(Some(&db), &t) {
                    if self.alias {
                        // The reference is `orders_3 AS orders`: `orders.col`.
                        parts.remove(0);
                    } else {
                        parts[1] = quoted(&p.physical.clone());
                    }
                }
            }
            // t.col, where t is not an alias of another table (then the statement's
            // reference was renamed in place, and so is its qualifier).
            2 if !self.alias => {
                let t = parts[0].value.clone();
                if let Some(p) = self.find(None, &t) {
                    parts[0] = quoted(&p.physical.clone());
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::analyze::analyze;

    fn renamed(sql: &str) -> String {
        let mut stmt = analyze(sql).unwrap().stmt;
        let tables = [Physical {
            schema: "shop".into(),
            logical: "orders".into(),
            physical: "orders_3".into(),
        }];
        rename(&mut stmt, &tables, Some("shop"));
        stmt.to_string()
    }

    #[test]
    fn references_keep_their_meaning() {
        assert_eq!(
            renamed("SELECT orders.id, o2.id FROM orders JOIN orders AS o2 ON o2.id = orders.id"),
            "SELECT orders.id, o2.id FROM `orders_3` AS `orders` JOIN `orders_3` AS o2 ON o2.id = orders.id"
        );
        assert_eq!(
            renamed("SELECT shop.orders.id FROM shop.orders WHERE id = 1"),
            "SELECT orders.id FROM shop.`orders_3` AS `orders` WHERE id = 1"
        );
        assert_eq!(
            renamed("UPDATE orders SET orders.x = 1 WHERE id = 3"),
            "UPDATE `orders_3` AS `orders` SET orders.x = 1 WHERE id = 3"
        );
        assert_eq!(
            renamed("DELETE FROM orders WHERE orders.id = 3"),
            "DELETE FROM `orders_3` WHERE `orders_3`.id = 3"
        );
        assert_eq!(
            renamed("INSERT INTO orders (id) VALUES (3)"),
            "INSERT INTO `orders_3` (id) VALUES (3)"
        );
        assert_eq!(
            renamed("CREATE TABLE orders (id INT PRIMARY KEY)"),
            "CREATE TABLE `orders_3` (id INT PRIMARY KEY)"
        );
        assert_eq!(
            renamed("DROP TABLE IF EXISTS orders"),
            "DROP TABLE IF EXISTS `orders_3`"
        );
        assert_eq!(
            renamed("TRUNCATE TABLE orders"),
            "TRUNCATE TABLE `orders_3`"
        );
        assert_eq!(
            renamed("ALTER TABLE orders ADD COLUMN c INT"),
            "ALTER TABLE `orders_3` ADD COLUMN c INT"
        );
        assert_eq!(
            rename_in_text(
                "SHOW CREATE TABLE shop.`orders` /* orders */",
                "orders",
                "orders_0"
            ),
            "SHOW CREATE TABLE shop.`orders_0` /* orders */"
        );
        // Another schema's table of the same name is another table.
        assert_eq!(
            renamed("SELECT * FROM other.orders"),
            "SELECT * FROM other.orders"
        );
    }
}
