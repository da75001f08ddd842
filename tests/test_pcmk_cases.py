"""Pacemaker's scheduler regression cases, run in-process through ``paceline simulate``'s code path.

The pass count may only rise: tests/pcmk_cases_floor.txt records the lowest
acceptable number, and this test fails if a change loses a case.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.cases import cases, simulate, transition_summary

FLOOR_FILE = Path(__file__).with_name("pcmk_cases_floor.txt")
EXTRA_ARGS = {
    "date-1": ["-t", "2005-020"],
    "date-2": ["-t", "2005-020T12:30"],
    "date-3": ["-t", "2005-020T11:30"],
    "origin": ["-t", "2014-05-07 00:28:00"],
}


def test_pacemaker_cases_pass_count_does_not_drop(shared_dir):
    every = cases(Path(shared_dir) / "pacemaker-cases")
    failed: list[str] = []
    for case in every:
        code, out, _err = simulate(case.xml, *EXTRA_ARGS.get(case.name, []))
        if code != 0 or transition_summary(out) != case.expected_summary():
            failed.append(case.name)
    passed = len(every) - len(failed)
    floor = int(FLOOR_FILE.read_text().split()[0])
    assert passed >= floor, f"{passed} of {len(every)} cases pass, floor is {floor}; failing: {failed}"
