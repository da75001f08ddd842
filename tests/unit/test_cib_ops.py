"""cibadmin's operations on a CIB in memory, checked against Debian's cibadmin doing the same to a CIB file.

Each case runs ``CIB_file=COPY cibadmin ARGS`` and ours on the same CIB, then compares the exit code and the
configuration that results (the version and change stamps aside: the cib-store sets those).
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree
from paceline.shared import cib, cib_ops

BASE = """<cib admin_epoch="0" epoch="5" num_updates="0" validate-with="pacemaker-3.7" crm_feature_set="3.16.1">
<configuration><crm_config><cluster_property_set id="cib-bootstrap-options">
<nvpair id="o-stonith" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/><node id="2" uname="n2"><instance_attributes id="n2-ia">
<nvpair id="n2-ia-rack" name="rack" value="1"/></instance_attributes></node></nodes>
<resources><group id="g"><primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/>
<primitive id="b" class="ocf" provider="heartbeat" type="Dummy"><meta_attributes id="b-meta">
<nvpair id="b-meta-target-role" name="target-role" value="Started"/></meta_attributes></primitive></group>
<primitive id="c" class="ocf" provider="heartbeat" type="Dummy"/></resources>
<constraints><rsc_location id="l1" rsc="c" node="n1" score="10"/></constraints></configuration>
<status/></cib>"""

NVPAIRS = "//*[@name='rack' or @name='target-role']"
DUMMY_D = '<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/>'

#: (cibadmin's arguments, our operation, scope, xpath, xml, delete_all, allow_create)
CASES = [
    (["-C", "-o", "resources", "-X", DUMMY_D], "create", "resources", None, DUMMY_D, False, False),
    (["-C", "-o", "resources", "-X", '<primitive id="c" class="ocf" provider="heartbeat" type="Dummy"/>'],
     "create", "resources", None, '<primitive id="c" class="ocf" provider="heartbeat" type="Dummy"/>', False,
     False),
    (["-C", "-X", DUMMY_D], "create", None, None, DUMMY_D, False, False),
    (["-C", "-o", "constraints", "-X", '<constraints><rsc_location id="l2" rsc="a" node="n2" score="5"/>'
      '</constraints>'], "create", "constraints", None,
     '<constraints><rsc_location id="l2" rsc="a" node="n2" score="5"/></constraints>', False, False),
    (["-M", "-X", '<primitive id="a" description="first"/>'], "modify", None, None,
     '<primitive id="a" description="first"/>', False, False),
    (["-M", "-o", "resources", "-X", '<nvpair id="b-meta-target-role" value="Stopped"/>'], "modify",
     "resources", None, '<nvpair id="b-meta-target-role" value="Stopped"/>', False, False),
    (["-M", "-X", '<node id="1"><instance_attributes id="n1-ia"><nvpair id="n1-ia-x" name="x" value="1"/>'
      '</instance_attributes></node>'], "modify", None, None,
     '<node id="1"><instance_attributes id="n1-ia"><nvpair id="n1-ia-x" name="x" value="1"/>'
     '</instance_attributes></node>', False, False),
    (["-M", "-X", '<primitive id="zz" class="ocf"/>'], "modify", None, None, '<primitive id="zz" class="ocf"/>',
     False, False),
    (["-M", "-c", "-o", "resources", "-X", DUMMY_D], "modify", "resources", None, DUMMY_D, False, True),
    (["-M", "-X", '<cib admin_epoch="admin_epoch++"/>'], "modify", None, None, '<cib admin_epoch="admin_epoch++"/>',
     False, False),
    (["-R", "-o", "resources", "-X", '<primitive id="c" class="ocf" provider="heartbeat" type="Stateful"/>'],
     "replace", "resources", None, '<primitive id="c" class="ocf" provider="heartbeat" type="Stateful"/>', False,
     False),
    (["-R", "-o", "constraints", "-X", "<constraints/>"], "replace", "constraints", None, "<constraints/>", False,
     False),
    (["-R", "-X", '<primitive id="zz"/>'], "replace", None, None, '<primitive id="zz"/>', False, False),
    (["-D", "-X", '<primitive id="a"/>'], "delete", None, None, '<primitive id="a"/>', False, False),
    (["-D", "-o", "nodes", "-X", '<node uname="n2"/>'], "delete", "nodes", None, '<node uname="n2"/>', False,
     False),
    (["-D", "-X", '<primitive id="c" type="Other"/>'], "delete", None, None, '<primitive id="c" type="Other"/>',
     False, False),
    (["-D", "-X", '<primitive id="nope"/>'], "delete", None, None, '<primitive id="nope"/>', False, False),
    (["-D", "--xpath", NVPAIRS], "delete", None, NVPAIRS, "", False, False),
    (["-M", "--xpath", "//group", "-X", '<primitive id="b" description="x"/>'], "modify", None, "//group",
     '<primitive id="b" description="x"/>', False, False),
    (["-M", "--xpath", "//primitive[@id='c']", "-X", '<primitive id="c" description="y"/>'], "modify", None,
     "//primitive[@id='c']", '<primitive id="c" description="y"/>', False, False),
    (["-R", "--xpath", "//primitive[@id='c']", "-X", '<primitive id="c" class="ocf" provider="heartbeat" '
      'type="Stateful"/>'], "replace", None, "//primitive[@id='c']",
     '<primitive id="c" class="ocf" provider="heartbeat" type="Stateful"/>', False, False),
    (["-M", "--xpath", "//primitive[@id='zz']", "-X", '<primitive id="zz"/>'], "modify", None,
     "//primitive[@id='zz']", '<primitive id="zz"/>', False, False),
    (["-d", "--force", "--xpath", NVPAIRS], "delete", None, NVPAIRS, "", True, False),
    (["-D", "--xpath", "//primitive[@id='nope']"], "delete", None, "//primitive[@id='nope']", "", False, False),
]


def configuration(root: cib.Element) -> str:
    conf = root.find("configuration")
    assert conf is not None
    return etree.tostring(conf, method="c14n").decode()


def cib_file(tmp_path: Path) -> Path:
    path = tmp_path / "cib.xml"
    path.write_text(BASE)
    return path


def real_cibadmin(path: Path, args: list[str], stdin: str | None = None) -> tuple[int, cib.Element]:
    if shutil.which("cibadmin") is None:
        pytest.skip("needs Debian's cibadmin (package pacemaker-cli-utils)")
    env = {**os.environ, "CIB_file": str(path)}
    out = subprocess.run(["cibadmin", *args], env=env, capture_output=True, text=True, input=stdin, timeout=30,
                         check=False)
    return out.returncode, cib.parse_cib(path.read_bytes())


def ours(operation: str, scope: str | None, xpath: str | None, xml: str, delete_all: bool,
         allow_create: bool) -> tuple[int, cib.Element]:
    root = cib.parse_cib(BASE)
    try:
        root = cib_ops.apply(root, operation, xml, scope, xpath, delete_all, allow_create)
    except cib_ops.CibOpError as exc:
        return exc.code, cib.parse_cib(BASE)
    return 0, root


@pytest.mark.parametrize("case", CASES, ids=[" ".join(c[0][:3]) for c in CASES])
def test_same_result_as_cibadmin(tmp_path, case):
    args, *mine = case
    real_code, real_root = real_cibadmin(cib_file(tmp_path), args)
    code, root = ours(*mine)
    assert code == real_code
    assert configuration(root) == configuration(real_root)


def crm_diff(tmp_path: Path, new: cib.Element, *flags: str) -> str:
    if shutil.which("crm_diff") is None:
        pytest.skip("needs Debian's crm_diff (package pacemaker-cli-utils)")
    (tmp_path / "old.xml").write_text(BASE)
    (tmp_path / "new.xml").write_text(cib.serialize(new))
    out = subprocess.run(["crm_diff", *flags, "-o", str(tmp_path / "old.xml"), "-n", str(tmp_path / "new.xml")],
                         capture_output=True, text=True, timeout=30, check=False)
    return out.stdout


def edited(epoch: str = "5") -> cib.Element:
    """What crmsh's commit typically sends: an attribute changed, a resource added, one removed."""
    root = cib.parse_cib(BASE)
    root.set("epoch", epoch)
    prim = root.find(".//primitive[@id='a']")
    assert prim is not None
    prim.set("description", "web")
    resources = root.find("configuration/resources")
    assert resources is not None
    resources.append(cib_ops.parse_input(DUMMY_D))
    loc = root.find(".//rsc_location")
    assert loc is not None and loc.getparent() is not None
    loc.getparent().remove(loc)      # type: ignore[union-attr]
    return root


@pytest.mark.parametrize("flags", [("--no-version",), ()], ids=["crmsh's crm_diff --no-version", "versioned"])
def test_a_crm_diff_patch_gives_the_same_configuration_as_cibadmin_P(tmp_path, flags):
    diff = crm_diff(tmp_path, edited("6"), *flags)
    assert diff.strip()
    real_code, real_root = real_cibadmin(cib_file(tmp_path), ["-P", "-p"], stdin=diff)
    root = cib.parse_cib(BASE)
    cib_ops.patch(root, cib_ops.parse_input(diff))
    assert real_code == 0
    assert configuration(root) == configuration(real_root) == configuration(edited())


def test_a_versioned_patch_does_not_apply_to_another_version():
    root = cib.parse_cib(BASE)
    for source, target, code in (("4", "5", cib_ops.EX_OLD), ("6", "7", cib_ops.EX_ERROR),
                                 ("5", "5", cib_ops.EX_OLD)):
        diff = (f'<diff format="1"><diff-removed admin_epoch="0" epoch="{source}" num_updates="0"><cib/>'
                f'</diff-removed><diff-added admin_epoch="0" epoch="{target}" num_updates="0"><cib/></diff-added>'
                '</diff>')
        with pytest.raises(cib_ops.CibOpError) as err:
            cib_ops.patch(root, cib_ops.parse_input(diff))
        assert err.value.code == code


def test_format_2_operations():
    root = cib.parse_cib(BASE)
    diff = ("<diff format='2'>"
            "<change operation='create' path='/cib/configuration/resources' position='0'>" + DUMMY_D + "</change>"
            "<change operation='delete' path=\"/cib/configuration/constraints/rsc_location[@id='l1']\"/>"
            "<change operation='modify' path=\"/cib/configuration/resources/primitive[@id='c']\">"
            "<change-list><change-attr name='type' operation='set' value='Stateful'/></change-list>"
            "<change-result><primitive id='c' class='ocf' provider='heartbeat' type='Stateful'/></change-result>"
            "</change></diff>")
    cib_ops.patch(root, cib_ops.parse_input(diff))
    resources = root.find("configuration/resources")
    assert resources is not None
    assert [(el.get("id"), el.get("type")) for el in resources] == [("d", "Dummy"), ("g", None), ("c", "Stateful")]
    assert root.find(".//rsc_location") is None


def test_replacing_the_whole_cib_with_an_older_one_is_refused():
    root = cib.parse_cib(BASE)
    older = copy.deepcopy(root)
    older.set("epoch", "4")
    with pytest.raises(cib_ops.CibOpError) as err:
        cib_ops.replace(root, None, older)
    assert err.value.code == cib_ops.EX_OLD
    newer = copy.deepcopy(root)
    newer.set("epoch", "9")
    assert cib_ops.replace(root, None, newer).get("epoch") == "9"


def test_create_at_an_xpath_adds_under_the_match():
    """Pacemaker 2.1.5's cibadmin puts the element under <cib> whatever the XPath (a CIB its schema then
    refuses); Paceline adds it under the first match."""
    root = cib_ops.apply(cib.parse_cib(BASE), "create", '<nvpair id="b-x" name="x" value="1"/>',
                         xpath="//meta_attributes[@id='b-meta']")
    assert root.find(".//meta_attributes[@id='b-meta']/nvpair[@id='b-x']") is not None


def test_query_scope_xpath_and_errors():
    root = cib.parse_cib(BASE)
    assert cib_ops.query(root, "constraints").startswith("<constraints>")
    two = cib_ops.query(root, xpath="//primitive[@class='ocf']")
    assert two.startswith("<xpath-query>") and two.count("<primitive") == 3
    assert cib_ops.query(root, xpath="//group", no_children=True).strip() == '<group id="g"/>'
    assert cib_ops.query(root, xpath="//primitive[@id='b']", node_path=True) == \
        "/cib/configuration/resources/group[@id='g']/primitive[@id='b']\n"
    for kwargs in ({"scope": "tags"}, {"xpath": "//primitive[@id='nope']"}):
        with pytest.raises(cib_ops.CibOpError) as err:
            cib_ops.query(root, **kwargs)  # type: ignore[arg-type]
        assert err.value.code == cib_ops.EX_NOSUCH
    with pytest.raises(cib_ops.CibOpError) as err:
        cib_ops.query(root, "bogus")
    assert err.value.code == cib_ops.EX_USAGE
    with pytest.raises(cib_ops.CibOpError) as err:
        cib_ops.apply(root, "modify", "<primitive id=")
    assert err.value.code == cib_ops.EX_CONFIG
