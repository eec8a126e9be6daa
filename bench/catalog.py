#!/usr/bin/env python3
"""The catalog at a university's size: how many bytes it costs on the wire, and how fast
a filtered page is read next to a one-section read and node's hello world.

Over a data directory with a 10,000-section catalog (RD-00000 ...; make one with
`murphy bench --sections 10000 --students 45000 --duration 1` against an empty server,
or let bench/watchers.py's setup make it), it measures:
  - the bytes of the whole catalog as it is, gzip and br, and of a 100-section page;
  - with wrk (closed model, --connections, --duration s, --rounds interleaved): node
    app.js, a one-section read, and a filtered page of 20 sections (q=, limit=20,
    gzip), reporting medians and the ratios to node.

Pinned: servers under `taskset -c 0`, wrk under `taskset -c 1`.

Usage: python3 bench/catalog.py --base DIR --admin-token TOKEN [--duration 10] [--rounds 3]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import free_port, wait_http, wrk  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")


def size(url, token, coding):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}", "Accept-Encoding": coding})
    with urllib.request.urlopen(request) as response:
        return len(response.read()), response.headers.get("Content-Encoding") or "identity"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--admin-token", required=True)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--murphy", default=os.path.join(ROOT, "target/release/murphy"))
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="murphy-catalog-")
    data = os.path.join(work, "data")
    shutil.copytree(args.base, data)
    ports = {"node": free_port(), "serve": free_port()}
    procs = [
        subprocess.Popen(["taskset", "-c", "0", "node", os.path.join(BENCH, "app.js")],
                         env={**os.environ, "PORT": str(ports["node"])}, stdout=subprocess.DEVNULL),
        subprocess.Popen(["taskset", "-c", "0", args.murphy, "serve", "--listen", f"127.0.0.1:{ports['serve']}",
                          "--data-dir", data, "--admin-token", args.admin_token], stdout=subprocess.DEVNULL),
    ]
    try:
        node = f"http://127.0.0.1:{ports['node']}/"
        serve = f"http://127.0.0.1:{ports['serve']}"
        wait_http(node)
        wait_http(serve + "/healthz")
        print("bytes on the wire:")
        for path in ("/api/v1/sections", "/api/v1/sections?limit=100"):
            sizes = {c: size(serve + path, args.admin_token, c) for c in ("identity", "gzip", "br")}
            plain = sizes["identity"][0]
            print(f"  {path}: " + ", ".join(f"{c} {n} B ({plain / n:.1f}x smaller)" if c != "identity" else f"{c} {n} B"
                                           for c, (n, _) in sizes.items()))
        env = {"MURPHY_TOKEN": args.admin_token, "SECTIONS": "10000"}
        script = os.path.join(BENCH, "catalog.lua")
        runs = {"node hello": [], "one-section read": [], "filtered page (20, gzip)": []}
        for _ in range(args.rounds):
            runs["node hello"].append(wrk(node, args))
            runs["one-section read"].append(wrk(serve + "/", args, script, {**env, "MODE": "one"}))
            runs["filtered page (20, gzip)"].append(wrk(serve + "/", args, script, {**env, "MODE": "page"}))
        node_rps = statistics.median(r["rps"] for r in runs["node hello"])
        print(f"\nwrk, {args.connections} connections, {args.duration} s, medians of {args.rounds} rounds:")
        for name, rs in runs.items():
            rps = statistics.median(r["rps"] for r in rs)
            p99 = statistics.median(r["p99_ms"] for r in rs)
            bad = sum(r["non_2xx"] for r in rs)
            print(f"  {name:26} {rps:9.0f} req/s  p99 {p99:6.2f} ms  {rps / node_rps:4.2f}x node  non-2xx {bad}")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait()
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
