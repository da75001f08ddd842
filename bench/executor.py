#!/usr/bin/env python3
"""Executor throughput, per-operation overhead and the CPU cost of recurring monitors, on one node.

Real processes: an embedded nats-server, a cib-store and one executor (``python -m paceline.executor``),
driven over the bus like the DC drives them, with the bundled ``ocf:paceline:Dummy``.

1. Operations per second: N started Dummy resources (N = 1, 10, 100), each probed (monitor, interval 0)
   over and over for --seconds; every operation is run, recorded in the CIB and replied to. Concurrency
   is one operation per resource (the executor serialises a resource's operations) under the node's
   ``node-action-limit`` (default 2 x cores, as in Pacemaker).
2. Overhead, same run, sequentially: the Dummy agent's monitor run directly (asyncio subprocess, same
   environment), through the executor's agent runner in this process, and as a whole bus action
   (request -> run -> CIB record -> reply). Overhead = runner - direct (the executor's own cost) and
   action - direct (including bus and CIB).
3. CPU: 100 Dummy resources with 1 s recurring monitors for --cpu-seconds; CPU of the executor process
   itself (utime+stime) and of the agents it ran (reaped children), as a share of one core.

    .venv/bin/python bench/executor.py [--seconds 3] [--samples 200] [--cpu-seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from paceline.executor.operation import Operation
from paceline.executor.runner import AgentRunner
from paceline.executor.standards import AgentPaths
from paceline.shared import bus
from paceline.shared.natsserver import NatsServer
from paceline.shared.subjects import Subjects

NODE = "bench"
S = Subjects("bench")
DUMMY = {"class": "ocf", "provider": "paceline", "type": "Dummy"}
TICKS = os.sysconf("SC_CLK_TCK")


def action(task: str, rsc: str, interval_ms: int = 0, call: int = 1) -> dict:
    return {"id": call, "transition": 1, "term": 1, "task": task, "rsc": rsc, "node": NODE,
            "interval_ms": interval_ms, "timeout_ms": 20000, "agent": DUMMY, "params": {}, "meta": {},
            "expected_rc": 0}


def spawn(module: str, state: Path, url: str, log: Path, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, PACELINE_CLUSTER="bench", PACELINE_NATS_URL=url, PACELINE_LOG_LEVEL="warning")
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", module, "--state-dir", str(state), "--metrics-port", "-1",
                                 *extra], env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(own utime+stime, reaped children's cutime+cstime) of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / TICKS
    children = (int(fields[13]) + int(fields[14])) / TICKS
    return own, children


async def wait_serving(nc) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            await bus.request(nc, S.executor_action(NODE), "action", action("cancel", "none"), timeout=1)
            return
        except (bus.BusUnavailable, bus.RemoteError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def throughput(nc, n: int, seconds: float) -> float:
    rscs = [f"d{i}" for i in range(n)]
    await asyncio.gather(*(bus.request(nc, S.executor_action(NODE), "action", action("start", r), timeout=30)
                           for r in rscs))
    done = 0
    deadline = time.monotonic() + seconds

    async def loop(rsc: str) -> None:
        nonlocal done
        while time.monotonic() < deadline:
            reply = await bus.request(nc, S.executor_action(NODE), "action", action("monitor", rsc), timeout=60)
            assert reply["rc"] == 0, reply
            done += 1

    started = time.monotonic()
    await asyncio.gather(*(loop(r) for r in rscs))
    return done / (time.monotonic() - started)


async def overhead(nc, rsctmp: Path, samples: int) -> dict[str, float]:
    paths = AgentPaths(ocf_root=Path("/usr/lib/ocf"), lsb_root=Path("/etc/init.d"))
    runner = AgentRunner(paths, rsctmp=rsctmp, default_timeout=20)
    op = Operation.from_body(action("monitor", "d0"))
    agent = str(paths.bundled_root / "ocf" / "paceline" / "Dummy")
    env = {**os.environ, "HA_RSCTMP": str(rsctmp), "OCF_RESOURCE_INSTANCE": "d0", "OCF_ROOT": "/usr/lib/ocf"}

    async def direct() -> None:
        proc = await asyncio.create_subprocess_exec(agent, "monitor", env=env, stdout=subprocess.DEVNULL,
                                                    stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        await proc.wait()

    async def via_runner() -> None:
        await runner.run(op)

    async def via_bus() -> None:
        await bus.request(nc, S.executor_action(NODE), "action", action("monitor", "d0"), timeout=30)

    times: dict[str, list[float]] = {"direct": [], "runner": [], "action": []}
    for _ in range(samples):  # interleaved, so load changes hit all three alike
        for name, fn in (("direct", direct), ("runner", via_runner), ("action", via_bus)):
            t0 = time.perf_counter()
            await fn()
            times[name].append((time.perf_counter() - t0) * 1000)
    return {k: statistics.median(v) for k, v in times.items()}


async def recurring_cpu(nc, pid: int, n: int, seconds: float) -> tuple[float, float]:
    rscs = [f"d{i}" for i in range(n)]
    await asyncio.gather(*(bus.request(nc, S.executor_action(NODE), "action", action("start", r), timeout=60)
                           for r in rscs))
    await asyncio.gather(*(bus.request(nc, S.executor_action(NODE), "action", action("monitor", r, 1000),
                                       timeout=60) for r in rscs))
    await asyncio.sleep(2)  # settle: every monitor past its first run
    own0, kids0 = cpu_seconds(pid)
    await asyncio.sleep(seconds)
    own1, kids1 = cpu_seconds(pid)
    return (own1 - own0) / seconds, (kids1 - kids0) / seconds


async def main_async(args: argparse.Namespace, work: Path) -> None:
    server = NatsServer(store_dir=work / "js").start(log_file=work / "nats.log")
    procs = []
    try:
        procs.append(spawn("paceline.cib_store", work / "cib", server.url, work / "cib.log"))
        executor = spawn("paceline.executor", work / "exec", server.url, work / "exec.log", "--node", NODE)
        procs.append(executor)
        nc = await bus.connect(server.url, "bench-executor")
        await wait_serving(nc)
        cores = os.cpu_count() or 1
        print(f"executor pid {executor.pid}, cores {cores}, node-action-limit default {2 * cores}")
        for n in (1, 10, 100):
            rate = await throughput(nc, n, args.seconds)
            print(f"Dummy monitors, {n:>3} resources: {rate:7.1f} operations/s (run + CIB record + reply)")
        med = await overhead(nc, work / "exec" / "run", args.samples)
        print(f"per operation (median of {args.samples}): agent directly {med['direct']:.2f} ms, "
              f"executor runner {med['runner']:.2f} ms, whole bus action {med['action']:.2f} ms")
        print(f"executor overhead over the agent: {med['runner'] - med['direct']:.2f} ms "
              f"(ratio {med['runner'] / med['direct']:.2f}); with bus + CIB record "
              f"{med['action'] - med['direct']:.2f} ms (ratio {med['action'] / med['direct']:.2f})")
        own, kids = await recurring_cpu(nc, executor.pid, 100, args.cpu_seconds)
        print(f"100 resources, 1 s monitors, {args.cpu_seconds:g} s: executor {own * 100:.1f} % of one core, "
              f"agents it ran {kids * 100:.1f} %")
        await nc.close()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        server.stop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=3.0, help="duration of each throughput run")
    p.add_argument("--samples", type=int, default=200, help="operations timed for the overhead")
    p.add_argument("--cpu-seconds", type=float, default=30.0, help="duration of the CPU measurement")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="paceline-bench-executor-"))
    try:
        asyncio.run(main_async(args, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
