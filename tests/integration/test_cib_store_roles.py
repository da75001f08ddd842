"""Status patches of a node's executor and membership go to subjects naming their node, and the cib-store
checks what each may write: an executor only its own node's history, membership only node_state entries.
(The bus server lets only that node's credential publish on its subject: tests/integration/test_bus_auth.py.)
"""

from __future__ import annotations

import pytest
from paceline.cib_store.service import run
from paceline.shared import bus, cib
from paceline.shared.permissions import status_patch_refusal
from paceline.shared.subjects import Subjects

from tests.servicekit import running

pytestmark = pytest.mark.integration
S = Subjects("default")

RESULT = {"op": "lrm_op", "rsc": "d1", "agent": {"class": "ocf", "provider": "heartbeat", "type": "Dummy"},
          "record": {"id": "d1_last_0", "operation": "stop", "call-id": "99", "rc-code": "0", "op-status": "0"}}
ONLINE = {"op": "node_state", "attrs": {"in_ccm": "true", "crmd": "online", "join": "member"}}


def test_what_each_role_may_write():
    assert status_patch_refusal("executor", "n1", "n1", [RESULT, {"op": "attr_incr", "name": "fail-count-d1"}]) == ""
    assert "only its own node" in status_patch_refusal("executor", "n3", "n1", [RESULT])
    assert "may not send status op 'node_state'" in status_patch_refusal("executor", "n1", "n1", [ONLINE])
    assert status_patch_refusal("membership", "n3", "n1", [{"op": "node_state", "attrs": {"in_ccm": "false"}}]) == ""
    assert "'lrm_op'" in status_patch_refusal("membership", "n3", "n1", [RESULT])
    assert "'shutdown'" in status_patch_refusal("membership", "n3", "n3",
                                                [{"op": "node_state", "attrs": {"shutdown": "1"}}])
    assert status_patch_refusal("gateway", "n1", "n1", []) != ""


async def test_a_nodes_executor_cannot_write_another_nodes_history(nats_server, tmp_path):
    async with running("cib-store", run, nats_server.url, tmp_path) as ctx:
        nc = ctx.nc
        await bus.request(nc, S.cib("replace"), "replace", {"xml": cib.serialize(cib.empty(["n1", "n3"]))})
        with pytest.raises(bus.RemoteError) as err:
            await bus.request(nc, S.cib_patch_by("executor", "n3"), "patch",
                              {"node": "n1", "client": "executor", "ops": [RESULT]})
        assert err.value.code == "forbidden" and "only its own node" in str(err.value)
        with pytest.raises(bus.RemoteError) as err:
            await bus.request(nc, S.cib_patch_by("membership", "n3"), "patch",
                              {"node": "n1", "client": "membership", "ops": [RESULT]})
        assert err.value.code == "forbidden"
        reply = await bus.request(nc, S.cib("query"), "query")
        assert cib.parse_cib(reply["xml"]).find(".//lrm_rsc_op") is None  # nothing written
        await bus.request(nc, S.cib_patch_by("executor", "n1"), "patch",
                          {"node": "n1", "client": "executor", "ops": [RESULT]})
        await bus.request(nc, S.cib_patch_by("membership", "n3"), "patch",
                          {"node": "n1", "client": "membership", "ops": [ONLINE]})
        reply = await bus.request(nc, S.cib("query"), "query")
        ns = cib.node_state(cib.parse_cib(reply["xml"]), "n1", create=False)
        assert ns is not None and ns.find(".//lrm_rsc_op") is not None and ns.get("crmd") == "online"
