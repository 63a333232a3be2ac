//! The collation table string keys are placed by (`src/route/collation/general_ci.bin`) checked
//! against a live MariaDB: every BMP code point's weight, the single weight of supplementary
//! characters, and whole strings and comparisons under each supported collation.
//!
//! To regenerate the table from the server (only when MariaDB changes its collation, which
//! would also move keys: see rules/README.md):
//! `cargo test --release --test collation_table -- --ignored generate_general_ci_table`

mod common;

use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use shardgate::route::collation::{self, Collation, GENERAL_CI_SUPPLEMENTARY};
use std::cmp::Ordering;

/// Weight of a code point as MariaDB computes it (a surrogate's CHAR() is taken as is).
const WEIGHT_OF_SEQ: &str =
    "WEIGHT_STRING(CONVERT(CHAR(seq USING utf32) USING utf8mb4) COLLATE utf8mb4_general_ci)";

async fn conn(db: &str) -> Conn {
    let mut c = common::plain(db).await;
    c.query_drop("SET NAMES utf8mb4").await.expect("set names");
    c
}

/// The server's `utf8mb4_general_ci` table: 2 big-endian bytes per BMP code point.
async fn server_table(c: &mut Conn) -> Vec<u8> {
    let rows: Vec<(u32, Option<Vec<u8>>)> = c
        .query(format!(
            "SELECT seq, {WEIGHT_OF_SEQ} FROM seq_0_to_65535 ORDER BY seq"
        ))
        .await
        .expect("weights of the BMP");
    assert_eq!(rows.len(), 0x10000);
    let mut out = Vec::with_capacity(0x20000);
    for (cp, w) in rows {
        let w = w.unwrap_or_default();
        assert_eq!(
            w.len(),
            2,
            "code point {cp:#x}: weight {w:02x?} is not 2 bytes"
        );
        out.extend_from_slice(&w);
    }
    out
}

#[tokio::test]
#[ignore = "writes src/route/collation/general_ci.bin from a live server; run on purpose"]
async fn generate_general_ci_table() {
    let mut c = conn("collation_gen").await;
    let table = server_table(&mut c).await;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/route/collation/general_ci.bin"
    );
    std::fs::write(path, table).expect("write the table");
}

#[tokio::test]
async fn general_ci_table_matches_the_server() {
    let mut c = conn("collation_bmp").await;
    let server = server_table(&mut c).await;
    let ours = collation::general_ci_table();
    let differ: Vec<String> = (0..0x10000usize)
        .filter(|&i| server[2 * i..2 * i + 2] != ours[2 * i..2 * i + 2])
        .take(10)
        .map(|i| {
            format!(
                "U+{i:04X}: server {:02X?}, table {:02X?}",
                &server[2 * i..2 * i + 2],
                &ours[2 * i..2 * i + 2]
            )
        })
        .collect();
    assert!(
        differ.is_empty(),
        "the committed general_ci table differs from the server (regenerate it, and re-shard \
         string keys):\n{}",
        differ.join("\n")
    );
}

#[tokio::test]
async fn supplementary_characters_all_weigh_fffd() {
    let mut c = conn("collation_supp").await;
    let w = format!("{GENERAL_CI_SUPPLEMENTARY:04X}");
    let other: Vec<(u32, Option<String>)> = c
        .query(format!(
            "SELECT seq, HEX({WEIGHT_OF_SEQ}) FROM seq_65536_to_1114111 \
             WHERE HEX({WEIGHT_OF_SEQ}) <> '{w}' OR {WEIGHT_OF_SEQ} IS NULL LIMIT 10"
        ))
        .await
        .expect("weights of supplementary characters");
    assert!(other.is_empty(), "not weighing {w}: {other:?}");
    for cp in [0x10000u32, 0x1F600, 0x1D400, 0x10FFFF] {
        assert_eq!(collation::general_ci_weight(cp), GENERAL_CI_SUPPLEMENTARY);
    }
}

/// Characters where collations disagree: case, accents, ß, dotless i, ligatures, combining
/// marks, spaces of several kinds, tabs, CJK, emoji and U+FFFD (which general_ci equates with
/// every supplementary character).
const POOL: &[char] = &[
    'a', 'A', 'b', 'B', 'e', 'E', 'é', 'É', 'è', 'ê', 'ë', 'ß', 's', 'S', 'z', 'i', 'I', 'ı', 'İ',
    'ø', 'Ø', 'æ', 'Æ', 'œ', 'ĳ', 'ǅ', 'ǆ', 'Ǆ', ' ', ' ', ' ', '\t', '_', '-', '0', '9', '€',
    '東', '京', 'ё', 'Ё', '\u{0300}', '\u{00A0}', '\u{3000}', '😀', '𝐀', '\u{FFFD}', 'ſ', 'K', 'k',
    '\u{212A}', 'Ω', 'ω', '\u{2126}',
];

/// Deterministic pseudo-random strings of 0..8 pool characters, each followed by variants the
/// server should call equal or near (upper/lower case, trailing spaces).
fn strings() -> Vec<String> {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut out = Vec::new();
    for _ in 0..600 {
        let len = next(9);
        let s: String = (0..len).map(|_| POOL[next(POOL.len())]).collect();
        out.push(s.to_uppercase());
        out.push(format!("{s}  "));
        out.push(s);
    }
    out
}

/// Checks our weight strings and comparisons against the server's for `collation`, with the
/// strings stored in a column of type `column_type`.
async fn check_strings(c: &mut Conn, collation: Collation, column_type: &str) {
    c.query_drop("DROP TABLE IF EXISTS s").await.expect("drop");
    c.query_drop(format!(
        "CREATE TABLE s (id INT PRIMARY KEY, v {column_type})"
    ))
    .await
    .expect("create");
    let strs = strings();
    for (i, chunk) in strs.chunks(200).enumerate() {
        let params: Vec<(usize, Vec<u8>)> = chunk
            .iter()
            .enumerate()
            .map(|(j, s)| (i * 200 + j, s.as_bytes().to_vec()))
            .collect();
        c.exec_batch("INSERT INTO s (id, v) VALUES (?, ?)", params)
            .await
            .expect("insert");
    }
    let pad = match collation {
        Collation::GeneralCi => &[0x00, 0x20][..],
        Collation::Bin => &[0x00, 0x00, 0x20][..],
        Collation::Binary => &[][..],
    };
    let rows: Vec<(usize, Vec<u8>)> = c
        .query("SELECT id, WEIGHT_STRING(v) FROM s ORDER BY id")
        .await
        .expect("weights");
    assert_eq!(rows.len(), strs.len());
    for (id, mut server) in rows {
        // WEIGHT_STRING keeps trailing spaces; PAD SPACE comparisons ignore them.
        while !pad.is_empty() && server.ends_with(pad) {
            server.truncate(server.len() - pad.len());
        }
        let ours = collation.weights(strs[id].as_bytes()).expect("utf-8");
        assert_eq!(
            ours,
            server,
            "{}: weight string of {:?}",
            collation.name(),
            strs[id]
        );
    }
    // Each string against the next ones: the server's STRCMP against our comparison.
    let cmps: Vec<(usize, usize, i32)> = c
        .query(
            "SELECT a.id, b.id, STRCMP(a.v, b.v) FROM s a JOIN s b \
             ON b.id BETWEEN a.id + 1 AND a.id + 4 ORDER BY a.id, b.id",
        )
        .await
        .expect("comparisons");
    assert!(cmps.len() > 4 * (strs.len() - 5));
    let mut equal = 0;
    for (a, b, server) in cmps {
        let wa = collation.weights(strs[a].as_bytes()).expect("utf-8");
        let wb = collation.weights(strs[b].as_bytes()).expect("utf-8");
        let ours = match collation.cmp_weights(&wa, &wb) {
            Ordering::Less => -1,
            Ordering::Equal => 0,
            Ordering::Greater => 1,
        };
        equal += usize::from(ours == 0);
        assert_eq!(
            ours,
            server,
            "{}: STRCMP({:?}, {:?})",
            collation.name(),
            strs[a],
            strs[b]
        );
    }
    assert!(equal > 100, "the sample should hold many equal pairs");
}

#[tokio::test]
async fn strings_and_comparisons_match_the_server() {
    let mut c = conn("collation_strings").await;
    check_strings(
        &mut c,
        Collation::GeneralCi,
        "VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
    )
    .await;
    check_strings(
        &mut c,
        Collation::Bin,
        "VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
    )
    .await;
    check_strings(&mut c, Collation::Binary, "VARBINARY(160)").await;
}
