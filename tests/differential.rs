//! The differential suite (issue 13, "The proof"): the same generated data loaded through the
//! proxy over 3 shards and into one plain MariaDB, then every query of the corpus run on both,
//! in the text protocol and in the binary protocol (a server-prepared statement), answers
//! compared.
//!
//! **The corpus** is the `.sql` files in `tests/differential/`, read queries, and then the
//! files in `tests/differential/writes/`, run in order after the reads (text protocol only), each
//! OK packet compared (affected rows, info, warnings) and afterwards every table's rows and the
//! placement. One statement per entry; an entry ends with `;` at the end of a line and
//! may span lines (they are joined with one space). Lines starting with `--` are comments. To
//! add a query, write it into the file of its topic. Two shorthands:
//!
//! - `{a|b|c}` anywhere in an entry expands it into one query per alternative (several groups
//!   expand to their cartesian product), so one readable template yields many queries. Braces
//!   have no other use in the corpus.
//! - `-- @mask: Col1, Col2` before an entry replaces the values of those result columns by `*`
//!   on both sides (their metadata is still compared): for values that differ between any two
//!   servers (creation times, statistics such as `Rows` or `Cardinality`), and for the text of
//!   a `_ci` group (DISTINCT/GROUP BY/UNION), whose spelling is any member's. A masked
//!   column's key flags are not compared either (see `@plan-flags`).
//! - `-- @approx: Col1, Col2` before an entry compares those columns' values as numbers rounded
//!   to 12 significant digits (their metadata is still compared): for STDDEV/VARIANCE, which
//!   the server accumulates in double precision in row order (so its last digits depend on the
//!   plan) and the proxy combines from the shards' exact partial sums.
//! - `-- @plan-flags` before an entry: the key flags of its columns (PRI/UNIQUE/MULTIPLE/PART
//!   key, NUM) are not compared. They follow the server's plan: a DISTINCT read from an index
//!   reports them, one through a temporary table does not, and the hidden weight-string
//!   columns of a cross-shard DISTINCT make the shards use a temporary table.
//!
//! - `-- @params: 7, 'Paris', DATE '2026-02-01', NULL` before an entry binds those values to its
//!   `?` markers: the entry runs in the binary protocol only, and is named in messages and in
//!   known_mismatches.txt as `<query> -- @params: <values>`.
//!
//! Write ORDER BY to be total (end it with a unique key): with an ORDER BY on the outermost
//! statement rows are compared as ordered lists, otherwise as multisets (SHOW COLUMNS/INDEX and
//! DESCRIBE keep the definition's order). LIMIT without a total ORDER BY, GROUP_CONCAT without
//! its own total ORDER BY, or a `_ci` group's text shown unmasked have more than one right
//! answer: do not write them. A query written twice (two templates) runs once.
//!
//! **The data** is generated here (`data_inserts`, a seeded splitmix64): ~1000 customers, 2000
//! orders, their items, 900 events across three months, 300 shops, 600 sessions, broadcast
//! products and regions, unsharded notes; NULLs, accents, case and trailing-space variants,
//! negative numbers, DECIMAL(65,10) values of up to 50 digits, BIGINT UNSIGNED near 2^64, and
//! a few edge rows (customers 1001-1006, orders 2001-2003) that f64 cannot tell apart. The
//! same multi-row INSERTs go through the proxy and to the plain server.
//!
//! Run it alone with `cargo test --release --test differential -- --nocapture`: it prints each
//! refusal with its message, each known mismatch, and a per-file summary for both protocols.
//!
//! **What counts.** Per query and protocol, the plain server's answer is the reference:
//! - *match*: the same column metadata (name, type, length, flags, character set, decimals) and
//!   the same rows (text protocol: the bytes; binary protocol: the typed values), or the same
//!   error code;
//! - *refused*: the proxy answered error 1235 (counted and printed with its message);
//! - *mismatch*: anything else. A mismatch fails the test unless the query's exact text (after
//!   expansion) is a line of `tests/differential/known_mismatches.txt`; a listed query that
//!   matches or is refused fails the test too, so that list cannot go stale.
//!
//! Before the corpus, placement is checked once on each shard directly: each sharded table's
//! rows are exactly those its rule sends there, broadcast tables are complete everywhere and the
//! unsharded table lives on the default shard only.

mod common;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder, Value};
use shardgate::config::Rules;
use shardgate::route::Key;
use shardgate::route::consistent_hash::ConsistentHashRule;
use shardgate::sandbox::{Sandbox, SandboxSpec};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const DB: &str = "diff";
const SHARDS: usize = 3;
const REFUSED: u16 = 1235;
/// Longest wait for one answer; past it the proxy's answer is a mismatch.
const QUERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The 3 shards without replicas of this test binary.
fn cluster3() -> &'static Sandbox {
    static CLUSTER: OnceLock<Sandbox> = OnceLock::new();
    CLUSTER.get_or_init(|| Sandbox::up(&SandboxSpec::temp(SHARDS, 0)).expect("sandbox up"))
}

/// The table rules of the schema (also read by the placement check).
const TABLE_RULES: &str = r#"
[[schemas.tables]]
names = ["customers"]
algorithm = "hash"
key = "id"
key_type = "int"

[[schemas.tables]]
names = ["orders", "order_items"]
algorithm = "hash"
key = "customer_id"
key_type = "int"

[[schemas.colocated]]
tables = ["orders.customer_id", "order_items.customer_id"]

[[schemas.tables]]
names = ["events"]
algorithm = "range"
key = "day"
key_type = "date"
ranges = [
  { shard = "s0", to = "2026-02-01" },
  { shard = "s1", from = "2026-02-01", to = "2026-03-01" },
  { shard = "s2", from = "2026-03-01" },
]

[[schemas.tables]]
names = ["shops"]
algorithm = "list"
key = "city"
key_type = "string"
lists = [
  { shard = "s0", values = ["Paris", "Lyon"] },
  { shard = "s1", values = ["Berlin", "Munich"] },
  { shard = "s2", values = ["Shanghai", "Tokyo"] },
]
default_shard = "s0"

[[schemas.tables]]
names = ["sessions"]
algorithm = "consistent_hash"
key = "user_id"
key_type = "int"

[[schemas.tables]]
names = ["products", "regions"]
algorithm = "broadcast"
"#;

fn rules_text() -> String {
    let sb = cluster3();
    let mut t = String::from("listen = \"127.0.0.1:0\"\n[proxy]\nbackend_timeout_ms = 20000\n\n");
    t.push_str("[[users]]\nname = \"app\"\npassword = \"app\"\n\n");
    for s in 0..SHARDS {
        let _ = write!(
            t,
            "[[shards]]\nname = \"s{s}\"\nprimary = \"{}\"\n\n",
            sb.proxy_primary_url(s)
        );
    }
    let _ = write!(
        t,
        "[[schemas]]\nname = \"{DB}\"\ndefault_shard = \"s0\"\n{TABLE_RULES}"
    );
    t
}

async fn direct(s: usize) -> Conn {
    let opts = Opts::from_url(&cluster3().primary_url(s)).expect("url");
    Conn::new(OptsBuilder::from_opts(opts).prefer_socket(false))
        .await
        .expect("direct connection")
}

// ---------------------------------------------------------------------------------------------
// Data: a small seeded generator; the same INSERT texts go to the proxy and to the plain server.

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

/// A literal or NULL (`percent` of the time).
fn or_null(r: &mut Rng, percent: u64, v: String) -> String {
    if r.chance(percent) { "NULL".into() } else { v }
}

/// `or_null` with the value drawn first (one borrow of the generator at a time).
macro_rules! nul {
    ($r:ident, $p:expr, $v:expr) => {{
        let v = $v;
        or_null(&mut $r, $p, v)
    }};
}

fn money(r: &mut Rng, max_units: i64, negative: bool) -> String {
    let units = r.range(if negative { -max_units } else { 0 }, max_units);
    let cents = r.below(100);
    if units < 0 {
        format!("-{}.{cents:02}", -units)
    } else if negative && r.chance(3) {
        format!("-0.{cents:02}")
    } else {
        format!("{units}.{cents:02}")
    }
}

/// A DECIMAL(65,10) value with up to 50 integer digits (a sum of a few thousand still fits).
fn huge(r: &mut Rng) -> String {
    let digits = r.range(1, 50) as usize;
    let mut s = String::new();
    if r.chance(30) {
        s.push('-');
    }
    s.push(char::from(b'1' + r.below(9) as u8));
    for _ in 1..digits {
        s.push(char::from(b'0' + r.below(10) as u8));
    }
    s.push('.');
    for _ in 0..10 {
        s.push(char::from(b'0' + r.below(10) as u8));
    }
    s
}

/// A DOUBLE that is a multiple of 0.25: sums are exact in any order, so a scattered SUM can
/// equal the plain server's to the last bit.
fn dbl(r: &mut Rng, max: i64) -> String {
    let v = r.range(-4 * max, 4 * max) as f64 / 4.0;
    format!("{v}")
}

fn date(r: &mut Rng, y0: i64, y1: i64) -> String {
    format!(
        "'{}-{:02}-{:02}'",
        r.range(y0, y1),
        r.range(1, 12),
        r.range(1, 28)
    )
}

/// A date between 2026-01-10 and 2026-03-25: across the events' month boundaries.
fn event_day(r: &mut Rng) -> (String, u32) {
    let n = r.range(0, 74) as u32; // days after 2026-01-10
    let (m, d) = if n < 22 {
        (1, 10 + n)
    } else if n < 50 {
        (2, n - 21)
    } else {
        (3, n - 49)
    };
    (format!("2026-{m:02}-{d:02}"), m)
}

fn datetime(r: &mut Rng) -> String {
    format!(
        "'2026-{:02}-{:02} {:02}:{:02}:{:02}'",
        r.range(1, 3),
        r.range(1, 28),
        r.range(0, 23),
        r.range(0, 59),
        r.range(0, 59)
    )
}

const NAMES: &[&str] = &[
    "Émile",
    "Emile",
    "emile",
    "EMILE",
    "Ivan",
    "ivan",
    "IVAN",
    "Zoë",
    "Zoe",
    "zoe",
    "Ångström",
    "angstrom",
    "Müller",
    "Muller",
    "mueller",
    "Straße",
    "Strasse",
    "Noël",
    "Noel",
    "José",
    "Jose",
    "jose ",
    "Anne",
    "anne",
    "Ánne",
    "Bob",
    "bob",
    "Çelik",
    "celik",
    "Łukasz",
    "Lukasz",
    "李",
    "王",
    "😀",
    "😎",
    "",
    "a",
    "A",
    "à",
    "b",
];
const CITIES: &[&str] = &[
    "São Paulo",
    "Sao Paulo",
    "SAO PAULO",
    "sao paulo ",
    "Shanghai",
    "shanghai",
    "Paris",
    "París",
    "Berlin",
    "Köln",
    "Koln",
    "Zürich",
    "Zurich",
    "Oslo ",
    "Tokyo",
];
const CODES: &[&str] = &[
    "A1", "a1", "B2", "b2", "Ä1", "ä1", "Z9", "c3 ", "A", "a", "ß",
];
const STATUSES: &[&str] = &[
    "PAID", "paid", "Paid", "shipped", "Shipped", "SHIPPED", "new", "Pending ", "pending",
];
const KINDS: &[&str] = &["click", "Click", "view", "VIEW", "buy", "Buy", "refund"];
const SHOP_CITIES: &[&str] = &[
    "Paris", "Lyon", "Berlin", "Munich", "Shanghai", "Tokyo", "Oslo", "Lima",
];
const CATEGORIES: &[&str] = &[
    "Books",
    "books",
    "BOOKS",
    "Toys",
    "Électronique",
    "Electronique",
    "Garden",
];

const SCHEMA: &[&str] = &[
    "CREATE TABLE customers (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(40), city VARCHAR(40), \
     code VARCHAR(20) COLLATE utf8mb4_bin, balance DECIMAL(20,2), big DECIMAL(65,10), score DOUBLE, \
     visits INT, points BIGINT UNSIGNED, tag VARBINARY(16), born DATE, created DATETIME, \
     region_id INT, KEY k_name (name), KEY k_city_region (city, region_id)) \
     DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
    "CREATE TABLE orders (id BIGINT NOT NULL PRIMARY KEY, customer_id BIGINT NOT NULL, \
     product_id INT, status VARCHAR(12), qty INT, amount DECIMAL(20,2), total DECIMAL(65,10), \
     weight DOUBLE, flags BIGINT UNSIGNED, ordered_at DATETIME, KEY k_customer (customer_id)) \
     DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
    "CREATE TABLE order_items (id BIGINT NOT NULL PRIMARY KEY, order_id BIGINT NOT NULL, \
     customer_id BIGINT NOT NULL, product_id INT, qty INT, price DECIMAL(20,2), \
     KEY k_order (order_id)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
    "CREATE TABLE events (id BIGINT NOT NULL PRIMARY KEY, day DATE NOT NULL, customer_id BIGINT, \
     kind VARCHAR(12), value DECIMAL(20,2), at DATETIME) \
     DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
    "CREATE TABLE shops (id INT NOT NULL PRIMARY KEY, city VARCHAR(40) NOT NULL, name VARCHAR(40), \
     revenue DECIMAL(20,2), rating DOUBLE, opened DATE) \
     DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
    "CREATE TABLE sessions (id BIGINT NOT NULL PRIMARY KEY, user_id BIGINT NOT NULL, \
     token VARBINARY(20), started DATETIME, hits BIGINT UNSIGNED) \
     DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
    "CREATE TABLE products (id INT NOT NULL PRIMARY KEY, name VARCHAR(40), category VARCHAR(20), \
     price DECIMAL(20,2), weight DOUBLE) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
    "CREATE TABLE regions (id INT NOT NULL PRIMARY KEY, name VARCHAR(40) NOT NULL) \
     DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
    "CREATE TABLE notes (id INT NOT NULL PRIMARY KEY, customer_id BIGINT, body VARCHAR(100), \
     created DATE) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
];

/// Customer ids: 1..=1000 plus a few negative, zero and large ones.
fn customer_ids() -> Vec<i64> {
    let mut v: Vec<i64> = (1..=1000).collect();
    v.extend([-7, -2, 0, 4_000_000_001, 9_007_199_254_740_993]);
    v
}

/// Multi-row INSERT statements of every table, in batches.
fn data_inserts() -> Vec<String> {
    let mut r = Rng(0x5EED_0013);
    let mut out = Vec::new();
    let mut batch = |table: &str, cols: &str, rows: Vec<String>| {
        for chunk in rows.chunks(150) {
            out.push(format!(
                "INSERT INTO {table} ({cols}) VALUES {}",
                chunk.join(", ")
            ));
        }
    };

    let ids = customer_ids();
    let mut rows = Vec::new();
    for &id in &ids {
        let name = nul!(r, 4, q(r_pick(&mut r, NAMES)));
        let city = nul!(r, 5, q(r_pick(&mut r, CITIES)));
        let code = nul!(r, 10, q(r_pick(&mut r, CODES)));
        let balance = nul!(r, 5, money(&mut r, 100_000, true));
        let big = nul!(r, 5, huge(&mut r));
        let score = nul!(r, 5, dbl(&mut r, 1000));
        let visits = nul!(r, 5, r.range(-50, 500).to_string());
        let points = {
            let v = if r.chance(20) {
                u64::MAX - r.below(1000)
            } else {
                r.below(1_000_000)
            };
            nul!(r, 5, v.to_string())
        };
        let tag = {
            let n = r.range(0, 6) as usize;
            let bytes: Vec<String> = (0..n)
                .map(|_| {
                    let b = match r.below(5) {
                        0 => 0u8,
                        1 => 0xff,
                        2 => b'a' + r.below(3) as u8,
                        3 => b'A' + r.below(3) as u8,
                        _ => r.below(256) as u8,
                    };
                    format!("{b:02X}")
                })
                .collect();
            nul!(r, 8, format!("X'{}'", bytes.concat()))
        };
        let born = nul!(r, 10, date(&mut r, 1950, 2010));
        let created = nul!(r, 5, datetime(&mut r));
        let region = nul!(r, 10, r.range(1, 8).to_string());
        rows.push(format!(
            "({id}, {name}, {city}, {code}, {balance}, {big}, {score}, {visits}, {points}, {tag}, {born}, {created}, {region})"
        ));
    }
    // Edge rows, one per shard in turn (ids 1001.. hash to s2, s0, s1, ...): values that f64
    // cannot tell apart, so a merge that compares or adds through f64 gets them wrong.
    let nines = "9".repeat(50);
    let edges = [
        (
            format!("{nines}.0000000001"),
            "999999999999999999.99",
            "18446744073709551613",
        ),
        (
            format!("{nines}.0000000002"),
            "999999999999999999.98",
            "18446744073709551614",
        ),
        (
            format!("{nines}.0000000003"),
            "-999999999999999999.99",
            "18446744073709551615",
        ),
        (
            format!("-{nines}.9999999999"),
            "-999999999999999999.98",
            "9007199254740993",
        ),
        ("0.0000000001".to_string(), "0.01", "9007199254740992"),
        ("-0.0000000001".to_string(), "-0.01", "0"),
    ];
    for (i, (big, balance, points)) in edges.iter().enumerate() {
        rows.push(format!(
            "({}, 'Edge', 'Edge', 'edge', {balance}, {big}, 0.5, 0, {points}, X'00', '2000-01-01', '2026-02-01 00:00:00', 1)",
            1001 + i
        ));
    }
    batch(
        "customers",
        "id, name, city, code, balance, big, score, visits, points, tag, born, created, region_id",
        rows,
    );

    // Orders: customer 7 and 13 have many, others few.
    let mut rows = Vec::new();
    let mut items = Vec::new();
    let mut item_id = 1;
    for id in 1..=2000i64 {
        let customer = match r.below(10) {
            0 => 7,
            1 => 13,
            _ => ids[r.below(ids.len() as u64) as usize],
        };
        let product = nul!(r, 5, r.range(1, 50).to_string());
        let status = nul!(r, 5, q(r_pick(&mut r, STATUSES)));
        let qty = nul!(r, 3, r.range(-2, 20).to_string());
        let amount = nul!(r, 3, money(&mut r, 9_999_999_999_999, false));
        let total = nul!(r, 5, huge(&mut r));
        let weight = nul!(r, 5, dbl(&mut r, 500));
        let flags = nul!(r, 5, r.next().to_string());
        let at = nul!(r, 3, datetime(&mut r));
        rows.push(format!(
            "({id}, {customer}, {product}, {status}, {qty}, {amount}, {total}, {weight}, {flags}, {at})"
        ));
        for _ in 0..r.range(0, 2) {
            let p = nul!(r, 5, r.range(1, 50).to_string());
            let iq = r.range(1, 9);
            let price = nul!(r, 5, money(&mut r, 100_000, false));
            items.push(format!("({item_id}, {id}, {customer}, {p}, {iq}, {price})"));
            item_id += 1;
        }
    }
    // Edge orders on three shards: amounts 17 digits before the point, cents apart.
    for (i, cents) in [97, 98, 99].iter().enumerate() {
        rows.push(format!(
            "({}, {}, 1, 'edge', 1, 99999999999999999.{cents}, {nines}.000000000{}, 0.5, 18446744073709551615, '2026-02-01 00:00:00')",
            2001 + i,
            1001 + i,
            i + 1
        ));
    }
    batch(
        "orders",
        "id, customer_id, product_id, status, qty, amount, total, weight, flags, ordered_at",
        rows,
    );
    batch(
        "order_items",
        "id, order_id, customer_id, product_id, qty, price",
        items,
    );

    let mut rows = Vec::new();
    for id in 1..=900i64 {
        let (day, _) = event_day(&mut r);
        let customer = nul!(r, 5, ids[r.below(ids.len() as u64) as usize].to_string());
        let kind = nul!(r, 5, q(r_pick(&mut r, KINDS)));
        let value = nul!(r, 5, money(&mut r, 5_000, true));
        let at = nul!(
            r,
            5,
            format!("'{day} {:02}:{:02}:00'", r.range(0, 23), r.range(0, 59))
        );
        rows.push(format!(
            "({id}, '{day}', {customer}, {kind}, {value}, {at})"
        ));
    }
    batch("events", "id, day, customer_id, kind, value, at", rows);

    let mut rows = Vec::new();
    for id in 1..=300i64 {
        let city = q(r_pick(&mut r, SHOP_CITIES));
        let name = nul!(r, 5, q(&format!("{} {}", r_pick(&mut r, NAMES), id % 17)));
        let revenue = nul!(r, 5, money(&mut r, 10_000_000, true));
        let rating = nul!(r, 5, dbl(&mut r, 5));
        let opened = nul!(r, 5, date(&mut r, 1990, 2026));
        rows.push(format!(
            "({id}, {city}, {name}, {revenue}, {rating}, {opened})"
        ));
    }
    batch("shops", "id, city, name, revenue, rating, opened", rows);

    let mut rows = Vec::new();
    for id in 1..=600i64 {
        let user = ids[r.below(ids.len() as u64) as usize];
        let token = nul!(r, 5, format!("X'{:016X}'", r.next()));
        let started = nul!(r, 5, datetime(&mut r));
        let hits = nul!(r, 5, (r.next() >> r.below(64)).to_string());
        rows.push(format!("({id}, {user}, {token}, {started}, {hits})"));
    }
    batch("sessions", "id, user_id, token, started, hits", rows);

    let mut rows = Vec::new();
    for id in 1..=50i64 {
        let name = q(&format!("{} {}", r_pick(&mut r, NAMES), id));
        let cat = nul!(r, 5, q(r_pick(&mut r, CATEGORIES)));
        let price = nul!(r, 5, money(&mut r, 1000, false));
        let weight = nul!(r, 5, dbl(&mut r, 100));
        rows.push(format!("({id}, {name}, {cat}, {price}, {weight})"));
    }
    batch("products", "id, name, category, price, weight", rows);

    let regions = [
        "Île-de-France",
        "Ile-de-France",
        "Bayern",
        "São Paulo",
        "Shanghai",
        "Tōkyō",
        "Tokyo",
        "Zürich",
    ];
    let rows = regions
        .iter()
        .enumerate()
        .map(|(i, n)| format!("({}, {})", i + 1, q(n)))
        .collect();
    batch("regions", "id, name", rows);

    let mut rows = Vec::new();
    for id in 1..=100i64 {
        let customer = nul!(r, 10, ids[r.below(ids.len() as u64) as usize].to_string());
        let body = nul!(r, 5, q(&format!("{} note {}", r_pick(&mut r, NAMES), id)));
        let created = nul!(r, 5, date(&mut r, 2020, 2026));
        rows.push(format!("({id}, {customer}, {body}, {created})"));
    }
    batch("notes", "id, customer_id, body, created", rows);
    out
}

fn r_pick<'a>(r: &mut Rng, xs: &[&'a str]) -> &'a str {
    r.pick(xs)
}

// ---------------------------------------------------------------------------------------------
// The corpus.

struct Entry {
    file: String,
    sql: String,
    mask: Vec<String>,
    /// `-- @approx:` columns, compared rounded to 12 significant digits.
    approx: Vec<String>,
    /// `-- @plan-flags`: the key flags of every column are not compared.
    plan_flags: bool,
    /// `-- @params:` as written, and the values: the entry runs in the binary protocol only.
    params: Option<(String, Vec<Value>)>,
}

impl Entry {
    /// How the entry is named in messages and in known_mismatches.txt.
    fn name(&self) -> String {
        match &self.params {
            None => self.sql.clone(),
            Some((raw, _)) => format!("{} -- @params: {raw}", self.sql),
        }
    }
}

/// Values of a `-- @params:` line: `NULL`, `'text'`, integers (past i64: unsigned), numbers with
/// a point (DOUBLE), `DATE 'YYYY-MM-DD'`, separated by commas (no comma inside a value).
fn parse_params(raw: &str) -> Vec<Value> {
    raw.split(',')
        .map(|v| {
            let v = v.trim();
            if v.eq_ignore_ascii_case("NULL") {
                Value::NULL
            } else if let Some(d) = v.strip_prefix("DATE '").and_then(|d| d.strip_suffix('\'')) {
                let n: Vec<u32> = d.split('-').map(|x| x.parse().expect("date")).collect();
                Value::Date(n[0] as u16, n[1] as u8, n[2] as u8, 0, 0, 0, 0)
            } else if let Some(t) = v.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
                Value::Bytes(t.as_bytes().to_vec())
            } else if let Ok(i) = v.parse::<i64>() {
                Value::Int(i)
            } else if let Ok(u) = v.parse::<u64>() {
                Value::UInt(u)
            } else {
                Value::Double(v.parse().unwrap_or_else(|_| panic!("bad parameter {v}")))
            }
        })
        .collect()
}

/// Expands every `{a|b|c}` group of `s` (cartesian product, left to right).
fn expand(s: &str) -> Vec<String> {
    let Some(open) = s.find('{') else {
        return vec![s.to_string()];
    };
    let close = open + s[open..].find('}').expect("unclosed { in the corpus");
    let (head, tail) = (&s[..open], &s[close + 1..]);
    let mut out = Vec::new();
    for alt in s[open + 1..close].split('|') {
        for rest in expand(tail) {
            out.push(format!("{head}{alt}{rest}"));
        }
    }
    out
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/differential")
}

/// The entries of every `.sql` file of `dir` (not its subdirectories), files in name order.
fn load_entries(dir: &Path, prefix: &str) -> Vec<Entry> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("tests/differential")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let file = format!("{prefix}{}", path.file_name().unwrap().to_string_lossy());
        let text = std::fs::read_to_string(&path).expect("read corpus file");
        let mut cur: Vec<&str> = Vec::new();
        let mut mask: Vec<String> = Vec::new();
        let mut approx: Vec<String> = Vec::new();
        let mut params: Option<(String, Vec<Value>)> = None;
        let mut plan_flags = false;
        for line in text.lines() {
            let t = line.trim();
            if t == "-- @plan-flags" {
                plan_flags = true;
                continue;
            }
            if let Some(p) = t.strip_prefix("-- @params:") {
                params = Some((p.trim().to_string(), parse_params(p)));
                continue;
            }
            if let Some(m) = t.strip_prefix("-- @mask:") {
                mask = m.split(',').map(|c| c.trim().to_string()).collect();
                continue;
            }
            if let Some(m) = t.strip_prefix("-- @approx:") {
                approx = m.split(',').map(|c| c.trim().to_string()).collect();
                continue;
            }
            if t.is_empty() || t.starts_with("--") {
                continue;
            }
            cur.push(t);
            if let Some(last) = t.strip_suffix(';') {
                cur.pop();
                cur.push(last);
                let joined = cur.join(" ");
                for sql in expand(joined.trim()) {
                    out.push(Entry {
                        file: file.clone(),
                        sql,
                        mask: mask.clone(),
                        approx: approx.clone(),
                        plan_flags,
                        params: params.clone(),
                    });
                }
                cur.clear();
                mask.clear();
                approx.clear();
                plan_flags = false;
                params = None;
            }
        }
        assert!(cur.is_empty(), "{file}: last entry lacks its `;`");
    }
    out
}

/// Known mismatches: query text → reason.
fn known_mismatches() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(corpus_dir().join("known_mismatches.txt"))
        .expect("known_mismatches.txt");
    let mut out = BTreeMap::new();
    let mut reason = String::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(c) = t.strip_prefix('#') {
            reason = c.trim().to_string();
        } else if !t.is_empty() {
            out.insert(t.to_string(), reason.clone());
        }
    }
    out
}

/// Whether rows compare as an ordered list: the outermost statement has ORDER BY, or it lists
/// a table's columns or indexes (their order is the definition's).
fn ordered(sql: &str) -> bool {
    use sqlparser::ast::Statement;
    use sqlparser::dialect::MySqlDialect;
    let upper = sql.to_ascii_uppercase();
    let definition_order = [
        "SHOW COLUMNS",
        "SHOW FULL COLUMNS",
        "SHOW INDEX",
        "SHOW KEYS",
        "DESC ",
        "DESCRIBE ",
    ];
    if definition_order.iter().any(|p| upper.starts_with(p)) {
        return true;
    }
    match sqlparser::parser::Parser::parse_sql(&MySqlDialect {}, sql) {
        Ok(stmts) => matches!(stmts.first(), Some(Statement::Query(q)) if q.order_by.is_some()),
        Err(_) => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Answers.

#[derive(Debug, PartialEq)]
enum Answer {
    Error(u16, String),
    Rows {
        columns: Vec<String>,
        rows: Vec<String>,
    },
    /// An OK packet: affected rows, info string, warning count.
    Ok(String),
}

fn render(v: &Value) -> String {
    match v {
        Value::NULL => "NULL".into(),
        Value::Bytes(b) => match std::str::from_utf8(b) {
            Ok(s) => format!("{s:?}"),
            Err(_) => format!(
                "0x{}",
                b.iter().map(|x| format!("{x:02x}")).collect::<String>()
            ),
        },
        Value::Int(i) => format!("i{i}"),
        Value::UInt(u) => format!("u{u}"),
        Value::Float(f) => format!("f{f:?}"),
        Value::Double(d) => format!("d{d:?}"),
        Value::Date(y, mo, d, h, mi, s, us) => {
            format!("D{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06}")
        }
        Value::Time(neg, d, h, mi, s, us) => {
            format!(
                "T{}{d} {h:02}:{mi:02}:{s:02}.{us:06}",
                if *neg { "-" } else { "" }
            )
        }
    }
}

/// A column's metadata as text; `plan_flags`: without the key flags, which follow the
/// server's plan (an index scan reports the column's MULTIPLE_KEY/PART_KEY flags, a temporary
/// table does not and may add NUM_FLAG).
fn column_text(c: &mysql_async::Column, plan_flags: bool) -> String {
    use mysql_async::consts::ColumnFlags as F;
    let mut flags = c.flags();
    if plan_flags {
        flags.remove(
            F::PRI_KEY_FLAG
                | F::UNIQUE_KEY_FLAG
                | F::MULTIPLE_KEY_FLAG
                | F::PART_KEY_FLAG
                | F::NUM_FLAG,
        );
    }
    format!(
        "{} {:?}({}) flags={:?} cs={} dec={}",
        c.name_str(),
        c.column_type(),
        c.column_length(),
        flags,
        c.character_set(),
        c.decimals()
    )
}

async fn run(
    c: &mut Conn,
    sql: &str,
    params: Option<&[Value]>,
    mask: &[String],
    approx: &[String],
    plan_flags: bool,
    sort: bool,
) -> Answer {
    macro_rules! collect {
        ($res:expr) => {{
            let mut res = match $res {
                Ok(r) => r,
                Err(mysql_async::Error::Server(e)) => return Answer::Error(e.code, e.message),
                Err(e) => return Answer::Error(0, format!("client: {e}")),
            };
            let cols = res.columns().map(|c| c.to_vec()).unwrap_or_default();
            let rows: Vec<mysql_async::Row> = match res.collect().await {
                Ok(r) => r,
                Err(mysql_async::Error::Server(e)) => return Answer::Error(e.code, e.message),
                Err(e) => return Answer::Error(0, format!("client: {e}")),
            };
            let ok = format!(
                "affected={} info={:?} warnings={}",
                res.affected_rows(),
                res.info(),
                res.warnings()
            );
            // A single statement: drain anything left (none expected).
            let _ = res.drop_result().await;
            (cols, rows, ok)
        }};
    }
    let (cols, rows, ok) = if let Some(params) = params {
        let p = if params.is_empty() {
            mysql_async::Params::Empty
        } else {
            mysql_async::Params::Positional(params.to_vec())
        };
        collect!(c.exec_iter(sql, p).await)
    } else {
        collect!(c.query_iter(sql).await)
    };
    if cols.is_empty() {
        return Answer::Ok(ok);
    }
    let masked: Vec<bool> = cols
        .iter()
        .map(|c| mask.iter().any(|m| m.eq_ignore_ascii_case(&c.name_str())))
        .collect();
    let near: Vec<bool> = cols
        .iter()
        .map(|c| approx.iter().any(|m| m.eq_ignore_ascii_case(&c.name_str())))
        .collect();
    let mut out_rows: Vec<String> = rows
        .into_iter()
        .map(|r| {
            r.unwrap_raw()
                .into_iter()
                .zip(masked.iter().zip(&near))
                .map(|(v, (m, n))| {
                    let v = v.unwrap_or(Value::NULL);
                    if *m {
                        "*".to_string()
                    } else if *n && let Some(f) = approx_number(&v) {
                        format!("~{f:.11e}")
                    } else {
                        render(&v)
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    if sort {
        out_rows.sort();
    }
    Answer::Rows {
        columns: cols
            .iter()
            .map(|c| {
                let masked = mask.iter().any(|m| m.eq_ignore_ascii_case(&c.name_str()));
                column_text(c, plan_flags || masked)
            })
            .collect(),
        rows: out_rows,
    }
}

/// A numeric value (text or binary protocol) as a double, for `@approx` columns.
fn approx_number(v: &Value) -> Option<f64> {
    match v {
        Value::Double(d) => Some(*d),
        Value::Float(f) => Some(f64::from(*f)),
        Value::Int(i) => Some(*i as f64),
        Value::UInt(u) => Some(*u as f64),
        Value::Bytes(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
        _ => None,
    }
}

enum Verdict {
    Match,
    Refused(String),
    Mismatch(String),
}

fn judge(want: &Answer, got: &Answer) -> Verdict {
    match (want, got) {
        (_, Answer::Error(REFUSED, m)) if !matches!(want, Answer::Error(REFUSED, _)) => {
            Verdict::Refused(m.clone())
        }
        (Answer::Error(a, _), Answer::Error(b, _)) if a == b => Verdict::Match,
        (a, b) if a == b => Verdict::Match,
        _ => Verdict::Mismatch(diff_text(want, got)),
    }
}

fn diff_text(want: &Answer, got: &Answer) -> String {
    match (want, got) {
        (
            Answer::Rows {
                columns: wc,
                rows: wr,
            },
            Answer::Rows {
                columns: gc,
                rows: gr,
            },
        ) => {
            let mut s = String::new();
            if wc != gc {
                let _ = writeln!(s, "    columns: plain {wc:?}\n             proxy {gc:?}");
            }
            if wr.len() != gr.len() {
                let _ = writeln!(s, "    row count: plain {} proxy {}", wr.len(), gr.len());
            }
            let mut shown = 0;
            for (i, (a, b)) in wr.iter().zip(gr).enumerate() {
                if a != b && shown < 3 {
                    let _ = writeln!(s, "    row {i}: plain [{a}]\n            proxy [{b}]");
                    shown += 1;
                }
            }
            if wr.len() != gr.len() && shown == 0 {
                let n = wr.len().min(gr.len());
                let _ = writeln!(
                    s,
                    "    extra: plain {:?} proxy {:?}",
                    wr.get(n..(n + 2).min(wr.len())),
                    gr.get(n..(n + 2).min(gr.len()))
                );
            }
            s
        }
        _ => {
            let brief = |a: &Answer| match a {
                Answer::Rows { rows, .. } => format!("{} rows", rows.len()),
                other => format!("{other:?}"),
            };
            format!("    plain {}\n    proxy {}\n", brief(want), brief(got))
        }
    }
}

#[derive(Default)]
struct Tally {
    matched: usize,
    refused: usize,
    known: usize,
    mismatched: usize,
}

// ---------------------------------------------------------------------------------------------
// Placement.

async fn count_on(c: &mut Conn, sql: &str) -> i64 {
    c.query_first::<i64, _>(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or(0)
}

async fn check_placement(plain: &mut Conn) {
    let mut shards = Vec::new();
    for s in 0..SHARDS {
        let mut c = direct(s).await;
        c.query_drop(format!("USE `{DB}`")).await.expect("use");
        shards.push(c);
    }
    // Hash tables: MOD(key, 3) (non-negative) is the shard; the counts add up.
    for (table, key) in [
        ("customers", "id"),
        ("orders", "customer_id"),
        ("order_items", "customer_id"),
    ] {
        let mut sum = 0;
        for (s, c) in shards.iter_mut().enumerate() {
            sum += count_on(c, &format!("SELECT COUNT(*) FROM {table}")).await;
            let stray = count_on(
                c,
                &format!("SELECT COUNT(*) FROM {table} WHERE MOD(MOD({key}, 3) + 3, 3) <> {s}"),
            )
            .await;
            assert_eq!(stray, 0, "{table}: rows on s{s} that hash elsewhere");
        }
        let want = count_on(plain, &format!("SELECT COUNT(*) FROM {table}")).await;
        assert_eq!(sum, want, "{table}: rows on the shards vs the plain server");
    }
    // Co-located: every item is on its order's shard.
    for (s, c) in shards.iter_mut().enumerate() {
        let orphans = count_on(
            c,
            "SELECT COUNT(*) FROM order_items i LEFT JOIN orders o ON o.id = i.order_id WHERE o.id IS NULL",
        )
        .await;
        assert_eq!(orphans, 0, "order_items on s{s} without their order");
    }
    // Range by date, list by city: each shard's rows satisfy its entry.
    let range = [
        "day < '2026-02-01'",
        "day >= '2026-02-01' AND day < '2026-03-01'",
        "day >= '2026-03-01'",
    ];
    let list = [
        "BINARY city IN ('Paris', 'Lyon', 'Oslo', 'Lima')",
        "BINARY city IN ('Berlin', 'Munich')",
        "BINARY city IN ('Shanghai', 'Tokyo')",
    ];
    for (table, conds) in [("events", range), ("shops", list)] {
        let mut sum = 0;
        for (s, c) in shards.iter_mut().enumerate() {
            let n = count_on(c, &format!("SELECT COUNT(*) FROM {table}")).await;
            let ok = count_on(
                c,
                &format!("SELECT COUNT(*) FROM {table} WHERE {}", conds[s]),
            )
            .await;
            assert_eq!(n, ok, "{table}: rows on s{s} outside its entry");
            assert!(
                n > 0,
                "{table}: s{s} holds no row (the data should reach every shard)"
            );
            sum += n;
        }
        let want = count_on(plain, &format!("SELECT COUNT(*) FROM {table}")).await;
        assert_eq!(sum, want, "{table}: rows on the shards vs the plain server");
    }
    // Consistent hash: the ring of the library, over the rule's shard names.
    let names: Vec<(usize, String)> = (0..SHARDS).map(|s| (s, format!("s{s}"))).collect();
    let ring = ConsistentHashRule::new(&names, 160).expect("ring");
    let mut sum = 0;
    for (s, c) in shards.iter_mut().enumerate() {
        let users: Vec<i64> = c
            .query("SELECT user_id FROM sessions")
            .await
            .expect("sessions");
        for u in &users {
            assert_eq!(
                ring.shard_for_key(&Key::Int(*u)),
                Some(s),
                "sessions: user_id {u} on s{s}"
            );
        }
        sum += users.len() as i64;
    }
    let want = count_on(plain, "SELECT COUNT(*) FROM sessions").await;
    assert_eq!(
        sum, want,
        "sessions: rows on the shards vs the plain server"
    );
    // Broadcast tables: complete on every shard; the unsharded table on s0 only.
    for table in ["products", "regions"] {
        let want = count_on(plain, &format!("SELECT COUNT(*) FROM {table}")).await;
        for (s, c) in shards.iter_mut().enumerate() {
            let n = count_on(c, &format!("SELECT COUNT(*) FROM {table}")).await;
            assert_eq!(n, want, "{table} (broadcast) on s{s}");
        }
    }
    let want = count_on(plain, "SELECT COUNT(*) FROM notes").await;
    assert_eq!(
        count_on(&mut shards[0], "SELECT COUNT(*) FROM notes").await,
        want
    );
    for (s, c) in shards.iter_mut().enumerate().skip(1) {
        let n = count_on(
            c,
            &format!(
                "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{DB}' AND TABLE_NAME = 'notes'"
            ),
        )
        .await;
        assert_eq!(n, 0, "notes (unsharded) exists on s{s}");
    }
}

// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differential() {
    let started = std::time::Instant::now();
    // Servers: 3 shards and the plain reference.
    for s in 0..SHARDS {
        let mut c = direct(s).await;
        c.query_drop(shardgate::sandbox::grant_schema_sql(DB))
            .await
            .expect("grant");
        c.query_drop(format!("DROP DATABASE IF EXISTS `{DB}`"))
            .await
            .expect("drop");
        c.query_drop(format!("CREATE DATABASE `{DB}`"))
            .await
            .expect("create");
    }
    let mut plain = common::plain(DB).await;
    let text = rules_text();
    let rules = match Rules::from_toml(&text, "differential.toml") {
        Ok(r) => r,
        Err(e) => panic!("rules invalid:\n{e}\n{text}"),
    };
    let addr = common::start_proxy(rules).await;
    let mut proxy = common::client(addr, DB).await;

    for ddl in SCHEMA {
        proxy.query_drop(*ddl).await.expect(ddl);
        plain.query_drop(*ddl).await.expect(ddl);
    }
    let inserts = data_inserts();
    for ins in &inserts {
        proxy
            .query_drop(ins)
            .await
            .unwrap_or_else(|e| panic!("proxy: {e}\n{}", &ins[..200]));
        plain
            .query_drop(ins)
            .await
            .unwrap_or_else(|e| panic!("plain: {e}\n{}", &ins[..200]));
    }
    println!(
        "loaded {} INSERT statements in {:?}",
        inserts.len(),
        started.elapsed()
    );
    check_placement(&mut plain).await;
    println!("placement checked");

    // A query written twice (e.g. by two templates) runs once.
    let mut seen = BTreeSet::new();
    let corpus: Vec<Entry> = load_entries(&corpus_dir(), "")
        .into_iter()
        .filter(|e| seen.insert(e.name()))
        .collect();
    let writes = load_entries(&corpus_dir().join("writes"), "writes/");
    for w in &writes {
        seen.insert(w.name());
    }
    let known = known_mismatches();
    for k in known.keys() {
        assert!(
            seen.contains(k),
            "known_mismatches.txt lists a query that is not in the corpus: `{k}`"
        );
    }
    println!("{} queries in the corpus", corpus.len());

    let mut tallies: BTreeMap<(String, &str), Tally> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut refusals: BTreeMap<String, usize> = BTreeMap::new();
    for e in &corpus {
        let sort = !ordered(&e.sql);
        let name = e.name();
        let protocols: &[(&str, Option<&[Value]>)] = match &e.params {
            None => &[("text", None), ("binary", Some(&[]))],
            Some((_, values)) => &[("binary", Some(values))],
        };
        for &(proto, params) in protocols {
            let binary = params.is_some();
            let want = tokio::time::timeout(
                QUERY_TIMEOUT,
                run(
                    &mut plain,
                    &e.sql,
                    params,
                    &e.mask,
                    &e.approx,
                    e.plan_flags,
                    sort,
                ),
            )
            .await
            .unwrap_or_else(|_| panic!("the plain server timed out on `{name}`"));
            let got = tokio::time::timeout(
                QUERY_TIMEOUT,
                run(
                    &mut proxy,
                    &e.sql,
                    params,
                    &e.mask,
                    &e.approx,
                    e.plan_flags,
                    sort,
                ),
            )
            .await
            .unwrap_or_else(|_| Answer::Error(0, format!("no answer within {QUERY_TIMEOUT:?}")));
            if matches!(got, Answer::Error(0, _)) {
                // A client-side failure (lost connection, timeout): a fresh connection for the
                // queries that follow.
                proxy = common::client(addr, DB).await;
            }
            let t = tallies.entry((e.file.clone(), proto)).or_default();
            let listed = known.get(&name);
            match judge(&want, &got) {
                Verdict::Match | Verdict::Refused(_) if listed.is_some() => {
                    failures.push(format!(
                        "[{proto}] {}: `{name}` is listed in known_mismatches.txt but no longer mismatches: remove it from known_mismatches.txt",
                        e.file
                    ));
                    t.matched += 1;
                }
                Verdict::Match => t.matched += 1,
                Verdict::Refused(m) => {
                    t.refused += 1;
                    if !binary || e.params.is_some() {
                        println!("refused {}: {name} -- {m}", e.file);
                    }
                    *refusals.entry(m).or_default() += 1;
                }
                Verdict::Mismatch(d) => {
                    if let Some(reason) = listed {
                        t.known += 1;
                        if !binary || e.params.is_some() {
                            let cause = reason.split(':').next().unwrap_or_default();
                            println!("known mismatch ({cause}): {name}");
                        }
                    } else {
                        t.mismatched += 1;
                        failures.push(format!("[{proto}] {}: `{name}`\n{d}", e.file));
                    }
                }
            }
        }
    }

    // Writes, in order, text protocol: the OK packets compared, then every table's rows.
    for e in &writes {
        let want = run(&mut plain, &e.sql, None, &[], &[], false, true).await;
        let got = tokio::time::timeout(
            QUERY_TIMEOUT,
            run(&mut proxy, &e.sql, None, &[], &[], false, true),
        )
        .await
        .unwrap_or_else(|_| Answer::Error(0, format!("no answer within {QUERY_TIMEOUT:?}")));
        let t = tallies.entry((e.file.clone(), "text")).or_default();
        match (judge(&want, &got), known.get(&e.name())) {
            (Verdict::Match, None) => t.matched += 1,
            (Verdict::Mismatch(d), Some(reason)) => {
                t.known += 1;
                println!("known mismatch ({reason}): {}\n{d}", e.sql);
            }
            (Verdict::Mismatch(d), None) => {
                t.mismatched += 1;
                failures.push(format!("[text] {}: `{}`\n{d}", e.file, e.sql));
            }
            (Verdict::Refused(m), _) => {
                t.refused += 1;
                failures.push(format!(
                    "[text] {}: `{}` refused ({m}): the servers now hold different rows; keep to writes the proxy supports",
                    e.file, e.sql
                ));
            }
            (Verdict::Match, Some(_)) => {
                t.matched += 1;
                failures.push(format!(
                    "[text] {}: `{}` is listed in known_mismatches.txt but no longer mismatches: remove it from known_mismatches.txt",
                    e.file, e.sql
                ));
            }
        }
    }
    if !writes.is_empty() {
        for table in [
            "customers",
            "orders",
            "order_items",
            "events",
            "shops",
            "sessions",
            "products",
            "regions",
            "notes",
        ] {
            let sql = format!("SELECT * FROM {table} ORDER BY id");
            let want = run(&mut plain, &sql, None, &[], &[], false, false).await;
            let got = run(&mut proxy, &sql, None, &[], &[], false, false).await;
            if want != got {
                failures.push(format!(
                    "after the writes, {table} differs:\n{}",
                    diff_text(&want, &got)
                ));
            }
        }
        check_placement(&mut plain).await;
        println!(
            "{} writes run, tables compared, placement checked again",
            writes.len()
        );
    }

    println!(
        "\n{:<26} {:>6} {:>8} {:>8} {:>6} {:>10}",
        "file", "proto", "matched", "refused", "known", "mismatched"
    );
    let mut total = Tally::default();
    for ((file, proto), t) in &tallies {
        println!(
            "{file:<26} {proto:>6} {:>8} {:>8} {:>6} {:>10}",
            t.matched, t.refused, t.known, t.mismatched
        );
        total.matched += t.matched;
        total.refused += t.refused;
        total.known += t.known;
        total.mismatched += t.mismatched;
    }
    println!(
        "{:<26} {:>6} {:>8} {:>8} {:>6} {:>10}",
        "total (both protocols)", "", total.matched, total.refused, total.known, total.mismatched
    );
    println!("\nrefusal messages (count over both protocols):");
    for (m, n) in &refusals {
        println!("  {n:>4}  {m}");
    }
    println!("differential suite took {:?}", started.elapsed());
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn templates_expand_to_their_cartesian_product() {
    assert_eq!(expand("SELECT 1"), vec!["SELECT 1"]);
    assert_eq!(
        expand("SELECT {a|b} FROM t WHERE x {= 1|< 2}"),
        vec![
            "SELECT a FROM t WHERE x = 1",
            "SELECT a FROM t WHERE x < 2",
            "SELECT b FROM t WHERE x = 1",
            "SELECT b FROM t WHERE x < 2",
        ]
    );
}

#[test]
fn verdicts_see_metadata_rows_and_codes() {
    let rows = |cols: &[&str], rows: &[&str]| Answer::Rows {
        columns: cols.iter().map(|c| c.to_string()).collect(),
        rows: rows.iter().map(|r| r.to_string()).collect(),
    };
    let a = rows(&["id LONGLONG"], &["1", "2"]);
    assert!(matches!(
        judge(&a, &rows(&["id LONGLONG"], &["1", "2"])),
        Verdict::Match
    ));
    assert!(matches!(
        judge(&a, &rows(&["id LONG"], &["1", "2"])),
        Verdict::Mismatch(_)
    ));
    assert!(matches!(
        judge(&a, &rows(&["id LONGLONG"], &["2", "1"])),
        Verdict::Mismatch(_)
    ));
    assert!(matches!(
        judge(&a, &rows(&["id LONGLONG"], &["1"])),
        Verdict::Mismatch(_)
    ));
    assert!(matches!(
        judge(&a, &Answer::Error(REFUSED, "x".into())),
        Verdict::Refused(_)
    ));
    assert!(matches!(
        judge(&a, &Answer::Error(1064, "x".into())),
        Verdict::Mismatch(_)
    ));
    let e = Answer::Error(1054, "plain".into());
    assert!(matches!(
        judge(&e, &Answer::Error(1054, "proxy".into())),
        Verdict::Match
    ));
    assert!(matches!(
        judge(&e, &Answer::Error(1146, "proxy".into())),
        Verdict::Mismatch(_)
    ));
    assert!(matches!(judge(&e, &a), Verdict::Mismatch(_)));
    assert!(ordered("SELECT id FROM t ORDER BY id"));
    assert!(ordered(
        "WITH c AS (SELECT 1 AS x) SELECT x FROM c ORDER BY x"
    ));
    assert!(!ordered(
        "(SELECT id FROM t ORDER BY id LIMIT 1) UNION ALL (SELECT id FROM u)"
    ));
    assert!(!ordered(
        "SELECT id FROM t WHERE id IN (SELECT id FROM u ORDER BY id)"
    ));
    assert!(ordered("SHOW INDEX FROM t"));
    assert!(!ordered("SHOW TABLES"));
}
