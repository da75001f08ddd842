"""Remote and guest nodes in the scheduler: connections placed first, actions ordered around them, fencing.

A remote or guest node exists only while its connection resource runs, so Pacemaker places every
connection before any other resource (``pcmk__assign_resources``) and counts the node online once its
connection has a node (``remote_connection_assigned``). Every action on such a node is then ordered
after the connection's start, and a stop before the connection's stop (``pcmk__order_remote_connection_actions``
with ``apply_remote_ordering`` and ``apply_container_ordering``); a node whose connection cannot come back
while resources may be active there is fenced, a guest node by recovering its container
(``pcmk__fence_guest``). The model half is :mod:`paceline.shared.cluster.remote`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paceline.policy.scheduler import act as acts
from paceline.policy.scheduler import migration, orderings
from paceline.shared.cluster import remote
from paceline.shared.cluster.model import ClusterState, Node, Resource, Role
from paceline.shared.cluster.scores import INF

if TYPE_CHECKING:
    from paceline.policy.scheduler.actions import Act, ActionBuilder
    from paceline.policy.scheduler.placement import Placer

# The states of a connection as the orderings see them (``get_remote_node_state``).
UNKNOWN, ALIVE, RESTING, FAILED, STOPPED = "unknown", "alive", "resting", "failed", "stopped"


def attribute_node(state: ClusterState, rsc: Resource, node: str) -> str:
    """Whose attributes a resource reads on a guest node: its container's host's, when the resource says
    ``container-attribute-target=host`` (``pe__node_attribute_calculated``), else the node's own."""
    if rsc.meta.get("container-attribute-target") != "host":
        return node
    guest = state.nodes.get(node)
    container = remote.guest_container(state, guest) if guest is not None and guest.kind == remote.GUEST else None
    if container is None:
        return node
    host = container.place.assigned or (container.status.active_on[0] if container.status.active_on else None)
    return host if host in state.nodes else node


def any_remote(state: ClusterState) -> bool:
    return any(n.kind != remote.CLUSTER for n in state.nodes.values())


# ---------------------------------------------------------------- placement

def internal_constraints(placer: Placer) -> None:
    """Connections and fence devices never run on remote or guest nodes (``rsc_avoids_remote_nodes``), nor
    do the containers of guest nodes (no nesting); a guest's connection may opt in anywhere in an
    asymmetric cluster, its container decides (``remote_connection_default``)."""
    state = placer.state
    remotes = [n.name for n in state.nodes.values() if n.kind != remote.CLUSTER]
    if not remotes:
        return
    for prim in state.primitives():
        conn_node = remote.node_of(state, prim)
        if conn_node is not None and prim.launcher is not None and not state.symmetric:
            placer.add_location(prim, None, 0, "remote connection default")
        avoid = conn_node is not None or prim.agent.get("class") == "stonith"
        if remote.guest_of_container(state, prim) is not None and prim.in_bundle is None:
            avoid = True        # a bundle's containers may run on remote nodes (remote_nesting_allowed)
        on_node = remote.launcher_node(state, prim)
        if on_node is not None:
            why = f"its container makes it run on {on_node.name}"
            for name in [n for n in prim.place.allowed if n != on_node.name]:
                placer.add_location(prim, name, -INF, why)
        if avoid:
            for name in [n for n in remotes if n in prim.place.allowed]:
                placer.add_location(prim, name, -INF, "no connections, fence devices or guests on remote nodes")


def beside_launcher(state: ClusterState, rsc: Resource) -> bool:
    """Does a launched resource run beside its launcher (colocated, started after it, stopped before it)?
    Not when its ``container`` names a remote connection or a guest's container: it then runs on that
    node, ordered by the node's connection instead."""
    return remote.launcher_node(state, rsc) is None


#: How much a bundle's connection wants its container's host: it may run elsewhere, so that a bundle on a
#: remote node can be reached through that node's own connection (``pcmk__primitive_internal_constraints``).
NESTED_CONNECTION_SCORE = 10000


def launcher_score(state: ClusterState, rsc: Resource) -> int:
    """The score of the colocation of a launched resource with its launcher: mandatory, but only highly
    preferred for a bundle's connection (Pacemaker's ``remote_nesting_allowed``)."""
    if rsc.in_bundle is not None and remote.node_of(state, rsc) is not None:
        return NESTED_CONNECTION_SCORE
    return INF


def assign_connections(placer: Placer) -> None:
    """Place every connection resource before anything else, and bring its node online as soon as the
    connection has somewhere to run (``pcmk__assign_resources``, ``remote_connection_assigned``)."""
    state = placer.state
    for top in state.resources:
        node = remote.node_of(state, top)
        if node is None:
            continue
        placer.assign(top)
        connection_placed(placer, top, node)


def connection_placed(placer: Placer, conn: Resource, node: Node) -> None:
    """A connection was assigned: its node is up if it goes somewhere, else shutting down
    (``remote_connection_assigned``)."""
    if node.as_read is None:
        node.as_read = (node.online, node.unclean, node.shutdown)
    if conn.place.assigned is not None and conn.next_role != Role.STOPPED:
        node.online = True
        if node.unseen:       # a connection that will be tried again: no need to fence the node
            node.unclean = False
    else:
        node.shutdown = True
    placer._available[node.name] = node.available


# ---------------------------------------------------------------- actions

def connection_state(state: ClusterState, node: Node) -> str:
    """Where the node's connection stands for this transition (``get_remote_node_state``)."""
    rsc = remote.connection(state, node)
    assert rsc is not None
    host = state.nodes.get(rsc.status.active_on[0]) if rsc.status.active_on else None
    if rsc.next_role == Role.STOPPED or rsc.place.assigned is None:
        if host is not None and host.unclean:
            return FAILED
        if not rsc.status.failed:
            return STOPPED
        if rsc.next_role == Role.STOPPED and remote.reconnect_ms(rsc) and node.remote_was_fenced \
                and not node.shutdown:
            return UNKNOWN
        return FAILED
    if host is None:
        return UNKNOWN
    if host.unclean or not host.online:
        return RESTING
    return ALIVE


def will_migrate(b: ActionBuilder, conn: Resource) -> bool:
    """Will a remote node's connection move by live migration (``allow-migrate``)? Decided as the builder's
    migration decides it, before the orderings: healthy, managed, moving from one live node to another."""
    return (migration.migratable(conn) and conn.managed and not conn.status.failed
            and conn.launcher is None and conn.parent is None and len(conn.status.active_on) == 1
            and conn.place.assigned is not None and conn.place.assigned != conn.status.active_on[0]
            and b.node_ok(conn.status.active_on[0]) and b.node_ok(conn.place.assigned)
            and conn.next_role != Role.STOPPED)


def rides_on(state: ClusterState, conn: Resource, act: Act) -> bool:
    """Is ``act`` an action on the remote node that ``conn`` connects (it does not tie the connection's
    migration: it follows the connection wherever it goes)?"""
    node = remote.node_of(state, conn)
    return node is not None and act.node == node.name


def is_failed_remote(state: ClusterState, node: Node) -> bool:
    """``pcmk__is_failed_remote_node``."""
    return node.kind == remote.REMOTE and node.remote_rsc is not None and connection_state(state, node) == FAILED


class _Orderer:
    """Orders one builder's actions on remote and guest nodes relative to their connections."""

    def __init__(self, b: ActionBuilder):
        self.b = b
        self.state = b.state
        self.fenced: list[Node] = []
        self.keep = -1          # the ordering flags kept (a migrating connection's imply nothing)

    def start_then(self, conn: Resource, act: Act, extra: int) -> None:
        for first in orderings.first_actions(self.b, conn, "start"):
            self.b.order(first, act, (acts.BLOCKS | extra) & self.keep)

    def then_stop(self, act: Act, conn: Resource, extra: int) -> None:
        for then in self.b.find(conn, "stop"):
            self.b.order(act, then, extra & self.keep)

    def fence(self, node: Node, reason: str) -> None:
        if remote.fence_node(self.state, node, reason) and node.kind == remote.REMOTE:
            self.fenced.append(node)

    def remote_ordering(self, act: Act, node: Node) -> None:
        """``apply_remote_ordering``.

        A stop goes before the connection's stop with ``pe_order_implies_first``, which makes no primitive's
        stop required (``pcmk__update_ordered_actions`` clears the first's optional flag only when its
        ordering flags, a collective's, already say required): an ordering only. A connection that will
        migrate has an optional stop and start (``pcmk__create_migration_actions``), so what its start
        implies reaches nothing on the node either."""
        conn = remote.connection(self.state, node)
        assert conn is not None
        f = acts
        task = "stop" if act.task in ("migrate_to", "migrate_from") else act.task
        cstate = connection_state(self.state, node)
        self.keep = ~f.IMPLIES_THEN if will_migrate(self.b, conn) else -1
        if task in ("start", "promote"):
            self.start_then(conn, act, f.IMPLIES_THEN if cstate == FAILED else 0)
        elif task == "stop":
            if cstate == ALIVE:
                self.then_stop(act, conn, 0)
            elif cstate == FAILED:
                self.fence(node, "resources are active but connection is unrecoverable")
            elif conn.next_role == Role.STOPPED:
                self.then_stop(act, conn, 0)
            else:
                self.start_then(conn, act, 0)
        elif task == "demote":
            if cstate in (RESTING, UNKNOWN):
                self.start_then(conn, act, 0)
        elif act.interval_ms > 0:
            self.start_then(conn, act, f.IMPLIES_THEN)
        else:
            if task == "monitor" and cstate == FAILED:
                self.fence(node, "resources are in unknown state and connection is unrecoverable")
            if conn.status.active_on and cstate == STOPPED:
                self.then_stop(act, conn, f.BLOCKS)
            else:
                self.start_then(conn, act, 0)

    def container_ordering(self, act: Act, node: Node) -> None:
        """``apply_container_ordering``: a guest's actions follow its container and connection."""
        conn = remote.connection(self.state, node)
        assert conn is not None and conn.launcher is not None
        container = conn.launcher
        f = acts
        self.keep = -1
        if container.status.failed:
            remote.fence_node(self.state, node, "container failed")
        task = "stop" if act.task in ("migrate_to", "migrate_from") else act.task
        if task in ("start", "promote"):
            for first in orderings.first_actions(self.b, container, "start"):
                self.b.order(first, act, f.BLOCKS | f.IMPLIES_THEN)
            self.start_then(conn, act, 0)
        elif task in ("stop", "demote"):
            if not container.status.failed:
                self.then_stop(act, conn, 0)
        elif act.interval_ms > 0:
            self.start_then(conn, act, f.IMPLIES_THEN)
        else:
            self.start_then(conn, act, 0)

    def run(self) -> None:
        state = self.state
        for act in list(self.b.actions):
            if act.rsc is None or act.node is None or act.pseudo:
                continue
            node = state.nodes.get(act.node)
            if node is None or node.kind == remote.CLUSTER or node.remote_rsc is None:
                continue
            conn = remote.connection(state, node)
            if conn is None:
                continue
            if act.task == "start":
                # A resource moving to a remote node stops where it was only once the connection is up.
                for other in self.b.by_rsc.get(act.rsc.id, ()):
                    if other.task == "stop" and other.node != act.node:
                        for first in orderings.first_actions(self.b, conn, "start"):
                            self.b.order(first, other, 0)
            if conn.launcher is not None:
                self.container_ordering(act, node)
            else:
                self.remote_ordering(act, node)


def order_remote_actions(b: ActionBuilder) -> None:
    """Order every action on a remote or guest node around its connection; fence the remote nodes whose
    connection is lost for good while resources may be active there (their stops become implied)."""
    state = b.state
    if not any_remote(state):
        return
    orderer = _Orderer(b)
    for node in state.nodes.values():
        if node.kind == remote.REMOTE and not node.online and is_failed_remote(state, node):
            # pcmk__schedule_probes: a node that cannot be probed, behind a connection that is lost for good.
            orderer.fence(node, "the connection is unrecoverable")
    orderer.run()
    for node in orderer.fenced:
        _fence_remote(b, node)
    _fence_guests(b)


def _fence_remote(b: ActionBuilder, node: Node) -> None:
    """A remote node found unrecoverable while ordering: fence it, its stops implied by the fencing."""
    state = b.state
    if node.name in b.fences:
        return
    can = any(r.managed for r in state.primitives()) and remote.can_fence(state, node)
    act = b.new("stonith", None, node.name, optional=not can, runnable=can,
                fence_reason=node.fence_reason or "node is unclean")
    b.fences[node.name] = act
    if can:
        _imply_stops(b, node.name)


def _imply_stops(b: ActionBuilder, node: str) -> None:
    """The stops (and demotes) on a fenced node happen by the fencing: pseudo-actions that can always run."""
    for act in b.actions:
        if act.node == node and act.rsc is not None and act.task in ("stop", "demote"):
            act.pseudo = True
            act.runnable = True


def _fence_guests(b: ActionBuilder) -> None:
    """A guest that must be reset is "fenced" by recovering its container (``pcmk__fence_guest``): a
    pseudo fencing action, "off" unless the container starts again, after the container's stop."""
    state = b.state
    have_managed = any(r.managed for r in state.primitives())
    for node in state.nodes.values():
        if node.kind != remote.GUEST or not node.remote_requires_reset or not have_managed \
                or not remote.can_fence(state, node):
            continue
        container = remote.guest_container(state, node)
        conn = remote.connection(state, node)
        stop = start = None
        if container is not None:
            stop = next((a for a in b.find(container, "stop")), None)
            start = next((a for a in b.find(container, "start") if a.node is not None), None)
        act = b.new("stonith", None, node.name, optional=False, runnable=True, pseudo=True,
                    fence_reason="guest is unclean")
        act.fence_op = "reboot" if start is not None else "off"
        b.fences[node.name] = act
        if stop is not None and stop.pseudo and stop.node in b.fences:
            b.order(b.fences[stop.node], act, acts.BLOCKS | acts.IMPLIES_THEN)
        elif stop is not None:
            b.order(stop, act, acts.BLOCKS | acts.IMPLIES_THEN)
        elif conn is not None:
            for conn_stop in b.find(conn, "stop"):
                b.order(conn_stop, act, 0)
        _imply_stops(b, node.name)


def fence_target(state: ClusterState, act: Act) -> str:
    """How the Transition Summary names a fencing target: a guest with the resource that holds it."""
    node = state.nodes.get(act.node or "")
    if node is not None and node.kind == remote.GUEST:
        container = remote.guest_container(state, node)
        if container is not None:
            return f"{act.node} (resource: {container.id})"
    return act.node or ""


def probed_when_launched(state: ClusterState, rsc: Resource) -> bool:
    """A guest's connection is probed on the cluster nodes though its VM launches it (other launched
    resources are not)."""
    return remote.node_of(state, rsc) is not None


def may_probe(state: ClusterState, rsc: Resource, node: Node) -> bool:
    """Probes on a remote or guest node (``pcmk__probe_rsc_on_node``): never of a fence device, a
    connection, or the container of a guest node, not where discovery is disabled, and not on a guest
    whose container is stopped or will stop (nothing can be running there)."""
    if node.kind == remote.CLUSTER:
        return True
    if node.bundle_node and rsc.discovery.get(node.name) != "exclusive":
        return False        # a bundle node: its replica's instance only (create_remote_resource)
    if not node.rsc_discovery:
        return False
    if rsc.agent.get("class") == "stonith" or remote.node_of(state, rsc) is not None:
        return False
    if node.kind != remote.GUEST:
        return True
    container = remote.guest_container(state, node)
    if remote.guest_of_container(state, rsc) is not None or container is None:
        return False
    return bool(container.status.active_on) and not _guest_will_stop(node, container)


def _guest_will_stop(node: Node, container: Resource) -> bool:
    """``guest_resource_will_stop``: an approximation made before the stop itself exists."""
    return (node.remote_requires_reset or node.unclean or container.status.failed or container.next_role == Role.STOPPED
            or (bool(container.status.active_on) and container.place.assigned is not None
                and container.place.assigned not in container.status.active_on))
