//! Table-name patterns in a rule's `names` (`"orders_*"`, `"t_??"`): which names are patterns,
//! how a schema finds the pattern rule of a table, and whether two patterns can match one table.
//!
//! Syntax: `*` matches any run of characters (also none), `?` exactly one character; every other
//! character matches itself. Like exact names, patterns compare case-insensitively: both sides
//! are lowercased (Unicode) before matching.

use super::TableRule;
use super::error::Diag;
use std::collections::{HashMap, VecDeque};
use std::ops::Range;
use std::sync::Arc;
use wildmatch::WildMatch;

/// The wildcards a name may use.
pub const WILDCARDS: [char; 2] = ['*', '?'];

/// Characters kept for a later pattern syntax (classes, alternatives, escapes). Refused in
/// names today so that adding that syntax cannot change what an existing rules file means.
pub const RESERVED: [char; 5] = ['[', ']', '{', '}', '\\'];

/// Whether a name of `names` is a pattern rather than a table name.
pub fn is_pattern(name: &str) -> bool {
    name.contains(WILDCARDS)
}

/// Whether `pattern` matches `table`, case-insensitively.
pub fn matches(pattern: &str, table: &str) -> bool {
    WildMatch::new(&pattern.to_lowercase()).matches(&table.to_lowercase())
}

/// A schema's rules named by patterns. A table name is checked against each pattern in turn,
/// after the exact names (a schema has few patterns; `shardgate check` guarantees that at most
/// one rule matches any name, so the first match is the only one).
#[derive(Clone, Debug, Default)]
pub struct Patterns {
    /// (matcher of the lowercased pattern, the rule, named by its pattern).
    rules: Vec<(WildMatch, Arc<TableRule>)>,
}

impl Patterns {
    /// The patterns of `rules`, each rule named by its pattern.
    pub fn new(rules: Vec<Arc<TableRule>>) -> Patterns {
        Patterns {
            rules: rules
                .into_iter()
                .map(|r| (WildMatch::new(&r.name.to_lowercase()), r))
                .collect(),
        }
    }

    /// The rule whose pattern matches `lower`, a lowercased table name.
    pub fn find(&self, lower: &str) -> Option<&Arc<TableRule>> {
        self.rules
            .iter()
            .find(|(m, _)| m.matches(lower))
            .map(|(_, r)| r)
    }

    /// Every pattern rule.
    pub fn rules(&self) -> impl Iterator<Item = &Arc<TableRule>> {
        self.rules.iter().map(|(_, r)| r)
    }
}

/// A name or pattern of a schema's `names`, where it stands in the file.
pub(super) struct NameAt<'a> {
    /// Index of its rule in the schema's `tables`.
    pub rule: usize,
    pub name: &'a str,
    /// Its path, e.g. `schemas[0].tables[2].names[1]`.
    pub path: String,
    pub span: Range<usize>,
}

/// Reports each name or pattern of `names` (in file order) that can name a table which a name
/// or pattern of another, earlier rule names too: every table must have one rule only. Exact
/// names named twice are reported by the caller, as are names written twice.
pub(super) fn check_overlaps(names: &[NameAt<'_>], diag: &mut Diag<'_>) {
    for (k, b) in names.iter().enumerate() {
        for a in &names[..k] {
            let (pa, pb) = (is_pattern(a.name), is_pattern(b.name));
            if a.rule == b.rule || !(pa || pb) || a.name.to_lowercase() == b.name.to_lowercase() {
                continue;
            }
            let Some(example) = common_name(a.name, b.name) else {
                continue;
            };
            let there = format!("{} (line {})", a.path, diag.line_of(a.span.start));
            let msg = match (pa, pb) {
                (true, true) => format!(
                    "pattern \"{}\" and pattern \"{}\" of {there} can match the same table, e.g. \"{example}\"; a table may have one rule only: make the patterns disjoint",
                    b.name, a.name
                ),
                (false, _) => format!(
                    "pattern \"{}\" matches table \"{}\" of {there}; a table may have one rule only: narrow the pattern",
                    b.name, a.name
                ),
                (true, false) => format!(
                    "table \"{}\" matches pattern \"{}\" of {there}; a table may have one rule only: remove it here, or narrow the pattern",
                    b.name, a.name
                ),
            };
            diag.err(Some(b.span.clone()), &b.path, msg);
        }
    }
}

/// One piece of a pattern.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Atom {
    Star,
    One,
    Char(char),
}

fn atoms(pattern: &str) -> Vec<Atom> {
    let mut out: Vec<Atom> = Vec::new();
    for c in pattern.to_lowercase().chars() {
        let a = match c {
            '*' => Atom::Star,
            '?' => Atom::One,
            c => Atom::Char(c),
        };
        // `**` matches what `*` matches; one star keeps the search below small.
        if !(a == Atom::Star && out.last() == Some(&Atom::Star)) {
            out.push(a);
        }
    }
    out
}

/// A position in each of two patterns.
type State = (usize, usize);

/// A table name that both patterns match (the shortest, lowercased), or `None` when no name
/// can match both. An exact name is a pattern without wildcards, so this also tells whether a
/// pattern matches a name.
///
/// Hand-written because no maintained crate decides whether two wildcard patterns share a
/// match, let alone shows one: this is a breadth-first search over pairs of positions, one in
/// each pattern (the product of the two patterns' automata), where each step reads one
/// character that both patterns accept there, or moves past a `*` that matches nothing more.
/// At most (len a + 1) x (len b + 1) states, so it is quick for any name a DBA writes.
pub fn common_name(a: &str, b: &str) -> Option<String> {
    let (p, q) = (atoms(a), atoms(b));
    let goal = (p.len(), q.len());
    // state -> (previous state, character read on the way, if any)
    let mut came_from: HashMap<State, (State, Option<char>)> = HashMap::new();
    let mut queue = VecDeque::from([(0usize, 0usize)]);
    let start = (0, 0);
    while let Some((i, j)) = queue.pop_front() {
        if (i, j) == goal {
            let mut name = Vec::new();
            let mut at = goal;
            while at != start {
                let (prev, c) = came_from[&at];
                name.extend(c);
                at = prev;
            }
            return Some(name.into_iter().rev().collect());
        }
        let (x, y) = (p.get(i).copied(), q.get(j).copied());
        let mut next: Vec<(State, Option<char>)> = Vec::new();
        if x == Some(Atom::Star) {
            next.push(((i + 1, j), None));
        }
        if y == Some(Atom::Star) {
            next.push(((i, j + 1), None));
        }
        match (x, y) {
            // A star reads the character the other side's atom needs, and stays.
            (Some(Atom::Star), Some(other)) if other != Atom::Star => {
                next.push(((i, j + 1), Some(char_of(other, other))));
            }
            (Some(other), Some(Atom::Star)) if other != Atom::Star => {
                next.push(((i + 1, j), Some(char_of(other, other))));
            }
            (Some(l), Some(r)) if l != Atom::Star && r != Atom::Star => {
                let ok = match (l, r) {
                    (Atom::Char(c), Atom::Char(d)) => c == d,
                    _ => true,
                };
                if ok {
                    next.push(((i + 1, j + 1), Some(char_of(l, r))));
                }
            }
            _ => {}
        }
        for (state, c) in next {
            if state != start && !came_from.contains_key(&state) {
                came_from.insert(state, ((i, j), c));
                queue.push_back(state);
            }
        }
    }
    None
}

/// A character both atoms accept (neither is a star): the literal one, or `x` for `?`/`?`.
fn char_of(a: Atom, b: Atom) -> char {
    match (a, b) {
        (Atom::Char(c), _) | (_, Atom::Char(c)) => c,
        _ => 'x',
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn patterns_and_names() {
        assert!(is_pattern("t_*") && is_pattern("log_20??") && !is_pattern("orders"));
        assert!(matches("t_*", "t_acme") && matches("t_*", "T_ACME") && matches("t_*", "t_"));
        assert!(!matches("t_*", "xt_acme") && !matches("t_?", "t_ab") && matches("t_?", "t_é"));
        assert!(matches("ORDERS_*", "orders_2026"));
    }

    #[test]
    fn common_names_of_overlapping_patterns() {
        assert_eq!(common_name("t_*", "*_eu").as_deref(), Some("t_eu"));
        assert_eq!(common_name("t_*", "t_acme").as_deref(), Some("t_acme"));
        assert_eq!(common_name("*", "orders").as_deref(), Some("orders"));
        assert_eq!(common_name("a?c", "?b?").as_deref(), Some("abc"));
        assert_eq!(common_name("T_*", "t_1").as_deref(), Some("t_1"));
        assert!(common_name("*a*", "*b*").is_some_and(|n| n == "ab" || n == "ba"));
        assert_eq!(
            common_name("log_????", "log_20*").as_deref(),
            Some("log_20xx")
        );
    }

    #[test]
    fn disjoint_patterns_have_no_common_name() {
        assert_eq!(common_name("t_*", "u_*"), None);
        assert_eq!(common_name("orders_?", "orders_??"), None);
        assert_eq!(common_name("*_eu", "*_us"), None);
        assert_eq!(common_name("t_*", "orders"), None);
        assert_eq!(common_name("a*z", "b*"), None);
        assert_eq!(common_name("a*", "*b*c").as_deref(), Some("abc"));
    }

    fn pattern() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[ab*?]{0,6}").expect("regex")
    }

    proptest! {
        /// The name found is matched by both patterns (as the proxy matches tables).
        #[test]
        fn a_common_name_matches_both(a in pattern(), b in pattern()) {
            if let Some(name) = common_name(&a, &b) {
                prop_assert!(matches(&a, &name), "{a} does not match {name}");
                prop_assert!(matches(&b, &name), "{b} does not match {name}");
            }
        }

        /// A name that both patterns match means the search finds one.
        #[test]
        fn no_common_name_means_none_exists(a in pattern(), b in pattern(),
                                             name in "[abx]{0,8}") {
            if matches(&a, &name) && matches(&b, &name) {
                prop_assert!(common_name(&a, &b).is_some(), "{a} and {b} both match {name}");
            }
        }
    }
}
