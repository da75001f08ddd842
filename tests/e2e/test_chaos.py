"""A short run of bench/chaos.py (the Jepsen-style fault bench): faults on a 3-node lab, then the checks.

It must lose no acknowledged change, crash no service and converge. Double-active time is reported by the
bench, not judged here: with fencing disabled Pacemaker allows it too (watchdog self-fencing is what will
bring it to zero). The checker's arithmetic is tested directly below.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.e2e

BENCH = Path(__file__).resolve().parents[2] / "bench" / "chaos.py"


def chaos() -> ModuleType:
    spec = importlib.util.spec_from_file_location("chaos_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def test_double_active_intervals_from_journals_and_deaths() -> None:
    c = chaos()
    events = [c.Event(1.0, "start", "a"), c.Event(3.0, "start", "b"), c.Event(4.0, "died", "a"),
              c.Event(6.0, "start", "a"), c.Event(6.5, "stop", "b"), c.Event(9.0, "start", "c")]
    spans = c.intervals(events, end=10.0)
    assert spans == {"a": [(1.0, 4.0), (6.0, 10.0)], "b": [(3.0, 6.5)], "c": [(9.0, 10.0)]}
    assert c.double_active(spans) == [(3.0, 4.0), (6.0, 6.5), (9.0, 10.0)]
    assert c.double_active({"a": [(0.0, 1.0)], "b": [(1.0, 2.0)]}) == []  # a hand-over is not an overlap


def test_a_short_chaos_run_loses_nothing_crashes_nothing_and_converges(tmp_path: Path) -> None:
    out = tmp_path / "chaos.json"
    done = subprocess.run([sys.executable, str(BENCH), "--duration", "30", "--min-faults", "5", "--seed", "11",
                           "--quiet", "--out", str(out), "--keep-logs", str(tmp_path / "logs")],
                          capture_output=True, text=True, timeout=600)
    assert out.exists(), done.stdout + done.stderr
    report = json.loads(out.read_text())
    print(done.stdout)
    assert sum(report["faults"].values()) >= 5, report["faults"]
    assert report["acknowledged"] > 0
    assert report["lost"] == [], report
    assert report["crashes"] == [], report
    assert report["converged_after"] is not None, report
    assert done.returncode == 0, done.stdout + done.stderr
