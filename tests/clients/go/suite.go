// The client suite's scenario for Go's database/sql with go-sql-driver/mysql
// (tests/client_suite.rs):
//
//	go-suite MODE HOST PORT USER PASSWORD DB
//
// once through the proxy and once against a plain MariaDB. MODE is one of the driver's two paths:
//
//   - text: the DSN has interpolateParams=true, so every statement is one COM_QUERY; the driver
//     writes its parameters into the text itself ([]byte as _binary'...' with backslash escapes,
//     time.Time as '...', uint64 as digits);
//   - ps: the driver's default, server-side prepared statements; every statement (reads without
//     parameters too) is prepared explicitly: COM_STMT_PREPARE / COM_STMT_EXECUTE / COM_STMT_CLOSE,
//     binary result rows.
//
// Multi-statement steps are text in both modes (a second connection with multiStatements=true).
// Prints one line per step: STEP<TAB>name<TAB>JSON with sorted keys (encoding/json sorts map
// keys); values tagged with the Go type the driver returned, columns with what database/sql's
// ColumnType says. A failing statement prints its error number and message and the scenario goes on.
//
// Built from Debian's packages (golang-go, golang-github-go-sql-driver-mysql-dev) without the
// module proxy: GO111MODULE=off GOPATH=/usr/share/gocode go build -o ... suite.go
package main

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-sql-driver/mysql"
)

const bigDec = "99999999999999999999999999999999999.999999999999999999999999999999"

var (
	mode string
	ctx  = context.Background()
)

// One statement of a step: a read (rows) or a write (sql.Result).
type stmt struct {
	read bool
	sql  string
	args []interface{}
}

func r(sql string, args ...interface{}) stmt { return stmt{true, sql, args} }
func w(sql string, args ...interface{}) stmt { return stmt{false, sql, args} }

// A value with the Go type the driver returned; bytes that are not UTF-8 as hex.
func tag(v interface{}) interface{} {
	switch x := v.(type) {
	case nil:
		return nil
	case []byte:
		if utf8.Valid(x) {
			return []string{"[]byte", string(x)}
		}
		return []string{"[]byte hex", hex.EncodeToString(x)}
	case int64:
		return []string{"int64", strconv.FormatInt(x, 10)}
	case uint64:
		return []string{"uint64", strconv.FormatUint(x, 10)}
	case float64:
		return []string{"float64", strconv.FormatFloat(x, 'g', -1, 64)}
	case float32:
		return []string{"float32", strconv.FormatFloat(float64(x), 'g', -1, 32)}
	case string:
		return []string{"string", x}
	case bool:
		return []string{"bool", strconv.FormatBool(x)}
	case time.Time:
		return []string{"time.Time", x.Format(time.RFC3339Nano)}
	default:
		return []string{fmt.Sprintf("%T", v), fmt.Sprintf("%v", v)}
	}
}

func errorOf(err error) map[string]interface{} {
	if me, ok := err.(*mysql.MySQLError); ok {
		return map[string]interface{}{"error": me.Number, "message": me.Message}
	}
	return map[string]interface{}{"driver_error": err.Error()}
}

// Column metadata as database/sql exposes it.
func columns(rows *sql.Rows) ([]interface{}, error) {
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	out := make([]interface{}, 0, len(types))
	for _, t := range types {
		c := map[string]interface{}{"name": t.Name(), "type": t.DatabaseTypeName()}
		if l, ok := t.Length(); ok {
			c["length"] = l
		}
		if p, s, ok := t.DecimalSize(); ok {
			if p == math.MaxInt64 {
				p = -1
			}
			if s == math.MaxInt64 {
				s = -1
			}
			c["decimal_size"] = []int64{p, s}
		}
		if n, ok := t.Nullable(); ok {
			c["nullable"] = n
		}
		if st := t.ScanType(); st != nil {
			c["scan_type"] = st.String()
		}
		out = append(out, c)
	}
	return out, nil
}

// One result set: columns and rows of tagged values.
func resultSet(rows *sql.Rows) (map[string]interface{}, error) {
	cols, err := columns(rows)
	if err != nil {
		return nil, err
	}
	out := []interface{}{}
	for rows.Next() {
		vals := make([]interface{}, len(cols))
		ptrs := make([]interface{}, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]interface{}, len(vals))
		for i, v := range vals {
			row[i] = tag(v)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return map[string]interface{}{"columns": cols, "rows": out}, nil
}

func written(res sql.Result) map[string]interface{} {
	out := map[string]interface{}{}
	if n, err := res.RowsAffected(); err == nil {
		out["rows_affected"] = n
	} else {
		out["rows_affected_error"] = err.Error()
	}
	if id, err := res.LastInsertId(); err == nil {
		out["last_insert_id"] = id
	} else {
		out["last_insert_id_error"] = err.Error()
	}
	return out
}

// Runs one statement the way MODE says.
func run(conn *sql.Conn, s stmt) interface{} {
	if mode == "ps" {
		p, err := conn.PrepareContext(ctx, s.sql)
		if err != nil {
			return errorOf(err)
		}
		defer p.Close()
		if s.read {
			rows, err := p.QueryContext(ctx, s.args...)
			if err != nil {
				return errorOf(err)
			}
			defer rows.Close()
			rs, err := resultSet(rows)
			if err != nil {
				return errorOf(err)
			}
			return rs
		}
		res, err := p.ExecContext(ctx, s.args...)
		if err != nil {
			return errorOf(err)
		}
		return written(res)
	}
	if s.read {
		rows, err := conn.QueryContext(ctx, s.sql, s.args...)
		if err != nil {
			return errorOf(err)
		}
		defer rows.Close()
		rs, err := resultSet(rows)
		if err != nil {
			return errorOf(err)
		}
		return rs
	}
	res, err := conn.ExecContext(ctx, s.sql, s.args...)
	if err != nil {
		return errorOf(err)
	}
	return written(res)
}

func emit(name string, payload interface{}) {
	b, err := json.Marshal(payload)
	if err != nil {
		fmt.Fprintf(os.Stderr, "step %s: %v\n", name, err)
		os.Exit(1)
	}
	fmt.Printf("STEP\t%s\t%s\n", name, b)
}

func step(conn *sql.Conn, name string, stmts ...stmt) {
	out := make([]interface{}, 0, len(stmts))
	for _, s := range stmts {
		out = append(out, run(conn, s))
	}
	emit(name, out)
}

// Several statements in one COM_QUERY: every result set (the driver skips the OK packets
// between them).
func multi(conn *sql.Conn, name, sql string) {
	rows, err := conn.QueryContext(ctx, sql)
	if err != nil {
		emit(name, errorOf(err))
		return
	}
	defer rows.Close()
	sets := []interface{}{}
	for {
		rs, err := resultSet(rows)
		if err != nil {
			sets = append(sets, errorOf(err))
			break
		}
		sets = append(sets, rs)
		if !rows.NextResultSet() {
			if err := rows.Err(); err != nil {
				sets = append(sets, errorOf(err))
			}
			break
		}
	}
	emit(name, sets)
}

// A multi-statement write: the driver reads every result and reports the last OK packet.
func multiExec(conn *sql.Conn, name, sql string) {
	res, err := conn.ExecContext(ctx, sql)
	if err != nil {
		emit(name, errorOf(err))
		return
	}
	emit(name, written(res))
}

func open(dsn string) (*sql.DB, *sql.Conn) {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return db, conn
}

func main() {
	if len(os.Args) != 7 || (os.Args[1] != "text" && os.Args[1] != "ps") {
		fmt.Fprintln(os.Stderr, "usage: go-suite text|ps HOST PORT USER PASSWORD DB")
		os.Exit(2)
	}
	mode = os.Args[1]
	host, port, user, password, database := os.Args[2], os.Args[3], os.Args[4], os.Args[5], os.Args[6]
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = user, password, "tcp", host+":"+port, database
	cfg.Collation = "utf8mb4_general_ci"
	cfg.InterpolateParams = mode == "text"
	db, conn := open(cfg.FormatDSN())
	emit("connect", map[string]interface{}{"mode": mode})

	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	rev := make([]byte, 256)
	for i := range rev {
		rev[i] = byte(255 - i)
	}
	high := all[0x80:]
	mixed := []byte(strings.Repeat("\x00'\"\\\n\r\x1a\x80\xff\xc3(", 4))
	empty := []byte{}

	step(conn, "create_tables",
		w("CREATE TABLE cs_bin (id BIGINT PRIMARY KEY, b VARBINARY(256), bl BLOB)"),
		w("CREATE TABLE cs_types (id BIGINT PRIMARY KEY, d DECIMAL(65,30), u BIGINT UNSIGNED, "+
			"dt DATETIME(3), s VARCHAR(50) CHARACTER SET utf8mb4, n INT NULL)"),
		w("CREATE TABLE cs_items (id BIGINT PRIMARY KEY, name VARCHAR(20) NOT NULL, qty INT NOT NULL)"),
		w("CREATE TABLE cs_auto (id BIGINT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10))"))

	// Binary bytes: one multi-row INSERT over both shards, then one INSERT per row (each routed
	// by its id), then every byte value alone in a row of its own (ids 100..355).
	step(conn, "bin_insert_multirow",
		w("INSERT INTO cs_bin (id, b, bl) VALUES (?, ?, ?), (?, ?, ?), (?, ?, ?), (?, ?, ?)",
			1, all, all, 2, rev, mixed, 3, high, high, 4, empty, nil))
	step(conn, "bin_insert_per_row",
		w("INSERT INTO cs_bin (id, b, bl) VALUES (?, ?, ?)", 11, all, all),
		w("INSERT INTO cs_bin (id, b, bl) VALUES (?, ?, ?)", 12, rev, mixed),
		w("INSERT INTO cs_bin (id, b, bl) VALUES (?, ?, ?)", 13, high, high),
		w("INSERT INTO cs_bin (id, b, bl) VALUES (?, ?, ?)", 14, empty, nil))
	var singles []string
	var singleArgs []interface{}
	for i := 0; i < 256; i++ {
		singles = append(singles, "(?, ?, ?)")
		singleArgs = append(singleArgs, 100+i, []byte{byte(i)}, []byte{byte(i), byte(i)})
	}
	step(conn, "bin_insert_each_byte",
		w("INSERT INTO cs_bin (id, b, bl) VALUES "+strings.Join(singles, ", "), singleArgs...))
	step(conn, "bin_read",
		r("SELECT id, b, bl, HEX(b), LENGTH(bl) FROM cs_bin WHERE id < 100 ORDER BY id"))
	step(conn, "bin_read_each_byte",
		r("SELECT id, b, bl, HEX(b) FROM cs_bin WHERE id >= 100 ORDER BY id"),
		r("SELECT COUNT(*), SUM(LENGTH(b) = 1 AND ORD(b) = id - 100), SUM(LENGTH(bl) = 2) FROM cs_bin WHERE id >= 100"))
	step(conn, "bin_where",
		r("SELECT id FROM cs_bin WHERE b = ? ORDER BY id", high),
		r("SELECT id, LENGTH(b) FROM cs_bin WHERE id = ? AND bl = ?", 12, mixed),
		r("SELECT id FROM cs_bin WHERE bl = ? ORDER BY id", all),
		r("SELECT id FROM cs_bin WHERE b IN (?, ?) ORDER BY id", rev, empty))
	// Each byte an escaping client must get right, alone: echoed, and looked up (the rows of
	// bin_insert_each_byte are on both shards).
	var trickyStmts []stmt
	for _, b := range []byte{0x00, '\'', '"', '\\', '\n', '\r', 0x1a, '%', '_', 0x7f, 0x80, 0xc3, 0xff} {
		trickyStmts = append(trickyStmts,
			r("SELECT ? AS v, HEX(?) AS h", []byte{b}, []byte{b}),
			r("SELECT id FROM cs_bin WHERE b = ?", []byte{b}))
	}
	step(conn, "bin_where_each_special_byte", trickyStmts...)

	// DECIMAL(65,30), BIGINT UNSIGNED extremes, DATETIME(3), utf8mb4, NULLs as bound values
	// (time.Time and uint64 as Go gives them to the driver).
	utc := func(y int, mo time.Month, d, h, mi, s, ms int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ms*1000000, time.UTC)
	}
	typed := [][]interface{}{
		{1, bigDec, uint64(math.MaxUint64), utc(2026, 11, 22, 10, 20, 30, 123), "héllo wörld", 1},
		{2, "-" + bigDec, uint64(0), utc(1000, 1, 1, 0, 0, 0, 0), "😀🎉 emoji 👩‍👩‍👧", nil},
		{3, "0.000000000000000000000000000001", uint64(1) << 63, utc(9999, 12, 31, 23, 59, 59, 999), "日本語 Ελληνικά ﬁ", -1},
		{4, nil, nil, nil, nil, nil},
		{5, "-0.000000000000000000000000000001", int64(1), "2026-02-28 23:59:59.500", "çà Ünïcödé 'quote' \\ back", 0},
	}
	var typedStmts []stmt
	for _, row := range typed {
		typedStmts = append(typedStmts, w("INSERT INTO cs_types (id, d, u, dt, s, n) VALUES (?, ?, ?, ?, ?, ?)", row...))
	}
	step(conn, "types_insert", typedStmts...)
	step(conn, "types_read", r("SELECT id, d, u, dt, s, n, HEX(s) FROM cs_types ORDER BY id"))
	step(conn, "types_where",
		r("SELECT id FROM cs_types WHERE u = ?", uint64(math.MaxUint64)),
		r("SELECT id, s FROM cs_types WHERE s = ?", "😀🎉 emoji 👩‍👩‍👧"),
		r("SELECT id, d FROM cs_types WHERE d = ?", bigDec),
		r("SELECT id, dt FROM cs_types WHERE dt = ?", utc(9999, 12, 31, 23, 59, 59, 999)),
		r("SELECT id FROM cs_types WHERE n IS NULL ORDER BY id"),
		r("SELECT id FROM cs_types WHERE n <=> ? ORDER BY id", nil))
	step(conn, "aggregates",
		r("SELECT SUM(d), MIN(d), MAX(d), MIN(u), MAX(u), MIN(dt), MAX(dt), COUNT(*), COUNT(n) FROM cs_types"))

	// Affected rows of writes over both shards; ROW_COUNT().
	step(conn, "insert_multirow",
		w("INSERT INTO cs_items (id, name, qty) VALUES (?, ?, ?), (?, ?, ?), (?, ?, ?)", 1, "a", 1, 2, "b", 2, 3, "c", 3))
	step(conn, "update_multirow", w("UPDATE cs_items SET qty = qty + ? WHERE id IN (?, ?, ?)", 10, 1, 2, 3))
	step(conn, "row_count_after_update", r("SELECT ROW_COUNT()"))
	step(conn, "update_one_shard", w("UPDATE cs_items SET qty = qty + 10 WHERE id IN (1, 3)"))
	step(conn, "update_unchanged", w("UPDATE cs_items SET qty = qty WHERE id IN (?, ?)", 1, 2))
	step(conn, "update_one_row", w("UPDATE cs_items SET qty = qty + ? WHERE id = ?", 5, 2))
	step(conn, "delete_multirow", w("DELETE FROM cs_items WHERE id IN (?, ?)", 3, 4))
	step(conn, "row_count_after_delete", r("SELECT ROW_COUNT()"))
	step(conn, "items_read", r("SELECT id, name, qty FROM cs_items ORDER BY id"))

	// LastInsertId of generated ids (the proxy's sequence on a sharded table).
	step(conn, "auto_insert_multirow", w("INSERT INTO cs_auto (v) VALUES (?), (?), (?)", "a", "b", "c"))
	step(conn, "auto_last_insert_id", r("SELECT LAST_INSERT_ID()"))
	step(conn, "auto_insert_one", w("INSERT INTO cs_auto (v) VALUES (?)", "d"))
	step(conn, "auto_insert_explicit_id", w("INSERT INTO cs_auto (id, v) VALUES (?, ?)", 100, "e"))
	step(conn, "auto_last_insert_id_after", r("SELECT LAST_INSERT_ID(), LAST_INSERT_ID() + 1"))
	step(conn, "auto_read", r("SELECT id, v FROM cs_auto ORDER BY id"))

	step(conn, "user_variables", w("SET @v := 3"), r("SELECT @v, @v + 1"))
	step(conn, "user_variables_bound", w("SET @w := ?", 5), r("SELECT @w, @w + 1"))
	step(conn, "user_variables_bytes",
		w("SET @b := ?", mixed),
		r("SELECT @b, HEX(@b)"),
		r("SELECT id FROM cs_bin WHERE bl = @b ORDER BY id"))

	step(conn, "error_1062_duplicate", w("INSERT INTO cs_items (id, name, qty) VALUES (?, ?, ?)", 1, "dup", 1))
	step(conn, "error_1064_syntax", r("SELEC ?", 1), r("SELEC 1"))
	step(conn, "error_1146_missing_table", r("SELECT * FROM cs_missing WHERE id = ?", 1), w("INSERT INTO cs_missing VALUES (?)", 1))
	step(conn, "after_errors", r("SELECT COUNT(*) FROM cs_items"), r("SELECT @v"))
	conn.Close()
	db.Close()

	cfg.MultiStatements = true
	mdb, m := open(cfg.FormatDSN())
	multi(m, "multi_statements",
		"SELECT 1 AS a; SELECT 'two' AS b, NULL AS c; UPDATE cs_items SET qty = qty + 1 WHERE id = 1; SELECT id, qty FROM cs_items ORDER BY id")
	multiExec(m, "multi_statements_two_shard_update",
		"UPDATE cs_items SET qty = qty + 1 WHERE id IN (1, 2); UPDATE cs_items SET qty = qty + 1 WHERE id = 2")
	multi(m, "multi_statements_read_after", "SELECT id, qty FROM cs_items ORDER BY id; SELECT ROW_COUNT()")
	// (An error in a later statement is left out: driver 1.5.0 hangs reading the result sets
	// after it, against plain MariaDB too.)
	multiExec(m, "multi_statements_write_then_error",
		"UPDATE cs_items SET qty = qty + 1 WHERE id = 1; INSERT INTO cs_missing VALUES (1)")
	step(m, "after_multi_error", r("SELECT id, qty FROM cs_items ORDER BY id"))
	m.Close()
	mdb.Close()
	emit("done", map[string]interface{}{})
}
