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
import json
import os
import platform
import re
import shutil
import socket
import statistics
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

PRESETS = {
    # `make bench`: the workloads the issue's targets are stated for, both PS modes, 8 threads.
    "quick": dict(
        workloads=["oltp_point_select", "oltp_read_only", "oltp_read_write"],
        ps_modes=["auto", "disable"],
        threads=[8],
        targets=["direct", "relay", "proxy1", "proxy1w1", "proxy2"],
        rounds=3,
        secs=10,
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
    ),
    # A smoke run of the harness itself.
    "smoke": dict(
        workloads=["oltp_point_select", "scatter"],
        ps_modes=["auto"],
        threads=[4],
        targets=["direct", "relay", "proxy1", "proxy2"],
        rounds=1,
        secs=2,
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
        out = ['listen = "127.0.0.1:0"', ""]
        if workers:
            out += ["[proxy]", f"worker_threads = {workers}", ""]
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
    ap.add_argument("--no-readme", action="store_true", help="leave bench/README.md alone")
    args = ap.parse_args()
    preset = dict(PRESETS[args.preset])
    for k in ["secs", "rounds"]:
        if getattr(args, k):
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
    finally:
        b.down()
    rows = summarize(runs)
    stamp = started.strftime("%Y-%m-%d")
    head = (f"{stamp}, {machine()}; preset `{args.preset}` ({preset['secs']} s per run, "
            f"{preset['rounds']} rounds alternating, medians; {args.tables} tables x "
            f"{args.table_size} rows)")
    body = (f"{head}\n\n{table(rows)}\n\nTargets (single shard, 8 threads, against the relay "
            f"in the same session):\n\n{targets_check(rows) or '- not measured in this preset'}\n")
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    base = results / f"{stamp}-{args.preset}"
    base.with_suffix(".md").write_text(f"# Benchmark {stamp} ({args.preset})\n\n{body}")
    base.with_suffix(".json").write_text(json.dumps(
        dict(machine=machine(), preset=args.preset, settings=preset, runs=runs, summary=rows),
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
