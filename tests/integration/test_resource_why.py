"""``resource why`` on a live cluster: the gateway asks the DC (``policy.explain``); it never runs the scheduler.

The DC explains from the CIB it plans with, so its text is the scheduler's
explanation of the CIB as the store has it; with no DC there is no answer, and
the command says so.
"""

from __future__ import annotations

from typing import Any

import pytest
from paceline.cib_store.service import run as run_cib_store
from paceline.gateway.service import run as run_gateway
from paceline.shared import bus, cib, messages

from tests.integration.test_malformed_messages import NODE, S, one_node
from tests.servicekit import running
from tests.support.wait import until_async

pytestmark = pytest.mark.integration


async def crm(nc: Any, line: str) -> messages.CrmReply:
    return await bus.call(nc, S.gateway("crm"), messages.CrmRequest(lines=[line], node=NODE), messages.CrmReply,
                          timeout=30)


async def running_on_n1(nc: Any) -> bool:
    return (await crm(nc, "resource status d1")).output == f"resource d1 is running on: {NODE}"


async def test_resource_why_is_answered_by_the_dc(nats_server, tmp_path):
    # Imported here, not at the top: loading the module ``paceline.policy.scheduler.explain`` replaces the
    # package's ``explain`` function of the same name, which other test modules import at collection.
    from paceline.policy.scheduler.explain import explain

    async with one_node(nats_server.url, tmp_path) as store:
        nc = store.nc
        await crm(nc, "configure property stonith-enabled=false")
        await crm(nc, "configure primitive d1 ocf:paceline:Dummy")
        await crm(nc, "configure location prefer-n1 d1 50: n1")
        await until_async(lambda: running_on_n1(nc), "d1 runs on n1", 20)
        why = (await crm(nc, "resource why d1")).output
        assert "prefer-n1" in why and NODE in why
        again = (await crm(nc, "resource why d1")).output  # the DC keeps answering
        root = cib.parse_cib((await bus.call(nc, S.cib("query"), messages.CibQuery(), messages.CibDocument)).xml)
        assert why == again == explain(root, "d1").text()  # the scheduler's answer, on the same CIB
        with pytest.raises(bus.RemoteError, match="no resource 'nothing'") as err:
            await bus.call(nc, S.policy_explain, messages.ExplainRequest(rsc="nothing"), messages.ExplainReply)
        assert err.value.code == "no-such-resource"


async def test_without_a_dc_resource_why_says_so(nats_server, tmp_path):
    async with running("cib-store", run_cib_store, nats_server.url, tmp_path / "cib") as store, \
            running("gateway", run_gateway, nats_server.url, tmp_path / "gateway"):
        await bus.request(store.nc, S.cib("replace"), "replace", {"xml": cib.serialize(cib.empty([NODE]))})
        await crm(store.nc, "configure primitive d1 ocf:paceline:Dummy")
        with pytest.raises(bus.RemoteError, match="resource why: no DC answers") as err:
            await crm(store.nc, "resource why d1")
        assert err.value.code == "crm"
