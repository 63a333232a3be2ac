//! Routing statements on split tables (see [`crate::config::split`]): the unit of placement is
//! a physical table, not a shard. Each split instance gets the units its own shard-key
//! predicates allow (the rule's algorithm over units), narrowed through key equalities exactly
//! as shards are (see [`super::dml`]); the statement then runs once per unit, each target
//! naming that unit's physical tables (the rewrite step puts the names in the SQL).
//!
//! Several split instances in one statement must be split alike (the same units on the same
//! shards) and co-located, so that a unit holds every row combination of its keys; a split
//! table with a sharded table that is not split alike is refused with 1235.

use super::dml::{Placed, components, effective_sets, finish, scatter_refusal};
use super::{RouteInput, shards_for};
use crate::config::ShardId;
use crate::config::split::Split;
use crate::error::{ProxyError, Result};
use crate::plan::{Physical, Plan, Target};
use crate::sql::keycond::Cond;
use crate::sql::scopes::Scopes;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The plan of a SELECT, UPDATE or DELETE reading at least one split table (`sharded`: the
/// indexes of the sharded instances in `placed`).
pub(super) fn route_split(
    inp: &RouteInput<'_>,
    sc: &Scopes,
    placed: &[Placed],
    sharded: &[usize],
    write: bool,
    multi: bool,
) -> Result<Plan> {
    let Some((split_at, split)) = placed
        .iter()
        .enumerate()
        .find_map(|(i, p)| Some((i, p.sharded.as_ref()?.split.clone()?)))
    else {
        return Err(ProxyError::NotSupported(
            "a split table without its split".into(),
        ));
    };
    let alike = |i: usize| {
        placed[i]
            .sharded
            .as_ref()
            .and_then(|r| r.split.as_ref())
            .is_some_and(|s| s.same_layout(&split))
    };
    // Sharded instances not split alike: allowed only where the statement reads one physical
    // table and they are restricted to its shard (checked below).
    let unsplit: Vec<usize> = sharded.iter().copied().filter(|&i| !alike(i)).collect();
    let split_ones: Vec<usize> = sharded.iter().copied().filter(|&i| alike(i)).collect();
    // Each split instance's units, narrowed through the key equalities that tie it to others.
    let mut by_unit = Vec::with_capacity(placed.len());
    for (i, p) in placed.iter().enumerate() {
        let (sharded_rule, shards) = match p.sharded.as_ref() {
            Some(rule) if alike(i) => {
                let cond = sc.instances.get(i).map_or(&Cond::Any, |x| &x.cond);
                let units = split.unit_rule(rule);
                let set = shards_for(&units, cond, inp.params)?
                    .unwrap_or_else(|| units.shards.iter().copied().collect());
                (p.sharded.clone(), set)
            }
            // Not tied to the split instances: its set is of shards, theirs of units.
            _ => (None, p.shards.clone()),
        };
        by_unit.push(Placed {
            name: p.name.clone(),
            schema: p.schema.clone(),
            sharded: sharded_rule,
            broadcast: p.broadcast,
            shards,
        });
    }
    let sets = effective_sets(sc, &by_unit);
    let mut units: BTreeSet<usize> = BTreeSet::new();
    for &i in &split_ones {
        units.extend(sets[i].iter().copied());
    }
    if let Some(&other) = unsplit.first() {
        let by_shard = effective_sets(sc, placed);
        let one_table = match units.iter().collect::<Vec<_>>().as_slice() {
            [u] => unsplit
                .iter()
                .all(|&i| by_shard[i].iter().all(|&s| s == split.shard_of(**u))),
            _ => false,
        };
        if !one_table {
            return Err(ProxyError::NotSupported(format!(
                "a statement reading split table `{}` with sharded table `{}`, which is not split alike (the same physical tables on the same shards), over several physical tables: give both shard keys so that it reads one physical table, or split both alike",
                placed[split_at].name, placed[other].name
            )));
        }
    }
    let anywhere: Vec<&Placed> = placed.iter().filter(|p| p.sharded.is_none()).collect();
    let fits = |u: &usize| {
        let s = split.shard_of(*u);
        anywhere.iter().all(|p| p.shards.contains(&s))
    };
    if multi && !(units.len() <= 1 && units.iter().all(fits)) {
        if !write && super::union::is_union(&inp.analysis.stmt) {
            return Err(ProxyError::NotSupported(format!(
                "UNION over several physical tables of split table `{}` (give the shard key so that every part reads one physical table)",
                placed[split_at].name
            )));
        }
        let shards: BTreeSet<ShardId> = units.iter().map(|&u| split.shard_of(u)).collect();
        let components = components(sc, placed, sharded);
        if let Some(why) = scatter_refusal(sc, placed, &components, &shards) {
            return Err(ProxyError::NotSupported(why));
        }
    }
    if units.is_empty() {
        // No physical table can hold a matching row: ask one (where every other table is too),
        // which answers with the right empty result.
        let all = 0..split.units().len();
        let pick = all.clone().find(fits).unwrap_or(0);
        units.insert(pick);
    }
    let names = split_tables(placed, &split_ones);
    let targets = units
        .iter()
        .map(|&u| unit_target(&split, u, &names))
        .collect();
    finish(inp, sc, targets, write, multi)
}

/// The distinct split tables of the statement: (schema, logical name as the rules name it).
fn split_tables(placed: &[Placed], sharded: &[usize]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for &i in sharded {
        if let Some(r) = placed[i].sharded.as_ref() {
            let t = (placed[i].schema.clone(), r.name.clone());
            if !out
                .iter()
                .any(|(s, n)| *s == t.0 && n.eq_ignore_ascii_case(&t.1))
            {
                out.push(t);
            }
        }
    }
    out
}

/// The target running the statement on unit `u`: its shard, and each split table's physical
/// table there.
pub(super) fn unit_target(split: &Split, u: usize, tables: &[(String, String)]) -> Target {
    Target {
        tables: tables
            .iter()
            .map(|(schema, logical)| Physical {
                schema: schema.clone(),
                logical: logical.clone(),
                physical: split.physical(u, logical),
            })
            .collect(),
        ..Target::on(split.shard_of(u))
    }
}

/// Every unit of a split table as a target (DDL, which creates or changes each physical table).
pub(super) fn every_unit(split: &Arc<Split>, schema: &str, logical: &str) -> Vec<Target> {
    let tables = [(schema.to_string(), logical.to_string())];
    (0..split.units().len())
        .map(|u| unit_target(split, u, &tables))
        .collect()
}
