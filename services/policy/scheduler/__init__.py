"""The scheduler: a pure function from a CIB (configuration + status) to a transition graph.

``schedule`` runs the whole pipeline on one CIB: unpack the cluster, place
every resource, derive the actions and their orderings, and read the
Transition Summary and the graph off the result. It does no I/O, so the live
policy service and ``paceline simulate`` share it unchanged.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field

from paceline.policy.graph import Graph
from paceline.policy.scheduler.actions import Act, ActionBuilder
from paceline.policy.scheduler.graph_build import to_graph
from paceline.policy.scheduler.ledger import Ledger
from paceline.policy.scheduler.placement import Placer, ScoreDump
from paceline.policy.scheduler.summary import summary_lines
from paceline.shared.cib import Element
from paceline.shared.cluster import tickets
from paceline.shared.cluster.model import ClusterState
from paceline.shared.cluster.unpack import cib_now, unpack

__all__ = ["ScheduleResult", "schedule"]


@dataclass
class ScheduleResult:
    graph: Graph
    summary: list[str]
    score_dump: ScoreDump
    state: ClusterState
    actions: list[Act] = field(default_factory=list)

    @property
    def scores(self) -> list[str]:
        """The ``crm_simulate -s`` allocation (and promotion) score lines."""
        return self.score_dump.lines()


def schedule(cib_root: Element, now: float | None = None, ledger: Ledger | None = None) -> ScheduleResult:
    """Plan one transition; a ``ledger`` (see :mod:`ledger`) records why the watched resources score as they do.

    ``now`` defaults to the CIB's execution-date, else the clock (crm_simulate's rule).

    The cyclic garbage collector is paused meanwhile: a large cluster allocates
    hundreds of thousands of long-lived objects (actions point at each other),
    and repeated full collections over them would cost more than the planning.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        at, date_given = cib_now(cib_root, time.time()) if now is None else (now, False)
        state = unpack(cib_root, at, date_given)
        tickets.apply_constraints(state)    # what lost tickets do, before anything is placed
        score_dump = Placer(state, ledger).run()
        builder = ActionBuilder(state)
        actions = builder.build()
        summary = summary_lines(state, builder)
        graph = to_graph(state, actions, builder.probes_before)
    finally:
        if was_enabled:
            gc.enable()
    return ScheduleResult(graph=graph, summary=summary, score_dump=score_dump, state=state, actions=actions)
