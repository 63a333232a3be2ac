-- Window functions across shards: computed exactly or refused; never merged as plain columns.

SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS rn FROM customers ORDER BY id;
SELECT id, ROW_NUMBER() OVER (ORDER BY name, id) AS rn FROM customers ORDER BY id;
SELECT id, RANK() OVER (ORDER BY region_id) AS rk FROM customers ORDER BY id;
SELECT id, DENSE_RANK() OVER (ORDER BY city) AS rk FROM customers ORDER BY id;
SELECT id, SUM(balance) OVER (PARTITION BY region_id) AS s FROM customers ORDER BY id;
SELECT id, SUM(amount) OVER (PARTITION BY customer_id ORDER BY id) AS running FROM orders ORDER BY id;
SELECT id, COUNT(*) OVER () AS n FROM customers ORDER BY id LIMIT 5;
SELECT id, LAG(id) OVER (ORDER BY id) AS prev, LEAD(id) OVER (ORDER BY id) AS nxt FROM customers ORDER BY id;
SELECT id, AVG(amount) OVER (PARTITION BY product_id) AS a FROM orders ORDER BY id;
SELECT id, FIRST_VALUE(id) OVER (PARTITION BY region_id ORDER BY id) AS f FROM customers ORDER BY id;
SELECT id, NTILE(4) OVER (ORDER BY id) AS q FROM customers ORDER BY id;
SELECT id, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY id) AS rn FROM orders WHERE customer_id = 7 ORDER BY id;
SELECT id, SUM(qty) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS s FROM orders WHERE customer_id = 13 ORDER BY id;
SELECT id, SUM(qty) OVER (PARTITION BY customer_id) AS s FROM orders WHERE customer_id IN (7, 13) ORDER BY id;
SELECT t.id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY balance, id) AS rn FROM customers) t WHERE t.rn <= 5 ORDER BY t.id;
