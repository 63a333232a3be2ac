-- Prepared statements with bound values (binary protocol only): a statement routes on the
-- values bound at each execution. `-- @params:` gives the values of the next entry.

-- @params: 7
SELECT id, name FROM customers WHERE id = ?;
-- @params: '7'
SELECT id, name FROM customers WHERE id = ?;
-- @params: 7.0
SELECT id, name FROM customers WHERE id = ?;
-- @params: -7
SELECT id, name FROM customers WHERE id = ?;
-- @params: 9007199254740993
SELECT id, name FROM customers WHERE id = ?;
-- @params: 18446744073709551615
SELECT id, name FROM customers WHERE id = ?;
-- @params: NULL
SELECT id, name FROM customers WHERE id = ?;
-- @params: 7, 8, 1000
SELECT id, name FROM customers WHERE id IN (?, ?, ?) ORDER BY id;
-- @params: 10, 20
SELECT id, name FROM customers WHERE id BETWEEN ? AND ? ORDER BY name, id;
-- @params: 7, 8
SELECT a.id, b.id FROM customers a, customers b WHERE a.id = ? AND b.id = ?;
-- @params: 7
SELECT o.id, i.id FROM orders o JOIN order_items i ON i.customer_id = o.customer_id AND i.order_id = o.id WHERE o.customer_id = ? ORDER BY o.id, i.id;
-- @params: 13
SELECT COUNT(*), SUM(amount) FROM orders WHERE customer_id = ?;
-- @params: 'paid'
SELECT COUNT(*) FROM orders WHERE status = ?;
-- @params: 100
SELECT id, amount FROM orders WHERE qty > ? ORDER BY id;
-- @params: 5
SELECT id, amount FROM orders WHERE qty > ? ORDER BY amount, id LIMIT 10;
-- @params: DATE '2026-02-01'
SELECT id, day FROM events WHERE day = ? ORDER BY id;
-- @params: '2026-02-01'
SELECT id, day FROM events WHERE day = ? ORDER BY id;
-- @params: DATE '2026-01-31'
SELECT id, day FROM events WHERE day = ? ORDER BY id;
-- @params: '2026-01-25', '2026-02-05'
SELECT id, day FROM events WHERE day BETWEEN ? AND ? ORDER BY day, id;
-- @params: DATE '2026-02-28', DATE '2026-03-02'
SELECT COUNT(*) FROM events WHERE day >= ? AND day < ?;
-- @params: 'Paris'
SELECT id, city FROM shops WHERE city = ? ORDER BY id;
-- @params: 'PARIS'
SELECT id, city FROM shops WHERE city = ? ORDER BY id;
-- @params: 'Oslo'
SELECT id, city FROM shops WHERE city = ? ORDER BY id;
-- @params: 'Tokyo', 'Berlin'
SELECT id, city FROM shops WHERE city IN (?, ?) ORDER BY id;
-- @params: 7
SELECT id, user_id FROM sessions WHERE user_id = ? ORDER BY id;
-- @params: 'Émile'
SELECT id, name FROM customers WHERE name = ? ORDER BY id;
-- @params: 'Sao Paulo'
SELECT COUNT(*) FROM customers WHERE city = ?;
-- @params: 1.5
SELECT id FROM customers WHERE score > ? AND id < 50 ORDER BY id;
-- @params: 7
SELECT id FROM customers WHERE id = ? UNION ALL SELECT id FROM customers WHERE id = 7;
-- @params: 3
SELECT id, name FROM customers WHERE region_id = ? ORDER BY name, id LIMIT 10;
