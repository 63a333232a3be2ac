# shardgate: build, test and demo against real MariaDB servers (see README.md).
#   make server-deps    install what the demo needs, when missing: mariadb-server, mariadb-client,
#                       sysbench (apt); checks for cargo
#   make deps           server-deps, plus the clients the tests drive: PyMySQL, mysqlclient,
#                       SQLAlchemy 2.0 (pip); node + mysql2 (npm); Go + go-sql-driver/mysql
#                       (apt: golang-go, golang-github-go-sql-driver-mysql-dev)
#   make build          release build
#   make demo           2 shards x 1 replica on ports 4000-4003, proxy on 127.0.0.1:3307
#   make test           all tests (with the failpoints feature the crash tests need); each test
#                       binary starts its own servers on free ports
#   make bench          the benchmark harness (bench/harness.py): sysbench direct, through a TCP
#                       relay and through shardgate over 1 and 2 shards, in one session
#                       (BENCH=full: every workload, thread count and 4 shards; about 2 hours)
#   make clean-sandbox  stop the demo's servers and remove sandbox-data

SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:/usr/sbin:/usr/local/sbin:$(PATH)

CARGO        ?= cargo
PYTHON       ?= python3
BIN          := target/release/shardgate
SANDBOX_DIR  ?= sandbox-data
BASE_PORT    ?= 4000
PROXY_LISTEN ?= 127.0.0.1:3307
PROXY_HOST   := $(firstword $(subst :, ,$(PROXY_LISTEN)))
PROXY_PORT   := $(lastword $(subst :, ,$(PROXY_LISTEN)))

NODE_DIR     := tests/clients/node
# Debian's Go packages live in a GOPATH tree; tests/client_suite.rs builds tests/clients/go with
# GO111MODULE=off against it (no module proxy needed).
GO_DRIVER    := /usr/share/gocode/src/github.com/go-sql-driver/mysql/driver.go

# $(call PY_DEP,module,pip spec,apt package,python check): installs a Python package when
# `import module` fails or the check (a Python expression, e.g. on module.__version__) is false:
# with pip (installed from apt when missing: a fresh Debian 12 has none), into the active
# environment (pyenv, venv), else past Debian's PEP 668 guard, else --user, else the distro package.
define PY_DEP
if ! $(PYTHON) -c 'import $(1); assert $(4)' 2>/dev/null; then \
  command -v $(PYTHON) >/dev/null || { echo "python3 not found: install python3 (apt-get install python3)"; exit 1; }; \
  if [ "$$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi; \
  echo "installing $(2)"; \
  if ! $(PYTHON) -m pip --version >/dev/null 2>&1 && command -v apt-get >/dev/null; then \
    $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y python3-pip; \
  fi; \
  $(PYTHON) -m pip install --quiet $(2) 2>/dev/null \
  || $(PYTHON) -m pip install --quiet --break-system-packages $(2) 2>/dev/null \
  || $(PYTHON) -m pip install --quiet --user --break-system-packages $(2) 2>/dev/null \
  || { command -v apt-get >/dev/null && $$sudo apt-get update -qq \
       && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y $(3); } \
  || true; \
  $(PYTHON) -c 'import $(1); assert $(4)' || { \
    echo "could not install $(2) for $$(command -v $(PYTHON)): run '$(PYTHON) -m pip install $(2)'"; exit 1; }; \
fi
endef

.PHONY: server-deps deps build demo test bench clean-sandbox

server-deps:
	@if ! command -v mariadbd >/dev/null || ! command -v mariadb-install-db >/dev/null \
	    || ! command -v mariadb >/dev/null || ! command -v sysbench >/dev/null; then \
	  command -v apt-get >/dev/null || { echo "install mariadb-server, mariadb-client and sysbench with your package manager"; exit 1; }; \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi; \
	  echo "installing mariadb-server mariadb-client sysbench"; \
	  $$sudo apt-get update && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y mariadb-server mariadb-client sysbench; \
	fi
	@command -v $(CARGO) >/dev/null || { \
	  echo "cargo not found: install Rust from https://rustup.rs"; \
	  echo "  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y"; \
	  exit 1; }

deps: server-deps
	@# Python drivers for tests/clients.rs and tests/client_suite.rs (see PY_DEP above).
	@$(call PY_DEP,pymysql,pymysql,python3-pymysql,True)
	@# mysqlclient (MySQLdb) compiles against the MariaDB C connector: headers and pkg-config.
	@if ! $(PYTHON) -c 'import MySQLdb' 2>/dev/null && command -v apt-get >/dev/null \
	    && { ! pkg-config --exists libmariadb 2>/dev/null || ! command -v cc >/dev/null; }; then \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi; \
	  echo "installing libmariadb-dev pkg-config build-essential python3-dev (to build mysqlclient)"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    $$sudo apt-get install -y libmariadb-dev pkg-config build-essential python3-dev; \
	fi
	@$(call PY_DEP,MySQLdb,mysqlclient,python3-mysqldb,True)
	@# SQLAlchemy 2.0 exactly (Debian 12's python3-sqlalchemy is 1.4: the version check refuses it).
	@$(call PY_DEP,sqlalchemy,SQLAlchemy~=2.0.0,python3-sqlalchemy,sqlalchemy.__version__.startswith("2.0."))
	@# node and mysql2 (tests/clients/node): the machine's node/npm, else Debian's; the modules
	@# from the committed lock file, reinstalled only when the lock file changed.
	@if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
	  command -v apt-get >/dev/null || { echo "install node and npm with your package manager"; exit 1; }; \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi; \
	  echo "installing nodejs npm"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y nodejs npm; \
	fi
	@if ! cmp -s $(NODE_DIR)/package-lock.json $(NODE_DIR)/node_modules/.shardgate-lock.json; then \
	  echo "installing node modules in $(NODE_DIR)"; \
	  (cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error) \
	  && cp $(NODE_DIR)/package-lock.json $(NODE_DIR)/node_modules/.shardgate-lock.json \
	  || { echo "npm ci failed in $(NODE_DIR)"; exit 1; }; \
	fi
	@# Go and go-sql-driver/mysql (tests/clients/go), both from apt.
	@if ! command -v go >/dev/null || [ ! -f $(GO_DRIVER) ]; then \
	  command -v apt-get >/dev/null || { echo "install Go and go-sql-driver/mysql in $(dir $(GO_DRIVER)) (GOPATH mode)"; exit 1; }; \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi; \
	  echo "installing golang-go golang-github-go-sql-driver-mysql-dev"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    $$sudo apt-get install -y golang-go golang-github-go-sql-driver-mysql-dev; \
	fi

build:
	$(CARGO) build --release

# The servers outlive `sandbox up`; the trap brings them down when the proxy exits
# (Ctrl-C included).
demo: server-deps build
	@$(BIN) sandbox down --dir $(SANDBOX_DIR) >/dev/null
	$(BIN) sandbox up --dir $(SANDBOX_DIR) --shards 2 --replicas 1 --base-port $(BASE_PORT)
	@trap '$(BIN) sandbox down --dir $(SANDBOX_DIR)' EXIT; trap 'exit 130' INT TERM; \
	echo; \
	echo "connect:  mariadb -h$(PROXY_HOST) -P$(PROXY_PORT) -uapp -papp shop"; \
	echo "sysbench: sysbench oltp_read_write --db-driver=mysql --mysql-host=$(PROXY_HOST) --mysql-port=$(PROXY_PORT) \\"; \
	echo "            --mysql-user=app --mysql-password=app --mysql-db=shop --tables=4 --table-size=10000 prepare"; \
	echo "          sysbench oltp_read_write --db-driver=mysql --mysql-host=$(PROXY_HOST) --mysql-port=$(PROXY_PORT) \\"; \
	echo "            --mysql-user=app --mysql-password=app --mysql-db=shop --tables=4 --table-size=10000 \\"; \
	echo "            --threads=8 --time=30 --report-interval=5 run"; \
	echo "Ctrl-C stops the proxy and the sandbox."; \
	echo; \
	$(BIN) serve --config $(SANDBOX_DIR)/rules.toml --listen $(PROXY_LISTEN)

# Test servers die with their test process (PR_SET_PDEATHSIG) and use free ports,
# so a killed run leaves no server behind; its temp dirs are swept by the next run.
test: deps
	$(CARGO) test --release --features failpoints

BENCH ?= quick

# socat is the relay the proxy is compared with (a plain TCP forwarder: the floor).
bench: server-deps build
	@if ! command -v socat >/dev/null; then \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi; \
	  echo "installing socat"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y socat; \
	fi
	$(PYTHON) bench/harness.py --preset $(BENCH)

clean-sandbox:
	@if [ -x $(BIN) ]; then \
	  $(BIN) sandbox down --dir $(SANDBOX_DIR); \
	else \
	  for f in $(SANDBOX_DIR)/*/mariadbd.pid; do [ -f "$$f" ] && kill "$$(cat "$$f")" 2>/dev/null; done; true; \
	  sleep 3; \
	fi
	rm -rf $(SANDBOX_DIR)
