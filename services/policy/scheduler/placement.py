"""Where each resource goes: allowed-node scores, colocation arithmetic and node choice.

This follows Pacemaker's assignment algorithm closely (see
docs/scheduler-semantics.md sections 7-11) because sysadmins compare our
decisions with crm_simulate's: location scores and stickiness fill each
resource's allowed table, resources are assigned depth-first through their
colocations, and ties go to the node with fewer resources, then the current
node, then the name. Score lines are recorded as ``crm_simulate -s`` prints them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cmp_to_key
from typing import Any

from paceline.policy.scheduler import promotion
from paceline.policy.scheduler.ledger import Ledger
from paceline.shared.cluster import locks
from paceline.shared.cluster.history import effective_fail_count, has_fail_counts
from paceline.shared.cluster.model import ClusterState, Colocation, Node, Resource, Role
from paceline.shared.cluster.scores import INF, add_scores, format_score, parse_score, scale
from paceline.shared.cluster.unpack import add_colocation, insert_colocation
from paceline.shared.cluster.values import is_true

_DISCOVERY_RANK = {"always": 0, "never": 1, "exclusive": 2}


def current_node(state: ClusterState, rsc: Resource) -> str | None:
    """The node a primitive counts as running on: the first clean one, any one if it requires fencing, else
    the first one it is active on (pe__find_active_on: a node fenced for a lost ticket still runs it)."""
    for name in rsc.active_on:
        if rsc.requires in ("fencing", "unfencing") or not state.nodes[name].unclean:
            return name
    return rsc.active_on[0] if rsc.active_on else None


def counted_active(state: ClusterState, rsc: Resource) -> list[str]:
    return [n for n in rsc.active_on
            if rsc.requires in ("fencing", "unfencing") or not state.nodes[n].unclean]


class ScoreDump:
    """Allocation score tables in the order they were printed, formatted on demand (a large cluster has
    resources x nodes lines that a live transition never needs)."""

    def __init__(self, node_order: list[str]):
        self.node_order = node_order
        self.tables: list[tuple[str, str, dict[str, int]]] = []

    def lines(self) -> list[str]:
        return [f"{prefix}: {rid} allocation score on {node}: {format_score(table[node])}"
                for prefix, rid, table in self.tables for node in self.node_order if node in table]


class Capacity:
    """``placement-strategy`` utilization, balanced or minimal: what each node has left of its ``utilization``
    while resources are assigned, in assignment order (with ``default`` utilization is ignored)."""

    def __init__(self, state: ClusterState):
        self.strategy = (state.options.get("placement-strategy") or "default").lower()
        self.active = self.strategy in ("utilization", "balanced", "minimal")
        self.left = {n.name: dict(n.capacity) for n in state.nodes.values()}

    def fits(self, node: str, needs: dict[str, int]) -> bool:
        left = self.left.get(node, {})
        return all(left.get(name, 0) >= amount for name, amount in needs.items())

    def consume(self, node: str, needs: dict[str, int]) -> None:
        left = self.left.setdefault(node, {})
        for name, amount in needs.items():
            left[name] = left.get(name, 0) - amount

    def more_free_first(self, a: str, b: str) -> int:
        """Negative when ``a`` has more left than ``b`` in more of its capacities than the other way round."""
        left_a, left_b = self.left.get(a, {}), self.left.get(b, {})
        names = set(left_a) | set(left_b)
        more = sum(1 for n in names if left_a.get(n, 0) > left_b.get(n, 0))
        less = sum(1 for n in names if left_a.get(n, 0) < left_b.get(n, 0))
        return less - more


class Placer:
    def __init__(self, state: ClusterState, ledger: Ledger | None = None):
        self.state = state
        self.capacity = Capacity(state)
        self.score_dump = ScoreDump(list(state.nodes))
        self.ledger = ledger
        # Node state does not change while resources are placed: look it up in flat dicts.
        self._available = {name: node.available for name, node in state.nodes.items()}
        self._attrs = {name: node.attrs for name, node in state.nodes.items()}
        self._keys: dict[str, dict[str, str | None]] = {}     # attribute -> node -> comparable value

    # ---------------------------------------------------------------- tables

    def run(self) -> ScoreDump:
        state = self.state
        everything = [r for top in state.resources for r in _walk(top)]
        for rsc in everything:
            rsc.allowed = {n.name: n.base_score for n in state.nodes.values()} if state.symmetric else {}
            if self.ledger is not None and self.ledger.watches(rsc.id):
                for node, score in rsc.allowed.items():
                    self.ledger.note(rsc.id, node, "symmetric cluster (node score)", None, score)
        for prim in state.primitives():
            if len(counted_active(state, prim)) > 1:
                if prim.multiple_active == "stop_only":
                    prim.unpack_scores.append((None, -INF, "multiple-active=stop_only"))
                elif prim.multiple_active == "block":
                    prim.managed = False
                    prim.blocked = True
        for rsc in everything:
            for where, score, why in rsc.unpack_scores:
                self.add_location(rsc, where, score, why)
        self._apply_node_health()
        for rsc, node in locks.lock_bans(state):
            self.add_location(rsc, node, -INF, f"shutdown-lock: waits for {rsc.lock_node}")
        for loc in state.locations:
            if loc.role is not None and loc.role >= Role.PROMOTED:
                continue
            for node, score in loc.node_scores:
                self.apply_location(loc.rsc, node, score, f"location {loc.id}")
                for prim in loc.rsc.primitives():
                    mode = prim.discovery.get(node, "always")
                    if _DISCOVERY_RANK.get(loc.discovery, 0) > _DISCOVERY_RANK[mode]:
                        prim.discovery[node] = loc.discovery
        for prim in state.primitives():
            self._apply_stickiness(prim)
        for prim in state.primitives():
            self._apply_fail_limit(prim)
        for clone in state.clone_sets():
            if clone.promotable:
                promotion.add_promotion_scores(self.state, clone, self)
        for prim in state.primitives():
            if "exclusive" in prim.discovery.values():
                for node in state.nodes:
                    if prim.discovery.get(node) != "exclusive":
                        self._set(prim, node, -INF, "resource-discovery=exclusive names other nodes")
        for top in state.resources:
            if top.is_group:
                self._group_internal_colocations(top)
        for prim in state.primitives():
            if prim.launcher is not None:
                add_colocation(state, Colocation(id="#resource-with-launcher", dependent=prim,
                                                 primary=prim.launcher, score=INF, influence=True))
        for top in state.resources:
            self.assign(top)
        return self.score_dump

    def _apply_node_health(self) -> None:
        """Node health attributes (``#health-*``) become a location score on every resource."""
        options = self.state.options
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
        for node in self.state.nodes.values():
            health = base
            for name, value in node.attrs.items():
                if name.startswith("#health-"):
                    health = add_scores(health, colors.get(value.lower(), parse_score(value, 0)))
            if health == 0:
                continue
            for top in self.state.resources:
                if health < 0 and is_true(top.meta.get("allow-unhealthy-nodes"), False):
                    continue
                self.apply_location(top, node.name, health, "node health")

    def add_location(self, rsc: Resource, node: str | None, score: int, why: str) -> None:
        """Pacemaker's resource_location: create the entry with the score, or add to it."""
        targets = list(self.state.nodes) if node is None else [node]
        allowed = rsc.allowed
        for name in targets:
            self._set(rsc, name, add_scores(allowed[name], score) if name in allowed else score, why)

    def _set(self, rsc: Resource, node: str, score: int, why: str) -> None:
        if self.ledger is not None and self.ledger.watches(rsc.id):
            self.ledger.note(rsc.id, node, why, rsc.allowed.get(node), score)
        rsc.allowed[node] = score

    def _replace_table(self, rsc: Resource, table: dict[str, int], why: str) -> None:
        if self.ledger is not None and self.ledger.watches(rsc.id):
            self.ledger.note_tables(rsc.id, why, rsc.allowed, table)
        rsc.allowed = table

    def apply_location(self, rsc: Resource, node: str, score: int, why: str) -> None:
        if rsc.is_group:
            self.add_location(rsc, node, score, why)
            for i, member in enumerate(rsc.children):
                if i == 0:
                    self.apply_location(member, node, score, f"{why} (on group {rsc.id})")
                elif node not in member.allowed:
                    self._set(member, node, 0, f"{why} (on group {rsc.id}, later member)")
            return
        self.add_location(rsc, node, score, why)

    def _apply_stickiness(self, rsc: Resource) -> None:
        if not rsc.managed or rsc.stickiness == 0 or len(rsc.active_on) != 1:
            return
        node = rsc.active_on[0]
        if not self.state.symmetric and node not in rsc.allowed:
            return
        if rsc.stickiness < 1:
            return
        self.add_location(rsc, node, rsc.stickiness, f"resource-stickiness={rsc.stickiness} (active here)")

    def _apply_fail_limit(self, rsc: Resource) -> None:
        if rsc.migration_threshold == 0 or rsc.ignore_failure:
            return
        if not has_fail_counts(self.state, rsc) and not any(has_fail_counts(self.state, x) for x in rsc.launched):
            return
        for node in self.state.nodes.values():
            if node.name in rsc.fail_cleared:
                continue
            failures = failures_counted(self.state, rsc, node)
            if failures >= rsc.migration_threshold:
                self.add_location(rsc, node.name, -INF,
                                  f"{failures} failures reached migration-threshold={rsc.migration_threshold}")

    def _group_internal_colocations(self, group: Resource) -> None:
        for prev, member in zip(group.children, group.children[1:], strict=False):
            add_colocation(self.state, Colocation(id="#group-members", dependent=member, primary=prev,
                                                  score=INF, influence=member.critical))

    # ---------------------------------------------------------------- helpers

    def available(self, node: str) -> bool:
        return self._available.get(node, False)

    def any_available(self, table: dict[str, int]) -> bool:
        avail = self._available
        return any(score >= 0 and avail.get(n, False) for n, score in table.items())

    def _attr_keys(self, name: str) -> dict[str, str | None]:
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
        return self._attr_keys(name).get(node)

    def _show(self, prefix: str, rsc: Resource) -> None:
        """Snapshot the table as ``crm_simulate -s`` would print it now; formatted only if someone asks."""
        self.score_dump.tables.append((prefix, rsc.id, dict(rsc.allowed)))

    # ---------------------------------------------------------------- lists

    @staticmethod
    def _merge(dest: list[Colocation], addition: list[Colocation], by_primary: bool) -> None:
        """Add a parent's list into a member's, reproducing Pacemaker HEAD's head-repeat quirk."""
        if not addition:
            return
        if not dest:
            dest.extend(addition)
            return
        for _ in addition:
            insert_colocation(dest, addition[0], by_primary)

    def this_with(self, rsc: Resource) -> list[Colocation]:
        out = list(rsc.this_with)
        if rsc.clone_of is not None and (rsc.parent is None or rsc is rsc.parent.children[0]):
            # What the clone is colocated with places each of its instances (a group instance by its first member).
            for c in self.state.by_id[rsc.clone_of].this_with:
                insert_colocation(out, c, by_primary=True)
        parent = rsc.parent
        if parent is not None and parent.children and rsc is parent.children[0]:
            self._merge(out, parent.this_with, by_primary=True)
            self._add_member_colocations(out, parent, rsc, this_with=True)
        return out

    def with_this(self, rsc: Resource) -> list[Colocation]:
        out = list(rsc.with_this)
        parent = rsc.parent
        if parent is not None and parent.children and rsc is parent.children[-1]:
            self._merge(out, parent.with_this, by_primary=False)
            self._add_member_colocations(out, parent, rsc, this_with=False)
        return out

    @staticmethod
    def _add_member_colocations(out: list[Colocation], group: Resource, rsc: Resource, this_with: bool) -> None:
        """The other members' own colocations also place a (collocated) group as a whole.

        The first member decides where the group goes (its later members follow
        it), so it must already weigh what a later member is colocated with;
        symmetrically the last member answers for colocations with any member.
        Only explicit (user) constraints count: the internal member chain is
        what makes the members follow each other in the first place.
        """
        if not is_true(group.meta.get("collocated"), True):
            return
        for member in group.children:
            if member is rsc:
                continue
            for c in (member.this_with if this_with else member.with_this):
                if not c.id.startswith("#"):
                    insert_colocation(out, c, by_primary=this_with)

    @staticmethod
    def is_active(rsc: Resource) -> bool:
        return any(p.active_on for p in rsc.primitives())

    def has_influence(self, c: Colocation) -> bool:
        return c.influence or not self.is_active(c.primary)

    # ---------------------------------------------------------------- assignment

    def assign(self, rsc: Resource) -> str | None:
        if rsc.is_clone:
            return self._assign_clone(rsc)
        return self._assign_group(rsc) if rsc.is_group else self._assign_primitive(rsc)

    def _assign_clone(self, clone: Resource) -> str | None:
        """Place every instance, then (promotable) choose which of them to promote.

        Roles are chosen as soon as the instances are placed, as Pacemaker does,
        so that resources colocated with the promoted instance, assigned later,
        see where it is.
        """
        if not clone.assign_done and not clone.assigning:
            clone.assigning = True
            for instance in self._instance_order(clone):
                self.assign(instance)
            if clone.promotable:
                promotion.choose_roles(self.state, clone, self)
            clone.assigning = False
            clone.assign_done = True
        return None

    def _assign_group(self, group: Resource) -> str | None:
        if group.assign_done:
            return group.assigned
        if group.clone_of is not None and self._assign_clone_first(group):
            return group.assigned
        if group.assigning:
            return None
        group.assigning = True
        self._show("pcmk__group_assign", group)
        for member in group.children:
            self._show("pcmk__group_assign", member)
        first: str | None = None
        for member in group.children:
            node = self._assign_primitive(member)
            if first is None:
                first = node
        group.next_role = group.children[0].next_role
        group.assigned = first
        group.assigning = False
        group.assign_done = True
        return first

    def _assign_primitive(self, rsc: Resource) -> str | None:
        parent = rsc.parent
        if parent is not None and not parent.assigning and not parent.assign_done:
            self._assign_group(parent)
            return rsc.assigned
        if rsc.clone_of is not None and self._assign_clone_first(rsc):
            return rsc.assigned
        if rsc.assign_done:
            return rsc.assigned
        if rsc.assigning:
            return None
        rsc.assigning = True
        this_with = self.this_with(rsc)
        with_this = self.with_this(rsc)
        for c in this_with:
            if c.mandatory:
                self._apply_this_with(c, rsc)
        for c in with_this:
            if c.mandatory:
                self._add_dependent_scores(c, rsc)
        for c in this_with:
            if not c.mandatory:
                self._apply_this_with(c, rsc)
        for c in with_this:
            if not c.mandatory:
                self._add_dependent_scores(c, rsc)
        state = self.state
        if rsc.next_role == Role.STOPPED:
            self.add_location(rsc, None, -INF, f"must stop ({rsc.next_role_reason or 'target-role=Stopped'})")
        if self.capacity.active and rsc.managed:
            self._ban_insufficient_capacity(rsc)
        if not rsc.orphan:
            self._show("pcmk__primitive_assign", rsc)
        if state.fencing_enabled and not state.have_fencing:
            rsc.managed = False
        if not rsc.managed:
            chosen = current_node(state, rsc)
            if rsc.next_role is None:
                rsc.next_role = rsc.role if chosen else Role.STOPPED
        elif state.stop_all:
            chosen = None
        else:
            if rsc.clone_of is not None:
                self._keep_instances_apart(rsc)
            chosen = self._best_node(rsc)
        self._commit(rsc, chosen)
        rsc.assigning = False
        return chosen

    def _instance_order(self, clone: Resource) -> list[Resource]:
        """Instances that can stay where they run first, then those running nowhere, then the displaced.

        An anonymous clone's instances are interchangeable: where one can no
        longer run, Pacemaker stops it and starts a fresh instance elsewhere
        rather than moving it, so free instances choose their nodes before a
        displaced one does (which then moves only if nodes are left over).
        """
        staying: list[Resource] = []
        idle: list[Resource] = []
        displaced: list[Resource] = []
        for instance in clone.children:
            parts = instance.primitives()
            nodes = {current_node(self.state, p) for p in parts}
            if nodes == {None}:
                idle.append(instance)
            elif len(nodes) == 1 and all(self.available(n) and p.allowed.get(n, -INF) >= 0
                                         for p in parts for n in nodes if n is not None):
                staying.append(instance)
            else:
                displaced.append(instance)
        return staying + idle + displaced

    def _assign_clone_first(self, instance: Resource) -> bool:
        """An instance is placed with its whole clone (True: that just happened, the instance included)."""
        assert instance.clone_of is not None
        clone = self.state.by_id[instance.clone_of]
        if clone.assigning or clone.assign_done:
            return False
        self._assign_clone(clone)
        return True

    def _keep_instances_apart(self, rsc: Resource) -> None:
        """One instance of a clone per node (clone-node-max 1): not where a sibling already went."""
        assert rsc.clone_of is not None
        for sibling in self.state.clones[rsc.history_id]:
            if sibling is rsc:
                continue
            if sibling.assign_done and sibling.assigned is not None:
                self._set(rsc, sibling.assigned, -INF, f"clone {rsc.clone_of}: {sibling.id} runs there")
            elif not sibling.assign_done:     # leave a sibling's current node to it: instances stay put
                for node in sibling.active_on:
                    if node not in rsc.active_on:
                        self._set(rsc, node, -INF, f"clone {rsc.clone_of}: kept for {sibling.id}, active there")

    def _needs(self, rsc: Resource) -> dict[str, int]:
        """What placing ``rsc`` takes: a group's first member speaks for the members still to place."""
        group = rsc.parent
        parts = [m for m in group.children if not m.assign_done] if group is not None and \
            rsc is group.children[0] else [rsc]
        needs: dict[str, int] = {}
        for part in parts:
            for name, amount in part.utilization.items():
                needs[name] = needs.get(name, 0) + amount
        return needs

    def _ban_insufficient_capacity(self, rsc: Resource) -> None:
        needs = self._needs(rsc)
        if not needs:
            return
        for node in list(rsc.allowed):
            if not self.capacity.fits(node, needs):
                wanted = ", ".join(f"{k}={v}" for k, v in sorted(needs.items()))
                self._set(rsc, node, -INF, f"not enough capacity left for {wanted} "
                                           f"(placement-strategy={self.capacity.strategy})")

    def _commit(self, rsc: Resource, node: str | None) -> None:
        rsc.assigned = node
        rsc.assign_done = True
        if node is not None:
            self.state.nodes[node].num_resources += 1
            if self.capacity.active and rsc.utilization:
                self.capacity.consume(node, rsc.utilization)
        elif rsc.next_role is None or rsc.next_role > Role.STOPPED:
            rsc.next_role = Role.STOPPED
            rsc.next_role_reason = "no node"

    def _best_node(self, rsc: Resource) -> str | None:
        if not rsc.allowed:
            return None
        current = current_node(self.state, rsc)
        avail = self._available
        # Highest score on an available node first; the tie-breaks (fewest resources, the current node, the
        # name) only among the nodes sharing it - usually one on a settled cluster.
        top = max((score if avail.get(name, False) else -INF) for name, score in rsc.allowed.items())
        tied = [name for name, score in rsc.allowed.items() if (score if avail.get(name, False) else -INF) == top]
        best = tied[0] if len(tied) == 1 else min(tied, key=self._tie_break(current))
        best_score = rsc.allowed[best]
        if best_score > 0 and self.available(best) and current is not None and current != best \
                and self.available(current) and rsc.allowed.get(current) == best_score:
            best = current
        if rsc.allowed[best] < 0 or not self.available(best):
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

    def _apply_this_with(self, c: Colocation, rsc: Resource) -> None:
        archive = None
        if (c.dependent_role is not None and c.dependent_role >= Role.PROMOTED) or -INF < c.score < 0:
            archive = dict(rsc.allowed)
        primary = c.primary
        if not primary.assign_done:
            self.assign(primary)
        target = primary
        if primary.is_group:
            target = primary.children[-1] if c.score >= INF else primary.children[0]
        if c.dependent_role is not None and rsc.clone_of is not None:
            pass    # a role of the clone's instances: weighed when roles are chosen (promotion), not here
        elif primary.is_clone:
            self._apply_coloc_with_clone(rsc, primary, c)
        else:
            self._apply_coloc_to_scores(rsc, target, c)
        if archive is not None and not self.any_available(rsc.allowed):
            self._replace_table(rsc, archive, f"colocation {c.id} undone: it left no node available")

    def _apply_coloc_to_scores(self, rsc: Resource, primary: Resource, c: Colocation) -> None:
        if not primary.assign_done or rsc.assign_done:
            return
        if c.primary_role is not None and (primary.next_role or primary.role) != c.primary_role:
            return
        pnode = primary.assigned
        if pnode is None and c.score < 0:
            return
        value = self.attr_key(pnode, c.node_attribute) if pnode is not None else None
        work = dict(rsc.allowed)
        for node, score in work.items():
            if pnode is None:
                work[node] = add_scores(-c.score, score)
            elif self.attr_key(node, c.node_attribute) == value:
                if c.score < INF:
                    work[node] = add_scores(c.score, score)
            elif c.score >= INF:
                work[node] = -INF
        if c.mandatory or self.any_available(work):
            where = f"on {pnode}" if pnode is not None else "not placed"
            self._replace_table(rsc, work, f"colocation {c.id} with {c.primary.id} "
                                           f"(score {format_score(c.score)}; {primary.id} {where})")

    def _apply_coloc_with_clone(self, rsc: Resource, clone: Resource, c: Colocation) -> None:
        """Colocation with a clone: with any of its instances (in the role asked for), wherever they went."""
        if rsc.assign_done:
            return
        values = {self.attr_key(i.assigned, c.node_attribute) for i in clone.children
                  if i.assigned is not None and (c.primary_role is None or i.next_role == c.primary_role)}
        if not values and c.score < 0:
            return
        keys = self._attr_keys(c.node_attribute)
        work = dict(rsc.allowed)
        for node, score in work.items():
            if not values:
                work[node] = add_scores(-c.score, score)
            elif keys.get(node) in values:
                if c.score < INF:
                    work[node] = add_scores(c.score, score)
            elif c.score >= INF:
                work[node] = -INF
        if c.mandatory or self.any_available(work):
            role = f" ({c.primary_role.text})" if c.primary_role is not None else ""
            self._replace_table(rsc, work, f"colocation {c.id} with clone {clone.id}{role} "
                                           f"(score {format_score(c.score)})")

    def _add_dependent_scores(self, c: Colocation, primary: Resource) -> None:
        if not self.has_influence(c):
            return
        result = self._add_colocated(c.dependent, primary, rsc_table=primary.allowed, c=c,
                                     factor=c.score / INF)
        if result is not None:
            self._replace_table(primary, result, f"colocation {c.id}: {c.dependent.id} follows it "
                                                 f"(score {format_score(c.score)}, its preferences weighed)")

    def _add_colocated(self, source: Resource, target: Resource, rsc_table: dict[str, int], c: Colocation,
                       factor: float) -> dict[str, int] | None:
        """Fold ``source``'s preferences into a copy of the table; None means "roll this step back"."""
        if source.merging:
            return rsc_table
        if source.is_group:
            source.merging = True
            try:
                return self._add_colocated(source.children[0], target, rsc_table, c, factor)
            finally:
                source.merging = False
        source.merging = True
        try:
            work = dict(rsc_table)
            self._add_matching(work, source, c, factor)
            if self.any_available(work):
                for c2 in self.with_this(source):
                    if not self.has_influence(c2):
                        continue
                    result = self._add_colocated(c2.dependent, target, work, c2, factor * c2.score / INF)
                    if result is not None:
                        work = result
            else:
                return None
            return work
        finally:
            source.merging = False

    def _best_by_value(self, source: Resource, c: Colocation) -> dict[str | None, int]:
        """The best score ``source`` has on an available node, per value of the colocation's node attribute."""
        best: dict[str | None, int] = {}
        avail = self._available
        keys = self._attr_keys(c.node_attribute)
        for other, score in self._table_with_group_locations(source, c).items():
            if score > -INF and avail.get(other, False):
                key = keys.get(other)
                if score > best.get(key, -INF):
                    best[key] = score
        return best

    def _table_with_group_locations(self, source: Resource, c: Colocation) -> dict[str, int]:
        """``source``'s table, plus its group's location scores if those never reached it.

        A group's locations land on its first member only (the rest follow
        through the member chain). When a later member is itself the dependent
        of a user colocation, its primary must not be drawn to a node the group
        is banned from, so the group's locations are weighed here as if they
        were the member's own.
        """
        group = source.parent
        if (c.dependent is not source or c.id.startswith("#") or group is None or not group.is_group
                or source is group.children[0]):
            return source.allowed
        table = dict(source.allowed)
        for loc in self.state.locations:
            if loc.rsc is not group or (loc.role is not None and loc.role >= Role.PROMOTED):
                continue
            for node, score in loc.node_scores:
                table[node] = add_scores(table[node], score) if node in table else score
        return table

    def _add_matching(self, work: dict[str, int], source: Resource, c: Colocation, factor: float) -> None:
        attr = c.node_attribute
        best_by_value = self._best_by_value(source, c)
        keys = self._attr_keys(attr)
        for node in list(work):
            best = best_by_value.get(keys.get(node), -INF)
            if factor < 0 and best < 0:
                primary = c.primary
                if primary.stickiness >= -best or not self.has_influence(c) or \
                        not _allowed_on_one(c.dependent):
                    continue
            delta = scale(best, factor)
            if delta == 0 and best != 0 and factor != 0:
                delta = 1 if factor > 0 else -1
            work[node] = add_scores(delta, work[node])


def failures_counted(state: ClusterState, rsc: Resource, node: Node) -> int:
    """Failures weighed against migration-threshold: a launcher also carries what it launched."""
    total = effective_fail_count(state, rsc, node)
    for launched in rsc.launched:
        total = add_scores(total, effective_fail_count(state, launched, node))
    return total


def _allowed_on_one(rsc: Resource) -> bool:
    return sum(1 for score in rsc.allowed.values() if score >= 0) == 1


def _walk(rsc: Resource) -> list[Resource]:
    out = [rsc]
    for child in rsc.children:
        out.extend(_walk(child))
    return out
