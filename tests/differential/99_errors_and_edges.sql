-- Errors must carry the plain server's code; odd literals in key predicates must answer what
-- MariaDB answers (or be refused with 1235), never another error.

SELECT nope FROM customers;
SELECT nope FROM customers WHERE id = 7;
SELECT * FROM nope;
SELECT * FROM customers WHERE;
SELECT id FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.id = 7 AND id = 7;
SELECT COUNT(*) FROM customers GROUP BY nope;
SELECT * FROM customers WHERE id = 7 ORDER BY 99;
SELECT id FROM customers UNION SELECT id, name FROM orders;
SELECT * FROM shops WHERE city = 'Paris' AND nope = 1;
SELECT points + 18446744073709551615 FROM customers WHERE id = {7|8};
SELECT * FROM customers WHERE id = {'42abc'|'4.2e1'|'42.5'|' 42 '|'+42'|42.0|99999999999999999999|-99999999999999999999};
SELECT * FROM events WHERE day = {'not a date'|'2026-02-30'|'2026-02-01 00:00:00'|'2026-02-01 10:00:00'|20260201};
SELECT * FROM shops WHERE city = {'PARIS'|'Paris '|' Paris'|'Rome'|42};
SELECT * FROM sessions WHERE user_id = {'7'|7.0|'x'};
SELECT MIN(code), MAX(code) FROM customers;
SELECT MIN(name) FROM customers;
SELECT MAX(city) FROM customers WHERE city NOT LIKE 'Z%';
SELECT MIN(status COLLATE utf8mb4_bin), MAX(status COLLATE utf8mb4_bin) FROM orders;
SELECT id, balance FROM customers ORDER BY balance IS NULL, balance, id;
SELECT id, name FROM customers ORDER BY name IS NULL DESC, name DESC, id LIMIT 30;
SELECT id, region_id, born FROM customers ORDER BY region_id DESC, born, id LIMIT 50 OFFSET 20;
SELECT 1 / 0, id FROM customers WHERE id = 7;
SELECT id, name FROM customers WHERE id IN (SELECT 7) ORDER BY id;
-- A DATE key in the other forms MariaDB reads as the same date: routed to that date's shard.
SELECT id, day FROM events WHERE day BETWEEN '2026/1/15' AND 20260201 ORDER BY id;
SELECT id, day FROM events WHERE day IN ('2026-2-1', '20260202') ORDER BY id;
