"""Issue 12's attacks, replayed on a lab with the credentials an attacker could plausibly hold: none, the
read-only observer's, and another node's (every service credential of one node the attacker took over, except
its policy's, which is the authority any node's DC has - see docs/bus-security.md). Each attack fails, and the
cluster goes on managing its resources: nothing stopped, nothing started twice, the DC unchanged.

The bus server refuses what a role may not publish; where a role may publish (a node's heartbeats under its
own name, a node's policy announcing a fencing), the services check the message against what they know.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from paceline.lab.lab import Lab
from paceline.shared import bus, codec
from paceline.shared.messages import (
    ActionRequest,
    AgentSpec,
    Fenced,
    Heartbeat,
    MembershipQuery,
    MembershipViewMessage,
    OperationResult,
    ResetRequest,
    pack,
)
from paceline.shared.subjects import Subjects

from tests.e2e.cli_helpers import dc_of
from tests.e2e.conftest import PATIENCE, POLL, FailureLab, running_lab
from tests.support.wait import until

pytestmark = pytest.mark.e2e

NODES = ("n1", "n2", "n3")
#: What an attacker may hold besides nothing: the observer's key, and the keys of a node it took over.
NODE_SERVICES = ("membership", "executor", "gateway", "cib-store")
#: The messages of a flood (the issue's: 150,000 in about 0.6 s).
FLOOD = 150_000


@pytest.fixture(scope="module")
def attacked(tmp_path_factory) -> Iterator[FailureLab]:
    """Three nodes on credentials, two resources each pinned to a node, the third node the attacker's."""
    runner = FailureLab(tmp_path_factory.mktemp("attacked"))
    with running_lab(runner, NODES, "--no-watchdog") as lab:
        lab.crm("configure", "property", "stonith-enabled=false")
        yield lab


def state_of(lab: FailureLab) -> Lab:
    return Lab.load(lab.dir)


def victim_and_attacker(lab: FailureLab) -> tuple[str, str]:
    """The DC is the victim; the attacker holds the keys of another node."""
    dc = dc_of(lab)
    return dc, next(n for n in reversed(NODES) if n != dc)


def place(lab: FailureLab, rsc: str, node: str) -> None:
    """A Dummy resource with a monitor, placed on ``node`` by preference (not required)."""
    if rsc not in lab.crm("configure", "show"):
        lab.crm("configure", "primitive", rsc, "ocf:paceline:Dummy", "op", "monitor", "interval=2s")
        lab.crm("configure", "location", f"prefer-{rsc}", rsc, "100:", node)
    until(lambda: lab.running_on(rsc) == [node], f"{rsc} runs on {node}", PATIENCE, POLL)


def users(attacker_node: str) -> list[str]:
    return ["observer", *(f"{service}@{attacker_node}" for service in NODE_SERVICES)]


async def _as(state: Lab, user: str, send) -> list[str]:
    """Run ``send(nc)`` connected as ``user``; the errors the server reported (permission violations)."""
    errors: list[str] = []
    nc = await state.connect(user, f"attacker-{user}")

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    nc._error_cb = on_error  # nats-py reports the server's -ERR lines (permission violations) here
    try:
        await send(nc)
        await nc.flush()
        for _ in range(15):  # a violation is reported after the publish, asynchronously: up to 0.3 s
            if errors:
                break
            await asyncio.sleep(0.02)
    finally:
        await nc.close()
    return errors


def refused(state: Lab, user: str, subject: str, payload: bytes) -> bool:
    """Whether the server refused ``user``'s publish of ``payload`` on ``subject``."""
    async def send(nc) -> None:
        await nc.publish(subject, payload)

    errors = asyncio.run(_as(state, user, send))
    return any("permissions violation" in e.lower() for e in errors)


#: The bus refuses an anonymous client at connect, whatever it would publish: one check per lab (a refused
#: connect waits out its timeout against every server, seconds each time).
_ANONYMOUS_REFUSED: dict[str, bool] = {}


def anonymous_refused(state: Lab) -> bool:
    if state.nats_url not in _ANONYMOUS_REFUSED:
        _ANONYMOUS_REFUSED[state.nats_url] = _anonymous_refused(state)
    return _ANONYMOUS_REFUSED[state.nats_url]


def _anonymous_refused(state: Lab) -> bool:
    try:
        nc = asyncio.run(bus.connect(state.nats_url, "anonymous", retry_forever=False))
    except bus.BusUnavailable as exc:
        return "requires a credential" in str(exc)
    asyncio.run(nc.close())
    return False


def assert_refused_to_all(state: Lab, attacker_node: str, subject: str, payload: bytes, but: tuple[str, ...] = ()):
    assert anonymous_refused(state)
    for user in users(attacker_node):
        if user not in but:
            assert refused(state, user, subject, payload), f"{user} could publish on {subject}"


def view_of(state: Lab, node: str) -> MembershipViewMessage:
    async def ask() -> MembershipViewMessage:
        nc = await state.connect("observer")
        try:
            return await bus.call(nc, Subjects(state.cluster).membership_query(node), MembershipQuery(),
                                  MembershipViewMessage)
        finally:
            await nc.close()

    return asyncio.run(ask())


class Watch:
    """Every operation result on the bus while it is open (to see that nothing was stopped or moved)."""

    def __init__(self, state: Lab):
        self.state = state
        self.results: list[dict[str, Any]] = []
        self._loop = asyncio.new_event_loop()
        self._nc: Any = None

    def __enter__(self) -> Watch:
        async def start() -> None:
            self._nc = await self.state.connect("observer", "watch")

            async def keep(msg) -> None:
                self.results.append(codec.decode(msg.data, OperationResult.KIND).body)

            await self._nc.subscribe(Subjects(self.state.cluster).executor_events, cb=keep)
            await self._nc.flush()

        self._loop.run_until_complete(start())
        return self

    def pump(self, seconds: float) -> None:
        self._loop.run_until_complete(asyncio.sleep(seconds))

    def stops(self, *rscs: str) -> list[dict[str, Any]]:
        return [r for r in self.results if r.get("rsc") in rscs and r.get("task") in ("stop", "start")]

    def __exit__(self, *exc: object) -> None:
        self._loop.run_until_complete(self._nc.close())
        self._loop.close()


def test_no_one_but_a_policy_sends_actions_or_resets(attacked: FailureLab, tmp_path: Path):
    """Root command execution, a far-future term and a forged reset: refused by the server for every
    credential an attacker holds; the term file keeps no forged term; the cluster still starts things."""
    lab = attacked
    state = state_of(lab)
    s = Subjects(state.cluster)
    victim, attacker = victim_and_attacker(lab)
    place(lab, "a1", victim)
    proof = tmp_path / "root-was-here"
    view = view_of(state, victim)
    action = pack(ActionRequest(
        task="start", rsc="evil", node=victim,
        agent=AgentSpec(standard="ocf", provider="heartbeat", type="anything"),
        params={"binfile": "/bin/sh", "cmdline_options": f"-c 'id > {proof}'"},
        id=1, term=999_999_999, transition=1, dc=view.dc, members=view.members))
    assert_refused_to_all(state, attacker, s.executor_action(victim), action)
    assert_refused_to_all(state, attacker, s.executor("reset", victim), pack(ResetRequest(dc=view.dc,
                                                                                           term=999_999_999)))
    time.sleep(1)
    assert not proof.exists()
    terms = [p.read_text() for p in (lab.dir / "nodes").glob("*/**/executor.term")]
    assert not any("999999999" in t for t in terms), terms
    assert lab.running_on("a1") == [victim]          # not reset
    place(lab, "a2", victim)                          # the real DC is obeyed as before


def test_membership_and_quorum_cannot_be_hijacked(attacked: FailureLab):
    """Heartbeats of a made-up node with two votes, heartbeats and views under a real node's name, a forged
    fencing: refused by the server, or (a node's own heartbeats claiming two votes, a fencing announced by a
    node that is not the DC) ignored by the services."""
    lab = attacked
    state = state_of(lab)
    s = Subjects(state.cluster)
    victim, attacker = victim_and_attacker(lab)
    place(lab, "m1", victim)
    before = view_of(state, victim)

    def beat(node: str, votes: int = 1, incarnation: str = "forged") -> bytes:
        return pack(Heartbeat(node=node, incarnation=incarnation, ring_id=1, seq=1, votes=votes,
                              hears=NODES, candidate=1))

    assert_refused_to_all(state, attacker, s.heartbeat("n9"), beat("n9", votes=2))
    assert_refused_to_all(state, attacker, s.heartbeat(victim), beat(victim))
    empty = pack(MembershipViewMessage(node=victim, incarnation="forged", ring_id=10**9, members=(),
                                       quorate=False))
    assert_refused_to_all(state, attacker, s.view(victim), empty)
    fenced = pack(Fenced(target=victim, action="reboot", result="ok", by=attacker, dc=before.dc, term=10**9))
    assert_refused_to_all(state, attacker, s.fenced_by(before.dc), fenced)
    assert_refused_to_all(state, attacker, s.fenced_by(attacker), fenced)

    # Allowed by the server, ignored by the services: the attacker's own node claiming two votes, and its
    # policy (the one key that speaks for a DC) announcing a fencing while it is not the DC.
    async def two_votes(nc) -> None:
        for seq in range(20):
            await nc.publish(s.heartbeat(attacker), pack(Heartbeat(node=attacker, incarnation="forged", ring_id=1,
                                                                   seq=seq, votes=2, hears=NODES)))
            await asyncio.sleep(0.05)

    assert not asyncio.run(_as(state, f"membership@{attacker}", two_votes))

    async def fencing(nc) -> None:
        await nc.publish(s.fenced_by(attacker), fenced)
        await nc.publish(s.fenced_by(attacker), pack(Fenced(target=victim, action="reboot", result="ok",
                                                            by=attacker, dc=attacker, term=10**9)))

    assert not asyncio.run(_as(state, f"policy@{attacker}", fencing))
    time.sleep(2)
    after = view_of(state, victim)
    assert after.total_votes <= len(NODES) and after.dc == before.dc and after.quorate, after
    # The attacker's own node may have been confused by heartbeats under its name (its key is stolen); once
    # they stop, it is back.
    until(lambda: set(view_of(state, victim).members) == set(NODES), f"{attacker} is back", PATIENCE, POLL)
    assert lab.running_on("m1") == [victim]
    logs = (lab.dir / "logs").glob(f"{victim}-membership*.log")
    assert not any("emulating the power cut" in p.read_text() for p in logs)


def test_a_flood_moves_nothing(attacked: FailureLab):
    """150,000 garbage heartbeats under the attacker's own node name (the only heartbeat subject its key may
    publish on): the subject is muted where it floods, the other nodes keep each other, the DC stays,
    nothing is stopped."""
    lab = attacked
    state = state_of(lab)
    s = Subjects(state.cluster)
    victim, attacker = victim_and_attacker(lab)
    other = next(n for n in NODES if n not in (victim, attacker))
    place(lab, "f1", victim)
    place(lab, "f2", other)
    garbage = b"\x93garbage" * 8

    def flood(subject: str):
        async def send(nc) -> None:
            for _ in range(FLOOD):
                await nc.publish(subject, garbage)
        return send

    with Watch(state) as watch:
        started = time.monotonic()
        assert not asyncio.run(_as(state, f"membership@{attacker}", flood(s.heartbeat(attacker))))
        flood_s = time.monotonic() - started
        watch.pump(5)
        assert not watch.stops("f1", "f2"), (flood_s, watch.stops("f1", "f2"))
    for node in (victim, other):
        view = view_of(state, node)
        assert {victim, other} <= set(view.members) and view.dc == victim, view
    assert lab.running_on("f1") == [victim] and lab.running_on("f2") == [other]


def test_the_cib_is_written_only_by_admins_and_a_raw_store_write_breaks_nothing(attacked: FailureLab):
    """cib.replace/modify from every credential but an admin's (and a node's gateway, which writes for the
    admins) are refused by the server; a node's cib-store key may write the bucket itself, but a value that
    is not a CIB is not taken for one: status and configure work and the cluster goes on."""
    lab = attacked
    state = state_of(lab)
    s = Subjects(state.cluster)
    victim, attacker = victim_and_attacker(lab)
    place(lab, "c1", victim)
    text = lab.crm("configure", "show")
    modify = codec.encode("modify", {"section": "constraints", "xml": "<constraints/>"})
    replace = codec.encode("replace", {"xml": "<cib/>"})
    for request, subject in ((modify, s.cib("modify")), (replace, s.cib("replace"))):
        assert_refused_to_all(state, attacker, subject, request, but=(f"gateway@{attacker}",))
    assert lab.crm("configure", "show") == text

    # The attacker's executor key reporting that c1 stopped on the victim (the DC would start it again
    # elsewhere): not on the victim's subject (the server), not on its own subject (the store).
    stopped = {"op": "lrm_op", "rsc": "c1", "agent": {"class": "ocf", "provider": "paceline", "type": "Dummy"},
               "record": {"id": "c1_last_0", "operation": "stop", "call-id": str(10**9), "rc-code": "0",
                          "op-status": "0", "interval": "0"}}
    patch = codec.encode("patch", {"node": victim, "client": "executor", "ops": [stopped]})
    assert_refused_to_all(state, attacker, s.cib_patch_by("executor", victim), patch)

    async def forge(nc) -> None:
        with pytest.raises(bus.RemoteError, match="only its own node"):
            await bus.request(nc, s.cib_patch_by("executor", attacker), "patch",
                              {"node": victim, "client": "executor", "ops": [stopped]})

    assert not asyncio.run(_as(state, f"executor@{attacker}", forge))

    async def corrupt(nc) -> None:
        kv = await nc.jetstream().key_value(s.cib_bucket)
        await kv.put("configuration", b"<not-xml")

    assert not asyncio.run(_as(state, f"cib-store@{attacker}", corrupt))
    assert "c1" in lab.crm("status")
    lab.crm("configure", "primitive", "c2", "ocf:paceline:Dummy", "op", "monitor", "interval=2s")
    until(lambda: len(lab.running_on("c2")) == 1, "c2 runs", PATIENCE, POLL)
    assert lab.running_on("c1") == [victim]
