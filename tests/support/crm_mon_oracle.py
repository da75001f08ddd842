"""Debian's ``crm_mon`` as the reference for ``paceline status``: both pages for one CIB file, side by side.

``CIB_file=FILE crm_mon -1 -r`` is what ``crm status`` shows for a CIB; ``paceline --cib-file FILE status``
must print the same text. Only "Last updated" (the clock when each ran) may differ, so it is replaced in
both. Run as a program, this compares every case of Pacemaker's regression set and reports how many match
(``--switches=-n`` for another of crm_mon's switches, ``--diff NAME`` for one case's differences)::

    python -m tests.support.crm_mon_oracle [--switches "-r"] [--list] [--diff NAME]
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from paceline.shared.cib import parse_cib
from paceline.shared.cluster import crm_mon

CRM_MON = shutil.which("crm_mon")
#: Why a test comparing with crm_mon cannot run here.
MISSING = "Debian's crm_mon (package pacemaker-cli-utils) is not installed: it is the reference output"
LAST_UPDATED = re.compile(r"^  \* Last updated: .*$", re.MULTILINE)
#: crm_mon's switch for each section of ``paceline status`` (crm_mon.SHOW).
SWITCH = {"inactive": "-r", "bynode": "-n", "failcounts": "-f", "operations": "-o", "timing": "-t",
          "attributes": "-A", "tickets": "-c"}
CASES = Path(os.environ.get("PACELINE_SHARED", Path(__file__).resolve().parents[3] / "shared")) / "pacemaker-cases"


def normalized(page: str) -> str:
    """The page with its "Last updated" line (the time it was drawn) made the same for every run."""
    return LAST_UPDATED.sub("  * Last updated: (now)", page)


def reference_page(xml: Path, switches: Iterable[str]) -> str:
    """What ``CIB_file=xml crm_mon -1 SWITCHES`` prints (stdout; crm_mon logs configuration errors apart)."""
    assert CRM_MON is not None, MISSING
    env = {**os.environ, "CIB_file": str(xml)}
    done = subprocess.run([CRM_MON, "-1", *switches], env=env, capture_output=True, text=True, timeout=60)
    return done.stdout


def paceline_page(xml: Path, show: Iterable[str]) -> str:
    """``paceline --cib-file xml status`` with these sections, as the CLI renders a file."""
    return crm_mon.render(parse_cib(xml.read_bytes()), time.time(), frozenset(show))


def compare(xml: Path, show: Iterable[str]) -> list[str]:
    """The differences between the two pages (unified diff lines; none when they match)."""
    show = tuple(show)
    ours = normalized(paceline_page(xml, show))
    theirs = normalized(reference_page(xml, [SWITCH[s] for s in sorted(show)]))
    return list(difflib.unified_diff(theirs.splitlines(), ours.splitlines(), "crm_mon", "paceline", lineterm="",
                                     n=0))


def all_cases() -> list[Path]:
    return sorted((CASES / "xml").glob("*.xml"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", default="-r", help="crm_mon's switches, e.g. '-r' (crm status) or '-n -f'")
    parser.add_argument("--list", action="store_true", help="name the matching cases")
    parser.add_argument("--diff", metavar="NAME", help="print one case's differences")
    args = parser.parse_args(argv)
    by_switch = {v: k for k, v in SWITCH.items()}
    show = [by_switch[s] for s in args.switches.split()]
    if CRM_MON is None:
        print(MISSING, file=sys.stderr)
        return 2
    if args.diff:
        print("\n".join(compare(CASES / "xml" / f"{args.diff}.xml", show)))
        return 0
    matching = [xml.stem for xml in all_cases() if not compare(xml, show)]
    if args.list:
        print("\n".join(matching))
    print(f"{len(matching)} of {len(all_cases())} cases: paceline status == crm_mon -1 {args.switches}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
