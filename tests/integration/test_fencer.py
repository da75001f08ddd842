"""The DC's fencer over a real nats-server, cib-store and executor: a failing device backs off, then fences."""

from __future__ import annotations

import asyncio
import time

import pytest
import structlog
from paceline.crm import Context, execute
from paceline.policy.fencer import Fencer
from paceline.policy.graph import Action
from paceline.policy.mandate import Mandate
from paceline.shared import bus, cib, codec

from tests.integration.test_executor_service import NODE, S, cluster

pytestmark = pytest.mark.integration


async def configure(nc, *lines: str) -> None:
    reply = await bus.request(nc, S.cib("query"), "query")
    root = cib.parse_cib(reply["xml"])
    for line in lines:
        execute(root, f"configure {line}", Context(local_node=NODE))
    await bus.request(nc, S.cib("replace"), "replace", {"xml": cib.serialize(root),
                                                         "expected_version": reply["version"], "client": "test"})


async def test_failing_device_backs_off_then_the_victim_is_recorded_down(nats_server, tmp_path):
    log, unreachable = tmp_path / "fence.log", tmp_path / "unplugged"
    unreachable.touch()
    async with cluster(nats_server.url, tmp_path) as ctx:
        await configure(ctx.nc, "node n2", "property stonith-enabled=true",
                        f"primitive fencer stonith:fence_paceline params hosts={NODE},n2 state_dir={tmp_path} "
                        f"log={log} unreachable={unreachable} pcmk_host_map=n2:n2")
        await bus.request(ctx.nc, S.cib("patch"), "patch", {"node": "n2", "client": "test", "ops": [
            {"op": "node_state", "attrs": dict(cib.NODE_STATE_MEMBER)},
            {"op": "attr", "name": "terminate", "value": "true"}]})
        events: list[dict] = []

        async def keep(msg) -> None:
            events.append(codec.decode(msg.data).body)

        await ctx.nc.subscribe(S.fenced, cb=keep)
        fencer = Fencer(ctx.nc, S, NODE, lambda: Mandate(NODE, 1, (NODE, "n2")), lambda: [NODE, "n2"],
                        structlog.get_logger())
        stonith = Action(id=1, task="stonith", node="n2", meta={"fencing-action": "reboot", "reason": "test"})

        failed = await fencer.fence(stonith)
        assert failed.failed and "fencer" in failed.exit_reason
        unreachable.unlink()
        started = time.monotonic()
        done = await fencer.fence(stonith)
        assert not done.failed and time.monotonic() - started >= 0.4  # waited out the back-off first
        assert log.read_text().split()[1:3] == ["reboot", "n2"]
        await asyncio.sleep(0.1)
        assert [(e["result"], e["by"]) for e in events] == [("failed", ""), ("ok", NODE)]
        root = cib.parse_cib((await bus.request(ctx.nc, S.cib("query"), "query"))["xml"])
        victim = cib.node_state(root, "n2", create=False)
        assert victim is not None
        assert victim.get("crmd") == "offline" and victim.get("expected") == "down"
        assert not victim.findall(".//nvpair")  # terminate went with the other transient attributes
