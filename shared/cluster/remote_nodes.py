"""Remote nodes as the runtime sees them: which resources are connections, and the node_state they write.

A remote node (Pacemaker's ``pacemaker_remoted``) is named by the id of its
connection resource, an ``ocf:pacemaker:remote`` primitive. The executor of the
cluster node that runs the connection records the remote node's ``node_state``
as Pacemaker's controller does when a remote connection comes up or goes down
(``remote_node_up``/``remote_node_down`` in the controller's ``remote_lrmd_ra.c``):
``remote_node="true"``, ``in_ccm`` true or false, no ``crmd`` or ``join`` (a
remote node has no controller of its own). Pure: no bus, no I/O.
"""

from __future__ import annotations

from typing import Any

from paceline.shared import cib
from paceline.shared.cib import Element

#: The agent of a remote node's connection resource: (class, provider, type).
CONNECTION_AGENT = ("ocf", "pacemaker", "remote")
#: The container technologies a ``<bundle>`` names its launcher by (Pacemaker's schema: one of them).
BUNDLE_LAUNCHERS = ("docker", "podman", "rkt")
#: More replicas than this in a hand-edited CIB are not guest nodes worth listing (the schema has no bound).
MAX_BUNDLE_REPLICAS = 10_000
#: ``crm-debug-origin`` of the records, the controller functions' names as Pacemaker writes them.
ORIGIN_UP, ORIGIN_DOWN = "remote_node_up", "remote_node_down"


def is_connection(standard: str, provider: str, kind: str) -> bool:
    """Whether an agent is the remote connection (``ocf:pacemaker:remote``)."""
    return (standard, provider, kind) == CONNECTION_AGENT


def remote_node_names(root: Element) -> list[str]:
    """The remote nodes a CIB configures, in order: the ids of its ``ocf:pacemaker:remote`` primitives
    (remote nodes), and the ``remote-node`` meta attribute of a primitive that launches one (guest nodes: a VM
    or container whose connection Pacemaker makes up, named after that attribute)."""
    resources = root.find("configuration/resources")
    if resources is None:
        return []
    names = []
    for prim in resources.iter("primitive"):
        if is_connection(prim.get("class", ""), prim.get("provider", ""), prim.get("type", "")):
            names.append(prim.get("id", ""))
        names += [nv.get("value", "") for nv in prim.iterfind("meta_attributes/nvpair[@name='remote-node']")]
    for bundle in resources.iter("bundle"):
        names += bundle_guest_names(bundle)
    return [name for name in names if name]


def bundle_guest_names(bundle: Element) -> list[str]:
    """The guest nodes of one ``<bundle>``: ``ID-0`` .. ``ID-(replicas-1)`` when a primitive runs inside (each
    replica's container then runs a remote executor, Pacemaker's ``pacemaker-remoted``), none otherwise.
    ``replicas`` defaults to ``promoted-max``, else 1, as in Pacemaker's ``pe__unpack_bundle``."""
    bid = bundle.get("id", "")
    launcher = next(cib.elements(bundle, *BUNDLE_LAUNCHERS), None)
    if not bid or launcher is None or bundle.find("primitive") is None:
        return []
    default = launcher.get("promoted-max") or launcher.get("masters") or "1"
    try:
        replicas = max(int(launcher.get("replicas") or default), 0)
    except ValueError:
        replicas = 1
    return [f"{bid}-{i}" for i in range(min(replicas, MAX_BUNDLE_REPLICAS))]


def node_state_ops(node: str, up: bool) -> list[dict[str, Any]]:
    """The status patch marking remote node ``node`` up (its connection started) or down (stopped or lost)."""
    attrs = {"id": node, "uname": node, "remote_node": "true", "in_ccm": "true" if up else "false",
             "crm-debug-origin": ORIGIN_UP if up else ORIGIN_DOWN}
    return [{"op": "node_state", "attrs": attrs}]
