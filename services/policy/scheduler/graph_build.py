"""Turn the scheduler's required actions into the transition graph the engine executes."""

from __future__ import annotations

from paceline.policy.graph import Action, Graph
from paceline.policy.scheduler.act import APPLY_FIRST_NON_MIGRATABLE, Act
from paceline.shared.cluster.digests import op_params
from paceline.shared.cluster.model import ClusterState, Resource
from paceline.shared.cluster.unpack import op_timeout_ms
from paceline.shared.lrm import params_digest


class _OpDetails:
    """Parameters, meta, timeout and digest of one (resource, task, interval[, node]), computed once.

    A fresh cluster has a probe of every resource on every node: the details
    only differ per node when instance attributes have node rules.
    """

    def __init__(self, state: ClusterState):
        self.state = state
        self.cache: dict[tuple, tuple[dict[str, str], dict[str, str], int, str]] = {}

    def get(self, rsc: Resource, node: str | None, task: str, interval: int) -> tuple[dict[str, str], dict[str, str],
                                                                                     int, str]:
        key = (rsc.id, task, interval, node if rsc.node_params else None)
        found = self.cache.get(key)
        if found is None:
            params = op_params(rsc, node, task, interval)
            meta = dict(rsc.meta)
            for op in rsc.ops:
                if op.name == task and op.interval_ms == interval:
                    meta.update(op.meta)
                    break
            found = (params, meta, op_timeout_ms(self.state, rsc, task, interval), params_digest(params))
            self.cache[key] = found
        return found


def _graph_action(state: ClusterState, details: _OpDetails, act: Act, new_id: int) -> Action:
    if act.task == "stonith":
        # A guest's fencing is a pseudo-action: its container's recovery does it (pcmk__fence_guest).
        return Action(id=new_id, task="stonith", node=act.node, pseudo=act.pseudo,
                      meta={"fencing-action": act.fence_op or state.fencing_action, "reason": act.fence_reason})
    rsc = act.rsc
    if rsc is None:        # a pseudo-action of no resource (one-or-more of a resource set)
        return Action(id=new_id, task=act.task, pseudo=True)
    if act.pseudo or rsc.is_group:
        return Action(id=new_id, task=act.task, rsc=rsc.id, node=act.node, pseudo=True)
    # A resource's details are the same on every node unless its parameters have node rules: looked up by
    # (id, task, interval) directly, as most actions (a probe per node) are (``_OpDetails.get``'s own key).
    found = None if rsc.node_params else details.cache.get((rsc.id, act.task, act.interval_ms, None))
    params, meta, timeout, digest = found or details.get(rsc, act.node, act.task, act.interval_ms)
    if act.meta:
        meta = {**meta, **act.meta}
    # Positional, in field order (this runs once per probe: tens of thousands of times on a large cluster).
    # The dicts are shared between actions of one resource: the graph is read-only once built.
    return Action(new_id, act.task, rsc.history_id, act.node, act.interval_ms, timeout, rsc.agent, params, meta, False,
                  act.expected_rc, [], digest)


def to_graph(state: ClusterState, actions: list[Act], probes_before: dict[int, list[Act]] | None = None) -> Graph:
    """The required, runnable actions with their inputs (``probes_before``: probes a start waits for)."""
    probes_before = probes_before or {}
    chosen = [a for a in actions if not a.optional and a.runnable]
    new_ids = {a.id: i for i, a in enumerate(chosen)}
    memo: dict[int, set[int]] = {}

    def included_inputs(act: Act, seen: set[int]) -> set[int]:
        """Inputs of ``act``, looking through actions left out of the graph."""
        if act.id in memo:
            return memo[act.id]
        out: set[int] = set()
        for first, flags in act.before:
            if first.id in seen or (flags & APPLY_FIRST_NON_MIGRATABLE and first.migrate_runnable):
                continue
            if first.id in new_ids:
                out.add(new_ids[first.id])
            elif first.before:
                out |= included_inputs(first, seen | {first.id})
        memo[act.id] = out
        return out

    graph = Graph()
    details = _OpDetails(state)
    append = graph.actions.append
    for new_id, act in enumerate(chosen):
        ga = _graph_action(state, details, act, new_id)
        probes = probes_before.get(act.id)
        if act.before or probes:
            inputs = included_inputs(act, {act.id}) if act.before else set()
            if probes:
                inputs = inputs | {new_ids[p.id] for p in probes if p.id in new_ids}
            ga.inputs = sorted(inputs)
        append(ga)
    return graph
