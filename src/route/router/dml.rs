//! SELECT, UPDATE and DELETE routing. Each table instance gets the shards its own shard-key
//! predicates allow (a predicate binds to an instance, not a table name; see
//! [`crate::sql::scopes`] for which WHERE and ON conditions restrict which instance). Key
//! equalities between co-located instances (the same table, or one `[[schemas.colocated]]`
//! group) narrow those sets further: both ways for an inner join, one way from an outer join's
//! preserved side to its nullable side and from an enclosing query to a correlated subquery.
//!
//! The statement runs on one shard when every sharded instance's rows that can take part live
//! on that shard and every unsharded or broadcast table is there too, whatever its constructs
//! (subqueries, derived tables, UNION, window functions). Otherwise it runs on several shards
//! only as one scope of plain joined tables whose sharded instances the key equalities tie
//! into one component (every row combination then lives on one shard), and never with window
//! functions; anything else is refused with 1235 naming the construct.

use super::select::scatter_select;
use super::{
    Placement, RouteInput, fallback_shard, on_every_copy, placement, resolve, shards_for, single,
};
use crate::config::{Algorithm, ShardId, TableRule};
use crate::error::{ProxyError, Result};
use crate::plan::{Merge, Plan, Target};
use crate::rewrite;
use crate::sql::analyze::{Kind, TableName};
use crate::sql::keycond::Cond;
use crate::sql::scopes::{Scopes, scopes};
use sqlparser::ast::{AssignmentTarget, ObjectNamePart, Statement};
use std::collections::BTreeSet;
use std::sync::Arc;

/// One table instance, placed.
pub(super) struct Placed {
    /// The table as the statement names it, for messages.
    pub(super) name: String,
    /// The logical schema it is in.
    pub(super) schema: String,
    /// The rule of a sharded table (None: unsharded or broadcast).
    pub(super) sharded: Option<Arc<TableRule>>,
    /// A broadcast table (a copy on each of `shards`).
    pub(super) broadcast: bool,
    /// Sharded: the shards its predicates allow. Otherwise: the shards holding it (an
    /// unsharded table's default shard, a broadcast table's copies).
    pub(super) shards: BTreeSet<ShardId>,
}

/// Whether two sharded instances place equal keys on the same shard: one table, or tables
/// of one co-location group of one schema.
pub(super) fn co_located(a: (&str, &TableRule), b: (&str, &TableRule)) -> bool {
    a.0 == b.0
        && (a.1.name.eq_ignore_ascii_case(&b.1.name)
            || (a.1.colocation.is_some() && a.1.colocation == b.1.colocation))
}

pub(super) fn route_dml(inp: &RouteInput<'_>) -> Result<Plan> {
    let a = inp.analysis;
    let write = !matches!(a.kind, Kind::Select);
    if a.tables.is_empty() {
        return Ok(single(fallback_shard(inp.rules, inp.schema), write));
    }
    let key = |t: &TableName| match placement(inp.rules, inp.schema, t) {
        Ok(Placement::Sharded(r)) => r.key.clone(),
        _ => None,
    };
    let sc = scopes(&a.stmt, &key);
    let placed = place(inp, &sc)?;
    check_key_updates(inp, &placed)?;
    if write {
        check_broadcast_writes(inp, &sc, &placed)?;
    }
    let sharded: Vec<usize> = (0..placed.len())
        .filter(|&i| placed[i].sharded.is_some())
        .collect();
    // Writes to a broadcast table go to every copy.
    if write
        && sharded.is_empty()
        && a.tables.len() == 1
        && let Ok((_, Some(r))) = resolve(inp.rules, inp.schema, &a.tables[0])
        && matches!(*r.algorithm, Algorithm::Broadcast)
    {
        return Ok(on_every_copy(&r.shards, write));
    }
    let anywhere: Vec<&Placed> = placed.iter().filter(|p| p.sharded.is_none()).collect();
    if sharded.is_empty() {
        return pick_common(inp, &anywhere, write);
    }
    if placed
        .iter()
        .any(|p| p.sharded.as_ref().is_some_and(|r| r.split.is_some()))
    {
        return super::split::route_split(
            inp,
            &sc,
            &placed,
            &sharded,
            write,
            multi_of(&sc, &placed),
        );
    }
    let components = components(&sc, &placed, &sharded);
    // The shards the statement needs: where each sharded instance's rows that take part live.
    let sets = effective_sets(&sc, &placed);
    let mut shards: BTreeSet<ShardId> = BTreeSet::new();
    for &i in &sharded {
        shards.extend(sets[i].iter().copied());
    }
    let fits = |s: &ShardId| anywhere.iter().all(|p| p.shards.contains(s));
    let multi = multi_of(&sc, &placed);
    if multi && !(shards.len() <= 1 && shards.iter().all(fits)) {
        // A UNION of several shards' rows has its own rules (see `super::union`).
        if !write && super::union::is_union(&a.stmt) {
            return super::union::union_select(inp, &key);
        }
        if let Some(why) = scatter_refusal(&sc, &placed, &components, &shards) {
            return Err(ProxyError::NotSupported(why));
        }
    }
    if shards.is_empty() {
        // No shard can hold a matching row: ask one shard (where every other table is too),
        // which answers with the right empty result.
        let all = placed[sharded[0]]
            .sharded
            .as_ref()
            .map(|r| r.shards.clone())
            .unwrap_or_default();
        let pick = all
            .iter()
            .copied()
            .find(|s| fits(s))
            .or(all.first().copied());
        shards.insert(pick.unwrap_or(0));
    }
    let targets: Vec<Target> = shards.iter().map(|&shard| Target::on(shard)).collect();
    finish(inp, &sc, targets, write, multi)
}

/// Whether a statement reads several table instances or scopes (then running it on several
/// shards has conditions: see [`scatter_refusal`]).
fn multi_of(sc: &Scopes, placed: &[Placed]) -> bool {
    placed.len() > 1 || !sc.flat
}

/// The plan of a SELECT, UPDATE or DELETE once its targets are known: one target runs it as
/// it is; several add up a write's affected rows or merge a read's rows.
pub(super) fn finish(
    inp: &RouteInput<'_>,
    sc: &Scopes,
    mut targets: Vec<Target>,
    write: bool,
    multi: bool,
) -> Result<Plan> {
    let a = inp.analysis;
    if targets.len() == 1 {
        let mut plan = single(0, write);
        plan.targets = std::mem::take(&mut targets);
        return Ok(plan);
    }
    if write {
        if let Statement::Update(u) = &a.stmt
            && (u.limit.is_some() || !u.order_by.is_empty())
        {
            return Err(ProxyError::NotSupported(
                "UPDATE ... ORDER BY/LIMIT across shards".into(),
            ));
        }
        if let Statement::Delete(d) = &a.stmt
            && (d.limit.is_some() || !d.order_by.is_empty())
        {
            return Err(ProxyError::NotSupported(
                "DELETE ... ORDER BY/LIMIT across shards".into(),
            ));
        }
        return Ok(Plan {
            targets,
            merge: Merge::Affected {
                broadcast: false,
                first_id: None,
                multi_row: false,
                upsert: false,
            },
            write,
            replica_ok: false,
        });
    }
    if sc.window {
        return Err(ProxyError::NotSupported(
            "window functions across shards (each shard would compute them over its own rows only: give the shard key so that the statement routes to one shard)".into(),
        ));
    }
    scatter_select(inp, targets, multi)
}

/// Every table instance of the statement, placed: the instances of its scopes, then the
/// tables it names elsewhere (an INSERT's target), which no predicate restricts.
fn place(inp: &RouteInput<'_>, sc: &Scopes) -> Result<Vec<Placed>> {
    let mut all: Vec<(&TableName, &Cond)> =
        sc.instances.iter().map(|i| (&i.table, &i.cond)).collect();
    for t in &inp.analysis.tables {
        let covered = sc.instances.iter().any(|i| {
            i.table.name.eq_ignore_ascii_case(&t.name) && i.table.schema == t.schema
                || t.schema.is_none()
                    && i.alias
                        .as_deref()
                        .is_some_and(|al| al.eq_ignore_ascii_case(&t.name))
        });
        if !covered {
            all.push((t, &Cond::Any));
        }
    }
    place_all(inp, all)
}

/// Places each (table, the condition restricting it).
pub(super) fn place_all(
    inp: &RouteInput<'_>,
    all: Vec<(&TableName, &Cond)>,
) -> Result<Vec<Placed>> {
    let mut placed = Vec::with_capacity(all.len());
    for (t, cond) in all {
        let (schema, rule) = resolve(inp.rules, inp.schema, t)?;
        let broadcast = rule
            .as_ref()
            .is_some_and(|r| matches!(*r.algorithm, Algorithm::Broadcast));
        let (sharded, shards) = match rule {
            None => (None, [schema.default_shard].into()),
            Some(r) if broadcast => (None, r.shards.iter().copied().collect()),
            Some(r) => {
                let set = shards_for(&r, cond, inp.params)?
                    .unwrap_or_else(|| r.shards.iter().copied().collect());
                (Some(r), set)
            }
        };
        placed.push(Placed {
            name: t.name.clone(),
            schema: schema.name.clone(),
            sharded,
            broadcast,
            shards,
        });
    }
    Ok(placed)
}

/// Refuses an UPDATE of a sharded table's key column (it would move the row).
fn check_key_updates(inp: &RouteInput<'_>, placed: &[Placed]) -> Result<()> {
    let Statement::Update(u) = &inp.analysis.stmt else {
        return Ok(());
    };
    for r in placed.iter().filter_map(|p| p.sharded.as_ref()) {
        let key = r.key.as_deref().unwrap_or("");
        for asg in &u.assignments {
            let cols: Vec<_> = match &asg.target {
                AssignmentTarget::ColumnName(c) => vec![c],
                AssignmentTarget::Tuple(cs) => cs.iter().collect(),
            };
            if cols
                .iter()
                .any(|c| rewrite::last_part(c).eq_ignore_ascii_case(key))
            {
                return Err(ProxyError::NotSupported(format!(
                    "UPDATE of the shard key column `{key}` of table `{}` (it would move the row to another shard: DELETE it and INSERT it again)",
                    r.name
                )));
            }
        }
    }
    Ok(())
}

/// Refuses an UPDATE/DELETE that reads other tables (a join, a subquery) and may change a
/// broadcast table: it runs only on the shards the other tables need, so the copies on the
/// rest would differ. A SET column that names no table may be any of the statement's own
/// tables.
fn check_broadcast_writes(inp: &RouteInput<'_>, sc: &Scopes, placed: &[Placed]) -> Result<()> {
    if placed.len() < 2 || !placed.iter().any(|p| p.broadcast) {
        return Ok(());
    }
    // The qualifiers of the written tables; None: unknown (any table of the statement).
    let written: Option<Vec<String>> = match &inp.analysis.stmt {
        Statement::Update(u) => u
            .assignments
            .iter()
            .flat_map(|asg| match &asg.target {
                AssignmentTarget::ColumnName(c) => vec![c],
                AssignmentTarget::Tuple(cs) => cs.iter().collect(),
            })
            .map(|c| match c.0.iter().rev().nth(1) {
                Some(ObjectNamePart::Identifier(q)) => Some(q.value.clone()),
                _ => None,
            })
            .collect(),
        Statement::Delete(d) if !d.tables.is_empty() => {
            Some(d.tables.iter().map(rewrite::last_part).collect())
        }
        // DELETE FROM t ...: the first table.
        Statement::Delete(_) => sc
            .instances
            .first()
            .map(|i| vec![i.qualifier().to_string()]),
        _ => return Ok(()),
    };
    // Only the statement's own tables are written (not those of its subqueries).
    let hit = placed.iter().enumerate().take(sc.top).find(|(i, p)| {
        p.broadcast
            && match &written {
                None => true,
                Some(w) => w
                    .iter()
                    .any(|q| q.eq_ignore_ascii_case(sc.instances[*i].qualifier())),
            }
    });
    match hit {
        Some((_, p)) => Err(ProxyError::NotSupported(format!(
            "an UPDATE/DELETE of broadcast table `{}` that reads other tables (it would change the copies on some shards only: write the broadcast table alone, or qualify the columns you set)",
            p.name
        ))),
        None => Ok(()),
    }
}

/// A statement of unsharded and broadcast tables only: one shard holding them all (the
/// transaction's, else the default shard, else the first).
fn pick_common(inp: &RouteInput<'_>, anywhere: &[&Placed], write: bool) -> Result<Plan> {
    let mut common: Option<BTreeSet<ShardId>> = None;
    for p in anywhere {
        common = Some(match common {
            None => p.shards.clone(),
            Some(c) => c.intersection(&p.shards).copied().collect(),
        });
    }
    let common = common.unwrap_or_default();
    let fallback = fallback_shard(inp.rules, inp.schema);
    let pick = inp
        .pinned
        .iter()
        .find(|p| common.contains(p))
        .copied()
        .or_else(|| common.contains(&fallback).then_some(fallback))
        .or_else(|| common.iter().next().copied());
    match pick {
        Some(s) => Ok(single(s, write)),
        None => Err(ProxyError::NotSupported(
            "a statement joining unsharded tables that live on different shards".into(),
        )),
    }
}

/// Where the rows of each instance that can take part in the answer live (for a sharded
/// instance; the others keep their placement): the shards its own conditions allow, narrowed
/// through the key equalities that tie it to co-located instances. Both ways for `key_joins`
/// (every combination that takes part has equal keys), one way for `follows` (a follower's
/// rows that take part have the key of an anchor row that does: a LEFT JOIN's nullable side,
/// a correlated subquery's table), until nothing changes.
pub(super) fn effective_sets(sc: &Scopes, placed: &[Placed]) -> Vec<BTreeSet<ShardId>> {
    let mut sets: Vec<BTreeSet<ShardId>> = placed.iter().map(|p| p.shards.clone()).collect();
    let tied = |x: usize, y: usize| match (
        placed.get(x).and_then(|p| p.sharded.as_ref()),
        placed.get(y).and_then(|p| p.sharded.as_ref()),
    ) {
        (Some(rx), Some(ry)) => co_located((&placed[x].schema, rx), (&placed[y].schema, ry)),
        _ => false,
    };
    let edges: Vec<(usize, usize, bool)> = sc
        .key_joins
        .iter()
        .map(|&(x, y)| (x, y, true))
        .chain(sc.follows.iter().map(|&(x, y)| (x, y, false)))
        .filter(|&(x, y, _)| tied(x, y))
        .collect();
    // Sets only shrink, so this ends.
    loop {
        let mut changed = false;
        for &(x, y, both) in &edges {
            let meet: BTreeSet<ShardId> = sets[x].intersection(&sets[y]).copied().collect();
            if meet.len() != sets[y].len() {
                sets[y] = meet.clone();
                changed = true;
            }
            if both && meet.len() != sets[x].len() {
                sets[x] = meet;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    sets
}

/// The sharded instances grouped into components: co-located instances that the statement's
/// joins tie together by their keys (union-find over `key_joins` and `follows`).
pub(super) fn components(sc: &Scopes, placed: &[Placed], sharded: &[usize]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..placed.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for &(x, y) in sc.key_joins.iter().chain(&sc.follows) {
        let (Some(rx), Some(ry)) = (
            placed.get(x).and_then(|p| p.sharded.as_ref()),
            placed.get(y).and_then(|p| p.sharded.as_ref()),
        ) else {
            continue;
        };
        if co_located((&placed[x].schema, rx), (&placed[y].schema, ry)) {
            let (a, b) = (root(&mut parent, x), root(&mut parent, y));
            parent[a] = b;
        }
    }
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    for &i in sharded {
        let r = root(&mut parent, i);
        match groups.iter_mut().find(|(g, _)| *g == r) {
            Some((_, members)) => members.push(i),
            None => groups.push((r, vec![i])),
        }
    }
    groups.into_iter().map(|(_, m)| m).collect()
}

/// Why a multi-table statement cannot run on `shards` (several, or one that another table of
/// the statement is not on), or None when it can: one scope of plain tables whose sharded
/// instances form one component, every other table on each of the shards, and no outer join
/// keeping rows that are on every shard (each shard would return them).
pub(super) fn scatter_refusal(
    sc: &Scopes,
    placed: &[Placed],
    components: &[Vec<usize>],
    shards: &BTreeSet<ShardId>,
) -> Option<String> {
    if !sc.flat {
        let what = match sc.constructs.as_slice() {
            [] => "a statement of several scopes".to_string(),
            names => names.join(" with "),
        };
        return Some(format!(
            "{what} across shards (the table instances it reads are on several shards: give each one's shard key so that all route to the same shard)"
        ));
    }
    if let [first, second, ..] = components {
        let (a, b) = (&placed[first[0]].name, &placed[second[0]].name);
        let (a, b) = if a.eq_ignore_ascii_case(b) {
            (a.clone(), format!("another `{b}`"))
        } else {
            (a.clone(), format!("`{b}`"))
        };
        return Some(format!(
            "a join of sharded `{a}` and {b} spanning several shards: they are not co-located, or not joined on their shard keys (declare the tables in [[schemas.colocated]] and join them on their keys, or give the shard key so that every table routes to one shard)"
        ));
    }
    if let Some(p) = placed
        .iter()
        .find(|p| p.sharded.is_none() && !shards.iter().all(|s| p.shards.contains(s)))
    {
        return Some(format!(
            "a join of sharded tables with `{}`, which is not on every shard the join reads (an unsharded table is on the default shard only; give the shard key so that every table routes to one shard)",
            p.name
        ));
    }
    for kept in &sc.preserved {
        if !kept.iter().any(|&i| placed[i].sharded.is_some())
            && let Some(&i) = kept.first()
        {
            return Some(format!(
                "an outer join keeping every row of `{}` across shards (each shard would return its unmatched rows): keep a sharded table's rows instead, or give the shard key",
                placed[i].name
            ));
        }
    }
    None
}
