"""Small, typed moves on the CIB's XML that every crm command makes.

lxml's types say that an element may have no parent and an attribute may be
missing; in a CIB a command works on, a configuration object always has both.
These helpers say so once instead of at every call.
"""

from __future__ import annotations

from paceline.shared import cib
from paceline.shared.cib import Element


def ident(el: Element) -> str:
    """The element's id ("" for one that has none)."""
    return el.get("id", "")


def parent_of(el: Element) -> Element:
    """The parent of an element that is part of a CIB."""
    parent = el.getparent()
    if parent is None:
        raise cib.CibError(f"<{el.tag} id={ident(el)!r}> is not part of a CIB")
    return parent


def detach(el: Element) -> None:
    """Take ``el`` out of its parent (nothing to do when it has none)."""
    parent = el.getparent()
    if parent is not None:
        parent.remove(el)

