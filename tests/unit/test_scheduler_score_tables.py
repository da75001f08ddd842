"""Allocation score tables as ``crm_simulate -s`` prints them, for rules whose only visible effect may be a score:
a group that is not collocated, optional colocations with a clone's instances one by one, exclusive discovery
on a clone's own table, and promotion scores on a cloned group's instances."""

from __future__ import annotations

from tests.support.cibs import both_online, cib, node_state, nvpairs, prim, run


def _lines(xml: str, prefix: str, rid: str) -> dict[str, str]:
    """node -> score of one resource's table under one heading."""
    out = {}
    for line in run(xml).score_dump.lines():
        if line.startswith(f"{prefix}: {rid} allocation score on "):
            node, score = line.rsplit(" on ", 1)[1].split(": ")
            out[node] = score
    return out


def test_members_of_a_group_that_is_not_collocated_are_placed_alone():
    group = ('<group id="g"><meta_attributes id="gm">' + nvpairs("gm", {"collocated": "false"}) +
             "</meta_attributes>" + prim("a") + prim("b") + "</group>")
    cons = '<rsc_location id="a-1" rsc="a" node="node1" score="200"/>'
    xml = cib(group, both_online(), cons)
    assert _lines(xml, "pcmk__primitive_assign", "a") == {"node1": "200", "node2": "0"}    # b does not weigh in
    assert _lines(xml, "pcmk__primitive_assign", "b") == {"node1": "0", "node2": "0"}      # nor follows a


def test_an_optional_colocation_with_a_clone_counts_every_instance_placed_or_not():
    # Three instances, two nodes: one instance stays unplaced and takes the score off every node again.
    clone = ('<clone id="d-clone"><meta_attributes id="cm">' + nvpairs("cm", {"clone-max": "3"}) +
             "</meta_attributes>" + prim("d") + "</clone>")
    cons = '<rsc_colocation id="web-with-d" rsc="web" with-rsc="d-clone" score="100"/>'
    xml = cib(clone + prim("web"), both_online(), cons)
    assert _lines(xml, "pcmk__primitive_assign", "web") == {"node1": "0", "node2": "0"}


def test_exclusive_discovery_bans_the_other_nodes_from_the_clone_itself():
    clone = '<clone id="d-clone">' + prim("d") + "</clone>"
    cons = '<rsc_location id="only-1" rsc="d-clone" node="node1" score="0" resource-discovery="exclusive"/>'
    xml = cib(clone, both_online(), cons)
    assert _lines(xml, "pcmk__clone_assign", "d-clone") == {"node1": "0", "node2": "-INFINITY"}


def test_a_cloned_group_instance_is_drawn_by_the_sum_of_its_members_promotion_scores():
    clone = ('<clone id="g-clone"><meta_attributes id="cm">' + nvpairs("cm", {"promotable": "true"}) +
             '</meta_attributes><group id="g">' + prim("a") + prim("b") + "</group></clone>")
    attrs = {"master-a": "10", "master-b": "5"}
    status = node_state("node1", attrs=attrs) + node_state("node2")
    xml = cib(clone, status)
    assert _lines(xml, "pcmk__clone_assign", "g:0")["node1"] == "15"
    assert _lines(xml, "pcmk__group_assign", "g:0")["node1"] == "15"
