-- Writes, run in this order on both servers after the read corpus (so keep them supported by
-- the proxy: a refused write leaves the two servers apart). Compared: each OK packet (affected
-- rows, `Rows matched: .. Changed: ..` info, warnings), then every table's rows.

UPDATE customers SET visits = visits + 1 WHERE id = 7;
UPDATE customers SET visits = visits + 1 WHERE id IN (1, 2, 3, 4, 5, 6);
UPDATE customers SET visits = 0 WHERE region_id = 3;
UPDATE customers SET score = score * 2 WHERE score > 900;
UPDATE customers SET name = 'Emile' WHERE name = 'émile' AND id < 300;
UPDATE orders SET status = 'PAID' WHERE status = 'paid';
UPDATE orders SET qty = qty WHERE customer_id = 7;
UPDATE orders SET amount = amount + 0.01 WHERE customer_id IN (7, 13) AND qty > 10;
UPDATE orders SET total = total - 1 WHERE id > 2000;
UPDATE events SET kind = 'VIEW' WHERE day BETWEEN '2026-01-30' AND '2026-02-02';
UPDATE shops SET revenue = -revenue WHERE city = 'Oslo';
UPDATE sessions SET hits = 0 WHERE user_id < 100;
UPDATE products SET price = price + 1 WHERE category = 'books';
UPDATE regions SET name = 'Ile de France' WHERE id = 2;
UPDATE notes SET body = 'edited' WHERE id < 10;
UPDATE customers SET city = 'Nowhere' WHERE id = 424242;
DELETE FROM events WHERE day = '2026-02-01';
DELETE FROM shops WHERE city IN ('Lima', 'Tokyo') AND rating < 0;
DELETE FROM order_items WHERE customer_id = 13 AND qty > 5;
DELETE FROM sessions WHERE hits IS NULL;
DELETE FROM customers WHERE id = 1006;
DELETE FROM notes WHERE customer_id IS NULL;
INSERT INTO customers (id, name, city, balance) VALUES (2001, 'Émile', 'São Paulo', 1.5), (2002, 'emile', 'Sao Paulo', -1.5), (2003, 'EMILE', NULL, NULL);
INSERT INTO orders (id, customer_id, status, amount) VALUES (3001, 2001, 'Paid', 10.00), (3002, 2002, 'paid', 20.00), (3003, 2003, NULL, NULL);
INSERT INTO customers (id, name) VALUES (2001, 'dup') ON DUPLICATE KEY UPDATE name = VALUES(name);
INSERT INTO customers (id, name) VALUES (2002, 'x'), (2004, 'y') ON DUPLICATE KEY UPDATE name = 'x2';
INSERT IGNORE INTO customers (id, name) VALUES (2001, 'ignored'), (2005, 'new');
REPLACE INTO customers (id, name, city) VALUES (2003, 'replaced', 'Shanghai'), (2006, 'r', 'Paris');
INSERT INTO events (id, day, kind) VALUES (901, '2026-01-31', 'x'), (902, '2026-02-01', 'y'), (903, '2026-03-01', 'z');
INSERT INTO shops (id, city, name) VALUES (301, 'Paris', 'p'), (302, 'Tokyo', 't'), (303, 'Oslo', 'o');
INSERT INTO sessions (id, user_id, hits) VALUES (601, 7, 1), (602, 8, 2), (603, 9, 3);
INSERT INTO products (id, name) VALUES (51, 'new product');
INSERT INTO regions (id, name) VALUES (9, 'Łódź');
INSERT INTO notes (id, body) VALUES (101, 'n');
UPDATE customers SET balance = 0 WHERE id BETWEEN 2001 AND 2006;
DELETE FROM customers WHERE id = 2005;
DELETE FROM orders WHERE id IN (3001, 3002) AND customer_id IN (2001, 2002);
DELETE FROM products WHERE id = 51;
