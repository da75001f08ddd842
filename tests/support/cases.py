"""Scheduler cases as data: an input CIB and what crm_simulate printed for it, replayed through ``paceline simulate``.

A case folder has Pacemaker's regression layout: ``xml/NAME.xml`` (the CIB),
``summary/NAME.summary`` (``crm_simulate -S`` output) and, when the scores
are compared too, ``scores/NAME.scores`` (``crm_simulate -s`` output). Both
our folder (tests/scheduler_cases) and Pacemaker's own cases (../shared/
pacemaker-cases) are read with these functions.

Run as a program, this re-checks our cases with Debian's crm_simulate through
the oracle script in ../shared/tools (``--write`` stores its output)::

    python -m tests.support.cases [--write] [NAME ...]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from paceline.policy.simulate import run
from paceline.shared.lrm import pacemaker_digest, params_digest

#: Our own cases: hand-written CIBs whose expected output is crm_simulate's.
SCHEDULER_CASES = Path(__file__).resolve().parents[1] / "scheduler_cases"


def transition_summary(text: str) -> list[str] | None:
    """The "Transition Summary:" section of crm_simulate's (or our) output, runs of blanks folded to one,
    empty lines dropped; None if the output has no such section."""
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


def score_lines(text: str) -> list[str]:
    """The allocation and promotion score lines of an output, in order, whatever it bullets them with."""
    return [re.sub(r"^\s*\*\s+", "", line).strip() for line in text.splitlines()
            if re.match(r"^\s*(\*\s+)?pcmk__", line)]


@dataclass(frozen=True)
class Case:
    """One case of a case folder."""

    folder: Path
    name: str

    @property
    def xml(self) -> Path:
        return self.folder / "xml" / f"{self.name}.xml"

    @property
    def summary(self) -> Path:
        return self.folder / "summary" / f"{self.name}.summary"

    @property
    def scores(self) -> Path:
        return self.folder / "scores" / f"{self.name}.scores"

    def expected_summary(self) -> list[str] | None:
        return transition_summary(self.summary.read_text())

    def expected_scores(self) -> list[str] | None:
        """crm_simulate's score lines, or None when this case does not compare scores."""
        return score_lines(self.scores.read_text()) if self.scores.exists() else None


def cases(folder: Path = SCHEDULER_CASES) -> list[Case]:
    """Every case of a folder, by name."""
    return [Case(folder, p.stem) for p in sorted((folder / "xml").glob("*.xml"))]


def simulate(xml: Path, *args: str) -> tuple[int, str, str]:
    """``paceline simulate -x XML -S ARGS`` in-process: (exit status, stdout, stderr)."""
    return run(["-x", str(xml), "-S", *args])


def with_paceline_digests(xml_text: str) -> str:
    """The same CIB with every history digest of an empty definition written as Paceline's own recipe
    (``params_digest``) instead of Pacemaker's: the scheduler must read the two alike."""
    return xml_text.replace(pacemaker_digest({}), params_digest({}))


# ------------------------------------------------------------------ re-checking with crm_simulate

def _oracle(xml: Path, *args: str) -> str:
    """Debian's crm_simulate on a case, through ../shared/tools/pcmk_oracle.py."""
    shared = Path(os.environ.get("PACELINE_SHARED", Path(__file__).resolve().parents[3] / "shared"))
    tool = shared / "tools" / "pcmk_oracle.py"
    done = subprocess.run([sys.executable, str(tool), "-x", str(xml), *args], capture_output=True, text=True,
                          check=True)
    return done.stdout


def recheck(case: Case, write: bool) -> list[str]:
    """What differs between a case's stored expectation and crm_simulate's output now (stored if ``write``)."""
    problems = []
    summary = _oracle(case.xml, "-S", "--text-fancy")
    if not case.summary.exists() or transition_summary(summary) != case.expected_summary():
        problems.append("summary")
    if write:
        case.summary.parent.mkdir(exist_ok=True)
        case.summary.write_text(summary)
    if case.scores.exists():
        scores = _oracle(case.xml, "-s", "-R", "-Q")
        if score_lines(scores) != case.expected_scores():
            problems.append("scores")
        if write:
            case.scores.write_text(scores)
    return problems


def main(argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.support.cases", description=recheck.__doc__)
    ap.add_argument("--write", action="store_true", help="store crm_simulate's output as the expectation")
    ap.add_argument("names", nargs="*", help="cases to check (default: all)")
    args = ap.parse_args(argv)
    chosen = [c for c in cases() if not args.names or c.name in args.names]
    differing = 0
    for case in chosen:
        problems = recheck(case, args.write)
        differing += bool(problems)
        print(f"{case.name}: {'differs in ' + ' and '.join(problems) if problems else 'same'}")
    print(f"{len(chosen)} cases, {differing} differ from crm_simulate{' (rewritten)' if args.write else ''}")
    return 1 if differing and not args.write else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
