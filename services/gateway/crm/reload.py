"""Re-reading crm text into a CIB: what ``edit``, ``load update`` and ``load replace`` share.

``configure show`` prints each object as one logical line; editing that text
and reading it back must change exactly the objects whose lines changed. Each
line replaces the object of the same id in place - a primitive edited inside a
group stays in that group at the same position, a group re-reads its members -
and objects that were shown but whose lines are gone are deleted with crmsh's
usual care for whatever referred to them. All or nothing: one bad line and the
CIB is left as it was, with the line number in the error.
"""

from __future__ import annotations

import copy

from paceline.crm import dispatch, editing, show
from paceline.crm.context import Context, Outcome
from paceline.crm.errors import CrmError
from paceline.crm.parse import OPTION_SETS
from paceline.crm.tree import ident, parent_of
from paceline.crm.words import Words, split_words
from paceline.shared import cib
from paceline.shared.cib import RESOURCE_TAGS, Element

_CONTAINERS = ("group", "clone", "master")


def object_id(words: list[str]) -> str | None:
    """The id a ``configure`` line defines (as ``show`` prints it), or None if it names none."""
    if len(words) < 2:
        return None
    kind, first = words[0], words[1]
    if kind in OPTION_SETS:
        return first[:-1] if first.endswith(":") and "=" not in first else OPTION_SETS[kind][2]
    if kind == "node":
        if first.startswith("$id="):
            return first[4:]
        return first[:-1] if first.endswith(":") else first.partition(":")[0]
    return first[:-1] if first.endswith(":") else first


def _lift_members(el: Element) -> None:
    """Move a container's resources out to the resources section so the container can be re-read."""
    section = cib.section(el.getroottree().getroot(), "resources")
    for child in [c for c in el if isinstance(c.tag, str) and c.tag in RESOURCE_TAGS]:
        section.append(child)


def _replace_line(root: Element, oid: str | None, words: list[str], ctx: Context) -> str:
    old = cib.find_id(root, oid) if oid else None
    if old is None:
        return dispatch.run_words(root, ["configure", *words], ctx).output
    parent = parent_of(old)
    index = parent.index(old)
    if old.tag in _CONTAINERS:
        _lift_members(old)
    if words[0] in OPTION_SETS or old.tag == "node":
        parent.remove(old)
        return dispatch.run_words(root, ["configure", *words], ctx).output
    parent.remove(old)
    out = dispatch.run_words(root, ["configure", *words], ctx).output
    if parent.tag in _CONTAINERS and oid:  # an edited member goes back where it was (run_words rebuilt the tree)
        new, container = cib.find_id(root, oid), cib.find_id(root, ident(parent))
        if new is not None and container is not None and new.getparent() is not container:
            container.insert(index, new)
    return out


def update(root: Element, text: str, ctx: Context, shown: set[str] | None = None) -> Outcome:
    """Apply crm text object by object; with ``shown``, delete those of them the text no longer has."""
    work = copy.deepcopy(root)
    cib.ensure_sections(work)
    outputs: list[str] = []
    defined: set[str] = set()
    for number, line in dispatch.logical_lines(text.splitlines()):
        try:
            words = split_words(line)
            if words and words[0] == "configure":
                words = words[1:]
            if not words:
                continue
            ident = object_id(words)
            if ident:
                defined.add(ident)
            out = _replace_line(work, ident, words, ctx)
        except CrmError as exc:
            raise CrmError(f"line {number}: {exc}") from None
        if out:
            outputs.append(out)
    gone = sorted((shown or set()) - defined)
    gone = [ident for ident in gone if cib.find_id(work, ident) is not None]
    if gone:
        outputs.append(editing.delete(work, Words("configure delete", gone), ctx))
    known = set(cib.validate(root))  # once, not once per problem
    problems = [p for p in cib.validate(work) if p not in known]
    if problems:
        raise CrmError("; ".join(problems))
    changed = dispatch.content(work) != dispatch.content(root)
    if changed:
        dispatch.adopt(root, work)
    return Outcome("\n".join(o for o in outputs if o), changed)


def replace(root: Element, text: str, ctx: Context) -> Outcome:
    """``load replace``: the text becomes the whole configuration (nodes it does not mention are kept)."""
    shown = {ident for ident, line in show.objects(root) if not line.startswith("node ")}
    return update(root, text, ctx, shown)
