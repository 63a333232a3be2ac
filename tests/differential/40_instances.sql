-- A key predicate binds to a table instance (an alias), not to the table name: a statement is
-- single-shard only when every instance of every sharded table is pinned to that shard.

SELECT COUNT(*) FROM customers a, customers b WHERE a.id = 7 AND b.id = 8;
SELECT a.id, b.id FROM customers a, customers b WHERE a.id = {7|1} AND b.id = {8|9|10};
SELECT a.id, a.name, b.id, b.name FROM customers a, customers b WHERE a.id = 7 AND b.id IN (8, 9, 10);
SELECT COUNT(*) FROM customers a JOIN customers b ON b.id = a.id + 1 WHERE a.id IN (1, 4, 7);
SELECT a.id, b.id FROM customers a JOIN customers b ON b.id = a.id + 1 WHERE a.id IN (1, 4, 7);
SELECT a.id, b.id FROM customers a JOIN customers b ON b.id = a.id + 3 WHERE a.id IN (1, 4, 7);
SELECT a.id, b.id FROM customers a JOIN customers b ON b.id = a.id WHERE a.id IN (1, 4, 7);
SELECT COUNT(*) FROM orders o JOIN orders b ON b.product_id = o.product_id WHERE o.customer_id = 7;
SELECT COUNT(*) FROM orders o JOIN orders b ON b.customer_id = o.customer_id WHERE o.customer_id = 7;
SELECT COUNT(*) FROM orders o JOIN orders b ON b.product_id = o.product_id WHERE o.customer_id = 7 AND b.customer_id = 7;
SELECT COUNT(*) FROM customers WHERE id = 7 AND EXISTS (SELECT 1 FROM customers c2 WHERE c2.id = 8);
SELECT id FROM customers WHERE id = 7 AND EXISTS (SELECT 1 FROM customers c2 WHERE c2.id = {7|8|2000});
SELECT id FROM customers WHERE id = 7 AND NOT EXISTS (SELECT 1 FROM customers c2 WHERE c2.id = 8);
SELECT id FROM customers WHERE id = 7 AND id IN (SELECT customer_id FROM orders WHERE customer_id = 7);
SELECT id FROM customers WHERE id = 8 AND id IN (SELECT customer_id FROM orders WHERE customer_id = 13);
SELECT id, (SELECT COUNT(*) FROM customers c2 WHERE c2.id = 8) FROM customers WHERE id = 7;
SELECT c.id, o.id FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.id = 7 AND o.customer_id = 7;
SELECT c.id, o.id FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.id = 13;
SELECT c.id, o.id FROM customers c, orders o WHERE c.id = 7 AND o.customer_id = 10;
SELECT c.id, o.id FROM customers c, orders o WHERE c.id = 7 AND o.customer_id = 13;
SELECT c.id, o.id FROM customers c LEFT JOIN orders o ON o.customer_id = c.id AND o.customer_id = 7 WHERE c.id = 7;
SELECT c1.id, c2.id, c3.id FROM customers c1, customers c2, customers c3 WHERE c1.id = 1 AND c2.id = 4 AND c3.id = 7;
SELECT c1.id, c2.id FROM customers c1, customers c2 WHERE c1.id = 3 AND c2.id = 6;
SELECT t.id FROM (SELECT id FROM customers WHERE id = 7) t JOIN customers c ON c.id = 8;
SELECT o.id, i.id FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.customer_id = 7 AND i.customer_id = 10;
SELECT a.id FROM customers a WHERE a.id = 7 UNION ALL SELECT b.id FROM customers b WHERE b.id = 8;
