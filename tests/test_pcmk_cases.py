"""Pacemaker's scheduler regression cases, run in-process through ``paceline simulate``'s code path.

The pass counts may only rise: tests/pcmk_cases_floor.txt records the lowest
acceptable number of Transition Summaries that match, tests/pcmk_scores_floor.txt
that of allocation score sets, and this test fails if a change loses either.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tests.support.cases import cases
from tests.support.pcmk_tally import check

FLOOR_FILE = Path(__file__).with_name("pcmk_cases_floor.txt")
SCORES_FLOOR_FILE = Path(__file__).with_name("pcmk_scores_floor.txt")


def test_pacemaker_cases_pass_count_does_not_drop(shared_dir):
    every = cases(Path(shared_dir) / "pacemaker-cases")
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:      # one case per process at a time: no shared state
        verdicts = list(pool.map(check, every, chunksize=8))
    failed = [name for name, ok, _ in verdicts if not ok]
    passed = len(every) - len(failed)
    floor = int(FLOOR_FILE.read_text().split()[0])
    assert passed >= floor, f"{passed} of {len(every)} cases pass, floor is {floor}; failing: {failed}"
    scored = [(name, ok) for name, _, ok in verdicts if ok is not None]
    score_failed = [name for name, ok in scored if not ok]
    score_floor = int(SCORES_FLOOR_FILE.read_text().split()[0])
    assert len(scored) - len(score_failed) >= score_floor, \
        f"{len(scored) - len(score_failed)} of {len(scored)} score sets match, floor is {score_floor}; " \
        f"failing: {score_failed}"
