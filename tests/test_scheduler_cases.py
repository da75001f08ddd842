"""Our hand-written scheduler cases: on each CIB, ``paceline simulate`` prints what crm_simulate printed.

tests/scheduler_cases holds small CIBs, each about one scheduling rule, with
Pacemaker 2.1.5's ``crm_simulate`` output for it (see its README). The whole
Transition Summary must be the same, and so must every score line where the
case keeps crm_simulate's scores. Histories record digests in Pacemaker's
recipe; each case is also run with Paceline's own recipe, which must decide
the same.
"""

from __future__ import annotations

import pytest

from tests.support.cases import Case, cases, score_lines, simulate, transition_summary, with_paceline_digests

CASES = cases()


def test_there_are_cases():
    assert len(CASES) >= 100


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_matches_crm_simulate(case: Case, tmp_path):
    code, out, err = simulate(case.xml, "-s")
    assert code == 0 and err == "", err
    expected = case.expected_summary()
    assert expected is not None, f"{case.summary} has no Transition Summary"
    assert transition_summary(out) == expected
    expected_scores = case.expected_scores()
    if expected_scores is not None:
        assert score_lines(out) == expected_scores
    text = case.xml.read_text()
    if with_paceline_digests(text) != text:
        variant = tmp_path / f"{case.name}.xml"
        variant.write_text(with_paceline_digests(text))
        code, out, err = simulate(variant)
        assert (code, err) == (0, "") and transition_summary(out) == expected, "with Paceline's digests"
