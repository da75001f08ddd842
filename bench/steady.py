#!/usr/bin/env python3
"""No false alarms under load: a healthy lab cluster on a machine kept busy must not lose a node.

A 3-node lab (one nats-server per node, watchdogs on: the lab's default) runs a few resources with
monitors while this bench keeps every core busy (one spinning process per core, at the cluster's own
priority) and the disk busy (a writer that writes and fsyncs 64 MiB files in a loop, and a reader).
Nothing is killed. Counted at the end, from the lab's own logs:

- peers declared lost by a membership (a false alarm: every node was alive throughout);
- DC changes after the first election;
- watchdog resets (a node that reset itself: the worst false alarm, it takes the node's resources down).

A short token timeout is only safe if all three stay at 0 for a long run (issue 11 asks for 30 minutes).

    .venv/bin/python bench/steady.py [--duration 1800] [--token-timeout S] [--heartbeat S] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from paceline.lab.lab import Lab, LabError
from paceline.lab.story import paceline_argv

NODES = ["n1", "n2", "n3"]
SPIN = "while True: pass"
IO = """
import os, sys
path, chunk = sys.argv[1], os.urandom(1 << 20)
while True:
    with open(path, "wb") as f:
        for _ in range(64):
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())
    with open(path, "rb") as f:
        while f.read(1 << 20):
            pass
"""


def paceline(lab: Lab, *words: str) -> None:
    done = subprocess.run([*paceline_argv(), *words], env={**os.environ, "PACELINE_LAB": str(lab.dir)},
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise LabError(f"paceline {' '.join(words)}: {done.stderr.strip()}")


def start_load(scratch: Path) -> list[subprocess.Popen[bytes]]:
    """One spinning process per core and a disk writer; all at the cluster's priority."""
    procs = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(os.cpu_count() or 2)]
    procs.append(subprocess.Popen([sys.executable, "-c", IO, str(scratch / "io.bin")]))
    return procs


def stop_load(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.kill()
    for proc in procs:
        proc.wait()


def events(lab: Lab) -> dict[str, Any]:
    """Losses, DC elections and watchdog resets, from the lab's JSON-line logs."""
    lost: list[dict[str, Any]] = []
    became_dc: list[str] = []
    for log in sorted((lab.dir / "logs").glob("*.log")):
        for line in log.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("event") == "membership view" and entry.get("lost"):
                lost.append({"at": entry.get("timestamp"), "by": log.stem, "lost": entry["lost"]})
            elif entry.get("event") == "became DC":
                became_dc.append(f"{entry.get('timestamp')} {log.stem}")
    resets = [n for n in NODES if lab.watchdog_fired(n)]
    return {"lost": lost, "dc_elections": sorted(became_dc), "watchdog_resets": resets}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=1800.0)
    p.add_argument("--token-timeout", type=float, default=0.0, help="0: Paceline's default")
    p.add_argument("--heartbeat", type=float, default=0.0, help="0: Paceline's default")
    p.add_argument("--resources", type=int, default=6)
    p.add_argument("--no-load", action="store_true", help="the same run on an idle machine")
    p.add_argument("--out", default="bench/results/steady.json")
    args = p.parse_args()
    lab = Lab(dir=Path(tempfile.mkdtemp(prefix="paceline-steady-")), cluster="steady")
    if args.token_timeout:
        lab.settings["PACELINE_TOKEN_TIMEOUT"] = str(args.token_timeout)
    if args.heartbeat:
        lab.settings["PACELINE_HEARTBEAT_INTERVAL"] = str(args.heartbeat)
    load: list[subprocess.Popen[bytes]] = []
    try:
        lab.up(NODES, timeout=60)
        for i in range(args.resources):
            paceline(lab, "configure", "primitive", f"r{i}", "ocf:paceline:Dummy", "op", "monitor", "interval=2s")
        time.sleep(5)
        before = events(lab)
        load = [] if args.no_load else start_load(lab.dir)
        started = time.monotonic()
        while time.monotonic() - started < args.duration:
            time.sleep(min(10.0, args.duration))
            fired = [n for n in NODES if lab.watchdog_fired(n)]
            elapsed = time.monotonic() - started
            print(f"{elapsed:7.0f}s: watchdog resets so far {fired or 'none'}", flush=True)
        stop_load(load)
        load = []
        after = events(lab)
    except LabError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    finally:
        stop_load(load)
        lab.down()
    lost = after["lost"][len(before["lost"]):]
    elections = after["dc_elections"][len(before["dc_elections"]):]
    report = {"duration_s": args.duration, "load": not args.no_load, "cores": os.cpu_count(),
              "token_timeout": args.token_timeout or "default", "heartbeat": args.heartbeat or "default",
              "false_losses": lost, "dc_changes": elections, "watchdog_resets": after["watchdog_resets"]}
    print(f"\n{args.duration:.0f}s, {'load on every core and the disk' if report['load'] else 'idle'}: "
          f"{len(lost)} peers declared lost, {len(elections)} DC changes, "
          f"{len(report['watchdog_resets'])} watchdog resets")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    return 0 if not lost and not report["watchdog_resets"] else 1


if __name__ == "__main__":
    sys.exit(main())
