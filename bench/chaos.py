#!/usr/bin/env python3
"""Fault injection on a lab cluster, checked the way Jepsen checks a distributed system.

A lab of N nodes (one nats-server each, every service on every node) runs R resources of the
``ocf:chaos:Journal`` agent, which appends every start and stop (node, timestamp) to one journal per
resource. A client keeps defining new (stopped) primitives and remembers which definitions were
acknowledged. For --duration seconds a nemesis applies one fault at a time, chosen at random:

- ``kill-process``: SIGKILL of one process of one node - a Paceline service or its nats-server - which
  is started again 1-3 s later (as systemd's Restart= would);
- ``pause``: SIGSTOP of a node's services and nats-server for 2-6 s (its resources keep running; with
  watchdogs, the node resets itself after the watchdog timeout and is then booted again);
- ``kill-node``: the whole node (services, nats-server, resources) dies and is revived 2-5 s later;
- ``partition`` (with --netns, as root: every node in its own network namespace): one node is cut off from
  all the others for 2-6 s, then healed (its processes run on; with watchdogs the minority node resets
  itself once it lost quorum, without them it stops its resources per ``no-quorum-policy``).

Then the checker reports:

- double-active: intervals in which two nodes ran one resource (from the journals; a killed node's copies
  end when it was killed), their count, total and longest;
- lost changes: acknowledged definitions missing from the CIB at the end (unknown outcomes, exit 112,
  are not counted as acknowledged);
- convergence: time from the end of the last fault until every resource runs exactly once, where the
  CIB says it runs;
- crashes: Paceline processes that died without the nemesis killing them, and tracebacks in the logs.

    .venv/bin/python bench/chaos.py [--duration 600] [--nodes 3] [--resources 6] [--seed N]
                                    [--fencing watchdog|off] [--netns] [--out FILE]

Exit status 0 when nothing was lost, nothing crashed and the cluster converged (double-active time is
reported, not judged: without fencing Pacemaker allows it too); 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from paceline.lab.lab import NODE_SERVICES, Lab, LabError, alive
from paceline.lab.story import paceline_argv
from paceline.shared import bus, cib
from paceline.shared.cluster import unpack
from paceline.shared.subjects import Subjects

AGENTS = Path(__file__).resolve().parent / "agents"
#: Exit status of a change whose outcome is unknown (the CLI's, Pacemaker's CRM_EX_INDETERMINATE).
UNKNOWN = 112


# ---------------------------------------------------------------- the checker (pure)
@dataclass(frozen=True)
class Event:
    """One line of a journal, or a node's death from the nemesis log (which ends every copy it ran)."""

    at: float
    kind: str  # start | stop | died
    node: str


def intervals(events: list[Event], end: float) -> dict[str, list[tuple[float, float]]]:
    """Node -> the intervals in which it ran the resource, from its starts, stops and deaths."""
    running: dict[str, float] = {}
    found: dict[str, list[tuple[float, float]]] = {}
    for e in sorted(events, key=lambda e: e.at):
        if e.kind == "start" and e.node not in running:
            running[e.node] = e.at
        elif e.kind in ("stop", "died") and e.node in running:
            found.setdefault(e.node, []).append((running.pop(e.node), e.at))
    for node, since in running.items():
        found.setdefault(node, []).append((since, end))
    return found


def double_active(per_node: dict[str, list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """The intervals in which two or more nodes ran the resource at once (merged)."""
    edges = sorted([(a, 1) for spans in per_node.values() for a, _ in spans] +
                   [(b, -1) for spans in per_node.values() for _, b in spans], key=lambda x: (x[0], x[1]))
    overlaps: list[tuple[float, float]] = []
    active, since = 0, 0.0
    for at, step in edges:
        if active >= 2 and step < 0 and at > since:
            overlaps.append((since, at))
        active += step
        if active >= 2:
            since = at
    merged: list[tuple[float, float]] = []
    for a, b in overlaps:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def watchdog_resets(logs: Path) -> list[Event]:
    """When each node's watchdog reset it (its own log, timestamped as it acted): the end of its copies."""
    events = []
    for log in sorted(logs.glob("*-watchdog.log")):
        node = log.name.removesuffix("-watchdog.log")
        for line in log.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                record = json.loads(line)
                if str(record.get("event", "")).startswith("reset"):
                    events.append(Event(float(record["timestamp"]), "died", node))
    return events


def read_journal(path: Path) -> list[Event]:
    events = []
    for line in path.read_text().splitlines() if path.exists() else []:
        parts = line.split()
        if len(parts) == 3:
            events.append(Event(float(parts[2]), parts[0], parts[1]))
    return events


# ---------------------------------------------------------------- the run
@dataclass
class Report:
    duration: float
    nodes: int
    resources: int
    seed: int
    fencing: str
    faults: dict[str, int] = field(default_factory=dict)
    double_active: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    acknowledged: int = 0
    unknown: int = 0
    refused: int = 0
    lost: list[str] = field(default_factory=list)
    converged_after: float | None = None
    #: When it did not converge: what still differed at the end.
    unsettled: list[str] = field(default_factory=list)
    longest_recovery: float = 0.0
    crashes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.lost and not self.crashes and self.converged_after is not None


class Nemesis:
    """Applies one random fault at a time, keeping a log of deaths the checker needs."""

    def __init__(self, lab: Lab, rng: random.Random, log: Any, settled: Any):
        self.lab = lab
        self.kinds = ["kill-process", "pause", "kill-node"] + (["partition"] if lab.plan is not None else [])
        self.rng = rng
        self.say = log
        self.settled = settled
        self.deaths: list[tuple[float, str]] = []  # (when, node) a node's resources died with it
        self.faults: dict[str, int] = {}
        self.killed: set[int] = set()  # pids the nemesis killed (not crashes)
        self.recoveries: list[float] = []  # seconds from each fault's end until the cluster had settled

    def run(self, until: float, min_faults: int = 0) -> None:
        """Fault after fault until ``until`` and at least ``min_faults`` faults (a slow machine, where each
        fault takes longer to settle, still gets as many); after each, wait (at most a minute) for the cluster
        to settle."""
        def more() -> bool:
            return time.monotonic() < until or sum(self.faults.values()) < min_faults

        while more():
            time.sleep(self.rng.uniform(0.5, 2.0))
            if not more():
                break
            fault = self.rng.choice(self.kinds)
            node = self.rng.choice(self.lab.nodes)
            self.faults[fault] = self.faults.get(fault, 0) + 1
            try:
                getattr(self, fault.replace("-", "_"))(node)
            except LabError as exc:
                self.say(f"  nemesis: {fault} {node}: {exc}")
            finally:
                self.reboot_reset_nodes()
            took = wait(self.settled_or_reboot, 60, "the cluster to settle", fail=False)
            self.recoveries.append(took if took is not None else float("inf"))
            self.say(f"    settled {took:.2f}s later" if took is not None else "    NOT settled within 60s")

    def settled_or_reboot(self) -> bool:
        """Whether the cluster settled; a node whose watchdog reset it meanwhile (its membership was killed
        and not back in time, say) is booted first, as its hardware would."""
        self.reboot_reset_nodes()
        return bool(self.settled())

    def reboot_reset_nodes(self, also: tuple[str, ...] = ()) -> None:
        """Nodes their watchdog reset are down, as after a hardware reset: boot them again (and count it),
        together with ``also`` (nodes the nemesis killed): booted one by one, a node may wait for ever for
        a JetStream majority that only the others give."""
        reset = [n for n in self.lab.nodes if self.lab.watchdog_fired(n) and n not in also]
        for node in reset:
            self.say(f"  nemesis: {node} was reset by its watchdog; reviving it")
            self.faults["watchdog-reset"] = self.faults.get("watchdog-reset", 0) + 1
            self.killed.update(self.lab.node_pids(node) + self.lab.server_pids(node))
            # (when it died is the watchdog's own record: see watchdog_resets)
            self.lab.kill(node)  # whatever was started again after the reset goes too: a clean boot
        down = [*also, *reset]
        if down:
            try:
                self.lab.revive_many(down, timeout=60)
            except LabError as exc:
                self.say(f"  nemesis: reviving {', '.join(down)}: {exc}")

    def kill_process(self, node: str) -> None:
        process = self.rng.choice([*NODE_SERVICES, "nats-server"])
        pids = self.lab.server_pids(node)[:1] if process == "nats-server" else \
            [self.lab.procs.get(f"{node}/{process}", 0)]
        self.say(f"  nemesis: SIGKILL {node}/{process}")
        for pid in pids:
            if alive(pid, self.lab.dir):  # never a recycled pid (its node may have been reset meanwhile)
                self.killed.add(pid)
                with contextlib.suppress(ProcessLookupError):  # already gone (its node was reset meanwhile)
                    os.kill(pid, signal.SIGKILL)
        time.sleep(self.rng.uniform(1.0, 3.0))
        self.lab.restart(node, process)

    def pause(self, node: str) -> None:
        self._for_a_while(node, "pause", lambda: self.lab.pause(node), lambda: self.lab.pause(node, resume=True))

    def partition(self, node: str) -> None:
        def heal() -> None:
            if not self.lab.watchdog_fired(node):  # a reset node is booted again, with its link
                self.lab.isolate(node, heal=True)

        self._for_a_while(node, "isolate", lambda: self.lab.isolate(node), heal)

    def _for_a_while(self, node: str, what: str, apply: Callable[[], object], undo: Callable[[], object]) -> None:
        """A fault the node survives unless its watchdog resets it meanwhile: applied for 2-6 s, then undone."""
        self.say(f"  nemesis: {what} {node}")
        self.killed.update(self.lab.node_pids(node) + self.lab.server_pids(node))  # its watchdog may reset it
        apply()
        try:
            time.sleep(self.rng.uniform(2.0, 6.0))
        finally:
            undo()

    def kill_node(self, node: str) -> None:
        self.say(f"  nemesis: kill {node}")
        self.killed.update(self.lab.node_pids(node) + self.lab.server_pids(node))
        self.lab.kill(node)
        self.deaths.append((time.time(), node))
        time.sleep(self.rng.uniform(2.0, 5.0))
        self.reboot_reset_nodes(also=(node,))


class Client:
    """Defines new primitives one after another; remembers which the cluster acknowledged."""

    def __init__(self, lab_dir: Path):
        self.env = {**os.environ, "PACELINE_LAB": str(lab_dir)}
        self.env.pop("PACELINE_NATS_URL", None)
        self.acked: list[str] = []
        self.unknown: list[str] = []
        self.refused = 0

    def run(self, stop: threading.Event) -> None:
        n = 0
        while not stop.is_set():
            rid = f"w{n}"
            n += 1
            done = subprocess.run([*paceline_argv(), "configure", "primitive", rid, "ocf:paceline:Dummy", "meta",
                                   "target-role=Stopped"], env=self.env, capture_output=True, text=True,
                                  timeout=120)
            if done.returncode == 0:
                self.acked.append(rid)
            elif done.returncode == UNKNOWN:
                self.unknown.append(rid)
            else:
                self.refused += 1
            time.sleep(0.2)


async def cib_root(lab: Lab) -> cib.Element:
    nc = await lab.connect(name="chaos")
    try:
        return cib.parse_cib((await bus.request(nc, Subjects(lab.cluster).cib("query"), "query", {"fresh": True},
                                                timeout=5))["xml"])
    finally:
        await nc.close()


def settled(lab: Lab, rids: list[str]) -> bool:
    """Every resource runs exactly once, on the node the CIB says."""
    return not unsettled(lab, rids)


def unsettled(lab: Lab, rids: list[str]) -> list[str]:
    """What keeps the cluster from having settled: resources not running exactly once where the CIB says
    (recorded vs. real), or why the CIB could not be read."""
    try:
        root = asyncio.run(cib_root(lab))
    except (bus.BusUnavailable, bus.RemoteError) as exc:
        return [f"CIB unreadable: {exc}"]
    state = unpack(root, time.time())
    found = []
    for rid in rids:
        recorded = sorted(state.by_id[rid].status.active_on)
        real = sorted(n for n in lab.nodes if (lab.node_dir(n) / "run" / f"Journal-{rid}.state").exists())
        if len(real) != 1 or recorded != real:
            found.append(f"{rid}: CIB says {recorded}, runs on {real}")
    return found


def crashes(lab: Lab, killed: set[int]) -> list[str]:
    found = []
    for name, pid in lab.procs.items():
        if pid not in killed and not alive(pid, lab.dir):
            found.append(f"{name} (pid {pid}) is not running")
    for log in sorted((lab.dir / "logs").glob("*.log")):
        if "Traceback" in log.read_text(errors="replace"):
            found.append(f"traceback in {log.name}")
    return found


def run(args: argparse.Namespace, work: Path) -> Report:
    rng = random.Random(args.seed)
    journals = work / "journals"
    journals.mkdir(parents=True)
    os.environ["PACELINE_EXTRA_OCF_ROOTS"] = str(AGENTS)
    lab = Lab(dir=work / "lab", cluster="chaos")
    if args.fencing == "off":
        lab.watchdog_timeout = 0.0
    lab.settings["PACELINE_EXTRA_OCF_ROOTS"] = str(AGENTS)
    lab.up([f"n{i + 1}" for i in range(args.nodes)], timeout=60, with_netns=args.netns)
    report = Report(args.duration, args.nodes, args.resources, args.seed, args.fencing)
    client = Client(lab.dir)
    say = print if not args.quiet else (lambda *_: None)
    try:
        words = [["configure", "property", "stonith-enabled=false"]] if args.fencing == "off" else []
        rids = [f"r{i}" for i in range(args.resources)]
        words += [["configure", "primitive", rid, "ocf:chaos:Journal", "params", f"journal={journals / rid}",
                   "op", "monitor", "interval=2s", "timeout=20s"] for rid in rids]
        for w in words:
            subprocess.run([*paceline_argv(), *w], env=client.env, check=True, capture_output=True, timeout=60)
        wait(lambda: settled(lab, rids), 60, "the resources to start")
        nemesis = Nemesis(lab, rng, say, lambda: settled(lab, rids))
        stop = threading.Event()
        writer = threading.Thread(target=client.run, args=(stop,), daemon=True)
        writer.start()
        started = time.monotonic()
        nemesis.run(started + args.duration, args.min_faults)
        healed = time.monotonic()
        report.duration = round(healed - started, 1)      # past --duration when --min-faults asked for more
        stop.set()
        writer.join(timeout=150)
        if wait(lambda: settled(lab, rids), 120, "the cluster to converge", fail=False) is not None:
            report.converged_after = time.monotonic() - healed
        else:
            report.unsettled = unsettled(lab, rids)
        end = time.time()
        report.faults = nemesis.faults
        report.longest_recovery = max(nemesis.recoveries, default=0.0)
        deaths = [Event(at, "died", node) for at, node in nemesis.deaths] + watchdog_resets(lab.dir / "logs")
        for rid in rids:
            events = read_journal(journals / rid) + deaths
            overlaps = double_active(intervals(events, end))
            if overlaps:
                report.double_active[rid] = overlaps
        present = {el.get("id") for el in asyncio.run(cib_root(lab)).iter("primitive")}
        report.acknowledged, report.unknown, report.refused = len(client.acked), len(client.unknown), client.refused
        report.lost = [rid for rid in client.acked if rid not in present]
        report.crashes = crashes(lab, nemesis.killed)
    finally:
        if args.keep_logs:
            shutil.copytree(lab.dir / "logs", args.keep_logs, dirs_exist_ok=True)
        lab.down()
    return report


def wait(check: Any, timeout: float, what: str, fail: bool = True) -> float | None:
    """Seconds until ``check()`` holds; None (or an error) after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(0.2)
    if fail:
        raise LabError(f"timed out after {timeout:g}s waiting for {what}")
    return None


def summary(report: Report) -> str:
    spans = [b - a for overlaps in report.double_active.values() for a, b in overlaps]
    lines = [
        f"{report.duration:g}s of faults on {report.nodes} nodes, {report.resources} resources, seed {report.seed}, "
        f"fencing {report.fencing}",
        "faults: " + ", ".join(f"{k} {v}" for k, v in sorted(report.faults.items())),
        f"double-active: {len(spans)} intervals, {sum(spans):.3f}s in total, longest {max(spans, default=0):.3f}s",
        f"changes: {report.acknowledged} acknowledged, {len(report.lost)} of them lost; {report.unknown} with an "
        f"unknown outcome, {report.refused} refused",
        "converged " + (f"{report.converged_after:.2f}s after the last fault" if report.converged_after is not None
                        else "NOT within 120s of the last fault" + "".join(f"\n  {u}" for u in report.unsettled))
        + f"; longest recovery after a fault {report.longest_recovery:.2f}s",
        f"crashes: {len(report.crashes)}" + "".join(f"\n  {c}" for c in report.crashes),
    ]
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=600)
    p.add_argument("--min-faults", type=int, default=0, help="go on past --duration until this many faults")
    p.add_argument("--nodes", type=int, default=3)
    p.add_argument("--resources", type=int, default=6)
    p.add_argument("--seed", type=int, default=int(time.time()))
    p.add_argument("--out", default="bench/results/chaos.json")
    p.add_argument("--keep-logs", metavar="DIR")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--netns", action="store_true", help="root only: nodes in network namespaces, and partitions")
    p.add_argument("--fencing", choices=("watchdog", "off"), default="off",
                   help="watchdog: fencing on, each node's watchdog resets it (survivors wait "
                        "stonith-watchdog-timeout); off: stonith-enabled=false and no watchdogs")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="paceline-chaos-"))
    try:
        report = run(args, work)
    except (LabError, subprocess.CalledProcessError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(summary(report))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({**asdict(report), "ok": report.ok}, indent=2))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
