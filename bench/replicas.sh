#!/usr/bin/env bash
# Reads per second with replicas against primaries only: sysbench oltp_read_only (autocommit reads:
# --skip-trx=on, as read/write splitting needs) and oltp_point_select through shardgate with
# read_from = "replica" (the default) and read_from = "primary", beside a direct connection to
# one MariaDB, in one run. Reports QPS, p95, and where the reads landed (each server's
# Com_select, the proxy's health checks included).
# Usage: bench/replicas.sh [seconds per run] [threads]
# Starts its own sandbox (2 shards x 1 replica, ports 4120-4123) and two proxies (127.0.0.1:3312
# replicas, :3313 primaries only), and stops them at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-15}
THREADS=${2:-8}
TABLES=4
SIZE=10000
DIR=$(mktemp -d /tmp/shardgate-replica-bench-XXXXXX)
BIN=target/release/shardgate
make -s server-deps >/dev/null
cargo build --release -q ${FEATURES:+--features "$FEATURES"}
$BIN sandbox up --dir "$DIR" --shards 2 --replicas 1 --base-port 4120 >/dev/null
sed 's/^read_from = .*/read_from = "primary"/' "$DIR/rules.toml" >"$DIR/primary.toml"
grep -q '^read_from = "primary"' "$DIR/primary.toml" || { echo "the sandbox rules have no read_from key" >&2; exit 1; }
$BIN serve --config "$DIR/rules.toml" --listen 127.0.0.1:3312 2>"$DIR/proxy.log" &
P1=$!
$BIN serve --config "$DIR/primary.toml" --listen 127.0.0.1:3313 2>"$DIR/proxy-primary.log" &
P2=$!
trap 'kill $P1 $P2 2>/dev/null; wait $P1 $P2 2>/dev/null; $BIN sandbox down --dir "$DIR" >/dev/null; rm -rf "$DIR"' EXIT
sleep 2
mariadb --protocol=TCP -h127.0.0.1 -P4120 -uroot -e "CREATE DATABASE IF NOT EXISTS direct"

common=(--db-driver=mysql --tables=$TABLES --table-size=$SIZE --mysql-host=127.0.0.1 --skip-trx=on)
direct=("${common[@]}" --mysql-port=4120 --mysql-user=root --mysql-db=direct)
replicas=("${common[@]}" --mysql-port=3312 --mysql-user=app --mysql-password=app --mysql-db=shop)
primaries=("${common[@]}" --mysql-port=3313 --mysql-user=app --mysql-password=app --mysql-db=shop)
sysbench oltp_read_only "${direct[@]}" prepare >/dev/null
sysbench oltp_read_only "${replicas[@]}" prepare >/dev/null
# Let the replicas apply the load and the health checker see them caught up.
sleep 3

selects() { # port...
  local n=0
  for port in "$@"; do
    n=$((n + $(mariadb --protocol=TCP -h127.0.0.1 -P$port -uroot -N -e "SHOW GLOBAL STATUS LIKE 'Com_select'" | awk '{print $2}')))
  done
  echo $n
}

run() { # label, test, target...
  local label=$1 t=$2
  shift 2
  local p0 r0 out p1 r1
  p0=$(selects 4120 4122)
  r0=$(selects 4121 4123)
  out=$(sysbench "$t" "$@" --threads=$THREADS --time=$SECS --report-interval=0 --percentile=95 run)
  p1=$(selects 4120 4122)
  r1=$(selects 4121 4123)
  printf "| %s | %s | %s | %s | %s |\n" "$label" "$t" \
    "$(awk '/queries:/ {gsub(/\(/,"",$3); print $3}' <<<"$out")" \
    "$(awk '/95th percentile:/ {print $3}' <<<"$out")" \
    "$(awk -v p=$((p1 - p0)) -v r=$((r1 - r0)) 'BEGIN {printf "%.0f%%", (p + r > 0 ? 100 * r / (p + r) : 0)}')"
}

echo "$THREADS threads, $SECS s per run, $(nproc) cores, --skip-trx=on"
echo
echo "| target | test | qps | p95 ms | selects on replicas |"
echo "|---|---|---|---|---|"
for t in oltp_point_select oltp_read_only; do
  run "direct, one MariaDB" $t "${direct[@]}"
  run "proxy, read_from = replica" $t "${replicas[@]}"
  run "proxy, read_from = primary" $t "${primaries[@]}"
done
