"""Size limits of crm input, and a guard that reading a command stays linear in its length.

Nothing here is timed (speed lives in ``bench/crm_parse.py``). Linearity is checked by counting what a
command does instead: the Python lines it runs (a loop over the words inside a loop over the words shows
as a count that grows with the square of their number), the whole-CIB searches it makes (one search per
word was the usual quadratic step, and it hides in lxml's C code, out of the line count's sight), and
the regex matches the tokenizer needs (a constant number per quoted value, whatever its length).
"""

from __future__ import annotations

import asyncio
import copy
import random
import shlex
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from paceline.cli import main as cli
from paceline.crm import CrmError, CrmScriptError, execute, execute_script, split_words, words
from paceline.crm.references import repoint, repoint_all
from paceline.crm.words import tokenize
from paceline.shared import bus, cib, limits
from paceline.shared.limits import MAX_CRM_LINE_BYTES, MAX_CRM_WORD_BYTES

from tests.support.crm import CTX, found


@pytest.fixture
def root() -> etree._Element:
    r = cib.empty(["primary", "secondary"])
    execute(r, "configure primitive a Dummy", CTX)
    return r


def text(el: etree._Element) -> str:
    return etree.tostring(el, encoding="unicode")


def sized(head: str, size: int) -> str:
    """``head`` followed by parameters up to exactly ``size`` bytes (ASCII)."""
    pairs = []
    length = len(head)
    i = 0
    while length + 12 < size:
        pairs.append(f"p{i:08d}=v")
        length += 12
        i += 1
    line = " ".join([head, *pairs])
    return line + " " + "q=" + "x" * (size - len(line) - 3)


LONG_LINE = sized("configure primitive big Dummy params", MAX_CRM_LINE_BYTES + 1)
LONG_WORD = "configure primitive big Dummy params text=" + "x" * MAX_CRM_WORD_BYTES


# ---------------------------------------------------------------- the limits themselves

def test_the_limits_fit_one_another() -> None:
    assert limits.MAX_BUS_MESSAGE_BYTES == 1024 * 1024   # NATS's default max_payload
    assert MAX_CRM_WORD_BYTES < MAX_CRM_LINE_BYTES <= limits.MAX_BUS_MESSAGE_BYTES
    assert limits.MAX_CIB_BYTES > limits.MAX_BUS_MESSAGE_BYTES   # a CIB crosses the bus compressed
    assert limits.human(MAX_CRM_LINE_BYTES) == "1 MiB" and limits.human(MAX_CRM_WORD_BYTES) == "64 KiB"
    assert limits.human(1000) == "1,000 bytes"
    assert limits.refusal("the CIB", 9_437_184, limits.MAX_CIB_BYTES, "MAX_CIB_BYTES") == \
        "the CIB is 9,437,184 bytes: over the limit of 8 MiB (MAX_CIB_BYTES)"


def test_sizes_are_utf8_bytes() -> None:
    assert limits.utf8_size("abc") == 3
    assert limits.utf8_size("é€") == 5


# ---------------------------------------------------------------- refusals

def test_a_line_over_the_limit_is_refused_with_one_line_naming_the_limit() -> None:
    assert len(LONG_LINE) == MAX_CRM_LINE_BYTES + 1
    with pytest.raises(CrmError) as err:
        split_words(LONG_LINE)
    message = str(err.value)
    assert message.startswith("the command line 'configure primitive big Dummy params p000")
    assert message.endswith("is 1,048,577 bytes: over the limit of 1 MiB (MAX_CRM_LINE_BYTES)")
    assert "\n" not in message and len(message) < 200


def test_a_line_at_the_limit_is_read() -> None:
    line = sized("configure primitive big Dummy params", MAX_CRM_LINE_BYTES)
    assert len(line) == MAX_CRM_LINE_BYTES
    assert split_words(line)[-1].startswith("q=x")


def test_the_line_limit_counts_bytes_not_characters() -> None:
    line = "configure property x=" + "é" * (MAX_CRM_LINE_BYTES // 2)   # fewer characters than the limit
    assert len(line) < MAX_CRM_LINE_BYTES
    with pytest.raises(CrmError, match=r"bytes: over the limit of 1 MiB \(MAX_CRM_LINE_BYTES\)$"):
        split_words(line)


def test_a_word_over_the_limit_is_refused_naming_the_command_and_the_word() -> None:
    with pytest.raises(CrmError) as err:
        split_words(LONG_WORD + "x")
    assert str(err.value) == ("configure primitive: the word 'text=" + "x" * 55 + "'... is 65,542 bytes: "
                              "over the limit of 64 KiB (MAX_CRM_WORD_BYTES)")
    long_value = "configure primitive big Dummy params text=" + "x" * (MAX_CRM_WORD_BYTES - 5)
    assert split_words(long_value)[-1] == "text=" + "x" * (MAX_CRM_WORD_BYTES - 5)


def test_an_unreadable_long_line_is_not_echoed_whole() -> None:
    with pytest.raises(CrmError, match="cannot read the line: No closing quotation in \"configure") as err:
        split_words("configure property x='" + "y" * 10_000)
    assert len(str(err.value)) < 500


@pytest.mark.parametrize("line", [LONG_LINE, LONG_WORD + "x"], ids=["line", "word"])
def test_over_a_limit_nothing_is_written(root, line: str) -> None:
    before = text(root)
    with pytest.raises(CrmError, match="over the limit"):
        execute(root, line, CTX)
    assert text(root) == before


def test_a_script_reports_its_long_line_and_runs_the_others(root) -> None:
    with pytest.raises(CrmScriptError) as err:
        execute_script(root, ["configure primitive b Dummy", LONG_LINE, "configure primitive c Dummy"], CTX)
    assert len(err.value.errors) == 1
    assert err.value.errors[0].startswith("line 2: the command line 'configure primitive big")
    assert err.value.errors[0].endswith("(MAX_CRM_LINE_BYTES)")
    assert cib.find_resource(root, "big") is None
    assert cib.find_resource(root, "b") is not None and cib.find_resource(root, "c") is not None


@pytest.fixture
def cib_file(tmp_path: Path) -> Path:
    path = tmp_path / "cib.xml"
    path.write_text(cib.serialize(cib.empty(["primary", "secondary"])))
    return path


def test_the_cli_refuses_a_long_word_with_one_line_and_writes_nothing(cib_file: Path, capsys) -> None:
    before = cib_file.read_bytes()
    code = cli.main(["--cib-file", str(cib_file), *shlex.split(LONG_WORD), "x"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("ERROR: configure primitive: the word 'text=xxx") and err.count("\n") == 1, err[:300]
    assert "(MAX_CRM_WORD_BYTES)" in err
    assert cib_file.read_bytes() == before


def test_the_cli_refuses_a_long_line_before_it_goes_to_the_cluster(monkeypatch, capsys) -> None:
    """Not a bus error after sending it: the line is refused where it is typed."""
    from paceline.cli import oneshot

    def no_bus(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the line went to the cluster")

    monkeypatch.delenv("CIB_file", raising=False)
    monkeypatch.delenv("CIB_shadow", raising=False)
    monkeypatch.setattr(oneshot, "live_request", no_bus)
    monkeypatch.setattr(oneshot, "gateway_client", no_bus)
    assert cli.main(shlex.split(LONG_LINE)) == 1
    err = capsys.readouterr().err
    assert err.startswith("ERROR: the command line 'configure primitive big") and err.count("\n") == 1
    assert err.rstrip().endswith("is 1,048,577 bytes: over the limit of 1 MiB (MAX_CRM_LINE_BYTES)")


def test_a_script_with_a_long_line_fails_on_that_line_only(cib_file: Path, tmp_path: Path, capsys) -> None:
    script = tmp_path / "long.crm"
    script.write_text("\n".join(["configure primitive b Dummy", LONG_LINE, "configure primitive c Dummy"]) + "\n")
    assert cli.main(["--cib-file", str(cib_file), "-f", str(script)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ERROR: line 2: the command line 'configure primitive big") and err.count("\n") == 1
    assert 'id="b"' in cib_file.read_text() and 'id="c"' in cib_file.read_text()


def test_the_gateway_refuses_a_long_line_before_reading_the_cib() -> None:
    from paceline.gateway.service import Gateway
    from paceline.shared.messages import CrmRequest

    gateway = Gateway(types.SimpleNamespace(subjects=None))  # type: ignore[arg-type]

    async def no_cib(*args: Any) -> Any:
        raise AssertionError("the CIB was read")

    gateway.apply = no_cib  # type: ignore[method-assign,assignment]
    with pytest.raises(bus.UserError) as err:
        asyncio.run(gateway.crm(CrmRequest(lines=[LONG_LINE], node="primary")))
    assert err.value.code == "crm"
    assert str(err.value).endswith("is 1,048,577 bytes: over the limit of 1 MiB (MAX_CRM_LINE_BYTES)")


# ---------------------------------------------------------------- the tokenizer

SHLEX_CASES = ["", "a", "  a  b ", "a'b c'd", 'a"b \\" \\\\ \\c"d', "a\\ b", "''", '""', "a '' b", "'a", '"a',
               "a\\", '"a\\', '"a\\"', "x='a b' y=\"c d\"", "tab\tand\nnewline\rcr", "\x0bvt\xa0nbsp",
               "a\\\nb", '"\\\n"', "#not a comment", "é 'ü' \"ß\""]


def shlex_split(line: str) -> list[str] | str:
    try:
        return shlex.split(line, comments=False, posix=True)
    except ValueError as exc:
        return str(exc)


def our_split(line: str) -> list[str] | str:
    try:
        return tokenize(line)
    except ValueError as exc:
        return str(exc)


@pytest.mark.parametrize("line", SHLEX_CASES)
def test_the_tokenizer_reads_a_line_as_shlex_does(line: str) -> None:
    assert our_split(line) == shlex_split(line)


def test_the_tokenizer_agrees_with_shlex_on_random_lines() -> None:
    rnd = random.Random(12)
    alphabet = "ab =:'\"\\\t\n#(é\x0b"
    for _ in range(5000):
        line = "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(12)))
        assert our_split(line) == shlex_split(line), repr(line)


class CountingPattern:
    """A compiled pattern that counts its ``match`` calls."""

    def __init__(self, pattern: Any):
        self.pattern = pattern
        self.matches = 0

    def match(self, *args: Any) -> Any:
        self.matches += 1
        return self.pattern.match(*args)

    def search(self, *args: Any) -> Any:
        return self.pattern.search(*args)


@pytest.mark.parametrize("quoted", ['"{}"', "'{}'"])
def test_a_long_quoted_value_is_one_regex_match_whatever_its_length(monkeypatch, quoted: str) -> None:
    """shlex grows a word a character at a time (copying it each time): 900 KB took ten seconds."""
    counting = CountingPattern(words._PIECE)
    monkeypatch.setattr(words, "_PIECE", counting)
    for n in (10, 100_000):
        counting.matches = 0
        value = ("x y \\\" z " if quoted.startswith('"') else "x y \" z ") * n
        assert tokenize("text=" + quoted.format(value)) == ["text=" + value.replace('\\"', '"')]
        assert counting.matches == 2   # text= and the quoted part


def test_a_line_without_quotes_is_not_read_piece_by_piece(monkeypatch) -> None:
    counting = CountingPattern(words._PIECE)
    monkeypatch.setattr(words, "_PIECE", counting)
    assert tokenize(" a  b\tc\n") == ["a", "b", "c"]
    assert counting.matches == 0


# ---------------------------------------------------------------- commands: work in proportion to their words

def executed_lines(run: Callable[[], object]) -> int:
    """The Python lines ``run`` executes: what a loop costs, counted instead of timed."""
    count = 0

    def trace(frame: types.FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        run()
    finally:
        sys.settrace(previous)
    return count


def cib_with(primitives: int) -> etree._Element:
    r = cib.empty(["primary", "secondary"])
    res = cib.section(r, "resources")
    for i in range(primitives):
        etree.SubElement(res, "primitive", {"id": f"r{i}", "class": "ocf", "provider": "heartbeat",
                                            "type": "Dummy"})
    return r


def members(n: int) -> str:
    return " ".join(f"r{i}" for i in range(n))


#: name -> (n -> the command with n words of its kind, and how many primitives the CIB needs).
LONG_COMMANDS: dict[str, Callable[[int], tuple[str, int]]] = {
    "params": lambda n: ("configure primitive big Dummy params " + " ".join(f"p{i}=v" for i in range(n)), 0),
    "op params": lambda n: ("configure primitive big Dummy op monitor interval=10s "
                            + " ".join(f"p{i}=v" for i in range(n)), 0),
    "ops": lambda n: ("configure primitive big Dummy " + " ".join(f"op monitor interval={i + 1}s"
                                                                  for i in range(n)), 0),
    "named sets": lambda n: ("configure primitive big Dummy " + " ".join(f"meta $id=m{i} a=1" for i in range(n))
                             + " params x=1", 0),
    "rsc_defaults": lambda n: ("configure rsc_defaults " + " ".join(f"p{i}=v" for i in range(n)), 0),
    "node": lambda n: ("configure node third attributes " + " ".join(f"p{i}=v" for i in range(n)), 0),
    "group": lambda n: ("configure group g " + members(n), n),
    "tag": lambda n: ("configure tag t " + members(n), n),
    "order": lambda n: ("configure order o Mandatory: " + members(n), n),
    "sets": lambda n: ("configure colocation c inf: " + " ".join(f"(r{2 * i} r{2 * i + 1})" for i in range(n // 2)),
                       n),
    "rule": lambda n: ("configure location l r0 rule 100: #uname eq a "
                       + " ".join(f"or #uname eq n{i}" for i in range(n)), 1),
    "rules": lambda n: ("configure location l r0 " + " ".join(f"rule '100: #uname' eq n{i}" for i in range(n)), 1),
    "resource stop": lambda n: ("resource stop " + members(n), n),
    "delete": lambda n: ("configure delete " + members(n), n),
    "show xml": lambda n: ("configure show xml " + members(n), n),
}
#: The searches of the whole CIB a command may make a few of, but not one per word.
CIB_SEARCHES = ("find_id", "find_resource", "iter_ids")


@pytest.mark.parametrize("shape", sorted(LONG_COMMANDS))
def test_a_command_does_work_in_proportion_to_its_words(monkeypatch, shape: str) -> None:
    """Four times the words: about four times the lines run (quadratic work made it 9 to 12 times) and
    no more searches of the whole CIB."""
    execute(cib_with(2), "configure primitive warm Dummy params a=1", CTX)   # imports done
    searches: dict[str, int] = dict.fromkeys(CIB_SEARCHES, 0)

    def counted(name: str) -> Callable[..., Any]:
        real = getattr(cib, name)

        def search(*args: Any, **kwargs: Any) -> Any:
            searches[name] += 1
            return real(*args, **kwargs)

        return search

    for name in CIB_SEARCHES:
        monkeypatch.setattr(cib, name, counted(name))
    lines, made = [], []
    for n in (100, 400):
        line, primitives = LONG_COMMANDS[shape](n)
        r = cib_with(primitives)
        for name in searches:
            searches[name] = 0
        lines.append(executed_lines(lambda r=r, line=line: execute(r, line, CTX)))  # type: ignore[misc]
        made.append(dict(searches))
    assert lines[1] < 4.6 * lines[0], f"{shape}: {lines[0]} lines for 100 words, {lines[1]} for 400"
    assert made[1] == made[0], f"{shape}: whole-CIB searches {made[0]} for 100 words, {made[1]} for 400"


# ---------------------------------------------------------------- what the indexes must not change

def test_generated_ids_skip_the_ones_in_use() -> None:
    r = cib_with(6)
    execute(r, "configure primitive l-rule-expression-1 Dummy", CTX)
    execute(r, "configure primitive c-1 Dummy", CTX)
    execute(r, "configure location l r0 rule 100: #uname eq a or #uname eq b or #uname eq c or #uname eq d", CTX)
    assert [e.get("id") for e in found(r, "l-rule")] == [
        "l-rule-expression", "l-rule-expression-0", "l-rule-expression-2", "l-rule-expression-3"]
    execute(r, "configure colocation c inf: ( r0 r1 ) ( r2 r3 ) ( r4 r5 )", CTX)
    assert [s.get("id") for s in found(r, "c")] == ["c-0", "c-1-0", "c-2"]


def test_repoint_all_is_repoint_member_after_member() -> None:
    r = cib.empty(["primary"])
    for rid in ("m1", "m2", "m3", "x", "y"):
        execute(r, f"configure primitive {rid} Dummy", CTX)
    cons = cib.section(r, "constraints")
    for xml in ('<rsc_colocation id="c12" rsc="m1" with-rsc="m2" score="INFINITY"/>',
                '<rsc_order id="o1x" first="m1" then="x"/>',
                '<rsc_location id="l3" rsc="m3" node="primary" score="5"/>',
                '<rsc_order id="s"><resource_set id="s-0"><resource_ref id="m2"/><resource_ref id="x"/>'
                '<resource_ref id="m3"/></resource_set></rsc_order>',
                '<rsc_order id="dup"><resource_set id="dup-0"><resource_ref id="x"/><resource_ref id="y"/>'
                '<resource_ref id="x"/></resource_set></rsc_order>',
                '<rsc_colocation id="cy" rsc="y" with-rsc="m3" score="10"/>'):
        cons.append(etree.fromstring(xml))
    one_by_one = copy.deepcopy(r)
    notes = [note for old in ("m1", "m2", "m3") for note in repoint(one_by_one, old, "g")]
    assert repoint_all(r, ["m1", "m2", "m3"], "g") == notes
    assert text(r) == text(one_by_one)
    assert any("would constrain g with itself" in note for note in notes)


def test_deleting_a_group_and_its_members_in_one_command(root) -> None:
    execute(root, "configure primitive b Dummy", CTX)
    execute(root, "configure group g a b", CTX)
    out = execute(root, "configure delete a b g", CTX)
    assert "group 'g' is empty now; deleted" in out.output
    assert cib.find_id(root, "g") is None and cib.find_resource(root, "a") is None
