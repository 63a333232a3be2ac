-- Reads that every shard of a hash-sharded sbtest table answers, for bench/harness.py: a range
-- of ids with ORDER BY/LIMIT, a GROUP BY with aggregates, and a COUNT over a non-key range.
-- Tables are sysbench's own (prepared with oltp_read_only); `--tables` and `--table-size` as
-- for the oltp tests.
require("oltp_common")

function prepare_statements()
  -- Plain text statements: the same SQL in both --db-ps-mode runs.
end

function event()
  local t = sysbench.rand.uniform(1, sysbench.opt.tables)
  local a = sysbench.rand.uniform(1, sysbench.opt.table_size - 100)
  con:query(string.format(
    "SELECT c FROM sbtest%d WHERE id BETWEEN %d AND %d ORDER BY c LIMIT 10", t, a, a + 99))
  con:query(string.format(
    "SELECT k %% 10 AS g, COUNT(*), SUM(k) FROM sbtest%d WHERE id BETWEEN %d AND %d GROUP BY g ORDER BY g",
    t, a, a + 99))
  con:query(string.format(
    "SELECT COUNT(*) FROM sbtest%d WHERE k BETWEEN %d AND %d", t, a, a + 999))
end
