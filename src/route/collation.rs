//! Collations of string shard keys: a key is placed by its *weight string*, the bytes the
//! server compares for the column's collation, so that keys the server calls equal
//! (`'Émile' = 'emile '` under `utf8mb4_general_ci`) always land on the same shard.
//!
//! No collation rule is written by hand here. `utf8mb4_general_ci` weighs each character on its
//! own with one 16-bit weight: `general_ci.bin` holds, for every BMP code point, the weight
//! MariaDB itself gives it (`WEIGHT_STRING(CONVERT(CHAR(cp USING utf32) USING utf8mb4) COLLATE
//! utf8mb4_general_ci)`), two big-endian bytes per code point; every supplementary character
//! weighs 0xFFFD. The table was generated from a live server by the ignored test
//! `generate_general_ci_table` in `tests/collation_table.rs`, and the same file's normal tests
//! check it (and whole strings, and comparisons) against a live server, so it cannot drift.

use std::cmp::Ordering;

/// MariaDB's weights of the BMP code points under `utf8mb4_general_ci` (2 bytes each, BE).
static GENERAL_CI: &[u8; 0x10000 * 2] = include_bytes!("collation/general_ci.bin");

/// The weight `utf8mb4_general_ci` gives every character outside the BMP.
pub const GENERAL_CI_SUPPLEMENTARY: u16 = 0xFFFD;

/// The collation a string key's column compares with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Collation {
    /// `utf8mb4_general_ci` (MariaDB's default): case- and accent-insensitive, one weight per
    /// character, PAD SPACE (trailing spaces ignored).
    #[default]
    GeneralCi,
    /// `utf8mb4_bin`: code points compared, PAD SPACE.
    Bin,
    /// `binary` (VARBINARY/BLOB columns): raw bytes compared, trailing spaces count.
    Binary,
}

/// The collations a rule may name, by their MariaDB names.
pub const SUPPORTED: &[(&str, Collation)] = &[
    ("utf8mb4_general_ci", Collation::GeneralCi),
    ("utf8mb4_bin", Collation::Bin),
    ("binary", Collation::Binary),
];

impl Collation {
    /// MariaDB's name of the collation.
    pub fn name(self) -> &'static str {
        match self {
            Collation::GeneralCi => "utf8mb4_general_ci",
            Collation::Bin => "utf8mb4_bin",
            Collation::Binary => "binary",
        }
    }

    /// The collation named `name` (case-insensitive, as MariaDB reads names), if supported.
    pub fn from_name(name: &str) -> Option<Collation> {
        SUPPORTED
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, c)| *c)
    }

    /// Bytes per weight in the weight string (as `WEIGHT_STRING` prints it).
    fn width(self) -> usize {
        match self {
            Collation::GeneralCi => 2,
            Collation::Bin => 3,
            Collation::Binary => 1,
        }
    }

    /// The weight of a space for PAD SPACE collations (trailing weights equal to it are
    /// ignored when comparing), None for NO PAD.
    fn pad(self) -> Option<&'static [u8]> {
        match self {
            Collation::GeneralCi => Some(&[0x00, 0x20]),
            Collation::Bin => Some(&[0x00, 0x00, 0x20]),
            Collation::Binary => None,
        }
    }

    /// The weight string of `text` with trailing pad weights removed, so that two texts are
    /// equal under the collation exactly when their weight strings are equal. None when a
    /// `utf8mb4_*` collation is given bytes that are not UTF-8.
    pub fn weights(self, text: &[u8]) -> Option<Vec<u8>> {
        match self {
            Collation::Binary => Some(text.to_vec()),
            Collation::GeneralCi | Collation::Bin => std::str::from_utf8(text)
                .ok()
                .map(|s| self.weights_of_str(s)),
        }
    }

    /// [`Collation::weights`] of UTF-8 text.
    pub fn weights_of_str(self, text: &str) -> Vec<u8> {
        let mut out = match self {
            Collation::Binary => text.as_bytes().to_vec(),
            Collation::GeneralCi => {
                let mut w = Vec::with_capacity(text.len() * 2);
                for c in text.chars() {
                    w.extend_from_slice(&general_ci_weight(u32::from(c)).to_be_bytes());
                }
                w
            }
            Collation::Bin => {
                let mut w = Vec::with_capacity(text.len() * 3);
                for c in text.chars() {
                    w.extend_from_slice(&u32::from(c).to_be_bytes()[1..]);
                }
                w
            }
        };
        if let Some(pad) = self.pad() {
            while out.ends_with(pad) {
                out.truncate(out.len() - pad.len());
            }
        }
        out
    }

    /// Compares two weight strings from [`Collation::weights`] as the server compares the
    /// texts: unit by unit, and for PAD SPACE the longer one's rest against spaces (so
    /// `'a' > 'a\t'`: a tab weighs less than the space `'a'` is padded with).
    pub fn cmp_weights(self, a: &[u8], b: &[u8]) -> Ordering {
        let common = a.len().min(b.len());
        match a[..common].cmp(&b[..common]) {
            Ordering::Equal => {}
            other => return other,
        }
        let Some(pad) = self.pad() else {
            return a.len().cmp(&b.len());
        };
        let (rest, sign) = if a.len() > b.len() {
            (&a[common..], Ordering::Greater)
        } else {
            (&b[common..], Ordering::Less)
        };
        for unit in rest.chunks(self.width()) {
            match unit.cmp(pad) {
                Ordering::Equal => {}
                Ordering::Greater => return sign,
                Ordering::Less => return sign.reverse(),
            }
        }
        Ordering::Equal
    }
}

/// MariaDB's `utf8mb4_general_ci` weight of one code point.
pub fn general_ci_weight(cp: u32) -> u16 {
    match usize::try_from(cp) {
        Ok(i) if i < 0x10000 => u16::from_be_bytes([GENERAL_CI[2 * i], GENERAL_CI[2 * i + 1]]),
        _ => GENERAL_CI_SUPPLEMENTARY,
    }
}

/// The committed `utf8mb4_general_ci` table (2 big-endian bytes per BMP code point), for the
/// test that checks it against a live server.
pub fn general_ci_table() -> &'static [u8] {
    GENERAL_CI
}
