"""Pacemaker Remote nodes and guest nodes: nodes that a resource brings into the cluster.

A *remote node* is named by an ``ocf:pacemaker:remote`` primitive, its connection resource: the node is up
while the connection runs, and it runs no membership of its own. A *guest node* is named by the
``remote-node`` meta attribute of a VM or container primitive: Pacemaker adds an implicit connection
resource for it, launched by that primitive, and "fences" the guest by recovering the primitive.

This module is the model half (Pacemaker's ``unpack.c``: ``unpack_remote_nodes``, ``expand_remote_rsc_meta``,
``link_rsc2remotenode``, ``determine_remote_online_status``, ``unpack_handle_remote_attrs`` and the remote
branches of ``pe_fence_node`` and ``pe_can_fence``); the scheduler's half is
``paceline.policy.scheduler.remote``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from lxml import etree
from paceline.shared import cib
from paceline.shared.cib import Element
from paceline.shared.cluster.bundle import guest_names as bundle_guest_names
from paceline.shared.cluster.model import ClusterState, Node, Resource, Role, node_sort_key
from paceline.shared.cluster.options import node_attribute_map
from paceline.shared.cluster.rules import RuleContext, nvsets
from paceline.shared.cluster.scores import INF
from paceline.shared.cluster.timespec import interval_ms
from paceline.shared.cluster.values import is_true, shown

#: The node kinds: a member of the membership, a Pacemaker Remote node, a guest node.
CLUSTER, REMOTE, GUEST = "cluster", "remote", "guest"
#: How a bundle replica's guest node is found while reading the configuration (it is a guest node).
BUNDLE = "bundle"
#: What ``#kind`` says of each (Pacemaker calls a guest node's kind "container").
_KIND_ATTR = {CLUSTER: "cluster", REMOTE: "remote", GUEST: "container"}


def _is_connection_agent(cls: str | None, provider: str | None, kind: str | None) -> bool:
    return (cls, provider, kind) == ("ocf", "pacemaker", "remote")


def is_connection_element(el: Element) -> bool:
    """Does this resource element define a remote node (Pacemaker's ``xml_contains_remote_node``)?"""
    return el.tag == "primitive" and _is_connection_agent(el.get("class"), el.get("provider"), el.get("type"))


def is_connection(rsc: Resource) -> bool:
    """Is this primitive a connection resource (of a remote node or of a guest node)?"""
    return _is_connection_agent(rsc.agent.get("class"), rsc.agent.get("provider"), rsc.agent.get("type"))


def node_of(state: ClusterState, rsc: Resource) -> Node | None:
    """The remote or guest node a connection resource stands for, None for any other resource."""
    node = state.nodes.get(rsc.id)
    return node if node is not None and node.remote_rsc == rsc.id else None


def connection(state: ClusterState, node: Node) -> Resource | None:
    """A remote or guest node's connection resource (None for a cluster node, or a leftover node entry)."""
    return state.by_id.get(node.remote_rsc) if node.remote_rsc is not None else None


def guest_container(state: ClusterState, node: Node) -> Resource | None:
    """The VM or container resource a guest node runs in."""
    conn = connection(state, node)
    return conn.launcher if conn is not None else None


def guest_of_container(state: ClusterState, rsc: Resource) -> Node | None:
    """The guest node a resource contains (``pe__resource_contains_guest_node``), if any."""
    for launched in rsc.launched:
        node = node_of(state, launched)
        if node is not None:
            return node
    return None


def launcher_node(state: ClusterState, rsc: Resource) -> Node | None:
    """The remote or guest node a resource's ``container`` names, when it names a connection or the container
    of a guest: the resource then runs on that node rather than beside its launcher
    (``pcmk__primitive_internal_constraints``). None for a connection itself and for any other resource."""
    launcher = rsc.launcher
    if launcher is None or node_of(state, rsc) is not None:
        return None
    return node_of(state, launcher) or guest_of_container(state, launcher)


def reconnect_ms(rsc: Resource) -> int:
    """A remote connection's ``reconnect_interval``: while it runs after a failure, the connection stays down."""
    value = rsc.params.get("reconnect_interval")
    return interval_ms(value) if value else 0


# ------------------------------------------------------------------ nodes from the configuration

def _new_node(state: ClusterState, name: str, kind: str, el: Element | None = None) -> Node:
    """A remote or guest node (``pe_create_node`` with type "remote")."""
    source = el if el is not None else etree.Element("node", id=name, uname=name)
    node = Node(name=name, id=source.get("id") or name, kind=kind)
    node.attrs = node_attribute_map(source, state.options, state.dc_uuid, state.now)
    node.attrs["#kind"] = _KIND_ATTR[kind]
    return node


def configured_node(el: Element, state: ClusterState) -> Node | None:
    """A ``<node type="remote">`` entry: the node's attributes and utilization live there, the node itself
    comes to life with its connection resource (None when the entry has no name)."""
    name = el.get("uname") or el.get("id") or ""
    if not name:
        return None
    return _new_node(state, name, REMOTE, el)


def _raw_meta(el: Element) -> dict[str, str]:
    """A primitive's own meta attributes read as ``expand_remote_rsc_meta`` reads them: every nvpair of its
    meta_attributes blocks, rules not evaluated."""
    out: dict[str, str] = {}
    for block in el.iterfind("meta_attributes"):
        for nv in block.iterfind("nvpair"):
            if nv.get("name") is not None:
                out[nv.get("name", "")] = nv.get("value", "")
    return out


def _guest_connection(el: Element, meta: dict[str, str], name: str) -> Element:
    """The implicit connection resource of a guest node (``expand_remote_rsc_meta``): launched by ``el``,
    monitored every 30 s, started within ``remote-connect-timeout`` (60 s), reached at ``remote-addr``
    (else the node's name) and ``remote-port``."""
    rsc = etree.Element("primitive", {"id": name, "class": "ocf", "provider": "pacemaker", "type": "remote"})
    metas = etree.SubElement(rsc, "meta_attributes", id=f"{name}_meta_attributes")
    pairs = [("container", el.get("id") or ""), ("internal", "true")]
    if "remote-allow-migrate" in meta:
        pairs.append(("allow-migrate", meta["remote-allow-migrate"]))
    for key, value in pairs:
        etree.SubElement(metas, "nvpair", id=f"{name}_meta-attributes-{key}", name=key, value=value)
    ops = etree.SubElement(rsc, "operations")
    etree.SubElement(ops, "op", id=f"{name}_monitor_30", name="monitor", interval="30s", timeout="30s")
    etree.SubElement(ops, "op", id=f"{name}_start_0", name="start", interval="0",
                     timeout=meta.get("remote-connect-timeout") or "60s")
    params = [(k, meta[m]) for k, m in (("addr", "remote-addr"), ("port", "remote-port")) if meta.get(m)]
    if params:
        attrs = etree.SubElement(rsc, "instance_attributes", id=f"{name}_instance_attributes")
        for key, value in params:
            etree.SubElement(attrs, "nvpair", id=f"{name}-{key}", name=key, value=value)
    return rsc


def add_resource_nodes(resources: Element | None, state: ClusterState) -> list[Element]:
    """Create the remote and guest nodes the resources define (``unpack_remote_nodes``); return the implicit
    connection primitives of the guest nodes, to be unpacked after the configured resources.

    A guest's name that is some resource's id too is refused, as Pacemaker refuses it ("remote-nodes can
    not have the same name as a resource"); a guest inside a clone is not supported (nor in Pacemaker)."""
    if resources is None:
        return []
    guests = resources.find(".//meta_attributes/nvpair[@name='remote-node']") is not None
    ids = {i for e in resources.iter("primitive", "group", "clone", "master", "bundle", "template")
           if (i := e.get("id"))} if guests else set()
    extra: list[Element] = []
    found: list[tuple[str, str]] = []
    for el in cib.elements(resources):
        if is_connection_element(el):
            if el.get("id"):
                found.append((el.get("id", ""), REMOTE))
            continue
        if not guests:
            continue
        for prim in [el] if el.tag == "primitive" else list(el.iterfind("primitive")) if el.tag == "group" else []:
            meta = _raw_meta(prim)
            name = meta.get("remote-node")
            if not name:
                continue
            if name in ids:
                state.config_error(f"guest node {shown(name)}: a resource has that id (remote-node of "
                                   f"{shown(prim.get('id') or '')}); no guest node made")
                continue
            ids.add(name)
            extra.append(_guest_connection(prim, meta, name))
            found.append((name, GUEST))
    for el in resources.iterfind("bundle"):
        found += [(name, BUNDLE) for name in bundle_guest_names(el, ids or _resource_ids(resources))]
    for name, kind in found:
        if kind == BUNDLE:
            _bundle_node(state, name)
            continue
        existing = state.nodes.get(name)
        if existing is None:
            state.nodes[name] = _new_node(state, name, kind)
        elif existing.kind == CLUSTER:
            state.config_error(f"{kind} node {shown(name)}: a cluster node has that name; no {kind} node made")
        else:
            existing.kind = kind
            existing.attrs["#kind"] = _KIND_ATTR[kind]
    state.nodes = {n.name: n for n in sorted(state.nodes.values(), key=lambda n: node_sort_key(n.name))}
    return extra


def _resource_ids(resources: Element) -> set[str]:
    return {i for e in resources.iter("primitive", "group", "clone", "master", "bundle", "template")
            if (i := e.get("id"))}


def _bundle_node(state: ClusterState, name: str) -> None:
    """A bundle replica's guest node (``create_remote_resource``): no resource but the replica's own may run
    there (its score -INFINITY for every other); the scheduler probes nothing else there either."""
    node = state.nodes.get(name)
    if node is None:
        node = state.nodes[name] = _new_node(state, name, GUEST)
    elif node.kind == CLUSTER:
        state.config_error(f"bundle node {shown(name)}: a cluster node has that name; no guest node made")
        return
    else:
        node.declared = True
    node.kind = GUEST
    node.base_score = -INF
    node.bundle_node = True
    node.attrs["#kind"] = _KIND_ATTR[GUEST]


def link_connections(state: ClusterState) -> None:
    """Tie each remote and guest node to its connection resource (``link_rsc2remotenode``).

    A remote node is unclean until its status is seen, as a cluster node is (startup-fencing); a guest is
    not: it is "fenced" by recovering its container. A leftover ``<node type="remote">`` with no
    connection stays offline and is never fenced."""
    startup_fencing = state.fencing_enabled and is_true(state.options.get("startup-fencing"), True)
    for node in state.nodes.values():
        if node.kind == CLUSTER:
            continue
        rsc = state.by_id.get(node.name)
        if rsc is None or rsc.kind != "primitive" or not is_connection(rsc):
            continue
        node.remote_rsc = rsc.id
        if reconnect_ms(rsc) > 0:
            # The reconnect delay works as a failure-timeout: the connection stays down until its failure
            # expires (common_unpack sets failure_timeout from reconnect_interval, over any other).
            rsc.failure_timeout_ms = reconnect_ms(rsc)
        if rsc.launcher is not None:
            node.kind = GUEST
            node.attrs["#kind"] = _KIND_ATTR[GUEST]
            continue
        node.kind = REMOTE
        node.attrs["#kind"] = _KIND_ATTR[REMOTE]
        node.unclean = startup_fencing
        node.unseen = True


def adopt_orphan(state: ClusterState, orphan: Resource, lr: Element) -> None:
    """A connection resource known only from the history (``create_fake_resource``): its node exists while
    the connection is stopped, and is shutting down; one recorded with a ``container`` is a guest's
    connection whose container is mapped once the node's history is read."""
    if not _is_connection_agent(lr.get("class"), lr.get("provider"), lr.get("type")):
        return
    node = state.nodes.get(orphan.id)
    if node is None:
        node = _new_node(state, orphan.id, REMOTE)
        node.from_history = True
        state.nodes[orphan.id] = node
        state.nodes = {n.name: n for n in sorted(state.nodes.values(), key=lambda n: node_sort_key(n.name))}
    if node.kind == CLUSTER:
        return
    node.remote_rsc = orphan.id
    node.unclean = state.fencing_enabled and is_true(state.options.get("startup-fencing"), True)
    node.unseen = True
    node.shutdown = True


def map_orphan_fillers(state: ClusterState, entries: list[Element]) -> None:
    """Orphaned resources recorded with a ``container``: launched by it, if it exists
    (``handle_orphaned_container_fillers``); an orphaned connection so launched is a guest's."""
    for lr in entries:
        container_id = lr.get("container")
        rsc = state.by_id.get(lr.get("id") or "")
        container = state.by_id.get(container_id) if container_id else None
        if rsc is None or container is None or not rsc.orphan or rsc.launcher is not None or rsc is container:
            continue
        rsc.launcher = container
        container.launched.append(rsc)
        node = node_of(state, rsc)
        if node is not None:
            node.kind = GUEST
            node.attrs["#kind"] = _KIND_ATTR[GUEST]


def is_remote_state(node: Node | None) -> bool:
    return node is not None and node.kind != CLUSTER


def first_pass(ns: Element, node: Node) -> None:
    """A remote or guest node's ``node_state`` before any history is read: only whether it was fenced
    (its online state follows from its connection's, once the cluster nodes' histories are read)."""
    node.remote_was_fenced = (ns.get("node_fenced") or "0") not in ("", "0")


# ------------------------------------------------------------------ online state

def determine_online(state: ClusterState, node: Node) -> None:
    """A remote or guest node is online while its connection runs (``determine_remote_online_status``):
    offline once the connection failed or stopped, and in need of a reset once its container failed or its
    container's host is unclean."""
    rsc = connection(state, node)
    if rsc is None:
        node.online = False
        return
    container = rsc.launcher
    host = None
    if container is not None and len(rsc.status.active_on) == 1:
        host = state.nodes.get(rsc.status.active_on[0])
    started = rsc.status.role == Role.STARTED and bool(rsc.status.active_on)
    if started:
        node.online = True
        if rsc.next_role == Role.STOPPED:
            node.shutdown = True
    if container is not None and container.status.failed:
        node.online = False
        node.remote_requires_reset = True
    elif rsc.status.failed:
        node.online = False
    elif not started or (container is not None and not container.status.active_on):
        node.online = False
        node.remote_requires_reset = False
    elif host is not None and not host.online and host.unclean:
        node.online = False
        node.remote_requires_reset = True


def handle_attrs(ns: Element, node: Node, state: ClusterState) -> None:
    """A remote or guest node's ``node_state`` once its online state is known (``unpack_handle_remote_attrs``):
    it is clean unless it needs a reset, and its transient attributes say standby, maintenance, shutdown."""
    rsc = connection(state, node)
    if not node.remote_requires_reset:
        node.unclean = False
        node.fence_reason = None
        node.unseen = False
    node.seen = True
    transient = ns.find("transient_attributes")
    if transient is not None:
        node.attrs.update(nvsets(transient, "instance_attributes", RuleContext(node_attrs=node.attrs, now=state.now)))
    if (node.attrs.get("shutdown") or "0") != "0":
        node.shutdown = True
    if is_true(node.attrs.get("standby")):
        node.standby = True
    if is_true(node.attrs.get("maintenance")) or (ns.get("node_in_maintenance") or "0") not in ("", "0") \
            or (rsc is not None and not rsc.managed):
        node.maintenance = True
    discovery = node.attrs.get("resource-discovery-enabled")
    if discovery is not None and not is_true(discovery) and (node.kind == GUEST or state.fencing_enabled):
        node.rsc_discovery = False


def unpack_histories(state: ClusterState, status: Element, unpack_node: Callable[[Node, Element], None]) -> None:
    """Read the remote and guest nodes' histories once the cluster nodes' are read (``unpack_node_history``).

    A node's history is read as soon as its connection (and a guest's container) is known to run, pass
    after pass, since one node's history can start another's connection; then, with fencing enabled, the
    rest. A node never read still gets its online state; a node shutting down stops its connection."""
    done: set[str] = set()
    entries: list[tuple[Node, Element]] = []
    by_id = {n.id: n for n in state.nodes.values()}
    for ns in status.iterfind("node_state"):
        node = by_id.get(ns.get("id", "")) or state.nodes.get(ns.get("uname", ""))
        if node is not None and node.kind != CLUSTER and all(node is not n for n, _ in entries):
            entries.append((node, ns))

    def read(node: Node, ns: Element) -> None:
        done.add(node.name)
        determine_online(state, node)
        handle_attrs(ns, node, state)
        unpack_node(node, ns)

    progress = True
    while progress:
        progress = False
        for node, ns in entries:
            rsc = connection(state, node)
            if node.name in done or rsc is None or rsc.status.role != Role.STARTED or not rsc.status.active_on:
                continue
            if rsc.launcher is not None and not rsc.launcher.status.active_on:
                continue
            read(node, ns)
            progress = True
    if state.fencing_enabled:
        for node, ns in entries:
            if node.name not in done:
                read(node, ns)
    for node in state.nodes.values():
        if node.kind == CLUSTER:
            continue
        rsc = connection(state, node)
        if node.shutdown and rsc is not None:
            rsc.next_role = Role.STOPPED
            rsc.next_role_reason = "remote shutdown"
        if node.name not in done:
            determine_online(state, node)


def as_read(node: Node) -> Node:
    """The node as the CIB described it, before the scheduler brought it online for its connection's new
    place: what a status page shows (crm_simulate shows the cluster before it schedules)."""
    if node.as_read is None:
        return node
    online, unclean, shutdown = node.as_read
    return replace(node, online=online, unclean=unclean, shutdown=shutdown)


# ------------------------------------------------------------------ fencing

def can_fence(state: ClusterState, node: Node) -> bool:
    """``pe_can_fence``: a guest can be fenced while its container's hosts are online or can be fenced."""
    if node.kind == GUEST:
        container = guest_container(state, node)
        hosts = [state.nodes[n] for n in container.status.active_on if n in state.nodes] if container else []
        return all(h.online or state.can_fence(h) for h in hosts)
    return state.can_fence(node)


def fence_node(state: ClusterState, node: Node, reason: str) -> bool:
    """``pe_fence_node`` for any node: a guest by marking its container failed, a remote node by marking
    it unclean (unless its connection is unmanaged). True when the node (or its container) changed."""
    if node.kind == GUEST:
        container = guest_container(state, node)
        if container is None:
            conn = connection(state, node)
            if conn is not None and not conn.status.failed:
                conn.status.failed = conn.status.stop_if_failed = True
                return True
            return False
        if container.status.failed or not container.managed:
            return False
        node.remote_requires_reset = True
        container.status.failed = container.status.stop_if_failed = True
        return True
    if node.kind == REMOTE:
        conn = connection(state, node)
        if conn is not None and not conn.managed:
            return False
        node.remote_requires_reset = True
        changed = not node.unclean
        node.mark_unclean(reason, at_unpack=False)
        return changed
    changed = not node.unclean
    node.mark_unclean(reason)
    return changed


def active_on_down_node(state: ClusterState, rsc: Resource, node: Node) -> None:
    """A managed resource thought active on a remote or guest node that is down (``unpack_rsc_op``'s
    ``process_rsc_state``): a guest is fenced (its container recovered) and the resource counts as failed;
    a remote node is fenced, though only if its connection cannot come back elsewhere (``unseen``)."""
    if node.kind == GUEST:
        rsc.status.failed = rsc.status.stop_if_failed = True
        fence_node(state, node, f"{rsc.id} is thought to be active there")
        return
    if not state.fencing_enabled:
        return
    reason = f"{rsc.id} is thought to be active there"
    conn = connection(state, node)
    if conn is not None and not conn.status.failed:
        node.unseen = True
        reason = (f"{rsc.id} is active there (fencing will be revoked if remote connection can be "
                  "re-established elsewhere)")
    if node.unclean and node.fence_reason is None:
        node.fence_reason = reason
    fence_node(state, node, reason)


def connection_failed(state: ClusterState, rsc: Resource, on_fail: str, active: bool) -> None:
    """What a failed remote connection does to its node (``process_rsc_state``): on-fail ``reset-remote``
    fences the node unless it was fenced already, and with ``reconnect_interval`` keeps the connection
    stopped; a failed connection's unclean node is fenced even if the connection comes back."""
    node = node_of(state, rsc)
    if node is None:
        return
    if on_fail == "reset-remote":
        rsc.status.failed = rsc.status.stop_if_failed = True
        if state.fencing_enabled and node.kind == REMOTE and not node.remote_was_fenced:
            fence_node(state, node, "remote connection is unrecoverable")
        if reconnect_ms(rsc) > 0:
            rsc.next_role = Role.STOPPED
            rsc.next_role_reason = "remote reset"
    failing = rsc.status.failed or (active and on_fail not in ("ignore", "block", "demote"))   # failed by this entry
    if failing and node.unclean:
        node.unseen = False


def keeps_monitor_failure(state: ClusterState, rsc: Resource, task: str, interval: int) -> bool:
    """A remote connection's recurring monitor failure does not expire with its reconnect interval until
    the node has been fenced (``should_ignore_failure_timeout``): the monitor reports only changes, so an
    expired failure could hide a connection still failing."""
    if task != "monitor" or interval == 0 or not state.fencing_enabled or reconnect_ms(rsc) <= 0:
        return False
    node = node_of(state, rsc)
    return node is not None and not node.remote_was_fenced


def default_on_fail(state: ClusterState, rsc: Resource, task: str, interval: int) -> str | None:
    """The default on-fail of a remote node's connection (``unpack_operation_on_fail``): any failure but a
    probe's or a start's drops the connection, so the node is reset (fenced); an unmanaged one stops."""
    node = node_of(state, rsc)
    if node is None or node.kind != REMOTE or (task == "monitor" and interval == 0) or task == "start":
        return None
    return "reset-remote" if rsc.managed else "stop"
