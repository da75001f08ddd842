"""Values Pacemaker would not accept are refused before they reach the CIB: one clear line, nothing written.

The first rows are the sixteen bad commands the issue found accepted (the 5,000-digit interval froze the DC);
the rest are their kind. The same checks guard the cib-store (tests/integration/test_cib_store.py),
and no case of Pacemaker's own regression suite trips them (tests below, when ../shared is there).
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from lxml import etree
from paceline.crm import Context, CrmError, execute
from paceline.crm.agents import AgentCatalog
from paceline.crm.preferences import Preferences
from paceline.shared import cib
from paceline.shared.cluster.checks import duration_ms, value_problems

from tests.support.bad_inputs import BAD, BASE, P
from tests.support.crm import CTX


@pytest.fixture
def root() -> etree._Element:
    r = cib.empty(["primary", "secondary"])
    for line in BASE:
        execute(r, line, CTX)
    return r


@pytest.mark.parametrize("line", BAD, ids=[line[:60] for line in BAD])
def test_a_bad_value_is_refused_with_one_line_and_nothing_changes(root, line: str) -> None:
    before = etree.tostring(root)
    with pytest.raises(CrmError) as err:
        execute(root, line, CTX)
    message = str(err.value)
    assert "\n" not in message and len(message) < 500, message
    assert etree.tostring(root) == before


def test_there_are_at_least_fifty_bad_inputs() -> None:
    assert len(BAD) >= 50


@pytest.mark.parametrize("line", [
    f"{P} op monitor interval=10s timeout=20s start-delay=0 on-fail=restart role=Started",
    f"{P} op monitor interval=PT1M timeout=P10S",
    f"{P} op monitor interval=500ms timeout=2min",
    f"{P} meta target-role=Stopped is-managed=false resource-stickiness=INFINITY priority=2.0",
    f"{P} meta target-role=#default",
    "configure property stonith-timeout=90s no-quorum-policy=ignore node-health-red=-INFINITY",
    "configure rsc_defaults resource-stickiness=100 migration-threshold=3",
    "configure op_defaults timeout=60s",
    "configure order o3 Mandatory: a b",
    "configure colocation c3 -inf: a b",
])
def test_good_values_pass(root, line: str) -> None:
    execute(root, line, CTX)


def test_durations_as_pacemaker_reads_them() -> None:
    assert duration_ms("10s") == 10_000 and duration_ms("5min") == 300_000 and duration_ms("500ms") == 500
    assert duration_ms("10") == 10_000 and duration_ms("PT1M") == 60_000 and duration_ms("P10S") == 10_000
    assert duration_ms("P1DT2H") == 26 * 3_600_000
    for bad in ("abc", "-5s", "1.5s", "1e999", "P", "PT", "10q", ""):
        assert duration_ms(bad) is None, bad


CASES = Path(__file__).resolve().parents[3] / "shared" / "pacemaker-cases"


@pytest.mark.skipif(not CASES.is_dir(), reason="needs ../shared/pacemaker-cases (Pacemaker's regression inputs)")
def test_no_input_of_pacemakers_own_suite_is_refused() -> None:
    refused = {}
    for path in sorted(CASES.glob("**/*.xml")):
        try:
            root = cib.parse_cib(path.read_text())
        except cib.CibError:
            continue
        found = value_problems(copy.deepcopy(root))
        if found:
            refused[path.name] = found[:2]
    assert not refused, refused


def test_a_bad_value_that_reaches_the_scheduler_anyway_does_not_stop_it() -> None:
    """An older CIB, written before the checks, with the interval that froze the DC: the plan is still made and
    the other resource is still managed."""
    from paceline.policy.scheduler import schedule

    from tests.support.cibs import NOW, node_state
    from tests.support.cibs import cib as make_cib

    for interval in ("9" * 5000, "abc", "-5s", "1e999"):
        bad = ('<primitive id="bad" class="ocf" provider="heartbeat" type="Dummy"><operations>'
               f'<op id="bad-mon" name="monitor" interval="{interval}" timeout="20s"/></operations></primitive>'
               '<primitive id="good" class="ocf" provider="heartbeat" type="Dummy"/>')
        result = schedule(cib.parse_cib(make_cib(bad, node_state("node1") + node_state("node2"))), now=NOW)
        assert any("Start" in line and " good " in f" {line} " for line in result.summary), result.summary


def _catalog_context(**preferences: bool) -> Context:
    """A context whose nodes have the pacemaker and heartbeat providers' Dummy and an lsb script."""
    listing = {"ocf": {"pacemaker": ["Dummy"], "heartbeat": ["Dummy", "IPaddr2"]}, "lsb": ["cron"]}
    catalog = AgentCatalog(listing, lambda cls, provider, kind: None)
    return Context(local_node="primary", agent_known=catalog.known, agent_meta=catalog.meta,
                   preferences=Preferences(**preferences))


@pytest.mark.parametrize("agent", ["ocf:nosuch:Dummy", "ocf:heartbeat:NoSuch", "lsb:httpd"])
def test_an_agent_no_node_has_is_refused_unless_crmsh_is_told_to_ignore_it(root, agent: str) -> None:
    before = etree.tostring(root)
    with pytest.raises(CrmError, match=f"no such resource agent '{agent}'.*ignore_missing_metadata"):
        execute(root, f"configure primitive x {agent}", _catalog_context())
    assert etree.tostring(root) == before
    execute(root, f"configure primitive x {agent}", _catalog_context(ignore_missing_metadata=True))
    assert cib.find_resource(root, "x") is not None


def test_an_opt_in_cluster_takes_an_agent_no_node_has_yet(root) -> None:
    """crmsh's rule: where resources run only where allowed, the agent may be installed only there."""
    execute(root, "configure property symmetric-cluster=false", CTX)
    execute(root, "configure primitive x ocf:nosuch:Dummy", _catalog_context())


@pytest.mark.parametrize(("options", "message"), [
    (["core.nosuch=yes"], "unknown option 'core.nosuch'"),
    (["ui.ignore_missing_metadata=yes"], "unknown option"),
    (["core.ignore_missing_metadata=perhaps"], "not a boolean"),
    (["ignore_missing_metadata"], "expected SECTION.NAME=VALUE"),
])
def test_crmsh_options_are_checked(options: list[str], message: str) -> None:
    with pytest.raises(CrmError, match=message):
        Preferences.parse(options)
    assert Preferences.parse(["core.ignore_missing_metadata=Yes"]).to_wire() == {
        "core.ignore_missing_metadata": "yes"}
