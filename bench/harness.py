#!/usr/bin/env python3
"""The benchmark harness behind `make bench` (see bench/README.md).

Starts its own sandbox (4 shards, no replica) and measures, in one session, sysbench against:

- direct:  one MariaDB (shard s0's server), database `benchdirect`;
- relay:   the same server through a plain TCP relay (socat with nodelay): the floor any proxy
           is compared with, since it does no SQL work at all;
- proxy1:  shardgate over that one server (schema `bench1`, nothing sharded): the pure cost of
           the proxy;
- proxy2, proxy4: shardgate over 2 and 4 shards, sysbench's tables hash-sharded by id;
- proxy1w1 (any proxyNwW): proxyN with `worker_threads = W` instead of one thread per core.

Runs alternate between the targets and repeat (`--rounds`); medians are reported. Per run:
queries and transactions per second, latency p50/p95/p99 (from sysbench's histogram), the CPU
time per query of the process in the middle (shardgate or socat, utime+stime from /proc over
the run, socat's per-connection children included) and of the MariaDB servers, and the peak
RSS of the process in the middle. Results go to `bench/results/<date>-<preset>.md` and `.json`;
the summary table of the last run is written into bench/README.md between its markers.

Only the Python standard library is used, so `make bench` needs nothing beyond what it installs
(sysbench, socat, MariaDB) on a fresh machine.
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import resource
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "target" / "release" / "shardgate"
TICK = os.sysconf("SC_CLK_TCK")
RELAY_PORT = 3340
PROXY_PORT = 3340  # + shards, + 10 x worker threads when set


def proxy_target(name):
    """`proxyN` or `proxyNwW` -> (N shards, W worker threads or None); None otherwise."""
    m = re.fullmatch(r"proxy(\d+)(?:w(\d+))?", name)
    return (int(m.group(1)), int(m.group(2)) if m.group(2) else None) if m else None
SANDBOX_PORT = 4200
POOL_BOUND = 64  # max_backend_connections of the harness's proxies

PRESETS = {
    # `make bench`: the workloads the issue's targets are stated for, both PS modes, 8 threads.
    "quick": dict(
        workloads=["oltp_point_select", "oltp_read_only", "oltp_read_write"],
        ps_modes=["auto", "disable"],
        threads=[8],
        targets=["direct", "relay", "proxy1", "proxy1w1", "proxy2"],
        rounds=3,
        secs=10,
        idle=10000,
        busy=1000,
        large=8,
        large_mb=60,
    ),
    # `make bench BENCH=full`: every workload, thread count and target (about two hours).
    "full": dict(
        workloads=[
            "oltp_point_select",
            "oltp_read_only",
            "oltp_read_write",
            "oltp_insert",
            "oltp_update_index",
            "scatter",
        ],
        ps_modes=["auto", "disable"],
        threads=[1, 8, 32, 128],
        targets=["direct", "relay", "proxy1", "proxy2", "proxy4"],
        rounds=2,
        secs=8,
        idle=10000,
        busy=1000,
        large=8,
        large_mb=60,
    ),
    # A smoke run of the harness itself.
    "smoke": dict(
        workloads=["oltp_point_select", "scatter"],
        ps_modes=["auto"],
        threads=[4],
        targets=["direct", "relay", "proxy1", "proxy2"],
        rounds=1,
        secs=2,
        idle=500,
        busy=100,
        large=2,
        large_mb=8,
    ),
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def cpu_ticks(pid):
    """utime+stime of `pid` and of its waited-for children (socat's per-connection children)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the command: state(0) ... utime(11) stime(12) cutime(13) cstime(14).
    return sum(int(x) for x in fields[11:15])


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssPeak(threading.Thread):
    """Samples a process's resident memory every 50 ms; `peak` is the largest seen."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_kb(self.pid))
            time.sleep(0.05)


def wait_port(port, secs=20):
    end = time.time() + secs
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {secs} s")


def sql_root(port, sql):
    run(["mariadb", "--protocol=TCP", "-h127.0.0.1", f"-P{port}", "-uroot", "-e", sql])


def sql_value(port, sql):
    out = subprocess.run(["mariadb", "--protocol=TCP", "-h127.0.0.1", f"-P{port}", "-uroot",
                          "-N", "-B", "-e", sql], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed by the server")
        buf += chunk
    return buf


def read_packet(sock):
    head = recv_exact(sock, 4)
    return recv_exact(sock, head[0] | head[1] << 8 | head[2] << 16)


def mysql_login(port, user, password, db):
    """A client connection logged in with mysql_native_password (standard library only)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    hs = read_packet(sock)
    # Handshake v10: protocol, version NUL, thread id (4), salt part 1 (8), filler,
    # capabilities (2), charset, status (2), capabilities (2), salt length, reserved (10),
    # salt part 2 (NUL-terminated).
    i = hs.index(b"\0", 1) + 1 + 4
    salt = hs[i:i + 8]
    i += 8 + 1 + 2 + 1 + 2 + 2
    salt_len = hs[i]
    i += 1 + 10
    salt += hs[i:i + max(13, salt_len - 8) - 1]
    h1 = hashlib.sha1(password.encode()).digest()
    h3 = hashlib.sha1(salt + hashlib.sha1(h1).digest()).digest()
    token = bytes(a ^ b for a, b in zip(h1, h3))
    # CLIENT_LONG_PASSWORD | CONNECT_WITH_DB | PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH
    caps = 0x1 | 0x8 | 0x200 | 0x8000 | 0x80000
    body = (struct.pack("<IIB23x", caps, 1 << 24, 45) + user.encode() + b"\0"
            + bytes([len(token)]) + token + db.encode() + b"\0" + b"mysql_native_password\0")
    sock.sendall(struct.pack("<I", len(body))[:3] + b"\x01" + body)
    answer = read_packet(sock)
    if answer[0] != 0:
        raise ConnectionError(f"login refused: {answer[3:]!r}")
    return sock


def raise_open_files():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def percentile(hist, p):
    """The latency (ms) at percentile `p` of sysbench's histogram [(value, count)]."""
    total = sum(c for _, c in hist)
    if total == 0:
        return None
    need, seen = total * p / 100.0, 0
    for value, count in hist:
        seen += count
        if seen >= need:
            return value
    return hist[-1][0]


def parse_report(text):
    def per_sec(label):
        m = re.search(rf"{label}:\s+\d+\s+\(([\d.]+) per sec\.\)", text)
        return float(m.group(1)) if m else 0.0

    def count(label):
        m = re.search(rf"{label}:\s+(\d+)", text)
        return int(m.group(1)) if m else 0

    hist = [
        (float(v), int(c))
        for v, c in re.findall(r"^\s*([\d.]+)\s+\|\**\s+(\d+)\s*$", text, re.M)
    ]
    return dict(
        tps=per_sec("transactions"),
        qps=per_sec("queries"),
        queries=count("queries"),
        p50=percentile(hist, 50),
        p95=percentile(hist, 95),
        p99=percentile(hist, 99),
        ignored=count("ignored errors"),
        reconnects=count("reconnects"),
    )


class Bench:
    def __init__(self, args, preset):
        self.args, self.p = args, preset
        self.dir = Path(tempfile.mkdtemp(prefix="shardgate-harness-"))
        self.procs = []
        self.server_pids = []
        self.targets = {}

    # -- set-up ---------------------------------------------------------------------------
    def up(self):
        proxies = [(t, proxy_target(t)) for t in self.p["targets"] if proxy_target(t)]
        shards = max([n for _, (n, _) in proxies], default=1)
        log(f"sandbox: {shards} shards in {self.dir}")
        run([str(BIN), "sandbox", "up", "--dir", str(self.dir), "--shards", str(shards),
             "--replicas", "0", "--base-port", str(SANDBOX_PORT)])
        rules = tomllib.loads((self.dir / "rules.toml").read_text())
        self.urls = [s["primary"] for s in rules["shards"]]
        self.ports = [int(re.search(r":(\d+)$", u).group(1)) for u in self.urls]
        for s in range(shards):
            self.server_pids.append(int((self.dir / f"s{s}" / "mariadbd.pid").read_text()))
            # Room for the large-statement run (before the proxies connect: a connection keeps
            # the limit it started with).
            sql_root(self.ports[s], "SET GLOBAL max_allowed_packet = 268435456")
        s0 = self.ports[0]
        sql_root(s0, "CREATE DATABASE IF NOT EXISTS benchdirect")
        common = dict(host="127.0.0.1", prepare=True)
        if "direct" in self.p["targets"] or "relay" in self.p["targets"]:
            self.targets["direct"] = dict(common, port=s0, user="root", password=None,
                                          db="benchdirect", middle=None, servers=[0])
        if "relay" in self.p["targets"]:
            if not shutil.which("socat"):
                raise SystemExit("socat is missing (make bench installs it)")
            relay = subprocess.Popen(
                ["socat", f"TCP-LISTEN:{RELAY_PORT},fork,reuseaddr,nodelay,backlog=1024",
                 f"TCP:127.0.0.1:{s0},nodelay"])
            self.procs.append(relay)
            wait_port(RELAY_PORT)
            self.targets["relay"] = dict(common, port=RELAY_PORT, user="root", password=None,
                                         db="benchdirect", middle=relay.pid, servers=[0],
                                         prepare=False)
        prepared = set()
        for t, (n, workers) in proxies:
            # proxyN and proxyNwW share schema benchN (prepared once).
            db = f"bench{n}"
            for s in range(n):
                sql_root(self.ports[s], f"CREATE DATABASE IF NOT EXISTS {db}; "
                         f"GRANT ALL PRIVILEGES ON {db}.* TO 'shardgate'@'127.0.0.1'")
            path = self.dir / f"{t}.toml"
            path.write_text(self.proxy_rules(n, db, workers))
            port = PROXY_PORT + n + 10 * (workers or 0)
            proc = subprocess.Popen(
                [str(BIN), "serve", "--config", str(path), "--listen", f"127.0.0.1:{port}",
                 "--metrics-listen", "off", "--log-level", "warn"],
                stderr=open(self.dir / f"{t}.log", "w"))
            self.procs.append(proc)
            wait_port(port)
            self.targets[t] = dict(common, port=port, user="app", password="app", db=db,
                                   middle=proc.pid, servers=list(range(n)),
                                   prepare=db not in prepared)
            prepared.add(db)
        for name, t in self.targets.items():
            if t["prepare"]:
                log(f"prepare: {name}")
                out = self.sysbench("oltp_read_write", t, threads=4, ps="auto", phase="prepare")
                (self.dir / f"prepare-{name}.log").write_text(out)
                if os.environ.get("HARNESS_DEBUG"):
                    log(out)

    def proxy_rules(self, n, db, workers=None):
        # Room for the idle-client run; a pool bound well below MariaDB's max_connections (151).
        # A backend may take long over the large-statement run's inserts on a busy machine.
        out = ['listen = "127.0.0.1:0"', "", "[proxy]", "max_connections = 12000",
               f"max_backend_connections = {POOL_BOUND}", "backend_timeout_ms = 120000"]
        if workers:
            out.append(f"worker_threads = {workers}")
        out.append("")
        out += ["[[users]]", 'name = "app"', 'password = "app"', ""]
        for s in range(n):
            out += ["[[shards]]", f'name = "s{s}"', f'primary = "{self.urls[s]}"', ""]
        out += ["[[schemas]]", f'name = "{db}"', 'default_shard = "s0"', ""]
        if n > 1:
            out += ["[[schemas.tables]]", 'names = ["sbtest*"]', 'algorithm = "hash"',
                    'key = "id"', 'key_type = "int"', 'auto_increment = "id"', ""]
        return "\n".join(out)

    def down(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run([str(BIN), "sandbox", "down", "--dir", str(self.dir)],
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- runs -----------------------------------------------------------------------------
    def sysbench(self, workload, t, threads, ps, phase, secs=0):
        script = str(ROOT / "bench" / "scatter.lua") if workload == "scatter" else workload
        cmd = ["sysbench", script, "--db-driver=mysql", f"--mysql-host={t['host']}",
               f"--mysql-port={t['port']}", f"--mysql-user={t['user']}",
               f"--mysql-db={t['db']}", f"--tables={self.args.tables}",
               f"--table-size={self.args.table_size}", f"--threads={threads}",
               f"--db-ps-mode={ps}"]
        if t["password"]:
            cmd.append(f"--mysql-password={t['password']}")
        if phase == "run":
            cmd += [f"--time={secs}", "--report-interval=0", "--histogram=on"]
        cmd.append(phase)
        r = subprocess.run(cmd, text=True, capture_output=True)
        # sysbench's prepare exits 0 after a failed statement: its FATAL lines tell.
        if r.returncode != 0 or "FATAL" in r.stdout + r.stderr:
            raise SystemExit(f"sysbench failed: {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
        return r.stdout

    def measure(self, workload, target, threads, ps):
        t = self.targets[target]
        middle = t["middle"]
        servers = [self.server_pids[s] for s in t["servers"]]
        sampler = RssPeak(middle) if middle else None
        before_mid = cpu_ticks(middle) if middle else 0
        before_db = sum(cpu_ticks(p) for p in servers)
        if sampler:
            sampler.start()
        text = self.sysbench(workload, t, threads, ps, "run", self.p["secs"])
        # socat's children are counted once they have exited and been reaped.
        time.sleep(0.3)
        if sampler:
            sampler.stop.set()
            sampler.join()
        res = parse_report(text)
        q = max(res["queries"], 1)
        res["cpu_mid_us"] = ((cpu_ticks(middle) - before_mid) / TICK * 1e6 / q) if middle else None
        res["cpu_db_us"] = (sum(cpu_ticks(p) for p in servers) - before_db) / TICK * 1e6 / q
        res["rss_mb"] = sampler.peak / 1024 if sampler else None
        return res

    def backend_conns(self, db):
        return int(sql_value(self.ports[0], "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                             f"WHERE USER = 'shardgate' AND DB = '{db}'") or 0)

    def scale(self):
        """Connection scale on proxy1: idle clients held (memory per connection, backend
        connections), then many busy clients on the bounded pool."""
        t = self.targets.get("proxy1")
        if not t or not self.p.get("idle"):
            return None
        pid, db = t["middle"], t["db"]
        # The other proxies go first: proxy1wW shares proxy1's schema, and its pooled
        # connections would count as proxy1's in the server's process list.
        for proc in self.procs:
            if proc.pid != pid:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        time.sleep(1)
        limit = raise_open_files()
        n = min(self.p["idle"], limit - 200)
        rss0, conns0 = rss_kb(pid), self.backend_conns(db)
        held, failed = [], 0
        started = time.time()
        for _ in range(n):
            try:
                held.append(mysql_login(t["port"], t["user"], t["password"], db))
            except OSError as e:
                failed += 1
                if failed == 1:
                    log(f"idle client refused: {e}")
        secs = time.time() - started
        time.sleep(1)
        rss1, conns1 = rss_kb(pid), self.backend_conns(db)
        for sock in held:
            sock.close()
        idle = dict(clients=len(held), refused=failed, login_secs=secs,
                    rss_before_mb=rss0 / 1024, rss_after_mb=rss1 / 1024,
                    kb_per_client=(rss1 - rss0) / max(len(held), 1),
                    backend_before=conns0, backend_after=conns1)
        log(f"idle: {len(held)} clients held ({failed} refused), RSS {rss0 / 1024:.0f} -> "
            f"{rss1 / 1024:.0f} MB, backend connections {conns0} -> {conns1}")
        time.sleep(2)
        threads = self.p["busy"]
        most = [0]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                most[0] = max(most[0], self.backend_conns(db))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            res = parse_report(self.sysbench("oltp_point_select", t, threads, "disable", "run",
                                             self.p["secs"]))
        except SystemExit as e:
            # Reported, not fatal: the other results stand.
            log(f"busy clients: {e}")
            return dict(idle=idle, busy=dict(threads=threads, failed=str(e)[-400:],
                                             bound=POOL_BOUND))
        finally:
            stop.set()
            sampler.join()
        busy = dict(threads=threads, qps=res["qps"], p99=res["p99"], ignored=res["ignored"],
                    reconnects=res["reconnects"], backend_max=most[0], bound=POOL_BOUND)
        log(f"busy: {threads} clients, {res['qps']:.0f} qps, errors "
            f"{res['ignored']}/{res['reconnects']}, at most {most[0]} backend connections")
        return dict(idle=idle, busy=busy)

    def large(self):
        """Large statements on proxy1: `large` clients at once each INSERT a row of `large_mb`
        MB (one statement of that size), then each read it back; the proxy's peak RSS above
        what it held before each phase."""
        t = self.targets.get("proxy1")
        n, mb = self.p.get("large"), self.p.get("large_mb")
        if not t or not n:
            return None
        pid, db = t["middle"], t["db"]
        sql_root(self.ports[0], f"CREATE TABLE IF NOT EXISTS {db}.large_rows "
                 "(id INT PRIMARY KEY, b LONGBLOB); "
                 f"TRUNCATE TABLE {db}.large_rows")
        client = ["mariadb", "--protocol=TCP", "-h127.0.0.1", f"-P{t['port']}",
                  f"-u{t['user']}", f"-p{t['password']}", "--max-allowed-packet=256M", db]
        value = b"x" * (mb << 20)

        def phase(name, start):
            time.sleep(1)
            before = rss_kb(pid)
            peak = RssPeak(pid)
            peak.start()
            began = time.time()
            procs = [start(i) for i in range(n)]
            failed = 0
            for p in procs:
                p.wait()
                err = p.stderr.read()
                if p.returncode != 0:
                    failed += 1
                    log(f"large {name}: {err.decode(errors='replace')[-300:]}")
            secs = time.time() - began
            peak.stop.set()
            peak.join()
            out = dict(before_mb=before / 1024, peak_mb=peak.peak / 1024,
                       above_mb=(peak.peak - before) / 1024, failed=failed, secs=secs)
            log(f"large {name}: {n} x {mb} MB, RSS {before / 1024:.0f} -> peak "
                f"{peak.peak / 1024:.0f} MB ({failed} failed)")
            return out

        def insert(i):
            p = subprocess.Popen(client, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
            # Fed from a thread each, so that the statements arrive together.
            threading.Thread(target=lambda: (
                p.stdin.write(b"INSERT INTO large_rows VALUES (%d, '" % i + value + b"');\n"),
                p.stdin.close()), daemon=True).start()
            return p

        def select(i):
            return subprocess.Popen(client + ["-e", f"SELECT b FROM large_rows WHERE id = {i}"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        return dict(clients=n, mb=mb, insert=phase("insert", insert),
                    select=phase("select", select))

    def all_runs(self):
        runs = []
        names = [t for t in self.p["targets"] if t in self.targets]
        total = (len(self.p["workloads"]) * len(self.p["ps_modes"]) * len(self.p["threads"])
                 * self.p["rounds"] * len(names))
        i = 0
        for workload in self.p["workloads"]:
            for ps in self.p["ps_modes"]:
                for threads in self.p["threads"]:
                    for rnd in range(self.p["rounds"]):
                        # Alternate the order so that drift favours no target.
                        order = names if rnd % 2 == 0 else list(reversed(names))
                        for target in order:
                            i += 1
                            res = self.measure(workload, target, threads, ps)
                            res.update(workload=workload, ps=ps, threads=threads,
                                       target=target, round=rnd)
                            log(f"[{i}/{total}] {workload} ps={ps} threads={threads} "
                                f"{target}: {res['qps']:.0f} qps, p99 {res['p99']} ms")
                            runs.append(res)
        return runs


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarize(runs):
    groups = {}
    for r in runs:
        groups.setdefault((r["workload"], r["ps"], r["threads"], r["target"]), []).append(r)
    rows = []
    for (w, ps, th, target), rs in groups.items():
        row = dict(workload=w, ps=ps, threads=th, target=target, runs=len(rs))
        for k in ["qps", "tps", "p50", "p95", "p99", "cpu_mid_us", "cpu_db_us", "rss_mb"]:
            row[k] = median([r[k] for r in rs])
        row["ignored"] = sum(r["ignored"] for r in rs)
        row["reconnects"] = sum(r["reconnects"] for r in rs)
        rows.append(row)
    index = {(r["workload"], r["ps"], r["threads"], r["target"]): r for r in rows}
    for r in rows:
        key = (r["workload"], r["ps"], r["threads"])
        d, rel = index.get(key + ("direct",)), index.get(key + ("relay",))
        r["vs_direct"] = r["qps"] / d["qps"] if d and d["qps"] else None
        r["vs_relay"] = r["qps"] / rel["qps"] if rel and rel["qps"] else None
        r["cpu_vs_relay"] = (r["cpu_mid_us"] / rel["cpu_mid_us"]
                             if rel and r["cpu_mid_us"] and rel["cpu_mid_us"] else None)
        r["p99_minus_relay"] = (r["p99"] - rel["p99"]
                                if rel and r["p99"] is not None and rel["p99"] is not None
                                else None)
    return rows


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def table(rows):
    out = ["| workload | ps | thr | target | qps | /direct | /relay | p50 ms | p95 ms | p99 ms "
           "| CPU µs/q (middle) | CPU /relay | MariaDB CPU µs/q | peak RSS MB | errors |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(
            f"| {r['workload']} | {r['ps']} | {r['threads']} | {r['target']} | "
            f"{fmt(r['qps'], '.0f')} | {fmt(r['vs_direct'], '.2f')} | {fmt(r['vs_relay'], '.2f')} | "
            f"{fmt(r['p50'], '.2f')} | {fmt(r['p95'], '.2f')} | {fmt(r['p99'], '.2f')} | "
            f"{fmt(r['cpu_mid_us'], '.1f')} | {fmt(r['cpu_vs_relay'], '.2f')} | "
            f"{fmt(r['cpu_db_us'], '.1f')} | {fmt(r['rss_mb'], '.0f')} | "
            f"{r['ignored']}/{r['reconnects']} |")
    return "\n".join(out)


def targets_check(rows):
    """The issue's targets for a single shard, 8 threads: met or not, with the numbers."""
    out = []
    for r in rows:
        if (proxy_target(r["target"]) is None or proxy_target(r["target"])[0] != 1
                or r["threads"] != 8
                or r["workload"] not in ("oltp_point_select", "oltp_read_only")):
            continue
        checks = [
            ("CPU/query <= 1.25x relay", r["cpu_vs_relay"], lambda v: v <= 1.25, ".2f"),
            ("throughput >= 0.9x relay", r["vs_relay"], lambda v: v >= 0.9, ".2f"),
            ("p99 within 0.2 ms of relay", r["p99_minus_relay"], lambda v: v <= 0.2, "+.2f"),
        ]
        for name, v, ok, spec in checks:
            verdict = "not measured" if v is None else ("met" if ok(v) else "NOT met")
            out.append(f"- {r['target']} {r['workload']} ps={r['ps']}: {name}: {fmt(v, spec)} "
                       f"({verdict})")
    return "\n".join(out)


def scale_text(scale):
    if not scale:
        return ""
    i, b = scale["idle"], scale["busy"]
    if "failed" in b:
        b = dict(b, qps=0, p99=None, ignored=-1, reconnects=-1, backend_max=-1)
    verdict_idle = "met" if i["backend_after"] <= max(i["backend_before"], 1) else "NOT met"
    verdict_busy = ("met" if b["ignored"] == 0 and b["reconnects"] == 0
                    and b["backend_max"] <= b["bound"] else "NOT met")
    return (
        "\nConnection scale (proxy1, `max_backend_connections = "
        f"{b['bound']}`):\n\n"
        f"- {i['clients']} idle clients held ({i['refused']} refused; logged in in "
        f"{i['login_secs']:.0f} s): proxy RSS {i['rss_before_mb']:.0f} -> "
        f"{i['rss_after_mb']:.0f} MB, {i['kb_per_client']:.1f} KB per client; the proxy's "
        f"backend connections {i['backend_before']} -> {i['backend_after']} (idle clients "
        f"hold none: {verdict_idle})\n"
        f"- {b['threads']} busy clients (oltp_point_select, PS off): {b['qps']:.0f} qps, p99 "
        f"{b['p99']} ms, errors {b['ignored']}/{b['reconnects']}, at most {b['backend_max']} "
        f"backend connections (bound {b['bound']}: {verdict_busy})\n")


def large_text(large):
    if not large:
        return ""
    out = [f"\nLarge statements (proxy1, {large['clients']} clients at once, one "
           f"{large['mb']} MB row each; target: peak RSS under 100 MB above idle):\n"]
    for name, what in [("insert", "INSERT of the row"), ("select", "SELECT of the row")]:
        r = large[name]
        verdict = "met" if r["above_mb"] < 100 and not r["failed"] else "NOT met"
        out.append(f"- {what}: RSS {r['before_mb']:.0f} -> peak {r['peak_mb']:.0f} MB, "
                   f"{r['above_mb']:.0f} MB above ({r['above_mb'] / large['clients']:.0f} MB "
                   f"per statement; {r['failed']} failed; {verdict})")
    return "\n".join(out) + "\n"


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    maria = subprocess.run(["mariadbd", "--version"], capture_output=True, text=True).stdout.strip()
    sb = subprocess.run(["sysbench", "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
            f"{maria or 'mariadbd'}, {sb}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", choices=PRESETS, default="quick")
    ap.add_argument("--secs", type=int, help="seconds per run")
    ap.add_argument("--rounds", type=int, help="repetitions of each run (medians reported)")
    ap.add_argument("--threads", help="comma-separated thread counts")
    ap.add_argument("--workloads", help="comma-separated sysbench tests (or scatter)")
    ap.add_argument("--targets",
                    help="comma-separated: direct,relay,proxy1,proxy2,proxy4,proxy1w1 (proxyNwW)")
    ap.add_argument("--tables", type=int, default=4)
    ap.add_argument("--table-size", type=int, default=10000)
    ap.add_argument("--idle", type=int,
                    help="idle clients held on proxy1 (0: no connection-scale runs)")
    ap.add_argument("--busy", type=int, help="sysbench threads of the busy-clients run")
    ap.add_argument("--large", type=int,
                    help="clients sending a large statement at once (0: no large-statement run)")
    ap.add_argument("--large-mb", type=int, help="size of each large statement in MB")
    ap.add_argument("--no-readme", action="store_true", help="leave bench/README.md alone")
    args = ap.parse_args()
    preset = dict(PRESETS[args.preset])
    for k in ["secs", "rounds", "idle", "busy", "large", "large_mb"]:
        if getattr(args, k) is not None:
            preset[k] = getattr(args, k)
    if args.threads:
        preset["threads"] = [int(x) for x in args.threads.split(",")]
    if args.workloads:
        preset["workloads"] = args.workloads.split(",")
    if args.targets:
        preset["targets"] = args.targets.split(",")
    if not BIN.exists():
        raise SystemExit(f"{BIN} is missing: cargo build --release")
    started = datetime.datetime.now()
    b = Bench(args, preset)
    try:
        b.up()
        runs = b.all_runs()
        scale = b.scale()
        # Last: its clients' sessions use a pool of their own (the mariadb client's session
        # settings differ from sysbench's), which the scale run would count.
        large = b.large()
    finally:
        b.down()
    rows = summarize(runs)
    stamp = started.strftime("%Y-%m-%d")
    head = (f"{stamp}, {machine()}; preset `{args.preset}` ({preset['secs']} s per run, "
            f"{preset['rounds']} rounds alternating, medians; {args.tables} tables x "
            f"{args.table_size} rows)")
    body = (f"{head}\n\n{table(rows)}\n\nTargets (single shard, 8 threads, against the relay "
            f"in the same session):\n\n{targets_check(rows) or '- not measured in this preset'}\n"
            f"{large_text(large)}{scale_text(scale)}")
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    base = results / f"{stamp}-{args.preset}"
    base.with_suffix(".md").write_text(f"# Benchmark {stamp} ({args.preset})\n\n{body}")
    base.with_suffix(".json").write_text(json.dumps(
        dict(machine=machine(), preset=args.preset, settings=preset, runs=runs, summary=rows,
             large=large, scale=scale),
        indent=1))
    print(body)
    if not args.no_readme:
        readme = ROOT / "bench" / "README.md"
        text = readme.read_text()
        start, end = "<!-- harness:summary -->", "<!-- /harness:summary -->"
        if start in text and end in text:
            before, rest = text.split(start, 1)
            after = rest.split(end, 1)[1]
            readme.write_text(f"{before}{start}\n{body}{end}{after}")
    log(f"results: {base}.md, {base}.json")


if __name__ == "__main__":
    main()
