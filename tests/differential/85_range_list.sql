-- Range by DATE (month boundaries) and list by city (string key), consistent hash by int.

SELECT * FROM events WHERE day = {'2026-01-31'|'2026-02-01'|'2026-02-28'|'2026-03-01'|'2026-01-10'};
SELECT id, day FROM events WHERE day BETWEEN {'2026-01-25' AND '2026-02-05'|'2026-02-20' AND '2026-03-03'|'2026-01-01' AND '2026-12-31'} ORDER BY day, id;
SELECT COUNT(*) FROM events WHERE day {< '2026-02-01'|>= '2026-02-01'|< '2026-03-01'|>= '2026-03-01'|> '2026-02-15'|<= '2026-01-31'};
SELECT id, day, kind FROM events WHERE day IN ('2026-01-31', '2026-02-01', '2026-03-01') ORDER BY day, id;
SELECT day, COUNT(*), SUM(value) FROM events WHERE day >= '2026-02-25' AND day < '2026-03-05' GROUP BY day ORDER BY day;
SELECT MIN(day), MAX(day), COUNT(DISTINCT day) FROM events;
SELECT id, at FROM events ORDER BY at, id LIMIT 25;
SELECT id, value FROM events WHERE day = '2026-02-14' ORDER BY value, id;
SELECT SUM(value), MIN(value), MAX(value) FROM events WHERE day < '2026-02-01';
SELECT id, day FROM events WHERE day > '2026-03-20' ORDER BY day DESC, id;
SELECT MONTH(day) AS m, COUNT(*) FROM events GROUP BY m ORDER BY m;
SELECT id, city, name FROM shops WHERE city = {'Paris'|'paris'|'Berlin'|'Munich'|'Shanghai'|'Tokyo'|'Oslo'|'Lima'|'Lyon'|'Rome'} ORDER BY id;
SELECT id, city FROM shops WHERE city IN ('Paris', 'Tokyo') ORDER BY id;
SELECT id, city FROM shops WHERE city IN ('Oslo', 'Berlin', 'Lima') ORDER BY id;
SELECT COUNT(*), SUM(revenue) FROM shops WHERE city = 'Shanghai';
SELECT city, COUNT(*) FROM shops GROUP BY city;
SELECT id, revenue FROM shops ORDER BY revenue DESC, id LIMIT 10;
SELECT id, opened FROM shops WHERE opened < '2000-01-01' ORDER BY opened, id;
SELECT id, rating FROM shops WHERE city = 'Lyon' AND rating > 2 ORDER BY rating, id;
SELECT * FROM sessions WHERE user_id = {7|13|0|-7|1000|9007199254740993};
SELECT id, user_id FROM sessions WHERE user_id IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10) ORDER BY id;
SELECT COUNT(*), SUM(hits), MAX(hits) FROM sessions;
SELECT id, token FROM sessions ORDER BY token, id LIMIT 20;
SELECT id, hits FROM sessions ORDER BY hits DESC, id LIMIT 20;
SELECT user_id, COUNT(*) FROM sessions WHERE user_id < 100 GROUP BY user_id ORDER BY user_id;
