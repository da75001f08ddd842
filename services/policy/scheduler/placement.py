"""Where each resource goes: the assignment core that the variants and concept modules work through.

This follows Pacemaker's assignment algorithm closely (see
docs/scheduler-semantics.md sections 7-11) because sysadmins compare our
decisions with crm_simulate's: location scores and stickiness fill each
resource's allowed table (:mod:`location`), resources are assigned
depth-first through their colocations (:mod:`colocation`), each by its kind's
``assign`` method (:mod:`variants`), and ties go to the node with fewer
resources, then the current node, then the name (:mod:`utilization` changes
both under a placement strategy). Score lines are recorded as
``crm_simulate -s`` prints them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cmp_to_key
from typing import Any

from paceline.policy.scheduler import colocation, instances, location, remote, utilization
from paceline.policy.scheduler.activity import current_node, walk
from paceline.policy.scheduler.ledger import Ledger
from paceline.policy.scheduler.utilization import Capacity
from paceline.policy.scheduler.variants import variant_of
from paceline.shared.cluster.model import ClusterState, Colocation, Resource, Role
from paceline.shared.cluster.remote import connection as connection_of
from paceline.shared.cluster.scores import INF, add_scores, format_score
from paceline.shared.cluster.unpack import add_colocation


class ScoreDump:
    """Allocation score tables in the order they were printed, formatted on demand (a large cluster has
    resources x nodes lines that a live transition never needs)."""

    def __init__(self, node_order: list[str]):
        self.node_order = node_order
        self.tables: list[tuple[str, str, dict[str, int]]] = []

    def lines(self) -> list[str]:
        out = []
        for prefix, rid, table in self.tables:
            if not prefix:      # a promotion score: {node: sort index}, node "" for an instance placed nowhere
                for node, score in table.items():
                    where = f"on {node}" if node else "(inactive)"
                    out.append(f"{rid} promotion score {where}: {format_score(score)}")
                continue
            out.extend(f"{prefix}: {rid} allocation score on {node}: {format_score(table[node])}"
                       for node in self.node_order if node in table)
        return out


class Placer:
    """The assignment of one scheduler run: the tables, the node choice and the record of what was printed."""

    def __init__(self, state: ClusterState, ledger: Ledger | None = None):
        self.state = state
        self.capacity = Capacity(state)
        self.score_dump = ScoreDump(list(state.nodes))
        self.ledger = ledger
        # Node state does not change while resources are placed: look it up in flat dicts.
        self._available = {name: node.available for name, node in state.nodes.items()}
        self._attrs = {name: node.attrs for name, node in state.nodes.items()}
        self._keys: dict[str, dict[str, str | None]] = {}     # attribute -> node -> comparable value
        self._bundle_containers = {n.name: c.launcher for n in state.nodes.values() if n.bundle_node
                                   and (c := connection_of(state, n)) is not None and c.launcher is not None}

    def run(self) -> ScoreDump:
        """Fill every table, then assign every resource in order."""
        state = self.state
        # A bundle's clone is inside the bundle and among the clones: each resource once.
        everything = list({id(r): r for r in [*(r for top in state.resources for r in walk(top)),
                                                *instances.every_clone(state)]}.values())
        for rsc in everything:
            if rsc.pinned is not None:      # a bundled instance: its replica's guest node only
                rsc.place.allowed = dict(rsc.pinned)
                continue
            # Pacemaker's symmetric default skips nodes nothing is probed on as they are made: bundle nodes
            rsc.place.allowed = {n.name: n.base_score for n in state.nodes.values() if not n.from_history and
                                 (not n.bundle_node or rsc.id in n.in_tables_of)} if state.symmetric else {}
            if self.ledger is not None and self.ledger.watches(rsc.id):
                for node, score in rsc.place.allowed.items():
                    self.ledger.note(rsc.id, node, "symmetric cluster (node score)", None, score)
        location.apply_all(self, everything)
        for clone in state.clone_sets():
            variant_of(clone).before_assign(self, clone)
        location.apply_exclusive_discovery(self)
        for top in state.resources:
            variant_of(top).before_assign(self, top)
        for prim in state.primitives():
            # An unmanaged resource gets no implicit constraints (pcmk__primitive_internal_constraints).
            if prim.launcher is not None and remote.beside_launcher(state, prim) and prim.managed:
                add_colocation(state, Colocation(id="#resource-with-launcher", dependent=prim,
                                                 primary=prim.launcher, score=remote.launcher_score(state, prim),
                                                 influence=True))
        remote.internal_constraints(self)
        if self.capacity.strategy != "default":
            utilization.sort_resources(self)
        remote.assign_connections(self)      # connections first: their nodes come online once placed
        for top in state.resources:
            self.assign(top)
        for clone in instances.every_clone(state):
            self.assign(clone)       # a clone with no instance left still prints its table
        return self.score_dump

    def assign(self, rsc: Resource, prefer: str | None = None, stop_if_fail: bool = True) -> str | None:
        """Assign ``rsc`` by its kind's method (whatever must go first goes first). ``prefer``: a node to take
        if it is as good as the best (a clone instance's early attempt on its current node); ``stop_if_fail``
        False: failing leaves no mark (the attempt is undone)."""
        return variant_of(rsc).assign(self, rsc, prefer, stop_if_fail)

    # ---------------------------------------------------------------- tables

    def add_location(self, rsc: Resource, node: str | None, score: int, why: str) -> None:
        """Pacemaker's resource_location: create the entry with the score, or add to it (None: every node)."""
        targets = list(self.state.nodes) if node is None else [node]
        allowed = rsc.place.allowed
        for name in targets:
            self.set_score(rsc, name, add_scores(allowed[name], score) if name in allowed else score, why)

    def set_score(self, rsc: Resource, node: str, score: int, why: str) -> None:
        if self.ledger is not None and self.ledger.watches(rsc.id):
            self.ledger.note(rsc.id, node, why, rsc.place.allowed.get(node), score)
        rsc.place.allowed[node] = score

    def replace_table(self, rsc: Resource, table: dict[str, int], why: str) -> None:
        if self.ledger is not None and self.ledger.watches(rsc.id):
            self.ledger.note_tables(rsc.id, why, rsc.place.allowed, table)
        rsc.place.allowed = table

    def show(self, prefix: str, rsc: Resource) -> None:
        """Snapshot the table as ``crm_simulate -s`` would print it now; formatted only if someone asks. An
        orphan's is never shown (``pe__show_node_scores_as``)."""
        if rsc.orphan:
            return
        self.score_dump.tables.append((prefix, rsc.id, dict(rsc.place.allowed)))

    def promotion_score(self, instance: Resource, score: int) -> None:
        """Record the promotion score ``crm_simulate -s`` prints as an instance's role is chosen
        (``show_promotion_score``)."""
        self.score_dump.tables.append(("", instance.id, {instance.place.assigned or "": score}))

    # ---------------------------------------------------------------- nodes

    def available(self, node: str) -> bool:
        return self._available.get(node, False)

    def any_available(self, table: dict[str, int]) -> bool:
        avail = self._available
        return any(score >= 0 and avail.get(n, False) for n, score in table.items())

    def attr_keys(self, name: str) -> dict[str, str | None]:
        """Every node's value of one attribute as colocation compares it (case-insensitively); None when unset."""
        keys = self._keys.get(name)
        if keys is None:
            keys = {}
            for node, attrs in self._attrs.items():
                value = attrs.get(name)
                keys[node] = None if value is None else value.lower()
            self._keys[name] = keys
        return keys

    def attr_key(self, node: str, name: str) -> str | None:
        """One node's value of an attribute as colocation compares it. A bundle node's is its container host's:
        what is colocated with a bundle's resource goes where the replica's container runs
        (``pcmk__colocation_node_attr``)."""
        container = self._bundle_containers.get(node)
        if container is not None:
            host = container.place.assigned or (container.status.active_on[0] if container.status.active_on else None)
            if host is not None:
                node = host
        return self.attr_keys(name).get(node)

    # ---------------------------------------------------------------- choosing

    def commit(self, rsc: Resource, node: str | None, stop_if_fail: bool = True) -> None:
        """Record the choice; a resource placed nowhere will be stopped (unless the attempt may be undone)."""
        rsc.place.assigned = node
        rsc.place.assign_done = True
        if node is not None:
            self.state.nodes[node].num_resources += 1
            if self.capacity.active and rsc.utilization:
                self.capacity.consume(node, rsc.utilization)
        elif stop_if_fail and (rsc.next_role is None or rsc.next_role > Role.STOPPED):
            rsc.next_role = Role.STOPPED
            rsc.next_role_reason = "no node"

    def settle_unassigned(self, rsc: Resource) -> None:
        """Leave ``rsc`` (every member of a group) assigned nowhere, for good."""
        for part in walk(rsc):
            self.commit(part, None)

    def release(self, rsc: Resource, node: str) -> None:
        """Undo what assigning ``rsc`` to ``node`` took (a clone instance's early attempt reverted)."""
        self.state.nodes[node].num_resources -= 1
        if self.capacity.active and rsc.utilization:
            self.capacity.consume(node, {name: -amount for name, amount in rsc.utilization.items()})

    # ---------------------------------------------------------------- what instances.py asks

    def add_dependent_scores(self, c: Colocation, primary: Resource) -> None:
        colocation.add_dependent_scores(self, c, primary)

    def apply_colocation_to_scores(self, rsc: Resource, primary: Resource, c: Colocation) -> None:
        """A colocation with one instance of a clone (an interleaving partner): as the instance's kind applies it
        - a group instance by its last member when mandatory, else its first (pcmk__group_apply_coloc_score)."""
        variant_of(primary).apply_coloc_score(self, rsc, primary, c)

    def merge(self, dest: list[Colocation], addition: list[Colocation], by_primary: bool) -> None:
        colocation.merge_lists(dest, addition, by_primary)

    def tie_break(self) -> Callable[[str], Any]:
        """How equally scored nodes are ordered (``pcmk__sort_nodes`` with no current node)."""
        return self._tie_break(None)

    def colocated_score(self, rsc: Resource, node: str) -> int:
        """``rsc``'s score on ``node`` after its own colocations and its dependents' (influential) ones, from
        the node's score alone, as ``cmp_instance_by_colocation`` weighs two instances."""
        table = {node: self.state.nodes[node].base_score}
        for c in colocation.this_with(self, rsc):
            table = colocation.add_colocated(self, c.primary, table, c, c.score / INF, active=False) or table
        for c in colocation.with_this(self, rsc):
            if colocation.has_influence(c):
                table = colocation.add_colocated(self, c.dependent, table, c, c.score / INF, positive=True,
                                                 active=False) or table
        return table[node]

    def best_node(self, rsc: Resource, prefer: str | None = None) -> str | None:
        """The highest-scored available node (tie-breaks below), or None when none may run it; ``prefer`` wins
        where it scores as well as the best and may run it (Pacemaker's assign_best_node)."""
        if not rsc.place.allowed:
            return None
        current = current_node(self.state, rsc)
        avail = self._available
        # Highest score on an available node first; the tie-breaks (fewest resources, the current node, the
        # name) only among the nodes sharing it - usually one on a settled cluster.
        top = max((score if avail.get(name, False) else -INF) for name, score in rsc.place.allowed.items())
        tied = [name for name, score in rsc.place.allowed.items() if (score if avail.get(name, False) else -INF) == top]
        best = tied[0] if len(tied) == 1 else min(tied, key=self._tie_break(current))
        best_score = rsc.place.allowed[best]
        if prefer is not None and rsc.place.allowed.get(prefer, -INF) >= max(best_score, 0) and self.available(prefer):
            return prefer
        if best_score > 0 and self.available(best) and current is not None and current != best \
                and self.available(current) and rsc.place.allowed.get(current) == best_score \
                and not instances.is_unique_instance(self.state, rsc):
            best = current
        if rsc.place.allowed[best] < 0 or not self.available(best):
            return None
        return best

    def _tie_break(self, current: str | None) -> Callable[[str], Any]:
        """Among equally scored nodes: with placement-strategy balanced the one with more capacity left, then
        the fewest resources, the current node, the name; with minimal only the name."""
        nodes = self.state.nodes
        strategy = self.capacity.strategy
        if strategy not in ("balanced", "minimal"):   # the usual case, kept cheap: ties are common on a fresh cluster
            return lambda name: (nodes[name].num_resources, 0 if name == current else 1, name.encode())

        def compare(a: str, b: str) -> int:
            if strategy == "minimal":
                return -1 if a.encode() < b.encode() else 1
            if strategy == "balanced":
                by_capacity = self.capacity.more_free_first(a, b)
                if by_capacity:
                    return by_capacity
            ka = (nodes[a].num_resources, 0 if a == current else 1, a.encode())
            kb = (nodes[b].num_resources, 0 if b == current else 1, b.encode())
            return -1 if ka < kb else 1 if ka > kb else 0

        return cmp_to_key(compare)
