//! `[[schemas.colocated]]`: tables placed alike, checked strictly.

use super::{BASE, errors, has};

/// Two hash tables placed alike, a range table, a string-keyed table, a broadcast table and
/// a pattern rule, for the `[[schemas.colocated]]` cases.
const COLOCATABLE: &str = r#"[[schemas.tables]]
names = ["products", "other"]
algorithm = "hash"
key = "id"
key_type = "int"

[[schemas.tables]]
names = ["orders"]
algorithm = "hash"
key = "product_id"
key_type = "int"

[[schemas.tables]]
names = ["reversed"]
algorithm = "hash"
key = "product_id"
key_type = "int"
shards = ["s1", "s0"]

[[schemas.tables]]
names = ["by_range"]
algorithm = "range"
key = "product_id"
key_type = "int"
ranges = [{ shard = "s0", to = 100 }, { shard = "s1", from = 100 }]

[[schemas.tables]]
names = ["by_name"]
algorithm = "hash"
key = "name"
key_type = "string"

[[schemas.tables]]
names = ["countries"]
algorithm = "broadcast"

[[schemas.tables]]
names = ["t_*"]
algorithm = "hash"
key = "product_id"
key_type = "int"

"#;

/// The file with `groups` after the tables above, its problems, and the line of `needle`.
fn colocated(groups: &str, needle: &str) -> (Vec<String>, usize) {
    let text = format!("{BASE}{COLOCATABLE}{groups}");
    let at = text.find(needle).expect("needle in the file");
    (errors(&text), text[..at].matches('\n').count() + 1)
}

#[test]
fn colocated_tables_are_checked_strictly() {
    let ok = "[[schemas.colocated]]\ntables = [\"products.id\", \"orders.product_id\", \"t_*.product_id\"]\n";
    assert_eq!(colocated(ok, "tables = [").0, Vec::<String>::new());
    // Each entry: its problem, at its line and index.
    let cases: &[(&str, &str, &str)] = &[
        (
            "\"orders\"",
            "[1]",
            "write the table and its shard key column",
        ),
        (
            "\"nosuch.id\"",
            "[1]",
            "no [[schemas.tables]] rule names table \"nosuch\"",
        ),
        ("\"t_acme.product_id\"", "[1]", "placed by pattern \"t_*\""),
        (
            "\"countries.code\"",
            "[1]",
            "\"countries\" is a broadcast table",
        ),
        (
            "\"orders.id\"",
            "[1]",
            "placed by its shard key `product_id`, not `id`",
        ),
        (
            "\"by_name.name\"",
            "[1]",
            "key_type \"string\" against \"int\"",
        ),
        (
            "\"by_range.product_id\"",
            "[1]",
            "algorithm range against hash",
        ),
        (
            "\"reversed.product_id\"",
            "[1]",
            "hash over shards [s1, s0] against [s0, s1] (the order of `shards` places the keys)",
        ),
        ("\"products.id\"", "[1]", "\"products\" is listed twice"),
    ];
    for (entry, index, message) in cases {
        let group = format!("[[schemas.colocated]]\ntables = [\"products.id\", {entry}]\n");
        let (errs, line) = colocated(&group, "tables = ");
        has(
            &errs,
            &format!("r.toml:{line}: schemas[0].colocated[0].tables{index}"),
            message,
        );
        assert_eq!(errs.len(), 1, "{entry}: {errs:#?}");
    }
    // Group-level problems, a table in two groups, an unknown key.
    let (errs, line) = colocated(
        "[[schemas.colocated]]\ntables = [\"products.id\"]\n",
        "tables = [",
    );
    has(
        &errs,
        &format!("r.toml:{line}: schemas[0].colocated[0].tables"),
        "list at least two tables",
    );
    let (errs, line) = colocated("[[schemas.colocated]]\ntable = []\n", "table =");
    has(
        &errs,
        &format!("r.toml:{line}: schemas[0].colocated[0]"),
        "unknown key `table`",
    );
    let two = "[[schemas.colocated]]\ntables = [\"products.id\", \"orders.product_id\"]\n\n[[schemas.colocated]]\ntables = [\"other.id\", \"orders.product_id\"]\n";
    let (errs, line) = colocated(two, "[\"other.id\"");
    has(
        &errs,
        &format!("r.toml:{line}: schemas[0].colocated[1].tables[1]"),
        "\"orders\" is already co-located in colocated[0]",
    );
}
