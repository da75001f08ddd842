"""What the crm language's unit tests share: the context they run in and lookups that must succeed."""

from __future__ import annotations

from lxml import etree
from paceline.crm import Context
from paceline.shared import cib

CTX = Context(local_node="primary")


def found(root: etree._Element, ident: str) -> etree._Element:
    """The configuration object ``ident``, which the test expects to exist."""
    el = cib.find_id(root, ident)
    assert el is not None, ident
    return el


def found_rsc(root: etree._Element, rid: str) -> etree._Element:
    """The resource ``rid``, which the test expects to exist."""
    el = cib.find_resource(root, rid)
    assert el is not None, rid
    return el
