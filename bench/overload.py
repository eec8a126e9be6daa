#!/usr/bin/env python3
"""Overload (issue 10): what a stock `murphy serve` does when offered more writes than it
can answer.

Pinned, as bench/run.py: every server runs under `taskset -c 0` and the load generator
under `taskset -c 1`; murphy is the release build, over a fresh data directory, with its
default limits (no flags but the address, the data directory and the admin token).

Each round:
  1. node's hello world (bench/app.js) under wrk: the yardstick every figure in
     docs/BENCHMARKS.md is compared with, measured in the same run;
  2. saturation: `murphy bench --scenario writes --model closed`, at --connections and
     again at --open-connections; S is the larger of the two answered rates (writes
     only: enrolls, drops and swaps, each in its student's session; a batch commits
     more writes per fsync the more are in flight, so one count alone may not find S);
  3. overload: the same scenario, `--model open --rate k*S` for k = 2, 5 and 10, over
     --open-connections connections, with `--retries 0`: a shed write is given up, not
     retried, so every request due is one attempt, and an answered write's latency runs
     from when it was due (coordinated omission counted, as in wrk2).

Reported for each k, medians over rounds: the rate the generator actually sent (a
closed pool of connections cannot send a request due while all of them wait for
answers; what it could not send by the run's end is never sent, and the ones it sent
late count their lateness as latency), goodput (writes answered per second, over S),
p99 of the answered writes (from when each was due), p99 of the 503 answers (from each
shed attempt's send), and the server's largest RSS during the run (VmRSS from /proc,
sampled every 50 ms). Targets (issue 10): goodput >= 95%, p99 <= 50 ms, 503s within 10 ms.

Capped (issue 17): with --cap-quota-us Q (and --cap-period-us P, default 10,000) the
server runs in a cgroup v1 cpu controller group of its own (cpu.cfs_quota_us Q per
cpu.cfs_period_us P, its PID written into cgroup.procs before it starts a thread), so
that the generator on cpu 1 can really offer 10x of the capped capacity X. With
--clients, each overload run is repeated per kind of client: `give-up` (the above,
--retries 0), `honour` (retried for as long as the run lasts, honouring Retry-After
with jitter and throttling adaptively, as murphy's clients do) and `retry-at-once`
(retried at once after a 503, never throttled). Goodput is then the writes answered
per second over X, whatever attempt answered them.

Also reported (issue 17): the p99 of the answering attempts, from the send of the attempt
that was answered (the server's part of a write's latency, without the wait for a free
connection or for a retry); and, capped, what a refusal costs against a write, measured
directly: server CPU per answered write in the closed saturation run at --connections,
and server CPU per 503 in a run of nothing but refusals (a second server, capped alike,
started with --sojourn-time-max-ms 0 so that the door sheds every write, driven by
`wrk -c64` with POSTs of a write), from /proc/PID/stat. From it, the share of the server's
CPU each overload run spent on refusals (its 503s times that cost).

With --step, each round also plays a step of load per kind of client: 0.5x of X for
--duration (the calm level: its p99), then 10x for 5 s, then 0.5x again for --duration;
reported: the p99 of each second after the step, and the first second whose p99 is back
at the calm level (at most 1.5 times the calm p99, or 10 ms over it).

Usage: python3 bench/overload.py [--duration 10] [--rounds 3] [--connections 64]
                                 [--open-connections 1024] [--json FILE]
                                 [--cap-quota-us 2500 [--cap-period-us 10000]]
                                 [--clients give-up,honour,retry-at-once] [--step]
                                 [--server-arg=--sojourn-time-max-ms=500 ...]
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
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER_CPU = ["taskset", "-c", "0"]
LOAD_CPU = ["taskset", "-c", "1"]
TOKEN = "overload-admin-token"


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


def cpu_s(pid):
    """The CPU time a process has used so far, user and system, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """The largest VmRSS of a process while the sampler runs, in MiB, and the share of
    a core it used (its CPU time over the wall time)."""

    def __init__(self, pid, interval_s=0.05):
        self.pid, self.interval_s, self.max_kib = pid, interval_s, 0
        self.path = f"/proc/{pid}/status"
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            with open(self.path) as f:
                kib = int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))
            self.max_kib = max(self.max_kib, kib)
            self.stop.wait(self.interval_s)

    def __enter__(self):
        self.started, self.cpu_started = time.monotonic(), cpu_s(self.pid)
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stop.set()
        self.thread.join()
        self.cpu = (cpu_s(self.pid) - self.cpu_started) / (time.monotonic() - self.started)

    def mib(self):
        return self.max_kib / 1024


def capped_group(args, name="serve"):
    """A cgroup v1 cpu group of its own, capped at --cap-quota-us per --cap-period-us."""
    group = f"/sys/fs/cgroup/cpu/murphy-overload-{os.getpid()}-{name}"
    os.makedirs(group, exist_ok=True)
    for name, value in (("cpu.cfs_period_us", args.cap_period_us), ("cpu.cfs_quota_us", args.cap_quota_us)):
        with open(os.path.join(group, name), "w") as f:
            f.write(str(value))
    return group


def wrk_node(url, args):
    out = subprocess.run(LOAD_CPU + ["wrk", "-t1", "-c64", f"-d{args.duration}s", url],
                         capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def bench(murphy, url, work, args, model, connections, rate=None, clients="give-up", duration=None):
    """One `murphy bench` run of the writes scenario; its JSON report."""
    report = os.path.join(work, "report.json")
    cmd = LOAD_CPU + [murphy, "bench", "--url", url, "--admin-token", TOKEN, "--scenario", "writes",
                      "--model", model, "--connections", str(connections),
                      "--duration", str(duration or args.duration),
                      "--students", str(max(4000, connections)), "--reuse", "--json", report]
    # Giving up after one attempt, a client has nothing to throttle: it is sent as one that
    # retries at once (which never throttles), with no retry.
    cmd += ["--retries", "0", "--on-503", "retry-at-once"] if clients == "give-up" else ["--on-503", clients]
    if rate is not None:
        cmd += ["--rate", f"{rate:.0f}"]
    # Writes given up after a 503 make the run exit 1: that is the point here, not a failure.
    run = subprocess.run(cmd, capture_output=True, text=True)
    if not os.path.exists(report):
        sys.exit(f"murphy bench failed:\n{run.stdout}{run.stderr}")
    with open(report) as f:
        data = json.load(f)
    os.remove(report)
    # The server's CPU over the load alone (setup excluded), as `murphy bench` read it.
    return {**data["writes"], "server_cpu_s": data.get("server_cpu_s")}


def overload_run(murphy, url, work, args, pid, saturation, k, clients):
    with RssSampler(pid) as rss:
        writes = bench(murphy, url, work, args, "open", args.open_connections, rate=k * saturation, clients=clients)
    shed = writes.get("shed") or {"answers": 0, "without_retry_after": 0, "latency_ms": {"p99": 0.0}}
    sent = writes["answered"] + sum(writes["unanswered"].values())
    attempt = writes.get("answering_attempt_ms") or {"p99": 0.0}
    return {"k": k, "clients": clients, "offered_per_s": k * saturation, "sent_per_s": sent / args.duration,
            "answered_per_s": writes["answered_per_s"],
            "goodput": writes["answered_per_s"] / saturation,
            "p50_ms": writes["latency_ms"]["p50"], "p99_ms": writes["latency_ms"]["p99"],
            "attempt_p99_ms": attempt["p99"],
            "shed": shed["answers"], "shed_without_retry_after": shed["without_retry_after"],
            "shed_p99_ms": shed["latency_ms"]["p99"], "rss_mib": rss.mib(), "server_cpu": rss.cpu}


STEP_MULTIPLE, STEP_S, CALM_MULTIPLE = 10, 5, 0.5


def step_run(murphy, url, work, args, saturation, clients):
    """0.5x for --duration, 10x for 5 s, 0.5x for --duration: the p99 of each second
    after the step, and the seconds until it is back to the calm level and stays."""
    calm = bench(murphy, url, work, args, "open", args.open_connections, rate=CALM_MULTIPLE * saturation,
                 clients=clients)
    bench(murphy, url, work, args, "open", args.open_connections, rate=STEP_MULTIPLE * saturation,
          clients=clients, duration=STEP_S)
    after = bench(murphy, url, work, args, "open", args.open_connections, rate=CALM_MULTIPLE * saturation,
                  clients=clients)
    calm_p99 = calm["latency_ms"]["p99"]
    # The run's last second is cut short by its end: left out.
    after_p99 = [s["p99_ms"] for s in after["per_second"] if s["second"] < args.duration - 1]
    return {"clients": clients, "calm_p99_ms": calm_p99, "level_ms": calm_level(calm_p99),
            "after_p99_ms": after_p99, "back_after_s": back_after(after_p99, calm_p99)}


def calm_level(calm_p99):
    """The p99 counted as back to calm: 1.5 times the calm run's, or 10 ms over it."""
    return max(1.5 * calm_p99, calm_p99 + 10)


def back_after(after_p99, calm_p99):
    """The first second after the step whose p99 is at the calm level; None: never."""
    return next((second for second, p99 in enumerate(after_p99) if p99 <= calm_level(calm_p99)), None)


def refusals_only(murphy, work, args):
    """Server CPU per 503 with nothing but refusals: a server capped as the measured one,
    shedding every write (--sojourn-time-max-ms 0), under wrk -c64 with POSTs of a write."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    script = os.path.join(work, "post.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                'wrk.body = \'{"client":"c","seq":1,"commands":[{"enroll":{"student":"s","section":"x"}}]}\'\n')
    cgroup = capped_group(args, "refusals")
    serve = subprocess.Popen(["sh", "-c", f'echo $$ > {cgroup}/cgroup.procs && exec "$@"', "sh"] + SERVER_CPU
                             + [murphy, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir",
                                os.path.join(work, "refusals"), "--admin-token", TOKEN, "--sojourn-time-max-ms", "0"],
                             stdout=subprocess.DEVNULL)
    try:
        wait_http(url + "/healthz")
        before, cpu_before = shed_total(url), cpu_s(serve.pid)
        subprocess.run(LOAD_CPU + ["wrk", "-t1", "-c64", f"-d{args.duration}s", "-s", script,
                                   url + "/api/v1/commands"], capture_output=True, check=True)
        refusals, cpu = shed_total(url) - before, cpu_s(serve.pid) - cpu_before
    finally:
        serve.terminate()
        serve.wait()
        os.rmdir(cgroup)
    return cpu * 1e6 / max(refusals, 1), refusals


def shed_total(url):
    """The requests the server has shed so far, from its /metrics."""
    text = urllib.request.urlopen(url + "/metrics", timeout=5).read().decode()
    return sum(int(float(v)) for v in re.findall(r'^murphy_shed_total\{reason="[a-z_]+"\} (\S+)$', text, re.M))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=int, default=10, help="seconds per run")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--connections", type=int, default=64, help="closed model (saturation)")
    p.add_argument("--open-connections", type=int, default=1024, help="open model (overload)")
    p.add_argument("--json", help="write every run's figures here")
    p.add_argument("--cap-quota-us", type=int, default=0, help="cap the server's CPU (cgroup v1); 0: uncapped")
    p.add_argument("--cap-period-us", type=int, default=10_000)
    p.add_argument("--clients", default="give-up", help="comma-separated: give-up, honour, retry-at-once")
    p.add_argument("--multiples", default="2,5,10", help="overload multiples of X, comma-separated")
    p.add_argument("--step", action="store_true", help="also a step load: 0.5x, 5 s at 10x, 0.5x")
    p.add_argument("--server-arg", action="append", default=[],
                   help="a flag for the measured murphy serve, e.g. --server-arg=--sojourn-time-max-ms=500")
    args = p.parse_args()
    args.clients = args.clients.split(",")
    args.multiples = [int(k) for k in args.multiples.split(",")]
    for tool in ("wrk", "node", "cargo", "taskset"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed (wrk: apt-get install wrk)")
    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "murphy"], cwd=ROOT, check=True)
    murphy = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "murphy")
    work = tempfile.mkdtemp(prefix="murphy-overload-")
    ports = {"node": free_port(), "serve": free_port()}
    procs = []
    try:
        procs.append(subprocess.Popen(SERVER_CPU + ["node", os.path.join(ROOT, "bench", "app.js")],
                                      env={**os.environ, "PORT": str(ports["node"])}, stdout=subprocess.DEVNULL))
        serve_cmd = SERVER_CPU + [murphy, "serve", "--listen", f"127.0.0.1:{ports['serve']}",
                                  "--data-dir", os.path.join(work, "data"), "--admin-token", TOKEN, *args.server_arg]
        if args.cap_quota_us:
            cgroup = capped_group(args)
            # The shell joins the group, then becomes the server: every thread it starts is in it.
            serve_cmd = ["sh", "-c", f'echo $$ > {cgroup}/cgroup.procs && exec "$@"', "sh"] + serve_cmd
        serve = subprocess.Popen(serve_cmd, stdout=subprocess.DEVNULL)
        procs.append(serve)
        node_url, url = f"http://127.0.0.1:{ports['node']}/", f"http://127.0.0.1:{ports['serve']}"
        wait_http(node_url)
        wait_http(url + "/healthz")
        rounds = []
        for r in range(args.rounds):
            node = wrk_node(node_url, args)
            closed = [(c, bench(murphy, url, work, args, "closed", c)) for c in (args.connections, args.open_connections)]
            write_us = closed[0][1]["server_cpu_s"] * 1e6 / closed[0][1]["answered"]
            saturation_connections, closed = max(closed, key=lambda cw: cw[1]["answered_per_s"])
            saturation = closed["answered_per_s"]
            runs = [overload_run(murphy, url, work, args, serve.pid, saturation, k, c)
                    for c in args.clients for k in args.multiples]
            steps = [step_run(murphy, url, work, args, saturation, c) for c in args.clients] if args.step else []
            refusal_us, refusals = refusals_only(murphy, work, args) if args.cap_quota_us else (None, 0)
            for x in runs:
                x["refusal_cpu_share"] = (x["shed"] * refusal_us / (x["server_cpu"] * args.duration * 1e6)
                                          if refusal_us else None)
            rounds.append({"node_rps": node, "saturation_per_s": saturation,
                           "saturation_p99_ms": closed["latency_ms"]["p99"],
                           "saturation_connections": saturation_connections, "runs": runs, "steps": steps,
                           "write_us": write_us, "refusal_us": refusal_us, "refusals_measured": refusals})
            print(f"round {r + 1}/{args.rounds}: node {node:,.0f} req/s, saturation {saturation:,.0f} writes/s; "
                  + "; ".join(f"{x['clients']} {x['k']}x goodput {x['goodput']:.2f} p99 {x['p99_ms']:.1f} ms "
                              f"503 p99 {x['shed_p99_ms']:.1f} ms" for x in runs), file=sys.stderr)
        report(rounds, args)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"args": vars(args), "rounds": rounds}, f, indent=2)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)
        if args.cap_quota_us:
            os.rmdir(capped_group(args))


def report(rounds, args):
    median = lambda values: statistics.median(values)
    node = median([r["node_rps"] for r in rounds])
    saturation = median([r["saturation_per_s"] for r in rounds])
    print(f"\nwrites scenario; saturation: closed model, the better of {args.connections} and "
          f"{args.open_connections} connections; overload: open model, "
          f"{args.open_connections} connections, clients {', '.join(args.clients)}; {args.duration} s a run, "
          f"{args.rounds} rounds (medians); servers pinned to cpu 0, load to cpu 1"
          + (f"; murphy capped at {args.cap_quota_us} us per {args.cap_period_us} us (cgroup v1)" if args.cap_quota_us else "")
          + (f"; murphy serve {' '.join(args.server_arg)}" if args.server_arg else "")
          + "\n")
    print(f"node hello (wrk -c64): {node:,.0f} req/s; murphy writes at saturation: {saturation:,.0f}/s "
          f"({saturation / node:.2f}x node), best at "
          f"{[r['saturation_connections'] for r in rounds]} connections, p99 {median([r['saturation_p99_ms'] for r in rounds]):.1f} ms\n")
    print("| clients | offered | sent/s | writes answered/s | goodput | p50 / p99 answered ms "
          "| p99 answering attempt ms | 503s | p99 of 503 ms | max RSS MiB | server CPU | CPU on 503s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for i, (c, k) in enumerate((c, k) for c in args.clients for k in args.multiples):
        runs = [r["runs"][i] for r in rounds]
        print(f"| {c} | {k}x ({median([x['offered_per_s'] for x in runs]):,.0f}/s) "
              f"| {median([x['sent_per_s'] for x in runs]):,.0f} "
              f"| {median([x['answered_per_s'] for x in runs]):,.0f} | {median([x['goodput'] for x in runs]):.0%} "
              f"| {median([x['p50_ms'] for x in runs]):.1f} / {median([x['p99_ms'] for x in runs]):.1f} "
              f"| {median([x['attempt_p99_ms'] for x in runs]):.1f} | {median([x['shed'] for x in runs]):,.0f} "
              f"| {median([x['shed_p99_ms'] for x in runs]):.1f} | {median([x['rss_mib'] for x in runs]):.0f} "
              f"| {median([x['server_cpu'] for x in runs]):.0%} "
              f"| {share(median, [x['refusal_cpu_share'] for x in runs])} |")
    missing = sum(x["shed_without_retry_after"] for r in rounds for x in r["runs"])
    print(f"\n503 answers without Retry-After: {missing}")
    if args.cap_quota_us:
        write_us, refusal_us = median([r["write_us"] for r in rounds]), median([r["refusal_us"] for r in rounds])
        print(f"measured directly: server CPU per answered write {write_us:.1f} us (closed, {args.connections} "
              f"connections), per 503 {refusal_us:.1f} us (nothing but refusals, wrk -c64; "
              f"{median([r['refusals_measured'] for r in rounds]):,.0f} of them): a refusal is "
              f"{refusal_us / write_us:.0%} of a write")
    for i, c in enumerate(args.clients if args.step else []):
        steps = [r["steps"][i] for r in rounds]
        print(f"step ({c}): calm p99 {median([s['calm_p99_ms'] for s in steps]):.1f} ms; after 5 s at 10x, "
              f"back to the calm level after {[s['back_after_s'] for s in steps]} s; p99 of each second after: "
              + "; ".join(", ".join(f"{p:.0f}" for p in s["after_p99_ms"]) for s in steps))
    fit = refusal_cost([x for r in rounds for x in r["runs"]], args.duration)
    if fit:
        write_us, refusal_us = fit
        print(f"server CPU per answered write {write_us:.0f} us, per 503 {refusal_us:.0f} us "
              f"({refusal_us / write_us:.0%} of a write): least squares over every overload run")


def share(median, values):
    values = [v for v in values if v is not None]
    return f"{median(values):.0%}" if values else "-"


def refusal_cost(runs, duration_s):
    """The server's CPU per answered write and per 503, in us, by least squares over
    runs (CPU = a * writes + b * refusals, no constant: an idle server spends ~0)."""
    rows = [(x["answered_per_s"] * duration_s, x["shed"], x["server_cpu"] * duration_s * 1e6) for x in runs]
    sww = sum(w * w for w, _, _ in rows)
    sss = sum(s * s for _, s, _ in rows)
    sws = sum(w * s for w, s, _ in rows)
    swc = sum(w * c for w, _, c in rows)
    ssc = sum(s * c for _, s, c in rows)
    det = sww * sss - sws * sws
    if det <= 0:
        return None
    return (swc * sss - ssc * sws) / det, (ssc * sww - swc * sws) / det


if __name__ == "__main__":
    main()
