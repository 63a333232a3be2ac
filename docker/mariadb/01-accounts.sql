-- Run once by the mariadb image's entrypoint on every server (primaries and replicas), when its
-- data volume is empty. Written with the binary log off, like `shardgate sandbox` does: each
-- server gets the same accounts and the empty `shop` database whatever its replication state,
-- and replicas start replicating from the primary's position after this (02-replica.sh).
SET SESSION sql_log_bin = 0;

-- Replication: replicas connect to their primary as `repl`.
CREATE USER IF NOT EXISTS 'repl'@'%' IDENTIFIED BY 'repl';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';

-- The proxy's backend account (rules/README.md, "The backend account"): no SUPER.
CREATE USER IF NOT EXISTS 'shardgate'@'%' IDENTIFIED BY 'shardgate';
GRANT BINLOG MONITOR, SLAVE MONITOR ON *.* TO 'shardgate'@'%';
GRANT READ_ONLY ADMIN, REPLICATION SLAVE ADMIN, RELOAD ON *.* TO 'shardgate'@'%';
GRANT ALL PRIVILEGES ON `shop`.* TO 'shardgate'@'%';
GRANT ALL PRIVILEGES ON `shardgate`.* TO 'shardgate'@'%';

-- The logical schema's database; its tables are created through the proxy.
CREATE DATABASE IF NOT EXISTS shop CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
