"""Shutdown locks: a resource of a cleanly stopped node waits for it (until shutdown-lock-limit).

The summaries of these CIBs are also scheduler cases (tests/scheduler_cases/xml/lock-*.xml), checked
against crm_simulate; here is what else a lock decides: the status line, the DC's next recheck, the lock's node.
"""

from __future__ import annotations

from paceline.policy.recheck import EXPIRY_MARGIN, next_recheck
from paceline.shared.cluster import render_status

from tests.support.cibs import NOW, cib, folded, node_state, prim, run

LOCKED_AT = int(NOW)


def history(rsc: str, lock: int | None, last: str = "stop") -> str:
    """A resource that ran on the node and was stopped by its shutdown (``lock``: when)."""
    attr = f' shutdown-lock="{lock}"' if lock is not None else ""
    ops = (f'<lrm_rsc_op id="{rsc}_last_0" operation="{last}" interval="0" rc-code="0" op-status="0" '
           f'call-id="2" transition-key="1:1:0:t"/>')
    return f'<lrm_resource id="{rsc}" class="ocf" provider="heartbeat" type="Dummy"{attr}>{ops}</lrm_resource>'


def cluster(node2_online: bool, node2_lrm: str, limit: str | None = None, lock: bool = True,
            node2_attrs: dict[str, str] | None = None) -> str:
    """r1 on two nodes; node2 (online or cleanly down) has r1's history ``node2_lrm``."""
    options = {"shutdown-lock": "true"} if lock else {}
    if limit:
        options["shutdown-lock-limit"] = limit
    status = node_state("node1") + node_state("node2", online=node2_online, lrm=node2_lrm, attrs=node2_attrs)
    return cib(prim("r1"), status, options=options)


def test_locked_resource_waits_for_its_node_and_says_so():
    result = run(cluster(False, history("r1", LOCKED_AT - 60)))
    assert folded(result) == []
    assert any(" ".join(line.split()).endswith("Stopped node2 (LOCKED)") for line in render_status(result.state))


def test_lock_expires_after_the_limit_and_the_dc_plans_for_that_moment():
    # The expired lock (locked 400 s ago, limit 5min) is the case lock-expired.
    fresh = run(cluster(False, history("r1", LOCKED_AT - 60), limit="5min"))
    assert folded(fresh) == []
    assert next_recheck(fresh.state, NOW) == 240 + EXPIRY_MARGIN


def test_a_node_shutting_down_keeps_its_resources_locked_to_it():
    result = run(cluster(True, history("r1", None, last="start"), node2_attrs={"shutdown": str(LOCKED_AT - 5)}))
    assert folded(result) == ["* Stop r1 ( node2 ) due to node availability"]
    assert result.state.by_id["r1"].status.lock_node == "node2"
