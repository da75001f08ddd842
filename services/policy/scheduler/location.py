"""Location scores: what each resource's allowed-node table holds before colocations are weighed.

In Pacemaker's order (pcmk_sched_location.c, pcmk__apply_locations and the
resource-level steps of pcmk__schedule_actions): bans found in the history,
node health, shutdown locks, ``rsc_location`` constraints (with
``resource-discovery``), stickiness of a resource where it runs, the
migration threshold, then ``resource-discovery=exclusive``. How a score given
to a group or clone reaches its members is the variant's ``apply_location``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paceline.policy.scheduler import instances
from paceline.policy.scheduler.activity import counted_active, walk
from paceline.policy.scheduler.variants import variant_of
from paceline.shared.cluster import locks
from paceline.shared.cluster.history import effective_fail_count, has_fail_counts
from paceline.shared.cluster.model import ClusterState, Node, Resource, Role
from paceline.shared.cluster.scores import INF, add_scores, parse_score
from paceline.shared.cluster.values import is_true

if TYPE_CHECKING:
    from paceline.policy.scheduler.placement import Placer

_DISCOVERY_RANK = {"always": 0, "never": 1, "exclusive": 2}


def apply_all(p: Placer, everything: list[Resource]) -> None:
    """Every location score, in Pacemaker's order (see the module doc)."""
    state = p.state
    _multiply_active_policies(state)
    for rsc in everything:
        for where, score, why in rsc.status.unpack_scores:
            if rsc.is_clone:        # resource_location on a collective reaches every descendant
                instances.locate_tree(p, rsc, where, score, why)
            else:
                p.add_location(rsc, where, score, why)
    _node_health(p)
    for rsc, node in locks.lock_bans(state):
        p.add_location(rsc, node, -INF, f"shutdown-lock: waits for {rsc.status.lock_node}")
    for loc in state.locations:
        if loc.role is not None and loc.role >= Role.PROMOTED:
            continue
        for node, score in loc.node_scores:
            variant_of(loc.rsc).apply_location(p, loc.rsc, node, score, f"location {loc.id}")
            if instances.is_clone_location(state, loc.rsc):     # the clone's own table has it too
                p.add_location(state.by_id[loc.rsc.clone_of or ""], node, score, f"location {loc.id}")
            for prim in _located(loc.rsc):
                mode = prim.discovery.get(node, "always")
                if _DISCOVERY_RANK.get(loc.discovery, 0) > _DISCOVERY_RANK[mode]:
                    prim.discovery[node] = loc.discovery
    for prim in state.primitives():
        _stickiness(p, prim)
    for prim in state.primitives():
        _fail_limit(p, prim)


def apply_exclusive_discovery(p: Placer) -> None:
    """``resource-discovery=exclusive``: only the nodes named so may run the resource (of those in its table:
    ``apply_exclusive_discovery`` adds no node). The clone or group a constraint names keeps its own table
    (and its instances') in step too (``apply_exclusive_discovery`` walks the resource the constraint flagged
    and everything in it)."""
    state = p.state
    bundles = [top for top in state.resources if top.is_bundle]
    for prim in [*state.primitives(), *bundles]:
        if "exclusive" in prim.discovery.values():
            for node in [n for n in state.nodes if n in prim.place.allowed]:
                if prim.discovery.get(node) != "exclusive":
                    p.set_score(prim, node, -INF, "resource-discovery=exclusive names other nodes")
    for rsc, named in _exclusively_located(state).values():
        for part in walk(rsc):
            if part.children:
                for node in [n for n in part.place.allowed if n not in named]:
                    p.set_score(part, node, -INF, "resource-discovery=exclusive names other nodes")


def _exclusively_located(state: ClusterState) -> dict[str, tuple[Resource, set[str]]]:
    """Each collective a ``resource-discovery=exclusive`` location names (by id), with the nodes named."""
    out: dict[str, tuple[Resource, set[str]]] = {}
    for loc in state.locations:
        if loc.discovery != "exclusive":
            continue
        named = state.by_id[loc.rsc.clone_of or ""] if instances.is_clone_location(state, loc.rsc) else loc.rsc
        if named.children and not named.is_bundle:      # a bundle's parts: _located; a location naming a clone
            # was unpacked onto its instances, its first stands in
            out.setdefault(named.id, (named, set()))[1].update(node for node, _ in loc.node_scores)
    return out


def _located(rsc: Resource) -> list[Resource]:
    """What a location's ``resource-discovery`` reaches: a bundle, its containers and addresses (what
    ``pcmk__bundle_apply_location`` applies it to), else the resource's primitives."""
    if rsc.bundle is None:
        return rsc.primitives()
    return [rsc, *(part for r in rsc.bundle.replicas for part in (r.container, r.ip) if part is not None)]


def _multiply_active_policies(state: ClusterState) -> None:
    """``multiple-active``: stop_only bans it everywhere, block leaves it unmanaged where it is."""
    for prim in state.primitives():
        if len(counted_active(state, prim)) > 1:
            if prim.multiple_active == "stop_only":
                prim.status.unpack_scores.append((None, -INF, "multiple-active=stop_only"))
            elif prim.multiple_active == "block":
                prim.managed = False
                prim.status.blocked = True


def _node_health(p: Placer) -> None:
    """Node health attributes (``#health-*``) become a location score on every resource."""
    options = p.state.options
    strategy = (options.get("node-health-strategy") or "none").lower()
    if strategy == "none":
        return
    colors = {"red": parse_score(options.get("node-health-red", "-INFINITY")),
              "yellow": parse_score(options.get("node-health-yellow", "0")),
              "green": parse_score(options.get("node-health-green", "0"))}
    if strategy == "migrate-on-red":
        colors = {"red": -INF, "yellow": 0, "green": 0}
    elif strategy == "only-green":
        colors = {"red": -INF, "yellow": -INF, "green": 0}
    base = parse_score(options.get("node-health-base", "0")) if strategy == "progressive" else 0
    for node in p.state.nodes.values():
        health = base
        for name, value in node.attrs.items():
            if name.startswith("#health-"):
                health = add_scores(health, colors.get(value.lower(), parse_score(value, 0)))
        if health == 0:
            continue
        for top in (*p.state.resources, *instances.every_clone(p.state)):
            if health < 0 and is_true(top.meta.get("allow-unhealthy-nodes"), False):
                continue
            variant_of(top).apply_location(p, top, node.name, health, "node health")


def _stickiness(p: Placer, rsc: Resource) -> None:
    """A managed resource active on one node prefers it by its stickiness."""
    if not rsc.managed or rsc.stickiness == 0 or len(rsc.status.active_on) != 1:
        return
    node = rsc.status.active_on[0]
    if not p.state.symmetric and node not in rsc.place.allowed:
        return
    if rsc.stickiness < 1:
        return
    p.add_location(rsc, node, rsc.stickiness, f"resource-stickiness={rsc.stickiness} (active here)")


def _fail_limit(p: Placer, rsc: Resource) -> None:
    """Ban the nodes where its failures reached ``migration-threshold``."""
    if rsc.migration_threshold == 0 or rsc.status.ignore_failure:
        return
    state = p.state
    if not has_fail_counts(state, rsc) and not any(has_fail_counts(state, x) for x in rsc.launched):
        return
    for node in state.nodes.values():
        if node.name in rsc.status.fail_cleared:
            continue
        failures = failures_counted(state, rsc, node)
        if failures >= rsc.migration_threshold:     # an anonymous instance's ban falls on its whole clone
            instances.locate_tree(p, instances.ban_target(state, rsc), node.name, -INF,
                                  f"{failures} failures reached migration-threshold={rsc.migration_threshold}")


def failures_counted(state: ClusterState, rsc: Resource, node: Node) -> int:
    """Failures weighed against migration-threshold: a launcher also carries what it launched."""
    total = effective_fail_count(state, rsc, node)
    for launched in rsc.launched:
        total = add_scores(total, effective_fail_count(state, launched, node))
    return total
