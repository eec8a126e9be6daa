#!/usr/bin/env python3
"""One benchmark run, same machine, same load model for every server:

  node app.js (the lecture's hello world)  vs  murphy hello  vs  murphy serve: reads with and
  without ETags, durable enrolls; and murphy's own load generator (murphy bench) against
  murphy hello, to show what the generator itself costs next to wrk.

Each server is driven in turn by wrk (closed model: C connections, each sends when
answered) for D seconds, R rounds interleaved; the table reports medians over rounds and
the ratios to node. For murphy serve it also reports the group-commit batch sizes from
/metrics.

Pinned: every server runs under `taskset -c 0` and the load generator under
`taskset -c 1`, so each server gets one core and the generator never steals from it.
Unpinned ratios on two cores swing by 2x with nothing changed.

Usage: python3 bench/run.py [--duration 10] [--connections 64] [--rounds 3] [--only enroll,reads]
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, headers=None, timeout_s=30):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=1).read()
            return
        except Exception:
            time.sleep(0.05)
    sys.exit(f"{url} did not come up")


SERVER_CPU = ["taskset", "-c", "0"]
LOAD_CPU = ["taskset", "-c", "1"]


def wrk(url, args, script=None, env=None):
    cmd = LOAD_CPU + ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{args.duration}s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, env={**os.environ, **(env or {})}, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {p: parse_ms(re.search(rf"\s{p}%\s+([\d.]+\w+)", out).group(1)) for p in ("50", "99")}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p50_ms": lat["50"], "p99_ms": lat["99"],
            "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else ""}


def parse_ms(text):
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def batch_stats(metrics_url):
    text = urllib.request.urlopen(metrics_url).read().decode()
    buckets = [(float(le), int(n)) for le, n in re.findall(r'murphy_batch_commands_bucket\{le="([\d.]+)"\} (\d+)', text)]
    count = int(re.search(r"murphy_batch_commands_count (\d+)", text).group(1))
    total = int(re.search(r"murphy_batch_commands_sum (\d+)", text).group(1))
    commit_sum = float(re.search(r"murphy_commit_seconds_sum ([\d.e-]+)", text).group(1))
    return {"batches": count, "commands": total, "buckets": buckets, "commit_s": commit_sum}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=1, help="wrk threads (all on the load core)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", help="write the raw results here")
    p.add_argument("--only", default="", help="comma-separated subset: hello,reads,enroll,bench (node always runs)")
    p.add_argument("--keep", help="keep murphy serve's data directory here (for profiling afterwards)")
    args = p.parse_args()
    only = set(filter(None, args.only.split(",")))
    wanted = lambda part: not only or part in only
    for tool in ("wrk", "node", "cargo", "taskset"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed (wrk: apt-get install wrk)")

    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "murphy"], cwd=ROOT, check=True)
    murphy = os.path.join(ROOT, "target", "release", "murphy")
    work = tempfile.mkdtemp(prefix="murphy-bench-")
    token = "bench-admin-token"
    ports = {name: free_port() for name in ("node", "hello", "serve")}
    procs = []
    try:
        procs.append(subprocess.Popen(SERVER_CPU + ["node", os.path.join(BENCH, "app.js")], env={**os.environ, "PORT": str(ports["node"])},
                                      stdout=subprocess.DEVNULL))
        procs.append(subprocess.Popen(SERVER_CPU + [murphy, "hello", "--listen", f"127.0.0.1:{ports['hello']}"], stdout=subprocess.DEVNULL))
        procs.append(subprocess.Popen(SERVER_CPU + [murphy, "serve", "--listen", f"127.0.0.1:{ports['serve']}", "--data-dir", work,
                                       "--admin-token", token], stdout=subprocess.DEVNULL))
        urls = {name: f"http://127.0.0.1:{port}/" for name, port in ports.items()}
        auth = {"Authorization": f"Bearer {token}"}
        wait_http(urls["node"]); wait_http(urls["hello"]); wait_http(urls["serve"] + "healthz")
        env = {"MURPHY_URL": urls["serve"].rstrip("/"), "MURPHY_TOKEN": token, "SECTIONS": "300", "STUDENTS": "6400"}
        subprocess.run(["bash", os.path.join(BENCH, "setup.sh")], env={**os.environ, **env}, check=True)

        etags = os.path.join(work, "etags.txt")
        with open(etags, "w") as f:
            for i in range(1, 301):
                path = f"/api/v1/sections/BENCH-{i:03d}"
                response = urllib.request.urlopen(urllib.request.Request(urls["serve"].rstrip("/") + path, headers=auth))
                f.write(f"{path} {response.headers['ETag']}\n")
        reads = os.path.join(BENCH, "reads.lua")

        results = {name: [] for name in ("node hello", "murphy hello", "murphy reads (200, full body)",
                                         "murphy reads (If-None-Match, 304)", "murphy enroll (durable)",
                                         "murphy bench -> murphy hello")}
        enroll_runs = []
        for r in range(args.rounds):
            results["node hello"].append(wrk(urls["node"], args))
            if wanted("hello"):
                results["murphy hello"].append(wrk(urls["hello"], args))
            if wanted("reads"):
                results["murphy reads (200, full body)"].append(wrk(urls["serve"], args, reads, env))
                results["murphy reads (If-None-Match, 304)"].append(
                    wrk(urls["serve"], args, reads, {**env, "ETAGS": etags}))
            if wanted("enroll"):
                before = batch_stats(urls["serve"] + "metrics")
                results["murphy enroll (durable)"].append(
                    wrk(urls["serve"] + "api/v1/commands", args, os.path.join(BENCH, "enroll.lua"), env))
                after = batch_stats(urls["serve"] + "metrics")
                enroll_runs.append(delta(before, after))
            if wanted("bench"):
                results["murphy bench -> murphy hello"].append(murphy_bench(murphy, urls["hello"], args))
            print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
        results = {name: runs for name, runs in results.items() if runs}
        report(results, enroll_runs, args)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"args": vars(args), "results": results}, f, indent=2)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait()
        if args.keep:
            shutil.copytree(work, args.keep, dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)


def delta(before, after):
    """One enroll run's group-commit statistics: the /metrics counters after minus before."""
    base = dict(before["buckets"])
    return {"batches": after["batches"] - before["batches"], "commands": after["commands"] - before["commands"],
            "commit_s": after["commit_s"] - before["commit_s"],
            "buckets": [(bound, n - base.get(bound, 0)) for bound, n in after["buckets"]]}


def murphy_bench(murphy, url, args):
    """murphy's own load generator against murphy hello, the same closed model as wrk."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "report.json")
        subprocess.run(LOAD_CPU + [murphy, "bench", "--scenario", "hello", "--url", url.rstrip("/"),
                        "--connections", str(args.connections), "--duration", str(args.duration),
                        "--json", path], capture_output=True, text=True, check=True)
        with open(path) as f:
            reads = json.load(f)["reads"]
    return {"rps": reads["answered_per_s"], "p50_ms": reads["latency_ms"]["p50"],
            "p99_ms": reads["latency_ms"]["p99"], "non_2xx": 0, "socket_errors": ""}


def report(results, enroll_runs, args):
    median = lambda runs, key: statistics.median(run[key] for run in runs)
    node_rps = median(results["node hello"], "rps")
    print(f"\n{args.connections} connections, {args.threads} wrk threads, {args.duration}s x {args.rounds} rounds "
          f"(medians); servers pinned to cpu 0, load to cpu 1\n")
    print("| server | req/s | vs node | p50 ms | p99 ms | non-2xx |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, runs in results.items():
        rps = median(runs, "rps")
        errors = sum(run["non_2xx"] for run in runs)
        print(f"| {name} | {rps:,.0f} | {rps / node_rps:.2f}x | {median(runs, 'p50_ms'):.2f} | "
              f"{median(runs, 'p99_ms'):.2f} | {errors} |")
    if not enroll_runs:
        return
    batches = sum(run["batches"] for run in enroll_runs)
    commands = sum(run["commands"] for run in enroll_runs)
    commit_ms = 1000 * sum(run["commit_s"] for run in enroll_runs) / max(batches, 1)
    print(f"\ngroup commit during the enroll runs: {commands:,} commands in {batches:,} batches, "
          f"mean {commands / max(batches, 1):.1f} commands per batch (one fsync each), mean commit {commit_ms:.2f} ms")
    print("batch size histogram (commands <= bound: batches):")
    last = 0
    for i, (bound, _) in enumerate(enroll_runs[0]["buckets"]):
        cumulative = sum(run["buckets"][i][1] for run in enroll_runs)
        if cumulative - last:
            print(f"  <= {bound:>6.0f}: {cumulative - last:,}")
        last = cumulative


if __name__ == "__main__":
    main()
