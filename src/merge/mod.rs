//! The merge stage: combines shard results into the client's result. Values compare the way
//! the server compares them for the column's type (see [`compare`]): numbers exactly, binary
//! strings byte by byte, other strings by the weight strings the shards computed.

use crate::error::{ProxyError, Result};
use crate::execute::{OkInfo, Outcome, RowSet};
use crate::frontend::packets::ColumnDef;
use crate::plan::{Concat, Merge, RowMerge};
use crate::sql::analyze::{Agg, OrderRef};
use bigdecimal::BigDecimal;
use compare::{KeyCol, Kind, as_i128, cmp_key, eq_form};
use mysql_async::Value;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

pub mod compare;
pub mod eval;
pub mod stream;

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
        Merge::Rows(m) => Ok(Outcome::Rows(merge_rows(m, row_sets(outcomes)?)?)),
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
/// then apply OFFSET/LIMIT. Refused (1235) when a text key has no weight string to compare
/// by (e.g. `ORDER BY 2` of a `SELECT *`), or an ENUM/SET column is a sort key (the server
/// sorts those by their index, which the result does not carry). A merge with expressions a
/// backend computes ([`eval::needed`]) goes through [`fold`], [`eval`] and [`finish`] instead.
pub fn merge_rows(m: &RowMerge, sets: Vec<RowSet>) -> Result<RowSet> {
    if eval::needed(m) {
        return Err(ProxyError::Transaction(
            "a merge that computes expressions needs a backend to evaluate them".into(),
        ));
    }
    finish(m, fold(m, sets)?)
}

/// The shards' rows combined, before the final sort, DISTINCT and LIMIT ([`finish`]): groups
/// folded into one row each, or the shards' sorted runs merged.
pub struct Folded {
    pub columns: std::sync::Arc<Vec<ColumnDef>>,
    pub rows: Vec<Vec<Value>>,
    pub warnings: u16,
    pub warning_list: Vec<Vec<Value>>,
}

/// The row sets of the shards' outcomes (refused when a shard answered something else).
pub fn row_sets(outcomes: Vec<Outcome>) -> Result<Vec<RowSet>> {
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
                    "a shard answered something else than one result set where rows were expected"
                        .into(),
                ));
            }
        }
    }
    Ok(sets)
}

/// The sort keys of the ORDER BY, checked (text needs weight strings, ENUM/SET is refused).
fn sort_keys(m: &RowMerge, keys: &Keys<'_>) -> Result<Vec<(KeyCol, bool)>> {
    m.order_by
        .iter()
        .map(|(r, asc)| {
            let k = keys.of(r)?;
            if k.kind == Kind::Enum {
                return Err(ProxyError::NotSupported(
                    "ORDER BY an ENUM or SET column across shards (the server sorts them by their position in the type, which the proxy does not see: ORDER BY CAST(col AS CHAR) or col+0)".into(),
                ));
            }
            keys.comparable(&k, "ORDER BY")?;
            Ok((k, *asc))
        })
        .collect()
}

/// The group key columns of a GROUP BY merge.
fn group_key_cols(keys: &Keys<'_>, group_keys: &[usize]) -> Result<Vec<KeyCol>> {
    group_keys
        .iter()
        .map(|k| {
            let key = keys.of(&OrderRef::Hidden(*k))?;
            keys.comparable(&key, "GROUP BY").map(|()| key)
        })
        .collect()
}

/// First step of a merge: groups folded (aggregates), or sorted runs merged.
pub fn fold(m: &RowMerge, sets: Vec<RowSet>) -> Result<Folded> {
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
    let keys = Keys::new(m, &columns)?;
    let rows = match (&m.aggregates, &m.group_keys) {
        (Some(aggs), Some(group_keys)) => {
            let gkeys = group_key_cols(&keys, group_keys)?;
            let mut index: HashMap<Vec<Vec<u8>>, usize> = HashMap::new();
            let mut groups: Vec<Vec<Vec<Value>>> = Vec::new();
            for row in runs.into_iter().flatten() {
                let key: Vec<Vec<u8>> = gkeys
                    .iter()
                    .map(|k| eq_form(&row, k, columns.get(k.idx)))
                    .collect();
                match index.get(&key) {
                    Some(&g) => groups[g].push(row),
                    None => {
                        index.insert(key, groups.len());
                        groups.push(vec![row]);
                    }
                }
            }
            groups
                .into_iter()
                .map(|g| fold_group(m, aggs, &keys, &columns, g))
                .collect::<Result<Vec<_>>>()?
        }
        (Some(aggs), None) => {
            let all: Vec<Vec<Value>> = runs.into_iter().flatten().collect();
            vec![fold_group(m, aggs, &keys, &columns, all)?]
        }
        (None, _) if !m.order_by.is_empty() => {
            // Each shard sorted its rows (the ORDER BY went to every shard): merge the runs.
            let sort = sort_keys(m, &keys)?;
            let wanted = match m.limit {
                Some(l) if !m.distinct => {
                    usize::try_from(m.offset.saturating_add(l)).unwrap_or(usize::MAX)
                }
                _ => usize::MAX,
            };
            kway(runs, &sort, &columns, wanted)
        }
        (None, _) => runs.into_iter().flatten().collect(),
    };
    Ok(Folded {
        columns,
        rows,
        warnings,
        warning_list,
    })
}

/// Last step of a merge: folded groups sorted (by the ORDER BY, else by their keys as the
/// server returns them), DISTINCT, OFFSET/LIMIT, hidden columns dropped.
pub fn finish(m: &RowMerge, f: Folded) -> Result<RowSet> {
    let Folded {
        columns,
        mut rows,
        warnings,
        warning_list,
    } = f;
    let keys = Keys::new(m, &columns)?;
    if m.aggregates.is_some() {
        let mut by = sort_keys(m, &keys)?;
        if by.is_empty()
            && let Some(group_keys) = &m.group_keys
        {
            // Without ORDER BY, MariaDB returns groups in the order of their keys.
            by = group_key_cols(&keys, group_keys)?
                .into_iter()
                .map(|k| (k, true))
                .collect();
        }
        if !by.is_empty() {
            rows.sort_by(|a, b| order(a, b, &by, &columns));
        }
    }
    if m.distinct {
        let visible: Vec<KeyCol> = (0..columns.len().saturating_sub(m.hidden))
            .map(|i| {
                let k = keys.at(i);
                keys.comparable(&k, "SELECT DISTINCT").map(|()| k)
            })
            .collect::<Result<_>>()?;
        let mut seen = HashSet::new();
        rows.retain(|r| {
            seen.insert(
                visible
                    .iter()
                    .map(|k| eq_form(r, k, columns.get(k.idx)))
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
    Ok(match columns.len().checked_sub(m.hidden) {
        Some(n) if m.hidden > 0 => {
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
    })
}

/// The result's columns as keys: each column's kind and, for text, where its weight string is.
struct Keys<'a> {
    columns: &'a [ColumnDef],
    hidden: usize,
    /// (column, weight column, pad column).
    weights: Vec<(usize, usize, usize)>,
}

impl<'a> Keys<'a> {
    fn new(m: &RowMerge, columns: &'a [ColumnDef]) -> Result<Keys<'a>> {
        let mut weights = Vec::new();
        for (r, k) in &m.weights {
            let (Some(c), Some(w), Some(p)) = (
                resolve(r, columns, m.hidden),
                resolve(&OrderRef::Hidden(*k), columns, m.hidden),
                resolve(&OrderRef::Hidden(k + 1), columns, m.hidden),
            ) else {
                continue;
            };
            weights.push((c, w, p));
        }
        Ok(Keys {
            columns,
            hidden: m.hidden,
            weights,
        })
    }

    fn at(&self, idx: usize) -> KeyCol {
        let kind = self
            .columns
            .get(idx)
            .map(compare::kind)
            .unwrap_or(Kind::Binary);
        let weight = self
            .weights
            .iter()
            .find(|(c, _, _)| *c == idx)
            .map(|(_, w, p)| (*w, *p));
        KeyCol { idx, kind, weight }
    }

    fn of(&self, r: &OrderRef) -> Result<KeyCol> {
        match resolve(r, self.columns, self.hidden) {
            Some(i) => Ok(self.at(i)),
            None => Err(ProxyError::NotSupported(format!(
                "ORDER BY {} across shards (the key is not a column of the result: select it)",
                match r {
                    OrderRef::Name(n) => format!("`{n}`"),
                    OrderRef::Unresolved(e) => e.clone(),
                    OrderRef::Position(p) => format!("{}", p + 1),
                    OrderRef::Hidden(k) => format!("hidden column {}", k + 1),
                }
            ))),
        }
    }

    /// Refuses a text key without a weight string: the proxy will not guess the collation.
    fn comparable(&self, k: &KeyCol, what: &str) -> Result<()> {
        if matches!(k.kind, Kind::Text | Kind::Enum) && k.weight.is_none() {
            let name = self
                .columns
                .get(k.idx)
                .map(|c| String::from_utf8_lossy(&c.name).into_owned())
                .unwrap_or_default();
            return Err(ProxyError::NotSupported(format!(
                "{what} on text column `{name}` across shards when the select list does not name it (the proxy compares text with the servers' weight strings of named expressions: list the columns instead of *)"
            )));
        }
        Ok(())
    }
}

/// Merges sorted runs into one sorted sequence, stopping after `wanted` rows. Linear in the
/// number of runs per row, which is the number of shards (a handful): simpler than a heap.
fn kway(
    runs: Vec<Vec<Vec<Value>>>,
    keys: &[(KeyCol, bool)],
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
fn order(a: &[Value], b: &[Value], keys: &[(KeyCol, bool)], cols: &[ColumnDef]) -> Ordering {
    for (k, asc) in keys {
        let o = cmp_key(a, b, k, cols.get(k.idx));
        if o != Ordering::Equal {
            return if *asc { o } else { o.reverse() };
        }
    }
    Ordering::Equal
}

fn resolve(r: &OrderRef, cols: &[ColumnDef], hidden: usize) -> Option<usize> {
    match r {
        OrderRef::Hidden(k) => (cols.len() + k)
            .checked_sub(hidden)
            .filter(|i| *i < cols.len()),
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

/// Folds rows that belong together (every shard's row of an aggregate-only SELECT, or one
/// group's rows) into one: each column by its aggregate (visible columns by `aggs`, hidden ones
/// by [`RowMerge::hidden_aggs`]); other hidden columns come from the first row, except the
/// weight strings of a MIN/MAX column, which come from the row chosen.
fn fold_group(
    m: &RowMerge,
    aggs: &[Agg],
    keys: &Keys<'_>,
    cols: &[ColumnDef],
    rows: Vec<Vec<Value>>,
) -> Result<Vec<Value>> {
    let mut out: Vec<Value> = rows.first().cloned().unwrap_or_default();
    out.resize(cols.len(), Value::NULL);
    let hidden_at = |k: usize| resolve(&OrderRef::Hidden(k), cols, m.hidden);
    let at = |r: &OrderRef| resolve(r, cols, m.hidden);
    let mut work: Vec<(usize, Agg)> = aggs.iter().copied().enumerate().collect();
    for (k, g) in &m.hidden_aggs {
        if let Some(i) = hidden_at(*k) {
            work.push((i, *g));
        }
    }
    let ints = |c: usize| -> i128 {
        rows.iter()
            .filter_map(|r| r.get(c))
            .filter_map(as_i128)
            .sum::<i128>()
    };
    let missing = |what: &str| {
        ProxyError::Transaction(format!("{what} across shards without its partial columns"))
    };
    for (i, agg) in work {
        let col = cols.get(i);
        let v = match agg {
            Agg::First => continue,
            Agg::Count => Value::Int(ints(i).try_into().unwrap_or(i64::MAX)),
            Agg::Sum => sum(rows.iter().filter_map(|r| r.get(i)), col),
            Agg::BitAnd | Agg::BitOr | Agg::BitXor => {
                let mut acc: u64 = if agg == Agg::BitAnd { u64::MAX } else { 0 };
                for v in rows.iter().filter_map(|r| r.get(i)) {
                    let Some(x) = as_i128(v) else { continue };
                    let x = x as u64;
                    acc = match agg {
                        Agg::BitAnd => acc & x,
                        Agg::BitOr => acc | x,
                        _ => acc ^ x,
                    };
                }
                Value::UInt(acc)
            }
            Agg::Avg => {
                let Some((s, c)) = m
                    .averages
                    .iter()
                    .find(|(r, _)| at(r) == Some(i))
                    .and_then(|(_, k)| Some((hidden_at(*k)?, hidden_at(k + 1)?)))
                else {
                    return Err(missing("AVG"));
                };
                average(
                    sum(rows.iter().filter_map(|r| r.get(s)), cols.get(s)),
                    ints(c),
                    col,
                )
            }
            Agg::Var { sample, root } => {
                let Some(parts) =
                    m.variances
                        .iter()
                        .find(|(r, _)| at(r) == Some(i))
                        .and_then(|(_, k)| {
                            Some([
                                hidden_at(*k)?,
                                hidden_at(k + 1)?,
                                hidden_at(k + 2)?,
                                hidden_at(k + 3)?,
                            ])
                        })
                else {
                    return Err(missing("VARIANCE/STDDEV"));
                };
                variance(&rows, parts, cols, sample, root)
            }
            Agg::CountDistinct | Agg::SumDistinct | Agg::AvgDistinct => {
                let Some(args) =
                    m.distincts
                        .iter()
                        .find(|(r, _)| at(r) == Some(i))
                        .and_then(|(_, ks)| {
                            ks.iter().map(|k| hidden_at(*k)).collect::<Option<Vec<_>>>()
                        })
                else {
                    return Err(missing("an aggregate of DISTINCT values"));
                };
                let arg_keys: Vec<KeyCol> = args.iter().map(|a| keys.at(*a)).collect();
                for k in &arg_keys {
                    keys.comparable(k, "COUNT/SUM/AVG(DISTINCT)")?;
                }
                let mut seen = HashSet::new();
                let mut values: Vec<&Vec<Value>> = Vec::new();
                for r in &rows {
                    if arg_keys
                        .iter()
                        .any(|k| matches!(r.get(k.idx), None | Some(Value::NULL)))
                    {
                        continue;
                    }
                    let form: Vec<Vec<u8>> = arg_keys
                        .iter()
                        .map(|k| eq_form(r, k, cols.get(k.idx)))
                        .collect();
                    if seen.insert(form) {
                        values.push(r);
                    }
                }
                match agg {
                    Agg::CountDistinct => Value::Int(values.len().try_into().unwrap_or(i64::MAX)),
                    _ => {
                        let a = arg_keys[0];
                        // The server adds distinct values in ascending order (it matters for
                        // doubles only).
                        values.sort_by(|x, y| cmp_key(x, y, &a, cols.get(a.idx)));
                        let kind_col = cols.get(a.idx);
                        let total = sum(values.iter().filter_map(|r| r.get(a.idx)), kind_col);
                        if agg == Agg::SumDistinct {
                            rescale(total, col)
                        } else {
                            average(total, values.len() as i128, col)
                        }
                    }
                }
            }
            Agg::GroupConcat => {
                let Some((_, c)) = m.concats.iter().find(|(r, _)| at(r) == Some(i)) else {
                    return Err(missing("GROUP_CONCAT"));
                };
                group_concat(c, keys, cols, &rows, &hidden_at)?
            }
            Agg::Min | Agg::Max => {
                let k = keys.at(i);
                keys.comparable(&k, if agg == Agg::Min { "MIN()" } else { "MAX()" })?;
                let mut best: Option<&Vec<Value>> = None;
                for r in rows
                    .iter()
                    .filter(|r| !matches!(r.get(i), None | Some(Value::NULL)))
                {
                    let better = match best {
                        None => true,
                        Some(b) => {
                            let o = cmp_key(r, b, &k, col);
                            if agg == Agg::Min {
                                o == Ordering::Less
                            } else {
                                o == Ordering::Greater
                            }
                        }
                    };
                    if better {
                        best = Some(r);
                    }
                }
                if let (Some(b), Some((w, p))) = (best, k.weight) {
                    for j in [w, p] {
                        if let (Some(slot), Some(v)) = (out.get_mut(j), b.get(j)) {
                            *slot = v.clone();
                        }
                    }
                }
                best.and_then(|r| r.get(i)).cloned().unwrap_or(Value::NULL)
            }
        };
        if let Some(slot) = out.get_mut(i) {
            *slot = v;
        }
    }
    Ok(out)
}

/// The GROUP_CONCAT of one group from its sub-groups' rows (see [`Concat`]): pieces without
/// NULL, de-duplicated by their arguments' weights for DISTINCT, sorted by the ORDER BY keys
/// (DISTINCT without ORDER BY: by the arguments, as the server's de-duplicating tree returns
/// them), each repeated by its row count, LIMIT applied, joined by the separator. A result
/// longer than `@@group_concat_max_len` is refused: the server cuts it at a character boundary
/// of the result's character set with a warning, which the proxy does not reproduce.
fn group_concat(
    c: &Concat,
    keys: &Keys<'_>,
    cols: &[ColumnDef],
    rows: &[Vec<Value>],
    hidden_at: &dyn Fn(usize) -> Option<usize>,
) -> Result<Value> {
    let missing =
        || ProxyError::Transaction("GROUP_CONCAT across shards without its partial columns".into());
    let piece = hidden_at(c.piece).ok_or_else(missing)?;
    let count = hidden_at(c.count).ok_or_else(missing)?;
    let max_len = hidden_at(c.max_len).ok_or_else(missing)?;
    let key_cols = |ks: &mut dyn Iterator<Item = (usize, bool)>| -> Result<Vec<(KeyCol, bool)>> {
        ks.map(|(k, asc)| {
            let col = keys.at(hidden_at(k).ok_or_else(missing)?);
            keys.comparable(&col, "GROUP_CONCAT(... ORDER BY)")?;
            Ok((col, asc))
        })
        .collect()
    };
    let args = key_cols(&mut c.args.iter().map(|k| (*k, true)))?;
    let mut by = key_cols(&mut c.keys.iter().copied())?;
    if by.is_empty() && c.distinct {
        by = args.clone();
    }
    let mut items: Vec<(&Vec<Value>, u64)> = Vec::new();
    let mut seen = HashSet::new();
    for r in rows {
        if matches!(r.get(piece), None | Some(Value::NULL)) {
            continue;
        }
        let n = if c.distinct {
            let form: Vec<Vec<u8>> = args
                .iter()
                .map(|(k, _)| eq_form(r, k, cols.get(k.idx)))
                .collect();
            if !seen.insert(form) {
                continue;
            }
            1
        } else {
            r.get(count)
                .and_then(as_i128)
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0)
        };
        items.push((r, n));
    }
    if items.is_empty() {
        return Ok(Value::NULL);
    }
    // Stable: equal keys keep the shards' order.
    items.sort_by(|a, b| order(a.0, b.0, &by, cols));
    let (skip, take) = c.limit.unwrap_or((0, u64::MAX));
    let limit = rows
        .first()
        .and_then(|r| r.get(max_len))
        .and_then(as_i128)
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(usize::MAX);
    let mut out: Vec<u8> = Vec::new();
    let mut emitted = 0u64;
    let mut index = 0u64;
    'all: for (r, n) in items {
        let Some(Value::Bytes(bytes)) = r.get(piece) else {
            return Err(ProxyError::Transaction(
                "GROUP_CONCAT across shards: a piece is not a string".into(),
            ));
        };
        for _ in 0..n {
            if index >= skip {
                if emitted == take {
                    break 'all;
                }
                if emitted > 0 {
                    out.extend_from_slice(&c.separator);
                }
                out.extend_from_slice(bytes);
                emitted += 1;
                if out.len() > limit {
                    return Err(ProxyError::NotSupported(format!(
                        "GROUP_CONCAT() across shards with a result longer than @@group_concat_max_len ({limit} bytes; the server would cut it): raise group_concat_max_len"
                    )));
                }
            }
            index += 1;
        }
    }
    Ok(Value::Bytes(out))
}

/// A sum printed with the result column's scale (SUM(DISTINCT x) of a DECIMAL or integer
/// column); doubles unchanged.
fn rescale(v: Value, col: Option<&ColumnDef>) -> Value {
    if col.is_some_and(|c| compare::kind(c) == Kind::Double) || matches!(v, Value::NULL) {
        return v;
    }
    match compare::as_decimal(&v) {
        Some(d) => {
            let scale = col
                .map(|c| i64::from(c.decimals))
                .filter(|d| *d <= 30)
                .unwrap_or(0);
            Value::Bytes(d.with_scale(scale).to_plain_string().into_bytes())
        }
        None => v,
    }
}

/// VAR_POP/VAR_SAMP (and their square roots, STDDEV_POP/STDDEV_SAMP) of the values whose
/// per-shard COUNT, SUM, sum of squares and VAR_POP are at `[n, s, q, v]` in `rows`: for
/// integers and DECIMAL exactly from the counts and sums, rounded once to a double at the end;
/// for FLOAT/DOUBLE (whose sums are rounded) by combining the shards' own variances (Chan's
/// parallel formula, numerically stable like the server's running computation). NULL without
/// values (and for a sample of one value), as the server answers.
fn variance(
    rows: &[Vec<Value>],
    [n, s, q, v]: [usize; 4],
    cols: &[ColumnDef],
    sample: bool,
    root: bool,
) -> Value {
    let count = |r: &Vec<Value>| r.get(n).and_then(as_i128).unwrap_or(0);
    let total: i128 = rows.iter().map(count).sum();
    if total == 0 || (sample && total == 1) {
        return Value::NULL;
    }
    let div = if sample { total - 1 } else { total };
    let double = cols
        .get(s)
        .is_some_and(|c| compare::kind(c) == Kind::Double);
    let var = if double {
        let parts: Vec<(f64, f64, f64)> = rows
            .iter()
            .filter(|r| count(r) > 0)
            .map(|r| {
                let f = |i: usize| r.get(i).and_then(compare::as_f64).unwrap_or(0.0);
                (count(r) as f64, f(s), f(v))
            })
            .collect();
        let nt = total as f64;
        let mean = parts.iter().map(|(_, s, _)| s).sum::<f64>() / nt;
        let m2: f64 = parts
            .iter()
            .map(|(n, s, v)| {
                let d = s / n - mean;
                v * n + n * d * d
            })
            .sum();
        m2 / div as f64
    } else {
        let dec = |i: usize| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .filter_map(compare::as_decimal)
                .sum::<BigDecimal>()
        };
        let (sum, squares) = (dec(s), dec(q));
        let num = squares - (&sum * &sum) / BigDecimal::from(total);
        (num / BigDecimal::from(div))
            .to_string()
            .parse::<f64>()
            .unwrap_or(f64::NAN)
    };
    let var = var.max(0.0);
    Value::Double(if root { var.sqrt() } else { var })
}

/// AVG from the total SUM and COUNT: NULL for no rows; a double for FLOAT/DOUBLE arguments;
/// otherwise the exact quotient rounded half up to the column's scale, as the server rounds.
fn average(total: Value, count: i128, col: Option<&ColumnDef>) -> Value {
    if count == 0 || matches!(total, Value::NULL) {
        return Value::NULL;
    }
    if col.is_some_and(|c| compare::kind(c) == Kind::Double) {
        return match compare::as_f64(&total) {
            Some(t) => Value::Double(t / count as f64),
            None => Value::NULL,
        };
    }
    match compare::as_decimal(&total) {
        Some(t) => {
            let scale = col
                .map(|c| i64::from(c.decimals))
                .filter(|d| *d <= 30)
                .unwrap_or(4);
            let q = (t / BigDecimal::from(count))
                .with_scale_round(scale, bigdecimal::RoundingMode::HalfUp);
            Value::Bytes(q.to_plain_string().into_bytes())
        }
        None => Value::NULL,
    }
}

/// The sum of partial sums: exact for integers and DECIMAL (printed with the column's scale),
/// in double precision for FLOAT/DOUBLE. NULL when every partial sum is NULL.
fn sum<'v>(vals: impl Iterator<Item = &'v Value>, col: Option<&ColumnDef>) -> Value {
    let vals: Vec<&Value> = vals.filter(|v| !matches!(v, Value::NULL)).collect();
    if vals.is_empty() {
        return Value::NULL;
    }
    let double = col.is_some_and(|c| compare::kind(c) == Kind::Double);
    if !double
        && let Some(ds) = vals
            .iter()
            .map(|v| compare::as_decimal(v))
            .collect::<Option<Vec<_>>>()
    {
        let total: BigDecimal = ds.into_iter().sum();
        let scale = col
            .map(|c| i64::from(c.decimals))
            .filter(|d| *d <= 30)
            .unwrap_or(0);
        return Value::Bytes(total.with_scale(scale).to_plain_string().into_bytes());
    }
    let s: f64 = vals.iter().filter_map(|v| compare::as_f64(v)).sum();
    Value::Double(s)
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
        )
        .unwrap();
        assert_eq!(texts(&r), vec!["2", "9", "10"]);
    }

    /// Rows of one text column with its weight string and pad weight, as the shards return
    /// them (weights as `utf8mb4_general_ci` gives them: one 2-byte unit per character).
    fn weighed(vals: &[&str]) -> RowSet {
        let mut c = ColumnDef::synthetic("c", ColumnType::MYSQL_TYPE_VAR_STRING);
        c.charset = 45;
        let w = ColumnDef::synthetic("w", ColumnType::MYSQL_TYPE_VAR_STRING);
        let mut w = w;
        w.charset = 63;
        let weight = |s: &str| -> Vec<u8> {
            s.chars()
                .flat_map(|ch| {
                    let up = match ch {
                        'é' | 'É' => 'E',
                        other => other.to_ascii_uppercase(),
                    };
                    (up as u16).to_be_bytes()
                })
                .collect()
        };
        RowSet {
            columns: Arc::new(vec![c, w.clone(), w]),
            rows: vals
                .iter()
                .map(|v| {
                    vec![
                        Value::Bytes(v.as_bytes().to_vec()),
                        Value::Bytes(weight(v)),
                        Value::Bytes(vec![0, 0x20]),
                    ]
                })
                .collect(),
            warnings: 0,
            warning_list: Vec::new(),
        }
    }

    #[test]
    fn distinct_and_order_follow_the_weight_strings() {
        let m = RowMerge {
            distinct: true,
            order_by: vec![(OrderRef::Position(0), false)],
            hidden: 2,
            weights: vec![(OrderRef::Position(0), 0)],
            ..Default::default()
        };
        let r = merge_rows(&m, vec![weighed(&["c", "b", "A"]), weighed(&["d", "a "])]).unwrap();
        assert_eq!(texts(&r), vec!["d", "c", "b", "A"]);
        assert_eq!(r.columns.len(), 1);
        // É sorts with E, not after every ASCII letter.
        let m = RowMerge {
            order_by: vec![(OrderRef::Position(0), true)],
            hidden: 2,
            weights: vec![(OrderRef::Position(0), 0)],
            ..Default::default()
        };
        let r = merge_rows(
            &m,
            vec![weighed(&["Émile", "Ivan"]), weighed(&["Emma", "Zoe"])],
        )
        .unwrap();
        assert_eq!(texts(&r), vec!["Émile", "Emma", "Ivan", "Zoe"]);
        // Without a weight string the proxy refuses rather than guess.
        let m = RowMerge {
            order_by: vec![(OrderRef::Position(0), true)],
            ..Default::default()
        };
        assert!(merge_rows(&m, vec![set(ColumnType::MYSQL_TYPE_VAR_STRING, &["b"])]).is_err());
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
        )
        .unwrap();
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
        )
        .unwrap();
        assert_eq!(texts(&r), vec!["12"]);
    }
}
