-- Statement shapes: identifiers, comments, hidden sort columns, aggregates with HAVING and no
-- GROUP BY, LIMIT 0, a schema-qualified table.

SELECT `id`, `name` FROM `customers` WHERE `id` = 7;
SELECT ID, Name FROM customers WHERE Id = 7;
SELECT id FROM diff.customers WHERE id = {7|8};
SELECT c.id FROM diff.customers AS c WHERE c.id IN (7, 8, 9);
SELECT /* a comment */ id FROM customers WHERE id = 7 -- trailing
;
SELECT id FROM customers WHERE id = 7 /* after */;
SELECT id FROM customers ORDER BY {balance|big|points|score|born|created|tag|visits} {ASC|DESC}, id LIMIT 10;
SELECT id FROM orders ORDER BY amount * qty, id LIMIT 10;
SELECT id, customer_id FROM orders ORDER BY customer_id DESC, id DESC LIMIT 25 OFFSET 100;
SELECT id AS k FROM customers ORDER BY k DESC LIMIT 3;
SELECT id, balance AS b FROM customers ORDER BY b, 1 LIMIT 10;
SELECT * FROM customers ORDER BY 1 LIMIT 5;
SELECT id FROM customers ORDER BY id LIMIT 0;
SELECT id FROM customers WHERE id = 7 LIMIT 0;
SELECT COUNT(*) FROM customers HAVING COUNT(*) > {5|5000};
SELECT SUM(amount) FROM orders HAVING SUM(amount) > 0;
SELECT MAX(id) AS m FROM customers HAVING m > 0;
SELECT COUNT(*) FROM customers LIMIT 1;
SELECT COUNT(*), MAX(id) FROM customers WHERE id < 0;
SELECT COUNT(*), SUM(balance), MIN(name), MAX(born) FROM customers WHERE id > 100000000000000000;
SELECT SUM(amount) FROM orders WHERE 1 = 0;
SELECT DISTINCT region_id FROM customers ORDER BY region_id LIMIT 3;
SELECT DISTINCT region_id FROM customers ORDER BY region_id DESC LIMIT 2 OFFSET 1;
SELECT DISTINCT region_id, YEAR(born) AS y FROM customers ORDER BY region_id, y;
SELECT DISTINCT qty, product_id FROM orders WHERE customer_id IN (7, 8);
SELECT id, id FROM customers WHERE id < 5 ORDER BY id;
SELECT id, name AS id2, id + 0 AS x FROM customers WHERE id < 5 ORDER BY x;
SELECT NULL AS n, id FROM customers WHERE id < 5 ORDER BY id;
SELECT id, IF(balance > 0, 'pos', 'neg') AS sign, COALESCE(city, '?') AS c FROM customers WHERE id < 40 ORDER BY id;
SELECT id, CASE WHEN visits IS NULL THEN -1 ELSE visits END AS v FROM customers ORDER BY v, id LIMIT 20;
SELECT id, DATE_FORMAT(created, '%Y-%m') AS ym, DATEDIFF(created, born) FROM customers WHERE id < 30 ORDER BY id;
SELECT id, CAST(points AS CHAR), CAST(balance AS SIGNED), CAST(score AS DECIMAL(10,2)) FROM customers WHERE id < 30 ORDER BY id;
SELECT id FROM customers WHERE id = 7 FOR UPDATE;
SELECT id FROM customers WHERE id = 7 LOCK IN SHARE MODE;
SELECT SQL_NO_CACHE id FROM customers WHERE id = 7;
SELECT STRAIGHT_JOIN o.id, p.id FROM orders o JOIN products p ON p.id = o.product_id WHERE o.customer_id = 7;
SELECT HIGH_PRIORITY id FROM customers WHERE id = 7;
