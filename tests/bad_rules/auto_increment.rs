//! `auto_increment`: each declaration that cannot be right is refused at its line.

use super::{has, with_table};

/// `auto_increment`: true (the key column), a column name, or false; each declaration that
/// cannot be right is refused at its line.
#[test]
fn auto_increment_declarations() {
    let table = |ai: &str, key_type: &str| {
        with_table(&format!(
            "names = [\"t\"]\nalgorithm = \"hash\"\nkey = \"product_id\"\nkey_type = \"{key_type}\"\nauto_increment = {ai}\n"
        ))
    };
    // Fine: another column than the key (whatever the key's type), the key itself, false.
    assert_eq!(table("\"id\"", "int"), Vec::<String>::new());
    assert_eq!(table("\"id\"", "string"), Vec::<String>::new());
    assert_eq!(table("\"PRODUCT_ID\"", "int"), Vec::<String>::new());
    assert_eq!(table("true", "int"), Vec::<String>::new());
    assert_eq!(table("false", "string"), Vec::<String>::new());
    let at = "r.toml:25: schemas[0].tables[0].auto_increment";
    has(&table("\"\"", "int"), at, "is not a column name");
    has(&table("\" id\"", "int"), at, "is not a column name");
    has(
        &table("5", "int"),
        at,
        "write true (the proxy numbers the shard key column), a column name",
    );
    has(
        &table("\"product_id\"", "string"),
        at,
        "auto_increment needs key_type = \"int\" to number the shard key `product_id`",
    );
    let errs = with_table("names = [\"t\"]\nalgorithm = \"broadcast\"\nauto_increment = \"id\"\n");
    has(
        &errs,
        "r.toml:23: schemas[0].tables[0].auto_increment",
        "a broadcast table is copied whole on every shard and has no global sequence",
    );
    let errs = with_table("names = [\"t\"]\nalgorithm = \"broadcast\"\nauto_increment = false\n");
    assert_eq!(errs, Vec::<String>::new());
}
