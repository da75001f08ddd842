"""Admission by membership: once its node's view is known, the executor obeys only the DC that view elects,
planning over the same members (``paceline.shared.admission``), for actions and fencing alike."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from paceline.shared import admission, bus
from paceline.shared.config import Config
from paceline.shared.messages import MembershipViewMessage, pack

from tests.integration.test_executor_service import NODE, S, action, ask, cluster
from tests.support.wait import until_async

pytestmark = pytest.mark.integration
PAIR = ("n1", "n2")
#: A refused request waits half the (default) token timeout for a view that admits it.
PATIENCE = Config().token_timeout / 2


async def publish_view(nc: Any, ring_id: int, members: tuple[str, ...], dc: str, incarnation: str = "m1") -> None:
    view = MembershipViewMessage(node=NODE, incarnation=incarnation, ring_id=ring_id, members=members,
                                 quorate=True, dc=dc)
    await nc.publish(S.view(NODE), pack(view))
    await nc.flush()


async def refused(nc: Any, body: dict[str, Any]) -> bus.RemoteError:
    with pytest.raises(bus.RemoteError) as err:
        await ask(nc, body)
    return err.value


async def until_admitting_by_view(nc: Any) -> None:
    """The executor has taken a view: a request naming a DC no view elects is refused (before, it ran)."""

    async def refuses_a_stranger() -> bool:
        return (await refused(nc, action("cancel", "nothing", dc="stranger", members=PAIR))).code == admission.NOT_DC

    await until_async(refuses_a_stranger, "the executor admits by its membership view", 5, interval=0.05)


async def test_requests_run_only_for_the_dc_of_the_nodes_view(nats_server, tmp_path):
    run = tmp_path / "executor" / "run"
    async with cluster(nats_server.url, tmp_path) as ctx:
        assert (await ask(ctx.nc, action("start", "d0", term=5)))["rc"] == 0    # term mode: no view yet
        await publish_view(ctx.nc, 3, PAIR, "n1")
        await until_admitting_by_view(ctx.nc)

        reply = await ask(ctx.nc, action("start", "d1", dc="n1", members=PAIR, term=1))  # terms no longer count
        assert reply["rc"] == 0 and (run / "Dummy-d1.state").exists()

        began = time.monotonic()
        for dc, members in (("n2", PAIR), ("n1", ("n1",)), ("n1", ("n1", "n2", "n3")), ("", PAIR)):
            err = await refused(ctx.nc, action("start", "d2", dc=dc, members=members))
            assert err.code == admission.NOT_DC, (dc, members, err)
        assert time.monotonic() - began >= 4 * PATIENCE * 0.9            # each waited for a view that never came
        assert not (run / "Dummy-d2.state").exists()

        fence = {"agent": {"class": "stonith", "type": "fence_paceline"}, "action": "reboot", "target": "n2",
                 "params": {"hosts": "n1,n2", "state_dir": str(tmp_path / "power")}, "term": 0, "dc": "n2",
                 "members": PAIR}
        with pytest.raises(bus.RemoteError) as fence_err:
            await bus.request(ctx.nc, S.executor("fence", NODE), "fence", fence)
        assert fence_err.value.code == admission.NOT_DC
        assert not (tmp_path / "power").exists()
        reply = await bus.request(ctx.nc, S.executor("fence", NODE), "fence", {**fence, "dc": "n1"})
        assert reply["rc"] == 0


async def test_a_request_ahead_of_the_nodes_view_runs_once_a_newer_view_admits_it(nats_server, tmp_path):
    trio = ("n1", "n2", "n3")
    async with cluster(nats_server.url, tmp_path) as ctx:
        await publish_view(ctx.nc, 3, PAIR, "n1")
        await until_admitting_by_view(ctx.nc)
        pending = asyncio.create_task(ask(ctx.nc, action("start", "d1", dc="n1", members=trio)))
        await asyncio.sleep(PATIENCE / 4)
        assert not pending.done()                                         # waiting for its view
        await publish_view(ctx.nc, 4, trio, "n1")
        assert (await pending)["rc"] == 0

        await publish_view(ctx.nc, 2, PAIR, "n2")                         # an older view changes nothing
        assert (await ask(ctx.nc, action("start", "d2", dc="n1", members=trio)))["rc"] == 0
        await publish_view(ctx.nc, 1, PAIR, "n2", incarnation="m2")       # a restarted membership: its view counts
        assert (await ask(ctx.nc, action("start", "d3", dc="n2", members=PAIR)))["rc"] == 0
        await publish_view(ctx.nc, 9, trio, "n1")                         # the replaced one is not heard again
        assert (await refused(ctx.nc, action("start", "d4", dc="n1", members=trio))).code == admission.NOT_DC
