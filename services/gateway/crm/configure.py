"""The ``configure`` level's handlers (see :data:`paceline.crm.registry.CONFIGURE` for the table).

Handlers take (cib root, the words after the command word, context), change the CIB in place and return
what to print. An object command is its parser (words to XML, no CIB: :mod:`paceline.crm.parse`) followed
by the step that applies the XML to the CIB (ids, references, placement); ``show`` and ``verify`` only read.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace

from lxml import etree
from paceline.crm import bundles, constraints, options, parse, parse_constraints, resources, show
from paceline.crm.context import Context
from paceline.crm.errors import CrmError
from paceline.crm.ids import IdIndex
from paceline.crm.parse import Definition
from paceline.crm.words import Words
from paceline.shared import cib
from paceline.shared.cib import Element
from paceline.shared.cluster import checks

Handler = Callable[[Element, Words, Context], str]
Parser = Callable[[Words], Definition]
Applier = Callable[[Element, Definition, Context], str]


def defining(parser: Parser, applier: Applier) -> Handler:
    """The handler of an object command: read the whole line into XML first, then apply it.

    A command that defines an object exactly as it already is changes nothing and succeeds: a user whose
    first try ended without an answer (the bus failed after the change went out) retries safely.
    """

    def handler(root: Element, words: Words, ctx: Context) -> str:
        definition = parser(words)
        if already_defined(root, definition, applier, ctx):
            return ""
        return applier(root, definition, ctx)

    handler.__doc__ = parser.__doc__
    return handler


def already_defined(root: Element, d: Definition, applier: Applier, ctx: Context) -> bool:
    """Whether the object ``d`` names exists and applying ``d`` in its place would make it again, the same.

    Tried on a scratch copy of the CIB without the object (a group's or clone's members put back where it
    stood, as before it wrapped them), so every rule of applying - generated ids, agent checks, references -
    decides, not a second reading of the definition.
    """
    ident = d.element.get("id", "")
    existing = cib.find_id(root, ident) if ident else None
    if existing is None or existing.tag != d.element.tag:
        return False
    scratch = copy.deepcopy(root)
    old = cib.find_id(scratch, ident)
    assert old is not None
    _unwrap(old)
    try:
        applier(scratch, replace(d, element=copy.deepcopy(d.element), notes=[]), ctx)
    except CrmError:
        return False
    remade = cib.find_id(scratch, ident)
    return remade is not None and _canonical(remade) == _canonical(existing)


def _unwrap(el: Element) -> None:
    """Take an object out of the CIB; a container's resources stay, in its place."""
    parent = el.getparent()
    assert parent is not None
    at = parent.index(el)
    if el.tag in (*cib.CONTAINER_TAGS, "bundle"):
        for child in [c for c in el if c.tag in cib.RESOURCE_TAGS]:
            parent.insert(at, child)
            at += 1
    parent.remove(el)


def _canonical(el: Element) -> bytes:
    """The element as canonical XML, layout whitespace left out."""
    clean = copy.deepcopy(el)
    for node in clean.iter():
        if node.text is not None and not node.text.strip():
            node.text = None
        if node.tail is not None and not node.tail.strip():
            node.tail = None
    clean.tail = None
    return etree.tostring(clean, method="c14n")


primitive = defining(parse.primitive, resources.add_agent_object)
rsc_template = defining(parse.rsc_template, resources.add_agent_object)
monitor = defining(parse.monitor, resources.add_monitor)
group = defining(parse.group, resources.add_group)
clone = defining(parse.clone, resources.add_clone)
ms = defining(parse.ms, resources.add_clone)
bundle = defining(bundles.parse_bundle, bundles.add_bundle)
location = defining(parse_constraints.location, constraints.add_constraint)
colocation = defining(parse_constraints.colocation, constraints.add_constraint)
order = defining(parse_constraints.order, constraints.add_constraint)
rsc_ticket = defining(parse_constraints.rsc_ticket, constraints.add_constraint)
property_set = defining(parse.property_set, options.merge_option_set)
rsc_defaults = defining(parse.rsc_defaults, options.merge_option_set)
op_defaults = defining(parse.op_defaults, options.merge_option_set)
node = defining(parse.node, options.add_node)
tag = defining(parse.tag, options.add_tag)


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
        wanted, kinds = set(idents), set(types)
        return "\n".join(text for ident, text in show.objects(root)
                         if show.object_type(text) in kinds and (not wanted or ident in wanted))
    return show.show(root, idents)


def _show_xml(root: Element, words: Words, idents: list[str]) -> str:
    if not idents:
        conf = root.find("configuration")
        return cib.serialize(conf).rstrip("\n") if conf is not None else ""
    out = []
    index = IdIndex(root)
    for ident in idents:
        el = index.find(ident)
        if el is None:
            raise words.error(f"object {ident!r} does not exist")
        out.append(cib.serialize(el).rstrip("\n"))
    return "\n".join(out)


def verify(root: Element, words: Words, ctx: Context) -> str:
    """Report what Pacemaker would refuse; a sound configuration prints nothing."""
    words.end()
    problems = checks.problems(root)
    if problems:
        raise words.error(f"{len(problems)} problem(s): " + "; ".join(problems))
    return ""
