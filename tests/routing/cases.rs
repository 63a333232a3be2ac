//! The golden routing cases of `tests/routing/cases.toml`, read by `tests/routing.rs` (plans
//! from the library) and `tests/cli.rs` (plans printed by `shardgate route`).

use serde::Deserialize;

#[derive(Deserialize)]
pub struct Cases {
    pub cases: Vec<Case>,
}

#[derive(Deserialize)]
pub struct Case {
    pub sql: String,
    #[serde(default)]
    pub params: Vec<toml::Value>,
    /// For an INSERT without a column list: the table's columns, as the engine would read
    /// them from a backend.
    pub columns: Option<Vec<String>>,
    pub expect: String,
}

/// Every case of the cases file.
pub fn load() -> Cases {
    let path =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/routing/cases.toml");
    let text = std::fs::read_to_string(&path).expect("cases file");
    toml::from_str(&text).expect("cases parse")
}
