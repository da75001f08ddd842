"""The DC does not wait for actions on a node membership lost: the transition ends at once, so re-planning
(quorum loss, recovery on the survivors) is not held up until the action's timeout."""

from __future__ import annotations

import asyncio

import pytest
import structlog
from paceline.policy.engine import LOST_WITH_NODE
from paceline.policy.graph import Action, Graph
from paceline.policy.service import Policy
from paceline.shared import bus, config
from paceline.shared.lrm import OpResult
from paceline.shared.messages import MembershipViewMessage
from paceline.shared.runtime import ServiceContext

pytestmark = pytest.mark.integration


def view(ring_id: int, *members: str) -> MembershipViewMessage:
    """Node n1's membership view as its membership service would publish it (quorate)."""
    return MembershipViewMessage(node="n1", incarnation="i", ring_id=ring_id, members=members, quorate=True,
                                 dc="n1")


async def test_view_without_a_node_fails_its_in_flight_actions(nats_server, tmp_path):
    cfg = config.load(env={}, nats_url=nats_server.url, state_dir=str(tmp_path), node="n1")
    nc = await bus.connect(nats_server.url, "test-policy")
    policy = Policy(ServiceContext(service="policy", cfg=cfg, nc=nc, log=structlog.get_logger()))
    no_answer, fenced = asyncio.Event(), asyncio.Event()

    async def dispatch(action: Action) -> OpResult:
        if action.task == "stonith":
            await fenced.wait()  # the fencer works from the survivors; its answer will come
        elif action.node == "n2":
            await no_answer.wait()  # the executor of n2 is gone with its node
        return OpResult(action.rsc or "", action.task, action.interval_ms, rc=action.expected_rc)

    policy.engine.dispatch = dispatch
    graph = Graph(actions=[Action(1, "start", "web", "n2"), Action(2, "start", "db", "n1"),
                           Action(3, "stonith", None, "n2")])
    views = policy.s.views.replace("*", "n1")
    try:
        await policy.on_view(view(1, "n1", "n2"), views)
        policy.running = True
        run = asyncio.create_task(policy.engine.run(graph))
        await asyncio.sleep(0.05)
        assert not run.done()
        await policy.on_view(view(2, "n1"), views)
        await asyncio.sleep(0.05)
        assert not run.done()  # the fencing of n2 is not given up
        fenced.set()
        out = await asyncio.wait_for(run, 1)
        assert [(a.key, error) for a, error in out.failed] == [("web_start_0", LOST_WITH_NODE)]
        assert out.completed == 2  # db on the survivor, and the fencing of n2, which runs elsewhere
    finally:
        no_answer.set()
        await nc.close()
