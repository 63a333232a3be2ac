-- Exact numbers across shards: DECIMAL (up to 65 digits) and BIGINT UNSIGNED are added and
-- compared exactly, DOUBLE stays double (the data's doubles are multiples of 0.25, so sums are
-- exact in any order).

SELECT SUM(qty * amount) FROM orders;
SELECT SUM(amount), SUM(total), SUM(weight), SUM(flags), SUM(qty) FROM orders;
SELECT SUM(balance), SUM(big), SUM(score), SUM(visits), SUM(points) FROM customers;
SELECT COUNT(*), COUNT(balance), MIN(balance), MAX(balance) FROM customers;
SELECT MIN(big), MAX(big), MIN(points), MAX(points), MIN(score), MAX(score) FROM customers;
SELECT MIN(amount), MAX(amount), MIN(total), MAX(total), MIN(flags), MAX(flags) FROM orders;
SELECT MIN(born), MAX(born), MIN(created), MAX(created) FROM customers;
SELECT MIN(tag), MAX(tag) FROM customers;
SELECT AVG(balance) FROM customers;
SELECT AVG(big), AVG(score), AVG(points), AVG(visits) FROM customers;
SELECT AVG(amount), AVG(qty), AVG(weight) FROM orders;
SELECT SUM(amount) / COUNT(*), SUM(amount) / COUNT(amount) FROM orders;
SELECT SUM(balance) + 1, SUM(big) * 2, COUNT(*) * 3, MAX(points) - MIN(points) FROM customers;
SELECT SUM(amount) FROM orders WHERE customer_id = {7|13};
SELECT SUM(amount), COUNT(*) FROM orders WHERE customer_id IN (7, 13, 1, 2);
SELECT SUM(points) FROM customers WHERE points > 1000000;
SELECT SUM(points), COUNT(points) FROM customers WHERE id < 500;
SELECT SUM(total) FROM orders WHERE total < 0;
SELECT SUM(-balance) FROM customers;
SELECT SUM(score * 4), SUM(score) / 4 FROM customers;
SELECT COUNT(*) FROM orders WHERE amount * qty > 100000000000000;
SELECT id, 10000000000000000 + id / 100 AS k FROM customers ORDER BY k DESC, id LIMIT 20;
SELECT id FROM customers ORDER BY 10000000000000000 + id / 100 DESC, id LIMIT 20;
SELECT id FROM customers ORDER BY 10000000000000000 + id / 100, id LIMIT 20;
SELECT id, big FROM customers ORDER BY big, id;
SELECT id, big FROM customers ORDER BY big DESC, id LIMIT 15;
SELECT id, points FROM customers ORDER BY points DESC, id LIMIT 15;
SELECT id, points FROM customers ORDER BY points, id;
SELECT id, balance FROM customers ORDER BY balance, id;
SELECT id, score FROM customers ORDER BY score DESC, id;
SELECT id, total FROM orders ORDER BY total, id LIMIT 30;
SELECT id, amount * qty AS v FROM orders ORDER BY v DESC, id LIMIT 30;
SELECT id, flags FROM orders ORDER BY flags DESC, id LIMIT 30;
SELECT id, weight FROM orders ORDER BY weight, id LIMIT 30;
SELECT id, born FROM customers ORDER BY born, id;
SELECT id, created FROM customers ORDER BY created DESC, id;
SELECT id, visits FROM customers ORDER BY visits, id LIMIT 40 OFFSET 10;
SELECT id, balance, big FROM customers ORDER BY balance DESC, big, id LIMIT 25;
SELECT id, CAST(balance AS CHAR) AS s FROM customers ORDER BY s, id LIMIT 20;
SELECT id, -id AS m FROM customers ORDER BY m, id LIMIT 10;
SELECT id, points + 1 FROM customers WHERE points < 18446744073709551615 ORDER BY id LIMIT 10;
SELECT {BIT_AND|BIT_OR|BIT_XOR}(flags) FROM orders;
SELECT {BIT_AND|BIT_OR|BIT_XOR}(visits) FROM customers;
-- @approx: v
SELECT {STDDEV|STDDEV_POP|STDDEV_SAMP|VARIANCE|VAR_POP|VAR_SAMP}({balance|score|visits}) AS v FROM customers;
SELECT COUNT(DISTINCT product_id), SUM(DISTINCT qty), AVG(DISTINCT qty) FROM orders;
SELECT COUNT(DISTINCT customer_id) FROM orders;
SELECT GROUP_CONCAT(id ORDER BY id SEPARATOR ',') FROM customers WHERE id < 30;
SELECT GROUP_CONCAT(name ORDER BY name, id SEPARATOR ' | ') FROM customers WHERE id BETWEEN 1 AND 40;
-- The edge rows (customers 1001-1006, orders 2001-2003, one per shard in turn): values f64
-- cannot tell apart.
SELECT id, big FROM customers WHERE id > 1000 ORDER BY big {ASC|DESC}, id;
SELECT id, balance FROM customers WHERE id > 1000 ORDER BY balance {ASC|DESC}, id;
SELECT id, points FROM customers WHERE id > 1000 ORDER BY points {ASC|DESC}, id;
SELECT {MIN|MAX|SUM}(big), {MIN|MAX|SUM}(balance) FROM customers WHERE id > 1000;
SELECT MIN(points), MAX(points), SUM(points) FROM customers WHERE id > 1000;
SELECT id, amount, total FROM orders WHERE id > 2000 ORDER BY amount DESC, id;
SELECT id, total FROM orders WHERE id > 2000 ORDER BY total DESC, id;
SELECT MAX(amount), MIN(amount), SUM(amount), MAX(total), SUM(total) FROM orders WHERE id > 2000;
SELECT DISTINCT amount FROM orders WHERE id > 2000;
SELECT DISTINCT big FROM customers WHERE id > 1000;
