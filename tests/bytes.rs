//! Query text is bytes, not UTF-8: every byte value written into a literal by a client that
//! interpolates parameters (mysqlclient, Connector/J, Go with interpolateParams) reaches the
//! shards unchanged, on every text-protocol path: an unsharded table, one shard, a multi-row
//! INSERT split across shards (rewritten), a broadcast table, and the WHERE clause of reads and
//! writes. Stored bytes are checked on each shard directly.

mod common;

use common::*;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Value};

const TABLES: &str = r#"
[[schemas.tables]]
names = ["bin_sharded"]
algorithm = "hash"
key = "id"
key_type = "int"

[[schemas.tables]]
names = ["bin_bcast"]
algorithm = "broadcast"
"#;

/// The 16 bytes stored in row `id` (1..=16): together the rows hold all 256 byte values.
fn value_of(id: u8) -> Vec<u8> {
    (0..16u8).map(|i| (id - 1) * 16 + i).collect()
}

/// A string literal as a C driver's `mysql_real_escape_string` writes it: raw bytes, with only
/// NUL, `\n`, `\r`, `\\`, `'`, `"` and Ctrl-Z escaped.
fn escaped(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in bytes {
        match b {
            0 => out.extend_from_slice(b"\\0"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\'' => out.extend_from_slice(b"\\'"),
            b'"' => out.extend_from_slice(b"\\\""),
            0x1a => out.extend_from_slice(b"\\Z"),
            b => out.push(b),
        }
    }
    out
}

/// The literal forms a client may use for `bytes`, chosen by row so every form is exercised.
fn literal(id: u8, bytes: &[u8]) -> Vec<u8> {
    let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
    let mut out = Vec::new();
    match id % 4 {
        0 => {
            out.extend_from_slice(b"_binary'");
            out.extend(escaped(bytes));
            out.push(b'\'');
        }
        1 => {
            out.push(b'\'');
            out.extend(escaped(bytes));
            out.push(b'\'');
        }
        2 => out.extend(format!("X'{hex}'").into_bytes()),
        _ => out.extend(format!("0x{hex}").into_bytes()),
    }
    out
}

fn sql(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// `(id, hex(b))` of every row, by id.
async fn stored(c: &mut Conn, table: &str) -> Vec<(i64, String)> {
    let mut rows: Vec<(i64, String)> = c
        .query(format!("SELECT id, HEX(b) FROM {table} ORDER BY id"))
        .await
        .unwrap();
    rows.sort();
    rows
}

fn expected(ids: impl Iterator<Item = u8>) -> Vec<(i64, String)> {
    ids.map(|id| {
        let hex: String = value_of(id).iter().map(|b| format!("{b:02X}")).collect();
        (i64::from(id), hex)
    })
    .collect()
}

/// Rows of `table` found with `WHERE b = <literal>` for every row's value.
async fn found_by_value(c: &mut Conn, table: &str) -> Vec<i64> {
    let mut found = Vec::new();
    for id in 1..=16u8 {
        let q = sql(&[
            format!("SELECT id FROM {table} WHERE b = ").as_bytes(),
            &literal(id + 1, &value_of(id)),
        ]);
        let ids: Vec<i64> = c.query(&q[..]).await.unwrap();
        found.extend(ids);
    }
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_byte_value_survives_every_text_path() {
    let db = "bytes_text";
    let (_, mut c) = setup(db, TABLES).await;
    for t in ["bin_sharded", "bin_bcast", "bin_plain"] {
        c.query_drop(format!(
            "CREATE TABLE {t} (id INT PRIMARY KEY, b VARBINARY(16), c VARCHAR(40) CHARACTER SET latin1)"
        ))
        .await
        .unwrap();
    }
    // One statement per row (single shard, broadcast, unsharded: the text is relayed as is)...
    for t in ["bin_sharded", "bin_bcast", "bin_plain"] {
        for id in 1..=8u8 {
            let q = sql(&[
                format!("INSERT INTO {t} (id, b) VALUES ({id}, ").as_bytes(),
                &literal(id, &value_of(id)),
                b")",
            ]);
            c.query_drop(&q[..]).await.unwrap();
        }
    }
    // ...and one multi-row INSERT per table for the rest (split per shard, so rewritten, for
    // the sharded table).
    for t in ["bin_sharded", "bin_bcast", "bin_plain"] {
        let mut q = format!("INSERT INTO {t} (id, b) VALUES ").into_bytes();
        for id in 9..=16u8 {
            if id > 9 {
                q.push(b',');
            }
            q.extend(format!("({id}, ").into_bytes());
            q.extend(literal(id, &value_of(id)));
            q.push(b')');
        }
        c.query_drop(&q[..]).await.unwrap();
        assert_eq!(c.affected_rows(), 8, "{t}");
    }
    // Through the proxy.
    for t in ["bin_sharded", "bin_bcast", "bin_plain"] {
        assert_eq!(
            stored(&mut c, t).await,
            expected(1..=16),
            "{t} via the proxy"
        );
        assert_eq!(
            found_by_value(&mut c, t).await,
            (1..=16).collect::<Vec<i64>>(),
            "{t}: WHERE b = <literal> finds each row"
        );
    }
    // On each shard directly: the sharded rows are split by MOD(id, 2), every shard holds the
    // broadcast table, the unsharded one lives on the default shard s0.
    for s in 0..2usize {
        let mut d = direct(s).await;
        d.query_drop(format!("USE {db}")).await.unwrap();
        assert_eq!(
            stored(&mut d, "bin_sharded").await,
            expected((1..=16).filter(|i| usize::from(*i) % 2 == s)),
            "bin_sharded on s{s}"
        );
        assert_eq!(stored(&mut d, "bin_bcast").await, expected(1..=16));
    }
    let mut d0 = direct(0).await;
    d0.query_drop(format!("USE {db}")).await.unwrap();
    assert_eq!(stored(&mut d0, "bin_plain").await, expected(1..=16));

    // Writes that match by bytes: an UPDATE without the key (every shard) and a DELETE with it.
    let q = sql(&[
        b"UPDATE bin_sharded SET b = _binary'\xff\x00\x80' WHERE b = ",
        &literal(0, &value_of(5)),
    ]);
    // (a raw NUL inside a literal is legal in MySQL text: the packet carries its length)
    c.query_drop(&q[..]).await.unwrap();
    assert_eq!(c.affected_rows(), 1);
    let got: Vec<String> = c
        .query("SELECT HEX(b) FROM bin_sharded WHERE id = 5")
        .await
        .unwrap();
    assert_eq!(got, vec!["FF0080".to_string()]);
    let q = sql(&[
        b"DELETE FROM bin_sharded WHERE id IN (6, 7) AND b IN (",
        &literal(1, &value_of(6)),
        b", ",
        &literal(2, &value_of(7)),
        b")",
    ]);
    c.query_drop(&q[..]).await.unwrap();
    assert_eq!(c.affected_rows(), 2);

    // A latin1 string in a latin1 column, written in the client's bytes ('é' = E9), split over
    // both shards.
    c.query_drop("SET NAMES latin1").await.unwrap();
    c.query_drop(&b"UPDATE bin_sharded SET c = 'caf\xe9 \\\\ \xff' WHERE id IN (1, 2)"[..])
        .await
        .unwrap();
    assert_eq!(c.affected_rows(), 2);
    let got: Vec<String> = c
        .query("SELECT HEX(c) FROM bin_sharded WHERE id IN (1, 2)")
        .await
        .unwrap();
    assert_eq!(got, vec!["636166E9205C20FF".to_string(); 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_parameters_survive_a_rewritten_insert() {
    let db = "bytes_ps";
    let (_, mut c) = setup(db, TABLES).await;
    c.query_drop("CREATE TABLE bin_sharded (id INT PRIMARY KEY, b VARBINARY(16))")
        .await
        .unwrap();
    // Prepared with two rows: the proxy splits it per shard and inlines the parameters.
    for pair in (1..=16u8).collect::<Vec<_>>().chunks(2) {
        let params: Vec<Value> = pair
            .iter()
            .flat_map(|&id| [Value::Int(i64::from(id)), Value::Bytes(value_of(id))])
            .collect();
        c.exec_drop(
            "INSERT INTO bin_sharded (id, b) VALUES (?, ?), (?, ?)",
            params,
        )
        .await
        .unwrap();
    }
    assert_eq!(stored(&mut c, "bin_sharded").await, expected(1..=16));
    for s in 0..2usize {
        let mut d = direct(s).await;
        d.query_drop(format!("USE {db}")).await.unwrap();
        assert_eq!(
            stored(&mut d, "bin_sharded").await,
            expected((1..=16).filter(|i| usize::from(*i) % 2 == s)),
        );
    }
}
