"""Membership's node_state writes: rejoining after being recorded down leaves the operation history alone."""

from __future__ import annotations

from typing import Any

import pytest
import structlog
from paceline.membership import cib_link
from paceline.membership.cib_link import CibLink, Decision
from paceline.membership.node_state import OFFLINE
from paceline.shared import cib, lrm
from paceline.shared.messages import CibDocument, CibPatch, CibWriteReply, Message
from paceline.shared.subjects import Subjects


class FakeStore:
    """Stands in for the cib-store's query and patch endpoints (what ``bus.call`` would reach)."""

    def __init__(self, root: cib.Element):
        self.root = root
        self.patches: list[CibPatch] = []

    async def call(self, _nc: Any, _subject: str, request: Message, _reply: type, **_kw: Any) -> Message:
        if isinstance(request, CibPatch):
            self.patches.append(request)
            lrm.apply_status_ops(cib.node_state(self.root, request.node), request.ops)
            return CibWriteReply(version="0.1.1", changed=True)
        return CibDocument(xml=cib.serialize(self.root), version="0.1.0")


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> FakeStore:
    root = cib.empty(["n1", "n2"])
    fake = FakeStore(root)
    monkeypatch.setattr(cib_link.bus, "call", fake.call)
    return fake


def lrm_of(root: cib.Element) -> str:
    lrm_element = cib.node_state(root, "n1").find("lrm")
    assert lrm_element is not None
    return cib.serialize(lrm_element)


def link() -> CibLink:
    return CibLink(None, Subjects("default"), "n1", structlog.get_logger(),  # type: ignore[arg-type]
                   on_nodes=lambda _nodes: None, decide=lambda _uname, _online: Decision.WRITE)


async def test_a_node_recorded_down_writes_itself_online_without_clearing_its_history(store):
    ns = cib.node_state(store.root, "n1")
    for key, value in OFFLINE.items():
        ns.set(key, value)
    resources = cib.etree.SubElement(cib.etree.SubElement(ns, "lrm", id="n1"), "lrm_resources")
    web = cib.etree.SubElement(resources, "lrm_resource", id="web", type="Dummy", provider="heartbeat")
    web.set("class", "ocf")
    cib.etree.SubElement(web, "lrm_rsc_op", id="web_last_0", operation="start", rc_code="0")
    history = lrm_of(store.root)
    the_link = link()
    assert await the_link.refresh()
    assert the_link.pending == {"n1": True}
    assert await the_link._flush()
    (patch,) = store.patches
    assert [op["op"] for op in patch.ops] == ["node_state"]
    assert cib.node_state(store.root, "n1").get("crmd") == "online"
    assert lrm_of(store.root) == history  # the CIB's mirror of the executor's history kept


async def test_a_wish_made_while_the_same_wish_is_being_written_is_written_again(store, monkeypatch):
    """The declared ids can change while our own "online" write is in flight (a CIB replaced meanwhile):
    the wish made then has the same value but must not be dropped with the one the write finished."""
    the_link = link()
    calls = 0
    original = store.call

    async def call_then_change_the_ids(*args: Any, **kw: Any) -> Message:
        nonlocal calls
        reply = await original(*args, **kw)
        if isinstance(args[2], CibPatch):
            calls += 1
            if calls == 1:
                node = cib.node_by_uname(store.root, "n1")
                assert node is not None
                node.set("id", "2")
                assert await the_link.refresh()  # as the service does on the configuration change
        return reply

    monkeypatch.setattr(cib_link.bus, "call", call_then_change_the_ids)
    the_link.nodes = cib_link.CibNodes.from_root(store.root)
    the_link.want("n1", True)
    assert await the_link._flush()
    assert the_link.pending == {"n1": True}  # the second wish survived the first write
    assert await the_link._flush()
    assert [p.ops[0]["attrs"]["id"] for p in store.patches] == ["1", "2"]
    assert cib.node_state(store.root, "n1").get("id") == "2"
    assert the_link.pending == {}
