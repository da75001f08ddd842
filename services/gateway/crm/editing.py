"""configure delete / rename, with crmsh's care for whatever referred to the object."""

from __future__ import annotations

from paceline.crm import references
from paceline.crm.context import Context
from paceline.crm.ids import IdIndex, require_new_id
from paceline.crm.tree import detach, ident, parent_of
from paceline.crm.words import Words
from paceline.shared import cib
from paceline.shared.cib import RESOURCE_TAGS, Element

_CONTAINERS = ("group", "clone", "master")
_OPTION_PARENTS = ("crm_config", "rsc_defaults", "op_defaults")


def delete(root: Element, words: Words, ctx: Context) -> str:
    idents = words.rest()
    if not idents:
        raise words.error("missing id of the object to delete")
    index = IdIndex(root)  # one lookup table for all the ids: the CIB is not searched once per id
    for oid in idents:
        if index.find(oid) is None:
            raise words.error(f"object {oid!r} does not exist")
    notes: list[str] = []
    for oid in idents:
        el = index.find_remaining(oid)
        if el is None:  # went away with an earlier one (a container emptied by deleting its member)
            continue
        notes += _delete_one(root, words, el)
    return "\n".join(notes)


def _delete_one(root: Element, words: Words, el: Element) -> list[str]:
    parent = parent_of(el)
    oid = ident(el)
    if el.tag in RESOURCE_TAGS:
        return _delete_resource(root, words, el)
    if parent.tag == "constraints" or (parent.tag == "tags" and el.tag == "tag"):
        parent.remove(el)
        return references.drop_references(root, oid) if el.tag == "tag" else []
    if el.tag == "template" and parent.tag == "resources":
        users = [ident(p) for p in root.iter("primitive") if p.get("template") == oid]
        if users:
            raise words.error(f"cannot delete rsc_template {oid!r}: {', '.join(users)} "
                              f"{'is' if len(users) == 1 else 'are'} based on it (delete or redefine them first)")
        parent.remove(el)
        return references.drop_references(root, oid)
    if el.tag == "node" and parent.tag == "nodes":
        parent.remove(el)
        return []
    if parent.tag in _OPTION_PARENTS:
        parent.remove(el)
        return []
    raise words.error(f"cannot delete {oid!r}: a <{el.tag}> is not a configuration object")


def _delete_resource(root: Element, words: Words, el: Element) -> list[str]:
    parent = parent_of(el)
    oid = ident(el)
    notes: list[str] = []
    if el.tag in _CONTAINERS:
        children = [c for c in el if isinstance(c.tag, str) and c.tag in RESOURCE_TAGS]
        if parent.tag != "resources" and len(children) > 1:
            raise words.error(f"cannot delete {oid!r}: its members cannot all move into "
                              f"{parent.tag} {ident(parent)!r}")
        at = parent.index(el)
        for offset, child in enumerate(children):
            parent.insert(at + offset, child)
        parent.remove(el)
        if children:
            return references.repoint(root, oid, ident(children[0]))
        return references.drop_references(root, oid)
    detach(el)
    notes += references.drop_references(root, oid)
    if parent.tag in _CONTAINERS and not any(c.tag in RESOURCE_TAGS for c in parent if isinstance(c.tag, str)):
        notes.append(f"INFO: {parent.tag} {ident(parent)!r} is empty now; deleted")
        notes += _delete_resource(root, words, parent)
    return notes


def rename(root: Element, words: Words, ctx: Context) -> str:
    old = words.take("id to rename")
    new = words.take("new id")
    words.end()
    el = cib.find_id(root, old)
    if el is None:
        raise words.error(f"object {old!r} does not exist")
    require_new_id(words, root, new)
    el.set("id", new)
    return "\n".join(references.repoint(root, old, new, tags=True))
