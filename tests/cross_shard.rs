//! Cross-shard reads answer exactly what one MariaDB answers: every statement runs through the
//! proxy (2 shards) and on a plain MariaDB holding the same rows, and the answers (rows in
//! order, column metadata) are compared. Text sorts, DISTINCT and MIN/MAX follow the
//! expression's collation (accent- and case-insensitive `utf8mb4_general_ci`, `utf8mb4_bin`,
//! an explicit COLLATE, trailing spaces), DECIMAL and BIGINT UNSIGNED are summed and compared
//! exactly.

mod common;

use common::*;
use mysql_async::prelude::Queryable;

const TABLES: &str = r#"
[[schemas.tables]]
names = ["customers"]
algorithm = "hash"
key = "id"
key_type = "int"
"#;

const SETUP: &[&str] = &[
    "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(30), city VARCHAR(30), status VARCHAR(10), amount DECIMAL(30,2), qty INT, big BIGINT UNSIGNED, kind ENUM('b','a'))",
    "INSERT INTO customers VALUES \
     (8,'Ivan','Shanghai','PAID',11111111111111111.05,3,18446744073709551615,'a'), \
     (198,'Émile','São Paulo','paid',11111111111111111.06,2,18446744073709551614,'b'), \
     (260,'Ivan','Sao Paulo','Paid',1.01,7,5,'a'), \
     (524,'Émile','Shanghai','Shipped',2.02,1,6,'b'), \
     (1642,'emile','Zürich','shipped',3.00,5,7,'a'), \
     (1954,'Ivan ','Zurich','PAID',4.00,4,8,NULL), \
     (7,'Eve',NULL,NULL,NULL,NULL,9,'a'), \
     (11,'a\\t','Lyon','x',5.55,2,10,'b'), \
     (12,'a','lyon','X',6.66,9,11,'a'), \
     (13,NULL,'Lyon ','y',-7.77,-3,12,'b'), \
     (14,'Øyvind','Oslo','z',23431739867485350.17,1,13,'a'), \
     (15,'Oyvind','oslo','Z',0.01,1,14,'b')",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_shard_reads_compare_like_the_server() {
    let (_addr, mut proxy) = setup("xshard", TABLES).await;
    let mut reference = plain("xshard").await;
    for sql in SETUP {
        proxy.query_drop(*sql).await.expect(sql);
        reference.query_drop(*sql).await.expect(sql);
    }
    // The rows really are spread: both shards hold some.
    for s in 0..2 {
        assert!(
            !ids_on(s, "xshard", "SELECT id FROM customers")
                .await
                .is_empty(),
            "shard {s} holds no customer"
        );
    }
    same_answers(
        &mut proxy,
        &mut reference,
        &[
            // utf8mb4_general_ci: É = E = e, trailing spaces ignored, NULL first.
            "SELECT id, name FROM customers WHERE id IN (8,198,260,524,1642,1954) ORDER BY name, id",
            "SELECT id, name FROM customers ORDER BY name DESC, id",
            "SELECT id, city FROM customers ORDER BY city, id",
            "SELECT id, city FROM customers ORDER BY city, id LIMIT 3 OFFSET 4",
            "SELECT id FROM customers ORDER BY name, id",
            "SELECT * FROM customers ORDER BY city DESC, id",
            // An explicit collation: PAID before Paid before paid.
            "SELECT id, status FROM customers ORDER BY status COLLATE utf8mb4_bin, id",
            "SELECT DISTINCT status COLLATE utf8mb4_bin FROM customers ORDER BY 1",
            "SELECT DISTINCT name COLLATE utf8mb4_bin AS n FROM customers ORDER BY n",
            "SELECT MIN(name), MAX(name), MIN(name COLLATE utf8mb4_bin), MAX(city COLLATE utf8mb4_bin) FROM customers",
            // Exact DECIMAL and BIGINT UNSIGNED.
            "SELECT SUM(amount), SUM(qty * amount), SUM(big), COUNT(*), COUNT(amount), MIN(amount), MAX(big) FROM customers",
            "SELECT id FROM customers ORDER BY 10000000000000000 + id/100 DESC",
            "SELECT id, amount FROM customers ORDER BY amount DESC, id",
            "SELECT id, big FROM customers ORDER BY big, id",
            "SELECT SUM(amount) FROM customers WHERE id > 100000",
            // Aggregates and GROUP BY merged across shards: groups follow the collation.
            "SELECT AVG(amount), AVG(qty), AVG(big), COUNT(*) FROM customers",
            "SELECT name COLLATE utf8mb4_bin AS n, COUNT(*), SUM(amount), MIN(qty), MAX(qty), AVG(qty) FROM customers GROUP BY n ORDER BY n",
            "SELECT COUNT(*), SUM(qty) FROM customers GROUP BY name ORDER BY name",
            "SELECT status COLLATE utf8mb4_bin AS s, COUNT(*) AS n FROM customers GROUP BY s ORDER BY n DESC, s LIMIT 3",
            "SELECT qty % 3 AS r, SUM(amount), COUNT(amount) FROM customers GROUP BY qty % 3 ORDER BY r",
            "SELECT COUNT(*) FROM customers GROUP BY kind ORDER BY 1",
            "SELECT id, COUNT(*) FROM customers GROUP BY id HAVING COUNT(*) > 0 ORDER BY id",
            "SELECT SUM(amount) FROM customers GROUP BY qty > 2 ORDER BY 1",
            // HAVING and expressions over the merged groups, DISTINCT aggregates: the merged
            // values are put back into the expression by a backend (merge::eval).
            "SELECT COUNT(*) FROM customers GROUP BY name HAVING COUNT(*) > 1 ORDER BY MIN(id)",
            "SELECT name COLLATE utf8mb4_bin AS n, COUNT(*) FROM customers GROUP BY n HAVING COUNT(*) > 1 AND n <> 'x' ORDER BY n",
            "SELECT COUNT(DISTINCT city), COUNT(DISTINCT name), SUM(DISTINCT qty), AVG(DISTINCT amount) FROM customers",
            "SELECT qty, SUM(amount) / COUNT(*) AS a, ROUND(AVG(amount) * 2, 3) FROM customers GROUP BY qty ORDER BY a DESC, qty",
            "SELECT qty, BIT_OR(id), BIT_AND(id), BIT_XOR(id) FROM customers GROUP BY qty ORDER BY qty",
            "SELECT COUNT(*) FROM customers GROUP BY qty ORDER BY SUM(amount) DESC, qty",
            // GROUP_CONCAT: the shards group finer (by each piece's bytes and its ORDER BY keys)
            // and count; the merge sorts the pieces, repeats and joins them.
            "SELECT GROUP_CONCAT(name ORDER BY name, id) FROM customers",
            "SELECT GROUP_CONCAT(name ORDER BY name DESC, id SEPARATOR '; ') FROM customers",
            "SELECT GROUP_CONCAT(DISTINCT name COLLATE utf8mb4_bin ORDER BY 1) FROM customers",
            "SELECT GROUP_CONCAT(DISTINCT qty) FROM customers",
            "SELECT status COLLATE utf8mb4_bin AS s, GROUP_CONCAT(id, '=', qty ORDER BY id DESC LIMIT 2) FROM customers GROUP BY s ORDER BY s",
            "SELECT qty % 2 AS r, GROUP_CONCAT(city ORDER BY city, id SEPARATOR '') AS c, COUNT(*) FROM customers GROUP BY r ORDER BY r",
            "SELECT qty > 2 AS q, CONCAT('<', GROUP_CONCAT(amount ORDER BY amount), '>') FROM customers GROUP BY q HAVING GROUP_CONCAT(id) IS NOT NULL ORDER BY q",
        ],
    )
    .await;
    // ENUM sorts by its position in the type, which the proxy does not see: refused.
    let err = proxy
        .query_drop("SELECT id FROM customers ORDER BY kind, id")
        .await
        .expect_err("ORDER BY an ENUM across shards");
    assert_eq!(code(&err), 1235);
    // What the merge cannot compute exactly yet is refused, never answered wrong.
    for sql in [
        "SELECT city, COUNT(*) FROM customers GROUP BY city WITH ROLLUP",
        "SELECT city, JSON_ARRAYAGG(name) FROM customers GROUP BY city",
        // The shards' weight strings would be those of their partial strings.
        "SELECT kind, GROUP_CONCAT(name ORDER BY id) AS g FROM customers GROUP BY kind ORDER BY g",
        // A volatile function, whose value depends on when the backend evaluates it.
        "SELECT qty, COUNT(*) * RAND() FROM customers GROUP BY qty",
    ] {
        let err = proxy.query_drop(sql).await.expect_err(sql);
        assert_eq!(code(&err), 1235, "{sql}");
        reference.query_drop(sql).await.expect(sql);
    }
    // GROUP_CONCAT without ORDER BY: the server's order is the order it read the rows in, so
    // only the pieces (with their repetitions) are compared.
    let sql = "SELECT MIN(id), GROUP_CONCAT(qty) FROM customers GROUP BY city ORDER BY MIN(id)";
    let pieces =
        |rows: Vec<(Option<String>, Option<String>)>| -> Vec<(Option<String>, Vec<String>)> {
            rows.into_iter()
                .map(|(k, g)| {
                    let mut p: Vec<String> = g
                        .unwrap_or_default()
                        .split(',')
                        .map(str::to_string)
                        .collect();
                    p.sort();
                    (k, p)
                })
                .collect()
        };
    let got = pieces(proxy.query(sql).await.expect(sql));
    let want = pieces(reference.query(sql).await.expect(sql));
    assert_eq!(got, want, "{sql}");
    assert!(
        got.iter().any(|(_, p)| p.len() > 2),
        "some group has several pieces"
    );
    // A result longer than @@group_concat_max_len is refused: the server would cut it.
    for c in [&mut proxy, &mut reference] {
        c.query_drop("SET SESSION group_concat_max_len = 8")
            .await
            .unwrap();
    }
    let sql = "SELECT GROUP_CONCAT(name ORDER BY id) FROM customers";
    let err = proxy.query_drop(sql).await.expect_err(sql);
    assert_eq!(code(&err), 1235, "{sql}: {err}");
    assert!(err.to_string().contains("group_concat_max_len"), "{err}");
    // Within the limit, the same answer.
    same_answers(
        &mut proxy,
        &mut reference,
        &["SELECT GROUP_CONCAT(qty ORDER BY id) FROM customers WHERE id < 13"],
    )
    .await;
    for c in [&mut proxy, &mut reference] {
        c.query_drop("SET SESSION group_concat_max_len = DEFAULT")
            .await
            .unwrap();
    }
}
