"""Flag propagation along orderings (Pacemaker's pcmk__update_action_for_orderings and friends).

Each ordering carries flags (:mod:`act`); an action whose flags change
re-examines its neighbours until nothing changes. Then a dependent
mandatorily colocated with a primary that cannot start is blocked too, and
propagation runs again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from paceline.policy.scheduler.act import (
    ANY_BLOCKS,
    ASYMMETRIC,
    BLOCKS,
    IMPLIES_FIRST,
    IMPLIES_FIRST_MIGRATABLE,
    IMPLIES_THEN,
    INSTANCE_TASK,
    INTERMEDIATE_STOP,
    INVERSE_FIRST,
    MEMBER,
    PSEUDO_LEFT,
    Act,
)
from paceline.shared.cluster.scores import INF

if TYPE_CHECKING:
    from paceline.policy.scheduler.actions import ActionBuilder


def propagate(b: ActionBuilder) -> None:
    """Propagate flags until nothing changes, visiting actions as Pacemaker's pcmk__apply_orderings does.

    Every action is updated for the orderings it is "then" of, last created first (Pacemaker prepends to
    its action list, and the actions it creates only when an ordering names them come last of all); an
    update that changes an action re-updates it and then everything after it, depth first, before the
    next ordering is looked at (pcmk__update_action_for_orderings). The order only decides which reason
    an action keeps - the first one set - not the flags themselves.
    """
    late = {a.id for a in b.made_for_orderings}
    for act in [*reversed(b.made_for_orderings), *(a for a in reversed(b.actions) if a.id not in late)]:
        if act.before:
            _update_for_orderings(b, act)


def _update_for_orderings(b: ActionBuilder, action: Act) -> None:
    """pcmk__update_action_for_orderings on ``action``, its recursion run on an explicit stack (chains of
    thousands of actions would exceed Python's)."""
    stack = [_visit(b, action)]
    while stack:
        nxt = next(stack[-1], None)
        if nxt is None:
            stack.pop()
        else:
            stack.append(_visit(b, nxt))


def _visit(b: ActionBuilder, then: Act) -> Iterator[Act]:
    """One update of ``then``, yielding each action to update next (in full) before it goes on: after a
    change to a first action, that action's then-actions and itself; after a change to ``then``, itself
    and its then-actions."""
    changed_then = False
    for first, flags in reversed(then.before):
        changed, changed_first = _update(b, first, then, flags)
        changed_then |= changed
        if changed_first:
            for other, _flags in reversed(first.after):
                yield other
            yield first
    if changed_then:
        yield then
        for other, _flags in reversed(then.after):
            yield other


def _update(b: ActionBuilder, first: Act, then: Act, flags: int) -> tuple[bool, bool]:
    """One ordering's effect on its two actions (Pacemaker's pcmk__update_ordered_actions); (then changed,
    first changed). Reasons name the other resource's action, as pe__action2reason words them."""
    before = (then.optional, then.runnable, then.migrate_runnable, then.pseudo,
              first.optional, first.runnable, first.migrate_runnable)
    same_rsc = first.rsc is then.rsc
    if flags & IMPLIES_THEN and then.optional and not first.migrate_runnable \
            and _first_required(b, first, then):
        then.optional = False
        _because(then, first, "required")
    if flags & BLOCKS and not first.runnable and then.runnable:
        then.runnable = False
        then.migrate_runnable = False
        if not same_rsc and first.rsc is not None:
            then.set_reason(f"unrunnable {first.rsc.id} {first.task}")
        elif first.rsc is None and first.pseudo:       # a set's one-or-more pseudo-action
            then.set_reason(f"unrunnable {first.task}")
    if flags & IMPLIES_FIRST and then.required and _then_required(b, first, then):
        first.optional = False
    if flags & (IMPLIES_FIRST | INVERSE_FIRST) and then.required and first.migrate_runnable \
            and not then.migrate_runnable and not flags & MEMBER:
            first.migrate_runnable = False
            _because(first, then, "unmigrateable")
    if flags & INTERMEDIATE_STOP and (then.required or (not then.runnable and then.rsc is not None
                                                        and then.rsc.managed and same_rsc)):
        # a stop before its own resource's start (pe_order_restart): a required (or, when managed, an
        # unrunnable) start needs the stop, and a start that cannot be part of a migration, neither can the stop
        if first.runnable or then.required:
            first.optional = False
        if first.migrate_runnable and not then.migrate_runnable:
            first.migrate_runnable = False
            _because(first, then, "unmigrateable")
    if flags & IMPLIES_FIRST_MIGRATABLE:
        if first.runnable and not (then.migrate_runnable and then.runnable):
            first.runnable = False
            _because(first, then, "unrunnable")
        if then.required and first.optional:
            first.optional = False
    if flags & PSEUDO_LEFT and not first.runnable and (then.migrate_runnable or then.pseudo):
        then.migrate_runnable = False
        then.pseudo = False
    if flags & (IMPLIES_THEN | IMPLIES_FIRST | INTERMEDIATE_STOP) and first.task == "stop" \
            and not first.runnable and then.runnable and first.rsc is not None and first.rsc.status.blocked:
        then.runnable = False
        if not same_rsc:
            then.set_reason(f"unrunnable {first.rsc.id} {first.task}")
    if flags & ANY_BLOCKS and not first.runnable and then.runnable and \
            sum(1 for f, f_flags in then.before if f_flags & ANY_BLOCKS and f.runnable) < then.needs:
        then.runnable = False
    if flags & ASYMMETRIC and not first.runnable and then.runnable:
        exempt = then.optional and (
            (then.task == "stop" and then.rsc is not None and not then.rsc.status.active_on)
            or (then.task == "start" and then.rsc is not None and then.rsc.status.active_on == [then.node]))
        if not exempt:
            then.runnable = False
            then.optional = False
            if first.rsc is not None and not same_rsc:
                then.set_reason(f"unrunnable {first.rsc.id} {first.task}")
    after = (then.optional, then.runnable, then.migrate_runnable, then.pseudo,
             first.optional, first.runnable, first.migrate_runnable)
    return before[:4] != after[:4], before[4:] != after[4:]


def _because(act: Act, other: Act, word: str) -> None:
    """Name ``other`` as the reason for a change to ``act`` (not when both are the same resource's)."""
    if other.rsc is None:       # a fencing action: "required stonith"
        act.set_reason(f"{word} {other.task}")
    elif other.rsc is not act.rsc:
        act.set_reason(f"{word} {other.rsc.id} {other.task}")


def _first_required(b: ActionBuilder, first: Act, then: Act) -> bool:
    """Is ``first`` required, as far as ``then`` is concerned?

    A clone's running (stopped, promoted, demoted) is required once any
    instance's start is; a resource outside the clone ordered after it
    only cares about the instance on its own node - a new instance
    starting on another node restarts nothing here, as in Pacemaker.
    Instances of another clone ordered after it do care (without interleave).
    """
    rsc = first.rsc
    if not (first.pseudo and rsc is not None and rsc.is_clone and first.task in INSTANCE_TASK):
        return first.required
    other = then.rsc
    if other is None or other.is_clone or other.clone_of is not None:
        return first.required
    node = then.node or (other.place.assigned if other.is_group else None)
    if node is None:
        return first.required
    task = INSTANCE_TASK[first.task]
    return any(a.required for p in rsc.primitives() for a in b.find(p, task, node))


def _then_required(b: ActionBuilder, first: Act, then: Act) -> bool:
    """Is ``then`` required, as far as ``first`` is concerned (the mirror of :func:`_first_required`)?

    A clone's stop (demote) is required once any instance's is; a resource outside the clone ordered
    before it only cares about the instance on its own node (Pacemaker reads the clone's flags on the
    first action's node): an instance stopping elsewhere stops nothing here."""
    rsc = then.rsc
    other = first.rsc
    if rsc is None or then.task not in ("stop", "demote") or other is None or other.is_clone \
            or other.clone_of is not None or first.node is None:
        return True
    if rsc.clone_of is not None and then.node is not None:   # an instance's own action: only on that node
        return then.node == first.node
    if not (then.pseudo and rsc.is_clone):
        return True
    return any(a.required for p in rsc.primitives() for a in b.find(p, then.task, first.node))


def block_colocation_dependents(b: ActionBuilder) -> None:
    """A dependent mandatorily colocated with a primary that cannot start cannot start either."""
    changed = False
    for c in b.state.colocations:
        if c.score < INF:
            continue
        primary_starts = [a for p in c.primary.primitives() for a in b.find(p, "start")]
        if not primary_starts or any(a.runnable and a.node is not None for a in primary_starts):
            continue
        if all(not p.status.active_on for p in c.primary.primitives()) and \
                all(a.node is None for a in primary_starts):
            continue
        for dep in c.dependent.primitives():
            for start in b.find(dep, "start"):
                if start.runnable and start.node is not None:
                    start.runnable = False
                    start.set_reason(f"colocation with {c.primary.id}")
                    changed = True
    if changed:
        propagate(b)
