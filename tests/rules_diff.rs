//! `shardgate rules diff OLD NEW [--count]` as a DBA runs it: exact intervals for a moved
//! range boundary, list values that change shard, an estimate for a hash shard count change,
//! broadcast tables gaining a shard, URL changes, identical files, an invalid file, and
//! `--count` against the sandbox cluster with rows placed by the old rules.

mod common;

use mysql_async::prelude::Queryable;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh directory for one test's files.
fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sg-rules-diff-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A rules file with shards s0..s{shards-1} (s1's primary given by `s1_url`) and schema `shop`
/// with `tables` (its `[[schemas.tables]]` part).
fn rules_text(shards: usize, s1_url: &str, tables: &str) -> String {
    let mut t = String::from(
        "listen = \"127.0.0.1:3307\"\n\n[[users]]\nname = \"app\"\npassword = \"app\"\n\n",
    );
    for s in 0..shards {
        let url = if s == 1 {
            s1_url.to_string()
        } else {
            format!("mysql://root:secret@127.0.0.1:{}", 4000 + 2 * s)
        };
        t.push_str(&format!(
            "[[shards]]\nname = \"s{s}\"\nprimary = \"{url}\"\n\n"
        ));
    }
    t.push_str("[[schemas]]\nname = \"shop\"\ndefault_shard = \"s0\"\n\n");
    t.push_str(tables);
    t
}

const S1: &str = "mysql://root:secret@127.0.0.1:4002";

/// Runs `shardgate rules diff` on two texts written into `dir`.
fn run_diff(dir: &Path, old: &str, new: &str, extra: &[&str]) -> (i32, String, String) {
    let (a, b) = (dir.join("old.toml"), dir.join("new.toml"));
    std::fs::write(&a, old).unwrap();
    std::fs::write(&b, new).unwrap();
    let out: Output = Command::new(env!("CARGO_BIN_EXE_shardgate"))
        .args(["rules", "diff"])
        .arg(&a)
        .arg(&b)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn range_table(name: &str, cut: i64) -> String {
    format!(
        "[[schemas.tables]]\nnames = [\"{name}\"]\nalgorithm = \"range\"\nkey = \"id\"\nkey_type = \"int\"\nranges = [{{ shard = \"s0\", to = {cut} }}, {{ shard = \"s1\", from = {cut} }}]\n\n"
    )
}

const UNCHANGED: &str = r#"[[schemas.tables]]
names = ["regions"]
algorithm = "broadcast"

[[schemas.tables]]
names = ["events"]
algorithm = "range"
key = "at"
key_type = "date"
ranges = [{ shard = "s0", to = "2026-01-01" }, { shard = "s1", from = "2026-01-01", to = "2026-07-01" }]
default_shard = "s0"

"#;

#[test]
fn a_moved_range_boundary_prints_the_exact_interval() {
    let d = dir("range");
    let old = rules_text(2, S1, &format!("{}{UNCHANGED}", range_table("items", 1000)));
    let new = rules_text(2, S1, &format!("{}{UNCHANGED}", range_table("items", 500)));
    let (code, out, err) = run_diff(&d, &old, &new, &[]);
    assert_eq!(code, 2, "keys move: exit 2\n{out}{err}");
    assert!(out.contains("shop.items: range on id (int) over s0, s1 -> range on id (int) over s0, s1\n  [500, 1000): s0 -> s1\n"), "{out}");
    assert!(out.contains("2 tables unchanged"), "{out}");
    assert!(out.ends_with("keys change shard: yes\n"), "{out}");

    // Dates, and a range that leaves a gap with no default shard: those keys lose their shard.
    let dates = |to: &str| {
        format!(
            "[[schemas.tables]]\nnames = [\"invoices\"]\nalgorithm = \"range\"\nkey = \"issued\"\nkey_type = \"date\"\nranges = [{{ shard = \"s0\", from = \"2026-01-01\", to = \"{to}\" }}, {{ shard = \"s1\", from = \"2026-07-01\" }}]\n\n"
        )
    };
    let old = rules_text(2, S1, &dates("2026-07-01"));
    let new = rules_text(2, S1, &dates("2026-04-01"));
    let (code, out, _) = run_diff(&d, &old, &new, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("  ['2026-04-01', '2026-07-01'): s0 -> (no shard)\n"),
        "{out}"
    );
    // The other way round no stored row moves: those keys had no shard.
    let (code, out, _) = run_diff(&d, &new, &old, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(
            "  ['2026-04-01', '2026-07-01'): (no shard) -> s0 (no row can be there today)\n"
        ),
        "{out}"
    );
}

#[test]
fn a_moved_list_value_and_default_are_printed() {
    let d = dir("list");
    let list = |s1: &str, default: &str| {
        format!(
            "[[schemas.tables]]\nnames = [\"stores\"]\nalgorithm = \"list\"\nkey = \"city\"\nkey_type = \"string\"\ndefault_shard = \"{default}\"\nlists = [{{ shard = \"s0\", values = [\"paris\", \"lyon\"] }}, {{ shard = \"s1\", values = [{s1}] }}]\n\n"
        )
    };
    let old = rules_text(3, S1, &list("\"berlin\"", "s2"));
    let new = rules_text(3, S1, &list("\"berlin\", \"rome\"", "s2"));
    let (code, out, err) = run_diff(&d, &old, &new, &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("\n  value 'rome': s2 -> s1\n"), "{out}");
    assert!(!out.contains("every other value"), "{out}");

    let moved = rules_text(3, S1, &list("\"berlin\"", "s1"));
    let (code, out, _) = run_diff(&d, &old, &moved, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("\n  every other value: s2 -> s1\n"), "{out}");
}

#[test]
fn a_hash_shard_count_change_is_estimated_from_a_sample() {
    let d = dir("hash");
    let hash = |shards: &str| {
        format!(
            "[[schemas.tables]]\nnames = [\"orders\"]\nalgorithm = \"hash\"\nkey = \"order_id\"\nkey_type = \"int\"\nshards = [{shards}]\n\n"
        )
    };
    let old = rules_text(4, S1, &hash("\"s0\", \"s1\""));
    let new = rules_text(4, S1, &hash("\"s0\", \"s1\", \"s2\", \"s3\""));
    let (code, out, err) = run_diff(&d, &old, &new, &[]);
    assert_eq!(code, 2, "{out}{err}");
    // key mod 2 -> key mod 4: keys 2 and 3 (mod 4) move, half of them.
    assert!(
        out.contains("  the shard count changes (2 -> 4)\n"),
        "{out}"
    );
    assert!(
        out.contains("  about 50.0% of keys change shard (5000 of 10000 sample keys: the integers 1..10000)\n"),
        "{out}"
    );
    assert!(
        out.contains("  s0 -> s2: 25.0% of keys\n  s1 -> s3: 25.0% of keys\n"),
        "{out}"
    );

    // 2 -> 3 shards: only keys with equal residues mod 2 and mod 3 stay (1/3 of them).
    let three = rules_text(4, S1, &hash("\"s0\", \"s1\", \"s2\""));
    let (_, out, _) = run_diff(&d, &old, &three, &[]);
    assert!(out.contains("about 66.7% of keys change shard"), "{out}");
}

#[test]
fn broadcast_gains_urls_and_added_tables() {
    let d = dir("broadcast");
    let bc = |shards: &str| {
        format!(
            "[[schemas.tables]]\nnames = [\"regions\"]\nalgorithm = \"broadcast\"\nshards = [{shards}]\n\n"
        )
    };
    let old = rules_text(3, S1, &bc("\"s0\", \"s1\""));
    let new = rules_text(3, S1, &bc("\"s0\", \"s1\", \"s2\""));
    let (code, out, _) = run_diff(&d, &old, &new, &[]);
    assert_eq!(code, 2, "a copy is needed: {out}");
    assert!(
        out.contains("  gains s2: copy the table there first\n"),
        "{out}"
    );
    let (code, out, _) = run_diff(&d, &new, &old, &[]);
    assert_eq!(code, 0, "dropping a copy moves nothing: {out}");
    assert!(
        out.contains("  loses s2: the copy there is no longer used\n"),
        "{out}"
    );

    // A new URL for s1 and a new table: reported, nothing moves; the password is masked.
    let other = rules_text(
        3,
        "mysql://root:topsecret@10.0.0.9:3306",
        &format!(
            "{}[[schemas.tables]]\nnames = [\"logs\"]\nalgorithm = \"hash\"\nkey = \"id\"\nkey_type = \"int\"\n",
            bc("\"s0\", \"s1\"")
        ),
    );
    let (code, out, _) = run_diff(&d, &old, &other, &[]);
    assert_eq!(code, 2, "logs was unsharded on s0 and is now hashed: {out}");
    assert!(
        out.contains(
            "shard s1: primary mysql://root:***@127.0.0.1:4002 -> mysql://root:***@10.0.0.9:3306\n"
        ),
        "{out}"
    );
    assert!(!out.contains("secret"), "{out}");
    assert!(
        out.contains("shop.logs: unsharded on s0 -> hash on id (int) over s0, s1, s2\n"),
        "{out}"
    );
}

#[test]
fn identical_files_move_nothing_and_an_invalid_file_is_an_error() {
    let d = dir("same");
    let text = rules_text(2, S1, &format!("{}{UNCHANGED}", range_table("items", 1000)));
    let (code, out, err) = run_diff(&d, &text, &text, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out,
        "3 tables unchanged (not listed)\nkeys change shard: no\n"
    );

    let bad = text.replace("to = 1000 }", "to = \"x\" }");
    let (code, out, err) = run_diff(&d, &text, &bad, &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.is_empty(), "no diff for an invalid file: {out}");
    assert!(
        err.contains("new.toml:") && err.contains("bad `to`"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_reads_the_stored_keys_and_routes_them_with_the_new_rules() {
    let db = "rules_diff_count";
    common::fresh_schema(db).await;
    // items: [.., 100) on s0, [100, ..) on s1; ghost: created on s0 only.
    let tables = |cut: i64| format!("{}{}", range_table("items", cut), range_table("ghost", cut));
    let old = common::rules_toml(db, &tables(100));
    let new = common::rules_toml(db, &tables(50));
    for s in 0..2 {
        let mut c = common::direct(s).await;
        c.query_drop(format!(
            "CREATE TABLE {db}.items (id INT PRIMARY KEY, v INT)"
        ))
        .await
        .unwrap();
        let (lo, hi) = if s == 0 { (1, 99) } else { (100, 150) };
        let rows: Vec<String> = (lo..=hi).map(|i| format!("({i}, {i})")).collect();
        c.query_drop(format!("INSERT INTO {db}.items VALUES {}", rows.join(",")))
            .await
            .unwrap();
        if s == 0 {
            c.query_drop(format!("CREATE TABLE {db}.ghost (id INT PRIMARY KEY)"))
                .await
                .unwrap();
            c.query_drop(format!("INSERT INTO {db}.ghost VALUES (10), (60), (70)"))
                .await
                .unwrap();
        }
    }
    let d = dir("count");
    let (code, out, err) =
        tokio::task::spawn_blocking(move || run_diff(&d, &old, &new, &["--count"]))
            .await
            .unwrap();
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains(&format!("{db}.items: range on id (int) over s0, s1 -> range on id (int) over s0, s1\n  [50, 100): s0 -> s1\n")), "{out}");
    // Ids 50..=99 of the 99 rows on s0 move to s1; the 51 rows on s1 stay.
    assert!(
        out.contains(&format!(
            "{db}.items: 50 of 150 rows move\n  s0 -> s1: 50\n"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("{db}.ghost: 2 of 3 rows move\n  s0 -> s1: 2\n")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "note: {db}.ghost does not exist on s1: counted 0 there\n"
        )),
        "{out}"
    );
    assert!(out.ends_with("rows to move: 52\n"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_follows_rows_between_physical_tables() {
    let db = "rules_diff_split";
    common::fresh_schema(db).await;
    // orders: hash on id into orders_{id mod 4} on shard (id mod 4) mod 2, re-split into 6
    // tables; plain: hash over the two shards, then split into 2 tables per shard.
    let tables = |orders: u32, plain: &str| {
        format!(
            "[[schemas.tables]]\nnames = [\"orders\"]\nalgorithm = \"hash\"\nkey = \"id\"\nkey_type = \"int\"\ntables_per_shard = {orders}\n\n[[schemas.tables]]\nnames = [\"plain\"]\nalgorithm = \"hash\"\nkey = \"id\"\nkey_type = \"int\"\n{plain}\n"
        )
    };
    let old = common::rules_toml(db, &tables(2, ""));
    let new = common::rules_toml(db, &tables(3, "tables_per_shard = 2"));
    for s in 0..2i64 {
        let mut c = common::direct(s as usize).await;
        for g in [s, s + 2] {
            c.query_drop(format!("CREATE TABLE {db}.orders_{g} (id INT PRIMARY KEY)"))
                .await
                .unwrap();
            let ids: Vec<String> = (1..=24)
                .filter(|i| i % 4 == g)
                .map(|i| format!("({i})"))
                .collect();
            c.query_drop(format!(
                "INSERT INTO {db}.orders_{g} VALUES {}",
                ids.join(",")
            ))
            .await
            .unwrap();
        }
        c.query_drop(format!("CREATE TABLE {db}.plain (id INT PRIMARY KEY)"))
            .await
            .unwrap();
        let ids: Vec<String> = (1..=10)
            .filter(|i| i % 2 == s)
            .map(|i| format!("({i})"))
            .collect();
        c.query_drop(format!("INSERT INTO {db}.plain VALUES {}", ids.join(",")))
            .await
            .unwrap();
    }
    let d = dir("split");
    let (code, out, err) =
        tokio::task::spawn_blocking(move || run_diff(&d, &old, &new, &["--count"]))
            .await
            .unwrap();
    assert_eq!(code, 2, "{out}{err}");
    // A row stays where id mod 4 = id mod 6 (id mod 12 < 4): 8 of the 24.
    assert!(
        out.contains(&format!("{db}.orders: 16 of 24 rows move\n")),
        "{out}"
    );
    // Ids 4 and 16: orders_0 on s0 to orders_4 on s0.
    assert!(out.contains("  s0/orders_0 -> s0/orders_4: 2\n"), "{out}");
    // Ids 5 and 17: orders_1 on s1 to orders_5 on s1; id 9 and 21 to orders_3.
    assert!(out.contains("  s1/orders_1 -> s1/orders_5: 2\n"), "{out}");
    assert!(out.contains("  s1/orders_1 -> s1/orders_3: 2\n"), "{out}");
    // Splitting a table moves every row into a physical table of its own shard.
    assert!(
        out.contains(&format!("{db}.plain: 10 of 10 rows move\n")),
        "{out}"
    );
    assert!(
        out.contains("keys change shard or physical table: yes\n"),
        "{out}"
    );
    // Ids 4 and 8 go to plain_0, ids 2, 6 and 10 to plain_2.
    assert!(out.contains("  s0/plain -> s0/plain_0: 2\n"), "{out}");
    assert!(out.contains("  s0/plain -> s0/plain_2: 3\n"), "{out}");
    assert!(out.contains("  s1/plain -> s1/plain_1: 3\n"), "{out}");
    assert!(out.contains("  s1/plain -> s1/plain_3: 2\n"), "{out}");
    assert!(out.ends_with("rows to move: 26\n"), "{out}");
}
