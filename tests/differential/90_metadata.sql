-- information_schema and SHOW for GUI clients and ORMs: each logical table listed once.
-- Creation times and statistics differ between any two servers: masked (metadata compared).

SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'diff' ORDER BY TABLE_NAME;
SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'diff';
SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'diff';
SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'diff' AND TABLE_NAME = {'customers'|'orders'|'notes'|'regions'|'nope'};
SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_DEFAULT, IS_NULLABLE, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, CHARACTER_SET_NAME, COLLATION_NAME, COLUMN_TYPE, COLUMN_KEY FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'diff' ORDER BY TABLE_NAME, ORDINAL_POSITION;
SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'diff' AND TABLE_NAME = {'customers'|'orders'|'shops'|'notes'} ORDER BY ORDINAL_POSITION;
SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'diff';
SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'diff' ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX;
SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'diff' AND TABLE_NAME = 'customers' ORDER BY INDEX_NAME, SEQ_IN_INDEX;
SELECT TABLE_NAME, COLUMN_NAME, CONSTRAINT_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = 'diff' ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION;
SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'diff';
SHOW TABLES;
SHOW FULL TABLES;
SHOW FULL TABLES FROM diff;
SHOW TABLES LIKE 'order%';
SHOW FULL TABLES WHERE Table_type = 'BASE TABLE';
-- @mask: Cardinality
SHOW INDEX FROM {customers|orders|order_items|events|shops|sessions|products|regions|notes};
-- @mask: Cardinality
SHOW KEYS FROM customers FROM diff;
SHOW COLUMNS FROM {customers|orders|events|notes};
SHOW FULL COLUMNS FROM customers;
DESCRIBE orders;
DESC shops;
SHOW CREATE TABLE {customers|orders|events|shops|products|notes};
-- @mask: Rows, Avg_row_length, Data_length, Max_data_length, Index_length, Data_free, Auto_increment, Create_time, Update_time, Check_time, Checksum
SHOW TABLE STATUS;
-- @mask: Rows, Avg_row_length, Data_length, Max_data_length, Index_length, Data_free, Auto_increment, Create_time, Update_time, Check_time, Checksum
SHOW TABLE STATUS LIKE {'customers'|'notes'|'regions'};
SELECT DATABASE();
