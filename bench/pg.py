#!/usr/bin/env python3
"""murphy on PostgreSQL against what a registrar would otherwise write, in one run:

  pgbench with bench/pg-enroll.sql (one transaction per enrollment: a conditional
  UPDATE of the section's seat count, then the enrollment row; synchronous_commit = on)
  vs  murphy serve --database (durable enrolls through HTTP, wrk + bench/enroll.lua)
  vs  node bench/app.js (the lecture's hello world, the yardstick of bench/run.py).

All against one throwaway PostgreSQL started here (scripts/pg.sh: fsync on,
synchronous_commit on), stopped at the end. R rounds, interleaved (node, pgbench,
murphy), each C connections (pgbench: C clients) for D seconds; the table reports
medians over rounds, murphy's ratio to pgbench and everyone's to node. For murphy it also
reports the group commit's batch sizes and commit time, from /metrics.

Pinned as bench/run.py: the servers (murphy, PostgreSQL's postmaster and backends,
node) run under `taskset -c 0`, the load generators (wrk, pgbench) under `taskset -c 1`.
murphy and PostgreSQL share the one core, as pgbench's backends and PostgreSQL do.

Usage: python3 bench/pg.py [--duration 10] [--connections 64] [--rounds 3] [--json FILE]
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import BENCH, LOAD_CPU, ROOT, SERVER_CPU, batch_stats, delta, free_port, wait_http, wrk  # noqa: E402

SECTIONS = 300
STUDENTS = 6400
# pgbench's sections never fill, so every transaction is an enrollment (UPDATE and INSERT).
PGBENCH_CAPACITY = 10_000_000
# What the report shows of the server's settings.
SETTINGS = ("server_version", "synchronous_commit", "fsync", "wal_sync_method", "shared_buffers",
            "max_wal_size", "commit_delay")


class Postgres:
    """A throwaway PostgreSQL in `directory` (scripts/pg.sh), on cpu 0 with murphy."""

    def __init__(self, directory):
        self.directory = directory
        started = subprocess.run(SERVER_CPU + ["bash", os.path.join(ROOT, "scripts", "pg.sh"), "start", directory],
                                 capture_output=True, text=True)
        if started.returncode != 0:
            sys.exit(f"PostgreSQL did not start: {started.stderr.strip()}")
        self.url = started.stdout.strip().splitlines()[-1]

    def database(self, name):
        """The URL of database `name` on this server."""
        return self.url.rsplit("/", 1)[0] + "/" + name

    def psql(self, url, *args):
        return subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", *args, url],
                              capture_output=True, text=True, check=True).stdout

    def settings(self):
        return {name: self.psql(self.url, "-c", f"SHOW {name}").strip() for name in SETTINGS}

    def stop(self):
        subprocess.run(["bash", os.path.join(ROOT, "scripts", "pg.sh"), "stop", self.directory], check=False)


def pgbench(url, args):
    """One pgbench run of bench/pg-enroll.sql: transactions per second and mean latency."""
    cmd = LOAD_CPU + ["pgbench", "--no-vacuum", "--protocol", args.pgbench_protocol, "--client", str(args.connections),
                      "--jobs", "1", "--time", str(args.duration), "--define", f"sections={SECTIONS}",
                      "--define", f"students={STUDENTS}", "--file", os.path.join(BENCH, "pg-enroll.sql"), url]
    env = {**os.environ, "PGOPTIONS": "-c synchronous_commit=on"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", out).group(1))
    latency = float(re.search(r"latency average = ([\d.]+) ms", out).group(1))
    failed = int(re.search(r"number of failed transactions: (\d+)", out).group(1))
    return {"rps": tps, "p50_ms": latency, "p99_ms": float("nan"), "non_2xx": failed, "socket_errors": ""}


def start_murphy(murphy, pg, port, token, work):
    """murphy serve alone on the database: it takes the primary's lease and serves."""
    cmd = SERVER_CPU + [murphy, "serve", "--listen", f"127.0.0.1:{port}", "--database", pg.url,
                        "--admin-token", token, "--data-dir", os.path.join(work, "murphy")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    wait_http(url + "healthz")
    wait_primary(url)
    return proc, url


def wait_primary(url, timeout_s=30):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        view = json.load(urllib.request.urlopen(url + "api/v1/cluster", timeout=2))
        if view["role"] == "primary":
            return
        time.sleep(0.1)
    sys.exit(f"{url} did not become the primary")


def check_pgbench_tables(pg, url):
    """Every seat taken has its enrollment row, and no section is over capacity."""
    seats, rows, over = pg.psql(url, "-c", "SELECT (SELECT sum(enrolled) FROM sections), "
                                "(SELECT count(*) FROM enrollments), "
                                "(SELECT count(*) FROM sections WHERE enrolled > capacity)").strip().split("|")
    if seats != rows or over != "0":
        sys.exit(f"pgbench's tables disagree: {seats} seats taken, {rows} enrollment rows, {over} sections over")
    return int(rows)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=int, default=10, help="seconds per run")
    p.add_argument("--connections", type=int, default=64, help="wrk connections and pgbench clients")
    p.add_argument("--threads", type=int, default=1, help="wrk threads (all on the load core)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--pgbench-protocol", default="prepared", choices=("simple", "extended", "prepared"),
                   help="pgbench's query protocol (prepared: parsed once per connection, the fastest)")
    p.add_argument("--json", help="write the raw results here")
    args = p.parse_args()
    for tool in ("wrk", "node", "cargo", "taskset", "pgbench", "psql"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed (wrk: apt-get install wrk; pgbench, psql: apt-get install postgresql)")

    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "murphy"], cwd=ROOT, check=True)
    murphy = os.path.join(ROOT, "target", "release", "murphy")
    work = tempfile.mkdtemp(prefix="murphy-pg-bench-")
    os.chmod(work, 0o755)  # as root, PostgreSQL runs as a user of its own (scripts/pg.sh)
    token = "bench-admin-token"
    procs, pg = [], None
    try:
        pg = Postgres(os.path.join(work, "pg"))
        settings = pg.settings()
        registrar = pg.database("registrar")
        pg.psql(pg.url, "-c", "CREATE DATABASE registrar")
        pg.psql(registrar, "-v", f"sections={SECTIONS}", "-v", f"capacity={PGBENCH_CAPACITY}",
                "-f", os.path.join(BENCH, "pg-schema.sql"))

        node_port = free_port()
        procs.append(subprocess.Popen(SERVER_CPU + ["node", os.path.join(BENCH, "app.js")],
                                      env={**os.environ, "PORT": str(node_port)}, stdout=subprocess.DEVNULL))
        node_url = f"http://127.0.0.1:{node_port}/"
        wait_http(node_url)
        proc, serve_url = start_murphy(murphy, pg, free_port(), token, work)
        procs.append(proc)
        env = {"MURPHY_URL": serve_url.rstrip("/"), "MURPHY_TOKEN": token,
               "SECTIONS": str(SECTIONS), "STUDENTS": str(STUDENTS)}
        subprocess.run(["bash", os.path.join(BENCH, "setup.sh")], env={**os.environ, **env}, check=True)

        results = {"node hello": [], "pgbench enroll (one transaction each)": [], "murphy enroll (durable, on PostgreSQL)": []}
        enroll_runs = []
        for r in range(args.rounds):
            results["node hello"].append(wrk(node_url, args))
            results["pgbench enroll (one transaction each)"].append(pgbench(registrar, args))
            before = batch_stats(serve_url + "metrics")
            results["murphy enroll (durable, on PostgreSQL)"].append(
                wrk(serve_url + "api/v1/commands", args, os.path.join(BENCH, "enroll.lua"), env))
            enroll_runs.append(delta(before, batch_stats(serve_url + "metrics")))
            print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
        enrollments = check_pgbench_tables(pg, registrar)
        report(results, enroll_runs, settings, enrollments, args)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"args": vars(args), "settings": settings, "results": results,
                           "murphy_commits": enroll_runs}, f, indent=2)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait()
        if pg:
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)


def report(results, enroll_runs, settings, enrollments, args):
    median = lambda runs, key: statistics.median(run[key] for run in runs)
    node = median(results["node hello"], "rps")
    pgbench_tps = median(results["pgbench enroll (one transaction each)"], "rps")
    murphy_rps = median(results["murphy enroll (durable, on PostgreSQL)"], "rps")
    print(f"\n{args.connections} connections (pgbench: clients, protocol {args.pgbench_protocol}), "
          f"{args.duration}s x {args.rounds} rounds (medians); servers and PostgreSQL pinned to cpu 0, load to cpu 1")
    print("PostgreSQL: " + ", ".join(f"{k} {v}" for k, v in settings.items()) + "\n")
    print("| what | per s | vs node | p50 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, runs in results.items():
        rps = median(runs, "rps")
        errors = sum(run["non_2xx"] for run in runs)
        p50 = median(runs, "p50_ms")
        p99 = median(runs, "p99_ms")
        p99_text = "" if p99 != p99 else f"{p99:.2f}"
        p50_text = f"{p50:.2f}" + (" (mean)" if p99 != p99 else "")
        print(f"| {name} | {rps:,.0f} | {rps / node:.2f}x | {p50_text} | {p99_text} | {errors} |")
    print(f"\nmurphy enrolls / pgbench transactions: {murphy_rps / pgbench_tps:.2f}x (target >= 5x)")
    for name, runs in results.items():
        print(f"  {name}, each round: " + " / ".join(f"{run['rps']:,.0f}" for run in runs))
    print(f"pgbench's tables after the run: {enrollments:,} enrollments, each with its seat")
    batches = sum(run["batches"] for run in enroll_runs)
    commands = sum(run["commands"] for run in enroll_runs)
    commit_ms = 1000 * sum(run["commit_s"] for run in enroll_runs) / max(batches, 1)
    print(f"murphy's group commit: {commands:,} commands in {batches:,} appends, mean "
          f"{commands / max(batches, 1):.1f} commands per append, mean append {commit_ms:.2f} ms")


if __name__ == "__main__":
    main()
