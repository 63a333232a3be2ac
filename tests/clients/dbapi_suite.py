"""The client suite's scenario for Python's two DB-API drivers, run by tests/client_suite.rs:

    python3 dbapi_suite.py pymysql|mysqlclient HOST PORT USER PASSWORD DB

once through the proxy and once against a plain MariaDB; prints one line per step (see
suite_common.py). PyMySQL is pure Python (it sends bytes as X'..' literals); mysqlclient is
MariaDB's C connector (bytes as _binary'..' with the raw bytes in the query text). Both
interpolate parameters client-side and, as PEP 249 asks, run with autocommit off (implicit
transactions). A step that fails prints the error code and the scenario goes on.
"""

import datetime
import sys

from suite_common import (BIN_ROWS, CREATE_TABLES, HIGH_BYTES, TYPED_ROWS, ALL_BYTES, emit,
                          tag)

driver_name, host, port, user, password, db = sys.argv[1:7]
port = int(port)

if driver_name == "pymysql":
    import pymysql as drv
    from pymysql.constants import CLIENT

    def connect(**kw):
        return drv.connect(host=host, port=port, user=user, password=password, database=db,
                           charset="utf8mb4", binary_prefix=True, **kw)

    def info(cur):
        msg = cur._result.message if cur._result is not None else None
        return msg.decode("utf-8", "backslashreplace") if isinstance(msg, bytes) else msg

    def warnings(cur):
        return cur.warning_count

    def columns(cur):
        fields = cur._result.fields if cur._result is not None and cur._result.fields else []
        return [[f.name, f.type_code, f.charsetnr, f.flags, f.length, f.scale, f.table_name,
                 f.org_table, f.org_name, f.db] for f in fields]

elif driver_name == "mysqlclient":
    import MySQLdb as drv
    from MySQLdb.constants import CLIENT

    def connect(**kw):
        return drv.connect(host=host, port=port, user=user, password=password, database=db,
                           charset="utf8mb4", binary_prefix=True, **kw)

    def info(cur):
        return cur.connection.info()

    def warnings(cur):
        return cur.warning_count

    def columns(cur):
        if not cur.description:
            return []
        return [list(d) + [f] for d, f in zip(cur.description, cur.description_flags)]
else:
    raise SystemExit("unknown driver " + driver_name)


def result(cur):
    """What the driver exposes about the current result of `cur`."""
    out = {"rowcount": cur.rowcount, "lastrowid": cur.lastrowid, "info": info(cur),
           "warnings": warnings(cur)}
    if cur.description:
        out["columns"] = columns(cur)
        out["rows"] = [[tag(v) for v in row] for row in cur.fetchall()]
    return out


def run(cur, sql, args=None, many=False):
    """Runs one statement (or several, with multi-statements) and returns every result."""
    try:
        if many:
            cur.executemany(sql, args)
        else:
            cur.execute(sql, args)
        sets = [result(cur)]
        while cur.nextset():
            sets.append(result(cur))
        return sets if len(sets) > 1 else sets[0]
    except drv.Error as e:
        return {"error": e.args[0]}


def step(name, cur, *statements):
    """One step: each statement is SQL text or (sql, args) or (sql, args, many)."""
    out = []
    for s in statements:
        if isinstance(s, str):
            out.append(run(cur, s))
        else:
            out.append(run(cur, *s))
    emit(name, out)


conn = connect()
cur = conn.cursor()
emit("connect", {"autocommit": conn.get_autocommit()})
step("autocommit_alone", cur, "SELECT @@autocommit")
step("session_vars_in_select", cur, "SELECT @@autocommit, DATABASE(), @@character_set_client, "
     "@@character_set_connection, @@character_set_results, @@collation_connection")
step("create_tables", cur, *CREATE_TABLES)

# Binary bytes through text-protocol interpolation: one multi-row INSERT over both shards
# (executemany batches the rows into one statement), then one row on a single shard. The
# read-back steps are separate so that the data is checked apart from the OK packets.
step("bin_insert_multirow", cur,
     ("INSERT INTO cs_bin (id, b, bl) VALUES (%s, %s, %s)", BIN_ROWS, True))
step("bin_insert_single", cur,
     ("INSERT INTO cs_bin (id, b, bl) VALUES (%s, %s, %s)", (5, HIGH_BYTES, ALL_BYTES)),
     "COMMIT")
step("bin_read", cur, "SELECT id, b, bl, HEX(b), LENGTH(b), HEX(bl), LENGTH(bl) FROM cs_bin "
     "ORDER BY id")
step("bin_where", cur, ("SELECT id FROM cs_bin WHERE b = %s ORDER BY id", (HIGH_BYTES,)),
     ("SELECT id, LENGTH(bl) FROM cs_bin WHERE id = %s AND b = %s", (1, ALL_BYTES)),
     ("SELECT id FROM cs_bin WHERE bl IN (%s, %s) ORDER BY id", (ALL_BYTES, BIN_ROWS[1][2])))
step("bin_update_one_shard", cur,
     ("UPDATE cs_bin SET bl = %s WHERE id IN (1, 3)", (HIGH_BYTES[::-1],)), "COMMIT")
step("bin_update_two_shards", cur,
     ("UPDATE cs_bin SET bl = %s WHERE id IN (3, 4)", (HIGH_BYTES,)), "COMMIT")
step("bin_read_updated", cur, "SELECT id, HEX(bl) FROM cs_bin ORDER BY id")

# DECIMAL(65,30), BIGINT UNSIGNED extremes, DATETIME(3), utf8mb4, NULLs.
step("types_insert", cur, ("INSERT INTO cs_types (id, d, u, dt, s, n) "
                           "VALUES (%s, %s, %s, %s, %s, %s)", TYPED_ROWS, True), "COMMIT")
step("types_read", cur, "SELECT id, d, u, dt, s, n FROM cs_types ORDER BY id",
     "SELECT id, HEX(s), CHAR_LENGTH(s), LENGTH(s), CAST(d AS CHAR), u + 0 FROM cs_types "
     "ORDER BY id")
step("types_where", cur, ("SELECT id, s FROM cs_types WHERE s = %s", (TYPED_ROWS[1][4],)),
     ("SELECT id FROM cs_types WHERE u = %s", (18446744073709551615,)),
     ("SELECT id, dt FROM cs_types WHERE dt = %s",
      (datetime.datetime(2026, 11, 22, 10, 20, 30, 123000),)),
     ("SELECT id, d FROM cs_types WHERE d = %s", (TYPED_ROWS[0][1],)))
step("nulls", cur, "SELECT id, d IS NULL, n, COALESCE(s, 'none') FROM cs_types "
     "WHERE n IS NULL ORDER BY id", "SELECT NULL AS nothing, NULL + 1, CONCAT('a', NULL)")
step("aggregates", cur, "SELECT SUM(d), MIN(d), MAX(d), MIN(u), MAX(u), MIN(dt), MAX(dt), "
     "COUNT(*), COUNT(n) FROM cs_types")
step("sum_bigint_unsigned", cur, "SELECT SUM(u) FROM cs_types")

# Affected rows, info strings, ROW_COUNT() of writes spread over both shards (ids 1, 3 on one
# shard, 2 on the other) and of a write on one shard.
step("insert_multirow", cur, "INSERT INTO cs_items (id, name, qty) VALUES (1, 'a', 1), "
     "(2, 'b', 2), (3, 'c', 3)")
step("row_count_after_insert", cur, "SELECT ROW_COUNT()")
step("update_multirow", cur, "UPDATE cs_items SET qty = qty + 10 WHERE id IN (1, 2, 3)")
step("row_count_after_update", cur, "SELECT ROW_COUNT()")
step("update_one_shard", cur, "UPDATE cs_items SET qty = qty + 10 WHERE id IN (1, 3)")
step("update_unchanged", cur, "UPDATE cs_items SET qty = qty WHERE id IN (1, 2, 3)")
step("row_count_after_select", cur, "SELECT 1", "SELECT ROW_COUNT()")
step("insert_on_duplicate", cur, "INSERT INTO cs_items (id, name, qty) VALUES (1, 'a', 100), "
     "(4, 'd', 4) ON DUPLICATE KEY UPDATE qty = VALUES(qty)")
step("delete_multirow", cur, "DELETE FROM cs_items WHERE id IN (3, 4)", "COMMIT")
step("items_read", cur, "SELECT id, name, qty FROM cs_items ORDER BY id")

# LAST_INSERT_ID: generated ids (the proxy's sequence on a sharded table), an explicit id
# (which does not change LAST_INSERT_ID), the next generated id, inside a larger SELECT.
step("auto_insert_multirow", cur, "INSERT INTO cs_auto (v) VALUES ('a'), ('b'), ('c')")
step("last_insert_id_after_multirow", cur, "SELECT LAST_INSERT_ID()")
step("auto_insert_single", cur, "INSERT INTO cs_auto (v) VALUES ('d')")
step("last_insert_id_after_single", cur, "SELECT LAST_INSERT_ID()")
step("auto_insert_explicit_id", cur, "INSERT INTO cs_auto (id, v) VALUES (10, 'x')")
step("last_insert_id_after_explicit_id", cur, "SELECT LAST_INSERT_ID()")
step("last_insert_id_in_select", cur, "SELECT LAST_INSERT_ID(), LAST_INSERT_ID() + 1, 'x'")
step("auto_insert_after_explicit_id", cur, "INSERT INTO cs_auto (v) VALUES ('y')")
step("auto_read", cur, "COMMIT", "SELECT id, v FROM cs_auto ORDER BY id")

# User variables.
step("user_variables", cur, "SET @v := 3", "SELECT @v, @v + 1")
step("select_into_variable", cur, "SELECT qty INTO @q FROM cs_items WHERE id = 2",
     "SELECT @q")

# Transactions: autocommit is off, so the INSERT opens one (on both shards) that ROLLBACK undoes.
step("insert_in_transaction", cur,
     "INSERT INTO cs_items (id, name, qty) VALUES (5, 'e', 5), (6, 'f', 6)")
step("rollback", cur, "ROLLBACK", "SELECT COUNT(*) FROM cs_items")

step("insert_with_warning", cur, "INSERT IGNORE INTO cs_items (id, name, qty) VALUES "
     "(7, 'a name far too long for twenty', 7)")
step("show_warnings", cur, "SHOW WARNINGS", "COMMIT")

# Errors keep their codes, and the connection goes on.
step("error_1062_duplicate", cur, "INSERT INTO cs_items (id, name, qty) VALUES (1, 'dup', 1)")
step("error_1064_syntax", cur, "SELEC 1")
step("error_1146_missing_table", cur, "SELECT * FROM cs_missing")
step("after_errors", cur, "ROLLBACK", "SELECT COUNT(*) FROM cs_items")
conn.commit()

# Multi-statements (a connection that asks for them).
mconn = connect(client_flag=CLIENT.MULTI_STATEMENTS, autocommit=True)
mcur = mconn.cursor()
step("multi_statements", mcur,
     "SELECT 1 AS a; SELECT 'two' AS b, NULL AS c; UPDATE cs_items SET qty = qty + 1 "
     "WHERE id = 1; SELECT id, qty FROM cs_items ORDER BY id")
step("multi_statements_two_shard_update", mcur,
     "UPDATE cs_items SET qty = qty + 1 WHERE id IN (1, 2); SELECT id, qty FROM cs_items "
     "ORDER BY id")
mconn.close()

# init_command: a session variable, then a user variable (a common driver init command).
try:
    iconn = connect(init_command="SET SESSION sql_mode = 'STRICT_ALL_TABLES'")
    step("init_command_session_var", iconn.cursor(), "SELECT @@sql_mode")
    iconn.close()
except drv.Error as e:
    emit("init_command_session_var", {"connect_error": e.args[0]})
try:
    iconn = connect(init_command="SET @init := 42")
    step("init_command_user_var", iconn.cursor(), "SELECT @init")
    iconn.close()
except drv.Error as e:
    emit("init_command_user_var", {"connect_error": e.args[0]})

# COM_CHANGE_USER (mysqlclient has it; PyMySQL has no API for it nor for
# COM_RESET_CONNECTION): session state is gone afterwards.
if hasattr(conn, "change_user"):
    step("before_change_user", cur, "SET SESSION sql_mode = 'ANSI_QUOTES'", "SELECT @@sql_mode")
    try:
        conn.change_user(user, password, db)
        step("change_user", cur, "SELECT @@sql_mode = @@GLOBAL.sql_mode, DATABASE()")
    except drv.Error as e:
        emit("change_user", {"error": e.args[0]})
conn.close()
emit("done", {})
