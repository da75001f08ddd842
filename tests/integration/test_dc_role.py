"""The DC role follows the node's membership view: the DC named in it acts, and nobody else (real nats-server)."""

from __future__ import annotations

import asyncio

import pytest
import structlog
from paceline.policy.graph import Action, Graph
from paceline.policy.histories import History
from paceline.policy.service import Policy
from paceline.shared import bus, cib, config
from paceline.shared.lrm import OpResult
from paceline.shared.messages import Fenced, MembershipViewMessage
from paceline.shared.runtime import ServiceContext

from tests.support.wait import until_async

pytestmark = pytest.mark.integration


def view(ring_id: int, dc: str, *members: str) -> MembershipViewMessage:
    """Node n1's membership view as its membership service would publish it (quorate)."""
    return MembershipViewMessage(node="n1", incarnation="i", ring_id=ring_id, members=members, quorate=True, dc=dc)


async def policy_of_n1(url: str, tmp_path) -> Policy:
    cfg = config.load(env={}, nats_url=url, state_dir=str(tmp_path), node="n1")
    nc = await bus.connect(url, "test-policy")
    return Policy(ServiceContext(service="policy", cfg=cfg, nc=nc, log=structlog.get_logger()))


async def test_the_dc_is_whom_the_view_elects_and_steps_down_when_it_elects_another(nats_server, tmp_path):
    policy = await policy_of_n1(nats_server.url, tmp_path)
    subject = policy.s.view("n1")
    try:
        await policy.on_view(view(3, "n2", "n1", "n2"), subject)
        assert policy.dc is None and policy.mandate() is None
        await policy.on_view(view(4, "n1", "n1", "n3"), subject)
        assert policy.dc is not None and (policy.dc.term, policy.dc.members) == (4, ("n1", "n3"))
        dummy = {"class": "ocf", "provider": "heartbeat", "type": "Dummy"}
        mandate = policy.dc
        request = Action(1, "start", "web", "n3", agent=dummy).request(mandate.term, 1, mandate.dc, mandate.members)
        assert (request.dc, request.members, request.term) == ("n1", ("n1", "n3"), 4)
        await policy.on_view(view(2, "n2", "n1", "n2"), subject)  # an older view changes nothing
        assert policy.dc is not None
        await policy.on_view(view(5, "n3", "n1", "n3"), subject)
        assert policy.dc is None
        assert policy.engine.abort_requested  # the running transition, if any, stops dispatching
        with pytest.raises(RuntimeError, match="no longer DC"):
            await policy.dispatch(Action(2, "start", "web", "n3"))
    finally:
        await policy.ctx.nc.close()


async def test_histories_fetched_in_another_tenure_are_not_used(nats_server, tmp_path):
    """A copy fetched while this instance was DC before is stale: laid over a node lost meanwhile, it would
    show the node running nothing (seen: a resource started on a hung node's survivor without fencing)."""
    policy = await policy_of_n1(nats_server.url, tmp_path)
    subject = policy.s.view("n1")
    stale = History("i", 1, cib.parse("<lrm/>"))
    try:
        await policy.on_view(view(3, "n1", "n1", "n2"), subject)
        policy.histories.known["n2"] = stale
        await policy.on_view(view(4, "n2", "n1", "n2"), subject)
        assert policy.dc is None and policy.histories.known == {}
        policy.histories.known["n2"] = stale
        await policy.on_view(view(5, "n1", "n1"), subject)
        assert policy.dc is not None and policy.histories.known == {}
    finally:
        await policy.ctx.nc.close()


async def test_a_fenced_dc_acts_again_only_under_a_newer_view(nats_server, tmp_path):
    policy = await policy_of_n1(nats_server.url, tmp_path)
    subject = policy.s.view("n1")
    try:
        await policy.on_view(view(7, "n1", "n1", "n2"), subject)
        assert policy.dc is not None
        # Another node's policy cannot make the DC leave: it is not the DC of n1's view (nor the DC it names).
        await policy.on_fenced(Fenced(target="n1", action="reboot", result="ok", by="n2", dc="n2"),
                               policy.s.fenced_by("n2"))
        await policy.on_fenced(Fenced(target="n1", action="reboot", result="ok", by="n2", dc="n1"),
                               policy.s.fenced_by("n2"))
        assert policy.dc is not None
        await policy.on_fenced(Fenced(target="n1", action="reboot", result="ok", by="n2", dc="n1"),
                               policy.s.fenced_by("n1"))
        assert policy.dc is None
        await policy.on_view(view(7, "n1", "n1", "n2"), subject)  # the same view again: still out
        assert policy.dc is None
        await policy.on_view(view(9, "n1", "n1", "n2"), subject)  # rejoined
        assert policy.dc is not None and policy.dc.term == 9
    finally:
        await policy.ctx.nc.close()


async def test_a_wake_up_while_not_dc_is_planned_on_becoming_dc(nats_server, tmp_path):
    """A change that arrives while another node is DC is not lost: becoming DC plans at once."""
    policy = await policy_of_n1(nats_server.url, tmp_path)
    subject = policy.s.view("n1")
    plans: list[int] = []

    async def plan_once() -> None:
        plans.append(policy.dc.term if policy.dc else -1)

    policy.plan_once = plan_once  # type: ignore[method-assign]
    loop = asyncio.create_task(policy.plan_loop())
    try:
        await policy.on_view(view(3, "n2", "n1", "n2"), subject)
        policy.trigger()
        await asyncio.sleep(0.2)
        assert plans == []
        await policy.on_view(view(4, "n1", "n1"), subject)
        await until_async(lambda: plans == [4], "a plan as DC", 2)
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
        await policy.ctx.nc.close()


async def test_a_refused_mandate_waits_a_heartbeat_before_planning_again(nats_server, tmp_path):
    """An executor whose view differs refuses; the DC does not spin re-planning while views converge."""
    policy = await policy_of_n1(nats_server.url, tmp_path)

    async def dispatch(action: Action) -> OpResult:
        policy.refused = True
        raise bus.RemoteError("not the DC", code="not-dc")

    policy.engine.dispatch = dispatch
    try:
        await policy.on_view(view(4, "n1", "n1", "n2"), policy.s.view("n1"))
        assert policy.dc is not None
        started = asyncio.get_running_loop().time()
        await policy.run_transition(Graph(actions=[Action(1, "start", "web", "n2")]), None, "0.1.0", [],  # type: ignore[arg-type]
                                    policy.dc)
        assert asyncio.get_running_loop().time() - started >= policy.ctx.cfg.heartbeat_interval * 0.9
        assert policy.wake.is_set()
    finally:
        await policy.ctx.nc.close()
