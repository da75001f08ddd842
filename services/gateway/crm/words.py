"""Tokens of one crm command line and the small grammar pieces every command shares.

crmsh reads a line like a shell does (quotes group words, a backslash escapes),
then each command walks its words left to right. ``Words`` is that walk, and
it knows the command's name so that every error can say where it happened.
"""

from __future__ import annotations

import re
import shlex

from paceline.crm.errors import CrmError

INFINITY = "INFINITY"
_SCORE_WORDS = {"inf": INFINITY, "+inf": INFINITY, "infinity": INFINITY, "+infinity": INFINITY,
                "-inf": "-" + INFINITY, "-infinity": "-" + INFINITY}
_INT = re.compile(r"^[+-]?\d+$")


def split_words(line: str) -> list[str]:
    """Split a command line the way a shell would (quotes and backslashes), as crmsh does."""
    try:
        return shlex.split(line, comments=False, posix=True)
    except ValueError as exc:
        raise CrmError(f"cannot read the line: {exc} in {line.strip()!r}") from None


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
            self.words[self.pos:self.pos + 1] = [head + ":", *tail.split()]

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
