-- A transfer between two accounts in one transaction (BEGIN, two UPDATEs, COMMIT), for
-- bench/xa.sh. The table is hash-sharded by id over 2 shards (even ids on s0, odd on s1).
--   --shards=2: one even and one odd account (a 2-shard write transaction)
--   --shards=1: two even accounts (a 1-shard transaction)
--   --mode=xa|best_effort|none: SET shardgate_txn_mode first (none: a direct connection)
-- Rows are locked in ascending id order, so the workload itself never deadlocks.
sysbench.cmdline.options = {
  accounts = {"Number of accounts", 20000},
  shards = {"Shards each transaction writes (1 or 2)", 2},
  mode = {"shardgate_txn_mode of the session, or none", "xa"},
  table = {"Table name", "sbtest1"},
}

function prepare()
  local con = sysbench.sql.driver():connect()
  local t = sysbench.opt.table
  con:query("DROP TABLE IF EXISTS " .. t)
  con:query("CREATE TABLE " .. t .. " (id INT PRIMARY KEY, bal BIGINT NOT NULL)")
  local n = sysbench.opt.accounts
  local batch = {}
  for i = 1, n do
    batch[#batch + 1] = "(" .. i .. ",1000)"
    if #batch == 1000 or i == n then
      con:query("INSERT INTO " .. t .. " VALUES " .. table.concat(batch, ","))
      batch = {}
    end
  end
end

function thread_init()
  drv = sysbench.sql.driver()
  con = drv:connect()
  if sysbench.opt.mode ~= "none" then
    con:query("SET shardgate_txn_mode = '" .. sysbench.opt.mode .. "'")
  end
end

function thread_done()
  con:disconnect()
end

function event()
  local half = sysbench.opt.accounts / 2
  local a = sysbench.rand.uniform(1, half) * 2
  local b
  if sysbench.opt.shards == 2 then
    b = sysbench.rand.uniform(1, half) * 2 - 1
  else
    b = sysbench.rand.uniform(1, half) * 2
    if b == a then b = (a % (2 * half)) + 2 end
  end
  local lo, hi = math.min(a, b), math.max(a, b)
  local t = sysbench.opt.table
  con:query("BEGIN")
  con:query("UPDATE " .. t .. " SET bal = bal - 1 WHERE id = " .. lo)
  con:query("UPDATE " .. t .. " SET bal = bal + 1 WHERE id = " .. hi)
  con:query("COMMIT")
end
