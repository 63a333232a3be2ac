//! Rules files: the shipped examples load, and each validation rule reports its problem with
//! the place it stands.

use shardgate::config::{Algorithm, KeyType, Rules};
use shardgate::route::Key;
use std::path::Path;

fn load(name: &str) -> Rules {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("rules")
        .join(name);
    match Rules::load(&path) {
        Ok(r) => r,
        Err(e) => panic!("{name} does not load:\n{e}"),
    }
}

#[test]
fn example_loads() {
    let r = load("example.toml");
    assert_eq!(r.listen, "127.0.0.1:3307");
    assert_eq!(r.shards.len(), 2);
    assert_eq!(r.proxy, Default::default());
    let shop = r.schema("shop").expect("shop");
    assert_eq!(shop.default_shard, 0);
    assert_eq!(shop.tables().count(), 16 + 8);
    let reviews = shop.table("reviews").expect("reviews");
    assert_eq!(
        (reviews.numbered_column(), reviews.numbers_key()),
        (Some("id"), false)
    );
    let products = shop.table("products").expect("products");
    assert!(products.colocation.is_some() && products.colocation == reviews.colocation);
    let sb = shop.table("SBTEST3").expect("sbtest3");
    assert_eq!(sb.colocation, None);
    assert!(sb.numbers_key() && matches!(*sb.algorithm, Algorithm::Hash(_)));
    assert_eq!(sb.numbered_column(), Some("id"));
    assert_eq!(sb.shard_for_key(&Key::Int(43)), Ok(1));
    let orders = shop.table("orders").expect("orders");
    assert_eq!(orders.key_type, KeyType::Date);
    let d = |s: &str| {
        Key::coerce(KeyType::Date, &mysql_common::value::Value::Bytes(s.into())).expect("date")
    };
    assert_eq!(orders.shard_for_key(&d("2026-08-15")), Ok(1));
    assert_eq!(orders.shard_for_key(&d("2030-01-01")), Ok(0));
    let countries = shop.table("countries").expect("countries");
    assert_eq!(
        (countries.key.as_deref(), countries.shards.clone()),
        (None, vec![0, 1])
    );
    assert!(r.user("app").expect("app").may_use("shop"));
    assert!(!r.user("app").expect("app").may_use("other"));
    assert!(r.schema("SHOP").is_none());
}

#[test]
fn patterns_example_places_every_matching_table() {
    let r = load("patterns.toml");
    let saas = r.schema("saas").expect("saas");
    let acme = saas.table("T_Acme").expect("t_* matches T_Acme");
    assert_eq!(
        acme.name, "T_Acme",
        "the rule applied to the table, named as written"
    );
    assert_eq!(acme.key.as_deref(), Some("customer_id"));
    assert_eq!(acme.shard_for_key(&Key::Int(3)), Ok(1));
    assert!(saas.table("t_").is_some(), "`*` matches no character too");
    assert!(saas.table("tx_acme").is_none());
    let monthly = saas.table("orders_202609").expect("orders_??????");
    assert_eq!(monthly.key_type, KeyType::Date);
    assert!(
        saas.table("orders_2026").is_none(),
        "`?` is exactly one character"
    );
    assert_eq!(saas.table("ORDERS").expect("orders").name, "orders");
    assert!(matches!(
        *saas.table("ref_rates").expect("ref_*").algorithm,
        Algorithm::Broadcast
    ));
    assert!(saas.table("accounts").is_none(), "unsharded");
    assert_eq!(
        saas.tables().count(),
        5,
        "rules named exactly, then by pattern"
    );
}

#[test]
fn per_algorithm_examples_load() {
    for f in [
        "hash.toml",
        "range.toml",
        "list.toml",
        "consistent_hash.toml",
    ] {
        let r = load(f);
        assert_eq!(r.shards.len(), 2, "{f}");
    }
}

#[test]
fn missing_file_is_a_config_error() {
    let e = Rules::load(Path::new("/nonexistent/rules.toml")).expect_err("missing");
    assert_eq!(e.0.len(), 1);
    assert_eq!(e.0[0].location, "/nonexistent/rules.toml");
    assert!(
        e.0[0].message.starts_with("cannot read the rules file"),
        "{}",
        e.0[0].message
    );
}

#[test]
fn per_algorithm_examples_place_as_their_comments_say() {
    let s = |v: &str| mysql_common::value::Value::Bytes(v.into());
    let r = load("hash.toml");
    let shop = r.schema("shop").expect("shop");
    let orders = shop.table("orders").expect("orders");
    assert_eq!(orders.shard_for_key(&Key::Int(1)), Ok(1));
    assert_eq!(orders.shard_for_key(&Key::Int(2)), Ok(0));
    let accounts = shop.table("accounts").expect("accounts");
    // zlib.crc32(b"alice") % 2 == 1 -> second of ["s1", "s0"] -> s0.
    assert_eq!(
        accounts.shard_for_key(&accounts.key_of(&s("Alice")).expect("key")),
        Ok(0)
    );

    let r = load("range.toml");
    let inv = r
        .schema("billing")
        .and_then(|b| b.table("invoices"))
        .expect("invoices");
    assert_eq!(
        inv.shard_for_key(&inv.key_of(&s("2026-06-30")).expect("key")),
        Ok(0)
    );
    assert_eq!(
        inv.shard_for_key(&inv.key_of(&s("2026-07-01")).expect("key")),
        Ok(1)
    );
    assert_eq!(
        inv.shard_for_key(&inv.key_of(&s("2025-01-01")).expect("key")),
        Ok(1)
    );

    let r = load("list.toml");
    let crm = r.schema("crm").expect("crm");
    let c = crm.table("Customer_Notes").expect("customer_notes");
    assert_eq!(
        c.shard_for_key(&c.key_of(&s("MÜNCHEN ")).expect("key")),
        Ok(1)
    );
    assert_eq!(c.shard_for_key(&c.key_of(&s("Rome")).expect("key")), Ok(0));
    let stores = crm.table("stores").expect("stores");
    assert!(stores.shard_for_key(&Key::Int(9)).is_err());
    assert!(!r.user("report").expect("report").may_use("other"));

    let r = load("consistent_hash.toml");
    let sessions = r
        .schema("web")
        .and_then(|w| w.table("sessions"))
        .expect("sessions");
    // Golden vector shared with src/route/consistent_hash_tests.rs.
    assert_eq!(
        sessions.shard_for_key(&sessions.key_of(&s("token-3")).expect("key")),
        Ok(1)
    );
}
