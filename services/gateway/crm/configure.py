"""The ``configure`` level: one table from command word to handler.

Handlers take (cib root, the words after the command word, context), change
the CIB in place and return what to print. ``show`` and ``verify`` only read.
"""

from __future__ import annotations

from collections.abc import Callable

from paceline.crm import constraints, editing, options, resources, show
from paceline.crm.context import Context
from paceline.crm.errors import CrmError
from paceline.crm.words import Words
from paceline.shared import cib
from paceline.shared.cib import Element

Handler = Callable[[Element, Words, Context], str]


def show_command(root: Element, words: Words, ctx: Context) -> str:
    idents = words.rest()
    if idents and idents[0] == "xml":
        return _show_xml(root, words, idents[1:])
    types = [i[5:] for i in idents if i.startswith("type:")]
    idents = [i for i in idents if not i.startswith("type:")]
    unknown_types = [t for t in types if t not in show.OBJECT_TYPES]
    if unknown_types:
        raise words.unexpected(f"type:{unknown_types[0]}", "type: one of " + ", ".join(show.OBJECT_TYPES))
    known = {ident for ident, _ in show.objects(root)}
    for ident in idents:
        if ident not in known:
            raise words.error(f"object {ident!r} does not exist")
    if types:
        return "\n".join(text for ident, text in show.objects(root)
                         if show.object_type(text) in types and (not idents or ident in idents))
    return show.show(root, idents)


def _show_xml(root: Element, words: Words, idents: list[str]) -> str:
    if not idents:
        return cib.serialize(root.find("configuration")).rstrip("\n")
    out = []
    for ident in idents:
        el = cib.find_id(root, ident)
        if el is None:
            raise words.error(f"object {ident!r} does not exist")
        out.append(cib.serialize(el).rstrip("\n"))
    return "\n".join(out)


def verify(root: Element, words: Words, ctx: Context) -> str:
    """Report what Pacemaker would refuse; a sound configuration prints nothing."""
    words.end()
    problems = cib.validate(root)
    if problems:
        raise words.error(f"{len(problems)} problem(s): " + "; ".join(problems))
    return ""


COMMANDS: dict[str, Handler] = {
    "primitive": resources.primitive,
    "rsc_template": resources.rsc_template,
    "monitor": resources.monitor,
    "group": resources.group,
    "clone": resources.clone,
    "ms": resources.ms,
    "location": constraints.location,
    "colocation": constraints.colocation,
    "collocation": constraints.colocation,
    "order": constraints.order,
    "property": options.option_set_command("property"),
    "rsc_defaults": options.option_set_command("rsc_defaults"),
    "op_defaults": options.option_set_command("op_defaults"),
    "node": options.node,
    "tag": options.tag,
    "delete": editing.delete,
    "rename": editing.rename,
    "show": show_command,
    "verify": verify,
}
#: Commands that only read the CIB.
READ_ONLY = frozenset(("show", "verify"))


def configure(root: Element, args: list[str], ctx: Context) -> str:
    if not args:
        raise CrmError(f"configure: missing command (one of {', '.join(sorted(COMMANDS))})")
    name = args[0]
    handler = COMMANDS.get(name)
    if handler is None:
        raise CrmError(f"configure: unknown command {name!r} (expected one of {', '.join(sorted(COMMANDS))})")
    return handler(root, Words(f"configure {name}", args[1:]), ctx)
