//! Micro-benchmarks of the per-statement work on the proxy's hot path, without a cluster:
//! analysis (a plan-cache miss), the plan cache (a hit, with the literals taken out), routing a
//! point select and a scatter read, and encoding rows for the client in both protocols. A
//! regression in any of them shows here before a sysbench run (`cargo bench`); the end-to-end
//! numbers are the harness's (`make bench`, bench/README.md).

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use mysql_async::Value;
use mysql_async::consts::ColumnType;
use shardgate::config::Rules;
use shardgate::frontend::packets::ColumnDef;
use shardgate::frontend::rows::{write_binary_row, write_text_row};
use shardgate::route::router::{RouteInput, route};
use shardgate::sql::analyze::analyze;
use shardgate::sql::cache::PlanCache;

const POINT: &str = "SELECT c FROM sbtest1 WHERE id=4242";
const RANGE: &str = "SELECT c FROM sbtest1 WHERE id BETWEEN 100 AND 199 ORDER BY c";

fn rules() -> Rules {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/rules/example.toml");
    Rules::load(std::path::Path::new(path)).expect("rules/example.toml is valid")
}

fn sql(c: &mut Criterion) {
    c.bench_function("analyze point select (plan cache miss)", |b| {
        b.iter(|| analyze(black_box(POINT)).expect("parses"))
    });
    let cache = PlanCache::new(4096);
    cache.get_text(POINT).expect("parses");
    c.bench_function("plan cache hit (normalise, look up)", |b| {
        b.iter(|| cache.get_text(black_box("SELECT c FROM sbtest1 WHERE id=777")))
    });
}

fn routing(c: &mut Criterion) {
    let rules = rules();
    let cache = PlanCache::new(4096);
    for (name, sql) in [
        ("route point select", POINT),
        ("route scatter range", RANGE),
    ] {
        let (analysis, params) = cache.get_text(sql).expect("parses");
        c.bench_function(name, |b| {
            b.iter(|| {
                route(&RouteInput {
                    rules: &rules,
                    schema: Some("shop"),
                    analysis: &analysis,
                    params: &params,
                    ids: &[],
                    pinned: &[],
                    no_auto_value_on_zero: false,
                    columns: None,
                })
                .expect("routes")
            })
        });
    }
}

fn rows(c: &mut Criterion) {
    let cols = vec![
        ColumnDef::synthetic("id", ColumnType::MYSQL_TYPE_LONGLONG),
        ColumnDef::synthetic("k", ColumnType::MYSQL_TYPE_LONGLONG),
        ColumnDef::synthetic("c", ColumnType::MYSQL_TYPE_VAR_STRING),
        ColumnDef::synthetic("pad", ColumnType::MYSQL_TYPE_VAR_STRING),
    ];
    let text_row = vec![
        Value::Bytes(b"4242".to_vec()),
        Value::Bytes(b"5013".to_vec()),
        Value::Bytes(vec![b'7'; 119]),
        Value::Bytes(vec![b'3'; 59]),
    ];
    let binary_row = vec![
        Value::Int(4242),
        Value::Int(5013),
        Value::Bytes(vec![b'7'; 119]),
        Value::Bytes(vec![b'3'; 59]),
    ];
    let mut buf = Vec::with_capacity(1 << 16);
    c.bench_function("encode 100 sbtest rows, text protocol", |b| {
        b.iter(|| {
            buf.clear();
            for _ in 0..100 {
                write_text_row(&mut buf, &cols, black_box(&text_row));
            }
        })
    });
    c.bench_function("encode 100 sbtest rows, binary protocol", |b| {
        b.iter(|| {
            buf.clear();
            for _ in 0..100 {
                write_binary_row(&mut buf, &cols, black_box(&binary_row));
            }
        })
    });
}

criterion_group!(hot_path, sql, routing, rows);
criterion_main!(hot_path);
