"""execute / execute_script: run crm command lines against a CIB, all or nothing per line.

Each line runs on a deep copy of the CIB; only when it succeeds and leaves no
new validation problem is the copy's content moved into the caller's tree. So
a failing line never leaves a half-applied change behind, and the caller's
root element stays the same object.
"""

from __future__ import annotations

import copy

from lxml import etree
from paceline.crm.context import Context, Outcome
from paceline.crm.errors import CrmError, CrmScriptError
from paceline.crm.registry import CRM, QUIT
from paceline.crm.words import Words, split_words
from paceline.shared import cib
from paceline.shared.cib import Element
from paceline.shared.cluster import checks

#: Level navigation words of crmsh scripts; changes here are applied at once, so these do nothing.
_NOOP = frozenset(("commit", "cd", "end", "up", "back", "refresh"))


def execute(root: Element, line: str, ctx: Context | None = None) -> Outcome:
    """Apply one top-level command line to ``root`` in place; on CrmError ``root`` is untouched."""
    return run_words(root, split_words(line), ctx or Context())


def run_words(root: Element, words: list[str], ctx: Context) -> Outcome:
    """``LEVEL COMMAND ARGS...``: the command's handler from the registry, on a copy unless it only reads."""
    if not words:
        raise CrmError("empty command")
    level = CRM.level(words[0])
    if level is None:
        raise CrmError(f"unknown command or level {words[0]!r} (expected one of {', '.join(CRM.names())})")
    command = level.command(words[1:])
    handler = command.run()
    args = Words(f"{level.name} {words[1]}", words[2:])
    if command.read_only:
        return Outcome(handler(root, args, ctx), changed=False)
    work = copy.deepcopy(root)
    cib.ensure_sections(work)
    before = checks.problems(root)
    output = handler(work, args, ctx)
    new_problems = checks.new_problems(before, work)
    if new_problems:
        raise CrmError(f"{' '.join(words[:2])}: {'; '.join(new_problems)}")
    changed = content(work) != content(root)
    if changed:
        adopt(root, work)
    return Outcome(output, changed)


def content(root: Element) -> bytes:
    return b"".join(etree.tostring(child) for child in root)


def adopt(root: Element, work: Element) -> None:
    root[:] = list(work)
    root.attrib.clear()
    root.attrib.update(dict(work.attrib))


def logical_lines(lines: list[str]) -> list[tuple[int, str]]:
    """(first line number, text) with ``\\``-continued lines joined, blanks and comments dropped."""
    out: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for n, raw in enumerate(lines, start=1):
        text = raw.rstrip("\n")
        if not pending:
            start = n
            if not text.strip() or text.lstrip().startswith("#"):
                continue
        if text.rstrip().endswith("\\"):
            pending.append(text.rstrip()[:-1])
            continue
        pending.append(text)
        out.append((start, " ".join(p.strip() for p in pending)))
        pending = []
    if pending:
        out.append((start, " ".join(p.strip() for p in pending)))
    return out


def execute_script(root: Element, lines: list[str], ctx: Context | None = None) -> Outcome:
    """Run lines like ``crm -f FILE``: a failing line is reported and the next one still runs.

    Lines may be top-level commands ("configure primitive ...") or, after a
    line holding only a level name ("configure"), commands of that level, as
    in crmsh scripts. Raises CrmScriptError (listing every failed line as
    "line N: ...") after the last line if any failed; the successful lines
    have then been applied to ``root``.
    """
    ctx = ctx or Context()
    outputs: list[str] = []
    errors: list[str] = []
    changed = False
    level: str | None = None
    for number, text in logical_lines(lines):
        try:
            words = split_words(text)
            if words[0] in QUIT:
                break
            if words[0] in _NOOP:
                if words[0] in ("end", "up", "back") or words[1:] == [".."]:
                    level = None
                continue
            if CRM.level(words[0]) is not None and len(words) == 1:
                level = words[0]
                continue
            if level is not None:  # inside a level, "node ..." is that level's command, as in crmsh
                words = [level, *words]
            out = run_words(root, words, ctx)
        except CrmError as exc:
            errors.append(f"line {number}: {exc}")
            continue
        changed = changed or out.changed
        if out.output:
            outputs.append(out.output)
    outcome = Outcome("\n".join(outputs), changed)
    if errors:
        raise CrmScriptError(errors, outcome)
    return outcome


def run_lines(root: Element, lines: list[str], ctx: Context, script: bool) -> tuple[Outcome, CrmError | None]:
    """Run one command, or a script like ``crm -f``; a script's failed lines come back with what did work.

    A single command either applies or raises; a script keeps the effect of
    the lines that worked (crmsh's behaviour) and returns the error with them.
    """
    if not script:
        return execute(root, lines[0], ctx), None
    try:
        return execute_script(root, lines, ctx), None
    except CrmScriptError as exc:
        return exc.outcome, exc
