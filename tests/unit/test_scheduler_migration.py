"""Live migration (meta allow-migrate=true): summaries and action order are crm_simulate's on the same CIBs.

The summaries are scheduler cases (tests/scheduler_cases/xml/migration-*.xml), with the migration CIBs whose
summary is all there is to check.
"""

from __future__ import annotations

from paceline.policy.simulate import action_label, execution_order

from tests.support.cibs import cib, folded, node_state, prim, run, up

VM = prim("vm", meta={"allow-migrate": "true"})
TO_NODE2 = '<rsc_location id="l" rsc="vm" node="node2" score="100"/>'


def test_a_moving_resource_that_allows_it_migrates():
    result = run(cib(VM, node_state("node1", lrm=up("vm")) + node_state("node2"), TO_NODE2))
    assert folded(result) == ["* Migrate vm ( node1 -> node2 )"]
    assert [" ".join(action_label(a).split()) for a in execution_order(result.graph)] == [
        "Resource action: vm monitor on node2", "Resource action: vm migrate_to on node1",
        "Resource action: vm migrate_from on node2", "Resource action: vm stop on node1",
        "Pseudo action: vm_start_0"]
    migrate_from = next(a for a in result.graph.actions if a.task == "migrate_from")
    assert (migrate_from.meta["migrate_source"], migrate_from.meta["migrate_target"]) == ("node1", "node2")


def test_a_resource_moving_with_another_stops_and_starts():
    # Not a case: Pacemaker words the first line "... due to unrunnable db stop"; the decision is the same.
    # A failed resource also stops and starts: the case migration-failed-recovers.
    tied = TO_NODE2 + '<rsc_order id="o" first="db" then="vm"/>' \
        '<rsc_colocation id="c" rsc="db" with-rsc="vm" score="INFINITY"/>'
    assert [" ".join(line.split()[:7]) for line in folded(run(cib(
        VM + prim("db"), node_state("node1", lrm=up("vm", "db")) + node_state("node2"), tied)))] == [
        "* Move vm ( node1 -> node2", "* Move db ( node1 -> node2"]
