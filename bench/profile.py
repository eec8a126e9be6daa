#!/usr/bin/env python3
"""The cost ledger: CPU microseconds per request of `murphy serve`, split by stage.

Starts a release `murphy serve` pinned to cpu 0 on a fresh data directory, creates the
benchmark catalog (bench/setup.sh), warms it up, then drives it with wrk pinned to cpu 1
while `perf record -e cpu-clock --call-graph dwarf` samples the server. The server's CPU
time over the window comes from /proc/PID/stat (user + system), the request count from
wrk, so

    CPU us per request = server CPU seconds / requests * 1e6

and each stage's share of the samples splits that figure. A sample's stage is the first
rule that matches walking its stack from the leaf outwards (STAGES below), so a malloc
inside JSON parsing counts as JSON and a memcpy inside SQLite as the store.

Usage: python3 bench/profile.py [--load enroll|reads|reads304|hello] [--duration 10]
       [--connections 64] [--sections 300] [--students 6400] [--top 25]
"""

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import run  # the shared helpers of bench/run.py

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)

# (stage, regex on a frame's symbol or a thread's name). Walked from the leaf outwards:
# the first frame matching any rule names the stage. Order matters only within a frame.
STAGES = [
    ("fsync (kernel)", r"fsync|fdatasync|jbd2|ext4_sync|blkdev|submit_bio|ext4_writepages"),
    ("store append (SQLite, log)", r"murphy_store::.*append|LogAppender|append_records"),
    ("materializer", r"murphy_store::.*materializ|materializer|Materializer"),
    ("checkpointer", r"wal_checkpoint|sqlite3WalCheckpoint|Checkpointer"),
    ("store (other SQLite)", r"^sqlite3|murphy_store::"),
    ("apply (core)", r"murphy_core::state::State::apply|murphy_core::state::State::find_unknown"),
    ("publish, answer, events", r"murphy_server::committer|Snapshot::next|broadcast::Sender|oneshot::Sender.*send"),
    ("log encode (JSON)", r"serde_json::ser|serde::ser|to_string|Serialize"),
    ("request JSON parse", r"serde_json::de|serde::de|Deserialize|from_slice"),
    ("auth (token hash)", r"sha2|hash_token|authenticate|Principal"),
    ("loop (sessions, batching)", r"murphy_server::engine"),
    ("HTTP (hyper, axum)", r"hyper::|axum::|http::|tower::|h1::|matchit|murphy_server::http"),
    ("wake-ups (futex)", r"futex|try_to_wake_up|wake_up_q|park|unpark|Condvar|parking_lot"),
    ("network syscalls (kernel TCP)", r"tcp_|sock_|inet_|ip_|__dev_queue_xmit|loopback|net_rx|skb|sys_sendto|sys_recvfrom|sys_write|sys_read|sys_writev"),
    ("epoll, scheduler", r"epoll|ep_poll|schedule|finish_task_switch|__switch_to|pick_next"),
    ("tokio runtime", r"tokio::"),
    ("imbl (persistent maps: path copies, drops)", r"^imbl::"),
]

# Generic leaf work (allocation, copying, dropping) is charged to whoever asked for it:
# these frames are skipped when looking for the stage, and only name it when nothing
# else on the stack does.
GENERIC = (r"malloc|free|realloc|_int_|cfree|__libc|unlink_chunk|memmove|memcpy|memcmp|memset|drop_slow|"
           r"drop_in_place|::clone|alloc::|core::ptr|core::fmt|hashbrown|__rust_|RawVec|<alloc")


def proc_cpu_seconds(pid):
    """User + system CPU of the whole process (all threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf(os.sysconf_names["SC_CLK_TCK"])
    return (int(fields[11]) + int(fields[12])) / ticks


def samples(perf_data):
    """Yields (thread name, [frames leaf first]) for each sample in a perf.data file."""
    out = subprocess.run(["perf", "script", "-i", perf_data, "-F", "comm,tid,ip,sym", "--no-inline"],
                         capture_output=True, text=True, errors="replace").stdout
    comm, frames = None, []
    for line in out.splitlines():
        if not line.strip():
            if comm is not None:
                yield comm, frames
            comm, frames = None, []
        elif not line.startswith((" ", "\t")):
            comm = line.split()[0]
        else:
            parts = line.strip().split(None, 1)
            frames.append(parts[1] if len(parts) > 1 else parts[0])
    if comm is not None:
        yield comm, frames


def stage_of(comm, frames):
    for frame in frames:
        if re.search(GENERIC, frame):
            continue
        for stage, pattern in STAGES:
            if re.search(pattern, frame):
                return stage
    if frames and re.search(GENERIC, frames[0]):
        return f"allocation, copies, drops ({comm})"
    return f"other ({comm})"


def leaf_symbol(frames):
    return re.sub(r"\+0x[0-9a-f]+$", "", frames[0]) if frames else "?"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--load", default="enroll", choices=["enroll", "reads", "reads304", "hello"])
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--sections", type=int, default=300)
    p.add_argument("--students", type=int, default=6400)
    p.add_argument("--frequency", type=int, default=999, help="samples per second")
    p.add_argument("--top", type=int, default=25, help="leaf symbols to list")
    p.add_argument("--no-build", action="store_true")
    p.add_argument("--save", help="keep perf.data and the run's figures in this directory")
    p.add_argument("--reanalyse", help="report on a directory written by --save instead of running")
    args = p.parse_args()
    if args.reanalyse:
        with open(os.path.join(args.reanalyse, "run.json")) as f:
            saved = json.load(f)
        args.load = saved["load"]
        report(args, saved["result"], saved["elapsed"], saved["cpu"], os.path.join(args.reanalyse, "perf.data"))
        return
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked", "-p", "murphy"], cwd=ROOT, check=True)
    murphy = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "murphy")
    work = tempfile.mkdtemp(prefix="murphy-profile-")
    token = "profile-admin-token"
    port = run.free_port()
    url = f"http://127.0.0.1:{port}"
    if args.load == "hello":
        cmd = [murphy, "hello", "--listen", f"127.0.0.1:{port}"]
    else:
        cmd = [murphy, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", work, "--admin-token", token]
    server = subprocess.Popen(run.SERVER_CPU + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        run.wait_http(url + ("/" if args.load == "hello" else "/healthz"))
        env = {"MURPHY_URL": url, "MURPHY_TOKEN": token, "SECTIONS": str(args.sections),
               "STUDENTS": str(args.students)}
        script, target = None, url + "/"
        if args.load != "hello":
            subprocess.run(["bash", os.path.join(BENCH, "setup.sh")], env={**os.environ, **env}, check=True)
        if args.load == "enroll":
            script, target = os.path.join(BENCH, "enroll.lua"), url + "/api/v1/commands"
        elif args.load.startswith("reads"):
            script = os.path.join(BENCH, "reads.lua")
            if args.load == "reads304":
                env["ETAGS"] = write_etags(url, token, args.sections, work)
        wrk_args = argparse.Namespace(threads=1, connections=args.connections, duration=2)
        run.wrk(target, wrk_args, script, env)  # warm-up
        perf_data = os.path.join(work, "perf.data")
        wrk_args.duration = args.duration
        cpu_before = proc_cpu_seconds(server.pid)
        perf = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", str(args.frequency), "--call-graph",
                                 "dwarf,32768", "-p", str(server.pid), "-o", perf_data, "--", "sleep",
                                 str(args.duration)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started = time.time()
        result = run.wrk(target, wrk_args, script, env)
        elapsed = time.time() - started
        cpu = proc_cpu_seconds(server.pid) - cpu_before
        perf.wait()
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            shutil.copy(perf_data, os.path.join(args.save, "perf.data"))
            perf_data = os.path.join(args.save, "perf.data")
            with open(os.path.join(args.save, "run.json"), "w") as f:
                json.dump({"load": args.load, "result": result, "elapsed": elapsed, "cpu": cpu}, f)
        report(args, result, elapsed, cpu, perf_data)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


def write_etags(url, token, sections, work):
    import urllib.request
    path = os.path.join(work, "etags.txt")
    with open(path, "w") as f:
        for i in range(1, sections + 1):
            resource = f"/api/v1/sections/BENCH-{i:03d}"
            request = urllib.request.Request(url + resource, headers={"Authorization": f"Bearer {token}"})
            f.write(f"{resource} {urllib.request.urlopen(request).headers['ETag']}\n")
    return path


def report(args, result, elapsed, cpu, perf_data):
    requests = result["rps"] * elapsed
    us_per_request = cpu / requests * 1e6
    stages, leaves, threads = collections.Counter(), collections.Counter(), collections.Counter()
    total = 0
    for comm, frames in samples(perf_data):
        total += 1
        stages[stage_of(comm, frames)] += 1
        leaves[leaf_symbol(frames)] += 1
        threads[comm] += 1
    print(f"\nload {args.load}: {result['rps']:,.0f} req/s, p50 {result['p50_ms']:.2f} ms, "
          f"p99 {result['p99_ms']:.2f} ms; server CPU {cpu:.2f} s over {elapsed:.1f} s "
          f"({100 * cpu / elapsed:.0f}% of its core); {total:,} samples")
    print(f"CPU per request: {us_per_request:.2f} us\n")
    print("| stage | share | us/request |\n|---|---:|---:|")
    for stage, n in stages.most_common():
        print(f"| {stage} | {100 * n / total:.1f}% | {us_per_request * n / total:.2f} |")
    print("\n| thread | share |\n|---|---:|")
    for comm, n in threads.most_common():
        print(f"| {comm} | {100 * n / total:.1f}% |")
    print(f"\ntop {args.top} leaf symbols:")
    for symbol, n in leaves.most_common(args.top):
        print(f"  {100 * n / total:5.1f}%  {symbol[:110]}")


if __name__ == "__main__":
    sys.path.insert(0, BENCH)
    main()
