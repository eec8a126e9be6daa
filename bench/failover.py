#!/usr/bin/env python3
"""Failover time and replication lag of a murphy cluster on PostgreSQL, in one run:

three `murphy serve` nodes (release) on one throwaway PostgreSQL (scripts/pg.sh,
synchronous_commit on), stopped at the end, and:

1. Replication lag under full write load: wrk with bench/enroll.lua (64 connections,
   durable enrolls) at the primary for D seconds, then each secondary's
   murphy_replication_lag_seconds histogram from /metrics (per append: from its commit
   on PostgreSQL to its publication on the secondary): p50 and p99 (linear within a
   bucket), and the share of appends published within 50 ms.

2. Failover: `murphy bench --url a,b,c` (the registration-day scenario, exactly-once
   sessions, retries) writes through all three nodes for the whole phase, and three
   probes (one per node, moving on when a node cannot be reached) send a deposit each,
   back to back. R rounds; in each, after a random 1 to 4 s, `kill -9` the primary,
   then time from the kill to the first write answered that the new primary applied:
   the first probe answer whose LSN is at or past the log's first entry that arrived
   after the kill (the log's `at`; the dead primary applies nothing after it). Then
   restart the killed node on its port and wait until it follows the log again. At the
   end, `murphy check` verifies the load's history against the log (no lost writes,
   real-time order, sessions).

Pinned as bench/run.py: the nodes and PostgreSQL under `taskset -c 0`, the load (wrk,
murphy bench, this script's probes) under `taskset -c 1`.

Usage: python3 bench/failover.py [--rounds 10] [--lease-time-max-ms 1000] [--lag-duration 10]
       [--connections 64] [--json FILE]
"""

import argparse
import datetime
import http.client
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pg import Postgres  # noqa: E402
from run import BENCH, LOAD_CPU, ROOT, SERVER_CPU, free_port, wait_http, wrk  # noqa: E402

TOKEN = "failover-admin-token"
NODES = 3
SECTIONS = 300
STUDENTS = 6400
# How long the last writes may take to show in the log of a new primary, and a node to
# come back, before the run gives up.
SETTLE_TIME_MAX_S = 30
# A probe gives up on a request after this long and tries the next node.
PROBE_TIMEOUT_S = 5
# A probe waits this long after a failed request before the next one.
PROBE_PAUSE_S = 0.005
# The lag target: the share of appends published within it is reported.
LAG_TARGET_S = 0.05


class Node:
    """One `murphy serve` of the cluster, on a port it keeps across restarts."""

    def __init__(self, murphy, database, work, index, lease_time_max_ms):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = os.path.join(work, f"node{index}.log")
        self.cmd = SERVER_CPU + [murphy, "serve", "--listen", f"127.0.0.1:{self.port}", "--database", database,
                                 "--admin-token", TOKEN, "--lease-time-max-ms", str(lease_time_max_ms),
                                 "--data-dir", os.path.join(work, f"node{index}")]
        self.proc = None
        self.start()

    def start(self):
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=log, env={**os.environ, "RUST_LOG": "warn"})
        wait_http(self.url + "/healthz")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()

    def view(self):
        """GET /api/v1/cluster, or None while the node cannot answer."""
        try:
            return json.load(urllib.request.urlopen(self.url + "/api/v1/cluster", timeout=2))
        except OSError:
            return None

    def metrics(self):
        return urllib.request.urlopen(self.url + "/metrics", timeout=5).read().decode()


def primary(nodes, timeout_s=SETTLE_TIME_MAX_S):
    """The node that is the primary, once every live node agrees which it is."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        views = [(node, node.view()) for node in nodes if node.proc.poll() is None]
        leaders = [node for node, view in views if view and view["role"] == "primary"]
        named = {view["primary"] for _, view in views if view and view["role"] == "secondary"}
        if len(leaders) == 1 and named == {leaders[0].url}:
            return leaders[0]
        time.sleep(0.05)
    sys.exit("the cluster did not settle on one primary")


def following(node, timeout_s=SETTLE_TIME_MAX_S):
    """Waits until a restarted node is a secondary with the log applied."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        view = node.view()
        if view and view["role"] == "secondary" and view["primary"] and view["replication_behind_commands"] == 0:
            return
        time.sleep(0.05)
    sys.exit(f"{node.url} did not follow the log again")


def post(conn, body):
    conn.request("POST", "/api/v1/commands", body=json.dumps(body),
                 headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, response.read()


class Probe(threading.Thread):
    """Deposits a cent for its own student, back to back, through one node until it
    cannot be reached, then the next. Records each answered write: (answered, lsn)."""

    def __init__(self, nodes, index, stop):
        super().__init__(daemon=True)
        self.nodes, self.index, self.stop = nodes, index, stop
        self.student = f"probe{index}"
        self.answers = []

    def run(self):
        node = self.index
        conn = None
        command = {"commands": [{"type": "deposit", "student": self.student, "amount_cents": 1}]}
        while not self.stop.is_set():
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.nodes[node].port, timeout=PROBE_TIMEOUT_S)
                status, body = post(conn, command)
                if status == 200:
                    self.answers.append((time.time(), json.loads(body)["results"][0]["lsn"]))
                    continue
            except (OSError, http.client.HTTPException):
                pass
            if conn:
                conn.close()
            conn = None
            node = (node + 1) % len(self.nodes)
            time.sleep(PROBE_PAUSE_S)


def instant(text):
    """An RFC 3339 instant of the log (nanoseconds, Z) as seconds since 1970."""
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", text)
    whole = datetime.datetime.fromisoformat(match.group(1) + (match.group(3).replace("Z", "+00:00")))
    return whole.timestamp() + float("0." + (match.group(2) or "0"))


def first_after(node, after_lsn, killed_at):
    """The LSN of the log's first entry that arrived after `killed_at`, reading on from
    `after_lsn` (an LSN from before the kill)."""
    deadline = time.time() + SETTLE_TIME_MAX_S
    while time.time() < deadline:
        request = urllib.request.Request(f"{node.url}/api/v1/log?after={after_lsn}&limit=10000",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        lines = urllib.request.urlopen(request, timeout=10).read().decode().splitlines()
        for line in lines:
            entry = json.loads(line)
            if instant(entry["at"]) > killed_at:
                return entry["lsn"]
        if lines:
            after_lsn = json.loads(lines[-1])["lsn"]
        time.sleep(0.1)
    sys.exit("no entry arrived after the kill")


def histogram(text, name):
    """Cumulative buckets [(upper bound, count)] of a Prometheus histogram."""
    return [(float("inf") if le == "+Inf" else float(le), int(n))
            for le, n in re.findall(rf'{name}_bucket\{{le="([^"]+)"\}} (\d+)', text)]


def quantile(buckets, q):
    """The q-quantile of cumulative buckets, linear within its bucket."""
    total = buckets[-1][1]
    if total == 0:
        return float("nan")
    rank, lower, below = q * total, 0.0, 0
    for bound, cumulative in buckets:
        if cumulative >= rank:
            if bound == float("inf"):
                return lower
            return lower + (bound - lower) * (rank - below) / max(cumulative - below, 1)
        lower, below = bound, cumulative
    return lower


def lag_phase(nodes, args):
    """Full write load at the primary; each secondary's lag histogram over it."""
    leader = primary(nodes)
    secondaries = [node for node in nodes if node is not leader]
    name = "murphy_replication_lag_seconds"
    before = {node.url: histogram(node.metrics(), name) for node in secondaries}
    env = {"MURPHY_TOKEN": TOKEN, "SECTIONS": str(SECTIONS), "STUDENTS": str(STUDENTS)}

    class Load:
        threads, connections, duration = 1, args.connections, args.lag_duration

    load = wrk(leader.url + "/api/v1/commands", Load, os.path.join(BENCH, "enroll.lua"), env)
    rows = []
    for node in secondaries:
        after = histogram(node.metrics(), name)
        base = dict(before[node.url])
        buckets = [(bound, n - base.get(bound, 0)) for bound, n in after]
        within = next(n for bound, n in buckets if bound >= LAG_TARGET_S)
        rows.append({"node": node.url, "appends": buckets[-1][1], "p50_ms": 1000 * quantile(buckets, 0.5),
                     "p99_ms": 1000 * quantile(buckets, 0.99), "within_target": within / max(buckets[-1][1], 1),
                     "buckets": buckets})
    return load, rows


def failover_phase(nodes, murphy, work, args):
    """R rounds of kill -9 of the primary under load; the failover time of each."""
    bench_out = os.path.join(work, "bench")
    bench = subprocess.Popen(LOAD_CPU + [murphy, "bench", "--url", ",".join(node.url for node in nodes),
                                         "--admin-token", TOKEN, "--connections", str(args.connections),
                                         "--duration", "3600", "--out", bench_out],
                             stdout=open(os.path.join(work, "bench.txt"), "w"), stderr=subprocess.STDOUT)
    stop = threading.Event()
    probes = [Probe(nodes, i, stop) for i in range(NODES)]
    for probe in probes:
        probe.start()
    rounds = []
    try:
        for r in range(args.rounds):
            time.sleep(random.uniform(1, 4))
            leader = primary(nodes)
            before = leader.view()["version"]
            killed_at = time.time()
            leader.kill()
            survivors = [node for node in nodes if node is not leader]
            new = primary(survivors)
            boundary = first_after(new, before, killed_at)
            answered = [at for probe in probes for at, lsn in list(probe.answers) if lsn >= boundary]
            while not answered:
                time.sleep(0.05)
                answered = [at for probe in probes for at, lsn in list(probe.answers) if lsn >= boundary]
            rounds.append({"failover_s": min(answered) - killed_at, "killed": leader.url, "new": new.url,
                           "first_lsn": boundary})
            print(f"round {r + 1}/{args.rounds}: killed {leader.url}, {new.url} answered a write "
                  f"{rounds[-1]['failover_s']:.3f} s later", file=sys.stderr)
            leader.start()
            following(leader)
    finally:
        stop.set()
        bench.send_signal(signal.SIGINT)
        bench.wait()
    return rounds, bench_out


def check(murphy, nodes, bench_out):
    """murphy check of the load's history against the log; its summary line."""
    done = subprocess.run(LOAD_CPU + [murphy, "check", "--url", primary(nodes).url, "--admin-token", TOKEN,
                                      "--history", os.path.join(bench_out, "history.jsonl")],
                          capture_output=True, text=True)
    return done.returncode, done.stdout.strip()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--lease-time-max-ms", type=int, default=1000, help="murphy serve's lease time")
    p.add_argument("--lag-duration", type=int, default=10, help="seconds of full write load for the lag")
    p.add_argument("--connections", type=int, default=64, help="wrk's and murphy bench's connections")
    p.add_argument("--seed", type=int, help="seed of the random kill moments")
    p.add_argument("--json", help="write the raw results here")
    args = p.parse_args()
    random.seed(args.seed)
    for tool in ("wrk", "cargo", "taskset", "psql"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed (wrk: apt-get install wrk; psql: apt-get install postgresql)")
    os.sched_setaffinity(0, {1})  # the probes are load

    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "murphy"], cwd=ROOT, check=True)
    murphy = os.path.join(ROOT, "target", "release", "murphy")
    work = tempfile.mkdtemp(prefix="murphy-failover-")
    os.chmod(work, 0o755)  # as root, PostgreSQL runs as a user of its own (scripts/pg.sh)
    pg, nodes = None, []
    try:
        pg = Postgres(os.path.join(work, "pg"))
        for i in range(NODES):
            nodes.append(Node(murphy, pg.url, work, i, args.lease_time_max_ms))
        leader = primary(nodes)
        setup = {"MURPHY_URL": leader.url, "MURPHY_TOKEN": TOKEN, "SECTIONS": str(SECTIONS), "STUDENTS": str(STUDENTS)}
        subprocess.run(["bash", os.path.join(BENCH, "setup.sh")], env={**os.environ, **setup}, check=True)
        conn = http.client.HTTPConnection("127.0.0.1", leader.port, timeout=10)
        status, body = post(conn, {"commands": [{"type": "create_student", "student": f"probe{i}",
                                                 "name": f"Probe {i}"} for i in range(NODES)]})
        conn.close()
        if status != 200:
            sys.exit(f"creating the probes' students: {status} {body!r}")

        load, lag = lag_phase(nodes, args)
        rounds, bench_out = failover_phase(nodes, murphy, work, args)
        checked = check(murphy, nodes, bench_out)
        with open(os.path.join(work, "bench.txt")) as f:
            bench_text = f.read()
        report(load, lag, rounds, checked, bench_text, args)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"args": vars(args), "lag_load": load, "lag": lag, "rounds": rounds,
                           "check": checked}, f, indent=2)
    finally:
        for node in nodes:
            node.stop()
        if pg:
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)


def report(load, lag, rounds, checked, bench_text, args):
    print(f"\nthree nodes on one PostgreSQL, lease time {args.lease_time_max_ms} ms; nodes and PostgreSQL "
          f"pinned to cpu 0, load to cpu 1\n")
    print(f"replication lag: wrk -c{args.connections} bench/enroll.lua at the primary for {args.lag_duration} s: "
          f"{load['rps']:,.0f} durable enrolls/s, p50 {load['p50_ms']:.2f} ms, p99 {load['p99_ms']:.2f} ms")
    print("\n| secondary | appends | lag p50 ms | lag p99 ms | within 50 ms |")
    print("|---|---:|---:|---:|---:|")
    for row in lag:
        print(f"| {row['node']} | {row['appends']:,} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | "
              f"{100 * row['within_target']:.2f}% |")
    times = sorted(r["failover_s"] for r in rounds)
    print(f"\nfailover, kill -9 of the primary to the first write answered by the new one, {len(rounds)} rounds: "
          f"median {statistics.median(times):.3f} s, worst {times[-1]:.3f} s (target <= 2 s worst)")
    print("each round (s): " + " / ".join(f"{r['failover_s']:.3f}" for r in rounds))
    lines = bench_text.splitlines()
    header = next((i for i, line in enumerate(lines) if "answered/s" in line), None)
    table = lines[header:header + 3] if header is not None else []
    verdict = [line for line in lines if line.strip()][-1:]
    print("\nmurphy bench through all nodes, over the rounds:\n  " + "\n  ".join(table + verdict))
    code, text = checked
    print(f"\nmurphy check of its history (exit status {code}):\n{text}")


if __name__ == "__main__":
    main()
