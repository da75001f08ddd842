"""Pacemaker's scheduler regression cases, run in-process through ``paceline simulate``'s code path.

The pass count may only rise: tests/pcmk_cases_floor.txt records the lowest
acceptable number, and this test fails if a change loses a case.
"""

from __future__ import annotations

import re
from pathlib import Path

from paceline.policy.simulate import run

FLOOR_FILE = Path(__file__).with_name("pcmk_cases_floor.txt")
EXTRA_ARGS = {
    "date-1": ["-t", "2005-020"],
    "date-2": ["-t", "2005-020T12:30"],
    "date-3": ["-t", "2005-020T11:30"],
    "origin": ["-t", "2014-05-07 00:28:00"],
}


def transition_summary(text: str) -> list[str] | None:
    out: list[str] = []
    inside = False
    for line in text.splitlines():
        if line.startswith("Transition Summary:"):
            inside = True
            continue
        if inside and line.startswith(("Executing Cluster Transition:", "Revised Cluster Status:")):
            break
        if inside:
            folded = re.sub(r"\s+", " ", line).strip()
            if folded:
                out.append(folded)
    return out if inside else None


def test_pacemaker_cases_pass_count_does_not_drop(shared_dir):
    cases = Path(shared_dir) / "pacemaker-cases"
    names = sorted(p.stem for p in (cases / "xml").glob("*.xml"))
    failed: list[str] = []
    for name in names:
        expected = transition_summary((cases / "summary" / f"{name}.summary").read_text())
        code, out, _err = run(["-x", str(cases / "xml" / f"{name}.xml"), "-S", *EXTRA_ARGS.get(name, [])])
        if code != 0 or transition_summary(out) != expected:
            failed.append(name)
    passed = len(names) - len(failed)
    floor = int(FLOOR_FILE.read_text().split()[0])
    assert passed >= floor, f"{passed} of {len(names)} cases pass, floor is {floor}; failing: {failed}"
