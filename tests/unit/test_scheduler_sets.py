"""Resource sets and tags in colocations and orderings (every expected summary is crm_simulate 2.1.5's)."""

from __future__ import annotations

from tests.unit.test_scheduler_core import both_online, cib, folded, prim, run

FIVE = "".join(prim(r) for r in "ABCDE")


def constraint(tag: str, attrs: str, *sets: tuple[str, str]) -> str:
    """``sets``: (members, extra set attributes) each."""
    body = "".join(f'<resource_set id="s{i}" {extra}>' + "".join(f'<resource_ref id="{m}"/>' for m in members)
                   + "</resource_set>" for i, (members, extra) in enumerate(sets))
    return f'<{tag} id="c" {attrs}>{body}</{tag}>'


def colocation(*sets: tuple[str, str], score: str = "INFINITY") -> str:
    return constraint("rsc_colocation", f'score="{score}"', *sets)


def order(*sets: tuple[str, str]) -> str:
    return constraint("rsc_order", 'kind="Mandatory"', *sets)


def banned(rsc: str) -> str:
    return "".join(f'<rsc_location id="ban-{rsc}-{n}" rsc="{rsc}" node="{n}" score="-INFINITY"/>'
                   for n in ("node1", "node2"))


def placed(result) -> dict[str, str | None]:
    return {r.id: r.assigned for r in result.state.resources}


def test_a_colocation_set_chains_each_member_with_the_one_before_it():
    prefs = '<rsc_location id="la" rsc="A" node="node1" score="200"/>' \
            '<rsc_location id="lc" rsc="C" node="node2" score="100"/>'
    result = run(cib(FIVE, both_online(), colocation(("ABC", "")) + prefs))
    assert [placed(result)[r] for r in "ABC"] == ["node1"] * 3       # A leads: B with A, C with B
    stronger_c = prefs.replace('"200"', '"50"')
    assert [placed(run(cib(FIVE, both_online(), colocation(("ABC", "")) + stronger_c)))[r] for r in "ABC"] == \
        ["node2"] * 3                                                   # C's preference reaches A through the chain


def test_between_sets_the_earlier_set_goes_with_the_later_one():
    prefs = '<rsc_location id="la" rsc="A" node="node1" score="100"/>' \
            '<rsc_location id="lc" rsc="C" node="node2" score="200"/>'
    assert [placed(run(cib(FIVE, both_online(), colocation(("A", ""), ("C", "")) + prefs)))[r] for r in "AC"] == \
        ["node2", "node2"]                                              # A with C
    # -INFINITY: D apart from C (inside the second set), A apart from D (first member with last), B apart from A.
    result = run(cib(FIVE, both_online(), colocation(("AB", ""), ("CD", ""), score="-INFINITY")))
    where = placed(result)
    assert where["D"] != where["C"] and where["A"] != where["D"] and where["B"] != where["A"]
    assert where["B"] == where["D"]


def test_a_set_that_is_not_sequential_is_not_colocated_within():
    result = run(cib(FIVE, both_online(), colocation(("ABC", 'sequential="false"'))))
    assert len({placed(result)[r] for r in "ABC"}) == 2                  # spread by balance, nothing holds them


def test_an_order_set_chains_its_members_and_a_blocked_one_blocks_the_rest():
    assert folded(run(cib(FIVE, both_online(), order(("ABC", "")) + banned("A")))) == [
        "* Start B ( node1 ) due to unrunnable A start (blocked)",
        "* Start C ( node2 ) due to unrunnable B start (blocked)", "* Start D ( node1 )", "* Start E ( node2 )"]
    assert folded(run(cib(FIVE, both_online(), order(("ABC", 'sequential="false"')) + banned("A")))) == [
        "* Start B ( node1 )", "* Start C ( node2 )", "* Start D ( node1 )", "* Start E ( node2 )"]


def test_between_order_sets_every_member_waits_unless_sequential_is_written():
    assert folded(run(cib(FIVE, both_online(), order(("AB", ""), ("CD", "")) + banned("A")))) == [
        "* Start B ( node1 ) due to unrunnable A start (blocked)",
        "* Start C ( node2 ) due to unrunnable A start (blocked)",
        "* Start D ( node1 ) due to unrunnable A start (blocked)", "* Start E ( node2 )"]
    written = order(("AB", 'sequential="true"'), ("CD", 'sequential="true"'))
    assert folded(run(cib(FIVE, both_online(), written + banned("A")))) == [
        "* Start B ( node1 ) due to unrunnable A start (blocked)",
        "* Start C ( node2 ) due to unrunnable B start (blocked)",
        "* Start D ( node1 ) due to unrunnable C start (blocked)", "* Start E ( node2 )"]


def test_require_all_false_needs_any_one_member():
    any_of = order(("AB", 'sequential="false" require-all="false"'), ("CD", ""))
    assert folded(run(cib(FIVE, both_online(), any_of + banned("B")))) == [
        "* Start A ( node1 )", "* Start C ( node2 )", "* Start D ( node1 )", "* Start E ( node2 )"]
    assert folded(run(cib(FIVE, both_online(), any_of + banned("A") + banned("B")))) == [
        "* Start C ( node1 ) due to unrunnable one-or-more:s0 (blocked)",
        "* Start D ( node2 ) due to unrunnable one-or-more:s0 (blocked)", "* Start E ( node1 )"]


def test_a_tag_stands_for_the_resources_it_names():
    tags = '<tags><tag id="t"><obj_ref id="A"/><obj_ref id="B"/></tag></tags>'
    cons = '<rsc_colocation id="c" rsc="t" with-rsc="C" score="INFINITY"/><rsc_order id="o" first="C" then="t"/>' \
        + banned("C")
    assert folded(run(cib(FIVE, both_online(), cons, extra_config=tags))) == [
        "* Start D ( node1 )", "* Start E ( node2 )"]


def test_a_location_on_a_tag_holds_for_each_tagged_resource():
    tags = '<tags><tag id="t"><obj_ref id="A"/><obj_ref id="B"/></tag></tags>'
    away = '<rsc_location id="l" rsc="t" node="node1" score="-INFINITY"/>'
    where = placed(run(cib(FIVE, both_online(), away, extra_config=tags)))
    assert where["A"] == where["B"] == "node2"
