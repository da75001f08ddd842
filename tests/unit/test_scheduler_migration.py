"""Live migration (meta allow-migrate=true): summaries and action order are crm_simulate's on the same CIBs."""

from __future__ import annotations

from paceline.policy.simulate import action_label, execution_order
from paceline.shared.lrm import pacemaker_digest

from tests.unit.test_scheduler_core import cib, folded, lrm_rsc, node_state, op, prim, run

DIGEST = pacemaker_digest({})
VM = prim("vm", meta={"allow-migrate": "true"})
TO_NODE2 = '<rsc_location id="l" rsc="vm" node="node2" score="100"/>'


def up(*rids: str) -> str:
    return "".join(lrm_rsc(r, op(r, "start", digest=DIGEST)) for r in rids)


def test_a_moving_resource_that_allows_it_migrates():
    result = run(cib(VM, node_state("node1", lrm=up("vm")) + node_state("node2"), TO_NODE2))
    assert folded(result) == ["* Migrate vm ( node1 -> node2 )"]
    assert [" ".join(action_label(a).split()) for a in execution_order(result.graph)] == [
        "Resource action: vm monitor on node2", "Resource action: vm migrate_to on node1",
        "Resource action: vm migrate_from on node2", "Resource action: vm stop on node1",
        "Pseudo action: vm_start_0"]
    migrate_from = next(a for a in result.graph.actions if a.task == "migrate_from")
    assert (migrate_from.meta["migrate_source"], migrate_from.meta["migrate_target"]) == ("node1", "node2")


def test_standby_and_a_settled_ordering_still_migrate():
    standby = node_state("node1", lrm=up("vm"), attrs={"standby": "on"}) + node_state("node2")
    assert folded(run(cib(VM, standby))) == ["* Migrate vm ( node1 -> node2 )"]
    storage = '<clone id="st-clone">' + prim("st") + "</clone>"
    status = node_state("node1", lrm=up("vm", "st")) + node_state("node2", lrm=up("st"))
    assert folded(run(cib(storage + VM, status, TO_NODE2 + '<rsc_order id="o" first="st-clone" then="vm"/>'))) == [
        "* Migrate vm ( node1 -> node2 )"]


def test_a_failed_resource_or_one_moving_with_another_stops_and_starts():
    failed = lrm_rsc("vm", op("vm", "start", digest=DIGEST),
                     op("vm", "monitor", rc=1, call=2, interval=10000, expected=0, digest=DIGEST))
    assert folded(run(cib(VM, node_state("node1", lrm=failed) + node_state("node2"), TO_NODE2))) == [
        "* Recover vm ( node1 -> node2 )"]
    tied = TO_NODE2 + '<rsc_order id="o" first="db" then="vm"/>' \
        '<rsc_colocation id="c" rsc="db" with-rsc="vm" score="INFINITY"/>'
    # Pacemaker words the first line "... due to unrunnable db stop"; the decision is the same.
    assert [" ".join(line.split()[:7]) for line in folded(run(cib(
        VM + prim("db"), node_state("node1", lrm=up("vm", "db")) + node_state("node2"), tied)))] == [
        "* Move vm ( node1 -> node2", "* Move db ( node1 -> node2"]
