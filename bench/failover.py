#!/usr/bin/env python3
"""Failover timing on a lab cluster of real processes, one nats-server per node (the deployed shape).

1. Node loss: SIGKILL of the node running the webip+webserver group (every Paceline service of the
   node, its nats-server, and the services its agents started) until both resources are started on a
   survivor (as the survivors' executors, which hold each node's history, answer ``executor.history``),
   until that is also recorded in the CIB (which lags while JetStream elects a stream leader), until
   ``paceline status`` shows it (the gateway's page: the CIB with what the DC knows laid over it, and the
   executors' histories over a cached copy), and until the web server answers HTTP again through the
   service address.
   Two scenarios, reported apart (issue 11):
   (a) the killed node is neither the DC nor the leader of any JetStream stream nor the meta leader;
   (b) the killed node is the DC and leads every stream Paceline uses: leaders are moved there first
       with JetStream's step-down API. (JetStream's meta leader can only be moved from the system
       account; each run says whether the killed node held it.)
   The group is steered onto the chosen node with a location preference before each run.
2. Service loss: SIGKILL of the web server process until it answers HTTP again (monitor interval 2 s).

With --netns (root only) the lab gives every node its own network namespace and webip is Debian's
real ocf:heartbeat:IPaddr2: "answers" then means an HTTP GET of the floating address from the hub
namespace, so the time includes the address moving to the survivor and the hub learning its new
MAC address (IPaddr2's gratuitous ARP). Without it, webip is the lab's ocf:paceline:IPaddr stand-in
and the web server is reached on 127.0.0.1.

The CIB is watched over the bus (cib.changed events + query), not by polling the CLI, so the timer is
not inflated by process start-up. Reports the median of --runs runs of each.

    .venv/bin/python bench/failover.py [--runs 5] [--nodes 3] [--scenario a|b|both] [--token-timeout 1.0] [--netns]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import functools
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from paceline.lab.lab import Lab, LabError
from paceline.lab.netns import NetnsError, call_in
from paceline.lab.story import Story, StoryStepFailed, free_port
from paceline.shared import bus, cib, dc_facts
from paceline.shared.cluster import unpack
from paceline.shared.cluster.overlay import Known, lay_over
from paceline.shared.config import Config
from paceline.shared.messages import (
    MembershipQuery,
    MembershipViewMessage,
    StatusReply,
    StatusRequest,
)
from paceline.shared.subjects import Subjects

NETNS_PORT = 8080  # inside the node namespaces, where nothing else listens


async def started_on(nc, s: Subjects) -> dict[str, list[str]]:
    try:
        root = cib.parse_cib((await bus.request(nc, s.cib("query"), "query", timeout=1))["xml"])
    except bus.BusUnavailable as exc:  # counted against the cluster: the clock runs on
        print(f"  (a CIB query went unanswered: {exc})", flush=True)
        return {"webip": [], "webserver": []}
    state = unpack(root, time.time())
    return {rid: list(state.by_id[rid].status.active_on) for rid in ("webip", "webserver")}


async def started_on_page(nc, s: Subjects) -> dict[str, list[str]]:
    """Where the group runs as ``paceline status`` shows it: the gateway's page (JSON), which lays what the
    DC knows, and over a cached CIB copy the executors' histories, over the CIB."""
    try:
        reply = await bus.call(nc, s.gateway("status"), StatusRequest(format="json"), StatusReply, timeout=2)
    except (bus.BusUnavailable, bus.RemoteError) as exc:  # counted against the cluster: the clock runs on
        print(f"  (a status request went unanswered: {exc})", flush=True)
        return {"webip": [], "webserver": []}
    found: dict[str, list[str]] = {"webip": [], "webserver": []}
    entries = list(json.loads(reply.text)["resources"])
    while entries:
        entry = entries.pop()
        entries += entry.get("children", [])
        if entry.get("id") in found:
            found[entry["id"]] = list(entry.get("active_on", []))
    return found


async def started_by_executors(nc, s: Subjects, config: cib.Element, live: list[str],
                               dead: str) -> dict[str, list[str]]:
    """Where the group runs as the live nodes' executors say (the dead node's processes were killed)."""
    root = copy.deepcopy(config)
    found = await dc_facts.histories(nc, s, live, "bench")
    # An executor that does not answer counts as running nothing, as the dead node's does.
    histories = {node: found.get(node, cib.parse("<lrm/>")) for node in [*live, dead]}
    lay_over(root, Known(members=frozenset(live), gone=frozenset({dead}), histories=histories))
    state = unpack(root, time.time())
    return {rid: list(state.by_id[rid].status.active_on) for rid in ("webip", "webserver")}


async def wait_started(nc, s: Subjects, node: str | None = None, timeout: float = 30,
                       not_on: str = "", where_now: Callable[[], Any] | None = None) -> tuple[float, str]:
    """When the group is recorded started on ``node`` (or on any one node but ``not_on``), and where
    (``where_now``: another source than the CIB)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        where = await (where_now() if where_now else started_on(nc, s))
        together = len(where["webip"]) == 1 and where["webip"] == where["webserver"]
        if together and (node is None or where["webip"] == [node]) and where["webip"] != [not_on]:
            return time.monotonic(), where["webip"][0]
        await asyncio.sleep(0.01)
    raise RuntimeError(f"group not started on {node or 'one node'} within {timeout}s")


def http_ok(url: str) -> bool:
    """One GET with a short timeout, so that a request sent to a dead node's MAC is retried soon."""
    try:
        with urllib.request.urlopen(url, timeout=0.2) as resp:
            return resp.status == 200 and b"Paceline" in resp.read()
    except OSError:
        return False


def wait_answering(answers: Callable[[], bool], timeout: float = 30) -> float:
    deadline = time.monotonic() + timeout
    while not answers():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the web server did not answer within {timeout}s")
        time.sleep(0.01)
    return time.monotonic()


async def dc_of(nc, lab: Lab, s: Subjects) -> str:
    """The DC every quorate membership view names (waits while they disagree or none is quorate). A node's
    own policy saying it is DC is not enough: a node just booted is DC of its lone, inquorate view until
    it joins the others."""
    for _ in range(200):
        named = set()
        for node in lab.nodes:
            try:
                view = await bus.call(nc, s.membership_query(node), MembershipQuery(), MembershipViewMessage,
                                      timeout=0.5)
            except (bus.BusUnavailable, bus.RemoteError):
                continue
            if view.quorate:
                named.add(view.dc)
        if len(named) == 1 and "" not in named:
            return named.pop()
        await asyncio.sleep(0.05)
    raise RuntimeError("no DC that the quorate views agree on")


def jsz(lab: Lab) -> dict[str, Any]:
    """JetStream's monitoring page (streams included) from the first live bus server of the lab."""
    for server in lab.servers.values():
        url = f"http://127.0.0.1:{server.http_port}/jsz?streams=true"

        def fetch(url: str = url) -> dict[str, Any]:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return json.loads(resp.read())

        try:
            return call_in(server.namespace, fetch) if server.namespace else fetch()
        except OSError:
            continue
    raise RuntimeError("no bus server answers its monitoring port")


async def leaders(lab: Lab) -> dict[str, str]:
    """JetStream's leaders: every stream's, and the meta group's (key "$meta")."""
    page = await asyncio.to_thread(jsz, lab)
    found = {"$meta": (page.get("meta_cluster") or {}).get("leader", "")}
    for account in page.get("account_details") or []:
        for stream in account.get("stream_detail") or []:
            found[stream["name"]] = (stream.get("cluster") or {}).get("leader", "")
    return found


async def step_down(nc, group: str) -> None:
    subject = "$JS.API.META.LEADER.STEPDOWN" if group == "$meta" else f"$JS.API.STREAM.LEADER.STEPDOWN.{group}"
    await nc.request(subject, b"", timeout=5)


async def move_leaders(lab: Lab, nc, node: str, want_there: bool, patience: float = 60) -> dict[str, str]:
    """Step leaders down until every one is on ``node`` (want_there) or none is; a new leader is elected
    among the other peers, so a few rounds settle it."""
    deadline = time.monotonic() + patience
    while True:
        now = await leaders(lab)
        # JetStream's meta leader can only be moved from the system account: it is only reported.
        wrong = [g for g, leader in now.items() if g != "$meta" and ((leader == node) != want_there or not leader)]
        if not wrong:
            return now
        if time.monotonic() > deadline:
            raise RuntimeError(f"could not {'move' if want_there else 'keep'} leaders {wrong} "
                               f"{'to' if want_there else 'off'} {node}: {now}")
        # JetStream's API is the cib-store's alone (docs/bus-security.md): step leaders down with its credential.
        js = await lab.connect(f"cib-store@{lab.nodes[0]}", "bench-failover-stepdown")
        try:
            for group in wrong:
                if now[group]:
                    try:
                        await step_down(js, group)
                    except Exception:  # an election under way: look again
                        pass
        finally:
            await js.close()
        await asyncio.sleep(1.0)


async def steer(lab: Lab, story: Story, nc, s: Subjects, scenario: str) -> tuple[str, bool]:
    """Put the group where the scenario kills: on the DC (b) or on a node that is not (a)."""
    dc = await dc_of(nc, lab, s)
    meta = (await leaders(lab))["$meta"]
    others = [n for n in sorted(lab.nodes) if n != dc]
    target = dc if scenario == "b" else next((n for n in others if n != meta), others[0])
    await asyncio.to_thread(story.run, "resource", "move", "webservice", target, "force", quiet=True)
    await wait_started(nc, s, target)
    now = await move_leaders(lab, nc, target, want_there=scenario == "b")
    if await dc_of(nc, lab, s) != dc:
        raise RuntimeError("the DC changed while leaders moved")
    return target, now["$meta"] == target


async def measure(lab: Lab, story: Story, answers: Callable[[], bool], runs: int,
                  scenarios: list[str]) -> dict[str, list[float]]:
    s = Subjects(lab.cluster)
    nc = await lab.connect(name="bench-failover")
    times: dict[str, list[float]] = {f"{k}-{sc}": [] for k in ("started", "recorded", "shown", "answering")
                                     for sc in scenarios}
    times["monitor"] = []
    acknowledged: list[str] = []  # configuration changes made right after a loss that said they were applied
    try:
        for scenario in scenarios:
            for i in range(runs):
                holder, meta_there = await steer(lab, story, nc, s, scenario)
                await asyncio.sleep(1.0)  # let the transition that started it finish (its monitors)
                config = cib.parse_cib((await bus.request(nc, s.cib("query"), "query"))["xml"])
                live = [n for n in lab.nodes if n != holder]
                t0 = time.monotonic()
                lab.kill(holder)
                answering = asyncio.create_task(asyncio.to_thread(wait_answering, answers))
                recorded = asyncio.create_task(wait_started(nc, s, not_on=holder))
                shown = asyncio.create_task(wait_started(nc, s, not_on=holder,
                                                         where_now=functools.partial(started_on_page, nc, s)))
                by_executors = functools.partial(started_by_executors, nc, s, config, live, holder)
                t1, survivor = await wait_started(nc, s, not_on=holder, where_now=by_executors)
                t2 = await answering
                try:
                    t3, _ = await recorded
                except RuntimeError:  # not recorded in 30 s: JetStream has no majority (two nodes, no witness)
                    t3 = float("inf")
                try:
                    t4, _ = await shown
                except RuntimeError:
                    t4 = float("inf")
                times[f"started-{scenario}"].append(t1 - t0)
                times[f"recorded-{scenario}"].append(t3 - t0)
                times[f"shown-{scenario}"].append(t4 - t0)
                times[f"answering-{scenario}"].append(t2 - t0)
                change = await asyncio.to_thread(story.run, "configure", "primitive", f"after-{scenario}{i}",
                                                 "ocf:paceline:Dummy", "meta", "target-role=Stopped", ok=False,
                                                 quiet=True)
                times.setdefault(f"change-ok-{scenario}", []).append(1.0 if change.returncode == 0 else 0.0)
                if change.returncode == 0:
                    acknowledged.append(f"after-{scenario}{i}")
                meta = " (and JetStream's meta leader)" if meta_there else ""
                print(f"({scenario}) run {i + 1}: {holder}{meta} killed -> started on {survivor} in {t1 - t0:.3f}s,"
                      f" answering in {t2 - t0:.3f}s, recorded in the CIB in {t3 - t0:.3f}s, shown by status in "
                      f"{t4 - t0:.3f}s; a configuration "
                      "change right after: "
                      f"{'ok' if change.returncode == 0 else change.stderr.strip()}", flush=True)
                await asyncio.to_thread(lab.revive, holder)
        for i in range(runs):
            _, holder = await wait_started(nc, s)
            pid_file = next((lab.node_dir(holder) / "run").glob("**/*webserver*.pid"))
            pid = int(pid_file.read_text().split()[0])
            t0 = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            took = await asyncio.to_thread(wait_answering, answers)
            times["monitor"].append(took - t0)
            print(f"run {i + 1}: web server killed -> answering again in {took - t0:.3f}s", flush=True)
            await asyncio.sleep(2.5)
        # Every peer is back: each change acknowledged while one was down must be in the CIB.
        root = cib.parse_cib((await bus.request(nc, s.cib("query"), "query"))["xml"])
        present = {el.get("id") for el in root.iter("primitive")}
        lost = [rid for rid in acknowledged if rid not in present]
        times["acknowledged-changes"] = [float(len(acknowledged))]
        times["lost-changes"] = [float(len(lost))]
        print(f"with every node back: {len(acknowledged)} changes acknowledged during a loss, {len(lost)} of them "
              f"missing{': ' + ', '.join(lost) if lost else ''}", flush=True)
    finally:
        await nc.close()
    return times


def resources(lab: Lab, story: Story) -> tuple[list[list[str]], Callable[[], bool]]:
    """The configure commands of the webip+webserver group, and how to ask whether the service answers."""
    plan = lab.plan
    if plan is None:
        webip = ["ocf:paceline:IPaddr", "params", "ip=127.0.0.99"]
        bind, url = "127.0.0.1", f"http://127.0.0.1:{story.port}/"
        answers = lambda: http_ok(url)  # noqa: E731
    else:
        webip = ["ocf:heartbeat:IPaddr2", "params", f"ip={plan.floating()}", "cidr_netmask=24", f"nic={plan.nic}"]
        bind, url = "0.0.0.0", f"http://{plan.floating()}:{story.port}/"
        answers = lambda: call_in(plan.hub, http_ok, url)  # noqa: E731
    words = [["configure", "property", "stonith-enabled=false"],
             ["configure", "property", "no-quorum-policy=ignore"],
             ["configure", "primitive", "webip", *webip, "op", "monitor", "interval=5s", "timeout=20s"],
             ["configure", "primitive", "webserver", "ocf:paceline:http", "params", f"port={story.port}",
              f"bind={bind}", f"docroot={story.docroot}", "op", "monitor", "interval=2s", "timeout=20s"],
             ["configure", "group", "webservice", "webip", "webserver"]]
    return words, answers


def report(times: dict[str, list[float]], key: str, what: str) -> dict[str, Any]:
    values = times[key]
    print(f"{what:<56} median {statistics.median(values):.3f}s (min {min(values):.3f}, max {max(values):.3f})")
    return {"what": what, "median": statistics.median(values), "runs": values}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--nodes", type=int, default=3)
    p.add_argument("--scenario", choices=("a", "b", "both"), default="both",
                   help="a: the killed node is neither DC nor a JetStream leader; b: it is the DC and leads every "
                        "stream")
    p.add_argument("--out", default="bench/results/failover.json")
    p.add_argument("--keep-logs", metavar="DIR", help="copy the lab's logs here before it is stopped")
    p.add_argument("--token-timeout", type=float, default=None)
    p.add_argument("--no-witness", action="store_true",
                   help="two nodes without the bus-only witness (JetStream then has no majority after a loss)")
    p.add_argument("--netns", action="store_true",
                   help="root only: nodes in network namespaces, webip = the real ocf:heartbeat:IPaddr2")
    args = p.parse_args()
    lab_dir = Path(tempfile.mkdtemp(prefix="paceline-bench-"))
    story = Story(lab_dir, echo=False, port=NETNS_PORT if args.netns else free_port())
    story.docroot = Path(tempfile.mkdtemp(prefix="paceline-docroot-"))
    (story.docroot / "index.html").write_text("<h1>Served by Paceline</h1>\n")
    lab = Lab(dir=lab_dir, cluster=f"bench{os.getpid()}" if args.netns else "bench")
    lab.watchdog_timeout = 0.0  # fencing off, as in the tutorial: neither devices nor watchdogs
    if args.token_timeout:
        lab.settings["PACELINE_TOKEN_TIMEOUT"] = str(args.token_timeout)
    try:
        lab.up([f"node{i + 1}" for i in range(args.nodes)], with_netns=args.netns,
               witnesses=[] if args.no_witness else None)
        words, answers = resources(lab, story)
        for w in words:
            story.run(*w, quiet=True)
        story.wait_for("the group is started", story.group_on(None))
        scenarios = ["a", "b"] if args.scenario == "both" else [args.scenario]
        times = asyncio.run(measure(lab, story, answers, args.runs, scenarios))
    except (LabError, NetnsError, RuntimeError, StoryStepFailed) as exc:
        print(f"ERROR: {exc} (logs kept in {lab_dir / 'logs'})", file=sys.stderr)
        return 1
    finally:
        if args.keep_logs and (lab_dir / "logs").is_dir():
            shutil.copytree(lab_dir / "logs", args.keep_logs, dirs_exist_ok=True)
        if (lab_dir / "lab.json").exists():
            Lab.load(lab_dir).down()
        story.teardown()
    shutil.rmtree(lab_dir, ignore_errors=True)
    defaults = Config()
    token = lab.settings["PACELINE_TOKEN_TIMEOUT"] + "s" if args.token_timeout else \
        f"{defaults.token_timeout:g}s (default)"
    webip = "ocf:heartbeat:IPaddr2 in network namespaces" if args.netns else "ocf:paceline:IPaddr"
    witness = ", no witness" if args.no_witness else (", a witness" if args.nodes == 2 else "")
    print(f"\n{args.nodes} nodes{witness}, one nats-server each; webip {webip}; membership token timeout {token}, "
          f"heartbeat {defaults.heartbeat_interval:g}s, stonith-enabled=false, {args.runs} runs each")
    rows = []
    for sc in scenarios:
        label = {"a": "(a) non-DC, no leader", "b": "(b) DC + every leader"}[sc]
        rows.append(report(times, f"started-{sc}", f"{label}: node loss -> group started on survivor"))
        rows.append(report(times, f"recorded-{sc}", f"{label}: node loss -> recorded in the CIB"))
        rows.append(report(times, f"shown-{sc}", f"{label}: node loss -> shown by paceline status"))
        rows.append(report(times, f"answering-{sc}", f"{label}: node loss -> HTTP answers on survivor"))
    rows.append(report(times, "monitor", "web server killed -> answering again (monitor 2s)"))
    for sc in scenarios:
        made = times.get(f"change-ok-{sc}", [])
        print(f"({sc}) a configuration change right after the loss succeeded in {int(sum(made))} of {len(made)} runs")
    print(f"acknowledged changes missing once every node was back: {int(times['lost-changes'][0])} of "
          f"{int(times['acknowledged-changes'][0])}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"nodes": args.nodes, "netns": args.netns, "token": token,
                                          "rows": rows,
                                          "changes_ok": {sc: times.get(f"change-ok-{sc}", []) for sc in scenarios},
                                          "acknowledged": times["acknowledged-changes"][0],
                                          "missing": times["lost-changes"][0]}, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
