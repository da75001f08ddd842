"""What keeps a start from running: a node that never finished joining.

(A group that cannot start blocks what is ordered after it: the cases tests/scheduler_cases/xml/blocking-*.xml.)
"""

from __future__ import annotations

from tests.support.cibs import NOW, cib, folded, node_state, run


def pending_node(joined_seconds_ago: int) -> str:
    return f'<node_state id="node2" uname="node2" in_ccm="{int(NOW) - joined_seconds_ago}" crmd="0"/>'


def test_node_pending_past_the_timeout_is_fenced():
    # Not a case: crm_simulate 2.1.5 predates node-pending-timeout (Pacemaker 2.1.7) and only starts the device.
    fencing = '<primitive id="fence" class="stonith" type="fence_dummy"/>'
    options = {"stonith-enabled": "true", "node-pending-timeout": "5min"}
    late = run(cib(fencing, node_state("node1") + pending_node(301), options=options))
    assert folded(late) == ["* Fence (reboot) node2 'peer pending timed out on joining the process group'",
                            "* Start fence ( node1 )"]
    # Within the timeout the node is only pending: nothing may run there, so the start waits for its probe.
    early = run(cib(fencing, node_state("node1") + pending_node(100), options=options))
    assert folded(early) == ["* Start fence ( node1 ) blocked"]
    assert early.state.nodes["node2"].pending and not early.state.nodes["node2"].unclean
