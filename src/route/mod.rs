//! TEMPORARY STUB (replaced by the real route module at merge).
pub mod router;
use crate::config::KeyType;
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key { Int(i64), Str(String) }
impl Key { pub fn coerce(_kt: KeyType, v: &mysql_common::value::Value) -> Result<Key, RouteError> { match v { mysql_common::value::Value::Int(i) => Ok(Key::Int(*i)), _ => Ok(Key::Str(String::new())) } } }
#[derive(Debug, thiserror::Error)]
pub enum RouteError { #[error("no shard for {key} in {table}")] NoShardForKey { table: String, key: String }, #[error("bad key")] BadKey { table: String, value: String, expected: KeyType } }
