-- Generated combinations: each `{a|b}` group expands into one query per alternative.

-- Sorted scatter reads over every column type, both directions, with a LIMIT window.
SELECT id, name, city, code, balance, big, score, visits, points, tag, born, created FROM customers ORDER BY {name|city|code|balance|big|score|visits|points|tag|born|created} {ASC|DESC}, id LIMIT 12 OFFSET 37;
-- Orders, by every column, filtered by key sets that touch one, two or three shards.
SELECT id, customer_id, status, amount, total, weight, flags, ordered_at FROM orders WHERE customer_id IN ({7|7, 8|7, 8, 9}) ORDER BY {status|amount|total|weight|flags|ordered_at}, id;
-- Aggregates over each numeric column, filtered or not.
SELECT {COUNT|SUM|MIN|MAX|AVG}({balance|big|score|visits|points}) FROM customers WHERE {id > 0|region_id = 3|city = 'Sao Paulo'|name = 'emile'};
SELECT {COUNT|SUM|MIN|MAX}({amount|total|weight|flags}) FROM orders WHERE {customer_id = 7|product_id = 5|status = 'paid'};
