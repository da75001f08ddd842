"""The membership service in-process over a real nats-server: CIB store late, stale wishes, config errors."""

from __future__ import annotations

import asyncio

import nats
import pytest
import structlog
from paceline.cib_store.service import run as run_cib_store
from paceline.membership.cib_link import Decision
from paceline.membership.heartbeat import Heartbeat
from paceline.membership.service import MembershipService
from paceline.membership.service import run as run_membership
from paceline.shared import bus, cib, codec, config
from paceline.shared.messages import Fenced, MembershipQuery, MembershipViewMessage, PolicyAlive, pack
from paceline.shared.subjects import Subjects

from tests.servicekit import running
from tests.support.wait import until_async

pytestmark = pytest.mark.integration
S = Subjects("default")
LOG = structlog.get_logger()


async def test_starts_before_the_cib_store_and_catches_up(nats_server, tmp_path):
    async with running("membership", run_membership, nats_server.url, tmp_path / "m", node="n1") as ctx:
        view = await bus.request(ctx.nc, S.membership_query("n1"), "query", {})
        # No CIB yet: the expected vote count is unknown, so never quorate.
        assert view["members"] == ["n1"] and view["quorate"] is False
        async with running("cib-store", run_cib_store, nats_server.url, tmp_path / "c") as store:
            await bus.request(store.nc, S.cib("replace"), "replace",
                              {"xml": cib.serialize(cib.empty(["n0", "n1"]))})
            async def n1_online() -> tuple[cib.Element] | None:
                reply = await bus.request(store.nc, S.cib("query"), "query", {})
                ns = cib.node_state(cib.parse_cib(reply["xml"]), "n1", create=False)
                return (ns,) if ns is not None and ns.get("crmd") == "online" else None

            found = await until_async(n1_online, "n1 wrote itself online", 10, interval=0.1)
            assert found is not None  # until_async returns a true value
            ns = found[0]
            assert (ns.get("id"), ns.get("in_ccm"), ns.get("join")) == ("2", "true", "member")
            view = await bus.request(ctx.nc, S.membership_query("n1"), "query", {})
            assert (view["expected_votes"], view["quorum"], view["quorate"]) == (2, 2, False)


async def test_wishes_are_checked_against_the_present_before_writing(nats_server):
    now = [100.0]
    nc = await nats.connect(nats_server.url)
    try:
        svc = MembershipService(nc, config.load(env={}, node="n1"), LOG, clock=lambda: now[0])
        assert svc.write_decision("n1", True) is Decision.WRITE
        assert svc.write_decision("n2", True) is Decision.DROP  # a peer writes its own entry
        assert svc.write_decision("n2", False) is Decision.DEFER  # bus not seen up yet
        svc._bus_up_since = now[0]
        now[0] += 0.5
        assert svc.write_decision("n2", False) is Decision.DEFER  # our view may still be stale
        now[0] += 1.0
        assert svc.write_decision("n2", False) is Decision.WRITE
        svc.tracker.observe(Heartbeat("n2", "i", 0, 1), now[0])
        assert svc.write_decision("n2", False) is Decision.DROP  # it came back meanwhile (heard, even if not a member)
    finally:
        await nc.close()


@pytest.mark.parametrize(("settings", "message"), [
    ({"node": "a.b"}, "node name"),
    ({"node": "n1", "token_timeout": 0.1}, "token_timeout"),
])
async def test_unusable_settings_are_one_clear_error(nats_server, settings, message):
    nc = await nats.connect(nats_server.url)
    try:
        with pytest.raises(config.ConfigError, match=message):
            MembershipService(nc, config.load(env={}, **settings), LOG)
    finally:
        await nc.close()


async def test_a_restarted_peer_is_reported_as_restarted(nats_server, tmp_path):
    async with running("membership", run_membership, nats_server.url, tmp_path, node="n1",
                       expected_votes=2) as ctx:
        views: list[dict] = []

        async def on_view(msg) -> None:
            views.append(codec.decode(msg.data).body)

        await ctx.nc.subscribe(S.view("n1"), cb=on_view)

        async def beat_until(incarnation: str, seen) -> dict:
            """Heartbeat as n2 (as a live peer that hears n1 would, every 0.1 s) until a view satisfying ``seen``
            arrives."""
            for seq in range(1, 51):
                body = Heartbeat("n2", incarnation, 0, seq, hears=("n1",)).to_body()
                await ctx.nc.publish(S.heartbeat("n2"), codec.encode("heartbeat", body))
                await ctx.nc.flush()
                await asyncio.sleep(0.1)
                found = [v for v in views if seen(v)]
                if found:
                    return found[0]
            raise AssertionError(f"no such view among {views}")

        joined = await beat_until("first", lambda v: v["joined"] == ["n2"])
        restarted = await beat_until("second", lambda v: v["restarted"] == ["n2"])
        assert restarted["joined"] == [] and restarted["ring_id"] > joined["ring_id"]
        assert joined["quorate"] and restarted["quorate"]


async def heartbeats_of(nc, node: str) -> list[Heartbeat]:
    """A list that fills with ``node``'s heartbeats as they are published."""
    beats: list[Heartbeat] = []

    async def on_beat(msg) -> None:
        beats.append(Heartbeat.from_body(codec.decode(msg.data, "heartbeat").body))

    await nc.subscribe(S.heartbeat(node), cb=on_beat)
    return beats


async def test_the_local_policy_makes_the_node_a_candidate_and_the_dc_of_its_view(nats_server, tmp_path):
    async with running("membership", run_membership, nats_server.url, tmp_path, node="n1",
                       expected_votes=1) as ctx:
        beats = await heartbeats_of(ctx.nc, "n1")

        async def dc() -> str:
            view = await bus.call(ctx.nc, S.membership_query("n1"), MembershipQuery(), MembershipViewMessage)
            return view.dc

        assert await dc() == ""
        alive = codec.encode(PolicyAlive.KIND, PolicyAlive("n1", "p1").to_body())
        elsewhere = codec.encode(PolicyAlive.KIND, PolicyAlive("n2", "p1").to_body())

        async def policy_runs() -> bool:
            await ctx.nc.publish(S.policy_alive("n1"), alive)
            await ctx.nc.publish(S.policy_alive("n2"), elsewhere)  # another node's policy: not ours to offer
            await asyncio.sleep(0.1)
            return await dc() == "n1"

        await until_async(policy_runs, "n1 elects itself while its policy runs", 5, interval=0.1)
        await until_async(lambda: beats and beats[-1].candidate > 0, "its heartbeats carry the candidacy", 5,
                          interval=0.1)

        async def withdrawn() -> bool:
            return await dc() == ""

        await until_async(withdrawn, "the candidacy lapses after the token timeout", 5, interval=0.1)
        await until_async(lambda: beats[-1].candidate == 0, "its heartbeats say so", 2, interval=0.1)


async def test_a_fencing_result_is_acted_on_only_when_it_comes_from_the_dc_of_the_nodes_view(nats_server, tmp_path):
    """Another node's policy (a valid credential, the wrong node) cannot make this node emulate a power cut."""
    async with running("membership", run_membership, nats_server.url, tmp_path, node="n1",
                       expected_votes=1) as ctx:
        beats = await heartbeats_of(ctx.nc, "n1")
        alive = codec.encode(PolicyAlive.KIND, PolicyAlive("n1", "p1").to_body())

        async def keep_policy_alive() -> None:
            while True:
                await ctx.nc.publish(S.policy_alive("n1"), alive)
                await asyncio.sleep(0.1)

        keeper = asyncio.create_task(keep_policy_alive())
        try:
            async def elects_n1() -> bool:
                view = await bus.call(ctx.nc, S.membership_query("n1"), MembershipQuery(), MembershipViewMessage)
                return view.dc == "n1"

            await until_async(elects_n1, "n1 is the DC of its view", 5, interval=0.1)
            incarnation = beats[-1].incarnation

            def fenced(dc: str) -> bytes:
                return pack(Fenced(target="n1", action="reboot", result="ok", by="n2", dc=dc, term=999_999_999))

            await ctx.nc.publish(S.fenced_by("n2"), fenced("n2"))  # n2 is not the DC
            await ctx.nc.publish(S.fenced_by("n2"), fenced("n1"))  # n2 posing as the DC
            seen = len(beats)
            await until_async(lambda: len(beats) > seen + 3, "heartbeats go on", 5, interval=0.05)
            assert {b.incarnation for b in beats[seen:]} == {incarnation}

            await ctx.nc.publish(S.fenced_by("n1"), fenced("n1"))  # the DC itself
            await until_async(lambda: beats[-1].incarnation != incarnation, "n1 comes back as a new incarnation",
                              10, interval=0.05)
        finally:
            keeper.cancel()
