"""The transition engine: executes a transition graph, action by action, as its inputs complete.

Pseudo-actions complete as soon as their inputs have. Resource actions go to
the executor of their node, stamped with the DC's term. The first failure (an
unexpected rc, a timeout, an executor that does not answer) or an abort
request stops new dispatches; actions already in flight are awaited, and the
caller re-plans from the CIB - which by then holds every result - exactly as
Pacemaker's controller aborts a transition and asks the scheduler again.
Only actions on a node that membership has lost are not awaited: their answer
cannot come (the executor died with its node), so they count as failed at once
instead of holding the transition - and every re-plan - until their timeout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from paceline.policy.graph import Action, Graph
from paceline.shared.lrm import EXEC_DONE, OpResult

Dispatch = Callable[[Action], Awaitable[OpResult]]
#: The error of an in-flight action given up because its node left the membership.
LOST_WITH_NODE = "node left the membership while the action was in flight"


@dataclass
class Outcome:
    completed: int = 0
    failed: list[tuple[Action, str]] = field(default_factory=list)
    aborted: bool = False
    skipped: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.aborted and not self.skipped


class TransitionEngine:
    def __init__(self, dispatch: Dispatch):
        self.dispatch = dispatch
        self._abort = asyncio.Event()
        self._in_flight: dict[asyncio.Task, Action] = {}

    def abort(self) -> None:
        """Ask the running transition to stop dispatching (in-flight actions still finish)."""
        self._abort.set()

    @property
    def abort_requested(self) -> bool:
        """An abort was asked for since the current (or the last) transition started."""
        return self._abort.is_set()

    def abandon(self, lost: Callable[[Action], bool]) -> list[Action]:
        """Stop waiting for the in-flight actions ``lost`` picks (those on nodes membership lost); they
        fail with :data:`LOST_WITH_NODE`, which also stops the transition. Returns the actions given up."""
        picked = [(task, action) for task, action in self._in_flight.items() if not task.done() and lost(action)]
        for task, _action in picked:
            task.cancel()
        return [action for _task, action in picked]

    async def run(self, graph: Graph) -> Outcome:
        self._abort.clear()
        started = time.perf_counter()
        out = Outcome()
        actions = graph.by_id()
        waiting_on = {a.id: {i for i in a.inputs if i in actions} for a in graph.actions}
        dependents: dict[int, list[int]] = {i: [] for i in actions}
        for a in graph.actions:
            for i in waiting_on[a.id]:
                dependents[i].append(a.id)
        done: set[int] = set()
        running: dict[asyncio.Task, int] = {}
        stop = False

        def ready() -> list[int]:
            return [i for i, deps in waiting_on.items()
                    if i not in done and i not in running.values() and not deps]

        while True:
            if not stop and (self._abort.is_set() or out.failed):
                stop = True
                out.aborted = self._abort.is_set()
            if not stop:
                for ident in ready():
                    action = actions[ident]
                    if action.pseudo:
                        self._complete(ident, done, waiting_on, dependents)
                        out.completed += 1
                        continue
                    task = asyncio.create_task(self._run_one(action))
                    running[task] = ident
                    self._in_flight[task] = action
                if ready() and not running:
                    continue  # pseudo-actions unlocked more work
            if not running:
                break
            finished, _ = await asyncio.wait(list(running), return_when=asyncio.FIRST_COMPLETED)
            for task in finished:
                ident = running.pop(task)
                del self._in_flight[task]
                error = LOST_WITH_NODE if task.cancelled() else task.result()
                if error:
                    out.failed.append((actions[ident], error))
                else:
                    out.completed += 1
                    self._complete(ident, done, waiting_on, dependents)
        out.skipped = len(actions) - out.completed - len(out.failed)
        out.seconds = time.perf_counter() - started
        return out

    @staticmethod
    def _complete(ident: int, done: set[int], waiting_on: dict[int, set[int]],
                  dependents: dict[int, list[int]]) -> None:
        done.add(ident)
        waiting_on.pop(ident, None)
        for dep in dependents.get(ident, ()):
            if dep in waiting_on:
                waiting_on[dep].discard(ident)

    async def _run_one(self, action: Action) -> str:
        """Returns an error description, or "" when the action had its expected result."""
        try:
            result = await self.dispatch(action)
        except Exception as exc:
            return str(exc) or type(exc).__name__
        if result.op_status != EXEC_DONE or result.rc != action.expected_rc:
            return f"rc={result.rc} op_status={result.op_status} {result.exit_reason}".strip()
        return ""
