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
