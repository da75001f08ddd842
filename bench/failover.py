#!/usr/bin/env python3
"""Failover timing on a lab cluster of real processes.

1. Node loss: SIGKILL of the node running the webip+webserver group (its membership, executor and
   policy, and the services its agents started) until both resources are recorded Started on the
   survivor.
2. Service loss: SIGKILL of the web server process until it answers HTTP again (monitor interval 2 s).

The CIB is watched over the bus (cib.changed events + query), not by polling the CLI, so the timer is
not inflated by process start-up. Reports the median of --runs runs of each.

    .venv/bin/python bench/failover.py [--runs 5] [--token-timeout 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from paceline.gateway.lab import Lab
from paceline.gateway.story import Story, free_port
from paceline.policy.scheduler import unpack
from paceline.shared import bus, cib
from paceline.shared.subjects import Subjects


async def started_on(nc, s: Subjects) -> dict[str, list[str]]:
    root = cib.parse_cib((await bus.request(nc, s.cib("query"), "query"))["xml"])
    state = unpack(root)
    return {rid: list(state.by_id[rid].active_on) for rid in ("webip", "webserver")}


async def wait_started(nc, s: Subjects, node: str, timeout: float = 30) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        where = await started_on(nc, s)
        if where["webip"] == [node] and where["webserver"] == [node]:
            return time.monotonic()
        await asyncio.sleep(0.01)
    raise RuntimeError(f"group not started on {node} within {timeout}s")


async def measure(lab: Lab, story: Story, runs: int) -> tuple[list[float], list[float]]:
    s = Subjects(lab.cluster)
    nc = await bus.connect(lab.nats_url, "bench-failover", retry_forever=False)
    node_loss, monitor = [], []
    try:
        for i in range(runs):
            where = await started_on(nc, s)
            holder = where["webip"][0]
            survivor = next(n for n in lab.nodes if n != holder)
            t0 = time.monotonic()
            lab.kill(holder)
            t1 = await wait_started(nc, s, survivor)
            node_loss.append(t1 - t0)
            print(f"run {i + 1}: node loss ({holder} killed) -> started on {survivor} in {t1 - t0:.3f}s", flush=True)
            await asyncio.to_thread(lab.revive, holder)
            await asyncio.sleep(1.0)
        for i in range(runs):
            where = await started_on(nc, s)
            holder = where["webserver"][0]
            pid_file = next((lab.node_dir(holder) / "run").glob("**/*webserver*.pid"))
            pid = int(pid_file.read_text().split()[0])
            t0 = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            while not story.http_answers():
                await asyncio.sleep(0.01)
            monitor.append(time.monotonic() - t0)
            print(f"run {i + 1}: web server killed -> answering again in {monitor[-1]:.3f}s", flush=True)
            await asyncio.sleep(2.5)
    finally:
        await nc.close()
    return node_loss, monitor


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--token-timeout", type=float, default=None)
    args = p.parse_args()
    lab_dir = Path(tempfile.mkdtemp(prefix="paceline-bench-"))
    story = Story(lab_dir, echo=False, port=free_port())
    story.docroot = Path(tempfile.mkdtemp(prefix="paceline-docroot-"))
    (story.docroot / "index.html").write_text("<h1>Served by Paceline</h1>\n")
    lab = Lab(dir=lab_dir, cluster="bench")
    if args.token_timeout:
        lab.settings["PACELINE_TOKEN_TIMEOUT"] = str(args.token_timeout)
    try:
        lab.up(["primary", "secondary"])
        for words in (["configure", "property", "stonith-enabled=false"],
                      ["configure", "property", "no-quorum-policy=ignore"],
                      ["configure", "primitive", "webip", "ocf:paceline:IPaddr", "params", "ip=127.0.0.99"],
                      ["configure", "primitive", "webserver", "ocf:paceline:http", "params", f"port={story.port}",
                       f"docroot={story.docroot}", "op", "monitor", "interval=2s", "timeout=20s"],
                      ["configure", "group", "webservice", "webip", "webserver"]):
            story.run(*words, quiet=True)
        story.wait_for("the group is started", story.group_on(None))
        node_loss, monitor = asyncio.run(measure(lab, story, args.runs))
    finally:
        if (lab_dir / "lab.json").exists():
            Lab.load(lab_dir).down()
        story.teardown()
        shutil.rmtree(lab_dir, ignore_errors=True)
    token = lab.settings.get("PACELINE_TOKEN_TIMEOUT", "1.0 (default)")
    print(f"\nmembership token timeout {token}s, heartbeat 0.2s, {args.runs} runs each")
    print(f"node loss -> group started on survivor: median {statistics.median(node_loss):.3f}s "
          f"(min {min(node_loss):.3f}, max {max(node_loss):.3f})")
    print(f"web server killed -> answering again:   median {statistics.median(monitor):.3f}s "
          f"(min {min(monitor):.3f}, max {max(monitor):.3f}; monitor interval 2s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
