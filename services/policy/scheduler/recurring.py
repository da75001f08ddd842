"""Recurring monitors (Pacemaker's pcmk_sched_recurring.c): those of the role the resource will have.

``role=Promoted`` monitors (expecting OCF_RUNNING_PROMOTED) run only after a
promote; role-less and ``role=Unpromoted`` ones otherwise. A monitor already
running stays optional unless what it follows is required.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paceline.policy.scheduler.act import BLOCKS, IMPLIES_THEN, Act
from paceline.shared.cluster.model import Resource, Role
from paceline.shared.lrm import OCF_RUNNING_PROMOTED, OCF_SUCCESS

if TYPE_CHECKING:
    from paceline.policy.scheduler.actions import ActionBuilder


def create_monitors(b: ActionBuilder, rsc: Resource, node: str, start: Act, promote: Act | None,
                    next_role: Role) -> None:
    """The recurring monitors of ``rsc`` on ``node``, each ordered after its start (or promote)."""
    seen: set[tuple[str, int]] = set()
    promoted = next_role == Role.PROMOTED
    anchor = promote if promoted and promote is not None else start
    for op in rsc.ops:
        if op.name != "monitor" or op.interval_ms <= 0 or not op.enabled:
            continue
        if (op.name, op.interval_ms) in seen:
            continue
        seen.add((op.name, op.interval_ms))
        role = Role.parse(op.role)
        if role == Role.STOPPED or (role == Role.PROMOTED) != promoted:
            continue
        if role == Role.UNPROMOTED and next_role == Role.STARTED:
            continue        # a role=Unpromoted monitor is for an instance of a promotable clone only
        already = op.interval_ms in rsc.status.active_monitors.get(node, set())
        mon = b.new("monitor", rsc, node, interval_ms=op.interval_ms, optional=already and anchor.optional,
                    expected_rc=OCF_RUNNING_PROMOTED if promoted else OCF_SUCCESS)
        if not anchor.runnable:
            mon.runnable = False
        b.order(anchor, mon, IMPLIES_THEN | BLOCKS)
