#!/usr/bin/env bash
# sysbench through shardgate beside a direct connection to one MariaDB shard, in the same run,
# reported as a ratio. Usage: bench/sysbench.sh [seconds per run] [threads]
# Starts its own sandbox (2 shards x 1 replica on ports 4100-4103) and proxy (127.0.0.1:3310),
# and stops both at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-20}
THREADS=${2:-4}
TABLES=4
SIZE=10000
DIR=$(mktemp -d /tmp/shardgate-bench-XXXXXX)
BIN=target/release/shardgate
make -s server-deps >/dev/null
cargo build --release -q
$BIN sandbox up --dir "$DIR" --shards 2 --replicas 1 --base-port 4100 >/dev/null
$BIN serve --config "$DIR/rules.toml" --listen 127.0.0.1:3310 2>"$DIR/proxy.log" &
PROXY=$!
trap 'kill $PROXY 2>/dev/null; wait $PROXY 2>/dev/null; $BIN sandbox down --dir "$DIR" >/dev/null; rm -rf "$DIR"' EXIT
sleep 1
mariadb --protocol=TCP -h127.0.0.1 -P4100 -uroot -e "CREATE DATABASE IF NOT EXISTS direct"

common=(--db-driver=mysql --tables=$TABLES --table-size=$SIZE --mysql-host=127.0.0.1)
direct=("${common[@]}" --mysql-port=4100 --mysql-user=root --mysql-db=direct)
proxy=("${common[@]}" --mysql-port=3310 --mysql-user=app --mysql-password=app --mysql-db=shop)
sysbench oltp_read_write "${direct[@]}" prepare >/dev/null
sysbench oltp_read_write "${proxy[@]}" prepare >/dev/null

tps() { sysbench "$1" "${@:2}" --threads=$THREADS --time=$SECS --report-interval=0 run | awk '/transactions:/ {gsub(/\(/,"",$3); print $3}'; }

echo "| test | ps-mode | direct tps | proxy tps | proxy/direct |"
echo "|---|---|---|---|---|"
for t in oltp_point_select oltp_read_only oltp_read_write; do
  for mode in auto disable; do
    d=$(tps $t "${direct[@]}" --db-ps-mode=$mode)
    p=$(tps $t "${proxy[@]}" --db-ps-mode=$mode)
    echo "| $t | $mode | $d | $p | $(awk -v p="$p" -v d="$d" 'BEGIN {printf "%.2f", p/d}') |"
  done
done
