"""The crm lexer and the grammar pieces every command shares."""

from __future__ import annotations

import pytest
from paceline.crm import CrmError, split_words
from paceline.crm.dispatch import logical_lines
from paceline.crm.lifetime import expiry, parse_duration
from paceline.crm.words import Words, parse_score, split_pair


def test_split_words_quotes_like_a_shell() -> None:
    assert split_words("configure primitive d1 Dummy params fake='a b' state=\"x y\"") == [
        "configure", "primitive", "d1", "Dummy", "params", "fake=a b", "state=x y"]
    assert split_words(r"a b\ c") == ["a", "b c"]


def test_split_words_unterminated_quote_is_one_line_error() -> None:
    with pytest.raises(CrmError, match="cannot read the line") as err:
        split_words("configure property x='oops")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(("text", "score"), [
    ("inf", "INFINITY"), ("+inf", "INFINITY"), ("INFINITY", "INFINITY"), ("-inf", "-INFINITY"),
    ("-INFINITY", "-INFINITY"), ("100", "100"), ("+5", "5"), ("-20", "-20"), ("0", "0"),
    ("abc", None), ("10s", None), ("", None)])
def test_parse_score(text: str, score: str | None) -> None:
    assert parse_score(text) == score


def test_split_pair() -> None:
    assert split_pair("a=b=c") == ("a", "b=c")
    assert split_pair("a=") == ("a", "")
    assert split_pair("=x") is None
    assert split_pair("plain") is None


def test_words_cursor_errors_name_the_command() -> None:
    w = Words("configure thing", ["x", "k=v", "j=w", "tail"])
    assert w.take("id") == "x"
    assert w.pairs() == [("k", "v"), ("j", "w")]
    with pytest.raises(CrmError, match=r"^configure thing: unexpected 'tail'$"):
        w.end()
    w.take("tail")
    with pytest.raises(CrmError, match=r"^configure thing: missing node name$"):
        w.take("node name")


def test_logical_lines_join_continuations_and_skip_comments() -> None:
    lines = ["# comment", "", "primitive d1 Dummy \\", "\top monitor interval=10s", "  # indented comment",
             "node standby"]
    assert logical_lines(lines) == [(3, "primitive d1 Dummy op monitor interval=10s"), (6, "node standby")]


def test_iso_durations() -> None:
    from datetime import UTC, datetime

    assert parse_duration("PT1H") is not None
    assert parse_duration("P") is None
    assert parse_duration("primary") is None
    start = datetime(2024, 1, 31, 12, 0, tzinfo=UTC)
    month, hours = parse_duration("P1M"), parse_duration("P1DT2H30M")
    assert month is not None and hours is not None
    assert expiry(month, start) == "2024-02-29 12:00:00 +00:00"
    assert expiry(hours, start) == "2024-02-01 14:30:00 +00:00"
