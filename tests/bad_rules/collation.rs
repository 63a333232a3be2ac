//! `collation`: string keys compare under the column's collation, in the rules file too.

use super::{BASE, errors, has, with_table};

fn list(collation: Option<&str>, entries: &str) -> Vec<String> {
    let c = collation.map_or(String::new(), |c| format!("collation = \"{c}\"\n"));
    with_table(&format!(
        "names = [\"t\"]\nalgorithm = \"list\"\nkey = \"city\"\nkey_type = \"string\"\n{c}lists = [\n{entries}]\n"
    ))
}

#[test]
fn values_equal_under_general_ci_are_duplicates() {
    // Lines: 25 `lists = [`, entries from 26 (no `collation` line: the default).
    let errs = list(
        None,
        "  { shard = \"s0\", values = [\"é\", \"Straße\", \"Paris\"] },\n  { shard = \"s1\", values = [\"E\", \"STRASE\", \"paris \", \"strasse\"] },\n",
    );
    let at = |j: usize| format!("r.toml:27: schemas[0].tables[0].lists[1].values[{j}]");
    has(
        &errs,
        &at(0),
        "value 'E' is already listed at lists[0].values[0] (line 26) as 'é' (equal under collation utf8mb4_general_ci)",
    );
    has(&errs, &at(1), "already listed at lists[0].values[1]");
    has(&errs, &at(2), "already listed at lists[0].values[2]");
    assert_eq!(
        errs.len(),
        3,
        "'strasse' is not 'straße' (ß = s): {errs:#?}"
    );
}

#[test]
fn utf8mb4_bin_keeps_case_and_accents_apart_but_ignores_trailing_spaces() {
    let errs = list(
        Some("utf8mb4_bin"),
        "  { shard = \"s0\", values = [\"é\", \"Paris\"] },\n  { shard = \"s1\", values = [\"e\", \"paris\", \"Paris  \"] },\n",
    );
    has(
        &errs,
        "r.toml:28: schemas[0].tables[0].lists[1].values[2]",
        "value 'Paris  ' is already listed at lists[0].values[1] (line 27) as 'Paris' (equal under collation utf8mb4_bin)",
    );
    assert_eq!(errs.len(), 1, "{errs:#?}");
    let ok = list(
        Some("binary"),
        "  { shard = \"s0\", values = [\"a\"] },\n  { shard = \"s1\", values = [\"a \", \"A\"] },\n",
    );
    assert!(ok.is_empty(), "binary keys differ by any byte: {ok:#?}");
}

#[test]
fn unsupported_collations_are_refused_with_the_supported_ones() {
    let errs = list(
        Some("utf8mb4_unicode_ci"),
        "  { shard = \"s0\", values = [\"a\"] },\n",
    );
    has(
        &errs,
        "r.toml:25: schemas[0].tables[0].collation",
        "unsupported collation \"utf8mb4_unicode_ci\" (supported: utf8mb4_general_ci, utf8mb4_bin, binary)",
    );
    assert_eq!(errs.len(), 1, "{errs:#?}");
}

#[test]
fn collation_is_for_string_keys_only() {
    let errs = with_table(
        "names = [\"t\"]\nalgorithm = \"hash\"\nkey = \"id\"\nkey_type = \"int\"\ncollation = \"utf8mb4_bin\"\n",
    );
    has(
        &errs,
        "r.toml:25: schemas[0].tables[0].collation",
        "`collation` applies to key_type = \"string\" only, not \"int\"",
    );
    let errs =
        with_table("names = [\"t\"]\nalgorithm = \"broadcast\"\ncollation = \"utf8mb4_bin\"\n");
    has(
        &errs,
        "r.toml:23: schemas[0].tables[0].collation",
        "a broadcast table has no shard key; remove `collation`",
    );
}

#[test]
fn range_bounds_compare_under_the_collation() {
    let errs = with_table(
        "names = [\"t\"]\nalgorithm = \"range\"\nkey = \"name\"\nkey_type = \"string\"\nranges = [\n  { shard = \"s0\", from = \"a\", to = \"Á\" },\n  { shard = \"s0\", from = \"m\", to = \"N\" },\n  { shard = \"s1\", from = \"n\" },\n]\n",
    );
    has(
        &errs,
        "r.toml:26: schemas[0].tables[0].ranges[0]",
        "empty range: from 'a' must be below to 'Á'",
    );
    assert_eq!(
        errs.len(),
        1,
        "['m', 'N') meets ['n', +inf) without overlap: {errs:#?}"
    );
}

#[test]
fn colocated_string_keys_need_the_same_collation() {
    let text = format!(
        "{BASE}[[schemas.tables]]\nnames = [\"a\"]\nalgorithm = \"hash\"\nkey = \"name\"\nkey_type = \"string\"\n\n[[schemas.tables]]\nnames = [\"b\"]\nalgorithm = \"hash\"\nkey = \"name\"\nkey_type = \"string\"\ncollation = \"utf8mb4_bin\"\n\n[[schemas.colocated]]\ntables = [\"a.name\", \"b.name\"]\n"
    );
    let errs = errors(&text);
    has(
        &errs,
        "r.toml:34: schemas[0].colocated[0].tables[1]",
        "collation \"utf8mb4_bin\" against \"utf8mb4_general_ci\"",
    );
    assert_eq!(errs.len(), 1, "{errs:#?}");
}
