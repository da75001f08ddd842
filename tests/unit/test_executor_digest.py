"""op-digest as Pacemaker computes it, checked against the digests Pacemaker recorded in its own cases.

A CIB exported from Pacemaker must not restart everything when Paceline takes
over: the executor records ``lrm.pacemaker_digest`` and the scheduler compares
it with the configuration. Here every ``lrm_rsc_op`` of the shared Pacemaker
cases is recomputed from its resource's definition. Some cases change a
definition on purpose (that is what they test) or were written by controllers
older than today's recipe, so the check is a rate, plus exact known values.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from paceline.shared import lrm
from paceline.shared.cluster.timespec import interval_ms

#: Pacemaker's documented digest of an operation with no parameters at all.
EMPTY_DIGEST = "f2317cad3d54cec5d7d7aa7d0bf35cf8"
#: Share of recorded digests the recipe must reproduce (Pacemaker's own docs measure about 93%).
MIN_MATCH_RATE = 0.9
DEFAULT_TIMEOUT_MS = 20000


def nvpairs(parent: etree._Element, tag: str) -> dict[str, str]:
    """The first value of every name in the parent's ``tag`` sets (the case inputs use no rules here)."""
    out: dict[str, str] = {}
    for nvset in parent.findall(tag):
        for nv in nvset.findall("nvpair"):
            out.setdefault(nv.get("name", ""), nv.get("value", ""))
    return out


def expected_params(primitive: etree._Element, task: str, interval: int) -> tuple[dict[str, str], int | None]:
    """Instance attributes plus those of the matching ``<op>``, and the timeout a recurring op digests."""
    params = nvpairs(primitive, "instance_attributes")
    timeout = None
    for op in primitive.findall("operations/op"):
        if op.get("name") == task and interval_ms(op.get("interval", "0")) == interval:
            params.update(nvpairs(op, "instance_attributes"))
            timeout = op.get("timeout")
            break
    if interval == 0:
        return params, None
    return params, interval_ms(timeout) if timeout else DEFAULT_TIMEOUT_MS


def recorded_digests(case: Path):
    root = etree.parse(str(case)).getroot()
    primitives = {p.get("id"): p for p in root.iter("primitive")}
    for rec in root.iter("lrm_rsc_op"):
        digest = rec.get("op-digest")
        lrm_resource = rec.getparent()
        assert lrm_resource is not None
        primitive = primitives.get(lrm_resource.get("id", "").split(":")[0])
        if digest and primitive is not None:
            yield primitive, rec, digest


def test_no_parameters_digest_is_pacemakers():
    assert lrm.pacemaker_digest({}) == EMPTY_DIGEST
    assert lrm.pacemaker_digest({"CRM_meta_timeout": "20000", "crm_feature_set": "3.16.1"}) == EMPTY_DIGEST


def test_recurring_operations_digest_their_timeout_and_escape_values():
    params = {"key_file": "/etc/pacemaker/fence_xvm.key", "multicast_address": "239.255.100.100",
              "pcmk_host_list": "node1 node2 node3 node4 node5"}
    # Recorded by Pacemaker for this fence_xvm device (start, then monitor every 120 s).
    assert lrm.pacemaker_digest(params) == "52e34745a77d95a636428d3b550eb867"
    assert lrm.pacemaker_digest(params, 120000) == "acc6dd2c58c637db4d12a6fe35626617"
    assert lrm.pacemaker_digest({"a": 'x"<&>\n'}) != lrm.pacemaker_digest({"a": "x"})


def test_sort_is_bytewise_and_order_independent():
    assert lrm.pacemaker_digest({"b": "1", "B": "2", "a": "3"}) == lrm.pacemaker_digest({"a": "3", "B": "2", "b": "1"})


def test_digests_recorded_in_pacemaker_cases(shared_dir):
    cases = sorted((Path(shared_dir) / "pacemaker-cases" / "xml").glob("*.xml"))
    if not cases:
        pytest.skip("no Pacemaker cases in the shared directory")
    total = matched = 0
    for case in cases:
        for primitive, rec, digest in recorded_digests(case):
            params, timeout = expected_params(primitive, rec.get("operation", ""), int(rec.get("interval", "0")))
            total += 1
            matched += lrm.pacemaker_digest(params, timeout) == digest
    assert total > 900
    assert matched / total >= MIN_MATCH_RATE, f"{matched}/{total} digests reproduced"
