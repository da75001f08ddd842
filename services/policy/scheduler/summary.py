"""The "Transition Summary" lines, worded and aligned exactly as crm_simulate prints them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from paceline.policy.scheduler import remote
from paceline.policy.scheduler.act import Act
from paceline.policy.scheduler.activity import current_node
from paceline.policy.scheduler.variants import variant_of
from paceline.shared.cluster.model import ClusterState, Resource, Role

if TYPE_CHECKING:
    from paceline.policy.scheduler.actions import ActionBuilder


@dataclass
class Line:
    verb: str
    rsc: str
    details: str
    action: Act | None
    reason: str | None


def _reason_text(action: Act | None, reason: str | None) -> str:
    blocked = action is not None and not action.runnable
    if reason:
        return f"  due to {reason}" + (" (blocked)" if blocked else "")
    return "  blocked" if blocked else ""


def _pick(b: ActionBuilder, rsc: Resource, task: str, node: str | None) -> Act | None:
    found = b.find(rsc, task, node) if node is not None else b.find(rsc, task)
    return found[0] if found else None


def _details(orig_role: Role, next_role: Role, origin: str | None, destination: str | None) -> str:
    """Where (and, for a promotable instance, in which role) the resource is and will be, as crm_simulate
    words it: ``node1``, ``node1 -> node2``, ``Unpromoted -> Promoted node2``, ``Promoted node1``..."""
    with_role = orig_role > Role.STARTED or next_role > Role.UNPROMOTED
    same_role = orig_role == next_role
    same_host = origin == destination
    if origin is None:
        return f"{orig_role.text} -> {next_role.text} {destination}" if with_role else destination or ""
    if destination is None:
        return f"{orig_role.text} {origin}" if with_role else origin
    if same_role and same_host:
        return f"{orig_role.text} {origin}" if with_role else origin
    if same_role:
        return f"{origin} -> {destination} {orig_role.text}" if with_role else f"{origin} -> {destination}"
    if same_host:
        return f"{orig_role.text} -> {next_role.text} {origin}"
    return f"{orig_role.text} {origin} -> {next_role.text} {destination}"


def primitive_lines(state: ClusterState, b: ActionBuilder, rsc: Resource) -> list[Line]:
    """One primitive's lines: what its actions amount to, in crm_simulate's words (LogActions)."""
    if not rsc.managed:
        return []
    # A node being fenced still counts as where the resource is: its stop there is implied by the fencing.
    current = current_node(state, rsc) or next(
        (n for n in rsc.status.active_on if n in b.fences and b.fences[n].runnable), None)
    nxt = rsc.place.assigned
    if current is None and nxt is None:
        return []
    orig_role = rsc.status.role if rsc.status.active_on else Role.STOPPED
    if rsc.status.active_on and orig_role == Role.STOPPED:
        orig_role = Role.STARTED
    next_role = rsc.next_role or (Role.STARTED if nxt else Role.STOPPED)
    if nxt is None:
        next_role = Role.STOPPED

    def details(origin: str | None, destination: str | None) -> str:
        return _details(orig_role, next_role, origin, destination)

    start = _pick(b, rsc, "start", nxt) if nxt else None
    stop = _pick(b, rsc, "stop", current) if current else None
    moving = current is not None and nxt is not None and current != nxt
    if orig_role == next_role:
        migrate = _pick(b, rsc, "migrate_from", nxt) if moving else None
        if migrate is not None and migrate.runnable and start is not None:
            return [Line("Migrate", rsc.id, details(current, nxt), start, start.reason)]
        reload = b.reloads.get(rsc.id)
        if reload is not None and start is not None and start.optional and reload.required:
            return [Line("Reload", rsc.id, details(nxt, nxt), start, start.reason)]
        if start is None or start.optional:
            demote, promote = _pick(b, rsc, "demote", current), _pick(b, rsc, "promote", nxt)
            if demote is not None and promote is not None and demote.required and promote.required:
                return [Line("Re-promote", rsc.id, details(current, nxt), promote, promote.reason)]
            return []
        if not start.runnable:
            reason = stop.reason if stop is not None and stop.reason else start.reason
            return [Line("Stop", rsc.id, details(current, None), stop, reason)] if current else []
        if moving:
            verb = "Recover" if rsc.status.failed else "Move"
            return [Line(verb, rsc.id, details(current, nxt), stop, stop.reason if stop else None)]
        if rsc.status.failed:
            return [Line("Recover", rsc.id, details(nxt, nxt), stop, stop.reason if stop else None)]
        return [Line("Restart", rsc.id, details(nxt, nxt), start, start.reason)]
    if stop is not None and (next_role == Role.STOPPED or (start is not None and not start.runnable)):
        lines = []
        for node in rsc.status.active_on:
            node_stop = _pick(b, rsc, "stop", node)
            if node_stop is None:
                continue
            reason = node_stop.reason or (start.reason if start is not None else None)
            lines.append(Line("Stop", rsc.id, _details(orig_role, Role.STOPPED, node, None), node_stop, reason))
        return lines
    if rsc.status.failed and rsc.status.stop_if_failed and current is not None:
        return [Line("Recover", rsc.id, details(current, nxt or current), stop, start.reason if start else None)]
    if moving:
        return [Line("Move", rsc.id, details(current, nxt), stop, stop.reason if stop else None)]
    if stop is not None and stop.required and start is not None:
        return [Line("Restart", rsc.id, details(nxt, nxt), start, start.reason)]
    if orig_role == Role.PROMOTED:
        demote = _pick(b, rsc, "demote", current)
        return [Line("Demote", rsc.id, details(current, nxt), demote, demote.reason if demote else None)]
    if next_role == Role.PROMOTED:
        promote = _pick(b, rsc, "promote", nxt)
        return [Line("Promote", rsc.id, details(current, nxt), promote, promote.reason if promote else None)]
    if orig_role == Role.STOPPED and next_role > Role.STOPPED and start is not None:
        return [Line("Start", rsc.id, details(None, nxt), start, start.reason)]
    return []


def summary_lines(state: ClusterState, b: ActionBuilder) -> list[str]:
    out: list[str] = []
    # Pacemaker lists fencing newest first, and creates node fencing after every unfencing (which comes from
    # configuration changes and resource actions): so node fencing, then unfencing, each newest first.
    fences = [a for a in b.actions if a.task == "stonith" and a.required]
    fences = [a for a in fences if a.fence_op == "on"] + [a for a in fences if a.fence_op != "on"]
    for act in reversed(fences):
        op = act.fence_op or ("off" if state.fencing_action == "off" else "reboot")
        out.append(f"  * Fence ({op}) {remote.fence_target(state, act)} '{act.fence_reason}'")
    lines = [line for top in state.resources for line in variant_of(top).summary_lines(state, b, top)]
    rsc_w = 5
    for line in lines:
        if len(line.rsc) > rsc_w:
            rsc_w = len(line.rsc) + 2
    det_w = max([5] + [len(line.details) for line in lines])
    for line in lines:
        out.append(f"  * {line.verb:<8}   {line.rsc:<{rsc_w}}   ( {line.details:>{det_w}} )"
                   f"{_reason_text(line.action, line.reason)}")
    return out
