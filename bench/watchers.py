#!/usr/bin/env python3
"""Registration day with thousands of live watchers, against the same day without them.

A catalog of UCLA's size (--students 45000, --sections 10000) is set up once; each
round copies it into a fresh data directory, so every run starts from the same state.
Runs alternate: registration-day writes at --connections with no watchers, then the same
with --watchers students who behave like browsers (murphy bench --watchers: each reads a
catalog page of 5 sections and watches them live). Reported per run and as medians:
writes/s, write p99, the server's CPU (from its /metrics), its peak RSS, and for the
watchers the commit-to-watcher delay and events and bytes per watcher. The CPU share
spent on streams is read from the CPU time per write with and without them.

Pinned: the server under `taskset -c 0`, murphy bench (writers and watchers) under
`taskset -c 1`. Watchers need file descriptors on both sides: `ulimit -n` is raised
to its hard limit, and the server's --connections-max and --streams-max above the count.

Usage: python3 bench/watchers.py [--watchers 19800] [--duration 20] [--rounds 2]
                                 [--server-arg=--stream-sends-per-s-max=2 ...]
"""

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout_s=30):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            time.sleep(0.05)
    sys.exit(f"{url} did not come up")


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def serve(murphy, data_dir, port, watchers):
    limit = max(4096, watchers + 128)
    cmd = ["taskset", "-c", "0", murphy, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir,
           "--admin-token", ARGS.admin_token, "--connections-max", str(limit), "--streams-max", str(max(watchers, 1)), *ARGS.server_arg]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}/healthz")
    return proc


def bench(murphy, port, args, watchers, out):
    cmd = ["taskset", "-c", "1", murphy, "bench", "--url", f"http://127.0.0.1:{port}", "--admin-token", ARGS.admin_token,
           "--scenario", "registration-day", "--students", str(args.students), "--sections", str(args.sections),
           "--connections", str(args.connections), "--duration", str(args.duration), "--json", out, "--reuse"]
    if watchers:
        cmd += ["--watchers", str(watchers)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--watchers", type=int, default=19800)
    p.add_argument("--students", type=int, default=45000)
    p.add_argument("--sections", type=int, default=10000)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--duration", type=float, default=20)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--murphy", default=os.path.join(ROOT, "target/release/murphy"))
    p.add_argument("--admin-token", default="bench-admin-token")
    p.add_argument("--base", help="a data directory an earlier setup of the same shape left (copied, never changed)")
    p.add_argument("--server-arg", action="append", default=[],
                   help="a flag for murphy serve in both modes, e.g. --server-arg=--stream-sends-per-s-max=2")
    args = p.parse_args()
    global ARGS
    ARGS = args
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.watchers + 200 > hard:
        print(f"note: the open-file limit here is {hard}; each side needs one per watcher", file=sys.stderr)
    work = tempfile.mkdtemp(prefix="murphy-watchers-")
    base = os.path.join(work, "base")
    port = free_port()
    # The catalog and students, made once.
    if args.base:
        shutil.copytree(args.base, base)
    else:
        proc = serve(args.murphy, base, port, 0)
        bench(args.murphy, port, argparse.Namespace(**{**vars(args), "duration": 1}), 0, os.path.join(work, "setup.json"))
        proc.terminate()
        proc.wait()
    runs = {"none": [], "watchers": []}
    for r in range(args.rounds):
        for mode in ("none", "watchers"):
            data = os.path.join(work, f"{mode}-{r}")
            shutil.copytree(base, data)
            watchers = args.watchers if mode == "watchers" else 0
            port = free_port()
            proc = serve(args.murphy, data, port, watchers)
            report = bench(args.murphy, port, args, watchers, os.path.join(work, f"{mode}-{r}.json"))
            rss = rss_mb(proc.pid)
            proc.terminate()
            proc.wait()
            shutil.rmtree(data)
            w = report["writes"]
            run = {"writes_per_s": w["answered"] / report["elapsed_s"], "p99_ms": w["latency_ms"]["p99"],
                   "server_cpu_s": report.get("server_cpu_s"), "elapsed_s": report["elapsed_s"], "rss_mb": rss,
                   "watch": report.get("watchers")}
            run["cpu_ms_per_write"] = 1000 * run["server_cpu_s"] / w["answered"] if run["server_cpu_s"] else None
            runs[mode].append(run)
            print(json.dumps({"round": r, "mode": mode, **run}), flush=True)
    med = lambda mode, key: statistics.median(x[key] for x in runs[mode])
    none, watched = med("none", "writes_per_s"), med("watchers", "writes_per_s")
    share = 1 - med("none", "cpu_ms_per_write") / med("watchers", "cpu_ms_per_write")
    ws = [x["watch"] for x in runs["watchers"]]
    print(f"\nmedians over {args.rounds} rounds, {args.duration:.0f} s each:")
    print(f"  writes/s without watchers {none:.0f}, with {args.watchers} watchers {watched:.0f}: {100 * watched / none:.0f}%")
    print(f"  write p99: {med('none', 'p99_ms'):.1f} ms without, {med('watchers', 'p99_ms'):.1f} ms with")
    print(f"  server CPU per write: {med('none', 'cpu_ms_per_write'):.3f} ms without, "
          f"{med('watchers', 'cpu_ms_per_write'):.3f} ms with: streams take {100 * share:.0f}% of the server's CPU")
    print(f"  commit-to-watcher delay p50 {statistics.median(w['delay_p50_ms'] for w in ws):.0f} ms, "
          f"p99 {statistics.median(w['delay_p99_ms'] for w in ws):.0f} ms; per watcher "
          f"{statistics.median(w['events_per_s_per_watcher'] for w in ws):.2f} events/s, "
          f"{statistics.median(w['bytes_per_s_per_watcher'] for w in ws):.0f} bytes/s; "
          f"connected {min(w['connected'] for w in ws)} of {args.watchers}")
    print(f"  server peak RSS: {med('none', 'rss_mb'):.0f} MB without, {med('watchers', 'rss_mb'):.0f} MB with")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
