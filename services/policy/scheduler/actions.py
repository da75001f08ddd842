"""Actions and orderings: what must happen for the assignment to become true, and in which order.

Every action is optional or required, runnable or not. Creation marks the
obvious ones (a moving resource's stop and start are required); orderings
then propagate those flags until nothing changes (:mod:`propagation`), which
is how a restart of one resource drags the resources ordered after it, and how
an action that cannot run blocks what depends on it. The Transition Summary and
the graph are both read off the final flags.

This module is the builder the others work through - the action list, lookup
and ordering - and the pipeline's order (Pacemaker's pcmk__schedule_actions):
fencing, each resource's actions by its kind (:mod:`variants`), their
internal orderings, launchers, the user's orderings (:mod:`orderings`),
propagation and clone notifications
(:mod:`notifications`).
"""

from __future__ import annotations

from collections.abc import Callable

from paceline.policy.scheduler import fencing, notifications, orderings, propagation, remote
from paceline.policy.scheduler.act import Act
from paceline.policy.scheduler.variants import variant_of
from paceline.shared.cluster.model import ClusterState, Resource, Role
from paceline.shared.lrm import OCF_NOT_RUNNING, OCF_SUCCESS

__all__ = ["Act", "ActionBuilder"]


class ActionBuilder:
    """The actions of one scheduler run, by resource, with their orderings."""

    def __init__(self, state: ClusterState):
        self.state = state
        self.actions: list[Act] = []
        self.by_rsc: dict[str, list[Act]] = {}
        # (resource id, task, interval) -> its actions in creation order: what ``find`` asks, without scanning
        # every action of the resource (a resource has a probe per node).
        self._by_key: dict[tuple[str, str, int], list[Act]] = {}
        self.fences: dict[str, Act] = {}
        self.reloads: dict[str, Act] = {}
        self.unfences: dict[str, Act] = {}
        self.clone_probes: dict[str, list[Act]] = {}   # clone id -> probes its instances make
        self.clone_known: dict[str, set[str]] = {}     # clone history id -> nodes where some instance is known
        # Probes only ever order a start after them and never change flags after creation, so they are
        # kept out of the ordering graph that propagation walks (a fresh cluster has one per resource
        # per node): start action id -> the probes it waits for.
        self.probes_before: dict[int, list[Act]] = {}
        # Actions Pacemaker would create only when an ordering names them first (rsc_order_first: a stopping
        # resource's start), so after every other action: propagation visits them first.
        self.made_for_orderings: list[Act] = []

    # ---------------------------------------------------------------- the pipeline

    def build(self) -> list[Act]:
        state = self.state
        fencing.create_fencing(self)
        for top in state.resources:
            variant_of(top).create_actions(self, top)
        for top in state.resources:
            variant_of(top).internal_constraints(self, top)
        for clone in state.clone_sets():
            if clone.in_bundle is None:     # a bundle's clone is its bundle's to order (first its own phases)
                variant_of(clone).internal_constraints(self, clone)
        for prim in state.primitives():
            if prim.launcher is not None and remote.beside_launcher(state, prim):
                orderings.launcher_orderings(self, prim)
        remote.order_remote_actions(self)
        orderings.unassign_unpartnered(self)
        for o in state.orderings:
            orderings.user_ordering(self, o)
        for join in state.one_or_more:
            orderings.one_or_more(self, join)
        orderings.anti_colocation_orderings(self)
        fencing.fence_orderings(self)
        propagation.propagate(self)
        propagation.block_colocation_dependents(self)
        for clone in state.clone_sets():
            if notifications.wants_notifications(clone):
                notifications.add_notifications(self, clone)
        return self.actions

    # ---------------------------------------------------------------- creation and lookup

    def new(self, task: str, rsc: Resource | None, node: str | None, interval_ms: int = 0, optional: bool = True,
            runnable: bool = True, pseudo: bool = False, expected_rc: int = OCF_SUCCESS,
            fence_reason: str = "") -> Act:
        act = Act(len(self.actions), task, rsc, node, interval_ms, optional, runnable, pseudo, None, expected_rc,
                  fence_reason)
        self.actions.append(act)
        if rsc is not None:
            acts = self.by_rsc.get(rsc.id)
            if acts is None:
                self.by_rsc[rsc.id] = [act]
            else:
                acts.append(act)
            key = (rsc.id, task, interval_ms)
            same = self._by_key.get(key)
            if same is None:
                self._by_key[key] = [act]
            else:
                same.append(act)
        return act

    def probe_maker(self, rsc: Resource) -> Callable[[str, bool], Act]:
        """What makes ``rsc``'s probes: ``new("monitor", rsc, node, 0, False, runnable, False, OCF_NOT_RUNNING)``
        with the resource's lists looked up once, as a fresh cluster has a probe per resource per node (tens of
        thousands). An empty list left behind when no probe is made reads as a missing one."""
        actions = self.actions
        mine = self.by_rsc.setdefault(rsc.id, [])
        same = self._by_key.setdefault((rsc.id, "monitor", 0), [])

        def make(node: str, runnable: bool) -> Act:
            act = Act(len(actions), "monitor", rsc, node, 0, False, runnable, False, None, OCF_NOT_RUNNING, "")
            actions.append(act)
            mine.append(act)
            same.append(act)
            return act
        return make

    def find(self, rsc: Resource, task: str, node: str | None = None, interval: int = 0) -> list[Act]:
        same = self._by_key.get((rsc.id, task, interval))
        if same is None:
            return []
        if node is None:
            return list(same)
        return [a for a in same if a.node == node]

    def order(self, first: Act, then: Act, flags: int) -> None:
        if first is then:
            return
        if first.after:
            first.after.append((then, flags))
        else:
            first.after = [(then, flags)]
        if then.before:
            then.before.append((first, flags))
        else:
            then.before = [(first, flags)]

    def node_ok(self, node: str | None) -> bool:
        """Can actions run on the node (online, clean, joined)?"""
        if node is None:
            return False
        n = self.state.nodes.get(node)
        return n is not None and n.online and not n.unclean and not n.pending

    def start_runnability(self, rsc: Resource, start: Act) -> None:
        """A start (or promote) cannot run on a node that cannot act, for an unmanaged resource, or
        without quorum unless ``no-quorum-policy`` allows it."""
        state = self.state
        if not self.node_ok(start.node):
            start.runnable = False
            return
        if not rsc.managed:
            start.optional = True
            start.runnable = False
            return
        policy = state.no_quorum_policy
        if policy == "demote":      # promotable instances run on (unpromoted), the rest stop (effective_quorum_policy)
            policy = "ignore" if rsc.status.role in (Role.PROMOTED, Role.UNPROMOTED) else "stop"
        if rsc.requires != "nothing" and not state.quorate and policy != "ignore":
            if policy == "freeze":
                if not rsc.status.active_on:
                    start.runnable = False
                    start.set_reason("quorum freeze", overwrite=True)
            else:
                start.runnable = False
                start.set_reason("no quorum", overwrite=True)
