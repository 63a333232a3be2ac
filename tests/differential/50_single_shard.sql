-- Constructs that touch one shard: UNION ALL of one key, derived tables, a UNION of a
-- broadcast table with a pinned sharded table, co-located joins pinned on one side.

SELECT id FROM customers WHERE id = 7 UNION ALL SELECT id FROM customers WHERE id = 7;
SELECT id FROM customers WHERE id = 7 UNION SELECT id FROM customers WHERE id = 7;
SELECT id, name FROM customers WHERE id = 7 UNION ALL SELECT id, name FROM customers WHERE id = 10;
SELECT t.id FROM (SELECT id FROM orders WHERE customer_id = 13) t;
SELECT t.id, t.amount FROM (SELECT id, amount FROM orders WHERE customer_id = 13) t ORDER BY t.id;
SELECT COUNT(*), SUM(t.amount) FROM (SELECT amount FROM orders WHERE customer_id = 13) t;
SELECT t.s FROM (SELECT status, COUNT(*) AS s FROM orders WHERE customer_id = 7 GROUP BY status) t;
SELECT id, name FROM products UNION ALL SELECT id, name FROM customers WHERE id = 7;
SELECT id, name FROM regions UNION ALL SELECT id, name FROM customers WHERE id = 13;
SELECT id FROM products UNION SELECT id FROM customers WHERE id = 7;
SELECT id FROM customers WHERE id = 7 UNION ALL SELECT id FROM products WHERE id < 5;
SELECT o.id, i.id FROM orders o JOIN order_items i ON i.customer_id = o.customer_id WHERE o.customer_id = 7;
SELECT o.id, i.id FROM orders o JOIN order_items i ON i.customer_id = o.customer_id AND i.order_id = o.id WHERE o.customer_id = 7;
SELECT o.id, i.id FROM orders o JOIN order_items i ON o.customer_id = i.customer_id WHERE i.customer_id = 13;
SELECT o.id, i.id FROM orders o, order_items i WHERE o.customer_id = i.customer_id AND o.id = i.order_id AND o.customer_id = 13;
SELECT COUNT(*) FROM orders o JOIN order_items i USING (customer_id) WHERE o.customer_id = 7;
SELECT o.id, i.id FROM orders o LEFT JOIN order_items i ON i.customer_id = o.customer_id AND i.order_id = o.id WHERE o.customer_id = 7;
SELECT o.status COLLATE utf8mb4_bin AS s, COUNT(*) FROM orders o WHERE o.customer_id = 7 GROUP BY s ORDER BY s;
SELECT customer_id, COUNT(*), SUM(amount), AVG(amount), MIN(amount), MAX(amount) FROM orders WHERE customer_id = 7 GROUP BY customer_id;
SELECT product_id, COUNT(*) FROM orders WHERE customer_id = 13 GROUP BY product_id HAVING COUNT(*) > 1;
SELECT id, ROW_NUMBER() OVER (ORDER BY amount, id) FROM orders WHERE customer_id = 7;
SELECT c.id, c.name, r.name FROM customers c LEFT JOIN regions r ON r.id = c.region_id WHERE c.id IN (7, 8, 9);
SELECT c.id, n.id FROM notes n JOIN customers c ON c.id = n.customer_id WHERE c.id = 7;
SELECT id FROM notes WHERE customer_id IN (SELECT id FROM customers WHERE id = 7);
SELECT * FROM orders WHERE customer_id = 7 AND product_id IN (SELECT id FROM products WHERE price > 100);
WITH t AS (SELECT id, amount FROM orders WHERE customer_id = 13) SELECT COUNT(*), SUM(amount) FROM t;
SELECT id, name FROM customers WHERE id = 7 AND city = (SELECT city FROM customers WHERE id = 7);
