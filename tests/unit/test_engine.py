"""The transition engine executes a graph in dependency order and stops dispatching on failure."""

import asyncio

from paceline.policy.engine import LOST_WITH_NODE, TransitionEngine
from paceline.policy.graph import Action, Graph
from paceline.shared.lrm import EXEC_TIMEOUT, OpResult


def graph() -> Graph:
    return Graph(actions=[
        Action(1, "stop", "a", "n1"),
        Action(2, "start", "a", "n2", inputs=[1]),
        Action(3, "running", pseudo=True, inputs=[2]),
        Action(4, "start", "b", "n2", inputs=[3]),
        Action(5, "monitor", "b", "n2", interval_ms=2000, inputs=[4]),
        Action(6, "monitor", "c", "n1", expected_rc=7),
    ])


async def test_runs_in_dependency_order_with_parallel_independents():
    order: list[str] = []

    async def dispatch(a: Action) -> OpResult:
        order.append(a.key)
        await asyncio.sleep(0.01)
        return OpResult(a.rsc or "", a.task, a.interval_ms, rc=a.expected_rc)

    out = await TransitionEngine(dispatch).run(graph())
    assert out.ok and out.completed == 6
    assert order.index("a_stop_0") < order.index("a_start_0") < order.index("b_start_0") < order.index(
        "b_monitor_2000")
    assert set(order[:2]) == {"a_stop_0", "c_monitor_0"}  # both had no inputs


async def test_failure_stops_dependents_but_not_in_flight_work():
    async def dispatch(a: Action) -> OpResult:
        if a.key == "a_start_0":
            return OpResult("a", "start", 0, rc=1, op_status=EXEC_TIMEOUT)
        return OpResult(a.rsc or "", a.task, a.interval_ms, rc=a.expected_rc)

    out = await TransitionEngine(dispatch).run(graph())
    assert [a.key for a, _ in out.failed] == ["a_start_0"]
    assert not out.ok and out.skipped == 3 and out.completed == 2


async def test_abort_lets_in_flight_actions_finish():
    engine = TransitionEngine(None)  # type: ignore[arg-type]
    finished: list[str] = []

    async def dispatch(a: Action) -> OpResult:
        if a.key == "a_stop_0":
            engine.abort()
        await asyncio.sleep(0.01)
        finished.append(a.key)
        return OpResult(a.rsc or "", a.task, a.interval_ms, rc=a.expected_rc)

    engine.dispatch = dispatch
    out = await engine.run(graph())
    assert out.aborted and sorted(finished) == ["a_stop_0", "c_monitor_0"]


async def test_unreachable_executor_is_a_failure():
    async def dispatch(a: Action) -> OpResult:
        raise ConnectionError("no executor on n1")

    out = await TransitionEngine(dispatch).run(Graph(actions=[Action(1, "start", "a", "n1")]))
    assert out.failed[0][1] == "no executor on n1"


async def test_actions_on_a_lost_node_are_given_up_not_awaited():
    engine = TransitionEngine(None)  # type: ignore[arg-type]
    never = asyncio.Event()

    async def dispatch(a: Action) -> OpResult:
        if a.node == "n1":  # n1's executor died with its node: no answer will come
            await never.wait()
        return OpResult(a.rsc or "", a.task, a.interval_ms, rc=a.expected_rc)

    engine.dispatch = dispatch
    run = asyncio.create_task(engine.run(graph()))
    await asyncio.sleep(0.01)
    lost = engine.abandon(lambda a: a.node == "n1")
    assert sorted(a.key for a in lost) == ["a_stop_0", "c_monitor_0"]
    out = await asyncio.wait_for(run, 1)
    assert sorted(a.key for a, _ in out.failed) == ["a_stop_0", "c_monitor_0"]
    assert {error for _, error in out.failed} == {LOST_WITH_NODE} and out.skipped == 4
    assert engine.abandon(lambda a: True) == []  # nothing left in flight
