#!/usr/bin/env python3
"""A hung node, N times: double-active time with watchdog self-fencing, and without any fencing.

Each run pauses (SIGSTOP) every Paceline process and the nats-server of the node running the resource for
--pause seconds, then resumes them (SIGCONT); the resource's own processes keep running, and the watchdog
(standing for hardware) is not paused. The resource is ``ocf:paceline:Dummy``: it runs on a node while its
state file exists there, sampled every 10 ms - the witness, not the CIB.

- ``watchdog`` (a lab's default: fencing on, no device): the hung node must reset itself before its
  resource starts elsewhere (0 ms double-active); the reset node is revived before the next run.
- ``device`` (``stonith:fence_paceline`` with ``nodes_dir``: its off/reboot kill everything of the target
  node, as a power switch would; no watchdogs): the hung node is fenced before its resource starts
  elsewhere (0 ms double-active); the fenced node is booted again before the next run.
- ``off`` (``stonith-enabled=false``, no watchdogs): the resource starts elsewhere at once, as Pacemaker
  does; measured is how long after SIGCONT the duplicate is gone (Pacemaker: 1.7 s median at token 1000 ms).

    .venv/bin/python bench/pause.py [--runs 20] [--pause 5] [--modes watchdog,off] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from paceline.lab.lab import Lab, LabError, alive
from paceline.lab.story import paceline_argv

NODES = ["n1", "n2", "n3"]
RSC = "hung"
SAMPLE = 0.01


def copies(lab: Lab) -> list[str]:
    return [n for n in lab.nodes if (lab.node_dir(n) / "run" / f"Dummy-{RSC}.state").exists()]


def paceline(lab: Lab, *words: str) -> str:
    done = subprocess.run([*paceline_argv(), *words], env={**os.environ, "PACELINE_LAB": str(lab.dir)},
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise LabError(f"paceline {' '.join(words)}: {done.stderr.strip()}")
    return done.stdout


def settle(lab: Lab, timeout: float = 60) -> str:
    """Until exactly one copy runs and the CIB agrees; where."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = copies(lab)
        if len(found) == 1 and f"Started {found[0]}" in paceline(lab, "status"):
            return found[0]
        time.sleep(0.1)
    raise LabError(f"{RSC} did not settle on one node within {timeout:g}s (copies: {copies(lab)})")


def one_run(lab: Lab, mode: str, pause: float) -> dict[str, Any]:
    holder = settle(lab)
    time.sleep(1.0)
    double, both_since, resumed_at, gone_after, elsewhere_at = 0.0, None, None, None, None
    started = time.monotonic()

    def sample() -> list[str]:
        """Where copies run now; accounts double-active time and when a copy first ran elsewhere."""
        nonlocal double, both_since, elsewhere_at
        now, found = time.monotonic(), copies(lab)
        if len(found) >= 2 and both_since is None:
            both_since = now
        elif len(found) < 2 and both_since is not None:
            double += now - both_since
            both_since = None
        if elsewhere_at is None and any(n != holder for n in found):
            elsewhere_at = now
        return found

    lab.pause(holder)
    try:
        while time.monotonic() - started < pause:
            sample()
            time.sleep(SAMPLE)
    finally:
        lab.pause(holder, resume=True)
        resumed_at = time.monotonic()
    deadline = resumed_at + 60
    while time.monotonic() < deadline:
        found = sample()
        if len(found) == 1 and (found != [holder] or mode == "off"):
            gone_after = time.monotonic() - resumed_at
            break
        time.sleep(SAMPLE)
    if both_since is not None:  # still two copies when the wait ended
        double += time.monotonic() - both_since
    reset = lab.watchdog_fired(holder) or not any(alive(p, lab.dir) for p in lab.node_pids(holder))
    if reset:  # the machine was reset (its watchdog, or a fence device cut its power): boot it again
        lab.kill(holder)
        lab.revive(holder, timeout=60)
    return {"holder": holder, "double_active_s": round(double, 3), "one_copy_after_resume_s":
            None if gone_after is None else round(gone_after, 3), "node_reset": reset,
            "elsewhere_after_hang_s": None if elsewhere_at is None else round(elsewhere_at - started, 3)}


def run_mode(mode: str, runs: int, pause: float) -> list[dict[str, Any]]:
    lab = Lab(dir=Path(tempfile.mkdtemp(prefix=f"paceline-pause-{mode}-")), cluster=f"pause{mode}")
    if mode != "watchdog":
        lab.watchdog_timeout = 0.0
    lab.up(NODES, timeout=60)
    results = []
    try:
        if mode == "off":
            paceline(lab, "configure", "property", "stonith-enabled=false")
        elif mode == "device":
            paceline(lab, "configure", "primitive", "fence", "stonith:fence_paceline", "params",
                     f"hosts={','.join(NODES)}", f"state_dir={lab.dir / 'power'}", f"nodes_dir={lab.dir / 'nodes'}",
                     f"pcmk_host_list={' '.join(NODES)}")
        paceline(lab, "configure", "primitive", RSC, "ocf:paceline:Dummy", "op", "monitor", "interval=2s")
        for i in range(runs):
            result = one_run(lab, mode, pause)
            results.append(result)
            print(f"{mode} run {i + 1}: {json.dumps(result)}", flush=True)
    finally:
        lab.down()
    return results


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--pause", type=float, default=5.0)
    p.add_argument("--modes", default="watchdog,off")
    p.add_argument("--out", default="bench/results/pause.json")
    args = p.parse_args()
    report: dict[str, Any] = {}
    try:
        for mode in args.modes.split(","):
            report[mode] = run_mode(mode, args.runs, args.pause)
    except LabError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    print()
    for mode, results in report.items():
        doubles = [r["double_active_s"] for r in results]
        after = [r["one_copy_after_resume_s"] for r in results if r["one_copy_after_resume_s"] is not None]
        moved = [r["elsewhere_after_hang_s"] for r in results if r["elsewhere_after_hang_s"] is not None]
        print(f"{mode:<9} {len(results)} runs: double-active total {sum(doubles):.3f}s, worst {max(doubles):.3f}s; "
              f"one copy after SIGCONT: median {statistics.median(after) if after else float('nan'):.3f}s, "
              f"worst {max(after, default=float('nan')):.3f}s; running elsewhere after the hang began: median "
              f"{statistics.median(moved) if moved else float('nan'):.3f}s, "
              f"worst {max(moved, default=float('nan')):.3f}s")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
