"""Shutdown locks: a resource of a cleanly stopped node waits for it (until shutdown-lock-limit)."""

from __future__ import annotations

from paceline.policy.recheck import EXPIRY_MARGIN, next_recheck
from paceline.policy.scheduler import schedule
from paceline.shared.cib import parse_cib
from paceline.shared.cluster import render_status

NOW = 1_700_000_000
ONLINE = 'in_ccm="true" crmd="online" join="member" expected="member"'
OFFLINE = 'in_ccm="false" crmd="offline" join="down" expected="down"'


def history(rsc: str, lock: int | None, last: str = "stop") -> str:
    """A resource that ran on the node and was stopped by its shutdown (``lock``: when)."""
    attr = f' shutdown-lock="{lock}"' if lock is not None else ""
    ops = (f'<lrm_rsc_op id="{rsc}_last_0" operation="{last}" interval="0" rc-code="0" op-status="0" '
           f'call-id="2" transition-key="1:1:0:t"/>')
    return f'<lrm_resource id="{rsc}" class="ocf" provider="heartbeat" type="Dummy"{attr}>{ops}</lrm_resource>'


def cluster(node2_state: str, node2_lrm: str, limit: str | None = None, lock: bool = True,
            node2_attrs: str = "") -> str:
    opts = '<nvpair id="o1" name="stonith-enabled" value="false"/>'
    if lock:
        opts += '<nvpair id="o2" name="shutdown-lock" value="true"/>'
    if limit:
        opts += f'<nvpair id="o3" name="shutdown-lock-limit" value="{limit}"/>'
    transient = (f'<transient_attributes id="node2"><instance_attributes id="s2">{node2_attrs}'
                 '</instance_attributes></transient_attributes>') if node2_attrs else ""
    return (f'<cib have-quorum="1" epoch="1" num_updates="0" admin_epoch="0"><configuration>'
            f'<crm_config><cluster_property_set id="cib-bootstrap-options">{opts}</cluster_property_set></crm_config>'
            '<nodes><node id="node1" uname="node1"/><node id="node2" uname="node2"/></nodes>'
            '<resources><primitive id="r1" class="ocf" provider="heartbeat" type="Dummy"/></resources>'
            '<constraints/></configuration><status>'
            f'<node_state id="node1" uname="node1" {ONLINE}><lrm id="node1"><lrm_resources/></lrm></node_state>'
            f'<node_state id="node2" uname="node2" {node2_state}>{transient}<lrm id="node2"><lrm_resources>'
            f'{node2_lrm}</lrm_resources></lrm></node_state></status></cib>')


def run(xml: str):
    return schedule(parse_cib(xml), now=float(NOW))


def folded(result) -> list[str]:
    return [" ".join(line.split()) for line in result.summary]


def test_locked_resource_waits_for_its_node_and_says_so():
    result = run(cluster(OFFLINE, history("r1", NOW - 60)))
    assert folded(result) == []
    assert any(" ".join(line.split()).endswith("Stopped node2 (LOCKED)") for line in render_status(result.state))


def test_lock_expires_after_the_limit_and_the_dc_plans_for_that_moment():
    fresh = run(cluster(OFFLINE, history("r1", NOW - 60), limit="5min"))
    assert folded(fresh) == []
    assert next_recheck(fresh.state, NOW) == 240 + EXPIRY_MARGIN
    expired = run(cluster(OFFLINE, history("r1", NOW - 400), limit="5min"))
    assert folded(expired) == ["* Start r1 ( node1 )"]


def test_without_shutdown_lock_the_resource_recovers_elsewhere():
    assert folded(run(cluster(OFFLINE, history("r1", NOW - 60), lock=False))) == ["* Start r1 ( node1 )"]


def test_a_node_shutting_down_keeps_its_resources_locked_to_it():
    shutting = f'<nvpair id="s2-sd" name="shutdown" value="{NOW - 5}"/>'
    result = run(cluster(ONLINE, history("r1", None, last="start"), node2_attrs=shutting))
    assert folded(result) == ["* Stop r1 ( node2 ) due to node availability"]
    assert result.state.by_id["r1"].lock_node == "node2"
