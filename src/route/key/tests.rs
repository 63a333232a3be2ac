//! `Key::coerce`: values route the way MySQL compares them.

use super::*;
use crate::route::collation::Collation;

fn b(s: &str) -> Value {
    Value::Bytes(s.as_bytes().to_vec())
}

const CI: KeyType = KeyType::String(Collation::GeneralCi);

fn gci(s: &str) -> Key {
    Key::Str(StrKey::of_str(Collation::GeneralCi, s))
}

fn int(v: Value) -> Result<Key, RouteError> {
    Key::coerce(KeyType::Int, &v)
}

#[test]
fn int_text_and_numbers_agree() {
    for v in [
        Value::Int(42),
        Value::UInt(42),
        Value::Double(42.0),
        Value::Float(42.0),
        b("42"),
        b(" 42"),
        b("42 "),
        b("+42"),
        b("42.0"),
        b("42."),
    ] {
        assert_eq!(int(v.clone()), Ok(Key::Int(42)), "{v:?}");
    }
    assert_eq!(int(b("-7")), Ok(Key::Int(-7)));
    assert_eq!(int(b("9223372036854775807")), Ok(Key::Int(i64::MAX)));
    assert_eq!(
        int(Value::Double(-9_223_372_036_854_775_808.0)),
        Ok(Key::Int(i64::MIN))
    );
}

#[test]
fn int_refusals() {
    for v in [
        b("42abc"),
        b("4.2e1"),
        b("42.5"),
        b("abc"),
        b(""),
        b("-"),
        b("9223372036854775808"),
        Value::UInt(u64::MAX),
        Value::Double(42.5),
        Value::Double(f64::NAN),
        Value::Double(9.3e18),
        Value::Date(2026, 1, 1, 0, 0, 0, 0),
        Value::NULL,
    ] {
        let e = int(v.clone());
        assert!(
            matches!(
                e,
                Err(RouteError::BadKey {
                    expected: KeyType::Int,
                    ..
                })
            ),
            "{v:?} gave {e:?}"
        );
    }
}

#[test]
fn strings_compare_by_the_collation() {
    let s = |v: Value| Key::coerce(CI, &v);
    for v in [
        "paris", "Paris", "PARIS", "Paris ", "paris   ", "pàris", "PÂRIS ",
    ] {
        assert_eq!(s(b(v)), Ok(gci("paris")), "{v:?}");
    }
    assert_ne!(s(b(" paris")), Ok(gci("paris")), "leading spaces count");
    assert_eq!(s(b("ZÜRICH")), Ok(gci("zurich")));
    // general_ci: ß weighs like s (not ss), every character outside the BMP like U+FFFD.
    assert_eq!(s(b("Straße")), Ok(gci("strase")));
    assert_ne!(s(b("Straße")), Ok(gci("strasse")));
    assert_eq!(s(b("😀")), Ok(gci("\u{FFFD}")));
    // PAD SPACE order: a tab weighs less than the space 'a' is padded with.
    assert!(gci("a\t") < gci("a"));
    assert!(gci("a") < gci("a!"));
    assert_eq!(s(Value::Int(42)), Ok(gci("42")));
    assert_eq!(s(Value::UInt(7)), Ok(gci("7")));
    assert_eq!(s(Value::Double(42.0)), Ok(gci("42")));
    assert_eq!(s(Value::Double(0.5)), Ok(gci("0.5")));
    assert!(s(Value::Bytes(vec![0xff, 0xfe])).is_err());
    assert!(s(Value::NULL).is_err());
    assert_eq!(
        s(b("Émile ")).map(|k| k.to_string()),
        Ok("'Émile '".to_string()),
        "messages show the text as given"
    );
}

#[test]
fn bin_and_binary_collations() {
    let bin = |v: &str| Key::coerce(KeyType::String(Collation::Bin), &b(v));
    assert_eq!(bin("Paris  "), bin("Paris"));
    assert_ne!(bin("Paris"), bin("paris"));
    assert_ne!(bin("é"), bin("e"));
    let raw = |v: Value| Key::coerce(KeyType::String(Collation::Binary), &v);
    assert_ne!(raw(b("a ")), raw(b("a")), "binary is NO PAD");
    assert!(raw(b("a")).expect("a") < raw(b("a ")).expect("a "));
    let k = raw(Value::Bytes(vec![0xff, 0x00])).expect("any bytes");
    assert_eq!(k.to_string(), "X'FF00'");
}

#[test]
fn dates() {
    let d = |v: Value| Key::coerce(KeyType::Date, &v);
    let want = Ok(Key::Date(Date::new(2026, 7, 1).expect("date")));
    assert_eq!(d(b("2026-07-01")), want);
    assert_eq!(d(b("2026-07-01 00:00:00")), want);
    assert_eq!(d(Value::Date(2026, 7, 1, 0, 0, 0, 0)), want);
    assert!(
        d(b("2026-07-01 10:00:00")).is_err(),
        "non-midnight never equals a DATE"
    );
    assert!(d(b("2026-02-30")).is_err());
    assert!(d(b("0000-00-00")).is_err());
    // The other forms MariaDB reads as the same date.
    for v in [
        Value::Int(20260701),
        Value::UInt(20260701),
        b("20260701"),
        b("2026-7-1"),
        b("2026/07/01"),
        b(" 2026.07.01 "),
    ] {
        assert_eq!(d(v.clone()), want, "{v:?}");
    }
    for v in [
        Value::Int(2026071),
        Value::Int(20260230),
        b("2026-02-30"),
        b("2026/2/30"),
        b("26-7-1"),
        b("not a date"),
        b("2026-7-1 10:00"),
    ] {
        assert!(d(v.clone()).is_err(), "{v:?}");
    }
    // The rules file keeps its one format.
    assert!(Date::parse("2026/07/01").is_none());
}

#[test]
fn datetimes() {
    let dt = |v: Value| Key::coerce(KeyType::DateTime, &v);
    let at = |s: &str| Ok(Key::DateTime(DateTime::parse(s).expect("datetime")));
    assert_eq!(dt(b("2026-07-01")), at("2026-07-01 00:00:00"));
    assert_eq!(
        dt(b("2026-07-01T10:11:12.5")),
        at("2026-07-01 10:11:12.500000")
    );
    assert_eq!(
        dt(Value::Date(2026, 7, 1, 10, 11, 12, 500_000)),
        at("2026-07-01 10:11:12.5")
    );
    assert!(dt(b("2026-07-01 25:00:00")).is_err());
    assert!(
        Key::DateTime(DateTime::parse("2026-07-01 00:00:01").expect("dt"))
            > at("2026-07-01").expect("dt")
    );
}

#[test]
fn error_names_the_column_when_asked() {
    let e = int(b("x"))
        .map_err(|e| e.in_column("orders", "id"))
        .expect_err("bad");
    assert_eq!(
        e.to_string(),
        "orders.id: bad value 'x' for a shard key of type int: text is not an integer"
    );
}

#[test]
fn config_values() {
    let v =
        |s: &str| toml::from_str::<toml::Table>(&format!("v = {s}")).expect("toml")["v"].clone();
    assert_eq!(Key::from_config(KeyType::Int, &v("5")), Ok(Key::Int(5)));
    assert!(Key::from_config(KeyType::Int, &v("\"5\"")).is_err());
    assert_eq!(Key::from_config(CI, &v("\"Lyon \"")), Ok(gci("lyon")));
    assert_eq!(Key::from_config(CI, &v("\"Lyón\"")), Ok(gci("lyon")));
    let date = Ok(Key::Date(Date::new(2026, 1, 1).expect("date")));
    assert_eq!(Key::from_config(KeyType::Date, &v("\"2026-01-01\"")), date);
    assert_eq!(Key::from_config(KeyType::Date, &v("2026-01-01")), date);
    assert!(Key::from_config(KeyType::Date, &v("2026-01-01T00:00:00Z")).is_err());
    assert_eq!(
        Key::from_config(KeyType::DateTime, &v("2026-01-01T10:00:00")),
        Ok(Key::DateTime(
            DateTime::parse("2026-01-01 10:00").expect("dt")
        ))
    );
}
