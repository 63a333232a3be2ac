-- Joins with broadcast tables (pushed down), across shards (executed or refused), and
-- uncorrelated subqueries.

SELECT c.id, r.name FROM customers c JOIN regions r ON r.id = c.region_id;
SELECT c.id, r.name FROM customers c JOIN regions r ON r.id = c.region_id ORDER BY r.name, c.id;
SELECT c.id, r.name FROM customers c LEFT JOIN regions r ON r.id = c.region_id WHERE c.id < 100;
SELECT r.name, COUNT(*) FROM customers c JOIN regions r ON r.id = c.region_id GROUP BY r.id, r.name ORDER BY r.id;
SELECT o.id, p.name, p.price FROM orders o JOIN products p ON p.id = o.product_id WHERE o.id < 200;
SELECT o.id, p.category FROM orders o JOIN products p ON p.id = o.product_id ORDER BY o.id LIMIT 50;
SELECT COUNT(*), SUM(p.price * o.qty) FROM orders o JOIN products p ON p.id = o.product_id;
SELECT o.id, i.id, p.name FROM orders o JOIN order_items i ON i.customer_id = o.customer_id AND i.order_id = o.id JOIN products p ON p.id = i.product_id WHERE o.customer_id = 7;
SELECT o.id, i.id FROM orders o JOIN order_items i ON i.customer_id = o.customer_id AND i.order_id = o.id;
SELECT COUNT(*) FROM orders o JOIN order_items i ON i.customer_id = o.customer_id;
SELECT o.id, i.id FROM orders o JOIN order_items i ON i.customer_id = o.customer_id AND i.order_id = o.id ORDER BY o.id, i.id LIMIT 40;
SELECT o.customer_id, COUNT(*) FROM orders o JOIN order_items i ON i.customer_id = o.customer_id AND i.order_id = o.id GROUP BY o.customer_id;
SELECT c.id, o.id FROM customers c JOIN orders o ON o.customer_id = c.id;
SELECT c.id, o.id FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.id IN (7, 8, 9);
SELECT c.name, o.id FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.id < 20;
SELECT COUNT(*) FROM customers c JOIN orders o ON o.customer_id = c.id;
SELECT c.id, s.id FROM customers c JOIN sessions s ON s.user_id = c.id WHERE c.id < 20;
SELECT e.id, c.name FROM events e JOIN customers c ON c.id = e.customer_id WHERE e.id < 20;
SELECT s.id, sh.id FROM shops sh JOIN sessions s ON s.id = sh.id WHERE sh.id < 10;
SELECT n.id, c.name FROM notes n JOIN customers c ON c.id = n.customer_id;
SELECT n.id, r.name FROM notes n JOIN regions r ON r.id = n.id;
SELECT id, name FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE amount > 9990000000000);
SELECT id FROM customers WHERE id IN (SELECT customer_id FROM notes);
SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM orders) AND id < 100;
SELECT id FROM orders WHERE product_id IN (SELECT id FROM products WHERE category = 'books');
SELECT id FROM orders WHERE product_id IN (SELECT id FROM products WHERE category = 'books') ORDER BY id LIMIT 30;
SELECT id, amount FROM orders WHERE amount > (SELECT AVG(amount) FROM orders) ORDER BY amount DESC, id LIMIT 10;
SELECT id FROM customers WHERE balance = (SELECT MAX(balance) FROM customers);
SELECT (SELECT COUNT(*) FROM customers), (SELECT COUNT(*) FROM orders);
SELECT (SELECT MAX(id) FROM customers) AS m;
SELECT id FROM customers WHERE region_id = (SELECT id FROM regions WHERE name = 'Bayern');
SELECT id FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.qty > 18) AND c.id < 200;
SELECT id, (SELECT name FROM regions r WHERE r.id = c.region_id) AS rn FROM customers c WHERE id < 50;
SELECT id, (SELECT COUNT(*) FROM orders o WHERE o.customer_id = c.id) AS n FROM customers c WHERE id < 50;
SELECT t.region_id, t.n FROM (SELECT region_id, COUNT(*) AS n FROM customers GROUP BY region_id) t ORDER BY t.region_id;
SELECT MAX(t.n) FROM (SELECT customer_id, COUNT(*) AS n FROM orders GROUP BY customer_id) t;
SELECT t.id FROM (SELECT id FROM customers ORDER BY id DESC LIMIT 5) t;
WITH big AS (SELECT id FROM orders WHERE amount > 9000000000000) SELECT COUNT(*) FROM big;
WITH c AS (SELECT id, region_id FROM customers) SELECT region_id, COUNT(*) FROM c GROUP BY region_id;

-- Uncorrelated subqueries across shards (issue 13): each is evaluated first through the proxy,
-- its rows written into the statement as literals of the column's type.
SELECT id FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE qty > 18) ORDER BY id;
SELECT id FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE qty > 18 AND id < 500) AND id IN (SELECT customer_id FROM order_items WHERE qty > 5) ORDER BY id;
SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM orders WHERE qty > 10) AND id < 60 ORDER BY id;
SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM notes) AND id < 60;
SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM notes WHERE customer_id IS NOT NULL) AND id < 60 ORDER BY id;
SELECT COUNT(*) FROM customers WHERE region_id {IN|NOT IN} (SELECT qty FROM orders WHERE id < 40);
SELECT COUNT(*) FROM customers WHERE (region_id {IN|NOT IN} (SELECT qty FROM orders WHERE id < 40)) IS NULL;
SELECT COUNT(*) FROM customers WHERE (region_id {IN|NOT IN} (SELECT customer_id FROM orders WHERE amount > 99990000000000)) IS {NULL|TRUE|FALSE};
SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM orders WHERE amount > 99990000000000) AND id < 20 ORDER BY id;
SELECT id FROM customers WHERE (id, region_id) IN (SELECT customer_id, qty FROM orders) ORDER BY id;
SELECT id FROM customers WHERE (id, region_id) NOT IN (SELECT customer_id, qty FROM orders WHERE id < 300) AND id < 40 ORDER BY id;
SELECT id FROM customers WHERE (id, region_id) IN (SELECT customer_id FROM orders);
SELECT id FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE id IN (SELECT order_id FROM order_items WHERE qty > 15)) AND id < 300 ORDER BY id;
SELECT region_id, COUNT(*) FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE qty > 15) GROUP BY region_id ORDER BY region_id;
SELECT id FROM customers WHERE id IN (SELECT customer_id FROM orders LIMIT 5);
SELECT id FROM customers WHERE id = (SELECT customer_id FROM orders WHERE id = 5);
SELECT id FROM customers WHERE id = (SELECT customer_id FROM orders WHERE id = -1);
SELECT id FROM customers WHERE id = (SELECT MAX(customer_id) FROM orders WHERE qty > 100);
SELECT id FROM customers WHERE balance > (SELECT balance FROM customers WHERE id < 1);
SELECT id FROM customers WHERE balance > (SELECT AVG(balance) FROM customers) AND id < 100 ORDER BY id;
SELECT id, amount FROM orders WHERE amount < (SELECT AVG(amount) FROM orders) / 1000 ORDER BY amount, id LIMIT 10;
SELECT id FROM orders WHERE total = (SELECT MAX(total) FROM orders);
SELECT id FROM orders WHERE weight = (SELECT MIN(weight) FROM orders) ORDER BY id;
SELECT id FROM orders WHERE flags > (SELECT AVG(points) FROM customers) ORDER BY id LIMIT 5;
SELECT id FROM orders WHERE ordered_at < (SELECT MIN(at) FROM events) ORDER BY id LIMIT 20;
SELECT COUNT(*) FROM customers WHERE {EXISTS|NOT EXISTS} (SELECT 1 FROM orders WHERE qty > 18);
SELECT COUNT(*) FROM customers WHERE {EXISTS|NOT EXISTS} (SELECT * FROM orders WHERE amount > 99990000000000);
SELECT id FROM customers WHERE id < 30 AND EXISTS (SELECT customer_id, COUNT(*) FROM orders GROUP BY customer_id HAVING COUNT(*) > 100) ORDER BY id;
-- @plan-flags
SELECT id FROM customers WHERE city IN (SELECT city FROM shops WHERE id < 20) ORDER BY id;
SELECT id FROM customers WHERE code IN (SELECT code FROM customers WHERE id < 30) AND id < 200 ORDER BY id;
SELECT id FROM customers WHERE name = (SELECT name FROM customers WHERE id = 17) ORDER BY id;
SELECT id FROM customers WHERE 'x' IN (SELECT name FROM customers WHERE id < 30);
SELECT id FROM sessions WHERE token IN (SELECT tag FROM customers WHERE id < 300) ORDER BY id;
SELECT id FROM customers WHERE born IN (SELECT day FROM events) ORDER BY id;
SELECT id FROM customers WHERE score IN (SELECT weight FROM orders) ORDER BY id;
SELECT id FROM customers WHERE big IN (SELECT total FROM orders) OR balance IN (SELECT amount FROM orders WHERE id < 100) ORDER BY id;
SELECT id FROM customers WHERE points IN (SELECT flags FROM orders) ORDER BY id;
SELECT id FROM customers WHERE id = ANY (SELECT customer_id FROM orders WHERE qty > 18) ORDER BY id;
SELECT id FROM customers WHERE id <> ALL (SELECT customer_id FROM orders WHERE qty > 2) AND id < 100 ORDER BY id;
SELECT id FROM customers WHERE id > ALL (SELECT customer_id FROM orders WHERE qty > 18) ORDER BY id;
SELECT id FROM customers WHERE id < ANY (SELECT region_id FROM customers WHERE id < 10) ORDER BY id;
SELECT id FROM customers WHERE id >= ALL (SELECT region_id FROM customers WHERE id < 10) AND id < 20 ORDER BY id;
SELECT customer_id, COUNT(*) FROM orders GROUP BY customer_id HAVING COUNT(*) > (SELECT AVG(qty) FROM orders) / 3 ORDER BY customer_id;
SELECT o.id, i.id FROM orders o JOIN order_items i ON i.customer_id = o.customer_id AND i.order_id = o.id AND i.qty > (SELECT AVG(qty) FROM order_items) WHERE o.customer_id < 50 ORDER BY o.id, i.id;
SELECT t.id FROM (SELECT id FROM customers WHERE id = 7) t WHERE t.id IN (SELECT customer_id FROM orders);
SELECT id FROM customers c WHERE c.id IN (SELECT o.customer_id FROM orders o WHERE o.qty > c.region_id) AND c.id < 100;
SELECT id FROM customers c WHERE id IN (SELECT customer_id FROM orders WHERE qty > region_id) AND c.id < 100;
-- @params: 18, 300
SELECT id FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE qty > ?) AND id < ? ORDER BY id;
-- @params: 99990000000000
SELECT COUNT(*) FROM customers WHERE id NOT IN (SELECT customer_id FROM orders WHERE amount > ?);
-- @params: 17
SELECT id FROM customers WHERE name = (SELECT name FROM customers WHERE id = ?) ORDER BY id;
-- @params: 0
SELECT id FROM customers WHERE balance > (SELECT balance FROM customers WHERE id < ?);
SELECT id FROM events WHERE at IN (SELECT ordered_at FROM orders) ORDER BY id;
SELECT id FROM customers WHERE created IN (SELECT at FROM events) ORDER BY id;
SELECT id FROM customers WHERE tag IN (SELECT tag FROM customers WHERE id < 100 OR id > 1000) ORDER BY id;
-- @plan-flags
SELECT id FROM customers WHERE name IN (SELECT name FROM customers WHERE id < 40) AND id < 300 ORDER BY id;
SELECT id FROM shops WHERE city IN (SELECT city FROM customers WHERE id < 50) ORDER BY id;
SELECT id FROM events WHERE day IN (SELECT born FROM customers WHERE id < 300) ORDER BY id;
SELECT id FROM events WHERE day = (SELECT MAX(day) FROM events WHERE kind = 'click') ORDER BY id;
SELECT id FROM sessions WHERE user_id IN (SELECT id FROM customers WHERE id < 20) ORDER BY id;
SELECT id FROM customers WHERE score > ALL (SELECT weight FROM orders WHERE id < 50) ORDER BY id;
SELECT id FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE id < 10) OR id IN (SELECT customer_id FROM order_items WHERE id < 10) ORDER BY id;
SELECT id FROM customers WHERE big > (SELECT AVG(big) FROM customers) AND id < 100 ORDER BY id;
SELECT id FROM customers WHERE points >= (SELECT MAX(flags) FROM orders WHERE id < 100) ORDER BY id;
