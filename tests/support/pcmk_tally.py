"""Tally ``paceline simulate`` against the shared Pacemaker cases: summaries and allocation scores.

    python -m tests.support.pcmk_tally [--shared DIR] [--failing FILE] [NAME ...]

Prints how many cases match crm_simulate's Transition Summary (what
``../shared/tools/pcmk_cases.py`` counts) and how many of the cases that have a
``scores/`` file match its score lines (as a sorted multiset) (issue 14's second figure), then
the names that do not, one kind per line. Runs in-process over a process pool,
so a whole tally takes seconds rather than the tool's minute.
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tests.support.cases import Case, cases, score_lines, simulate, transition_summary

#: Cases that Pacemaker's own runner calls with an explicit "now" (as pcmk_cases.py does).
EXTRA_ARGS = {
    "date-1": ["-t", "2005-020"],
    "date-2": ["-t", "2005-020T12:30"],
    "date-3": ["-t", "2005-020T11:30"],
    "origin": ["-t", "2014-05-07 00:28:00"],
}


def check(case: Case) -> tuple[str, bool, bool | None]:
    """(name, summary matches, scores match or None when the case has no scores file)."""
    try:
        code, out, _err = simulate(case.xml, "-s", *EXTRA_ARGS.get(case.name, []))
    except Exception:  # a crash is a mismatch of both figures, reported by name
        return case.name, False, False if case.scores.exists() else None
    summary_ok = code == 0 and transition_summary(out) == case.expected_summary()
    expected = case.expected_scores()
    # The shared scores files are sorted (Pacemaker's regression runner sorts them), so lines compare as a
    # multiset: the same lines, each as often, whatever order the assignment printed them in.
    return case.name, summary_ok, None if expected is None else sorted(score_lines(out)) == sorted(expected)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[2].parent / "shared"))
    ap.add_argument("names", nargs="*")
    a = ap.parse_args(argv)
    every = cases(Path(a.shared) / "pacemaker-cases")
    if a.names:
        every = [c for c in every if c.name in set(a.names)]
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        results = list(pool.map(check, every, chunksize=8))
    summary_fail = [n for n, ok, _ in results if not ok]
    scored = [(n, ok) for n, _, ok in results if ok is not None]
    score_fail = [n for n, ok in scored if not ok]
    print(f"summaries: {len(results) - len(summary_fail)} of {len(results)}")
    print(f"scores: {len(scored) - len(score_fail)} of {len(scored)}")
    print("summary mismatches:", " ".join(summary_fail))
    print("score mismatches:", " ".join(score_fail))
    return 0


if __name__ == "__main__":
    sys.exit(main())
