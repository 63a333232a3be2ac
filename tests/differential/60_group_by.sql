-- GROUP BY across shards. Group keys shown in results are numbers, dates, binary or _bin
-- strings (a _ci group's displayed spelling is any member's, so those groups show aggregates
-- only); ORDER BY is total over the group keys.

SELECT region_id, COUNT(*) FROM customers GROUP BY region_id;
SELECT region_id, COUNT(*), COUNT(name), SUM(balance), MIN(balance), MAX(balance), AVG(balance) FROM customers GROUP BY region_id;
SELECT region_id, {COUNT(*)|SUM(balance)|MIN(balance)|MAX(big)|AVG(balance)|AVG(score)|SUM(points)|COUNT(DISTINCT city)|SUM(DISTINCT visits)|AVG(DISTINCT visits)|BIT_AND(visits)|BIT_OR(points)|BIT_XOR(visits)} AS agg FROM customers GROUP BY region_id ORDER BY region_id;
SELECT region_id, {COUNT(*)|SUM(balance)|AVG(balance)|MAX(points)} AS agg FROM customers GROUP BY region_id ORDER BY agg DESC, region_id;
SELECT product_id, COUNT(*), SUM(amount), SUM(qty * amount), MIN(ordered_at), MAX(total) FROM orders GROUP BY product_id ORDER BY product_id;
SELECT product_id, COUNT(*) AS n FROM orders GROUP BY product_id ORDER BY n DESC, product_id LIMIT {5|10 OFFSET 5|3, 4};
SELECT product_id, SUM(amount) AS s FROM orders GROUP BY product_id ORDER BY 2, 1;
SELECT product_id, SUM(amount) FROM orders GROUP BY product_id ORDER BY SUM(amount) DESC, product_id LIMIT 7;
SELECT product_id, COUNT(*) FROM orders GROUP BY product_id HAVING COUNT(*) > {40|45};
SELECT product_id, SUM(qty) FROM orders GROUP BY product_id HAVING SUM(qty) BETWEEN 300 AND 450 ORDER BY product_id;
SELECT product_id, AVG(amount) AS a FROM orders GROUP BY product_id HAVING a > 5000000000000 ORDER BY a, product_id;
SELECT product_id, SUM(amount) / COUNT(*) AS avg_amount, MAX(qty) - MIN(qty) AS spread FROM orders GROUP BY product_id ORDER BY product_id;
SELECT product_id, COUNT(DISTINCT customer_id), COUNT(DISTINCT status) FROM orders GROUP BY product_id ORDER BY product_id;
SELECT product_id, SUM(DISTINCT qty) FROM orders GROUP BY product_id ORDER BY product_id;
SELECT product_id, GROUP_CONCAT(id ORDER BY id SEPARATOR ',') FROM orders WHERE id < 300 GROUP BY product_id ORDER BY product_id;
SELECT product_id, GROUP_CONCAT(DISTINCT qty ORDER BY qty DESC) FROM orders GROUP BY product_id ORDER BY product_id;
SELECT region_id, GROUP_CONCAT(name ORDER BY name, id SEPARATOR '|') FROM customers WHERE id < 200 GROUP BY region_id ORDER BY region_id;
SELECT region_id, GROUP_CONCAT(id ORDER BY id DESC) FROM customers WHERE id < 50 GROUP BY region_id ORDER BY region_id;
SELECT product_id, GROUP_CONCAT(DISTINCT qty) FROM orders GROUP BY product_id ORDER BY product_id;
SELECT region_id, GROUP_CONCAT(DISTINCT city COLLATE utf8mb4_bin ORDER BY 1 SEPARATOR '/') FROM customers GROUP BY region_id ORDER BY region_id;
SELECT region_id, GROUP_CONCAT(id, ':', visits ORDER BY id) FROM customers WHERE id < 300 GROUP BY region_id ORDER BY region_id;
SELECT region_id, GROUP_CONCAT(id ORDER BY balance DESC, id LIMIT {3|0}) FROM customers GROUP BY region_id ORDER BY region_id;
SELECT GROUP_CONCAT(status ORDER BY status, id) FROM orders WHERE id < 100;
SELECT GROUP_CONCAT(name ORDER BY name DESC, id SEPARATOR '') AS g, COUNT(*) FROM customers WHERE id < 100;
SELECT product_id, CONCAT('[', GROUP_CONCAT(id ORDER BY id), ']') AS g FROM orders WHERE id < 200 GROUP BY product_id ORDER BY product_id;
SELECT product_id, COUNT(*) FROM orders WHERE id < 300 GROUP BY product_id HAVING GROUP_CONCAT(id ORDER BY id) LIKE '1%' ORDER BY product_id;
SELECT GROUP_CONCAT(id ORDER BY id), COUNT(*), SUM(qty) FROM orders WHERE id < 0;
SELECT customer_id % 7 AS k, GROUP_CONCAT(DISTINCT status ORDER BY status DESC) AS s, COUNT(DISTINCT product_id) FROM orders WHERE status COLLATE utf8mb4_bin = LOWER(status) GROUP BY k ORDER BY k;
SELECT product_id, GROUP_CONCAT(qty ORDER BY qty) AS g, SUM(qty) FROM orders WHERE id < 400 GROUP BY product_id ORDER BY product_id;
SELECT region_id, GROUP_CONCAT(tag ORDER BY id) AS t FROM customers WHERE id < 120 GROUP BY region_id ORDER BY region_id;
SELECT region_id, GROUP_CONCAT(born ORDER BY born, id), GROUP_CONCAT(score ORDER BY id) FROM customers WHERE id < 150 GROUP BY region_id ORDER BY region_id;
-- @approx: agg
SELECT region_id, {STDDEV(score)|VARIANCE(balance)|STDDEV_SAMP(visits)|VAR_POP(score)} AS agg FROM customers GROUP BY region_id ORDER BY region_id;
-- @approx: a, b
SELECT region_id, {STDDEV|STDDEV_POP|VARIANCE|VAR_SAMP}(balance) AS a, {STDDEV|VAR_POP}(points) AS b FROM customers GROUP BY region_id ORDER BY region_id;
-- @approx: v, w
SELECT product_id, STDDEV_SAMP(amount) AS v, VAR_POP(qty) AS w FROM orders GROUP BY product_id ORDER BY product_id;
SELECT product_id, BIT_AND(flags), BIT_OR(flags), BIT_XOR(flags) FROM orders GROUP BY product_id ORDER BY product_id;
SELECT customer_id, COUNT(*), SUM(amount) FROM orders GROUP BY customer_id;
SELECT customer_id, COUNT(*) AS n FROM orders GROUP BY customer_id ORDER BY n DESC, customer_id LIMIT 10;
SELECT customer_id, product_id, COUNT(*) FROM orders GROUP BY customer_id, product_id;
SELECT customer_id, SUM(qty) FROM order_items GROUP BY customer_id HAVING SUM(qty) > 30 ORDER BY customer_id;
SELECT id, COUNT(*) FROM customers GROUP BY id HAVING COUNT(*) > 1;
SELECT YEAR(born) AS y, COUNT(*) FROM customers GROUP BY y ORDER BY y;
SELECT DATE(ordered_at) AS d, COUNT(*), SUM(amount) FROM orders GROUP BY d ORDER BY d;
SELECT MONTH(ordered_at) AS m, COUNT(*) FROM orders GROUP BY m ORDER BY m;
SELECT status COLLATE utf8mb4_bin AS s, COUNT(*) FROM orders GROUP BY s ORDER BY s;
SELECT city COLLATE utf8mb4_bin AS c, COUNT(*) FROM customers GROUP BY c ORDER BY c;
SELECT name COLLATE utf8mb4_bin AS n, COUNT(*), MIN(id) FROM customers GROUP BY n ORDER BY n;
SELECT LOWER(TRIM(status)) AS s, COUNT(*) FROM orders GROUP BY s ORDER BY s;
SELECT COUNT(*), MIN(id), MAX(id) FROM customers GROUP BY name ORDER BY MIN(id);
SELECT COUNT(*), MIN(id) FROM customers GROUP BY city ORDER BY 2;
SELECT COUNT(*), SUM(amount), MIN(id) FROM orders GROUP BY status ORDER BY MIN(id);
SELECT COUNT(*) AS n FROM customers GROUP BY name HAVING n > 30 ORDER BY n, MIN(id);
SELECT code COLLATE utf8mb4_bin AS c, COUNT(*) FROM customers GROUP BY c;
SELECT tag, COUNT(*) FROM customers GROUP BY tag;
SELECT region_id, born IS NULL AS nb, COUNT(*) FROM customers GROUP BY region_id, nb ORDER BY region_id, nb;
SELECT CASE WHEN balance < 0 THEN 'neg' WHEN balance IS NULL THEN 'none' ELSE 'pos' END AS sign, COUNT(*), SUM(balance) FROM customers GROUP BY CASE WHEN balance < 0 THEN 'neg' WHEN balance IS NULL THEN 'none' ELSE 'pos' END ORDER BY sign;
SELECT region_id, COUNT(*) FROM customers GROUP BY region_id WITH ROLLUP;
SELECT region_id, SUM(balance), AVG(score) FROM customers GROUP BY region_id WITH ROLLUP;
SELECT product_id, YEAR(ordered_at), COUNT(*) FROM orders WHERE product_id < 5 GROUP BY product_id, YEAR(ordered_at) WITH ROLLUP;
SELECT region_id, COUNT(*) FROM customers WHERE id = 7 GROUP BY region_id;
SELECT customer_id, COUNT(*) FROM orders WHERE customer_id IN (7, 13) GROUP BY customer_id ORDER BY customer_id;
SELECT COUNT(*) FROM orders GROUP BY customer_id HAVING COUNT(*) > 100;
SELECT kind COLLATE utf8mb4_bin AS k, COUNT(*), SUM(value) FROM events GROUP BY k ORDER BY k;
SELECT day, COUNT(*) FROM events GROUP BY day ORDER BY day;
SELECT city, COUNT(*), SUM(revenue), AVG(rating) FROM shops GROUP BY city ORDER BY city;
SELECT user_id, COUNT(*), SUM(hits) FROM sessions GROUP BY user_id ORDER BY COUNT(*) DESC, user_id LIMIT 10;
SELECT category COLLATE utf8mb4_bin AS c, COUNT(*), SUM(price) FROM products GROUP BY c ORDER BY c;
SELECT customer_id, COUNT(*) FROM notes GROUP BY customer_id ORDER BY customer_id;

-- Expressions over merged aggregates and HAVING on the merged groups (evaluated by a backend
-- with the merged values as typed literals).
SELECT COUNT(DISTINCT customer_id), SUM(DISTINCT qty), AVG(DISTINCT qty), COUNT(DISTINCT product_id, qty) FROM orders;
SELECT COUNT(DISTINCT city), COUNT(DISTINCT name COLLATE utf8mb4_bin) FROM customers;
SELECT product_id, COUNT(*) * 2 + 1 AS x, ROUND(AVG(amount), 2) AS r, SUM(qty) DIV 3 AS d, MAX(qty) % 7 AS m FROM orders GROUP BY product_id ORDER BY product_id;
SELECT product_id, SUM(amount) / SUM(qty) AS per_unit FROM orders GROUP BY product_id ORDER BY per_unit DESC, product_id LIMIT 8;
SELECT product_id, COUNT(*) FROM orders GROUP BY product_id ORDER BY COUNT(DISTINCT customer_id) DESC, product_id LIMIT 6;
SELECT product_id FROM orders GROUP BY product_id ORDER BY SUM(qty) / COUNT(*), product_id;
SELECT product_id, COUNT(*) AS n FROM orders GROUP BY product_id HAVING n BETWEEN 30 AND 45 AND MIN(qty) >= 1 ORDER BY product_id;
SELECT product_id, SUM(qty) AS s FROM orders GROUP BY product_id HAVING s > 2 * AVG(qty) * 10 OR product_id = 3 ORDER BY product_id;
SELECT COUNT(*) AS n, SUM(amount) FROM orders HAVING n > {10|100000};
SELECT COUNT(*) FROM orders HAVING SUM(qty) > 0;
SELECT region_id, COUNT(*) FROM customers GROUP BY region_id HAVING MAX(name) > 'M' ORDER BY region_id;
SELECT region_id, COUNT(*) FROM customers GROUP BY region_id HAVING region_id IS NULL OR region_id > {2|4} ORDER BY region_id;
SELECT region_id, CONCAT(region_id, ':', COUNT(*)) AS label FROM customers GROUP BY region_id ORDER BY region_id;
SELECT region_id, IF(SUM(balance) > 0, 'up', 'down') AS trend, COUNT(*) - COUNT(born) AS no_birth FROM customers GROUP BY region_id ORDER BY region_id;
SELECT DATE(ordered_at) AS d, COUNT(*) FROM orders GROUP BY d HAVING MAX(ordered_at) > '2026-01-15' ORDER BY d;
SELECT product_id, SUM(amount) - SUM(total) AS diff FROM orders GROUP BY product_id ORDER BY product_id;
SELECT product_id, BIT_OR(flags) & 3 AS low FROM orders GROUP BY product_id ORDER BY product_id;
-- @approx: v
SELECT product_id, STDDEV(qty) * 2 AS v FROM orders GROUP BY product_id ORDER BY product_id;
-- @params: 40
SELECT product_id, COUNT(*) FROM orders GROUP BY product_id HAVING COUNT(*) > ? ORDER BY product_id;
-- @params: 3, 5
SELECT product_id, COUNT(*) + ? AS c FROM orders WHERE qty > ? GROUP BY product_id ORDER BY product_id;
SELECT product_id, COUNT(*) FROM orders GROUP BY product_id HAVING COUNT(*) > (SELECT 40) ORDER BY product_id;
SELECT product_id, RAND() * COUNT(*) FROM orders GROUP BY product_id;
SELECT product_id, COUNT(*) FROM orders GROUP BY product_id HAVING qty > 1;
