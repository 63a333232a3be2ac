//! TEMPORARY STUB (replaced by the real config module at merge).
use crate::route::{Key, RouteError};
use std::ops::Bound;
use std::sync::Arc;
use std::time::Duration;
pub type ShardId = usize;
pub struct Rules { pub listen: String, pub proxy: ProxySettings, pub users: Vec<User>, pub shards: Vec<Shard>, pub schemas: Vec<Schema> }
impl Rules {
    pub fn from_toml(_text: &str, _origin: &str) -> Result<Rules, ConfigErrors> { Err(ConfigErrors(vec![])) }
    pub fn load(_path: &std::path::Path) -> Result<Rules, ConfigErrors> { Err(ConfigErrors(vec![])) }
    pub fn schema(&self, name: &str) -> Option<&Schema> { self.schemas.iter().find(|s| s.name == name) }
    pub fn user(&self, name: &str) -> Option<&User> { self.users.iter().find(|s| s.name == name) }
}
#[derive(Clone)]
pub struct ProxySettings { pub backend_timeout: Duration, pub transaction_timeout: Duration, pub max_connections: usize, pub plan_cache_size: usize, pub id_block_size: u64 }
pub struct User { pub name: String, pub password: String, pub schemas: Option<Vec<String>> }
impl User { pub fn may_use(&self, _schema: &str) -> bool { true } }
pub struct Shard { pub name: String, pub primary: String, pub replicas: Vec<String> }
pub struct Schema { pub name: String, pub default_shard: ShardId, tables: Vec<Arc<TableRule>> }
impl Schema {
    pub fn table(&self, name: &str) -> Option<&Arc<TableRule>> { self.tables.iter().find(|t| t.name.eq_ignore_ascii_case(name)) }
    pub fn tables(&self) -> impl Iterator<Item = &Arc<TableRule>> { self.tables.iter() }
}
pub struct TableRule { pub name: String, pub algorithm: Algorithm, pub key: Option<String>, pub key_type: KeyType, pub shards: Vec<ShardId>, pub auto_increment: bool }
impl TableRule {
    pub fn shard_for_key(&self, _key: &Key) -> Result<ShardId, RouteError> { Ok(self.shards[0]) }
    pub fn shards_for_range(&self, _lo: Bound<&Key>, _hi: Bound<&Key>) -> Vec<ShardId> { self.shards.clone() }
}
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType { Int, String, Date, DateTime }
pub enum Algorithm { Hash, Range, List, ConsistentHash, Broadcast }
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<ConfigError>);
impl std::fmt::Display for ConfigErrors { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { for e in &self.0 { writeln!(f, "{}: {}", e.location, e.message)?; } Ok(()) } }
#[derive(Debug)]
pub struct ConfigError { pub location: String, pub message: String }
