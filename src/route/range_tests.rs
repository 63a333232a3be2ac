//! Range placement: golden vectors, half-open bounds, defaults, interval lookups.

use crate::config::KeyType;
use crate::route::test_rules::table;
use crate::route::{Key, RouteError};
use mysql_common::value::Value;
use std::ops::Bound::{self, Excluded, Included, Unbounded};

const INT_RULE: &str = r#"algorithm = "range"
key = "id"
key_type = "int"
ranges = [
  { shard = "s1", from = 100, to = 200 },
  { shard = "s0", to = 100 },
  { shard = "s2", from = 300, to = 400 },
  { shard = "s3", from = 1000 },
]"#;

#[test]
#[rustfmt::skip]
fn golden_int() {
    let t = table(INT_RULE);
    // Keys in [200, 300) and [400, 1000) are in no range and there is no default_shard.
    let cases: &[(i64, Option<usize>)] = &[
        (i64::MIN, Some(0)), (-1, Some(0)), (0, Some(0)), (99, Some(0)), (100, Some(1)),
        (150, Some(1)), (199, Some(1)), (200, None), (299, None), (300, Some(2)), (399, Some(2)),
        (400, None), (999, None), (1000, Some(3)), (i64::MAX, Some(3)),
    ];
    for &(k, want) in cases {
        let got = t.shard_for_key(&Key::Int(k));
        match want {
            Some(s) => assert_eq!(got, Ok(s), "key {k}"),
            None => assert!(matches!(got, Err(RouteError::NoShardForKey { .. })), "key {k}: {got:?}"),
        }
    }
    assert_eq!(t.shards, vec![0, 1, 2, 3]);
}

fn date(s: &str) -> Key {
    Key::coerce(KeyType::Date, &Value::Bytes(s.into())).expect("date")
}

const DATE_RULE: &str = r#"algorithm = "range"
key = "created"
key_type = "date"
default_shard = "s3"
ranges = [
  { shard = "s0", from = "2026-01-01", to = "2026-07-01" },
  { shard = "s1", from = 2026-07-01, to = "2027-01-01" },
]"#;

#[test]
#[rustfmt::skip]
fn golden_date() {
    let t = table(DATE_RULE);
    let cases: &[(&str, usize)] = &[
        ("2025-12-31", 3), ("2026-01-01", 0), ("2026-02-28", 0), ("2026-06-30", 0),
        ("2026-07-01", 1), ("2026-12-31", 1), ("2027-01-01", 3), ("1000-01-01", 3),
        ("9999-12-31", 3), ("2026-03-15", 0), ("2026-10-10", 1),
    ];
    for &(k, want) in cases {
        assert_eq!(t.shard_for_key(&date(k)), Ok(want), "key {k}");
    }
}

fn shards(t: &crate::config::TableRule, lo: Bound<i64>, hi: Bound<i64>) -> Vec<usize> {
    let (lo, hi) = (lo.map(Key::Int), hi.map(Key::Int));
    t.shards_for_range(lo.as_ref(), hi.as_ref())
}

#[test]
fn intervals_without_default() {
    let t = table(INT_RULE);
    assert_eq!(shards(&t, Unbounded, Unbounded), vec![0, 1, 2, 3]);
    assert_eq!(shards(&t, Included(100), Excluded(200)), vec![1]);
    assert_eq!(shards(&t, Included(99), Included(100)), vec![0, 1]);
    assert_eq!(
        shards(&t, Excluded(99), Included(100)),
        vec![1],
        "id > 99 is id >= 100"
    );
    assert_eq!(shards(&t, Unbounded, Excluded(100)), vec![0]);
    assert_eq!(
        shards(&t, Included(200), Excluded(300)),
        Vec::<usize>::new(),
        "a gap, no default"
    );
    assert_eq!(shards(&t, Included(250), Unbounded), vec![2, 3]);
    assert_eq!(
        shards(&t, Included(5), Included(4)),
        Vec::<usize>::new(),
        "empty interval"
    );
    assert_eq!(shards(&t, Included(5), Excluded(5)), Vec::<usize>::new());
    assert_eq!(
        shards(&t, Excluded(i64::MAX), Unbounded),
        Vec::<usize>::new()
    );
}

#[test]
fn intervals_with_default() {
    let t = table(DATE_RULE);
    let r = |lo: Bound<&str>, hi: Bound<&str>| {
        let (lo, hi) = (lo.map(date), hi.map(date));
        t.shards_for_range(lo.as_ref(), hi.as_ref())
    };
    assert_eq!(r(Included("2026-01-01"), Excluded("2026-07-01")), vec![0]);
    assert_eq!(
        r(Included("2026-01-01"), Included("2026-07-01")),
        vec![0, 1]
    );
    assert_eq!(
        r(Included("2025-12-31"), Excluded("2026-02-01")),
        vec![0, 3]
    );
    assert_eq!(r(Included("2026-08-01"), Unbounded), vec![1, 3]);
    assert_eq!(r(Unbounded, Unbounded), vec![0, 1, 3]);
    // Bounds of another type than the table's: every shard.
    assert_eq!(
        t.shards_for_range(Included(&Key::Int(1)), Unbounded),
        vec![0, 1, 3]
    );
}

#[test]
fn wrong_key_type_is_an_error() {
    let t = table(DATE_RULE);
    assert!(matches!(
        t.shard_for_key(&Key::Int(1)),
        Err(RouteError::BadKey { .. })
    ));
}
