"""Membership processes over a real nats-server (and the real cib-store): views, loss, CIB, bad input."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
from paceline.cib_store.service import run as run_cib_store
from paceline.membership.node_state import OFFLINE
from paceline.shared import bus, cib, codec
from paceline.shared.natsserver import NatsServer
from paceline.shared.subjects import SERVICE_NAMES, Subjects

from tests.servicekit import running
from tests.support.wait import until_async

pytestmark = pytest.mark.integration
S = Subjects("default")
TOKEN_TIMEOUT = 1.0


class Member:
    """One ``python -m paceline.membership`` process we started (and only ever signal by its pid)."""

    def __init__(self, node: str, url: str, tmp: Path, env: dict[str, str] | None = None):
        self.node = node
        self.state = tmp / f"state-{node}"
        self.state.mkdir(exist_ok=True)
        self.port_file = self.state / "membership.metrics-port"
        self.port_file.unlink(missing_ok=True)
        self.log = open(tmp / f"membership-{node}.log", "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "paceline.membership", "--node", node, "--nats-url", url,
             "--state-dir", str(self.state), "--metrics-port", "0"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def metrics(self) -> str:
        port = int(self.port_file.read_text())
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            return resp.read().decode()


@pytest.fixture
def members(tmp_path: Path) -> Iterator[Callable[..., Member]]:
    started: list[Member] = []

    def start(node: str, url: str, **env: str) -> Member:
        m = Member(node, url, tmp_path, env)
        started.append(m)
        return m

    yield start
    for m in started:
        m.stop()


class ViewLog:
    """Every membership view published on the bus, in arrival order, with its arrival time."""

    def __init__(self) -> None:
        self.views: list[tuple[float, dict[str, Any]]] = []
        self.changed = asyncio.Event()

    async def attach(self, nc: nats.NATS) -> None:
        async def on_msg(msg) -> None:
            self.views.append((time.monotonic(), codec.decode(msg.data, "membership.view").body))
            self.changed.set()

        await nc.subscribe(S.views, cb=on_msg)

    async def wait(self, pred: Callable[[dict[str, Any]], bool], timeout: float = 15.0,
                   since: float = 0.0) -> tuple[float, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            for at, view in self.views:
                if at >= since and pred(view):
                    return at, view
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no matching view in {timeout}s; got {[v for _, v in self.views]}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                pass


async def node_states(nc: nats.NATS) -> dict[str, dict[str, str]]:
    reply = await bus.request(nc, S.cib("query"), "query")
    root = cib.parse_cib(reply["xml"])
    return {ns.get("uname") or "": cib.attributes(ns) for ns in cib.section(root, "status").iterfind("node_state")}


async def seed_nodes(nc: nats.NATS, names: list[str]) -> None:
    await bus.request(nc, S.cib("replace"), "replace", {"xml": cib.serialize(cib.empty(names))})


def view_of(node: str, members: list[str], quorate: bool | None = None) -> Callable[[dict], bool]:
    return lambda v: (v["node"] == node and v["members"] == members
                      and (quorate is None or v["quorate"] is quorate))


async def test_two_nodes_see_each_other_and_the_survivor_loses_quorum(nats_server, tmp_path, members):
    async with running("cib-store", run_cib_store, nats_server.url, tmp_path / "cib") as ctx:
        nc = ctx.nc
        await seed_nodes(nc, ["n1", "n2"])
        views = ViewLog()
        await views.attach(nc)
        members("n1", nats_server.url)
        n2 = members("n2", nats_server.url)

        for node in ("n1", "n2"):
            _, view = await views.wait(view_of(node, ["n1", "n2"], quorate=True))
            assert (view["expected_votes"], view["quorum"], view["total_votes"]) == (2, 2, 2)
        reply = await bus.request(nc, S.membership_query("n1"), "query", {})
        assert reply["members"] == ["n1", "n2"] and reply["quorate"] is True

        # Both are discoverable as micro services.
        inbox = nc.new_inbox()
        pongs: list[bytes] = []

        async def on_pong(msg) -> None:
            pongs.append(msg.data)

        sub = await nc.subscribe(inbox, cb=on_pong)
        await nc.publish(f"$SRV.PING.{SERVICE_NAMES['membership']}", b"", reply=inbox)
        await until_async(lambda: len(pongs) >= 2, "both answer the ping", 3, interval=0.1)
        await sub.unsubscribe()
        assert len(pongs) == 2

        # Each node wrote its own node_state online, with the id of its <node> entry.
        async def both_online() -> bool:
            states = await node_states(nc)
            return all(states.get(n, {}).get("crmd") == "online" for n in ("n1", "n2"))

        await until_async(both_online, "both nodes are online in the CIB", 10, interval=0.1)
        states = await node_states(nc)
        assert states["n1"]["id"] == "1" and states["n2"]["id"] == "2"
        assert {k: states["n2"][k] for k in ("in_ccm", "join", "expected")} == {
            "in_ccm": "true", "join": "member", "expected": "member"}

        # SIGKILL n2: n1 publishes a view without it, inquorate, within token timeout + 0.5 s.
        killed_at = time.monotonic()
        n2.kill()
        at, view = await views.wait(view_of("n1", ["n1"]), since=killed_at)
        assert at - killed_at <= TOKEN_TIMEOUT + 0.5
        assert view["quorate"] is False and view["expected_votes"] == 2 and view["lost"] == ["n2"]

        async def n2_offline() -> bool:
            return (await node_states(nc)).get("n2", {}).get("crmd") == "offline"

        await until_async(n2_offline, "n2 is offline in the CIB", 10, interval=0.1)
        down = (await node_states(nc))["n2"]  # lost, not shut down cleanly: still expected, so fenced if fencing is on
        assert {k: down[k] for k in ("in_ccm", "crmd", "join", "expected")} == {
            "in_ccm": "false", "crmd": "offline", "join": "down", "expected": "member"}

        # n2 comes back as a new incarnation: quorum returns and it is online again.
        back_at = time.monotonic()
        members("n2", nats_server.url)
        _, rejoined = await views.wait(view_of("n1", ["n1", "n2"], quorate=True), since=back_at)
        assert rejoined["ring_id"] > view["ring_id"]

        async def online(node: str) -> bool:
            return (await node_states(nc)).get(node, {}).get("crmd") == "online"

        await until_async(lambda: online("n2"), "n2 is online again", 10, interval=0.1)

        # A CIB imported with its status says n1 is down: n1 puts its own entry right.
        imported = cib.empty(["n1", "n2"])
        for key, value in OFFLINE.items():
            cib.node_state(imported, "n1").set(key, value)
        await bus.request(nc, S.cib("replace"), "replace", {"xml": cib.serialize(imported), "with_status": True})
        await until_async(lambda: online("n1"), "n1 rewrote its own entry", 10, interval=0.1)

        # A third node declared in the CIB: quorum follows the node count without a membership change.
        replaced_at = time.monotonic()
        await seed_nodes(nc, ["n1", "n2", "n3"])
        _, grown = await views.wait(lambda v: v["node"] == "n1" and v["expected_votes"] == 3, since=replaced_at)
        assert grown["quorate"] is True and grown["quorum"] == 2 and grown["members"] == ["n1", "n2"]


async def test_malformed_heartbeats_are_counted_and_dropped(nats_server, tmp_path, members):
    n1 = members("n1", nats_server.url, PACELINE_EXPECTED_VOTES="1")
    nc = await nats.connect(nats_server.url)
    try:
        views = ViewLog()
        await views.attach(nc)
        await until_async(n1.port_file.exists, "n1 serves its metrics", 15, interval=0.1)
        reply = await until_async(lambda: _query(nc, "n1"), "n1 answers queries", 15, interval=0.1)
        assert reply["members"] == ["n1"] and reply["quorate"] is True  # expected_votes=1 from the env

        await nc.publish(S.heartbeat("bogus"), b"\xc1 not msgpack")
        await nc.publish(S.heartbeat("bogus"), codec.encode("heartbeat", {"node": "bogus", "seq": "x"}))
        await nc.publish(S.heartbeat("n3"), codec.encode("heartbeat", {
            "node": "n4", "incarnation": "a", "ring_id": 0, "seq": 1, "votes": 1}))
        await nc.flush()

        def malformed() -> float:
            total = 0.0
            for line in n1.metrics().splitlines():
                if line.startswith("paceline_malformed_messages_total{") and 'service="membership"' in line:
                    total += float(line.rsplit(" ", 1)[1])
            return total

        await until_async(lambda: malformed() >= 3, "the three are counted", 5, interval=0.1)
        # Still alive, still alone: well-formed heartbeats (that hear n1: the handshake) are still taken in.
        for seq in (1, 2):
            await nc.publish(S.heartbeat("n5"), codec.encode("heartbeat", {
                "node": "n5", "incarnation": "a", "ring_id": 0, "seq": seq, "votes": 1, "hears": ["n1"]}))
        await views.wait(view_of("n1", ["n1", "n5"]))
        assert "paceline_membership_members 2.0" in n1.metrics()
    finally:
        await nc.close()


async def _query(nc: nats.NATS, node: str) -> dict[str, Any] | None:
    try:
        return await bus.request(nc, S.membership_query(node), "query", {}, timeout=0.5)
    except bus.BusUnavailable:
        return None


async def test_heartbeats_resume_after_the_bus_restarts(tmp_path, members):
    server = NatsServer(store_dir=tmp_path / "js").start(log_file=tmp_path / "nats.log")
    try:
        env = {"PACELINE_EXPECTED_VOTES": "2"}
        members("n1", server.url, **env)
        members("n2", server.url, **env)
        nc = await nats.connect(server.url)
        await until_async(lambda: _query(nc, "n1"), "n1 answers queries", 15, interval=0.1)

        async def n1_sees_n2() -> dict[str, Any] | None:
            view = await _query(nc, "n1")
            return view if view is not None and view["members"] == ["n1", "n2"] else None

        together = await until_async(n1_sees_n2, "n1 sees n2", 15, interval=0.1)
        await nc.close()

        port = server.port
        server.stop()
        await asyncio.sleep(TOKEN_TIMEOUT + 0.5)  # long enough for each to lose the other
        server = NatsServer(store_dir=tmp_path / "js", port=port).start(log_file=tmp_path / "nats.log")
        nc = await nats.connect(server.url)
        for node in ("n1", "n2"):
            async def rejoined(node: str = node) -> bool:
                view = await _query(nc, node)
                return bool(view and view["members"] == ["n1", "n2"] and view["quorate"]
                            and view["ring_id"] > together["ring_id"])

            await until_async(rejoined, f"{node} sees its peer again", 10, interval=0.1)
        await nc.close()
    finally:
        server.stop()


async def test_a_paused_node_learns_from_the_heartbeats_that_it_was_dropped(nats_server, members):
    """SIGSTOP n2 past the token timeout: n1 drops it; on SIGCONT n2 reads n1's queued heartbeats, which no longer
    list it, drops n1 (alone, inquorate) and rejoins by the handshake."""
    env = {"PACELINE_EXPECTED_VOTES": "2"}
    members("n1", nats_server.url, **env)
    n2 = members("n2", nats_server.url, **env)
    nc = await nats.connect(nats_server.url)
    try:
        views = ViewLog()
        await views.attach(nc)
        for node in ("n1", "n2"):
            await views.wait(view_of(node, ["n1", "n2"], quorate=True))
        stopped_at = time.monotonic()
        os.kill(n2.proc.pid, signal.SIGSTOP)
        try:
            await views.wait(view_of("n1", ["n1"], quorate=False), since=stopped_at)
            await asyncio.sleep(0.5)
        finally:
            resumed_at = time.monotonic()
            os.kill(n2.proc.pid, signal.SIGCONT)
        await views.wait(view_of("n2", ["n2"], quorate=False), since=resumed_at)
        _, back = await views.wait(view_of("n2", ["n1", "n2"], quorate=True), since=resumed_at)
        _, n1_back = await views.wait(view_of("n1", ["n1", "n2"], quorate=True), since=resumed_at)
        assert back["joined"] == ["n1"] and n1_back["joined"] == ["n2"]
    finally:
        await nc.close()


async def test_a_flood_on_one_nodes_heartbeat_subject_does_not_delay_the_others(nats_server, tmp_path, members):
    """150,000 garbage heartbeats on n3's subject (a broken or compromised n3: only its own credential may publish
    there) in well under a second: n1 and n2 each have a queue per declared node, so neither loses the other; the
    subject is muted for a while once it carries far more than heartbeats (the flood counted as such)."""
    async with running("cib-store", run_cib_store, nats_server.url, tmp_path / "cib") as ctx:
        nc = ctx.nc
        await seed_nodes(nc, ["n1", "n2", "n3"])
        views = ViewLog()
        await views.attach(nc)
        n1 = members("n1", nats_server.url)
        members("n2", nats_server.url)
        for node in ("n1", "n2"):
            await views.wait(view_of(node, ["n1", "n2"], quorate=True))
        flood_from = time.monotonic()
        junk = b"\xc1" * 64
        for i in range(150_000):
            await nc.publish(S.heartbeat("n3"), junk)
            if i % 10_000 == 0:
                await nc.flush()
        await nc.flush()
        await asyncio.sleep(3 * TOKEN_TIMEOUT)
        lost = [v for at, v in views.views if at >= flood_from and v["node"] in ("n1", "n2")
                and v["members"] != ["n1", "n2"]]
        assert not lost, lost
        text = n1.metrics()
        floods = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                     if line.startswith("paceline_membership_heartbeat_floods_total "))
        assert floods >= 1, "the flood is found and counted"
