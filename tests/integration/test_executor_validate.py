"""``validate-all`` on real executors over a real nats-server: the endpoint, and ``ra validate`` through the gateway."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from paceline.cib_store.service import run as run_cib_store
from paceline.executor.__main__ import run as run_executor
from paceline.gateway.service import run as run_gateway
from paceline.shared import bus, lrm
from paceline.shared.subjects import Subjects

from tests.servicekit import running
from tests.support.wait import until_async

pytestmark = pytest.mark.integration
S = Subjects("default")
HEARTBEAT_DUMMY = Path("/usr/lib/ocf/resource.d/heartbeat/Dummy")

#: An agent that judges one parameter and says what it was given (environment as an operation gets it).
PICKY = """#!/bin/sh
case "$1" in
meta-data) cat <<'END'
<?xml version="1.0"?>
<resource-agent name="Picky" version="1"><version>1.1</version>
<shortdesc lang="en">picky</shortdesc><longdesc lang="en">accepts only blue</longdesc>
<parameters><parameter name="color" required="1"><content type="string"/>
<shortdesc lang="en">color</shortdesc></parameter></parameters>
<actions><action name="validate-all" timeout="5s"/><action name="meta-data" timeout="5s"/></actions>
</resource-agent>
END
exit 0;;
validate-all)
  echo "seen color=$OCF_RESKEY_color instance=$OCF_RESOURCE_INSTANCE"
  [ "$OCF_RESKEY_color" = slow ] && sleep 10
  [ "$OCF_RESKEY_color" = blue ] && exit 0
  echo "ocf-exit-reason:color $OCF_RESKEY_color is not blue" >&2
  exit 6;;
*) exit 3;;
esac
"""
INIT_SCRIPT = "#!/bin/sh\nexit 0\n"


def install(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)


@contextlib.asynccontextmanager
async def cluster(url: str, tmp_path: Path, nodes: list[str]) -> AsyncIterator[Any]:
    """A cib-store, the executors of ``nodes`` (site agents under ``roots/<node>``) and a gateway, in-process."""
    settings = {"extra_ocf_roots": str(tmp_path / "roots" / "{node}"), "lsb_root": str(tmp_path / "init.d")}
    async with contextlib.AsyncExitStack() as stack:
        ctx = await stack.enter_async_context(running("cib-store", run_cib_store, url, tmp_path / "cib"))
        for node in nodes:
            await stack.enter_async_context(running("executor", run_executor, url, tmp_path / node, node=node,
                                                    **settings))
        await stack.enter_async_context(running("gateway", run_gateway, url, tmp_path / "gateway"))
        for node in nodes:
            await until_serving(ctx.nc, node)
        yield ctx.nc


async def until_serving(nc: Any, node: str) -> None:
    async def serving() -> bool:
        try:
            await validate(nc, node, "ocf:paceline:Dummy", timeout=0.5)
        except bus.BusUnavailable as exc:
            raise AssertionError(f"not serving yet: {exc}") from None
        return True

    await until_async(serving, f"the executor of {node} serves", 10, interval=0.05)


async def validate(nc: Any, node: str, spec: str, timeout: float = 10, **body: Any) -> dict[str, Any]:
    parts = spec.split(":")
    cls, provider, kind = parts if len(parts) == 3 else (parts[0], "", parts[1])
    return await bus.request(nc, S.executor("validate", node), "validate",
                             {"agent": {"class": cls, "provider": provider, "type": kind}, **body}, timeout=timeout)


async def crm(nc: Any, line: str, node: str) -> str:
    reply = await bus.request(nc, S.gateway("crm"), "crm", {"lines": [line], "node": node, "script": False},
                              timeout=30)
    return reply["output"]


@pytest.fixture
def sites(tmp_path: Path) -> Path:
    install(tmp_path / "roots" / "n2" / "resource.d" / "site" / "Picky", PICKY)   # only n2 has it
    for node in ("n1", "n2"):
        install(tmp_path / "roots" / node / "resource.d" / "site" / "Both", PICKY)
    install(tmp_path / "init.d" / "plainsvc", INIT_SCRIPT)
    return tmp_path


async def test_the_executor_endpoint(nats_server, sites):
    async with cluster(nats_server.url, sites, ["n1"]) as nc:
        ok = await validate(nc, "n1", "ocf:paceline:Dummy", params={"fake": "1"})
        assert (ok["rc"], ok["op_status"], ok["node"]) == (lrm.OCF_SUCCESS, lrm.EXEC_DONE, "n1")
        bad = await validate(nc, "n1", "ocf:paceline:IPaddr")
        assert (bad["rc"], bad["exit_reason"]) == (lrm.OCF_ERR_CONFIGURED, "parameter ip is required")
        seen = await validate(nc, "n1", "ocf:site:Both", params={"color": "red"}, rsc="web")
        assert seen["rc"] == lrm.OCF_ERR_CONFIGURED and seen["exit_reason"] == "color red is not blue"
        assert seen["output"].strip() == "seen color=red instance=web"
        lsb = await validate(nc, "n1", "lsb:plainsvc")
        assert lsb["rc"] == lrm.OCF_ERR_UNIMPLEMENTED and "validate-all" in lsb["exit_reason"]
        missing = await validate(nc, "n1", "ocf:site:Picky")   # that one is n2's
        assert (missing["rc"], missing["op_status"]) == (lrm.OCF_ERR_INSTALLED, lrm.EXEC_NOT_INSTALLED)
        slow = await validate(nc, "n1", "ocf:site:Both", params={"color": "slow"}, timeout_ms=300)
        assert slow["op_status"] == lrm.EXEC_TIMEOUT
        fence = await validate(nc, "n1", "stonith:fence_paceline", params={"hosts": "n1"})
        assert fence["rc"] == lrm.OCF_SUCCESS
        with pytest.raises(bus.RemoteError) as err:
            await validate(nc, "n1", "ocf:paceline:Dummy", rsc="a b")
        assert err.value.code == "malformed"


@pytest.mark.skipif(not HEARTBEAT_DUMMY.exists(),
                    reason=f"needs Debian's resource-agents package ({HEARTBEAT_DUMMY} is missing)")
async def test_the_systems_heartbeat_dummy(nats_server, sites):
    async with cluster(nats_server.url, sites, ["n1"]) as nc:
        assert (await validate(nc, "n1", "ocf:heartbeat:Dummy", params={"fake": "x"}))["rc"] == lrm.OCF_SUCCESS


async def test_ra_validate_through_the_gateway(nats_server, sites):
    async with cluster(nats_server.url, sites, ["n1", "n2"]) as nc:
        await crm(nc, "configure node n1", "n1")
        await crm(nc, "configure node n2", "n1")
        # Run where the command is typed; an agent only another node has is validated there.
        assert await crm(nc, "ra validate ocf:site:Both color=blue", "n2") == \
            "ocf:site:Both: parameters are valid (validate-all on n2: OCF_SUCCESS (rc 0, ok))\n" \
            "  seen color=blue instance=validate"
        assert "validate-all on n1:" in await crm(nc, "ra validate ocf:site:Both color=blue", "n1")
        with pytest.raises(bus.RemoteError) as err:
            await crm(nc, "ra validate ocf:site:Picky color=red", "n1")
        assert str(err.value).splitlines() == [
            "ra validate: ocf:site:Picky: validate-all on n2: OCF_ERR_CONFIGURED (rc 6, not configured): "
            "color red is not blue",
            "  seen color=red instance=validate"]
        # A configured primitive: its own parameters and its id as the instance.
        await crm(nc, "configure primitive p1 ocf:site:Picky params color=blue meta target-role=Stopped", "n1")
        assert "seen color=blue instance=p1" in await crm(nc, "ra validate p1", "n1")
        with pytest.raises(bus.RemoteError, match="color green is not blue"):
            await crm(nc, "ra validate p1 color=green", "n1")
