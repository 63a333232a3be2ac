-- Key predicates in many spellings: whatever shards the proxy picks, the answer is MariaDB's.

SELECT id, name FROM customers WHERE {7 = id|id <=> 7|id IN (7)|NOT id <> 7|NOT (id != 7)|(id = 7)|id = 7.0|id = '7'|id = ' 7'|id = 7e0|id = +7|id = 14 / 2|id = 3 + 4|id = -(-7)|id = CAST('7' AS SIGNED)};
SELECT id FROM customers WHERE {id = 7 AND id = 8|id > 5 AND id < 3|id BETWEEN 8 AND 7|id IN (NULL)|id = NULL|id IS NULL|id IN (7, NULL)|id NOT IN (7, NULL)};
SELECT id FROM customers WHERE {id = 7 OR name = 'Ivan'|id = 7 OR id = 1000|id IN (1, 2) OR id IN (3, 4)|(id = 7 OR id = 8) AND visits > 0|id IS NOT NULL AND id < 4|id NOT IN (1, 2, 3) AND id < 6|id <> 7 AND id < 10|id = 7 XOR id = 8};
SELECT COUNT(*) FROM customers WHERE id BETWEEN {1 AND 3|-7 AND -2|0 AND 0|1000 AND 1006|1 AND 1000000};
SELECT id, customer_id FROM orders WHERE {customer_id = 7 AND id < 100|customer_id = 7 AND id = 5|id = 5 AND customer_id = 7|customer_id IN (SELECT 7)|customer_id = 7 AND customer_id = 13};
SELECT id, day FROM events WHERE day = {'2026-2-1'|'2026/02/01'|'20260201'|DATE('2026-02-01')|'2026-02-01' + INTERVAL 0 DAY|CAST('2026-02-01' AS DATE)} ORDER BY id;
SELECT COUNT(*) FROM events WHERE {YEAR(day) = 2026|MONTH(day) = 2|day LIKE '2026-02%'|day > '2026-01-31' AND day < '2026-02-02'|day IN ('2026-01-31', '2026-03-01')|day BETWEEN '2026-01-31' AND '2026-02-01'|day >= '2026-03-25'|day < '2026-01-10'|day = '2026-02-01' OR day = '2026-03-01'|day <> '2026-02-01'|day NOT BETWEEN '2026-02-01' AND '2026-02-28'};
SELECT id, city FROM shops WHERE {city IN ('Paris', 'paris')|city = 'Paris' OR city = 'Berlin'|city LIKE 'Par%'|city > 'M'|city = _utf8mb4'Paris'|city = 'Paris' COLLATE utf8mb4_bin|city = 'PARIS' COLLATE utf8mb4_bin|city <> 'Paris'|city IN ('Lima', 'Oslo')|city NOT IN ('Paris', 'Lyon', 'Berlin', 'Munich')|BINARY city = 'Paris'|city = CONCAT('Par', 'is')} ORDER BY id;
SELECT id, user_id FROM sessions WHERE {user_id IN (7, 8, 9, 10)|user_id BETWEEN 1 AND 10|user_id > 990|user_id = 7 OR user_id = 13|user_id < 0} ORDER BY id;
