"""The fencing token: the highest DC term seen, surviving an executor restart."""

from __future__ import annotations

import pytest
from paceline.executor.gate import TermStore
from paceline.shared.bus import UserError


def test_older_terms_are_refused_and_the_newest_is_remembered(tmp_path):
    terms = TermStore(tmp_path / "executor.term")
    terms.admit(3)
    terms.admit(3)
    with pytest.raises(UserError) as err:
        terms.admit(2)
    assert err.value.code == "stale-term" and "term 2" in str(err.value)
    terms.admit(7)
    again = TermStore(tmp_path / "executor.term")
    assert again.term == 7
    with pytest.raises(UserError):
        again.admit(6)


def test_unreadable_term_file_starts_from_zero(tmp_path):
    (tmp_path / "executor.term").write_text("garbage")
    assert TermStore(tmp_path / "executor.term").term == 0
