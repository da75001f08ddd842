"""What keeps a start from running: a group that cannot start, a node that never finished joining."""

from __future__ import annotations

from tests.unit.test_scheduler_core import NOW, both_online, cib, folded, node_state, prim, run


def test_group_with_a_member_that_will_not_start_blocks_what_is_ordered_after_it():
    groups = ('<group id="g1">' + prim("a", meta={"target-role": "Stopped"}) + "</group>"
              '<group id="g2">' + prim("b") + "</group>")
    order = '<rsc_order id="o" first="g1" then="g2" symmetrical="false"/>'
    assert folded(run(cib(groups, both_online(), order))) == [
        "* Start b ( node1 ) due to unrunnable g1 running (blocked)"]
    # Once the member may start, so may the group ordered after it.
    groups = groups.replace('value="Stopped"', 'value="Started"')
    assert folded(run(cib(groups, both_online(), order))) == ["* Start a ( node1 )", "* Start b ( node2 )"]


def pending_node(joined_seconds_ago: int) -> str:
    return f'<node_state id="node2" uname="node2" in_ccm="{int(NOW) - joined_seconds_ago}" crmd="0"/>'


def test_node_pending_past_the_timeout_is_fenced():
    fencing = '<primitive id="fence" class="stonith" type="fence_dummy"/>'
    options = {"stonith-enabled": "true", "node-pending-timeout": "5min"}
    late = run(cib(fencing, node_state("node1") + pending_node(301), options=options))
    assert folded(late) == ["* Fence (reboot) node2 'peer pending timed out on joining the process group'",
                            "* Start fence ( node1 )"]
    # Within the timeout the node is only pending: nothing may run there, so the start waits for its probe.
    early = run(cib(fencing, node_state("node1") + pending_node(100), options=options))
    assert folded(early) == ["* Start fence ( node1 ) blocked"]
    assert early.state.nodes["node2"].pending and not early.state.nodes["node2"].unclean
