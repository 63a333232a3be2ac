-- DISTINCT, GROUP BY and UNION over _ci text: which member's spelling is shown for a group is
-- up to the server, so the text is masked and what is compared is the number of groups, their
-- aggregates and the column metadata.

-- @mask: name
SELECT DISTINCT name FROM customers;
-- @mask: city
SELECT DISTINCT city FROM customers;
-- @mask: status
SELECT DISTINCT status FROM orders;
-- @mask: kind
SELECT DISTINCT kind FROM events;
-- @mask: category
SELECT DISTINCT category FROM products;
-- @mask: city
SELECT DISTINCT city FROM customers ORDER BY city;
-- @mask: name
SELECT DISTINCT name FROM customers WHERE id < 100;
-- @mask: name
SELECT DISTINCT name FROM customers WHERE id IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
-- @mask: name, city
SELECT DISTINCT name, city FROM customers;
-- @mask: name
SELECT name, COUNT(*) FROM customers GROUP BY name;
-- @mask: city
SELECT city, COUNT(*), SUM(balance) FROM customers GROUP BY city;
-- @mask: status
SELECT status, COUNT(*) FROM orders GROUP BY status;
-- @mask: status
SELECT status, COUNT(*) FROM orders WHERE customer_id = 7 GROUP BY status;
-- @mask: name
SELECT name FROM customers WHERE id < 200 UNION SELECT name FROM shops;
-- @mask: name
SELECT name FROM customers WHERE id = 7 UNION SELECT name FROM customers WHERE id = 7;
-- @mask: name
SELECT name FROM products UNION SELECT name FROM regions;
-- @mask: MIN(name), MAX(name)
SELECT MIN(name), MAX(name) FROM customers;
-- @mask: MIN(city), MAX(city)
SELECT MIN(city), MAX(city) FROM customers;
