//! `list`: explicit key values per shard, plus an optional `default_shard` for the rest.
//! String values are weighed like keys, under the column's collation: with the default
//! `utf8mb4_general_ci`, `"Paris"`, `"paris "` and `"PÀRIS"` are the same value, and listing two
//! of them is an error.

use super::Key;
use crate::config::raw::RawTable;
use crate::config::{KeyType, ShardId, TableCx};
use std::collections::HashMap;
use std::ops::Range;

/// Parameters of a list table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListRule {
    values: HashMap<Key, ShardId>,
    default_shard: Option<ShardId>,
}

impl ListRule {
    /// Validates `lists` and `default_shard`: values of the key type, each value listed once
    /// (across and within entries, after normalization), shards that exist.
    pub fn build(cx: &mut TableCx<'_, '_>, raw: &RawTable) -> Option<ListRule> {
        let default_shard = match &raw.default_shard {
            Some(d) => Some(cx.shard(d, ".default_shard", "default_shard")?),
            None => None,
        };
        let Some(list) = &raw.lists else {
            cx.error(None, "", "missing key `lists` for algorithm list, e.g. lists = [{ shard = \"s0\", values = [1, 2] }]");
            return None;
        };
        if list.get_ref().is_empty() {
            cx.error(
                Some(list.span()),
                ".lists",
                "empty `lists`: give at least one { shard, values }",
            );
            return None;
        }
        let kt = cx.key_type();
        let mut values: HashMap<Key, ShardId> = HashMap::new();
        // Where each value was first listed: (path, span), for duplicate messages.
        let mut seen: HashMap<Key, (String, Range<usize>, Key)> = HashMap::new();
        for (i, item) in list.get_ref().iter().enumerate() {
            let sub = format!(".lists[{i}]");
            let entry = item.get_ref();
            let shard = match &entry.shard {
                Some(s) => cx.shard(s, &sub, "shard"),
                None => {
                    cx.error(Some(item.span()), &sub, "missing key `shard`");
                    None
                }
            };
            let vals = match &entry.values {
                None => {
                    cx.error(Some(item.span()), &sub, "missing key `values`");
                    continue;
                }
                Some(v) if v.get_ref().is_empty() => {
                    cx.error(
                        Some(v.span()),
                        &format!("{sub}.values"),
                        "empty `values`: list at least one value",
                    );
                    continue;
                }
                Some(v) => v.get_ref(),
            };
            for (j, v) in vals.iter().enumerate() {
                let at = format!("{sub}.values[{j}]");
                let key = match Key::from_config(kt, v.get_ref()) {
                    Ok(k) => k,
                    Err(msg) => {
                        cx.error(Some(v.span()), &at, format!("bad value: {msg}"));
                        continue;
                    }
                };
                if let Some((first, span, first_key)) = seen.get(&key) {
                    // Equal keys written differently are equal under the collation: say so.
                    let same = match (key.to_string(), first_key.key_type()) {
                        (text, KeyType::String(c)) if text != first_key.to_string() => {
                            format!(" as {first_key} (equal under collation {})", c.name())
                        }
                        _ => String::new(),
                    };
                    let msg = format!(
                        "value {key} is already listed at lists{first} (line {}){same}; each value belongs to one shard",
                        cx.line(span.start)
                    );
                    cx.error(Some(v.span()), &at, msg);
                    continue;
                }
                seen.insert(
                    key.clone(),
                    (format!("[{i}].values[{j}]"), v.span(), key.clone()),
                );
                if let Some(s) = shard {
                    values.insert(key, s);
                }
            }
        }
        (!cx.failed()).then_some(ListRule {
            values,
            default_shard,
        })
    }

    /// Every shard a row may be on: the entries' shards and the default shard.
    pub fn shards(&self) -> Vec<ShardId> {
        let mut out: Vec<ShardId> = self
            .values
            .values()
            .copied()
            .chain(self.default_shard)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every listed value, in key order (for tools comparing two rules, e.g. `rules diff`).
    pub fn listed(&self) -> Vec<&Key> {
        let mut out: Vec<&Key> = self.values.keys().collect();
        out.sort();
        out
    }

    /// The shard of every value not listed, if any.
    pub fn default_shard(&self) -> Option<ShardId> {
        self.default_shard
    }

    /// The shard listing `key`, else the default shard, else None.
    pub fn shard_for_key(&self, key: &Key) -> Option<ShardId> {
        self.values.get(key).copied().or(self.default_shard)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::KeyType;
    use crate::route::test_rules::table;
    use crate::route::{Key, RouteError};
    use mysql_common::value::Value;

    #[test]
    #[rustfmt::skip]
    fn golden_strings_with_default() {
        let t = table(
            r#"algorithm = "list"
key = "city"
key_type = "string"
default_shard = "s3"
lists = [
  { shard = "s0", values = ["paris", "Lyon"] },
  { shard = "s1", values = ["berlin", "München", "Zürich"] },
  { shard = "s2", values = ["東京", "Москва", "42"] },
]"#,
        );
        let kt = KeyType::String(crate::config::Collation::GeneralCi);
        assert_eq!(t.key_type, kt, "utf8mb4_general_ci when the rule names none");
        let s = |v: Value| t.shard_for_key(&Key::coerce(kt, &v).expect("key"));
        let cases: &[(&str, usize)] = &[
            ("paris", 0), ("PARIS", 0), ("Paris  ", 0), ("lyon", 0), ("LYON", 0), ("berlin", 1),
            ("MÜNCHEN", 1), ("münchen", 1), ("zürich", 1), ("東京", 2), ("москва", 2), ("МОСКВА", 2),
            ("42", 2), ("rome", 3), ("", 3), (" paris", 3), ("pariss", 3), ("munchen", 1),
            ("MUNCHEN ", 1), ("zurich", 1), ("pâris", 0), ("Москва", 2),
        ];
        for &(k, want) in cases {
            assert_eq!(s(Value::Bytes(k.into())), Ok(want), "key {k:?}");
        }
        assert_eq!(s(Value::Int(42)), Ok(2), "42 compares like '42'");
        assert_eq!(t.shards, vec![0, 1, 2, 3]);
    }

    #[test]
    fn golden_ints_without_default() {
        let t = table(
            r#"algorithm = "list"
key = "region"
key_type = "int"
lists = [{ shard = "s1", values = [1, 2, 3] }, { shard = "s2", values = [-1, 100] }]"#,
        );
        for (k, want) in [
            (1, Some(1)),
            (2, Some(1)),
            (3, Some(1)),
            (-1, Some(2)),
            (100, Some(2)),
            (0, None),
            (4, None),
        ] {
            match want {
                Some(s) => assert_eq!(t.shard_for_key(&Key::Int(k)), Ok(s), "key {k}"),
                None => assert_eq!(
                    t.shard_for_key(&Key::Int(k)),
                    Err(RouteError::NoShardForKey {
                        table: "t".into(),
                        key: k.to_string()
                    })
                ),
            }
        }
        assert_eq!(t.shards, vec![1, 2]);
        assert_eq!(
            t.shards_for_range(std::ops::Bound::Unbounded, std::ops::Bound::Unbounded),
            vec![1, 2]
        );
    }
}
