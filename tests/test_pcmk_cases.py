"""Pacemaker's scheduler regression cases, run in-process through ``paceline simulate``'s code path.

The pass count may only rise: tests/pcmk_cases_floor.txt records the lowest
acceptable number, and this test fails if a change loses a case.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tests.support.cases import Case, cases, simulate, transition_summary

FLOOR_FILE = Path(__file__).with_name("pcmk_cases_floor.txt")
EXTRA_ARGS = {
    "date-1": ["-t", "2005-020"],
    "date-2": ["-t", "2005-020T12:30"],
    "date-3": ["-t", "2005-020T11:30"],
    "origin": ["-t", "2014-05-07 00:28:00"],
}


def _matches(case: Case) -> bool:
    code, out, _err = simulate(case.xml, *EXTRA_ARGS.get(case.name, []))
    return code == 0 and transition_summary(out) == case.expected_summary()


def test_pacemaker_cases_pass_count_does_not_drop(shared_dir):
    every = cases(Path(shared_dir) / "pacemaker-cases")
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:      # one case per process at a time: no shared state
        verdicts = list(pool.map(_matches, every, chunksize=8))
    failed = [case.name for case, ok in zip(every, verdicts, strict=True) if not ok]
    passed = len(every) - len(failed)
    floor = int(FLOOR_FILE.read_text().split()[0])
    assert passed >= floor, f"{passed} of {len(every)} cases pass, floor is {floor}; failing: {failed}"
