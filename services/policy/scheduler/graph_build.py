"""Turn the scheduler's required actions into the transition graph the engine executes."""

from __future__ import annotations

from paceline.policy.graph import Action, Graph
from paceline.policy.scheduler.actions import Act
from paceline.policy.scheduler.digests import op_params
from paceline.policy.scheduler.model import ClusterState
from paceline.policy.scheduler.unpack import op_timeout_ms
from paceline.shared.lrm import params_digest


def included(act: Act) -> bool:
    return act.required and act.runnable


def _graph_action(state: ClusterState, act: Act, new_id: int) -> Action:
    if act.task == "stonith":
        return Action(id=new_id, task="stonith", node=act.node,
                      meta={"fencing-action": state.fencing_action, "reason": act.fence_reason})
    rsc = act.rsc
    assert rsc is not None
    if act.pseudo or rsc.is_group:
        return Action(id=new_id, task=act.task, rsc=rsc.id, node=act.node, pseudo=True)
    params = op_params(rsc, act.node, act.task, act.interval_ms)
    meta = {k: v for k, v in rsc.meta.items()}
    for op in rsc.ops:
        if op.name == act.task and op.interval_ms == act.interval_ms:
            meta.update(op.meta)
            break
    return Action(id=new_id, task=act.task, rsc=rsc.id, node=act.node, interval_ms=act.interval_ms,
                  timeout_ms=op_timeout_ms(state, rsc, act.task, act.interval_ms), agent=dict(rsc.agent),
                  params=params, meta=meta, expected_rc=act.expected_rc, digest=params_digest(params))


def to_graph(state: ClusterState, actions: list[Act]) -> Graph:
    chosen = [a for a in actions if included(a)]
    new_ids = {a.id: i for i, a in enumerate(chosen)}
    memo: dict[int, set[int]] = {}

    def included_inputs(act: Act, seen: set[int]) -> set[int]:
        """Inputs of ``act``, looking through actions left out of the graph."""
        if act.id in memo:
            return memo[act.id]
        out: set[int] = set()
        for first, _flags in act.before:
            if first.id in seen:
                continue
            if first.id in new_ids:
                out.add(new_ids[first.id])
            else:
                out |= included_inputs(first, seen | {first.id})
        memo[act.id] = out
        return out

    graph = Graph()
    for act in chosen:
        ga = _graph_action(state, act, new_ids[act.id])
        ga.inputs = sorted(included_inputs(act, {act.id}))
        graph.actions.append(ga)
    return graph
