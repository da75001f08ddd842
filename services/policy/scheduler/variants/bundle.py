"""The bundle's methods (Pacemaker's pcmk_sched_bundle.c): containers, their addresses and guest nodes.

A bundle (expanded by the model, ``paceline.shared.cluster.bundle``) is one
assignment unit: its containers are placed like a clone's instances over the
bundle's own table, then each replica's address and connection follow its
container, then the bundled resource's clone goes onto the replicas' guest
nodes, one instance per replica (``pcmk__bundle_assign``). Its start, stop
(and promote, demote) pseudo-actions join its containers' and its clone's.
A location on the bundle holds for its containers and addresses; a colocation
with the bundle is with its containers; the bundle's own colocations place
its containers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paceline.policy.scheduler import colocation, instances, location, remote
from paceline.policy.scheduler.act import BLOCKS, COMPLETION, IMPLIES_FIRST, IMPLIES_THEN, MEMBER, Act
from paceline.policy.scheduler.activity import walk
from paceline.policy.scheduler.variants import bundle_of, variant_of
from paceline.shared.cluster import remote as shared_remote
from paceline.shared.cluster.model import BundleInfo, Colocation, Replica, Resource, Role
from paceline.shared.cluster.scores import INF
from paceline.shared.cluster.unpack import add_colocation, insert_colocation

if TYPE_CHECKING:
    from paceline.policy.scheduler.actions import ActionBuilder
    from paceline.policy.scheduler.placement import Placer
    from paceline.policy.scheduler.summary import Line
    from paceline.shared.cluster.model import ClusterState


def info(bundle: Resource) -> BundleInfo:
    assert bundle.bundle is not None
    return bundle.bundle


def containers(bundle: Resource) -> list[Resource]:
    return [r.container for r in info(bundle).replicas]


def assign_bundle_first(p: Placer, rsc: Resource) -> bool:
    """A part of a bundle is assigned with its whole bundle, as ``pcmk__primitive_assign`` assigns the top
    resource first. True when that just happened."""
    bundle = bundle_of(p.state, rsc)
    if bundle is None or bundle.place.assigning or bundle.place.assign_done:
        return False
    p.assign(bundle)
    return True


class Bundle:
    """The method table of a bundle."""

    # ---------------------------------------------------------------- assignment

    def assign(self, p: Placer, bundle: Resource, prefer: str | None = None, stop_if_fail: bool = True) -> str | None:
        """``pcmk__bundle_assign``: containers as instances, then each replica, then the bundled clone.

        Unlike the other kinds, a bundle already assigned (as the primary of a colocation, before its turn)
        prints its tables again when its turn comes: ``pcmk__bundle_assign`` has no early return."""
        if bundle.place.assigning:
            return None
        for part in walk(bundle):
            p.show("pcmk__bundle_assign", part)
        if bundle.place.assign_done:
            return None
        bundle.place.assigning = True
        data = info(bundle)
        order = instances.instance_order(p, bundle, containers(bundle))
        instances.assign_instances(p, bundle, order, len(data.replicas), data.per_host)
        for replica in data.replicas:
            _assign_replica(p, bundle, replica, prefer)
        clone = data.child
        if clone is not None:
            nodes = {r.node for r in data.replicas}
            for node in list(clone.place.allowed):
                p.set_score(clone, node, 0 if node in nodes else -INF, f"bundle {bundle.id}: only its own nodes")
            p.assign(clone, prefer)
        bundle.place.assigning = False
        bundle.place.assign_done = True
        return None

    def apply_location(self, p: Placer, bundle: Resource, node: str, score: int, why: str) -> None:
        """``pcmk__bundle_apply_location``: the bundle's table, each container's and address's."""
        p.add_location(bundle, node, score, why)
        for replica in info(bundle).replicas:
            for part in (replica.container, replica.ip):
                if part is not None:
                    p.add_location(part, node, score, why)

    def before_assign(self, p: Placer, bundle: Resource) -> None:
        """Each address runs with its container (the ``ip-with-container`` colocation); the bundled clone
        knows the guest nodes, banned until the bundle lets it onto them (``create_remote_resource``)."""
        clone = info(bundle).child
        for replica in info(bundle).replicas:
            if clone is not None and replica.node is not None and replica.node not in clone.place.allowed:
                p.set_score(clone, replica.node, -INF, f"bundle {bundle.id}: not before its replicas are placed")
            if replica.ip is not None and not any(c.primary is replica.container for c in replica.ip.this_with):
                add_colocation(p.state, Colocation(id="#ip-with-container", dependent=replica.ip,
                                                   primary=replica.container, score=INF))

    def assigned_nodes(self, bundle: Resource) -> list[str]:
        return [c.place.assigned for c in containers(bundle) if c.place.assigned]

    # ---------------------------------------------------------------- colocation

    def apply_coloc_score(self, p: Placer, dependent: Resource, primary: Resource, c: Colocation) -> None:
        """``pcmk__bundle_apply_coloc_score``: with any container (mandatory: only where one is placed); with
        a role of the bundled resource, with its instances in that role (``pcmk__with_bundle_colocations``
        hands the bundle's role colocations to the bundled clone), on their containers' hosts."""
        if dependent.place.assign_done:
            return
        clone = info(primary).child
        if clone is not None and c.primary_role is not None and c.primary_role >= Role.UNPROMOTED:
            variant_of(clone).apply_coloc_score(p, dependent, clone, c)
            return
        if c.dependent.variant_rank > 1:
            # A clone's instance or a bundle's container goes with one container (``compatible_container``).
            partner = instances.compatible_instance(p, dependent, containers(primary))
            if partner is not None:
                p.apply_colocation_to_scores(dependent, partner, c)
            elif c.score >= INF:
                dependent.next_role = Role.STOPPED
                dependent.next_role_reason = f"no replica of {primary.id} to go with"
            return
        if c.score < INF:
            for container in containers(primary):
                colocation.apply_to_scores(p, dependent, container, c)
            return
        hosts = set()
        for replica in info(primary).replicas:
            chosen = replica.container.place.assigned
            if chosen is None or replica.container.status.blocked:
                continue
            if c.primary_role is not None and c.primary_role >= Role.PROMOTED and \
                    (replica.child is None or (replica.child.next_role or Role.STOPPED) < Role.PROMOTED):
                continue
            hosts.add(chosen)
        for node in list(dependent.place.allowed):
            if node not in hosts:
                p.set_score(dependent, node, -INF, f"colocation {c.id} with bundle {primary.id}: no container here")

    def add_colocated_scores(self, p: Placer, source: Resource, table: dict[str, int], c: Colocation,
                             factor: float, positive: bool = False, active: bool = True) -> dict[str, int] | None:
        return colocation.add_primitive_scores(p, source, table, c, factor, positive, active)

    def contribute_colocations(self, p: Placer, bundle: Resource, member: Resource, out: list[Colocation],
                               this_with: bool) -> None:
        """Only the containers take the bundle's colocations (``pcmk__bundle_with_colocations``)."""
        if member not in containers(bundle):
            return
        for c in (bundle.this_with if this_with else bundle.with_this):
            if this_with and c.dependent_role is not None and c.dependent_role >= Role.UNPROMOTED:
                continue    # a role of the bundled resource: weighed when its roles are chosen
            insert_colocation(out, c, by_primary=this_with)

    # ---------------------------------------------------------------- actions

    def create_actions(self, b: ActionBuilder, bundle: Resource) -> None:
        """Every replica's address, container and connection, then the bundled clone's instances."""
        data = info(bundle)
        for replica in data.replicas:
            for part in (replica.ip, replica.container, replica.remote):
                if part is not None:
                    variant_of(part).create_actions(b, part)
        if data.child is not None:
            variant_of(data.child).create_actions(b, data.child)

    def member_role_actions(self, b: ActionBuilder, bundle: Resource, member: Resource, stops: list[Act],
                            start: Act | None, next_role: Role) -> Act | None:
        return None

    def internal_constraints(self, b: ActionBuilder, bundle: Resource) -> None:
        """``pcmk__bundle_internal_constraints``: the bundle's pseudo-actions joined to its containers' and
        its clone's; each address started before its container and stopped after it."""
        data = info(bundle)
        pseudo = {task: b.new(task, bundle, None, pseudo=True) for task in ("start", "running", "stop", "stopped")}
        if not any(a.node is not None for c in containers(bundle) for a in b.find(c, "start")):
            pseudo["start"].runnable = pseudo["running"].runnable = False
        b.order(pseudo["start"], pseudo["running"], BLOCKS)
        b.order(pseudo["stop"], pseudo["stopped"], 0)
        b.order(pseudo["stopped"], pseudo["start"], 0)
        for replica in data.replicas:
            for act in _placed(b, replica.container, "start"):
                b.order(pseudo["start"], act, IMPLIES_FIRST | MEMBER | BLOCKS)
                b.order(act, pseudo["running"], IMPLIES_THEN | MEMBER)
            for act in _placed(b, replica.container, "stop"):
                b.order(pseudo["stop"], act, IMPLIES_FIRST | MEMBER)
                b.order(act, pseudo["stopped"], IMPLIES_THEN | MEMBER)
            if replica.child is not None:
                for act in _placed(b, replica.child, "stop"):
                    b.order(pseudo["stop"], act, IMPLIES_FIRST | MEMBER)
            if replica.remote is not None:
                _order_connection_probes(b, replica)
            if replica.ip is not None:
                for first in _placed(b, replica.ip, "start"):
                    for then in _placed(b, replica.container, "start"):
                        b.order(first, then, BLOCKS)
                for first in _placed(b, replica.container, "stop"):
                    for then in _placed(b, replica.ip, "stop"):
                        b.order(first, then, IMPLIES_FIRST)
        clone = data.child
        if clone is None:
            return
        clone_variant = variant_of(clone)
        clone_variant.internal_constraints(b, clone)
        phases: tuple[tuple[str, str], ...] = (("start", "running"), ("stop", "stopped"))
        if clone.promotable:
            for task in ("promote", "promoted", "demote", "demoted"):
                pseudo[task] = b.new(task, bundle, None, pseudo=True)
            phases += (("promote", "promoted"), ("demote", "demoted"))
            b.order(pseudo["promote"], pseudo["promoted"], BLOCKS)
            b.order(pseudo["demote"], pseudo["demoted"], 0)
            # pcmk__promotable_restart_ordering: demotions before stops, promotions after everything else.
            b.order(pseudo["demoted"], pseudo["stop"], 0)
            for before_promote in ("demoted", "stopped", "running"):
                b.order(pseudo[before_promote], pseudo["promote"], 0)
        for begin, done in phases:
            for act in b.find(clone, begin):
                b.order(pseudo[begin], act, IMPLIES_FIRST | MEMBER)
            for act in b.find(clone, done):
                b.order(act, pseudo[done], IMPLIES_THEN | MEMBER)

    def first_actions(self, b: ActionBuilder, bundle: Resource, task: str) -> list[Act]:
        """An ordering after the bundle waits for its completion pseudo-action (``running``, ``promoted``...)."""
        return b.find(bundle, COMPLETION.get(task, task))

    def then_actions(self, b: ActionBuilder, bundle: Resource, task: str) -> list[Act]:
        """An ordering before the bundle reaches its pseudo-action and, for start and stop, its containers'
        (for promote and demote, its clone's instances': the role is the bundled resource's)."""
        out = b.find(bundle, task)
        clone = info(bundle).child
        if task in ("promote", "demote"):
            if clone is not None:
                out.extend(variant_of(clone).then_actions(b, clone, task))
            return out
        for container in containers(bundle):
            out.extend(b.find(container, task))
        return out

    # ---------------------------------------------------------------- output

    def summary_lines(self, state: ClusterState, b: ActionBuilder, bundle: Resource) -> list[Line]:
        """Each replica's address, container, connection and bundled instance, in that order."""
        out: list[Line] = []
        for replica in info(bundle).replicas:
            for part in (replica.ip, replica.container, replica.remote, replica.child):
                if part is not None:
                    out += variant_of(part).summary_lines(state, b, part)
        return out


def _order_connection_probes(b: ActionBuilder, replica: Replica) -> None:
    """A connection is probed only once its container is known to run (``pcmk__ar_nested_remote_probe``):
    after the container's start, and not at all while the container neither runs nor can start."""
    assert replica.remote is not None
    starts = _placed(b, replica.container, "start")
    can_start = any(s.runnable for s in starts)
    for probe in b.find(replica.remote, "monitor"):
        for start in starts:
            b.order(start, probe, 0)
        if not can_start and not replica.container.status.active_on:
            probe.runnable = False


def _placed(b: ActionBuilder, rsc: Resource, task: str) -> list[Act]:
    return [a for a in b.find(rsc, task) if a.node is not None]


def _assign_replica(p: Placer, bundle: Resource, replica: Replica, prefer: str | None) -> None:
    """``assign_replica``: the address, the connection (its guest node up once it is placed), then the
    bundled instance, pinned to the replica's guest node."""
    if replica.ip is not None:
        p.assign(replica.ip, prefer)
    if replica.remote is not None:
        host = p.state.nodes.get(replica.container.place.assigned or "")
        host_connection = shared_remote.connection(p.state, host) if host is not None else None
        if host_connection is not None:
            # A container on a remote node: its connection goes through that node's own host, as Pacemaker
            # Remote takes one connection only (REMOTE_CONTAINER_HACK, "replica-remote-with-host-remote").
            add_colocation(p.state, Colocation(id="#replica-remote-with-host-remote", dependent=replica.remote,
                                               primary=host_connection, score=INF))
        p.assign(replica.remote, prefer)
        guest = p.state.nodes.get(replica.remote.id)
        if guest is not None:
            remote.connection_placed(p, replica.remote, guest)
    child = replica.child
    if child is None or replica.node is None:
        return
    state = p.state
    for node in list(child.place.allowed):
        if node != replica.node:
            p.set_score(child, node, -INF, f"bundle {bundle.id}: runs on its replica's node only")
        elif location.failures_counted(state, child, state.nodes[node]) < child.migration_threshold:
            p.set_score(child, node, INF, f"bundle {bundle.id}: its replica's node")
    clone = info(bundle).child
    if clone is not None:
        clone.place.assigning = True
    p.assign(child, replica.node)
    if clone is not None:
        clone.place.assigning = False
