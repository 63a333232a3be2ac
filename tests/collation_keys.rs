//! String shard keys are placed by the column's collation: rows whose keys the column calls
//! equal (`'Émile' = 'emile' = 'EMILE '` under `utf8mb4_general_ci`) live on one shard, so
//! `WHERE name = 'Emile'` through the proxy answers what one plain MariaDB answers. Checked
//! under hash, consistent_hash and list rules, and under `utf8mb4_bin`, on each shard directly.

mod common;

use common::*;
use mysql_async::Conn;
use mysql_async::prelude::Queryable;

const TABLES: &str = r#"
[[schemas.tables]]
names = ["by_hash"]
algorithm = "hash"
key = "name"
key_type = "string"

[[schemas.tables]]
names = ["by_ring"]
algorithm = "consistent_hash"
key = "name"
key_type = "string"
collation = "utf8mb4_general_ci"

[[schemas.tables]]
names = ["by_list"]
algorithm = "list"
key = "name"
key_type = "string"
lists = [
  { shard = "s1", values = ["Emile", "SAO PAULO", "strase"] },
  { shard = "s0", values = ["zurich", "strasse"] },
]
default_shard = "s0"

[[schemas.tables]]
names = ["by_bin"]
algorithm = "hash"
key = "name"
key_type = "string"
collation = "utf8mb4_bin"
"#;

/// Rows `(id, name)`, in groups the general_ci column calls equal (`ß` weighs like `s`, so
/// 'Straße' = 'STRASE' but not 'strasse').
const GROUPS: &[&[(i64, &str)]] = &[
    &[
        (1, "Émile"),
        (2, "emile"),
        (3, "EMILE "),
        (4, "Emile"),
        (5, "ÉMILE  "),
    ],
    &[(6, "Straße"), (7, "STRASE"), (8, "straße ")],
    &[(9, "strasse"), (10, "STRASSE")],
    &[(11, "São Paulo"), (12, "sao paulo  "), (13, "SÃO PAULO")],
    &[(14, "Zürich"), (15, "zurich"), (16, "ZÜRICH ")],
];

fn rows() -> Vec<(i64, String)> {
    let mut out: Vec<(i64, String)> = GROUPS
        .iter()
        .flat_map(|g| g.iter().map(|(i, n)| (*i, n.to_string())))
        .collect();
    out.extend((100..140).map(|i| (i, format!("Name-{i} "))));
    out
}

async fn load(c: &mut Conn, table: &str, collation: &str) {
    c.query_drop("SET NAMES utf8mb4").await.expect("set names");
    c.query_drop(format!(
        "CREATE TABLE {table} (id INT PRIMARY KEY, name VARCHAR(40) CHARACTER SET utf8mb4 COLLATE {collation})"
    ))
    .await
    .expect("create table");
    for (id, name) in rows() {
        c.exec_drop(
            format!("INSERT INTO {table} (id, name) VALUES (?, ?)"),
            (id, name),
        )
        .await
        .expect("insert");
    }
}

/// Which shard holds each id of `table`, read on the shards directly (each id on exactly one).
async fn shard_of_ids(db: &str, table: &str) -> std::collections::HashMap<i64, usize> {
    let mut at = std::collections::HashMap::new();
    for s in 0..2 {
        for id in ids_on(s, db, &format!("SELECT id FROM {table}")).await {
            assert!(
                at.insert(id, s).is_none(),
                "{table}: id {id} on both shards"
            );
        }
    }
    assert_eq!(at.len(), rows().len(), "{table}: every row on some shard");
    at
}

/// Every group of equal keys on one shard; returns each group's shard.
async fn groups_together(db: &str, table: &str) -> Vec<usize> {
    let at = shard_of_ids(db, table).await;
    GROUPS
        .iter()
        .map(|g| {
            let shards: Vec<usize> = g.iter().map(|(id, _)| at[id]).collect();
            assert!(
                shards.iter().all(|s| *s == shards[0]),
                "{table}: keys equal under the collation split over shards: {g:?} -> {shards:?}"
            );
            shards[0]
        })
        .collect()
}

const QUERIES: &[&str] = &[
    "SELECT id, name FROM {t} WHERE name = 'Emile' ORDER BY id",
    "SELECT id FROM {t} WHERE name = 'EMILE   ' ORDER BY id",
    "SELECT id FROM {t} WHERE name = 'Straße' ORDER BY id",
    "SELECT id FROM {t} WHERE name = 'strasse' ORDER BY id",
    "SELECT id FROM {t} WHERE name IN ('emile', 'sao paulo', 'ZURICH') ORDER BY id",
    "SELECT COUNT(*) FROM {t} WHERE name = 'São Paulo'",
    "SELECT id FROM {t} WHERE name = 'name-101' ORDER BY id",
    "UPDATE {t} SET id = id + 1000 WHERE name = 'zurich'",
    "SELECT id FROM {t} WHERE name = 'Zürich' ORDER BY id",
    "DELETE FROM {t} WHERE name = 'STRASE'",
    "SELECT id FROM {t} ORDER BY id",
];

async fn same_as_plain(proxy: &mut Conn, plain: &mut Conn, table: &str) {
    let statements: Vec<String> = QUERIES.iter().map(|q| q.replace("{t}", table)).collect();
    let refs: Vec<&str> = statements.iter().map(String::as_str).collect();
    same_answers(proxy, plain, &refs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn equal_keys_under_the_collation_share_a_shard() {
    let db = "collation_keys";
    let (_addr, mut c) = setup(db, TABLES).await;
    let mut p = plain(db).await;
    for (table, collation) in [
        ("by_hash", "utf8mb4_general_ci"),
        ("by_ring", "utf8mb4_general_ci"),
        ("by_list", "utf8mb4_general_ci"),
        ("by_bin", "utf8mb4_bin"),
    ] {
        load(&mut c, table, collation).await;
        load(&mut p, table, collation).await;
    }

    // hash: every row on the shard MariaDB computes itself from the weight string.
    groups_together(db, "by_hash").await;
    for s in 0..2usize {
        let misplaced = ids_on(
            s,
            db,
            &format!(
                "SELECT id FROM by_hash WHERE CRC32(WEIGHT_STRING(TRIM(TRAILING ' ' FROM name))) % 2 <> {s}"
            ),
        )
        .await;
        assert!(misplaced.is_empty(), "by_hash on s{s}: {misplaced:?}");
    }
    // consistent_hash: groups together, on the shard the ring names.
    let ring = rules(db, TABLES);
    let rule = ring
        .schema(db)
        .and_then(|s| s.table("by_ring"))
        .expect("rule");
    let on = groups_together(db, "by_ring").await;
    for (g, s) in GROUPS.iter().zip(&on) {
        for (_, name) in g.iter() {
            let key = rule
                .key_of(&mysql_async::Value::Bytes(name.as_bytes().to_vec()))
                .expect("key");
            assert_eq!(rule.shard_for_key(&key), Ok(*s), "by_ring: {name:?}");
        }
    }
    // list: the listed values match accented, cased and padded keys.
    assert_eq!(groups_together(db, "by_list").await, vec![1, 1, 0, 1, 0]);
    // utf8mb4_bin: code points count (only trailing spaces do not), as the shards compute.
    for s in 0..2usize {
        let misplaced = ids_on(
            s,
            db,
            &format!(
                "SELECT id FROM by_bin WHERE CRC32(WEIGHT_STRING(TRIM(TRAILING ' ' FROM name))) % 2 <> {s}"
            ),
        )
        .await;
        assert!(misplaced.is_empty(), "by_bin on s{s}: {misplaced:?}");
    }

    for table in ["by_hash", "by_ring", "by_list", "by_bin"] {
        same_as_plain(&mut c, &mut p, table).await;
    }
}
