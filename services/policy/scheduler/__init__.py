"""The scheduler: a pure function from a CIB (configuration + status) to a transition graph.

``schedule`` runs the whole pipeline on one CIB: unpack the cluster, place
every resource, derive the actions and their orderings, and read the
Transition Summary and the graph off the result. It does no I/O, so the live
policy service and ``paceline simulate`` share it unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree
from paceline.policy.graph import Graph
from paceline.policy.scheduler.actions import Act, ActionBuilder
from paceline.policy.scheduler.graph_build import to_graph
from paceline.policy.scheduler.model import ClusterState
from paceline.policy.scheduler.placement import Placer
from paceline.policy.scheduler.status_view import render_status
from paceline.policy.scheduler.summary import summary_lines
from paceline.policy.scheduler.unpack import unpack

__all__ = ["ScheduleResult", "render_status", "schedule", "unpack"]


@dataclass
class ScheduleResult:
    graph: Graph
    summary: list[str]
    scores: list[str]
    state: ClusterState
    actions: list[Act] = field(default_factory=list)


def schedule(cib_root: etree._Element, now: float | None = None) -> ScheduleResult:
    state = unpack(cib_root, now)
    scores = Placer(state).run()
    builder = ActionBuilder(state)
    actions = builder.build()
    summary = summary_lines(state, builder)
    graph = to_graph(state, actions)
    return ScheduleResult(graph=graph, summary=summary, scores=scores, state=state, actions=actions)
