"""No CIB makes the scheduler (or the status page) raise; what cannot be used is reported and left out.

Issue 12: an op interval of 5,000 digits made every planning attempt raise,
so the DC managed nothing and ``paceline status`` failed until the object was
deleted. The cib-store now refuses such values, but a CIB stored before that
can still hold them. These tests hold the scheduler to Pacemaker's way: a
resource whose configuration cannot be used is reported as a configuration
error (and left out, or given the value Pacemaker uses instead), and every
other resource is still managed. The fuzzer (tests/support/cib_fuzz.py)
mutates CIBs at random; the named cases are the ones the issue lists, each
checked against what crm_simulate does with it.
"""

from __future__ import annotations

import json
import random
import types
from pathlib import Path

import pytest
from paceline.policy.scheduler import ScheduleResult
from paceline.policy.service import Policy
from paceline.policy.simulate import run as simulate
from paceline.shared.cib import parse_cib
from paceline.shared.cluster import crm_mon
from paceline.shared.cluster.model import node_sort_key
from paceline.shared.cluster.unpack import cib_now

from tests.support import cib_fuzz
from tests.support.cibs import NOW, both_online, cib, folded, lrm_rsc, node_state, nvpairs, prim, run

# ------------------------------------------------------------------ the fuzzer


def _report(failures: list[cib_fuzz.Failure]) -> str:
    return "\n\n".join(f"{f.seed_name} {f.mutations}: {f.stage}: {f.error}\n{f.trace}" for f in failures[:3])


def test_no_mutated_cib_makes_the_scheduler_or_the_status_page_raise() -> None:
    """200 mutated copies of two hand-made CIBs that use every kind of resource, constraint and history entry,
    1 to 6 mutations each, through the scheduler, ``paceline simulate -S``, ``resource why`` and the status page
    in every format."""
    runs, failures = cib_fuzz.fuzz(cib_fuzz.small_cibs(), random.Random(12), per_seed=100, now=NOW,
                                   max_mutations=6)
    assert runs == 200
    assert not failures, _report(failures)


def test_no_mutated_pacemaker_case_makes_the_scheduler_raise(shared_dir: Path) -> None:
    """Pacemaker's own regression inputs (the smaller ones), mutated."""
    paths = sorted(p for p in (shared_dir / "pacemaker-cases" / "xml").glob("*.xml") if p.stat().st_size < 20_000)
    picked = random.Random(5).sample(paths, 40)
    seeds = [(p.name, parse_cib(p.read_bytes())) for p in picked]
    runs, failures = cib_fuzz.fuzz(seeds, random.Random(7), per_seed=4, now=NOW, max_mutations=4)
    assert runs == 160
    assert not failures, _report(failures)


def test_the_fuzzer_reports_what_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    """A check of the check: were the scheduler to raise, the fuzzer would say so, and where."""
    import paceline.policy.scheduler as scheduler

    def broken(*_args: object, **_kwargs: object) -> ScheduleResult:
        raise ValueError("Exceeds the limit (4300 digits) for integer string conversion")

    monkeypatch.setattr(scheduler, "schedule", broken)
    runs, failures = cib_fuzz.fuzz(cib_fuzz.small_cibs()[:1], random.Random(1), per_seed=2, now=NOW)
    assert runs == 2 and [f.stage for f in failures] == ["schedule", "schedule"]
    assert "4300 digits" in failures[0].error


# ------------------------------------------------------------------ the cases of the issue

GOOD = prim("good1") + prim("good2")


def _op(interval: str = "10s", timeout: str = "20s") -> str:
    return (f'<primitive id="bad" class="ocf" provider="heartbeat" type="Dummy"><operations>'
            f'<op id="bad-mon" name="monitor" interval="{interval}" timeout="{timeout}"/></operations></primitive>')


def _clone(meta: dict[str, str]) -> str:
    return (f'<clone id="bad"><meta_attributes id="bad-meta">{nvpairs("bad", {"promotable": "true", **meta})}'
            '</meta_attributes><primitive id="st" class="ocf" provider="pacemaker" type="Stateful"/></clone>')


#: name -> (resources besides good1 and good2, what the configuration error says)
CASES = {
    "interval-5000-digits": (_op(interval="9" * 5000), "op 'bad-mon': interval="),
    "interval-abc": (_op(interval="abc"), "interval='abc' is not a duration"),
    "timeout-1e999": (_op(timeout="1e999"), "timeout='1e999' is not a duration"),
    "target-role-bogus": (prim("bad", {"target-role": "Bogus"}), "target-role='Bogus' is not one of"),
    "promoted-max-abc": (_clone({"promoted-max": "abc"}), "clone 'bad': promoted-max='abc'"),
    "no-type": ('<primitive id="bad" class="ocf" provider="heartbeat"/>', "primitive 'bad': type is missing"),
}


def _scheduled(resources: str) -> ScheduleResult:
    return run(cib(resources + GOOD, both_online()))


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_value_is_reported_and_the_rest_is_still_managed(name: str) -> None:
    resources, error = CASES[name]
    result = _scheduled(resources)
    assert any(error in line for line in result.state.config_errors), result.state.config_errors
    assert all(len(line) < 400 and "\n" not in line for line in result.state.config_errors)
    summary = folded(result)
    assert {line.split()[2] for line in summary if line.startswith("* Start")} >= {"good1", "good2"}, summary


def test_an_unusable_interval_or_timeout_is_what_pacemaker_uses_instead() -> None:
    """crm_simulate: an interval that is no duration is 0 (no recurring monitor), one too long for 32 bits is
    clipped to 4294967295 ms, a timeout that is no duration is the default 20 s."""
    monitors = {a.interval_ms for a in _scheduled(_op(interval="abc")).graph.actions
                if a.rsc == "bad" and a.task == "monitor"}
    assert monitors == {0}                 # the probes only
    clipped = {a.interval_ms for a in _scheduled(_op(interval="9" * 5000)).graph.actions
               if a.rsc == "bad" and a.task == "monitor"}
    assert clipped == {0, 2**32 - 1}
    timeouts = {a.timeout_ms for a in _scheduled(_op(timeout="1e999")).graph.actions if a.rsc == "bad"}
    assert timeouts == {20000}


def test_a_clone_with_an_unusable_promoted_max_promotes_none_as_pacemaker_does() -> None:
    """crm_simulate reads promoted-max=abc as 0: both instances start, none is promoted."""
    summary = folded(_scheduled(_clone({"promoted-max": "abc"})))
    assert "* Start st:0 ( node1 )" in summary and "* Start st:1 ( node2 )" in summary
    assert not any("Promote" in line for line in summary)


def test_a_primitive_without_a_type_is_left_out_and_named_in_the_status() -> None:
    """Pacemaker's schema refuses it and crm_mon does not list it; ``paceline status`` lists the others and
    says apart from the page (on stderr, where crm_mon logs it) why this one is missing."""
    xml = cib(CASES["no-type"][0] + GOOD, both_online())
    result = run(xml)
    assert "bad" not in result.state.by_id and not any(" bad " in line for line in folded(result))
    page, errors = crm_mon.page_and_notes(parse_cib(xml), "text", NOW)
    assert "good1" in page and " bad\t" not in page       # the page as crm_mon's; the error told apart
    assert errors == ["primitive 'bad': type is missing; resource ignored"]
    data = json.loads(crm_mon.render_as(parse_cib(xml), "json", NOW))
    assert data["config_errors"] == ["primitive 'bad': type is missing; resource ignored"]
    assert "config_error description=\"primitive 'bad': type is missing" in crm_mon.render_as(parse_cib(xml), "xml",
                                                                                            NOW)


def test_a_clone_whose_child_cannot_be_used_is_left_out_whole() -> None:
    """crm_simulate: the clone of a primitive without a type is ignored (Pacemaker's clone_unpack fails)."""
    result = _scheduled('<clone id="cl"><primitive id="bad" class="ocf" provider="heartbeat"/></clone>')
    assert "cl" not in result.state.by_id and "cl" in result.state.left_out
    assert "clone 'cl': its primitive 'bad' cannot be used; resource ignored" in result.state.config_errors
    assert folded(result) == ["* Start good1 ( node1 )", "* Start good2 ( node2 )"]


def test_a_constraint_naming_a_resource_left_out_is_an_error_and_one_naming_a_bundle_is_kept() -> None:
    constraints = ('<rsc_colocation id="c1" rsc="good1" with-rsc="bad" score="INFINITY"/>'
                   '<rsc_order id="o1" first="bun" then="good2"/>')
    bundle = '<bundle id="bun"><docker image="x"/></bundle>'
    result = run(cib(CASES["no-type"][0] + GOOD + bundle, both_online(), constraints))
    assert "colocation 'c1': with-rsc='bad', not a resource or tag that can be used; constraint ignored" in \
        result.state.config_errors
    assert not any("'o1'" in w for w in result.state.warnings)
    assert not any("'o1'" in e for e in result.state.config_errors)
    assert any(o.id == "o1" and o.first.id == "bun" for o in result.state.orderings)


def test_a_cluster_option_of_the_wrong_type_takes_its_default() -> None:
    """crm_simulate: "Using default value for cluster option 'no-quorum-policy' because 'bogus' is invalid"."""
    result = run(cib(GOOD, both_online(), options={"no-quorum-policy": "bogus", "stonith-action": "poweroff"},
                     quorum=False))
    assert result.state.no_quorum_policy == "stop"
    assert result.state.config_errors == ["cluster option no-quorum-policy='bogus' is not one of stop, freeze, "
                                          "ignore, demote, suicide; using the default"]


def test_a_rsc_defaults_value_is_reported_once_for_every_resource_reading_it() -> None:
    extra = f'<rsc_defaults><meta_attributes id="rd">{nvpairs("rd", {"resource-stickiness": "abc"})}' \
            '</meta_attributes></rsc_defaults>'
    result = run(cib(GOOD + prim("good3"), both_online(), extra_config=extra))
    assert result.state.config_errors == ["rsc_defaults: resource-stickiness='abc' is not a score (an integer, "
                                          "INFINITY or -INFINITY); using 0"]
    assert len(folded(result)) == 3


def test_a_huge_clone_max_does_not_build_instances_until_memory_runs_out() -> None:
    resources = f'<clone id="c"><meta_attributes id="c-m">{nvpairs("c", {"clone-max": "9" * 5000})}' \
                f'</meta_attributes>{prim("x")}</clone>'
    result = _scheduled(resources)
    assert len(result.state.clones["c"]) == 1000
    assert any("creating 1000" in line for line in result.state.config_errors)


def test_absurd_numbers_in_the_status_and_the_cib_header_are_no_error() -> None:
    """Node names, history fields and the execution-date of 5,000 digits: the plan is made, the page shown."""
    huge = "9" * 5000
    record = (f'<lrm_rsc_op id="good1_last_0" operation="start" interval="0" rc-code="{huge}" op-status="0" '
              f'call-id="{huge}" transition-key="1:1:{huge}:x" last-rc-change="{huge}"/>'
              f'<lrm_rsc_op id="good1_monitor_10000" operation="monitor" interval="{huge}" rc-code="1" op-status="0" '
              f'call-id="2" last-rc-change="{huge}"/>')
    xml = cib(GOOD, node_state("node1", lrm=lrm_rsc("good1", record)) + node_state(huge),
              nodes=("node1", huge)).replace("<cib ", f'<cib execution-date="{huge}" ')
    result = run(xml)
    assert any("good2" in line for line in folded(result))
    assert crm_mon.render_as(parse_cib(xml), "text", NOW)
    assert cib_now(parse_cib(xml), NOW) == (NOW, False)
    assert node_sort_key("n" + huge) > node_sort_key("n10") > node_sort_key("n9") == node_sort_key("n09")


# ------------------------------------------------------------------ who reports the errors


def test_paceline_simulate_prints_the_errors_with_v_as_crm_simulate_does(tmp_path: Path) -> None:
    """crm_simulate logs configuration errors on stderr with -V only; its stdout is the plan without them."""
    path = tmp_path / "bad.xml"
    path.write_text(cib(_op(interval="abc") + GOOD, both_online()))
    code, out, err = simulate(["-x", str(path)])
    assert code == 0 and err == "" and "Start      good1" in out
    code, out, err = simulate(["-x", str(path), "-V"])
    assert err == ("error: primitive 'bad': op 'bad-mon': interval='abc' is not a duration (such as 10s, 5min, "
                   "500ms or PT1M); using 0 ms\n")
    code, out, _err = simulate(["-x", str(path), "--output-as", "json"])
    assert json.loads(out)["config_errors"] == [err[len("error: "):].rstrip("\n")]


def test_the_dc_logs_the_errors_once_per_configuration_version() -> None:
    """The DC plans after every operation result: the same errors are logged again only when the configuration
    (admin_epoch.epoch) or the errors change."""
    logged: list[tuple[str, dict[str, object]]] = []
    log = types.SimpleNamespace(error=lambda event, **kw: logged.append((event, kw)))
    policy = types.SimpleNamespace(config_errors_logged=((-1, -1), ()), log=log)
    root = parse_cib(cib(GOOD, both_online()))
    report = Policy.report_config_errors
    report(policy, root, "0.1.0", ["e1"])             # type: ignore[arg-type]  # only what it touches
    report(policy, root, "0.1.1", ["e1"])             # type: ignore[arg-type]  # a status change: not again
    assert [kw["error"] for _event, kw in logged] == ["e1"]
    root.set("epoch", "2")
    report(policy, root, "0.2.0", ["e1"])             # type: ignore[arg-type]  # the configuration changed
    report(policy, root, "0.2.1", ["e1", "e2"])       # type: ignore[arg-type]  # new errors
    assert [kw["error"] for _event, kw in logged] == ["e1", "e1", "e1", "e2"]
