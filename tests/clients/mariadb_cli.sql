-- The client suite's scenario for the mariadb command-line client (tests/client_suite.rs).
-- Run in batch mode with -vvv --force --unbuffered --show-warnings --binary-as-hex and an
-- --init-command, once through the proxy and once against a plain MariaDB. Each step starts
-- with a marker statement (SELECT 'STEP name' AS step_marker); the test splits the output there.
-- {{ALL}}, {{REV}}, {{HIGH}}, {{MIXED}} are replaced by the test with raw bytes escaped as the
-- server's string syntax wants (\0 \' \\ \n \r \Z, every other byte as it is): all 256 byte
-- values, reversed, 0x80..0xFF, quoting-sensitive bytes next to invalid UTF-8;
-- {{HEX_ALL}}, {{HEX_HIGH}} by the same bytes in hex.
-- Comments are not sent (the client strips them).

SELECT 'STEP init_command' AS step_marker;
SELECT @@sql_mode;

SELECT 'STEP create_tables' AS step_marker;
CREATE TABLE cs_bin (id BIGINT PRIMARY KEY, b VARBINARY(256), bl BLOB);
CREATE TABLE cs_types (id BIGINT PRIMARY KEY, d DECIMAL(65,30), u BIGINT UNSIGNED, dt DATETIME(3), s VARCHAR(50) CHARACTER SET utf8mb4, n INT NULL);
CREATE TABLE cs_items (id BIGINT PRIMARY KEY, name VARCHAR(20) NOT NULL, qty INT NOT NULL);
CREATE TABLE cs_auto (id BIGINT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10));
CREATE TABLE cs_notes (id BIGINT PRIMARY KEY, note VARCHAR(40));

-- Raw bytes in the query text: one multi-row INSERT over both shards (ids 1, 3 | 2, 4).
SELECT 'STEP bin_insert_multirow' AS step_marker;
INSERT INTO cs_bin (id, b, bl) VALUES (1, _binary'{{ALL}}', _binary'{{ALL}}'), (2, _binary'{{REV}}', _binary'{{MIXED}}'), (3, _binary'{{HIGH}}', _binary'{{HIGH}}'), (4, _binary'', NULL);

SELECT 'STEP bin_insert_hex_literals' AS step_marker;
INSERT INTO cs_bin (id, b, bl) VALUES (5, X'{{HEX_HIGH}}', 0x{{HEX_ALL}});

SELECT 'STEP bin_read' AS step_marker;
SELECT id, b, bl, LENGTH(b), LENGTH(bl) FROM cs_bin ORDER BY id;

SELECT 'STEP bin_where' AS step_marker;
SELECT id FROM cs_bin WHERE b = _binary'{{HIGH}}' ORDER BY id;
SELECT id FROM cs_bin WHERE id = 2 AND bl = _binary'{{MIXED}}';

-- SQL-level prepared statements (the text protocol's PREPARE / EXECUTE).
SELECT 'STEP sql_prepare_insert' AS step_marker;
PREPARE ins FROM 'INSERT INTO cs_bin (id, b, bl) VALUES (?, ?, ?)';

SELECT 'STEP sql_execute_using_literals' AS step_marker;
EXECUTE ins USING 11, _binary'{{HIGH}}', X'{{HEX_ALL}}';
EXECUTE ins USING 12, _binary'{{ALL}}', NULL;

SELECT 'STEP sql_execute_using_variables' AS step_marker;
SET @id := 13, @b := _binary'{{ALL}}';
EXECUTE ins USING @id, @b, @b;

SELECT 'STEP sql_deallocate' AS step_marker;
DEALLOCATE PREPARE ins;

SELECT 'STEP bin_read_prepared' AS step_marker;
SELECT id, b, bl FROM cs_bin WHERE id > 10 ORDER BY id;

SELECT 'STEP sql_prepare_scatter_select' AS step_marker;
INSERT INTO cs_items (id, name, qty) VALUES (10, 'ten', 10), (11, 'eleven', 11);
PREPARE cnt FROM 'SELECT COUNT(*), SUM(qty) FROM cs_items';
EXECUTE cnt;
DEALLOCATE PREPARE cnt;

SELECT 'STEP sql_prepare_point_select' AS step_marker;
PREPARE one FROM 'SELECT id, name FROM cs_items WHERE id = ?';
EXECUTE one USING 11;
EXECUTE one USING 10;
DEALLOCATE PREPARE one;

-- DECIMAL(65,30), BIGINT UNSIGNED extremes, DATETIME(3), utf8mb4, NULLs.
SELECT 'STEP types_insert' AS step_marker;
INSERT INTO cs_types (id, d, u, dt, s, n) VALUES
  (1, 99999999999999999999999999999999999.999999999999999999999999999999, 18446744073709551615, '2026-11-22 10:20:30.123', 'héllo wörld', 1),
  (2, -99999999999999999999999999999999999.999999999999999999999999999999, 0, '1000-01-01 00:00:00.000', '😀🎉 emoji 👩‍👩‍👧', NULL),
  (3, 0.000000000000000000000000000001, 9223372036854775808, '9999-12-31 23:59:59.999', '日本語 Ελληνικά ﬁ', -1),
  (4, NULL, NULL, NULL, NULL, NULL),
  (5, -0.000000000000000000000000000001, 1, '2026-02-28 23:59:59.5', 'çà Ünïcödé \'quote\' \\ back', 0);

SELECT 'STEP types_read' AS step_marker;
SELECT id, d, u, dt, s, n, HEX(s), CHAR_LENGTH(s) FROM cs_types ORDER BY id;

SELECT 'STEP nulls' AS step_marker;
SELECT id, d IS NULL, n, COALESCE(s, 'none') FROM cs_types WHERE n IS NULL ORDER BY id;

SELECT 'STEP aggregates' AS step_marker;
SELECT SUM(d), MIN(d), MAX(d), MIN(u), MAX(u), MIN(dt), MAX(dt), COUNT(*), COUNT(n) FROM cs_types;

-- Affected rows and info strings of writes spread over both shards; ROW_COUNT().
-- (ROW_COUNT() in the same step: a marker statement in between would reset it.)
SELECT 'STEP insert_multirow' AS step_marker;
INSERT INTO cs_items (id, name, qty) VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3);
SELECT ROW_COUNT();

SELECT 'STEP update_multirow' AS step_marker;
UPDATE cs_items SET qty = qty + 10 WHERE id IN (1, 2, 3);
SELECT ROW_COUNT();

SELECT 'STEP update_one_shard' AS step_marker;
UPDATE cs_items SET qty = qty + 10 WHERE id IN (1, 3);

SELECT 'STEP delete_multirow' AS step_marker;
DELETE FROM cs_items WHERE id IN (3, 10, 11);

-- LAST_INSERT_ID after generated ids (the proxy's sequence on a sharded table).
SELECT 'STEP auto_insert_multirow' AS step_marker;
INSERT INTO cs_auto (v) VALUES ('a'), ('b'), ('c');

SELECT 'STEP last_insert_id_after_multirow' AS step_marker;
SELECT LAST_INSERT_ID();

-- User variables.
SELECT 'STEP user_variables' AS step_marker;
SET @v := 3;
SELECT @v, @v + 1;

-- Multi-statements: the client sends everything up to the delimiter as one COM_QUERY.
SELECT 'STEP multi_statements' AS step_marker;
DELIMITER //
SELECT 1 AS a; SELECT 'two' AS b, NULL AS c; UPDATE cs_items SET qty = qty + 1 WHERE id = 1; SELECT id, qty FROM cs_items ORDER BY id//
DELIMITER ;

SELECT 'STEP multi_statements_two_shard_update' AS step_marker;
DELIMITER //
UPDATE cs_items SET qty = qty + 1 WHERE id IN (1, 2); SELECT id, qty FROM cs_items ORDER BY id//
DELIMITER ;

-- A stored procedure whose body holds several statements (on the unsharded table cs_notes).
SELECT 'STEP create_procedure' AS step_marker;
DELIMITER //
CREATE PROCEDURE cs_note(IN p BIGINT)
BEGIN
  INSERT INTO cs_notes (id, note) VALUES (p, CONCAT('note ', p));
  SELECT COUNT(*) AS notes FROM cs_notes;
END//
DELIMITER ;

SELECT 'STEP call_procedure' AS step_marker;
CALL cs_note(1);
CALL cs_note(2);
SELECT id, note FROM cs_notes ORDER BY id;

-- Warnings (--show-warnings prints them after the statement).
SELECT 'STEP insert_with_warning' AS step_marker;
INSERT IGNORE INTO cs_items (id, name, qty) VALUES (7, 'a name far too long for twenty', 7);

-- Errors: --force goes on after each.
SELECT 'STEP error_1062_duplicate' AS step_marker;
INSERT INTO cs_items (id, name, qty) VALUES (1, 'dup', 1);

SELECT 'STEP error_1064_syntax' AS step_marker;
SELEC 1;

SELECT 'STEP error_1146_missing_table' AS step_marker;
SELECT * FROM cs_missing;

-- COM_RESET_CONNECTION: session variables and LAST_INSERT_ID are reset.
SELECT 'STEP reset_connection' AS step_marker;
SET SESSION sql_mode = 'ANSI_QUOTES';
resetconnection
SELECT @@sql_mode = @@GLOBAL.sql_mode, @v, DATABASE();

SELECT 'STEP last_insert_id_after_reset' AS step_marker;
SELECT LAST_INSERT_ID();

SELECT 'STEP final_read' AS step_marker;
SELECT id, name, qty FROM cs_items ORDER BY id;
