//! Test helper: one table rule built from a `[[schemas.tables]]` body over shards s0..s3.

use crate::config::{Rules, TableRule};
use std::sync::Arc;

/// The rule of table `t` defined by `body` (the lines after `[[schemas.tables]]`).
pub fn table(body: &str) -> Arc<TableRule> {
    let text = format!(
        r#"listen = "127.0.0.1:3307"
[[users]]
name = "u"
password = ""
[[shards]]
name = "s0"
primary = "mysql://u@h0:1"
[[shards]]
name = "s1"
primary = "mysql://u@h1:1"
[[shards]]
name = "s2"
primary = "mysql://u@h2:1"
[[shards]]
name = "s3"
primary = "mysql://u@h3:1"
[[schemas]]
name = "db"
default_shard = "s0"
[[schemas.tables]]
names = ["t"]
{body}
"#
    );
    match Rules::from_toml(&text, "test.toml") {
        Ok(r) => r.schemas[0]
            .table("t")
            .unwrap_or_else(|| panic!("no table t")),
        Err(e) => panic!("bad test rules:\n{e}"),
    }
}
