//! The merge stage: combines shard results into the client's result. Values compare the way
//! MySQL compares them for the column's type: numbers as numbers, binary strings byte by byte,
//! other strings case-insensitively with trailing spaces ignored (the default collations).

use crate::error::{ProxyError, Result};
use crate::execute::{OkInfo, Outcome, RowSet};
use crate::frontend::packets::ColumnDef;
use crate::plan::{Merge, RowMerge};
use crate::sql::analyze::{Agg, OrderRef};
use mysql_async::Value;
use std::cmp::Ordering;
use std::collections::HashSet;

/// Merges the outcomes of a plan's targets (in target order).
pub fn merge(spec: &Merge, outcomes: Vec<Outcome>) -> Result<Outcome> {
    match spec {
        Merge::Pass => outcomes
            .into_iter()
            .next()
            .ok_or_else(|| ProxyError::Transaction("no result from any shard".into())),
        Merge::Affected {
            broadcast,
            first_id,
            multi_row,
            upsert,
        } => {
            let oks: Vec<OkInfo> = outcomes
                .into_iter()
                .filter_map(|o| match o {
                    Outcome::Ok(ok) => Some(ok),
                    _ => None,
                })
                .collect();
            let mut total = if *broadcast {
                // Every copy ran the same statement on the same rows: the first one answers.
                oks.first().cloned().unwrap_or_default()
            } else {
                OkInfo {
                    affected: oks.iter().map(|o| o.affected).sum(),
                    info: merge_info(&oks, *multi_row, *upsert),
                    warnings: oks
                        .iter()
                        .map(|o| o.warnings)
                        .fold(0u16, u16::saturating_add),
                    warning_list: oks.iter().flat_map(|o| o.warning_list.clone()).collect(),
                    ..Default::default()
                }
            };
            total.last_insert_id = oks
                .iter()
                .map(|o| o.last_insert_id)
                .find(|id| *id != 0)
                .unwrap_or(0);
            if let Some(id) = first_id {
                total.last_insert_id = *id;
            }
            Ok(Outcome::Ok(total))
        }
        Merge::Rows(m) => {
            let mut sets = Vec::new();
            for o in outcomes {
                match o {
                    Outcome::Rows(r) => sets.push(r),
                    Outcome::Stream(_) => {
                        return Err(ProxyError::Transaction(
                            "a streamed result cannot be merged".into(),
                        ));
                    }
                    Outcome::Ok(_) | Outcome::Multi(_) => {
                        return Err(ProxyError::Transaction(
                            "a shard answered something else than one result set where rows were expected".into(),
                        ));
                    }
                }
            }
            Ok(Outcome::Rows(merge_rows(m, sets)))
        }
    }
}

/// The OK info of a statement split over shards: each shard's `Label: n` counts added up, in
/// the order the server writes them (`Records: 3  Duplicates: 0  Warnings: 0`,
/// `Rows matched: 3  Changed: 3  Warnings: 0`). Drivers read `changedRows` and the like from it.
/// A shard that received one row of a multi-row INSERT reports no info: it counts as one record,
/// and as a duplicate when MySQL would count it so: updated by ON DUPLICATE KEY UPDATE (2
/// affected rows; an unchanged row is not counted), or IGNOREd (0 affected rows).
fn merge_info(oks: &[OkInfo], multi_row: bool, upsert: bool) -> String {
    let mut sums: Vec<(String, u64)> = Vec::new();
    let mut add = |label: &str, n: u64| match sums.iter_mut().find(|(l, _)| l == label) {
        Some((_, total)) => *total += n,
        None => sums.push((label.to_string(), n)),
    };
    for o in oks {
        let parsed = parse_info(&o.info);
        if parsed.is_empty() {
            if multi_row {
                add("Records", 1);
                let duplicate = if upsert {
                    o.affected == 2
                } else {
                    o.affected == 0
                };
                add("Duplicates", u64::from(duplicate));
                add("Warnings", u64::from(o.warnings));
            }
            continue;
        }
        for (label, n) in parsed {
            add(label, n);
        }
    }
    sums.iter()
        .map(|(l, n)| format!("{l}: {n}"))
        .collect::<Vec<_>>()
        .join("  ")
}

/// `Label: n` pairs of an OK info string; empty when it is not of that form.
fn parse_info(info: &str) -> Vec<(&str, u64)> {
    let mut out = Vec::new();
    let mut rest = info.trim();
    while !rest.is_empty() {
        let Some((label, after)) = rest.split_once(':') else {
            return Vec::new();
        };
        let after = after.trim_start();
        let end = after
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len());
        let Ok(n) = after[..end].parse::<u64>() else {
            return Vec::new();
        };
        out.push((label.trim(), n));
        rest = after[end..].trim_start();
    }
    out
}

/// Merges row sets: aggregates fold into one row; otherwise concatenate, de-duplicate, sort,
/// then apply OFFSET/LIMIT.
pub fn merge_rows(m: &RowMerge, sets: Vec<RowSet>) -> RowSet {
    let columns = sets.first().map(|s| s.columns.clone()).unwrap_or_default();
    let warnings = sets
        .iter()
        .map(|s| s.warnings)
        .fold(0u16, u16::saturating_add);
    let mut warning_list = Vec::new();
    let mut runs: Vec<Vec<Vec<Value>>> = Vec::with_capacity(sets.len());
    for s in sets {
        runs.push(s.rows);
        warning_list.extend(s.warning_list);
    }
    let keys: Vec<(usize, bool)> = m
        .order_by
        .iter()
        .filter_map(|(r, asc)| resolve(r, &columns).map(|i| (i, *asc)))
        .collect();
    let mut rows = if m.aggregates.is_none() && !keys.is_empty() {
        // Each shard sorted its rows (the ORDER BY went to every shard): merge the runs.
        let wanted = match m.limit {
            Some(l) if !m.distinct => {
                usize::try_from(m.offset.saturating_add(l)).unwrap_or(usize::MAX)
            }
            _ => usize::MAX,
        };
        kway(runs, &keys, &columns, wanted)
    } else {
        runs.into_iter().flatten().collect()
    };
    if let Some(aggs) = &m.aggregates {
        rows = vec![fold(aggs, &columns, rows)];
    }
    if m.distinct {
        let mut seen = HashSet::new();
        rows.retain(|r| {
            seen.insert(
                r.iter()
                    .zip(columns.iter())
                    .map(|(v, c)| norm(v, c))
                    .collect::<Vec<_>>(),
            )
        });
    }
    let offset = usize::try_from(m.offset).unwrap_or(usize::MAX);
    let rows: Vec<Vec<Value>> = match m.limit {
        Some(l) => rows
            .into_iter()
            .skip(offset)
            .take(usize::try_from(l).unwrap_or(usize::MAX))
            .collect(),
        None => rows.into_iter().skip(offset).collect(),
    };
    match m.visible {
        Some(n) if n < columns.len() => {
            let rows = rows.into_iter().map(|mut r| {
                r.truncate(n);
                r
            });
            RowSet {
                columns: std::sync::Arc::new(columns[..n].to_vec()),
                rows: rows.collect(),
                warnings,
                warning_list,
            }
        }
        _ => RowSet {
            columns,
            rows,
            warnings,
            warning_list,
        },
    }
}

/// Merges sorted runs into one sorted sequence, stopping after `wanted` rows. Linear in the
/// number of runs per row, which is the number of shards (a handful): simpler than a heap.
fn kway(
    runs: Vec<Vec<Vec<Value>>>,
    keys: &[(usize, bool)],
    cols: &[ColumnDef],
    wanted: usize,
) -> Vec<Vec<Value>> {
    let mut runs = runs;
    let total: usize = runs.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(total.min(wanted));
    let mut pos = vec![0usize; runs.len()];
    while out.len() < wanted {
        let mut best: Option<usize> = None;
        for i in 0..runs.len() {
            let Some(row) = runs[i].get(pos[i]) else {
                continue;
            };
            let better = match best {
                None => true,
                Some(b) => order(row, &runs[b][pos[b]], keys, cols) == Ordering::Less,
            };
            if better {
                best = Some(i);
            }
        }
        let Some(b) = best else { break };
        out.push(std::mem::take(&mut runs[b][pos[b]]));
        pos[b] += 1;
    }
    out
}

/// The order of two rows under the ORDER BY keys.
fn order(a: &[Value], b: &[Value], keys: &[(usize, bool)], cols: &[ColumnDef]) -> Ordering {
    for &(i, asc) in keys {
        let (Some(x), Some(y), Some(c)) = (a.get(i), b.get(i), cols.get(i)) else {
            continue;
        };
        let o = compare(x, y, c);
        if o != Ordering::Equal {
            return if asc { o } else { o.reverse() };
        }
    }
    Ordering::Equal
}

fn resolve(r: &OrderRef, cols: &[ColumnDef]) -> Option<usize> {
    match r {
        OrderRef::Position(p) => (*p < cols.len()).then_some(*p),
        OrderRef::Name(n) => cols
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(n.as_bytes()))
            .or_else(|| {
                cols.iter()
                    .position(|c| c.org_name.eq_ignore_ascii_case(n.as_bytes()))
            }),
        OrderRef::Unresolved(_) => None,
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::UInt(u) => Some(*u as f64),
        Value::Float(f) => Some(f64::from(*f)),
        Value::Double(d) => Some(*d),
        Value::Bytes(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
        _ => None,
    }
}

fn as_i128(v: &Value) -> Option<i128> {
    match v {
        Value::Int(i) => Some(i128::from(*i)),
        Value::UInt(u) => Some(i128::from(*u)),
        Value::Bytes(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
        _ => None,
    }
}

fn as_bytes(v: &Value, c: &ColumnDef) -> Vec<u8> {
    match v {
        Value::Bytes(b) => b.clone(),
        other => crate::frontend::rows::value_text(other, Some(c)),
    }
}

/// Compares two values of column `c` as MySQL would (NULL first).
pub fn compare(a: &Value, b: &Value, c: &ColumnDef) -> Ordering {
    match (a, b) {
        (Value::NULL, Value::NULL) => return Ordering::Equal,
        (Value::NULL, _) => return Ordering::Less,
        (_, Value::NULL) => return Ordering::Greater,
        _ => {}
    }
    if c.is_numeric() {
        if let (Some(x), Some(y)) = (as_i128(a), as_i128(b)) {
            return x.cmp(&y);
        }
        if let (Some(x), Some(y)) = (as_f64(a), as_f64(b)) {
            return x.partial_cmp(&y).unwrap_or(Ordering::Equal);
        }
    }
    let (x, y) = (as_bytes(a, c), as_bytes(b, c));
    if c.is_binary() {
        return x.cmp(&y);
    }
    fold_case(&x).cmp(&fold_case(&y))
}

/// The comparison form of a non-binary string: lower case, trailing spaces dropped.
fn fold_case(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .trim_end_matches(' ')
        .to_lowercase()
}

/// A hashable form of a value such that equal-comparing values are equal.
fn norm(v: &Value, c: &ColumnDef) -> Vec<u8> {
    if matches!(v, Value::NULL) {
        return vec![0xff, 0xfe];
    }
    if c.is_numeric() {
        if let Some(i) = as_i128(v) {
            return i.to_string().into_bytes();
        }
        if let Some(f) = as_f64(v) {
            return f.to_string().into_bytes();
        }
    }
    let b = as_bytes(v, c);
    if c.is_binary() {
        b
    } else {
        fold_case(&b).into_bytes()
    }
}

fn fold(aggs: &[Agg], cols: &[ColumnDef], rows: Vec<Vec<Value>>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(aggs.len());
    for (i, agg) in aggs.iter().enumerate() {
        let vals = rows
            .iter()
            .filter_map(|r| r.get(i))
            .filter(|v| !matches!(v, Value::NULL));
        let col = cols.get(i);
        let v = match agg {
            Agg::Count => Value::Int(vals.filter_map(as_i128).sum::<i128>() as i64),
            Agg::Sum => {
                let vals: Vec<&Value> = vals.collect();
                if vals.is_empty() {
                    Value::NULL
                } else if let Some(ints) =
                    vals.iter().map(|v| as_i128(v)).collect::<Option<Vec<_>>>()
                {
                    Value::Bytes(ints.iter().sum::<i128>().to_string().into_bytes())
                } else {
                    let s: f64 = vals.iter().filter_map(|v| as_f64(v)).sum();
                    Value::Bytes(format_decimal(s, col.map(|c| c.decimals).unwrap_or(0)))
                }
            }
            Agg::Min | Agg::Max => {
                let best = vals.fold(None::<&Value>, |acc, v| match (acc, col) {
                    (None, _) => Some(v),
                    (Some(a), Some(c)) => {
                        let o = compare(v, a, c);
                        let better = if *agg == Agg::Min {
                            o == Ordering::Less
                        } else {
                            o == Ordering::Greater
                        };
                        Some(if better { v } else { a })
                    }
                    (Some(a), None) => Some(a),
                });
                best.cloned().unwrap_or(Value::NULL)
            }
        };
        out.push(v);
    }
    out
}

fn format_decimal(v: f64, decimals: u8) -> Vec<u8> {
    if decimals == 0 || decimals > 30 {
        format!("{v}").into_bytes()
    } else {
        format!("{v:.*}", decimals as usize).into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(affected: u64, info: &str) -> OkInfo {
        OkInfo {
            affected,
            info: info.into(),
            ..Default::default()
        }
    }

    #[test]
    fn ok_info_is_summed() {
        let update = [
            ok(2, "Rows matched: 2  Changed: 2  Warnings: 0"),
            ok(1, "Rows matched: 3  Changed: 1  Warnings: 1"),
        ];
        assert_eq!(
            merge_info(&update, false, false),
            "Rows matched: 5  Changed: 3  Warnings: 1"
        );
        let insert = [ok(2, "Records: 2  Duplicates: 0  Warnings: 0"), ok(1, "")];
        assert_eq!(
            merge_info(&insert, true, false),
            "Records: 3  Duplicates: 0  Warnings: 0"
        );
        assert_eq!(
            merge_info(&[ok(1, ""), ok(0, "")], true, false),
            "Records: 2  Duplicates: 1  Warnings: 0"
        );
        assert_eq!(
            merge_info(&[ok(2, ""), ok(0, "")], true, true),
            "Records: 2  Duplicates: 1  Warnings: 0"
        );
        assert_eq!(merge_info(&[ok(1, ""), ok(1, "")], false, false), "");
        assert!(parse_info("not: a count").is_empty());
    }
    use mysql_async::consts::ColumnType;
    use std::sync::Arc;

    fn set(col: ColumnType, vals: &[&str]) -> RowSet {
        let mut c = ColumnDef::synthetic("c", col);
        if col == ColumnType::MYSQL_TYPE_VAR_STRING {
            c.charset = 45;
        }
        RowSet {
            columns: Arc::new(vec![c]),
            rows: vals
                .iter()
                .map(|v| vec![Value::Bytes(v.as_bytes().to_vec())])
                .collect(),
            warnings: 0,
            warning_list: Vec::new(),
        }
    }

    fn texts(r: &RowSet) -> Vec<String> {
        r.rows
            .iter()
            .map(|row| match &row[0] {
                Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn numeric_order_with_offset_and_limit() {
        let m = RowMerge {
            order_by: vec![(OrderRef::Position(0), true)],
            offset: 1,
            limit: Some(3),
            ..Default::default()
        };
        let r = merge_rows(
            &m,
            vec![
                set(ColumnType::MYSQL_TYPE_LONG, &["2", "10", "30"]),
                set(ColumnType::MYSQL_TYPE_LONG, &["1", "9"]),
            ],
        );
        assert_eq!(texts(&r), vec!["2", "9", "10"]);
    }

    #[test]
    fn distinct_is_case_insensitive_for_text() {
        let m = RowMerge {
            distinct: true,
            order_by: vec![(OrderRef::Name("c".into()), false)],
            ..Default::default()
        };
        let r = merge_rows(
            &m,
            vec![
                set(ColumnType::MYSQL_TYPE_VAR_STRING, &["b", "A"]),
                set(ColumnType::MYSQL_TYPE_VAR_STRING, &["c", "a "]),
            ],
        );
        assert_eq!(texts(&r), vec!["c", "b", "A"]);
    }

    #[test]
    fn aggregates_fold() {
        let m = RowMerge {
            aggregates: Some(vec![Agg::Sum]),
            ..Default::default()
        };
        let r = merge_rows(
            &m,
            vec![
                set(ColumnType::MYSQL_TYPE_NEWDECIMAL, &["5"]),
                set(ColumnType::MYSQL_TYPE_NEWDECIMAL, &["7"]),
            ],
        );
        assert_eq!(texts(&r), vec!["12"]);
        let m = RowMerge {
            aggregates: Some(vec![Agg::Max]),
            ..Default::default()
        };
        let r = merge_rows(
            &m,
            vec![
                set(ColumnType::MYSQL_TYPE_LONG, &["5"]),
                set(ColumnType::MYSQL_TYPE_LONG, &["12"]),
            ],
        );
        assert_eq!(texts(&r), vec!["12"]);
    }
}
