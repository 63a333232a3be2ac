-- UNION / UNION ALL across shards, with ORDER BY and LIMIT on the whole.

SELECT id FROM customers WHERE id < 10 UNION ALL SELECT customer_id FROM orders WHERE id < 10;
SELECT id FROM customers WHERE id < 10 UNION SELECT customer_id FROM orders WHERE id < 50;
SELECT id FROM customers WHERE id < 10 UNION ALL SELECT customer_id FROM orders WHERE id < 10 ORDER BY 1 LIMIT 5;
SELECT id, 'c' AS src FROM customers WHERE id < 20 UNION ALL SELECT id, 'o' FROM orders WHERE id < 20 ORDER BY id, src;
SELECT id, 'c' AS src FROM customers WHERE id < 20 UNION ALL SELECT id, 'o' FROM orders WHERE id < 20 ORDER BY id DESC, src LIMIT 10 OFFSET 3;
SELECT id FROM customers UNION SELECT customer_id FROM orders;
SELECT id FROM customers UNION ALL SELECT id FROM orders;
SELECT product_id FROM orders UNION SELECT product_id FROM order_items;
SELECT product_id FROM orders UNION SELECT id FROM products ORDER BY 1;
SELECT id, name FROM products UNION ALL SELECT id, name FROM regions;
SELECT id, name FROM products UNION ALL SELECT id, name FROM shops WHERE id < 30;
SELECT CAST(name AS BINARY) FROM customers WHERE id < 100 UNION SELECT CAST(name AS BINARY) FROM shops;
SELECT day FROM events WHERE id < 100 UNION SELECT DATE(ordered_at) FROM orders WHERE id < 100 ORDER BY 1;
SELECT amount FROM orders WHERE customer_id = 7 UNION ALL SELECT balance FROM customers WHERE id < 50 ORDER BY 1;
SELECT id, amount AS v FROM orders WHERE customer_id = 7 UNION ALL SELECT id, balance FROM customers WHERE id < 50 ORDER BY v, id;
(SELECT id FROM customers ORDER BY id LIMIT 3) UNION ALL (SELECT id FROM orders ORDER BY id DESC LIMIT 3);
SELECT COUNT(*) FROM (SELECT id FROM customers UNION ALL SELECT id FROM orders) t;
SELECT COUNT(*) FROM (SELECT customer_id FROM orders UNION SELECT id FROM customers) t;
SELECT id FROM customers WHERE id = 7 UNION ALL SELECT id FROM customers WHERE id = 8;
SELECT id FROM customers WHERE id IN (7, 8) UNION SELECT id FROM customers WHERE id IN (8, 9) ORDER BY id;
SELECT id FROM notes UNION ALL SELECT id FROM customers WHERE id < 5;
SELECT id, name FROM customers WHERE id < 30 UNION ALL SELECT id, name FROM customers WHERE id > 990 ORDER BY name, id;
SELECT id, city, 'c' AS src FROM customers WHERE id < 30 UNION ALL SELECT id, city, 's' FROM shops ORDER BY city, id, src LIMIT 20;
SELECT id FROM customers WHERE id < 5 EXCEPT SELECT customer_id FROM orders;
SELECT id FROM customers WHERE id < 50 INTERSECT SELECT customer_id FROM orders;

-- Column types of a UNION's result: the metadata is the UNION's, not the derived table's.
SELECT score FROM customers WHERE id < 50 UNION ALL SELECT weight FROM orders WHERE id < 50 ORDER BY 1;
SELECT born FROM customers WHERE id < 100 UNION SELECT day FROM events ORDER BY 1 LIMIT 10;
SELECT born FROM customers WHERE id < 100 UNION SELECT created FROM customers WHERE id < 100 ORDER BY 1 DESC LIMIT 10;
SELECT points FROM customers UNION SELECT flags FROM orders ORDER BY 1 DESC LIMIT 7;
SELECT big FROM customers WHERE id < 300 UNION ALL SELECT total FROM orders WHERE id < 300 ORDER BY 1 LIMIT 20;
SELECT tag FROM customers UNION SELECT token FROM sessions ORDER BY 1;
SELECT visits, balance FROM customers WHERE id < 30 UNION ALL SELECT qty, amount FROM orders WHERE id < 30 ORDER BY 2, 1;
SELECT id, NULL AS n FROM customers WHERE id < 5 UNION ALL SELECT id, name FROM shops WHERE id < 5 ORDER BY 1, 2;
-- Text compared as the UNION's collation compares it (weight strings of the UNION's columns).
-- @mask: name
SELECT name FROM customers UNION SELECT name FROM shops ORDER BY 1;
-- @mask: city
SELECT city FROM customers WHERE id < 200 UNION ALL SELECT city FROM shops ORDER BY city LIMIT 40;
SELECT code FROM customers UNION SELECT status FROM orders ORDER BY 1;
-- @mask: status
SELECT DISTINCT status FROM orders UNION SELECT kind FROM events ORDER BY 1;
-- @mask: status
SELECT status FROM orders UNION SELECT kind FROM events;
SELECT CAST(name AS BINARY) AS b FROM customers WHERE id < 100 UNION SELECT CAST(name AS BINARY) FROM shops ORDER BY b;
-- Broadcast tables and no table: their rows once, not once per shard.
SELECT id, name FROM customers WHERE id < 20 UNION ALL SELECT id, name FROM products WHERE id < 20 ORDER BY id, name;
SELECT id, name FROM regions UNION ALL SELECT id, name FROM customers WHERE id < 10 ORDER BY 1, 2;
SELECT * FROM regions UNION ALL SELECT id, name FROM customers WHERE id < 10 ORDER BY id, name;
SELECT 1 AS x UNION ALL SELECT id FROM customers WHERE id < 4 ORDER BY x;
SELECT id FROM customers WHERE id < 4 UNION ALL SELECT 1 UNION ALL SELECT 2 ORDER BY 1;
SELECT id FROM customers WHERE id < 4 UNION ALL SELECT id FROM regions;
SELECT c.id, r.name FROM customers c JOIN regions r ON r.id = c.region_id WHERE c.id < 40 UNION SELECT s.id, s.city FROM shops s WHERE s.id < 40 ORDER BY 1, 2 LIMIT 25;
-- Co-located joins, mixed UNION / UNION ALL, parentheses.
SELECT o.id, i.qty FROM orders o JOIN order_items i ON i.customer_id = o.customer_id AND i.order_id = o.id WHERE o.id < 30 UNION ALL SELECT id, visits FROM customers WHERE id < 30 ORDER BY 1, 2;
SELECT id FROM customers WHERE id < 10 UNION ALL SELECT customer_id FROM orders WHERE id < 10 UNION SELECT id FROM shops WHERE id < 5 ORDER BY 1;
SELECT id FROM customers WHERE id < 10 UNION SELECT customer_id FROM orders WHERE id < 10 UNION ALL SELECT id FROM shops WHERE id < 5;
(SELECT id FROM customers WHERE id < 5) UNION ALL (SELECT id FROM orders WHERE id < 5) ORDER BY id;
SELECT id FROM customers WHERE id < 5 UNION ALL (SELECT id FROM orders WHERE id < 5 UNION SELECT id FROM shops WHERE id < 5);
SELECT id FROM customers WHERE id < 5 UNION (SELECT id FROM orders WHERE id < 5 UNION ALL SELECT id FROM shops WHERE id < 5) ORDER BY 1;
SELECT id, day FROM events WHERE day < '2026-01-20' UNION ALL SELECT id, day FROM events WHERE day >= '2026-03-20' ORDER BY day, id;
SELECT id, city FROM shops WHERE city = 'Paris' UNION ALL SELECT id, city FROM shops WHERE city = 'Tokyo' ORDER BY id;
-- LIMIT with OFFSET, DISTINCT and positions, parameters.
SELECT customer_id FROM orders UNION SELECT id FROM customers ORDER BY 1 DESC LIMIT 5, 10;
SELECT id, amount FROM orders WHERE amount > 100 UNION ALL SELECT id, balance FROM customers WHERE balance > 100 ORDER BY amount DESC, id LIMIT 3, 12;
-- @params: 20, 20, 7
SELECT id FROM customers WHERE id < ? UNION ALL SELECT customer_id FROM orders WHERE id < ? ORDER BY 1 LIMIT ?;
-- @params: 'Paris', 3
SELECT id, city FROM shops WHERE city = ? UNION SELECT id, city FROM customers WHERE id < 50 ORDER BY id, city LIMIT ?;
-- Refused: a SELECT that is not one shard's rows, an expression as a key, repeated names.
SELECT customer_id, COUNT(*) FROM orders GROUP BY customer_id UNION ALL SELECT id, 1 FROM customers;
SELECT DISTINCT status FROM orders UNION ALL SELECT kind FROM events;
SELECT id FROM customers UNION ALL SELECT customer_id FROM orders ORDER BY id + 0;
SELECT id, name, name FROM customers WHERE id < 5 UNION ALL SELECT id, name, city FROM shops ORDER BY 1;
SELECT c.id FROM customers c JOIN orders o ON o.id = c.id UNION ALL SELECT id FROM shops;
SELECT id FROM customers WHERE id IN (SELECT customer_id FROM orders) UNION SELECT id FROM shops;
SELECT id, ROW_NUMBER() OVER (ORDER BY id) FROM customers UNION ALL SELECT id, 1 FROM shops;
SELECT SQL_CALC_FOUND_ROWS id FROM customers WHERE id < 5 UNION ALL SELECT customer_id FROM orders WHERE id < 5 ORDER BY 1 LIMIT 2;
