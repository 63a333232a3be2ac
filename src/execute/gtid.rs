//! MariaDB GTID positions (`@@gtid_binlog_pos`, `Gtid_Slave_Pos`): per replication domain, the
//! sequence number of the last transaction. A replica has applied everything a position names
//! when, in every domain of that position, its own sequence number is at least as high.
//!
//! Hand-written: no crate on crates.io parses MariaDB's `domain-server-seq` lists, and the
//! format is one line of text.

use std::collections::BTreeMap;
use std::fmt;

/// A GTID position: the last sequence number of each replication domain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gtid {
    /// Domain id → (server id, sequence number) of the last transaction in that domain.
    domains: BTreeMap<u32, (u32, u64)>,
}

impl Gtid {
    /// Parses `0-1-42,1-2-7` (empty text: the empty position). `None` when malformed.
    pub fn parse(text: &str) -> Option<Gtid> {
        let mut domains = BTreeMap::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let mut it = part.split('-');
            let domain = it.next()?.parse().ok()?;
            let server = it.next()?.parse().ok()?;
            let seq = it.next()?.parse().ok()?;
            if it.next().is_some() {
                return None;
            }
            domains.insert(domain, (server, seq));
        }
        Some(Gtid { domains })
    }

    /// Whether a server at this position has applied everything `other` names.
    pub fn covers(&self, other: &Gtid) -> bool {
        other
            .domains
            .iter()
            .all(|(d, (_, seq))| self.domains.get(d).is_some_and(|(_, mine)| mine >= seq))
    }

    /// Takes, per domain, the further of the two positions.
    pub fn advance(&mut self, other: &Gtid) {
        for (d, (server, seq)) in &other.domains {
            let e = self.domains.entry(*d).or_insert((*server, *seq));
            if *seq > e.1 {
                *e = (*server, *seq);
            }
        }
    }

    /// Whether the position names no transaction.
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }
}

impl fmt::Display for Gtid {
    /// The text MariaDB uses (`0-1-42,1-2-7`), which `MASTER_GTID_WAIT` takes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (d, (server, seq))) in self.domains.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{d}-{server}-{seq}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Gtid;

    #[test]
    fn parses_and_prints() {
        let g = Gtid::parse("0-1-42, 1-2-7").unwrap();
        assert_eq!(g.to_string(), "0-1-42,1-2-7");
        assert!(Gtid::parse("").unwrap().is_empty());
        assert!(Gtid::parse("0-1").is_none());
        assert!(Gtid::parse("0-1-2-3").is_none());
        assert!(Gtid::parse("a-1-2").is_none());
    }

    #[test]
    fn covers_per_domain() {
        let replica = Gtid::parse("0-1-42,1-2-7").unwrap();
        assert!(replica.covers(&Gtid::parse("0-1-42").unwrap()));
        assert!(replica.covers(&Gtid::parse("0-3-40,1-2-7").unwrap()));
        assert!(!replica.covers(&Gtid::parse("0-1-43").unwrap()));
        assert!(!replica.covers(&Gtid::parse("2-1-1").unwrap()));
        assert!(replica.covers(&Gtid::default()));
    }

    #[test]
    fn advance_keeps_the_furthest() {
        let mut g = Gtid::parse("0-1-42,1-2-7").unwrap();
        g.advance(&Gtid::parse("0-1-40,1-3-9,2-1-1").unwrap());
        assert_eq!(g.to_string(), "0-1-42,1-3-9,2-1-1");
    }
}
