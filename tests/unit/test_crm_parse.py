"""The configure objects are read into XML first (no CIB), then applied (ids, references, placement)."""

from __future__ import annotations

import pytest
from lxml import etree
from paceline.crm import Context, CrmError, execute, parse, parse_constraints
from paceline.crm.ids import generate
from paceline.crm.words import Words
from paceline.shared import cib

CTX = Context(local_node="primary")


def words(command: str, line: str) -> Words:
    return Words(f"configure {command}", line.split())


def xml(el: etree._Element) -> str:
    return etree.tostring(el, encoding="unicode")


def test_a_primitive_is_read_without_a_cib_with_its_generated_ids_left_empty() -> None:
    d = parse.primitive(words("primitive", "p Dummy meta a=1 op monitor interval=10s x=1 op_meta m=2 "
                                           "params $id=own b=2 b=3"))
    assert xml(d.element) == (
        '<primitive id="p" class="ocf" provider="heartbeat" type="Dummy">'
        '<meta_attributes id=""><nvpair id="" name="a" value="1"/></meta_attributes>'
        '<operations><op id="" name="monitor" interval="10s">'
        '<instance_attributes id=""><nvpair id="" name="x" value="1"/></instance_attributes>'
        '<meta_attributes id=""><nvpair id="" name="m" value="2"/></meta_attributes></op></operations>'
        '<instance_attributes id="own"><nvpair id="" name="b" value="3"/></instance_attributes></primitive>')
    assert d.refs == []


def test_applying_generates_crmsh_ids_unique_in_the_cib() -> None:
    root = cib.empty()
    execute(root, "configure primitive q Dummy params $id=p-meta_attributes z=1", CTX)
    d = parse.primitive(words("primitive", "p Dummy meta a=1 op monitor interval=10s x=1 params $id=own b=2"))
    cib.section(root, "resources").append(d.element)
    generate(root, d.element)
    assert [el.get("id") for el in d.element.iter() if el.get("id") is not None] == [
        "p", "p-meta_attributes-0", "p-meta_attributes-0-a", "p-monitor-10s", "p-monitor-10s-instance_attributes",
        "p-monitor-10s-instance_attributes-x", "own", "own-b"]


def test_constraints_name_their_references_in_the_order_typed() -> None:
    d = parse_constraints.order(words("order", "o Mandatory: a ( b c ) [ d e ] symmetrical=false"))
    assert d.refs == ["a", "b", "c", "d", "e"]
    assert [s.get("id") for s in d.element.iterfind("resource_set")] == [None, None, None]
    loc = parse_constraints.location(words("location", "l g rule $id=r inf: #uname eq n1 and pingd gt 3"))
    assert loc.refs == ["g"]
    rule = loc.element.find("rule")
    assert rule is not None and rule.get("id") == "r" and [e.get("id") for e in rule] == ["", ""]


def test_option_sets_nodes_and_tags_are_whole_objects() -> None:
    prop = parse.property_set(words("property", "$id=extra a=1 a=2 no-such=1"))
    assert xml(prop.element) == ('<cluster_property_set id="extra"><nvpair id="" name="a" value="2"/>'
                                 '<nvpair id="" name="no-such" value="1"/></cluster_property_set>')
    assert prop.section == "crm_config" and len(prop.notes) == 3   # a, a again, no-such: as typed
    node = parse.node(words("node", "1: n1 attributes site=a"))
    assert xml(node.element) == ('<node id="1" uname="n1"><instance_attributes id="n1-instance_attributes">'
                                 '<nvpair id="n1-instance_attributes-site" name="site" value="a"/>'
                                 '</instance_attributes></node>')   # crmsh names a node's sets after its name
    tag = parse.tag(words("tag", "t: a b"))
    assert tag.refs == ["a", "b"] and [r.get("id") for r in tag.element] == ["a", "b"]


@pytest.mark.parametrize(("line", "message"), [
    ("configure primitive a Dummy params", "params needs name=value pairs"),   # 'a' is taken too
    ("configure location l zz abc: primary", "bad score 'abc'"),               # 'zz' does not exist either
    ("configure group g zz meta", "meta needs name=value pairs"),
])
def test_the_whole_line_is_read_before_the_cib_is_consulted(line: str, message: str) -> None:
    root = cib.empty(["primary"])
    execute(root, "configure primitive a Dummy", CTX)
    with pytest.raises(CrmError, match=message):
        execute(root, line, CTX)


def test_reading_needs_no_cib_and_applying_checks_it() -> None:
    root = cib.empty(["primary"])
    with pytest.raises(CrmError, match="no resource or tag 'zz'"):
        execute(root, "configure colocation c inf: zz yy", CTX)
    assert parse_constraints.colocation(words("colocation", "c inf: zz yy")).refs == ["zz", "yy"]
