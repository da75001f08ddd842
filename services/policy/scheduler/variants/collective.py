"""What every collective kind (a group, a clone) does alike: it is ordered through its own pseudo-actions.

An ordering that names a collective first waits for its completion
pseudo-action (``running``, ``stopped``...: Pacemaker's
``action_uuid_for_ordering``); one that names it then reaches its own
pseudo-action and every member's action; and it has no summary line of its
own, only its members'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paceline.policy.scheduler.act import COMPLETION, Act
from paceline.policy.scheduler.variants import variant_of
from paceline.shared.cluster.model import ClusterState, Resource

if TYPE_CHECKING:
    from paceline.policy.scheduler.actions import ActionBuilder
    from paceline.policy.scheduler.summary import Line


class Collective:
    """The methods a group and a clone share."""

    def first_actions(self, b: ActionBuilder, rsc: Resource, task: str) -> list[Act]:
        return b.find(rsc, COMPLETION.get(task, task))

    def then_actions(self, b: ActionBuilder, rsc: Resource, task: str) -> list[Act]:
        out = b.find(rsc, task)
        for member in rsc.children:
            out.extend(variant_of(member).then_actions(b, member, task))
        return out

    def summary_lines(self, state: ClusterState, b: ActionBuilder, rsc: Resource) -> list[Line]:
        return [line for member in rsc.children for line in variant_of(member).summary_lines(state, b, member)]
