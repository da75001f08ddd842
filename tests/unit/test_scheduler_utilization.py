"""placement-strategy and utilization: node capacities limit what is placed where (summaries are crm_simulate's)."""

from __future__ import annotations

from paceline.shared.lrm import pacemaker_digest

from tests.unit.test_scheduler_core import both_online, cib, folded, lrm_rsc, node_state, op, prim, run

STICKY = '<rsc_defaults><meta_attributes id="rd"><nvpair id="rd-s" name="resource-stickiness" value="100"/>' \
    '</meta_attributes></rsc_defaults>'


def needs(rid: str, meta: dict[str, str] | None = None, **amounts: int) -> str:
    body = "".join(f'<nvpair id="{rid}-u-{k}" name="{k}" value="{v}"/>' for k, v in amounts.items())
    return prim(rid, meta=meta).replace("</primitive>", f'<utilization id="{rid}-u">{body}</utilization></primitive>')


def cluster(strategy: str, resources: str, capacities: dict[str, dict[str, int]], status: str | None = None,
            extra: str = "") -> str:
    xml = cib(resources, status or both_online(), options={"placement-strategy": strategy}, extra_config=extra)
    for node, caps in capacities.items():
        body = "".join(f'<nvpair id="{node}-u-{k}" name="{k}" value="{v}"/>' for k, v in caps.items())
        xml = xml.replace(f'<node id="{node}" uname="{node}"></node>',
                          f'<node id="{node}" uname="{node}"><utilization id="{node}-u">{body}</utilization></node>')
    return xml


def running(*rids: str) -> str:
    return "".join(lrm_rsc(r, op(r, "start", digest=pacemaker_digest({}))) for r in rids)


FIVE = "".join(needs(r, cpu=1) for r in "ABCDE")


def test_what_does_not_fit_is_not_started():
    two_each = {"node1": {"cpu": 2}, "node2": {"cpu": 2}}
    assert folded(run(cluster("utilization", FIVE, two_each))) == [
        "* Start A ( node1 )", "* Start B ( node2 )", "* Start C ( node1 )", "* Start D ( node2 )"]
    # With the default strategy, utilization is only information.
    assert len(folded(run(cluster("default", FIVE, {"node1": {"cpu": 1}, "node2": {"cpu": 1}})))) == 5


def test_balanced_prefers_the_node_with_more_left_and_minimal_packs():
    assert folded(run(cluster("balanced", FIVE, {"node1": {"cpu": 4}, "node2": {"cpu": 2}}))) == [
        "* Start A ( node1 )", "* Start B ( node1 )", "* Start C ( node2 )", "* Start D ( node1 )",
        "* Start E ( node2 )"]
    assert folded(run(cluster("minimal", FIVE, {"node1": {"cpu": 3}, "node2": {"cpu": 3}}))) == [
        "* Start A ( node1 )", "* Start B ( node1 )", "* Start C ( node1 )", "* Start D ( node2 )",
        "* Start E ( node2 )"]
    mixed = "".join(needs(r, cpu=1, mem=m) for r, m in zip("ABCD", (4, 1, 1, 1), strict=True))
    assert folded(run(cluster("balanced", mixed, {"node1": {"cpu": 4, "mem": 8}, "node2": {"cpu": 4, "mem": 4}}))) \
        == ["* Start A ( node1 )", "* Start B ( node2 )", "* Start C ( node1 )", "* Start D ( node2 )"]


def test_a_group_needs_room_for_all_its_members_on_one_node():
    group = '<group id="G">' + needs("A", cpu=2) + needs("B", cpu=2) + "</group>" + needs("C", cpu=3)
    assert folded(run(cluster("utilization", group, {"node1": {"cpu": 4}, "node2": {"cpu": 3}}))) == [
        "* Start A ( node1 )", "* Start B ( node1 )", "* Start C ( node2 )"]


def test_shrinking_capacity_moves_what_no_longer_fits():
    status = node_state("node1", lrm=running("A", "B", "C")) + node_state("node2")
    three = "".join(needs(r, cpu=1) for r in "ABC")
    assert folded(run(cluster("utilization", three, {"node1": {"cpu": 2}, "node2": {"cpu": 2}}, status,
                              STICKY))) == ["* Move C ( node1 -> node2 )"]
    sizes = needs("A", cpu=1) + needs("B", cpu=2) + needs("C", meta={"priority": "10"}, cpu=1)
    assert folded(run(cluster("balanced", sizes, {"node1": {"cpu": 3}, "node2": {"cpu": 2}}, status, STICKY))) == [
        "* Move B ( node1 -> node2 )"]
    assert folded(run(cluster("utilization", sizes, {"node1": {"cpu": 3}, "node2": {"cpu": 1}}))) == [
        "* Start C ( node1 )", "* Start A ( node2 )", "* Start B ( node1 )"]
