"""The gateway's ``attribute`` and ``nodes`` endpoints (what the agents' Pacemaker tools ask), on a CIB in memory.

An edit must be exactly the crm command's (same sets, same ids, same errors),
and a read must find what the crm command's ``show`` shows.
"""

from __future__ import annotations

import copy

import pytest
from paceline.crm import CrmError, execute
from paceline.gateway import attributes
from paceline.shared import cib
from paceline.shared.messages import AttributeRequest


def cluster() -> cib.Element:
    root = cib.empty(["n1", "n2"])
    for name, uid in (("n1", "1"), ("n2", "2")):
        state = cib.node_state(root, name, uid)
        for key, value in cib.NODE_STATE_MEMBER.items():
            state.set(key, value)
    root.set("dc-uuid", "1")
    root.set("have-quorum", "1")
    return root


def req(command: str, scope: str, name: str, **extra: object) -> AttributeRequest:
    return AttributeRequest(command=command, scope=scope, name=name, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(("request_", "line"), [
    (req("set", "status", "master-st", node="n1", value="10"), "node status-attr n1 set master-st 10"),
    (req("set", "nodes", "rack", node="n2", value="r 1"), "node attribute n2 set rack 'r 1'"),
    (req("set", "nodes", "cpu", node="2", value="4", utilization=True), "node utilization 2 set cpu 4"),
    (req("set", "crm_config", "stonith-enabled", value="false"), "configure property stonith-enabled=false"),
    (req("set", "crm_config", "db_REPL_INFO", value="n1", set_name="db_replication"),
     "configure property $id=db_replication db_REPL_INFO=n1"),
    (req("set", "rsc_defaults", "resource-stickiness", value="1"), "configure rsc_defaults resource-stickiness=1"),
    (req("set", "op_defaults", "timeout", value="30s"), "configure op_defaults timeout=30s"),
])
def test_an_edit_is_the_crm_commands_own(request_, line):
    by_endpoint, by_crm = cluster(), cluster()
    assert attributes.edit(by_endpoint, request_) is True
    assert execute(by_crm, line).changed
    assert cib.serialize(by_endpoint) == cib.serialize(by_crm)
    assert attributes.read(by_endpoint, req("get", request_.scope, request_.name, node=request_.node,
                                            utilization=request_.utilization)) == request_.value


def test_deleting_and_reading_back():
    root = cluster()
    for line in ("node status-attr n1 set foo 3", "node attribute n1 set foo 4", "node utilization n1 set foo 5",
                 "configure property foo=6", "configure property $id=other foo=7"):
        execute(root, line)
    assert attributes.read(root, req("get", "status", "foo", node="n1")) == "3"
    assert attributes.read(root, req("get", "nodes", "foo", node="n1")) == "4"
    assert attributes.read(root, req("get", "nodes", "foo", node="n1", utilization=True)) == "5"
    assert attributes.read(root, req("get", "crm_config", "foo")) == "6"  # the first set in document order
    assert attributes.read(root, req("get", "crm_config", "foo", set_name="other")) == "7"
    assert attributes.read(root, req("get", "status", "foo", node="n2")) is None
    before = copy.deepcopy(root)
    assert attributes.edit(root, req("delete", "status", "foo", node="n1")) is True
    assert attributes.read(root, req("get", "status", "foo", node="n1")) is None
    assert attributes.edit(root, req("delete", "status", "foo", node="n1")) is False  # nothing left to delete
    assert attributes.edit(root, req("delete", "crm_config", "foo", set_name="other")) is True
    assert attributes.read(root, req("get", "crm_config", "foo")) == "6"
    assert attributes.edit(root, req("delete", "crm_config", "foo")) is True
    assert attributes.read(root, req("get", "crm_config", "foo")) is None
    assert attributes.edit(root, req("delete", "crm_config", "foo")) is False
    assert cib.serialize(before) != cib.serialize(root)


def test_an_unknown_node_is_crms_error():
    with pytest.raises(CrmError, match=r"^node status-attr: no node 'n9' \(known: n1, n2\)"):
        attributes.read(cluster(), req("get", "status", "x", node="n9"))
    with pytest.raises(CrmError, match=r"^node attribute: no node 'n9'"):
        attributes.edit(cluster(), req("set", "nodes", "x", node="n9", value="1"))


def test_nodes_and_quorum():
    root = cluster()
    for key, value in cib.NODE_STATE_DOWN.items():
        cib.node_state(root, "n2").set(key, value)
    reply = attributes.nodes(root, 0.0)
    assert [(n.name, n.id, n.online) for n in reply.nodes] == [("n1", "1", True), ("n2", "2", False)]
    assert reply.quorate is True
    root.set("have-quorum", "0")
    assert attributes.nodes(root, 0.0).quorate is False
    del root.attrib["dc-uuid"]  # no DC: no quorum to speak of, as crm_mon's summary says
    assert attributes.nodes(root, 0.0).quorate is False
