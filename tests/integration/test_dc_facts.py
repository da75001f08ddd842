"""The status page shows what the DC knows (``policy.facts``), not only what has reached the CIB.

The DC writes a fenced node's record into the CIB behind, while the survivor's
executor mirrors its results on its own; after a JetStream leader election
the survivor's start can land first. The CIB then says the resource runs on
both nodes, one of them lost; the DC knows the lost one was fenced. Here a real
policy instance is DC over a two-node view, its record of the fencing cannot
land (its recorder writes where no store answers, as while the CIB's stream
has no leader), and the gateway's page must follow the DC - and the CIB alone
once no DC answers.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from paceline.cib_store.service import run as run_cib_store
from paceline.executor.__main__ import run as run_executor
from paceline.gateway.service import run as run_gateway
from paceline.policy.recorder import CibRecorder
from paceline.policy.service import Policy, declare_endpoints
from paceline.shared import VERSION, bus, cib, config, dc_facts
from paceline.shared.cluster import fencing
from paceline.shared.messages import DcFacts, MembershipViewMessage, StatusReply, StatusRequest
from paceline.shared.runtime import ServiceContext
from paceline.shared.subjects import Subjects

from tests.servicekit import running
from tests.support import cibs
from tests.support.wait import until_async

pytestmark = pytest.mark.integration
S = Subjects("default")
VIEWS = S.views.replace("*", "n1")
LOST = 'in_ccm="false" crmd="offline" join="down" expected="member"'  # left without a clean shutdown


def cib_with_web_on_both() -> str:
    """n1 runs web (the survivor's start, mirrored); n2 is recorded lost and still running it."""
    n2 = (f'<node_state id="n2" uname="n2" {LOST}><lrm id="n2"><lrm_resources>{cibs.running("web")}'
          '</lrm_resources></lrm></node_state>')
    return cibs.cib(cibs.prim("web"), cibs.node_state("n1", lrm=cibs.running("web")) + n2, nodes=("n1", "n2"),
                    options={"stonith-enabled": "true"})


async def page(nc: Any) -> dict[str, Any]:
    reply = await bus.call(nc, S.gateway("status"), StatusRequest(format="json"), StatusReply, timeout=10)
    return dict(json.loads(reply.text))


def active_on(status: dict[str, Any], rsc: str) -> list[str]:
    return next(list(r["active_on"]) for r in status["resources"] if r["id"] == rsc)


def node(status: dict[str, Any], name: str) -> tuple[bool, bool]:
    """(online, unclean) of a node on the page."""
    return next((n["online"], n["unclean"]) for n in status["nodes"] if n["name"] == name)


def view(ring_id: int, *members: str, dc: str = "n1") -> MembershipViewMessage:
    """n1's membership view, electing ``dc``."""
    return MembershipViewMessage(node="n1", incarnation="i", ring_id=ring_id, members=members, quorate=True,
                                 dc=dc)


async def test_the_page_shows_a_node_the_dc_fenced_as_down_before_its_record_lands(nats_server, tmp_path):
    async with running("cib-store", run_cib_store, nats_server.url, tmp_path / "cib") as store, \
            running("gateway", run_gateway, nats_server.url, tmp_path / "gateway"):
        await bus.request(store.nc, S.cib("replace"), "replace", {"xml": cib_with_web_on_both(), "with_status": True})
        before = await page(store.nc)  # no DC to ask: the CIB as it is
        assert (active_on(before, "web"), node(before, "n2")) == (["n1", "n2"], (False, True))

        async with policy_of_n1(nats_server.url, tmp_path) as policy:
            await policy.on_view(view(1, "n1", "n2"), VIEWS)
            await policy.on_view(view(2, "n1"), VIEWS)  # n2 lost: the DC knows it unclean
            # Its endpoint is subscribed on becoming DC without a flush (a role change never waits on the bus).
            facts = await until_async(lambda: dc_facts.ask(store.nc, S, "test"), "the DC answers", 10)
            assert facts == DcFacts(dc="n1", members=("n1",), gone=("n2",), unclean=("n2",))
            assert node(await page(store.nc), "n2") == (False, True)

            await policy.record_fenced("n2", fencing.victim_status_ops("reboot", 0))
            fenced = await page(store.nc)
            assert (active_on(fenced, "web"), node(fenced, "n2")) == (["n1"], (False, False))
            stored = cib.parse_cib((await bus.request(store.nc, S.cib("query"), "query", {}))["xml"])
            assert cib.node_state(stored, "n2").get("expected") == "member"  # the CIB still lacks the record

            await policy.on_view(view(3, "n1", "n2", dc="n2"), VIEWS)  # n2 is back and DC: n1 stops answering
            assert await dc_facts.ask(store.nc, S, "test") is None
            assert active_on(await page(store.nc), "web") == ["n1", "n2"]  # the CIB alone again


async def test_over_a_last_good_copy_the_executors_histories_are_laid_too(nats_server, tmp_path):
    """While the CIB's stream elects a leader the store serves its last good copy, and no executor's
    mirror write lands: a reader then asks the members' executors, as the DC does. Here the copy still
    says n1 runs web, which n1's (real, freshly started) executor has never run."""
    async with running("cib-store", run_cib_store, nats_server.url, tmp_path / "cib") as store, \
            running("executor", run_executor, nats_server.url, tmp_path / "executor", node="n1") as executor, \
            policy_of_n1(nats_server.url, tmp_path) as policy:
        await bus.request(store.nc, S.cib("replace"), "replace", {"xml": cib.serialize(cib.empty(["n1"]))})
        await policy.on_view(view(1, "n1"), VIEWS)
        await until_async(lambda: dc_facts.ask(executor.nc, S, "test"), "the DC answers", 10)

        def last_good_copy() -> cib.Element:
            return cib.parse_cib(cibs.cib(cibs.prim("web"), cibs.node_state("n1", lrm=cibs.running("web")),
                                          nodes=("n1",)))

        fresh, stale = last_good_copy(), last_good_copy()
        await dc_facts.lay_dc_facts_over(executor.nc, S, fresh, "test", stale=False)
        await dc_facts.lay_dc_facts_over(executor.nc, S, stale, "test", stale=True)
        assert fresh.find("status/node_state/lrm/lrm_resources/lrm_resource") is not None  # the CIB's history
        assert stale.find("status/node_state/lrm/lrm_resources/lrm_resource") is None  # the executor's: nothing


@contextlib.asynccontextmanager
async def policy_of_n1(url: str, tmp_path: Path) -> AsyncIterator[Policy]:
    """A real policy instance of n1 with its endpoints on the bus, not yet DC (give it views). Its CIB
    records go where no store answers: they stay on their way, as while the CIB's stream elects a leader."""
    cfg = config.load(env={}, nats_url=url, state_dir=str(tmp_path / "policy"), node="n1")
    nc = await bus.connect(url, "test-policy")
    policy = Policy(ServiceContext(service="policy", cfg=cfg, nc=nc, log=structlog.get_logger()))
    policy.recorder = CibRecorder(nc, Subjects("nowhere"), policy.log)
    svc = declare_endpoints(policy, bus.MicroService(nc, "policy", VERSION))
    await svc.start()
    try:
        yield policy
    finally:
        await policy.recorder.close(patience=0)
        await svc.stop()
        await nc.close()
