"""The node and resource levels."""

from __future__ import annotations

import pytest
from lxml import etree
from paceline.crm import Context, CrmError, execute
from paceline.shared import cib

from tests.support.crm import CTX, found, found_rsc


@pytest.fixture
def root() -> etree._Element:
    r = cib.empty(["primary", "secondary"])
    for line in ("primitive a Dummy", "primitive b Dummy", "primitive c Dummy", "group g b c", "clone cl a",
                 "tag t b c"):
        execute(r, f"configure {line}", CTX)
    return r


def run(root: etree._Element, line: str, ctx: Context = CTX) -> str:
    return execute(root, line, ctx).output


def value(root: etree._Element, ident: str) -> str | None:
    el = cib.find_id(root, ident)
    return None if el is None else el.get("value")


# ---------------------------------------------------------------- node

def test_standby_online_default_node_and_ids(root) -> None:
    run(root, "node standby")
    run(root, "node standby secondary")
    run(root, "node online secondary")
    assert value(root, "num-1-instance_attributes-standby") == "on"
    assert value(root, "num-2-instance_attributes-standby") == "off"
    run(root, "node maintenance secondary")
    run(root, "node ready secondary")
    assert value(root, "num-2-instance_attributes-maintenance") == "off"


def test_standby_reboot_lifetime_goes_to_status(root) -> None:
    run(root, "node standby secondary reboot")
    nv = root.find("status/node_state[@uname='secondary']/transient_attributes/instance_attributes/nvpair")
    assert (nv.get("id"), nv.get("name"), nv.get("value")) == ("status-2-standby", "standby", "on")
    assert cib.find_id(root, "num-2-instance_attributes") is None


def test_node_errors(root) -> None:
    with pytest.raises(CrmError, match="node standby: no node 'third' \\(known: primary, secondary\\)"):
        run(root, "node standby third")
    with pytest.raises(CrmError, match="no node named and no local node known"):
        run(root, "node standby", Context())
    with pytest.raises(CrmError, match="node: unknown command 'stanby'"):
        run(root, "node stanby")


def test_node_attribute_and_utilization(root) -> None:
    run(root, "node attribute primary set site east")
    assert run(root, "node attribute primary show site") == "scope=nodes  name=site value=east"
    run(root, "node attribute primary delete site")
    with pytest.raises(CrmError, match="has no attribute 'site'"):
        run(root, "node attribute primary show site")
    run(root, "node utilization secondary set cpu 4")
    assert value(root, "num-2-utilization-cpu") == "4"
    run(root, "node status-attr secondary set pingd 100")
    assert run(root, "node status-attr secondary show pingd") == "scope=status  name=pingd value=100"


def test_node_delete_and_show(root) -> None:
    run(root, "node standby secondary")
    assert run(root, "node show secondary") == "node 2: secondary \\\n\tattributes standby=on"
    run(root, "node delete secondary")
    assert cib.node_names(root) == ["primary"]


# ---------------------------------------------------------------- resource

def test_start_stop_targets(root) -> None:
    run(root, "resource stop a")  # a clone's child: the clone carries target-role
    assert value(root, "cl-meta_attributes-target-role") == "Stopped"
    assert cib.find_id(root, "a-meta_attributes") is None
    run(root, "resource stop g")
    assert next(c.tag for c in found_rsc(root, "g")) == "meta_attributes"
    run(root, "resource start t")  # a tag stands for its resources
    assert value(root, "b-meta_attributes-target-role") == "Started"
    assert value(root, "c-meta_attributes-target-role") == "Started"
    run(root, "resource restart b")
    assert value(root, "b-meta_attributes-target-role") == "Started"


def test_manage_maintenance_meta_param(root) -> None:
    run(root, "resource unmanage b")
    assert value(root, "b-meta_attributes-is-managed") == "false"
    run(root, "resource maintenance b off")
    assert value(root, "b-meta_attributes-maintenance") == "false"
    run(root, "resource meta b set resource-stickiness 5")
    assert run(root, "resource meta b show resource-stickiness") == "5"
    run(root, "resource meta b delete resource-stickiness")
    run(root, "resource param a set fake 1")
    assert value(root, "a-instance_attributes-fake") == "1"
    with pytest.raises(CrmError, match="resource meta: 'b' has no 'nope'"):
        run(root, "resource meta b show nope")
    with pytest.raises(CrmError, match="unexpected 'put', expected set, delete or show"):
        run(root, "resource meta b put x 1")


def test_migrate_ban_clear(root) -> None:
    run(root, "resource migrate g secondary")
    run(root, "resource ban b primary")
    run(root, "resource move g primary")
    cons = [dict(c.attrib) for c in cib.section(root, "constraints")]
    assert cons == [
        {"id": "cli-ban-b-on-primary", "rsc": "b", "role": "Started", "node": "primary", "score": "-INFINITY"},
        {"id": "cli-prefer-g", "rsc": "g", "role": "Started", "node": "primary", "score": "INFINITY"}]
    run(root, "resource clear b")
    run(root, "resource unmigrate g")
    assert len(cib.section(root, "constraints")) == 0


def test_migrate_with_lifetime_and_errors(root) -> None:
    run(root, "resource migrate g secondary PT1H")
    rule = found(root, "cli-prefer-rule-g")
    assert rule.get("score") == "INFINITY"
    assert found(root, "cli-prefer-lifetime-end-g").get("operation") == "lt"
    with pytest.raises(CrmError, match="needs a NODE"):
        run(root, "resource migrate g")
    with pytest.raises(CrmError, match="no node 'third'"):
        run(root, "resource ban g third")
    with pytest.raises(CrmError, match="no resource 'zz'"):
        run(root, "resource migrate zz primary")


STATUS = """<status><node_state id="1" uname="primary">
  <transient_attributes id="1"><instance_attributes id="status-1">
    <nvpair id="s1" name="fail-count-b#monitor_10000" value="2"/>
    <nvpair id="s2" name="last-failure-b#monitor_10000" value="123"/>
    <nvpair id="s3" name="fail-count-a#start_0" value="INFINITY"/>
    <nvpair id="s4" name="pingd" value="1"/></instance_attributes></transient_attributes>
  <lrm id="1"><lrm_resources><lrm_resource id="b" type="Dummy" class="ocf" provider="heartbeat"/>
    <lrm_resource id="a:0" type="Dummy" class="ocf" provider="heartbeat"/>
    <lrm_resource id="bb" type="Dummy" class="ocf" provider="heartbeat"/></lrm_resources></lrm>
</node_state></status>"""


def with_status(root: etree._Element) -> etree._Element:
    status = root.find("status")
    assert status is not None
    root.remove(status)
    root.append(etree.fromstring(STATUS, etree.XMLParser(remove_blank_text=True)))
    return root


def test_failcount_and_cleanup(root) -> None:
    with_status(root)
    assert run(root, "resource failcount b show primary") == "scope=status  name=fail-count-b value=2"
    assert run(root, "resource failcount a show primary") == "scope=status  name=fail-count-a value=INFINITY"
    with pytest.raises(CrmError, match="only 0 can be set"):
        run(root, "resource failcount b set primary 3")
    out = execute(root, "resource cleanup g", CTX)
    assert out.changed and out.output == "Cleaned up b on primary"
    names = [nv.get("name") for nv in root.iter("nvpair")]
    assert "fail-count-b#monitor_10000" not in names and "last-failure-b#monitor_10000" not in names
    assert "pingd" in names and "fail-count-a#start_0" in names
    assert [r.get("id") for r in root.iter("lrm_resource")] == ["a:0", "bb"]
    run(root, "resource cleanup cl")
    assert [r.get("id") for r in root.iter("lrm_resource")] == ["bb"]


def test_status_reads_the_cib_status(root) -> None:
    """``resource status`` needs no live cluster: it reads where the CIB's status says each primitive runs."""
    cib.section(root, "status").append(cib.parse(
        '<node_state id="primary" uname="primary" in_ccm="true" crmd="online" join="member" expected="member">'
        '<lrm id="primary"><lrm_resources><lrm_resource id="b" class="ocf" provider="heartbeat" type="Dummy">'
        '<lrm_rsc_op id="b_last_0" operation_key="b_start_0" operation="start" call-id="2" rc-code="0" '
        'op-status="0" interval="0" transition-key="1:1:0:x" crm-debug-origin="x"/>'
        '</lrm_resource></lrm_resources></lrm></node_state>'))
    assert run(root, "resource status b") == "resource b is running on: primary"
    assert run(root, "resource status t").splitlines() == ["resource b is running on: primary",
                                                           "resource c is NOT running"]
    assert run(root, "resource show g").splitlines()[1] == "resource c is NOT running"
    assert "resource b is running on: primary" in run(root, "resource status").splitlines()
    with pytest.raises(CrmError, match="no resource or tag 'zz'"):
        run(root, "resource status zz")


def test_unknown_resource_command(root) -> None:
    with pytest.raises(CrmError, match="resource: unknown command 'strat'"):
        run(root, "resource strat a")
