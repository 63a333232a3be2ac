#!/usr/bin/env bash
# The cost of two-phase commit: a transfer transaction (BEGIN, 2 UPDATEs, COMMIT; see
# bench/xa_transfer.lua) through shardgate under txn_mode xa and best_effort, writing 2 shards and
# writing 1 shard, beside the same transaction directly on one MariaDB, in one run.
# Usage: bench/xa.sh [seconds per run] [threads]
# Starts its own sandbox (2 shards, no replica, ports 4110-4111) and proxy (127.0.0.1:3311), and
# stops both at the end. Reports TPS, p95 latency, and the statements the backends executed per
# transaction (both shards' `Questions`, the proxy's own polling included).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-15}
THREADS=${2:-8}
DIR=$(mktemp -d /tmp/shardgate-xa-bench-XXXXXX)
BIN=target/release/shardgate
make -s server-deps >/dev/null
cargo build --release -q ${FEATURES:+--features "$FEATURES"}
$BIN sandbox up --dir "$DIR" --shards 2 --replicas 0 --base-port 4110 >/dev/null
$BIN serve --config "$DIR/rules.toml" --listen 127.0.0.1:3311 2>"$DIR/proxy.log" &
PROXY=$!
trap 'kill $PROXY 2>/dev/null; wait $PROXY 2>/dev/null; $BIN sandbox down --dir "$DIR" >/dev/null; rm -rf "$DIR"' EXIT
sleep 1
mariadb --protocol=TCP -h127.0.0.1 -P4110 -uroot -e "CREATE DATABASE IF NOT EXISTS direct"

lua=bench/xa_transfer.lua
common=(--db-driver=mysql --mysql-host=127.0.0.1 --mysql-ignore-errors=1213,1205)
direct=("${common[@]}" --mysql-port=4110 --mysql-user=root --mysql-db=direct)
# sbtest1 is hash-sharded by id over s0 and s1 in the sandbox's rules.
proxy=("${common[@]}" --mysql-port=3311 --mysql-user=app --mysql-password=app --mysql-db=shop)
sysbench $lua "${direct[@]}" --mode=none prepare >/dev/null
sysbench $lua "${proxy[@]}" prepare >/dev/null

questions() {
  local n=0
  for port in 4110 4111; do
    n=$((n + $(mariadb --protocol=TCP -h127.0.0.1 -P$port -uroot -N -e "SHOW GLOBAL STATUS LIKE 'Questions'" | awk '{print $2}')))
  done
  echo $n
}

run() { # label, shards, mode, target...
  local label=$1 shards=$2 mode=$3
  shift 3
  local q0 out q1 tx
  q0=$(questions)
  out=$(sysbench $lua "$@" --shards="$shards" --mode="$mode" --threads=$THREADS --time=$SECS \
        --report-interval=0 --percentile=95 run)
  q1=$(questions)
  tx=$(awk '/transactions:/ {print $2}' <<<"$out")
  printf "| %s | %s | %s | %s | %.1f |\n" "$label" \
    "$(awk '/transactions:/ {gsub(/\(/,"",$3); print $3}' <<<"$out")" \
    "$(awk '/95th percentile:/ {print $3}' <<<"$out")" \
    "$(awk '/ignored errors:/ {print $3}' <<<"$out")" \
    "$(awk -v q=$((q1 - q0)) -v t="$tx" 'BEGIN {print (t > 0 ? q / t : 0)}')"
}

echo "$THREADS threads, $SECS s per run, $(nproc) cores"
echo
echo "| transaction | tps | p95 ms | 1213/1205 | backend statements per transaction |"
echo "|---|---|---|---|---|"
run "direct, one MariaDB" 1 none "${direct[@]}"
run "proxy, 1 shard, xa" 1 xa "${proxy[@]}"
run "proxy, 1 shard, best_effort" 1 best_effort "${proxy[@]}"
run "proxy, 2 shards, best_effort" 2 best_effort "${proxy[@]}"
run "proxy, 2 shards, xa" 2 xa "${proxy[@]}"
