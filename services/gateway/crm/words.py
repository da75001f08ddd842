"""Tokens of one crm command line and the small grammar pieces every command shares.

crmsh reads a line like a shell does (quotes group words, a backslash escapes),
then each command walks its words left to right. ``Words`` is that walk, and
it knows the command's name so that every error can say where it happened.

Reading a line is linear in its length: :func:`tokenize` is one regex scan
(``shlex``, which crmsh uses, grows each word a character at a time, so that
a 900 KB value took it ten seconds), and ``Words`` consumes the tokens through
an index, never by slicing or popping the front of the list. A line or a word
over its size limit (:mod:`paceline.shared.limits`) is refused before it is read.
"""

from __future__ import annotations

import re

from paceline.crm.errors import CrmError
from paceline.shared.limits import MAX_CRM_LINE_BYTES, MAX_CRM_WORD_BYTES, refusal, utf8_size

INFINITY = "INFINITY"
_SCORE_WORDS = {"inf": INFINITY, "+inf": INFINITY, "infinity": INFINITY, "+infinity": INFINITY,
                "-inf": "-" + INFINITY, "-infinity": "-" + INFINITY}
_INT = re.compile(r"^[+-]?\d+$")
#: One piece of a line, as a POSIX shell (and ``shlex.split(line, posix=True)``) reads it: blanks between
#: words; a run of plain characters; '...' (nothing escapes inside); "..." (a backslash escapes " and \
#: only, and stays before anything else); a backslash and the character it escapes. Every alternative
#: starts with a different character and its quantifiers are possessive, so a match never backtracks; a
#: quote or backslash that none of them takes is an unclosed quote or a backslash at the end.
_PIECE = re.compile(r"""
    (?P<blank> [ \t\r\n]++ )
  | (?P<plain> [^ \t\r\n'"\\]++ )
  | ' (?P<single> [^']*+ ) '
  | " (?P<double> [^"\\]*+ (?: \\. [^"\\]*+ )*+ ) "
  | \\ (?P<escaped> . )
  | (?P<open> ['"\\] )
""", re.VERBOSE | re.DOTALL)
_DOUBLE_ESCAPE = re.compile(r'\\(["\\])')
#: A line with none of these is its runs of plain characters (most lines: one C-level scan, no loop).
_QUOTING = re.compile(r"['\"\\\\]")
_PLAIN_WORD = re.compile(r"[^ \t\r\n]+")
#: A double-quoted part that reaches the end of the line on a backslash: shlex says "No escaped character".
_DOUBLE_ENDS_ESCAPING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+\\\Z', re.DOTALL)


def preview(text: str, most: int = 60) -> str:
    """``text`` quoted for an error message, cut to ``most`` characters (a 1 MiB line is not echoed back)."""
    return repr(text) if len(text) <= most else repr(text[:most]) + "..."


def tokenize(line: str) -> list[str]:
    """The words of ``line`` exactly as ``shlex.split(line, comments=False, posix=True)`` reads them, in one
    left-to-right scan; ValueError with shlex's message for an unclosed quote or a trailing backslash."""
    if not _QUOTING.search(line):
        return _PLAIN_WORD.findall(line)
    words: list[str] = []
    parts: list[str] = []
    in_word = False  # a word has begun, even if only with '' (which makes an empty word)
    pos, end = 0, len(line)
    match = _PIECE.match
    while pos < end:
        m = match(line, pos)
        assert m is not None  # every character starts one of the pieces
        kind = m.lastgroup or ""
        if kind == "blank":
            if in_word:
                words.append("".join(parts))
                parts.clear()
                in_word = False
        elif kind == "open":
            if line[pos] == "\\" or _DOUBLE_ENDS_ESCAPING.match(line, pos):
                raise ValueError("No escaped character")
            raise ValueError("No closing quotation")
        else:
            text = m.group(kind)
            parts.append(_DOUBLE_ESCAPE.sub(r"\1", text) if kind == "double" and "\\" in text else text)
            in_word = True
        pos = m.end()
    if in_word:
        words.append("".join(parts))
    return words


def check_line(line: str) -> None:
    """Refuse a line longer than :data:`~paceline.shared.limits.MAX_CRM_LINE_BYTES`, before reading it."""
    if len(line) * 4 > MAX_CRM_LINE_BYTES:  # otherwise it cannot be over, whatever its characters
        size = utf8_size(line)
        if size > MAX_CRM_LINE_BYTES:
            raise CrmError(refusal(f"the command line {preview(line)}", size, MAX_CRM_LINE_BYTES,
                                   "MAX_CRM_LINE_BYTES"))


def check_words(words: list[str]) -> None:
    """Refuse a word longer than :data:`~paceline.shared.limits.MAX_CRM_WORD_BYTES`."""
    for word in words:
        if len(word) * 4 > MAX_CRM_WORD_BYTES:
            size = utf8_size(word)
            if size > MAX_CRM_WORD_BYTES:
                command = " ".join(w for w in words[:2] if w is not word)
                raise CrmError(refusal(f"{command + ': ' if command else ''}the word {preview(word)}", size,
                                       MAX_CRM_WORD_BYTES, "MAX_CRM_WORD_BYTES"))


def split_words(line: str) -> list[str]:
    """Split a command line the way a shell would (quotes and backslashes), as crmsh does.

    A line over the size limits is refused with one line naming the limit; nothing has been read of it.
    """
    check_line(line)
    try:
        words = tokenize(line)
    except ValueError as exc:
        raise CrmError(f"cannot read the line: {exc} in {preview(line.strip(), 400)}") from None
    check_words(words)
    return words


def parse_score(text: str) -> str | None:
    """A score as the CIB spells it (``INFINITY``, ``-INFINITY``, an integer), or None if it is not one."""
    low = text.lower()
    if low in _SCORE_WORDS:
        return _SCORE_WORDS[low]
    if _INT.match(text):
        return str(int(text))
    return None


def split_pair(word: str) -> tuple[str, str] | None:
    """``name=value`` -> (name, value); None when the word has no ``=`` or no name."""
    name, sep, value = word.partition("=")
    if not sep or not name:
        return None
    return name, value


class Where:
    """The command an error belongs to: every message starts with its name (``configure primitive: ...``)."""

    def __init__(self, command: str):
        self.command = command

    def error(self, message: str) -> CrmError:
        return CrmError(f"{self.command}: {message}")

    def unexpected(self, word: str, expected: str) -> CrmError:
        return self.error(f"unexpected {word!r}, expected {expected}")


class Words(Where):
    """A cursor over the words of one command, named for error messages."""

    def __init__(self, command: str, words: list[str]):
        super().__init__(command)
        self.words = words
        self.pos = 0

    def __bool__(self) -> bool:
        return self.pos < len(self.words)

    def peek(self, ahead: int = 0) -> str | None:
        i = self.pos + ahead
        return self.words[i] if i < len(self.words) else None

    def take(self, what: str) -> str:
        """The next word, which must exist; ``what`` names it for the error."""
        if self.pos >= len(self.words):
            raise self.error(f"missing {what}")
        word = self.words[self.pos]
        self.pos += 1
        return word

    def unglue_colon(self) -> None:
        """Split a next word like ``"50: node1"`` (one quoted shell argument) into ``50:`` and ``node1``.

        crmsh reads ``crm configure location l r "50: node1"`` as if the words
        were typed separately, and the CLI hands us argv words quoted, so the
        score-colon may arrive glued to what follows it.
        """
        word = self.peek()
        if word is None or "=" in word:
            return
        head, sep, tail = word.partition(":")
        if sep and tail[:1].isspace() and tail.strip():
            self._replace_next([head + ":", *tail.split()])

    def _replace_next(self, new: list[str]) -> None:
        """Put ``new`` in place of the next word, in time proportional to ``new`` when it can.

        The words already taken are never read again, so ``new`` goes over the last of them and the next
        word, and the cursor steps back: the list keeps its length and nothing after it moves. Inserting
        into the list instead moves every word after it, once per rule of a location with many rules.
        """
        back = len(new) - 1
        if back <= self.pos:
            self.words[self.pos - back:self.pos + 1] = new
            self.pos -= back
        else:  # too few words taken yet (early in a command): insert
            self.words[self.pos:self.pos + 1] = new

    def take_if(self, *choices: str) -> str | None:
        word = self.peek()
        if word is not None and word in choices:
            self.pos += 1
            return word
        return None

    def rest(self) -> list[str]:
        out = self.words[self.pos:]
        self.pos = len(self.words)
        return out

    def pairs(self, stop: set[str] | frozenset[str] = frozenset()) -> list[tuple[str, str]]:
        """Consecutive ``name=value`` words, up to a keyword in ``stop`` or a word without ``=``."""
        out: list[tuple[str, str]] = []
        while self and self.peek() not in stop:
            pair = split_pair(self.peek() or "")
            if pair is None:
                break
            out.append(pair)
            self.pos += 1
        return out

    def end(self) -> None:
        """No words may remain."""
        if self:
            raise self.error(f"unexpected {self.peek()!r}")
