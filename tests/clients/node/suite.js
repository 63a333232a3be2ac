// The client suite's scenario for node mysql2 (tests/client_suite.rs):
//
//     node suite.js HOST PORT USER PASSWORD DB
//
// once through the proxy and once against a plain MariaDB. Both of mysql2's paths: `query`
// (text protocol; parameters interpolated client-side, Buffers as X'..') and `execute`
// (server-side prepared statements: COM_STMT_PREPARE / COM_STMT_EXECUTE, binary result rows).
// Prints one line per step: STEP<TAB>name<TAB>JSON with sorted keys; values tagged with the JS
// type mysql2 returned. A failing step prints its error code and the scenario goes on.
'use strict';

const mysql = require('mysql2/promise');

const [host, port, user, password, database] = process.argv.slice(2);

const ALL = Buffer.from([...Array(256).keys()]);
const REV = Buffer.from([...ALL].reverse());
const HIGH = ALL.subarray(0x80);
const MIXED = Buffer.concat(Array(4).fill(Buffer.from([0, 0x27, 0x22, 0x5c, 0x0a, 0x0d, 0x1a, 0x80, 0xff, 0xc3, 0x28])));
const BIG_DEC = '99999999999999999999999999999999999.999999999999999999999999999999';

function tag(v) {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return ['Buffer', v.toString('hex')];
  if (typeof v === 'bigint') return ['bigint', v.toString()];
  if (typeof v === 'number') return ['number', String(v)];
  if (typeof v === 'string') return ['string', v];
  if (v instanceof Date) return ['Date', isNaN(v) ? 'invalid' : v.toISOString()];
  return [typeof v, JSON.stringify(v)];
}

// JSON with sorted keys (what the Rust test compares byte for byte).
function stable(v) {
  if (Array.isArray(v)) return '[' + v.map(stable).join(', ') + ']';
  if (v && typeof v === 'object') {
    return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ': ' + stable(v[k])).join(', ') + '}';
  }
  return JSON.stringify(v === undefined ? null : v);
}

function emit(step, payload) {
  process.stdout.write(`STEP\t${step}\t${stable(payload)}\n`);
}

function columns(fields) {
  return fields.map((f) => [f.name, f.columnType, f.characterSet, f.flags, f.decimals,
    f.columnLength, f.schema, f.table, f.orgTable, f.orgName]);
}

// What mysql2 exposes about one result: an OK packet (ResultSetHeader) or rows with fields.
function result(rows, fields) {
  if (!Array.isArray(rows)) {
    return {
      affectedRows: rows.affectedRows, insertId: rows.insertId, info: rows.info,
      changedRows: rows.changedRows, warningStatus: rows.warningStatus,
      // IN_TRANS, AUTOCOMMIT, MORE_RESULTS_EXISTS: what a client decides by.
      status: rows.serverStatus & (1 | 2 | 8),
    };
  }
  return { columns: columns(fields || []), rows: rows.map((r) => r.map(tag)) };
}

async function run(conn, how, sql, params) {
  try {
    const method = how === 'multi' ? 'query' : how;
    const [rows, fields] = await conn[method]({ sql, rowsAsArray: true }, params);
    // Several statements in one query: an array of results and an array of field lists.
    if (how === 'multi') return rows.map((r, i) => result(r, fields[i]));
    return result(rows, fields);
  } catch (e) {
    if (e.errno) return { error: e.errno, sqlState: e.sqlState };
    throw e;
  }
}

// One step: each entry is [how, sql, params?] with how 'query', 'execute' or 'multi' (a query
// of several statements).
async function step(conn, name, ...statements) {
  const out = [];
  for (const [how, sql, params] of statements) out.push(await run(conn, how, sql, params));
  emit(name, out);
}

const q = (sql, params) => ['query', sql, params];
const x = (sql, params) => ['execute', sql, params];
const m = (sql) => ['multi', sql];

async function main() {
  const opts = {
    host, port: Number(port), user, password, database, charset: 'UTF8MB4_GENERAL_CI',
    supportBigNumbers: true, bigNumberStrings: true, dateStrings: true,
  };
  const conn = await mysql.createConnection(opts);
  emit('connect', {});
  await step(conn, 'create_tables',
    q('CREATE TABLE cs_bin (id BIGINT PRIMARY KEY, b VARBINARY(256), bl BLOB)'),
    q('CREATE TABLE cs_types (id BIGINT PRIMARY KEY, d DECIMAL(65,30), u BIGINT UNSIGNED, '
      + 'dt DATETIME(3), s VARCHAR(50) CHARACTER SET utf8mb4, n INT NULL)'),
    q('CREATE TABLE cs_items (id BIGINT PRIMARY KEY, name VARCHAR(20) NOT NULL, qty INT NOT NULL)'),
    q('CREATE TABLE cs_auto (id BIGINT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10))'));

  // Binary bytes: text protocol (one multi-row INSERT over both shards), then server-side
  // prepared statements (one execute per row, each routed by its bound id).
  await step(conn, 'bin_query_insert_multirow',
    q('INSERT INTO cs_bin (id, b, bl) VALUES ?', [[[1, ALL, ALL], [2, REV, MIXED], [3, HIGH, HIGH], [4, Buffer.alloc(0), null]]]));
  await step(conn, 'bin_execute_insert',
    x('INSERT INTO cs_bin (id, b, bl) VALUES (?, ?, ?)', [11, ALL, ALL]),
    x('INSERT INTO cs_bin (id, b, bl) VALUES (?, ?, ?)', [12, REV, MIXED]),
    x('INSERT INTO cs_bin (id, b, bl) VALUES (?, ?, ?)', [13, HIGH, HIGH]),
    x('INSERT INTO cs_bin (id, b, bl) VALUES (?, ?, ?)', [14, Buffer.alloc(0), null]));
  const binRead = 'SELECT id, b, bl, HEX(b), LENGTH(bl) FROM cs_bin ORDER BY id';
  await step(conn, 'bin_query_read', q(binRead));
  await step(conn, 'bin_execute_read', x(binRead));
  await step(conn, 'bin_execute_where',
    x('SELECT id FROM cs_bin WHERE b = ? ORDER BY id', [HIGH]),
    x('SELECT id, LENGTH(b) FROM cs_bin WHERE id = ? AND bl = ?', [12, MIXED]));
  await step(conn, 'bin_query_where', q('SELECT id FROM cs_bin WHERE bl = ? ORDER BY id', [HIGH]));

  // DECIMAL(65,30), BIGINT UNSIGNED extremes, DATETIME(3), utf8mb4, NULLs as bound values.
  const typed = [
    [1, BIG_DEC, '18446744073709551615', '2026-11-22 10:20:30.123', 'héllo wörld', 1],
    [2, '-' + BIG_DEC, '0', '1000-01-01 00:00:00.000', '😀🎉 emoji 👩‍👩‍👧', null],
    [3, '0.000000000000000000000000000001', '9223372036854775808', '9999-12-31 23:59:59.999', '日本語 Ελληνικά ﬁ', -1],
    [4, null, null, null, null, null],
    [5, '-0.000000000000000000000000000001', '1', '2026-02-28 23:59:59.500', "çà Ünïcödé 'quote' \\ back", 0],
  ];
  await step(conn, 'types_execute_insert',
    ...typed.map((r) => x('INSERT INTO cs_types (id, d, u, dt, s, n) VALUES (?, ?, ?, ?, ?, ?)', r)));
  const typesRead = 'SELECT id, d, u, dt, s, n, HEX(s) FROM cs_types ORDER BY id';
  await step(conn, 'types_query_read', q(typesRead));
  await step(conn, 'types_execute_read', x(typesRead));
  await step(conn, 'types_execute_where',
    x('SELECT id FROM cs_types WHERE u = ?', ['18446744073709551615']),
    x('SELECT id, s FROM cs_types WHERE s = ?', ['😀🎉 emoji 👩‍👩‍👧']),
    x('SELECT id, d FROM cs_types WHERE d = ?', [BIG_DEC]),
    x('SELECT id FROM cs_types WHERE n IS NULL ORDER BY id'));
  await step(conn, 'aggregates',
    q('SELECT SUM(d), MIN(d), MAX(d), MIN(u), MAX(u), MIN(dt), MAX(dt), COUNT(*), COUNT(n) FROM cs_types'));

  // Affected rows, info, changedRows of writes over both shards; ROW_COUNT().
  await step(conn, 'insert_multirow',
    q("INSERT INTO cs_items (id, name, qty) VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3)"));
  await step(conn, 'update_multirow', q('UPDATE cs_items SET qty = qty + 10 WHERE id IN (1, 2, 3)'));
  await step(conn, 'row_count_after_update', q('SELECT ROW_COUNT()'));
  await step(conn, 'update_one_shard', q('UPDATE cs_items SET qty = qty + 10 WHERE id IN (1, 3)'));
  await step(conn, 'execute_update_multirow',
    x('UPDATE cs_items SET qty = qty + ? WHERE id IN (?, ?, ?)', [5, 1, 2, 3]));
  await step(conn, 'execute_update_one_row', x('UPDATE cs_items SET qty = qty + ? WHERE id = ?', [5, 2]));
  await step(conn, 'execute_delete_multirow', x('DELETE FROM cs_items WHERE id IN (?, ?)', [3, 4]));
  await step(conn, 'items_read', x('SELECT id, name, qty FROM cs_items ORDER BY id'));

  // insertId of generated ids (the proxy's sequence on a sharded table).
  await step(conn, 'auto_query_insert', q("INSERT INTO cs_auto (v) VALUES ('a'), ('b'), ('c')"));
  await step(conn, 'auto_execute_insert', x('INSERT INTO cs_auto (v) VALUES (?)', ['d']));
  await step(conn, 'auto_read', x('SELECT id, v FROM cs_auto ORDER BY id'));

  await step(conn, 'user_variables', q('SET @v := 3'), q('SELECT @v, @v + 1'));

  await step(conn, 'error_1062_duplicate_query', q("INSERT INTO cs_items (id, name, qty) VALUES (1, 'dup', 1)"));
  await step(conn, 'error_1062_duplicate_execute', x('INSERT INTO cs_items (id, name, qty) VALUES (?, ?, ?)', [1, 'dup', 1]));
  await step(conn, 'error_1064_syntax', q('SELEC 1'), x('SELEC ?', [1]));
  await step(conn, 'error_1146_missing_table', q('SELECT * FROM cs_missing'), x('SELECT * FROM cs_missing WHERE id = ?', [1]));
  await step(conn, 'after_errors', x('SELECT COUNT(*) FROM cs_items'));

  // COM_RESET_CONNECTION: session state and prepared statements are gone.
  await step(conn, 'before_reset', q("SET SESSION sql_mode = 'ANSI_QUOTES'"), q('SELECT @@sql_mode'));
  try {
    await conn.reset();
    await step(conn, 'reset_connection', q('SELECT @@sql_mode = @@GLOBAL.sql_mode, DATABASE()'),
      x('SELECT id FROM cs_items WHERE id = ?', [2]));
  } catch (e) {
    emit('reset_connection', { error: e.errno || String(e.message) });
  }
  // COM_CHANGE_USER to the same account: a fresh session.
  await step(conn, 'before_change_user', q("SET SESSION sql_mode = 'ANSI_QUOTES'"));
  try {
    await conn.changeUser({ user, password, database });
    await step(conn, 'change_user', q('SELECT @@sql_mode = @@GLOBAL.sql_mode, DATABASE()'),
      x('SELECT id FROM cs_items WHERE id = ?', [2]));
  } catch (e) {
    emit('change_user', { error: e.errno || String(e.message) });
  }
  await conn.end();

  const multi = await mysql.createConnection({ ...opts, multipleStatements: true });
  await step(multi, 'multi_statements',
    m("SELECT 1 AS a; SELECT 'two' AS b, NULL AS c; UPDATE cs_items SET qty = qty + 1 WHERE id = 1; SELECT id, qty FROM cs_items ORDER BY id"));
  await step(multi, 'multi_statements_two_shard_update',
    m('UPDATE cs_items SET qty = qty + 1 WHERE id IN (1, 2); SELECT id, qty FROM cs_items ORDER BY id'));
  await multi.end();
  emit('done', {});
}

main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
