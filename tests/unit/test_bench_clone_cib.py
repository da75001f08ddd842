"""The scheduler bench's clone shape: bench/gen_clone_cib.py writes a valid, settled CIB whose node loss
promotes the best-scored survivor, and bench/scheduler.py warns when the two tools' summaries differ.

Pacemaker's own verdicts (``crm_verify -x``, ``crm_simulate -R``) are asked where pacemaker-cli-utils is
installed; without it those two tests skip.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.cases import simulate, transition_summary

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module     # dataclasses resolve their module's annotations through sys.modules
    spec.loader.exec_module(module)
    return module


gen = _load("gen_clone_cib")
bench = _load("scheduler")
SMALL = {"nodes": 5, "clones": 4, "promotable": 12, "seed": 3}


def _write(tmp_path: Path, offline: int) -> tuple[Path, Any]:
    lay = gen.plan(SMALL["nodes"], SMALL["clones"], SMALL["promotable"], offline, SMALL["seed"])
    path = tmp_path / f"clones-{offline}.xml"
    path.write_text(gen.render(lay))
    return path, lay


def _paceline_summary(path: Path) -> list[str]:
    rc, out, err = simulate(path)
    assert rc == 0, err
    summary = transition_summary(out)
    assert summary is not None, out
    return summary


def test_scores_are_distinct_and_highest_where_promoted():
    lay = gen.plan(16, 0, 50, 1, 1)
    for home, scores in zip(lay.promoted_on, lay.scores, strict=True):
        assert len(set(scores.values())) == 16
        assert max(scores, key=scores.get) == home
    assert lay == gen.plan(16, 0, 50, 1, 1)


def test_settled_cluster_has_nothing_to_do(tmp_path):
    path, _lay = _write(tmp_path, offline=0)
    assert _paceline_summary(path) == []


def test_node_loss_promotes_the_best_scored_survivor(tmp_path):
    path, lay = _write(tmp_path, offline=1)
    (lost,) = lay.down
    expected = []
    for p, (home, scores) in enumerate(zip(lay.promoted_on, lay.scores, strict=True)):
        if home == lost:
            best = max((n for n in lay.nodes if n != lost), key=scores.get)
            expected += [("Promote", f"ms{p}_r", best), ("Start", f"svc{p}", best)]
    assert expected, "the seed must put a promoted instance on the lost node"
    got = []
    for line in _paceline_summary(path):
        words = line.replace("(", " ").replace(")", " ").split()
        got.append((words[1], words[2].split(":")[0], words[-1]))
    assert sorted(got) == sorted(expected)


def test_bad_arguments_are_one_line_errors(capsys):
    assert gen.main(["--nodes", "2", "--offline", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "offline" in err


@pytest.mark.skipif(shutil.which("crm_verify") is None, reason="needs crm_verify (Debian pacemaker-cli-utils)")
def test_crm_verify_accepts_it(tmp_path):
    path, _lay = _write(tmp_path, offline=1)
    assert bench.crm_verify(path) is True


@pytest.mark.skipif(shutil.which("crm_simulate") is None, reason="needs crm_simulate (Debian pacemaker-cli-utils)")
def test_crm_simulate_agrees(tmp_path):
    path, _lay = _write(tmp_path, offline=1)
    out = subprocess.run(["crm_simulate", "-x", str(path), "-R"], capture_output=True, text=True, check=True).stdout
    assert transition_summary(out) == _paceline_summary(path)


def test_warning_lines_name_the_shape_and_the_differences():
    def result(theirs: list[str], mine: list[str], valid: bool | None) -> Any:
        r = bench.Result(shape="16x200c+100p-failover", nodes=16, resources=400, actions=0, schedule_seconds=0.1,
                         paceline=bench.Run(1.0, 10.0, summary_lines=len(mine), summary=mine),
                         pacemaker=bench.Run(5.0, 10.0, summary_lines=len(theirs), summary=theirs),
                         same_summary=theirs == mine, valid=valid)
        if theirs != mine:
            r.summary_diff = bench.summary_diff(theirs, mine)
        return r

    same = ["* Promote ms1_r:0 ( Unpromoted -> Promoted node1 )"]
    assert bench.warnings([result(same, same, True)]) == []
    lines = bench.warnings([result(same, ["* Promote ms1_r:2 ( Unpromoted -> Promoted node3 )"], False)])
    assert any("crm_verify -x rejects" in line for line in lines)
    assert any(line.startswith("WARNING: 16x200c+100p-failover: Transition Summaries differ") for line in lines)
    assert any("node3" in line for line in lines) and any("node1" in line for line in lines)
