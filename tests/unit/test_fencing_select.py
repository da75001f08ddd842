"""Fence device selection (Pacemaker's fencer rules) and the shell's ``node fence``."""

from __future__ import annotations

import pytest
from lxml import etree
from paceline.cli.confirm import needs_confirmation
from paceline.crm import Context, CrmError, execute
from paceline.executor import fencing as agent_protocol
from paceline.shared import cib, lrm
from paceline.shared.cluster import fencing

from tests.support.present import present

NOW = 1_700_000_000.0   # the time the configurations are read at (no rule here depends on it)

CTX = Context(local_node="n1")


def make_cib(*lines: str, nodes: tuple[str, ...] = ("n1", "n2", "n3")) -> etree._Element:
    root = cib.empty(list(nodes))
    for line in lines:
        execute(root, f"configure {line}", CTX)
    return root


def ids(plan: fencing.Plan) -> list[list[str]]:
    return [[d.id for d in level] for level in plan.levels]


def device(root: etree._Element, rid: str) -> fencing.FenceDevice:
    return next(d for d in fencing.fence_devices(root, NOW) if d.id == rid)


def add_running(root: etree._Element, rsc: str, node: str) -> None:
    ns = cib.node_state(root, node)
    result = lrm.OpResult(rsc=rsc, task="start", interval_ms=0, rc=0, node=node)
    lrm.apply_status_ops(ns, lrm.result_ops(result, {"class": "stonith", "type": "fence_x"}))


# ---------------------------------------------------------------- which devices can fence the target

def test_static_host_list_and_map_decide() -> None:
    root = make_cib("primitive f1 stonith:fence_x params pcmk_host_list=n1,n2",
                    "primitive f2 stonith:fence_y params pcmk_host_map=n3:plug7;n1:plug1")
    assert ids(fencing.plan(root, "n2", NOW)) == [["f1"]]
    assert ids(fencing.plan(root, "n3", NOW)) == [["f2"]]
    assert ids(fencing.plan(root, "n1", NOW)) == [["f1"], ["f2"]]
    f2 = device(root, "f2")
    assert f2.host_check == fencing.STATIC and f2.port_for("n3") == "plug7" and f2.port_for("n2") == "n2"


def test_dynamic_list_is_asked_and_none_means_everyone() -> None:
    root = make_cib("primitive dyn stonith:fence_x", "primitive any stonith:fence_y params pcmk_host_check=none")
    assert device(root, "dyn").host_check == fencing.DYNAMIC
    assert device(root, "dyn").can_fence_statically("n2") is None
    assert ids(fencing.plan(root, "n2", NOW)) == [["dyn"], ["any"]]  # not asked yet: kept for the fencer to ask
    assert ids(fencing.plan(root, "n2", NOW, {"dyn": False})) == [["any"]]
    assert fencing.parse_list_output("n1,alias1\nn2\n\n") == {"n1", "alias1", "n2"}


def test_explicit_host_check_overrides_the_lists() -> None:
    root = make_cib("primitive f stonith:fence_x params pcmk_host_list=n1 pcmk_host_check=dynamic-list")
    assert device(root, "f").host_check == fencing.DYNAMIC
    assert ids(fencing.plan(root, "n3", NOW, {"f": True})) == [["f"]]


def test_disabled_devices_are_unusable_and_priority_orders_the_rest() -> None:
    root = make_cib("primitive low stonith:fence_x params pcmk_host_check=none",
                    "primitive high stonith:fence_x params pcmk_host_check=none meta priority=10",
                    "primitive off stonith:fence_x params pcmk_host_check=none meta target-role=Stopped",
                    "primitive notadevice ocf:paceline:Dummy")
    assert ids(fencing.plan(root, "n2", NOW)) == [["high"], ["low"]]


def test_no_device_means_an_empty_plan() -> None:
    root = make_cib("primitive d ocf:paceline:Dummy")
    assert fencing.plan(root, "n2", NOW).levels == []


# ---------------------------------------------------------------- topology

def test_topology_levels_in_index_order_for_the_target() -> None:
    root = make_cib("primitive ipmi stonith:fence_x params pcmk_host_check=none",
                    "primitive pdu1 stonith:fence_y params pcmk_host_check=none",
                    "primitive pdu2 stonith:fence_y params pcmk_host_check=none")
    conf = present(root.find("configuration"))
    topo = etree.SubElement(conf, "fencing-topology")
    etree.SubElement(topo, "fencing-level", id="l2", target="n2", index="2", devices="pdu1,pdu2")
    etree.SubElement(topo, "fencing-level", id="l1", target="n2", index="1", devices="ipmi")
    etree.SubElement(topo, "fencing-level", {"id": "lp", "target-pattern": "n[13]", "index": "1", "devices": "pdu2"})
    etree.SubElement(topo, "fencing-level", {"id": "la", "target-attribute": "rack", "target-value": "r9",
                                             "index": "1", "devices": "missing"})
    plan = fencing.plan(root, "n2", NOW)
    assert plan.topology and ids(plan) == [["ipmi"], ["pdu1", "pdu2"]]
    assert ids(fencing.plan(root, "n3", NOW)) == [["pdu2"]]
    execute(root, "node attribute n3 set rack r9", CTX)
    # A level naming a device that does not exist can never succeed: only the pattern level is left.
    assert ids(fencing.plan(root, "n3", NOW)) == [["pdu2"]]
    assert fencing.topology_levels(root, "n3", NOW) == [["pdu2"], ["missing"]]


# ---------------------------------------------------------------- who runs the agent

def test_executing_node_prefers_where_the_device_runs_then_the_dc_never_the_target() -> None:
    root = make_cib("primitive f stonith:fence_x params pcmk_host_check=none")
    add_running(root, "f", "n3")
    dev = device(root, "f")
    assert dev.running_on == frozenset({"n3"})
    assert fencing.executing_nodes(dev, "n2", ["n1", "n2", "n3"], dc="n1") == ["n3", "n1"]
    assert fencing.executing_nodes(dev, "n3", ["n1", "n2", "n3"], dc="n2") == ["n2", "n1"]
    assert fencing.executing_nodes(dev, "n1", ["n1"], dc="n1") == ["n1"]  # nobody else: the last resort


def test_banned_nodes_may_not_run_the_device() -> None:
    root = make_cib("primitive f stonith:fence_x params pcmk_host_check=none",
                    "location no-f-on-n1 f -inf: n1")
    dev = device(root, "f")
    assert dev.banned == frozenset({"n1"})
    assert fencing.executing_nodes(dev, "n2", ["n1", "n2", "n3"], dc="n1") == ["n3"]
    assert fencing.executing_nodes(dev, "n3", ["n1", "n3"], dc="n1") == ["n3"]


# ---------------------------------------------------------------- timeouts, agent protocol, the record

def test_timeouts_from_the_device_then_the_cluster() -> None:
    root = make_cib("primitive f stonith:fence_x params pcmk_host_check=none pcmk_reboot_timeout=2min")
    dev = device(root, "f")
    assert dev.timeout_s("reboot", {}) == 120
    assert dev.timeout_s("off", {"stonith-timeout": "30s"}) == 30
    assert dev.timeout_s("off", {}) == fencing.DEFAULT_TIMEOUT_S
    assert fencing.parse_seconds("500ms") == 0.5 and fencing.parse_seconds("bogus") == 0


def test_mapped_port_goes_to_the_agent_with_the_node_name() -> None:
    params = agent_protocol.with_port({"ip": "10.0.0.1", "pcmk_reboot_action": "off"}, "n3", "plug7")
    text = agent_protocol.stdin_args(params, "reboot", "n3")
    assert "port=plug7" in text and "nodename=n3" in text and "action=off" in text and "pcmk_" not in text
    plain = agent_protocol.stdin_args(agent_protocol.with_port({}, "n3", "n3"), "reboot", "n3")
    assert "port=n3" in plain


def test_the_victim_is_recorded_down_with_no_history_or_transient_attributes() -> None:
    root = make_cib("primitive f stonith:fence_x params pcmk_host_check=none")
    ns = cib.node_state(root, "n2")
    lrm.apply_status_ops(ns, [{"op": "node_state", "attrs": dict(cib.NODE_STATE_MEMBER)},
                              {"op": "attr", "name": "terminate", "value": "true"}])
    add_running(root, "f", "n2")
    lrm.apply_status_ops(ns, fencing.victim_status_ops("reboot", 1000))
    assert {k: ns.get(k) for k in cib.NODE_STATE_DOWN} == cib.NODE_STATE_DOWN
    assert ns.find("lrm") is None and not ns.findall("transient_attributes/instance_attributes/nvpair")
    lrm.apply_status_ops(ns, fencing.victim_status_ops("on", 1000))
    assert present(ns.find("transient_attributes/instance_attributes/nvpair")).get("name") == "#node-unfenced"


# ---------------------------------------------------------------- node fence (crmsh: terminate=true)

def terminate(root: etree._Element, node: str) -> str | None:
    ns = cib.node_state(root, node, create=False)
    return None if ns is None else cib.nvset_values(ns.find("transient_attributes"), "instance_attributes").get(
        "terminate")


def test_node_fence_sets_terminate_once_confirmed() -> None:
    root = make_cib("primitive f stonith:fence_x params pcmk_host_list=n1,n2")
    with pytest.raises(CrmError, match="confirm with -y"):
        execute(root, "node fence n2", CTX)
    assert terminate(root, "n2") is None
    assert "fencing of node n2 requested" in execute(root, "node fence n2 -y", CTX).output
    assert terminate(root, "n2") == "true"
    assert needs_confirmation("node", ["fence", "n2"]) and needs_confirmation("node", ["fence", "n2", "--yes"]) is None
    assert needs_confirmation("node", ["standby", "n2"]) is None


@pytest.mark.parametrize(("lines", "message"), [
    (("property stonith-enabled=false", "primitive f stonith:fence_x params pcmk_host_list=n2"),
     "stonith-enabled is false"),
    (("primitive d ocf:paceline:Dummy",), "no fence device is configured"),
    (("primitive f stonith:fence_x params pcmk_host_list=n1",), "none of the fence devices (f) can fence n2"),
])
def test_node_fence_refuses_when_nothing_can_fence(lines: tuple[str, ...], message: str) -> None:
    root = make_cib(*lines)
    with pytest.raises(CrmError, match="fencing is not available") as err:
        execute(root, "node fence n2 -y", CTX)
    assert message in str(err.value)
    assert terminate(root, "n2") is None
