"""crm_mon's XML from the cluster model: valid against Pacemaker's API schema, and the same document as Debian's
``crm_mon --output-as xml`` where the model agrees with Pacemaker.

The schema check runs over every shared Pacemaker case. The comparison runs the real crm_mon on a CIB file
(``CIB_file=... crm_mon --output-as xml``) and compares, per section, the elements with their attributes and
values, leaving out what depends on the moment or the build: ``last_update``'s time, the stack's name and
the DC's version string, and a node's ``feature_set`` (Pacemaker's own, or ``<3.15.1`` when a CIB predates it).
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree
from paceline.shared import cib
from paceline.shared.cluster import crm_mon_xml

from tests.support.cibs import NOW, both_online, lrm_rsc, node_state, op, prim
from tests.support.cibs import cib as make_cib

SCHEMA = Path("/usr/share/pacemaker/api/api-result-2.25.rng")
SECTIONS = ("summary", "nodes", "resources", "node_attributes", "node_history", "failures", "tickets", "bans")

#: Cases whose every section matches crm_mon's (210 of the 453 that crm_mon reads, when this was written):
#: groups, clones, promotable clones, bundles, failures, standby, migrations, tickets.
SAME_AS_CRM_MON = (
    "10-a-then-bm-b-move-a-clone", "3-am-then-bm-both-migrate", "7-migrate-group-one-unmigratable",
    "banned-group-inner-constraints", "bundle-nested-colocation", "bundle-order-startup-clone-2",
    "bundle-promoted-colocation-3", "bundle-replicas-change", "clone-order-primitive", "coloc-group",
    "colocated-utilization-group",
    "group-fail", "group-unmanaged-stopped", "group6", "migrate-1", "partial-unmanaged-group", "promoted-0",
    "promoted-10", "promoted-2", "promoted-notify", "promoted-score-startup", "standby",
    "template-clone-primitive", "ticket-clone-16", "ticket-group-1", "ticket-promoted-10",
)


@pytest.fixture(scope="module")
def schema() -> etree.RelaxNG:
    if not SCHEMA.is_file():
        pytest.skip(f"needs Pacemaker's API schema {SCHEMA} (Debian package pacemaker-cli-utils)")
    return etree.RelaxNG(etree.parse(str(SCHEMA)))


def canonical(section: etree._Element | None, name: str) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """A section as (tag, sorted attributes) in document order, without what depends on the time or build."""
    if section is None:
        return []
    out = []
    for el in section.iter():
        if not isinstance(el.tag, str):
            continue
        attrs = cib.attributes(el)
        if el.tag == "last_update":
            attrs.pop("time", None)
        if name == "summary" and el.tag in ("stack", "current_dc"):
            attrs.pop("type", None)
            attrs.pop("version", None)
        if name == "nodes" and el.tag == "node":
            attrs.pop("feature_set", None)
        out.append((el.tag, tuple(sorted(attrs.items()))))
    return out


def real_crm_mon(path: Path) -> etree._Element:
    env = {**os.environ, "CIB_file": str(path.resolve())}
    out = subprocess.run(["crm_mon", "--output-as", "xml"], env=env, capture_output=True, text=True, timeout=60,
                         check=False)
    return etree.fromstring(out.stdout.encode())


def document(xml: str) -> etree._Element:
    return crm_mon_xml.document(cib.parse_cib(xml), NOW)


# ------------------------------------------------------------------ schema

def test_every_shared_case_is_valid_against_crm_mons_api_schema(shared_dir, schema):
    invalid = []
    for path in sorted((Path(shared_dir) / "pacemaker-cases" / "xml").glob("*.xml")):
        doc = crm_mon_xml.document(cib.parse_cib(path.read_bytes()), NOW)
        if not schema.validate(doc):
            invalid.append(f"{path.name}: {schema.error_log.last_error}")
    assert not invalid


def test_a_failure_document_is_valid_too(schema):
    text = crm_mon_xml.error_document("crm_mon -X", 102, "Not connected", ["cannot reach the cluster"])
    assert schema.validate(etree.fromstring(text.encode()))


# ------------------------------------------------------------------ against the real crm_mon

@pytest.mark.parametrize("name", SAME_AS_CRM_MON)
def test_same_document_as_crm_mon(shared_dir, name):
    if shutil.which("crm_mon") is None:
        pytest.skip("needs Debian's crm_mon (package pacemaker-cli-utils)")
    path = Path(shared_dir) / "pacemaker-cases" / "xml" / f"{name}.xml"
    real = real_crm_mon(path)
    ours = crm_mon_xml.document(cib.parse_cib(path.read_bytes()), NOW)
    for section in SECTIONS:
        mine = ours.find(section)
        if real.find(section) is None and mine is not None and len(mine) == 0:
            continue        # crm_mon leaves an empty section out
        assert canonical(mine, section) == canonical(real.find(section), section), section


#: How many shared cases crm_mon reads whose every section is the same from us: it may only rise.
SAME_FLOOR = 289


def test_the_number_of_cases_the_same_as_crm_mon_does_not_drop(shared_dir):
    if shutil.which("crm_mon") is None:
        pytest.skip("needs Debian's crm_mon (package pacemaker-cli-utils)")
    same, read = 0, 0
    paths = sorted((Path(shared_dir) / "pacemaker-cases" / "xml").glob("*.xml"))
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:  # crm_mon is a process
        reals = list(pool.map(real_crm_mon, paths))
    for path, real in zip(paths, reals, strict=True):
        if real.find("summary") is None:        # a CIB crm_mon cannot read
            continue
        read += 1
        ours = crm_mon_xml.document(cib.parse_cib(path.read_bytes()), NOW)
        same += all(canonical(ours.find(s), s) == canonical(real.find(s), s) or
                    (real.find(s) is None and len(ours.find(s)) == 0) for s in SECTIONS)  # type: ignore[arg-type]
    assert same >= SAME_FLOOR, f"{same} of {read} cases are the same as crm_mon's; floor {SAME_FLOOR}"


def test_a_bundle_is_listed_as_crm_mon_lists_it(shared_dir):
    """Element for element, with the attributes in crm_mon's order: ``<bundle>``, one ``<replica>`` per replica,
    and in each the address, bundled instance, container and connection as ``<resource>`` elements."""
    if shutil.which("crm_mon") is None:
        pytest.skip("needs Debian's crm_mon (package pacemaker-cli-utils) to compare with")
    path = Path(shared_dir) / "pacemaker-cases" / "xml" / "bundle-order-startup-clone-2.xml"
    real = real_crm_mon(path)
    ours = crm_mon_xml.document(cib.parse_cib(path.read_bytes()), NOW)

    def bundles(doc: etree._Element) -> list[tuple[str, list[tuple[str, str]]]]:
        return [(el.tag, list(cib.attributes(el).items())) for b in doc.iterfind("resources/bundle") for el in b.iter()]

    assert bundles(ours) == bundles(real)
    assert [b.get("id") for b in ours.iterfind("resources/bundle")] == \
        ["galera-bundle", "haproxy-bundle", "redis-bundle"]
    summary = ("summary/resources_configured", "number")
    assert ours.find(summary[0]).get(summary[1]) == real.find(summary[0]).get(summary[1]) == "25"  # type: ignore[union-attr]


# ------------------------------------------------------------------ what the exporter reads

def test_fail_count_and_migration_threshold_in_the_node_history():
    failed = lrm_rsc("a", op("a", "start", call=1), op("a", "monitor", rc=1, call=2, interval=10000, expected=0))
    xml = make_cib(prim("a", meta={"migration-threshold": "3"}, monitor="10s"),
                   both_online(lrm1=failed, attrs={"fail-count-a#monitor_10000": "2",
                                                   "last-failure-a#monitor_10000": str(int(NOW) - 50)}))
    history = document(xml).find("node_history/node[@name='node1']/resource_history[@id='a']")
    assert history is not None
    assert (history.get("migration-threshold"), history.get("fail-count")) == ("3", "2")
    ops = [(o.get("task"), o.get("interval"), o.get("rc_text")) for o in history]
    assert ops == [("start", None, "ok"), ("monitor", "10000ms", "error")]
    failure = document(xml).find("failures/failure")
    assert failure is not None and (failure.get("node"), failure.get("exitcode"), failure.get("task")) == \
        ("node1", "1", "monitor")


def test_node_attributes_leave_out_what_crm_mon_leaves_out():
    xml = make_cib(prim("a"), node_state("node1", attrs={"pingd": "100", "fail-count-a#start_0": "1",
                                                         "shutdown": "0", "#custom": "x"}) + node_state("node2"))
    nodes = document(xml).find("node_attributes")
    assert nodes is not None
    assert [(n.get("name"), [(a.get("name"), a.get("value")) for a in n]) for n in nodes] == \
        [("node1", [("pingd", "100")])]


def test_anonymous_clone_instances_carry_the_resource_id_and_stopped_ones_are_listed():
    clone = f'<clone id="c">{prim("d")}</clone>'
    xml = make_cib(clone, both_online(lrm1=lrm_rsc("d", op("d", "start"))), nodes=("node1", "node2", "node3"))
    el = document(xml).find("resources/clone")
    assert el is not None and el.get("unique") == "false"
    assert [(r.get("id"), r.get("role"), [n.get("name") for n in r]) for r in el] == \
        [("d", "Started", ["node1"]), ("d", "Stopped", []), ("d", "Stopped", [])]


def test_a_negative_location_is_a_ban():
    ban = '<rsc_location id="l" rsc="a" node="node2" score="-INFINITY"/>'
    xml = make_cib(prim("a"), both_online(), constraints=ban)
    bans = document(xml).find("bans")
    assert bans is not None
    assert [dict(b.attrib) for b in bans] == [{"id": "l", "resource": "a", "node": "node2", "weight": "-1000000",
                                               "promoted-only": "false", "master_only": "false"}]


def test_bans_come_last_constraint_first_and_once_per_clone():
    clone = f'<clone id="c">{prim("d")}</clone>'
    bans = ('<rsc_location id="l1" rsc="a" node="node2" score="-INFINITY"/>'
            '<rsc_location id="l2" rsc="c" node="node1" score="-INFINITY"/>')
    xml = make_cib(prim("a") + clone, both_online(), constraints=bans)
    section = document(xml).find("bans")
    assert section is not None
    assert [(b.get("id"), b.get("resource"), b.get("node")) for b in section] == \
        [("l2", "c", "node1"), ("l1", "a", "node2")]
