"""crmsh 4.4's conventions in the crm language: ``monitor RSC[:ROLE]``, ``node`` updating an existing node with
crmsh's ids, and rules written without the default ``boolean-op``.

The expected XML is what Debian's crmsh 4.4 wrote for the same lines (``CIB_file=x.xml crm configure ...``);
tests/test_crmsh_reference.py replays them against crmsh itself where it is installed.
"""

from __future__ import annotations

import pytest
from lxml import etree
from paceline.crm import CrmError, execute
from paceline.shared import cib

from tests.support.crm import CTX, found


@pytest.fixture
def root() -> etree._Element:
    base = cib.empty(["primary", "secondary"])
    execute(base, "configure primitive r1 ocf:heartbeat:Dummy", CTX)
    return base


def run(root: etree._Element, *lines: str) -> None:
    for line in lines:
        execute(root, f"configure {line}", CTX)


def pairs(el: etree._Element) -> list[tuple[str, str, str]]:
    return [(nv.get("id", ""), nv.get("name", ""), nv.get("value", "")) for nv in el.iterfind("nvpair")]


def test_monitor_with_a_role_and_a_timeout(root) -> None:
    run(root, "monitor r1:Started 10s:20s", "monitor r1 30s", "monitor r1:Master 11s")
    ops = [dict(op.attrib) for op in found(root, "r1").iterfind("operations/op")]
    assert ops == [
        {"id": "r1-monitor-10s", "name": "monitor", "role": "Started", "interval": "10s", "timeout": "20s"},
        {"id": "r1-monitor-30s", "name": "monitor", "interval": "30s"},
        {"id": "r1-monitor-11s", "name": "monitor", "role": "Master", "interval": "11s"},
    ]


@pytest.mark.parametrize(("line", "message"), [
    ("monitor r1:Slave 10000ms", "r1 already has a monitor op with interval 10000ms"),
    ("monitor r1:Bogus 12s", "unexpected 'Bogus', expected a role"),
    ("monitor r1 abc", "bad interval 'abc'"),
    ("monitor r1 5s:soon", "bad timeout 'soon'"),
    ("monitor nosuch 10s", "no primitive 'nosuch'"),
    ("monitor :Started 10s", "expected RSC"),
])
def test_monitor_refusals_change_nothing(root, line: str, message: str) -> None:
    run(root, "monitor r1 10s")
    before = cib.serialize(root)
    with pytest.raises(CrmError, match=message):
        run(root, line)
    assert cib.serialize(root) == before


def test_node_update_merges_with_crmsh_ids(root) -> None:
    run(root, "node primary attributes foo=bar utilization cpu=2", "node primary attributes baz=1",
        "node primary attributes foo=changed qux=3", "node secondary utilization cpu=4",
        "node secondary utilization cpu=8 mem=1", "node secondary attributes x=1",
        "node secondary:member attributes y=2")
    primary, secondary = found(root, "1"), found(root, "2")
    assert [c.tag for c in primary] == ["instance_attributes", "utilization"]
    assert primary[0].get("id") == "primary-instance_attributes"
    assert pairs(primary[0]) == [("primary-instance_attributes-foo", "foo", "changed"),
                                 ("primary-instance_attributes-0-baz", "baz", "1"),
                                 ("primary-instance_attributes-0-qux", "qux", "3")]
    assert pairs(primary[1]) == [("primary-utilization-cpu", "cpu", "2")]
    assert [(c.tag, c.get("id")) for c in secondary] == [("utilization", "secondary-utilization"),
                                                         ("instance_attributes", "secondary-instance_attributes")]
    assert pairs(secondary[0]) == [("secondary-utilization-cpu", "cpu", "8"),
                                   ("secondary-utilization-0-mem", "mem", "1")]
    assert pairs(secondary[1]) == [("secondary-instance_attributes-x", "x", "1"),
                                   ("secondary-instance_attributes-0-y", "y", "2")]


def test_new_node_sets_are_named_after_the_node_name(root) -> None:
    run(root, "node $id=5 n5 attributes a=1", "node n5 attributes b=2")
    node = found(root, "5")
    assert node.get("uname") == "n5"
    assert pairs(node[0]) == [("n5-instance_attributes-a", "a", "1"), ("n5-instance_attributes-0-b", "b", "2")]


def test_node_update_refuses_another_id(root) -> None:
    before = cib.serialize(root)
    with pytest.raises(CrmError, match="node 'secondary' already exists with id '2'"):
        run(root, "node $id=9 secondary attributes q=1")
    assert cib.serialize(root) == before


@pytest.mark.parametrize(("rule", "boolean_op"), [
    ("100: #uname eq n1 and pingd gt 0", None),
    ("10: a eq 1 and b eq 2 and c eq 3", None),
    ("10: a eq 1", None),
    ("50: #uname eq n1 or pingd gt 0", "or"),
    ("-inf: not_defined pingd or pingd lte 0", "or"),
])
def test_rules_carry_boolean_op_only_when_it_is_or(root, rule: str, boolean_op: str | None) -> None:
    run(root, f"location l1 r1 rule {rule}")
    written = found(root, "l1-rule")
    assert written.get("boolean-op") == boolean_op
    shown = execute(root, "configure show l1", CTX).output
    assert rule.split(": ", 1)[1] in shown
