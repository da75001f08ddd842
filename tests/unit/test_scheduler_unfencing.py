"""Unfencing: with a device that provides it, a node is unfenced ("on") before it runs anything.

Both summaries are also scheduler cases (tests/scheduler_cases/xml/unfencing-*.xml) where crm_simulate prints
the same; these tests check the fencing actions in the graph.
"""

from __future__ import annotations

from tests.support.cibs import cib, folded, node_state, prim, run

DEVICE = ('<primitive id="fence1" class="stonith" type="fence_paceline">'
          '<meta_attributes id="fence1-meta"><nvpair id="fence1-p" name="provides" value="unfencing"/>'
          '</meta_attributes></primitive>')
FENCING = {"stonith-enabled": "true"}


def test_nodes_never_unfenced_are_unfenced_before_probes_and_starts():
    result = run(cib(DEVICE + prim("r1"), node_state("node1") + node_state("node2"), options=FENCING))
    assert folded(result) == ["* Fence (on) node2 'required by fence1 monitor'",
                              "* Fence (on) node1 'required by fence1 monitor'",
                              "* Start fence1 ( node1 )", "* Start r1 ( node2 )"]
    unfence = {a.node: a for a in result.graph.actions if a.task == "stonith"}
    assert {a.meta["fencing-action"] for a in unfence.values()} == {"on"}
    r1_start = next(a for a in result.graph.actions if a.rsc == "r1" and a.task == "start")
    assert unfence["node2"].id in r1_start.inputs


def test_nodes_already_unfenced_are_not_unfenced_again():
    done = {"#node-unfenced": "1700000000"}
    status = node_state("node1", attrs=done) + node_state("node2", attrs=done)
    result = run(cib(DEVICE + prim("r1"), status, options=FENCING))
    assert folded(result) == ["* Start fence1 ( node1 )", "* Start r1 ( node2 )"]
    assert not [a for a in result.graph.actions if a.task == "stonith"]
