"""What membership writes into the CIB status: ``node_state`` attributes, with Pacemaker's values.

The scheduler decides whether a node is online from exactly these attributes
(in_ccm, crmd, join, expected; see scheduler-semantics §4), so membership must
write the same spellings Pacemaker's controller does: a member is
``in_ccm="true" crmd="online" join="member" expected="member"``, a lost peer
``in_ccm="false" crmd="offline" join="down"`` with ``expected`` untouched. A
peer that joined and was lost therefore stays ``expected="member"``: with
fencing enabled the scheduler reads it as unclean and fences it, as Pacemaker
does for every node that leaves without a clean shutdown. Only the fencer's
record (``expected="down"``) makes it cleanly down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from paceline.shared import cib
from paceline.shared.cluster import remote_nodes

ONLINE = cib.NODE_STATE_MEMBER
OFFLINE = cib.NODE_STATE_LOST
ORIGIN = "paceline-membership"


@dataclass(frozen=True)
class CibNodes:
    """The part of the CIB membership cares about: the declared nodes and their ids."""

    ids: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_xml(cls, xml: str) -> CibNodes:
        return cls.from_root(cib.parse_cib(xml))

    @classmethod
    def from_root(cls, root: cib.Element) -> CibNodes:
        """The cluster nodes the CIB declares. A remote node (``type="remote"``, as Pacemaker declares one
        that has node attributes, or any node named by a connection resource) is no member: it has no vote
        and never sends a heartbeat, so it counts neither towards expected votes nor quorum."""
        ids: dict[str, str] = {}
        remotes = set(remote_nodes.remote_node_names(root))
        for el in cib.node_elements(root):
            if el.get("type") == "remote" or (el.get("uname") or el.get("id")) in remotes:
                continue
            uname = el.get("uname") or el.get("id")
            if uname:
                ids[uname] = el.get("id") or uname
        return cls(ids=ids)

    @property
    def count(self) -> int:
        return len(self.ids)

    def node_id(self, uname: str) -> str:
        """The id of the node's <node> entry; the uname itself for a node the CIB does not declare.

        Pacemaker keys node_state by the cluster-layer node id; for a node that
        is not (yet) in <nodes> the uname is the only stable name we have.
        """
        return self.ids.get(uname, uname)


def recorded_online(root: cib.Element, uname: str, node_id: str | None = None) -> bool:
    """Whether the CIB status already says what a live member's own entry must say: online, and (when
    ``node_id`` is given) under the id <nodes> now declares, which a CIB replaced after our write may change."""
    ns = cib.node_state(root, uname, create=False)
    return (ns is not None and all(ns.get(k) == v for k, v in ONLINE.items())
            and (node_id is None or ns.get("id") == node_id))


def node_state_ops(node_id: str, uname: str, online: bool) -> list[dict[str, Any]]:
    """The status-patch ops (paceline.shared.lrm.apply_status_ops) marking a node up or down."""
    attrs = {"id": node_id, "uname": uname, **(ONLINE if online else OFFLINE),
             "crm-debug-origin": ORIGIN}
    return [{"op": "node_state", "attrs": attrs}]
