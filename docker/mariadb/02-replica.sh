# Sourced by the mariadb image's entrypoint on a replica (mounted only there), after
# 01-accounts.sql, while the server runs for initialisation. Points the replica at its primary
# (SHARDGATE_PRIMARY_HOST, set in compose.yml) with GTIDs and starts replication from the
# primary's current position: both were initialised alike with the binary log off, so nothing
# before that position needs replaying. compose.yml starts replicas only once the primary is
# healthy; the loop below still waits for it, in case it restarts.

primary="${SHARDGATE_PRIMARY_HOST:?SHARDGATE_PRIMARY_HOST is not set}"

reached=""
for _ in $(seq 1 60); do
	if pos="$(mariadb --host="$primary" --user=repl --password=repl --skip-column-names --batch \
		--execute='SELECT @@GLOBAL.gtid_binlog_pos')"; then
		reached=1
		break
	fi
	echo "02-replica.sh: waiting for $primary"
	sleep 2
done
if [ -z "$reached" ]; then
	echo "02-replica.sh: primary $primary unreachable, replication not configured" >&2
	exit 1
fi
echo "02-replica.sh: replicating from $primary at GTID position '$pos'"

docker_process_sql <<-EOSQL
	STOP SLAVE;
	SET GLOBAL gtid_slave_pos = '$pos';
	CHANGE MASTER TO
		MASTER_HOST = '$primary',
		MASTER_PORT = 3306,
		MASTER_USER = 'repl',
		MASTER_PASSWORD = 'repl',
		MASTER_USE_GTID = slave_pos,
		MASTER_CONNECT_RETRY = 2;
	START SLAVE;
EOSQL
