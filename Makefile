# shardgate: build, test and demo against real MariaDB servers (see DESIGN.md).
#   make deps           install mariadb-server, mariadb-client, sysbench (apt) and PyMySQL if missing
#   make build          release build
#   make demo           2 shards x 1 replica on ports 4000-4003, proxy on 127.0.0.1:3307
#   make test           all tests; each test binary starts its own servers on free ports
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

.PHONY: deps build demo test clean-sandbox

deps:
	@if ! command -v mariadbd >/dev/null || ! command -v mariadb-install-db >/dev/null \
	    || ! command -v mariadb >/dev/null || ! command -v sysbench >/dev/null; then \
	  command -v apt-get >/dev/null || { echo "install mariadb-server, mariadb-client and sysbench with your package manager"; exit 1; }; \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi; \
	  echo "installing mariadb-server mariadb-client sysbench"; \
	  $$sudo apt-get update && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y mariadb-server mariadb-client sysbench; \
	fi
	@# PyMySQL, for tests/clients.rs (a real Python driver through the proxy). pip first (pyenv,
	@# venvs), then Debian's externally-managed system python (PEP 668), then the distro package
	@# when pip itself is missing (a fresh Debian 12 has no python3-pip).
	@if ! $(PYTHON) -c 'import pymysql' 2>/dev/null; then \
	  command -v $(PYTHON) >/dev/null || { echo "python3 not found: install python3 (apt-get install python3)"; exit 1; }; \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi; \
	  echo "installing pymysql"; \
	  $(PYTHON) -m pip install --quiet pymysql 2>/dev/null \
	  || $(PYTHON) -m pip install --quiet --break-system-packages pymysql 2>/dev/null \
	  || $(PYTHON) -m pip install --quiet --user --break-system-packages pymysql 2>/dev/null \
	  || { command -v apt-get >/dev/null && $$sudo apt-get update -qq \
	       && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y python3-pymysql; } \
	  || true; \
	  $(PYTHON) -c 'import pymysql' || { \
	    echo "could not install PyMySQL for $$(command -v $(PYTHON)): run '$(PYTHON) -m pip install pymysql'"; exit 1; }; \
	fi
	@command -v $(CARGO) >/dev/null || { \
	  echo "cargo not found: install Rust from https://rustup.rs"; \
	  echo "  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y"; \
	  exit 1; }

build:
	$(CARGO) build --release

# The servers outlive `sandbox up`; the trap brings them down when the proxy exits
# (Ctrl-C included).
demo: deps build
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
	$(CARGO) test --release

clean-sandbox:
	@if [ -x $(BIN) ]; then \
	  $(BIN) sandbox down --dir $(SANDBOX_DIR); \
	else \
	  for f in $(SANDBOX_DIR)/*/mariadbd.pid; do [ -f "$$f" ] && kill "$$(cat "$$f")" 2>/dev/null; done; true; \
	  sleep 3; \
	fi
	rm -rf $(SANDBOX_DIR)
