"""configure: resources, constraints, options, tags, delete/rename, show and verify."""

from __future__ import annotations

import pytest
from lxml import etree
from paceline.crm import AgentMeta, Context, CrmError, execute, execute_script
from paceline.shared import cib

from tests.support.crm import CTX, found, found_rsc


@pytest.fixture
def root() -> etree._Element:
    return cib.empty(["primary", "secondary"])


def run(root: etree._Element, *lines: str) -> str:
    out = ""
    for line in lines:
        out = execute(root, line if line.startswith(("configure", "node", "resource")) else f"configure {line}",
                      CTX).output
    return out


def xml(el: etree._Element | None) -> str:
    assert el is not None
    return etree.tostring(el, encoding="unicode")


def attrs(root: etree._Element, ident: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in found(root, ident).attrib.items()}


# ---------------------------------------------------------------- primitive

def test_primitive_parts_keep_typed_order_and_crmsh_ids(root) -> None:
    run(root, "primitive p ocf:pacemaker:Dummy meta a=1 op monitor interval=10s timeout=20s params x=2 "
              "utilization cpu=1 op start timeout=9s")
    prim = found_rsc(root, "p")
    assert [c.tag for c in prim] == ["meta_attributes", "operations", "instance_attributes", "utilization"]
    assert attrs(root, "p") == {"id": "p", "class": "ocf", "provider": "pacemaker", "type": "Dummy"}
    assert attrs(root, "p-meta_attributes-a")["value"] == "1"
    assert attrs(root, "p-instance_attributes-x")["value"] == "2"
    assert attrs(root, "p-utilization-cpu")["value"] == "1"
    assert attrs(root, "p-monitor-10s") == {"id": "p-monitor-10s", "name": "monitor", "interval": "10s",
                                            "timeout": "20s"}
    assert attrs(root, "p-start-0")["interval"] == "0"


def test_primitive_short_agent_and_other_classes(root) -> None:
    run(root, "primitive a Dummy", "primitive b lsb:nginx", "primitive c systemd:sshd", "primitive f stonith:fence_x")
    assert attrs(root, "a")["provider"] == "heartbeat"
    assert attrs(root, "b") == {"id": "b", "class": "lsb", "type": "nginx"}
    assert attrs(root, "f")["class"] == "stonith"


def test_op_parameters_and_op_meta(root) -> None:
    run(root, "primitive p Dummy op monitor interval=30s OCF_CHECK_LEVEL=10 op_meta record-pending=true "
              "op stop interval=0s on-fail=block")
    assert attrs(root, "p-monitor-30s-instance_attributes-OCF_CHECK_LEVEL")["value"] == "10"
    assert attrs(root, "p-monitor-30s-meta_attributes-record-pending")["value"] == "true"
    assert attrs(root, "p-stop-0s")["on-fail"] == "block"


def test_monitor_command_adds_an_op(root) -> None:
    run(root, "primitive p Dummy", "monitor p 15s:30s")
    assert attrs(root, "p-monitor-15s") == {"id": "p-monitor-15s", "name": "monitor", "interval": "15s",
                                            "timeout": "30s"}
    with pytest.raises(CrmError, match="no primitive 'q'"):
        run(root, "monitor q 10s")


@pytest.mark.parametrize(("line", "message"), [
    ("primitive p foo:Dummy", "unknown resource agent class 'foo'"),
    ("primitive p ocf:Dummy", "class ocf needs a provider"),
    ("primitive p lsb:x:y", "class lsb takes no provider"),
    ("primitive p Dummy parms x=1", "unexpected 'parms', expected params, meta, utilization or op"),
    ("primitive p Dummy params", "params needs name=value pairs"),
    ("primitive p", "missing resource agent"),
    ("primitive 1p Dummy", "'1p' is not a valid id"),
    ("primitive p Dummy op", "missing operation name"),
])
def test_primitive_errors(root, line: str, message: str) -> None:
    before = xml(root)
    with pytest.raises(CrmError, match=message) as err:
        run(root, line)
    assert str(err.value).startswith("configure primitive: ")
    assert xml(root) == before


def test_duplicate_id_is_refused(root) -> None:
    run(root, "primitive p Dummy")
    with pytest.raises(CrmError, match="id 'p' is already in use"):
        run(root, "primitive p Stateful")
    with pytest.raises(CrmError, match="id 'p' is already in use"):
        run(root, "location p p 1: primary")


@pytest.mark.parametrize("setup, again, different", [
    (["primitive p Dummy params fake=1 op monitor interval=10s meta target-role=Stopped"],
     "primitive p Dummy params fake=1 op monitor interval=10s meta target-role=Stopped",
     "primitive p Dummy params fake=2 op monitor interval=10s meta target-role=Stopped"),
    (["primitive a Dummy", "primitive b Dummy", "group g a b meta target-role=Stopped"],
     "group g a b meta target-role=Stopped", "group g b a meta target-role=Stopped"),
    (["primitive a Dummy", "clone c a meta clone-max=2"], "clone c a meta clone-max=2", "clone c a meta clone-max=3"),
    (["primitive a Dummy", "location l a 100: primary"], "location l a 100: primary", "location l a 50: primary"),
    (["primitive a Dummy", "primitive b Dummy", "colocation co inf: a b"], "colocation co inf: a b",
     "colocation co inf: b a"),
])
def test_defining_an_object_exactly_as_it_is_changes_nothing(root, setup, again, different) -> None:
    """A retry after an unanswered request must succeed; any difference is still refused, the CIB unchanged."""
    run(root, *setup)
    before = xml(root)
    assert run(root, again) == ""
    assert xml(root) == before
    with pytest.raises(CrmError, match="already in use"):
        run(root, different)
    assert xml(root) == before


def test_agent_checks_use_the_context(root) -> None:
    meta = AgentMeta.from_xml('<resource-agent><parameters><parameter name="ip" required="1"/>'
                              '<parameter name="nic"/></parameters></resource-agent>')
    ctx = Context(agent_known=lambda c, p, t: t != "Missing" if c == "ocf" else None,
                  agent_meta=lambda c, p, t: meta if t == "IPaddr2" else None)
    with pytest.raises(CrmError, match="no such resource agent 'ocf:heartbeat:Missing'"):
        execute(root, "configure primitive a Missing", ctx)
    with pytest.raises(CrmError, match="required parameter 'ip'"):
        execute(root, "configure primitive a IPaddr2 params nic=eth0", ctx)
    with pytest.raises(CrmError, match="parameter 'foo' is not defined"):
        execute(root, "configure primitive a IPaddr2 params ip=1.2.3.4 foo=1", ctx)
    execute(root, "configure primitive a IPaddr2 params ip=1.2.3.4", ctx)
    execute(root, "configure primitive b lsb:whatever", ctx)  # None: cannot tell, so accepted


# ---------------------------------------------------------------- group / clone / ms

def test_group_takes_members_place_and_repoints_constraints(root) -> None:
    run(root, "primitive a Dummy", "primitive b Dummy", "primitive c Dummy",
        "location l1 b 100: primary", "colocation c1 inf: a c", "order o1 Mandatory: a b")
    out = run(root, "group g b a meta target-role=Started")
    grp = found_rsc(root, "g")
    assert [c.get("id") for c in grp] == ["g-meta_attributes", "b", "a"]
    assert [c.get("id") for c in cib.section(root, "resources")] == ["g", "c"]
    assert attrs(root, "l1")["rsc"] == "g"
    assert attrs(root, "c1")["rsc"] == "g"
    assert cib.find_id(root, "o1") is None  # a and b both became g: an order of g after itself is dropped
    assert "INFO: modified location:l1 from b to g" in out


def test_group_errors(root) -> None:
    run(root, "primitive a Dummy", "group g a")
    with pytest.raises(CrmError, match="'a' already belongs to group 'g'"):
        run(root, "group h a")
    with pytest.raises(CrmError, match="no resource 'zz'"):
        run(root, "group h zz")
    with pytest.raises(CrmError, match="a group takes primitive"):
        run(root, "group h g")


def test_clone_and_ms(root) -> None:
    run(root, "primitive a Dummy", "primitive s ocf:pacemaker:Stateful",
        "clone cl a meta clone-max=2", "ms ms1 s meta notify=true")
    assert [c.tag for c in found_rsc(root, "cl")] == ["meta_attributes", "primitive"]
    assert cib.nvset_values(cib.find_resource(root, "ms1")) == {"promotable": "true", "notify": "true"}
    with pytest.raises(CrmError, match="already belongs to clone 'cl'"):
        run(root, "clone cl2 a")


# ---------------------------------------------------------------- constraints

def test_location_rule_expressions(root) -> None:
    run(root, "primitive a Dummy",
        "location l a rule -inf: #uname eq primary or not_defined pingd or pingd lt number:1",
        "location m a rule $role=Promoted pingd: defined pingd rule 50: #uname ne secondary")
    rule = found(root, "l-rule")
    assert rule.get("score") == "-INFINITY" and rule.get("boolean-op") == "or"
    assert [dict(e.attrib) for e in rule] == [
        {"id": "l-rule-expression", "attribute": "#uname", "operation": "eq", "value": "primary"},
        {"id": "l-rule-expression-0", "attribute": "pingd", "operation": "not_defined"},
        {"id": "l-rule-expression-1", "attribute": "pingd", "operation": "lt", "type": "number", "value": "1"}]
    m_rules = found(root, "m").findall("rule")
    assert [r.get("id") for r in m_rules] == ["m-rule", "m-rule-0"]
    assert m_rules[0].get("score-attribute") == "pingd" and m_rules[0].get("role") == "Promoted"
    assert m_rules[1].get("score") == "50"


def test_location_date_rule_and_pattern(root) -> None:
    run(root, "primitive a Dummy", "location l a rule inf: date gt 2030-01-01",
        "location p /^a.*/ 10: primary")
    de = found(root, "l-rule-expression")
    assert de.tag == "date_expression" and de.get("start") == "2030-01-01"
    assert attrs(root, "p")["rsc-pattern"] == "^a.*"


@pytest.mark.parametrize(("line", "message"), [
    ("location l a abc: primary", "bad score 'abc'"),
    ("location l a 100 primary", "unexpected '100', expected SCORE:"),
    ("location l zz 100: primary", "no resource or tag 'zz'"),
    ("location l a 100:", "missing node name"),
    ("location l a rule inf: #uname is primary", "unexpected 'is', expected one of lt"),
    ("location l a rule inf: a eq 1 and b eq 2 or c eq 3", "cannot mix 'and' and 'or'"),
    ("location l a weight=3 100: primary", "unexpected 'weight=3'"),
    ("colocation c a a", "unexpected 'a', expected SCORE:"),
    ("colocation c inf: a", "needs at least two resources"),
    ("colocation c inf: a:Boss b", "unexpected 'a:Boss'"),
    ("order o Sometimes: a b", "bad kind or score 'Sometimes'"),
    ("order o a:begin b", "unexpected 'a:begin'"),
    ("order o a b kind=x", "unexpected 'kind=x'"),
    ("order o ( a b", r"missing '\)' closing the set"),
])
def test_constraint_errors(root, line: str, message: str) -> None:
    run(root, "primitive a Dummy", "primitive b Dummy")
    before = xml(root)
    with pytest.raises(CrmError, match=message):
        run(root, line)
    assert xml(root) == before


def test_resource_sets(root) -> None:
    for r in "abcde":
        run(root, f"primitive {r} Dummy")
    run(root, "order o1 Mandatory: a ( b c ) [ d e ] symmetrical=false",
        "colocation c1 inf: a:Promoted b:Promoted c", "order o2 (a b) c:start", "location l { a b } 10: primary")
    sets = found(root, "o1").findall("resource_set")
    assert [dict(s.attrib) for s in sets] == [
        {"id": "o1-0"}, {"id": "o1-1", "sequential": "false"},
        {"id": "o1-2", "sequential": "false", "require-all": "false"}]
    assert [[r.get("id") for r in s] for s in sets] == [["a"], ["b", "c"], ["d", "e"]]
    assert attrs(root, "o1")["symmetrical"] == "false"
    csets = found(root, "c1").findall("resource_set")
    assert [(s.get("role"), [r.get("id") for r in s]) for s in csets] == [("Promoted", ["a", "b"]), (None, ["c"])]
    assert found(root, "o2-1").get("action") == "start"
    assert [r.get("id") for r in found(root, "l-0")] == ["a", "b"]


# ---------------------------------------------------------------- options, node, tag

def test_property_and_defaults_sets(root) -> None:
    run(root, "property a=1 b=2", "property a=3", "property $id=more c=4", "rsc_defaults x=1",
        "op_defaults timeout=1m", "property cib-bootstrap-options: d=5")
    boot = found(root, "cib-bootstrap-options")
    assert [(nv.get("id"), nv.get("value")) for nv in boot] == [
        ("cib-bootstrap-options-a", "3"), ("cib-bootstrap-options-b", "2"), ("cib-bootstrap-options-d", "5")]
    assert attrs(root, "more-c")["value"] == "4"
    assert attrs(root, "rsc-options-x")["value"] == "1"
    assert attrs(root, "op-options-timeout")["value"] == "1m"
    with pytest.raises(CrmError, match="needs name=value pairs"):
        run(root, "property")


def test_configure_node_and_tag(root) -> None:
    run(root, "configure node third attributes site=a utilization memory=1024", "primitive a Dummy", "tag t: a")
    assert attrs(root, "third") == {"id": "third", "uname": "third"}
    assert attrs(root, "third-instance_attributes-site")["value"] == "a"
    assert attrs(root, "third-utilization-memory")["value"] == "1024"
    assert [r.get("id") for r in found(root, "t")] == ["a"]
    with pytest.raises(CrmError, match="node 'third' already exists with id 'third'"):
        run(root, "configure node $id=4 third")
    with pytest.raises(CrmError, match="no resource or tag 'b'"):
        run(root, "tag u a b")


# ---------------------------------------------------------------- delete / rename

def test_delete_primitive_takes_hanging_references(root) -> None:
    run(root, "primitive a Dummy", "primitive b Dummy", "primitive c Dummy", "order o a b",
        "order s Mandatory: a b c", "tag t a", "tag u a b", "location lt t 5: primary")
    out = run(root, "delete a")
    assert cib.find_id(root, "o") is None
    assert [r.get("id") for r in found(root, "s").iter("resource_ref")] == ["b", "c"]
    assert cib.find_id(root, "t") is None and cib.find_id(root, "lt") is None
    assert [r.get("id") for r in found(root, "u")] == ["b"]
    assert "INFO: hanging order:o deleted" in out


def test_delete_group_keeps_members_and_repoints(root) -> None:
    run(root, "primitive a Dummy", "primitive b Dummy", "primitive z Dummy", "group g a b",
        "location l g 50: primary", "colocation c inf: z g")
    run(root, "delete g")
    assert [c.get("id") for c in cib.section(root, "resources")] == ["a", "b", "z"]
    assert attrs(root, "l")["rsc"] == "a"
    assert attrs(root, "c")["with-rsc"] == "a"


def test_delete_last_member_removes_group_and_unknown_is_error(root) -> None:
    run(root, "primitive a Dummy", "group g a", "property x=1")
    run(root, "delete a")
    assert cib.find_id(root, "g") is None
    with pytest.raises(CrmError, match="object 'nope' does not exist"):
        run(root, "delete nope")
    run(root, "delete cib-bootstrap-options")
    assert cib.find_id(root, "cib-bootstrap-options") is None


def test_rename_updates_references(root) -> None:
    run(root, "primitive a Dummy", "primitive b Dummy", "colocation c inf: a b", "tag t a",
        "order o Mandatory: a b")
    run(root, "rename a x")
    assert cib.find_resource(root, "x") is not None and cib.find_resource(root, "a") is None
    assert attrs(root, "c")["rsc"] == "x" and attrs(root, "o")["first"] == "x"
    assert [r.get("id") for r in found(root, "t")] == ["x"]
    with pytest.raises(CrmError, match="id 'b' is already in use"):
        run(root, "rename x b")


# ---------------------------------------------------------------- show / verify

SAMPLE = [
    "node $id=1 primary attributes standby=on",
    "node secondary",
    "primitive ip IPaddr2 params ip=10.0.0.1 'note=two words' op monitor interval=10s op start timeout=20s "
    "meta target-role=Started",
    "primitive web ocf:heartbeat:apache op monitor interval=30s OCF_CHECK_LEVEL=10",
    "primitive s ocf:pacemaker:Stateful",
    "primitive d lsb:foo",
    "group g ip web meta is-managed=true",
    "ms m s meta notify=true",
    "tag t: g d",
    "location l1 g 100: primary",
    "location l2 d rule $role=Started -inf: #uname eq primary and pingd lte 3",
    "colocation c1 inf: g m:Promoted",
    "colocation c2 inf: d ( g m )",
    "order o1 Optional: m:promote g:start symmetrical=false",
    "order o2 [ d g ] m",
    "property no-quorum-policy=ignore",
    "rsc_defaults resource-stickiness=10",
    "op_defaults timeout=30s",
]


def test_show_reads_back_into_the_same_configuration() -> None:
    first = cib.empty()
    execute_script(first, [f"configure {line}" for line in SAMPLE], CTX)
    text = execute(first, "configure show", CTX).output
    second = cib.empty()
    execute_script(second, ["configure", *text.splitlines()], CTX)
    assert xml(second.find("configuration")) == xml(first.find("configuration"))


def test_show_format_and_single_objects(root) -> None:
    run(root, "primitive a Dummy params x=1 meta y=2", "location l a inf: primary")
    assert run(root, "show a") == "primitive a Dummy \\\n\tparams x=1 \\\n\tmeta y=2"
    assert run(root, "show l") == "location l a inf: primary"
    assert '<rsc_location id="l"' in run(root, "show xml l")
    assert run(root, "show xml").startswith("<configuration>")
    with pytest.raises(CrmError, match="object 'zz' does not exist"):
        run(root, "show zz")


def test_show_does_not_change_anything(root) -> None:
    run(root, "primitive a Dummy")
    out = execute(root, "configure show", CTX)
    assert not out.changed


def test_verify_reports_problems(root) -> None:
    assert run(root, "verify") == ""
    bad = etree.SubElement(cib.section(root, "constraints"), "rsc_location", id="x", rsc="ghost", node="primary",
                           score="1")
    assert bad is not None
    with pytest.raises(CrmError, match=r"configure verify: 1 problem.*unknown resource 'ghost'"):
        run(root, "verify")


def test_unknown_configure_command(root) -> None:
    with pytest.raises(CrmError, match="configure: unknown command 'primitve'"):
        run(root, "primitve a Dummy")


# ---------------------------------------------------------------- rsc_template

def test_rsc_template_and_primitives_based_on_it(root) -> None:
    run(root, "rsc_template web ocf:heartbeat:apache params configfile=/etc/a.conf op monitor interval=10s",
        "primitive w1 @web params port=81")
    tpl = cib.find_id(root, "web")
    assert tpl is not None and tpl.tag == "template" and tpl.get("type") == "apache"
    assert cib.find_id(root, "web-instance_attributes") is not None and cib.find_id(root, "web-monitor-10s") is not None
    assert attrs(root, "w1") == {"id": "w1", "template": "web"}
    shown = run(root, "show")
    assert shown.index("rsc_template web apache") < shown.index("primitive w1 @web")
    assert run(root, "show type:rsc_template").startswith("rsc_template web")
    with pytest.raises(CrmError, match="no rsc_template 'nope'"):
        run(root, "primitive w2 @nope")
    with pytest.raises(CrmError, match="w1 is based on it"):
        run(root, "delete web")
    run(root, "delete w1", "delete web")
    assert cib.find_id(root, "web") is None
