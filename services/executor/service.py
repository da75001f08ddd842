"""The executor of one node: runs what the DC asks, records it in the CIB, then answers.

Ordering matters: the result goes into the node's CIB status *before* the reply,
so the DC's next plan already sees it. Actions carry the DC's lease term, and
the executor refuses any action older than the newest term it has seen (the
fencing token that keeps a deposed DC from acting). Operations on one resource
run one at a time, as in Pacemaker; different resources run in parallel.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from pathlib import Path
from typing import Any

import structlog
from nats.aio.client import Client
from paceline.executor import failcounts, fencing, limits, metrics, standards, validation
from paceline.executor.catalog import AgentCatalog
from paceline.executor.limits import ActionLimit
from paceline.executor.operation import AgentOutcome, Operation, make_result
from paceline.executor.recurring import RecurringMonitors
from paceline.executor.runner import AgentRunner
from paceline.executor.schedule import ScheduleStore
from paceline.executor.standards import AgentRef
from paceline.shared import VERSION, bus, cib, lrm
from paceline.shared.cluster.options import cluster_options, node_attributes, option_is_true
from paceline.shared.messages import (
    ActionRequest,
    AgentListing,
    AgentsRequest,
    CibChanged,
    CibDocument,
    CibPatch,
    CibQuery,
    CibWriteReply,
    FenceReply,
    FenceRequest,
    MetadataReply,
    MetadataRequest,
    OperationResult,
    ResetReply,
    ResetRequest,
    StoppedResource,
    ValidateReply,
    ValidateRequest,
    pack,
)
from paceline.shared.subjects import Subjects

#: How long to keep trying to record a result before telling the DC it could not be recorded.
RECORD_PATIENCE = 3.0
#: Tasks that end the life of a resource instance or change its role, and with it its recurring monitors.
#: Pacemaker's controller cancels them before a stop, promote, demote or migration: the monitors of the old
#: role would fail in the new one (a promoted instance answers 8 where an unpromoted monitor expects 0), and
#: the DC schedules the monitors of the new role itself.
CANCELLING_TASKS = ("start", "stop", "promote", "demote", "migrate_to", "migrate_from", "delete")
#: Tasks after which a successful result means the resource runs here (a probe finding it running too).
ACTIVATING_TASKS = ("start", "migrate_from", "promote", "demote")


def result_message(result: lrm.OpResult) -> OperationResult:
    """An operation's result as it goes on the bus (the action's reply and the ``executor.event`` event)."""
    return OperationResult(**result.to_body())


def forget_ops(cancelled: list[Operation]) -> list[dict[str, Any]]:
    """The status patch dropping the records of cancelled recurring operations (``RSC_monitor_INTERVAL``)."""
    return [{"op": "lrm_op_delete", "rsc": op.rsc, "id": lrm.record_id(op.rsc, op.task, op.interval_ms)}
            for op in cancelled]


class TermStore:
    """The highest DC term seen, kept on disk so that a restarted executor still refuses old DCs."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.term = int(path.read_text().strip() or 0)
        except (OSError, ValueError):
            self.term = 0

    def admit(self, term: int) -> None:
        """Accept ``term`` (raising it if newer) or refuse it as stale."""
        if term < self.term:
            raise bus.UserError(f"action from DC term {term} refused: term {self.term} has been seen",
                                code="stale-term", details={"term": term, "current": self.term})
        if term > self.term:
            self.term = term
            with contextlib.suppress(OSError):
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.path.write_text(f"{term}\n")


class Executor:
    def __init__(self, nc: Client, subjects: Subjects, node: str, runner: AgentRunner, state_dir: Path,
                 log: Any = None):
        self.nc = nc
        self.subjects = subjects
        self.node = node
        self.runner = runner
        self.log = log or structlog.get_logger().bind(service="executor", node=node)
        self.terms = TermStore(state_dir / "executor.term")
        self.start_failure_is_fatal = True
        self.schedule = ScheduleStore(state_dir / "recurring.json")
        self.monitors = RecurringMonitors(self._run_repeat, self._record, on_change=self.schedule.save)
        self.limit = ActionLimit()
        self.catalog = AgentCatalog(runner)
        self._call_ids = itertools.count(1)
        self._locks: dict[str, asyncio.Lock] = {}
        self._epochs: dict[str, int] = {}
        self.active: dict[str, Operation] = {}  # resources this executor started (or found running), by id
        self._service: bus.MicroService | None = None
        self._cib_sub: Any = None

    # ------------------------------------------------------------ lifecycle
    async def start(self, stopping: asyncio.Event | None = None) -> bool:
        """Forget earlier history, learn the cluster options, then serve actions (False: stopped first)."""
        if not await self._clear_history(stopping or asyncio.Event()):
            return False
        await self.refresh_options()
        await self._resume_schedule()
        self._cib_sub = await bus.subscribe(self.nc, "executor", self.subjects.cib_changed,
                                            self._on_cib_changed, CibChanged)
        self._service = bus.MicroService(self.nc, "executor", VERSION, metadata={"node": self.node})
        self._service.endpoint("action", self.subjects.executor_action(self.node), self.handle_action,
                               ActionRequest, concurrent=True)
        self._service.endpoint("metadata", self.subjects.executor("metadata", self.node), self.handle_metadata,
                               MetadataRequest)
        self._service.endpoint("agents", self.subjects.executor("agents", self.node), self.handle_agents,
                               AgentsRequest)
        self._service.endpoint("fence", self.subjects.executor("fence", self.node), self.handle_fence,
                               FenceRequest, concurrent=True)
        self._service.endpoint("reset", self.subjects.executor("reset", self.node), self.handle_reset,
                               ResetRequest)
        self._service.endpoint("validate", self.subjects.executor("validate", self.node), self.handle_validate,
                               ValidateRequest, concurrent=True)
        await self._service.start()
        self.log.info("serving actions", subject=self.subjects.executor_action(self.node),
                      term=self.terms.term)
        return True

    async def stop(self) -> None:
        """Stop serving; the resources keep running (a restarted executor probes them again)."""
        if self._service is not None:
            await self._service.stop()
        if self._cib_sub is not None:
            with contextlib.suppress(Exception):
                await self._cib_sub.unsubscribe()
        await self.monitors.cancel_all(forget=False)

    async def _resume_schedule(self) -> None:
        """Probe each resource that had recurring operations before a restart; resume those still running.

        The probe goes into the (just cleared) history as Pacemaker's would, so
        the DC sees the resource where it is instead of probing or restarting it;
        the first run of each resumed monitor is recorded too, so the DC does not
        schedule it again.
        """
        saved = self.schedule.load()
        resumed = []
        for rsc in sorted({op.rsc for op in saved}):
            ops = [op for op in saved if op.rsc == rsc]
            probe_op = ops[0].with_changes(task="monitor", interval_ms=0, expected_rc=lrm.OCF_NOT_RUNNING,
                                           meta={k: v for k, v in ops[0].meta.items() if k != "start-delay"})
            probe = await self._run(probe_op)
            running = probe.rc in (lrm.OCF_SUCCESS, lrm.OCF_RUNNING_PROMOTED) and probe.op_status == lrm.EXEC_DONE
            if running:  # found running where it was left: what the probe expected, not a failure
                probe_op = probe_op.with_changes(expected_rc=probe.rc)
                probe.expected_rc, probe.transition_key = probe.rc, probe_op.transition_key
            with contextlib.suppress(bus.UserError):
                await self._record(probe_op, probe)
            if not running:
                self.log.info("not resuming monitors of a resource that is not running", rsc=rsc, rc=probe.rc)
                continue
            self.active[rsc] = ops[0]
            for op in ops:
                first = await self._run(op)
                with contextlib.suppress(bus.UserError):
                    await self._record(op, first)
                self.monitors.schedule(op, first)
                resumed.append(op.key)
        self.schedule.save(self.monitors.operations())
        if resumed:
            self.log.info("resumed recurring operations after a restart", ops=resumed)

    async def _clear_history(self, stopping: asyncio.Event) -> bool:
        """The executor has no memory of operations run before it started, so neither may the CIB.

        Actions are not served before this succeeds: a result recorded first would be wiped.
        """
        while not stopping.is_set():
            try:
                await self._patch([{"op": "lrm_clear"}])
                return True
            except (bus.BusUnavailable, bus.RemoteError) as exc:
                self.log.warning("cannot clear this node's history yet; retrying", error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), 0.5)
        return False

    async def refresh_options(self) -> None:
        """Read start-failure-is-fatal, which decides how a failed start is counted."""
        try:
            reply = await bus.call(self.nc, self.subjects.cib("query"), CibQuery(fresh=True), CibDocument,
                                   service="executor")
            root = cib.parse_cib(reply.xml)
        except (bus.BusUnavailable, bus.RemoteError, cib.CibError, ValueError) as exc:
            self.log.warning("cannot read cluster options; keeping the previous ones", error=str(exc))
            return
        now = time.time()
        options = cluster_options(root, now)
        self.start_failure_is_fatal = option_is_true(options, "start-failure-is-fatal", True)
        node_limit = node_attributes(root, self.node, now).get(limits.OPTION)
        await self.limit.resize(limits.effective_limit(options.get(limits.OPTION), node_limit))

    async def _on_cib_changed(self, event: CibChanged, _subject: str) -> None:
        if event.scope in ("configuration", "cluster"):
            await self.refresh_options()

    # ------------------------------------------------------------ actions
    async def handle_action(self, req: ActionRequest) -> OperationResult:
        op = Operation.from_request(req)
        if op.node != self.node:
            raise bus.UserError(f"action for node {op.node!r} sent to the executor of {self.node!r}",
                                code="wrong-node")
        self.terms.admit(op.term)
        if op.task == "cancel":
            return await self._cancel(op)
        forgotten: list[Operation] = []
        if op.task in CANCELLING_TASKS:
            forgotten = await self._end_instance(op.rsc)
        elif op.recurring:
            await self.monitors.cancel(op.rsc, op.task, op.interval_ms)
        epoch = self._epochs.get(op.rsc, 0)
        if op.task == "delete":
            return await self._delete(op)
        if op.start_delay_ms:
            await asyncio.sleep(op.start_delay_ms / 1000)
        async with self.limit.slot():
            result = await self._run(op)
        if op.task == "notify":
            # A clone's notification changes nothing about the resource: Pacemaker keeps no history of it and
            # counts no failure; the DC only needs the answer.
            return result_message(result)
        self._track(op, result)
        await self._record(op, result, forget=forgotten)
        if op.recurring and self._epochs.get(op.rsc, 0) == epoch and result.op_status not in (
                lrm.EXEC_NOT_INSTALLED, lrm.EXEC_NOT_SUPPORTED):
            self.monitors.schedule(op, result)
        return result_message(result)

    async def handle_metadata(self, req: MetadataRequest) -> MetadataReply:
        """An installed agent's meta-data, for ``ra info`` and parameter checks in the gateway."""
        ref = AgentRef.from_spec(req.agent)
        try:
            xml, info = await self.catalog.metadata(ref)
        except standards.NotInstalled as exc:
            raise bus.UserError(str(exc), code="not-installed") from None
        except (standards.UnsupportedStandard, RuntimeError, ValueError) as exc:
            raise bus.UserError(str(exc), code="no-metadata") from None
        return MetadataReply(xml=xml, info=info)

    async def handle_validate(self, req: ValidateRequest) -> ValidateReply:
        """Run an agent's ``validate-all`` with the given parameters (``ra validate``); nothing is recorded."""
        ref = AgentRef.from_spec(req.agent)
        async with self.limit.slot():
            return await validation.run(self.runner, ref, req.params, self.node, req.rsc, req.timeout_ms)

    async def handle_agents(self, req: AgentsRequest) -> AgentListing:
        """Everything installed (``ra classes``/``list``); with ``type``, also the providers of that OCF type."""
        providers = await self.catalog.providers(req.type) if req.type else None
        return AgentListing(**await self.catalog.listing(), providers=providers)

    async def handle_fence(self, req: FenceRequest) -> FenceReply:
        """Run one fencing action of a device on this node (the DC's fencer asks; term-checked)."""
        ref = AgentRef.from_spec(req.agent)
        action = req.action
        target = req.target or None
        params = dict(req.params)
        if target and req.port:
            params = fencing.with_port(params, target, req.port)
        timeout_ms = req.timeout_ms or self.runner.timeout_ms(
            Operation(task=action, rsc=ref.type, node=self.node, agent=ref))
        self.terms.admit(req.term)
        if ref.standard != "stonith" or action not in fencing.FENCE_ACTIONS:
            raise bus.UserError(f"not a fencing request: {ref.spec} {action}", code="bad-request")
        try:
            path = standards.locate(ref, self.runner.paths)
        except standards.NotInstalled as exc:
            raise bus.UserError(str(exc), code="not-installed") from None
        async with self.limit.slot():
            outcome = await self.runner.fence(path, action, params, timeout_ms, target)
        self.log.warning("fencing action done", device=ref.type, action=action, target=target, rc=outcome.rc,
                         status=lrm.EXEC_TEXT.get(outcome.op_status))
        return FenceReply(rc=outcome.rc, op_status=outcome.op_status, exit_reason=outcome.exit_reason,
                          output=outcome.output)

    async def handle_reset(self, _req: ResetRequest) -> ResetReply:
        """This node was fenced while its services live on (a lab has no real power switch): emulate the
        power cut. Every resource it runs is stopped with its agent, its monitors and saved schedule are
        dropped, and its history is cleared, so the node comes back as from a reboot with nothing running.
        """
        await self.monitors.cancel_all(forget=True)
        self.schedule.save([])
        stopped = []
        for rsc, op in sorted(self.active.items()):
            await self._end_instance(rsc)
            result = await self._run(op.with_changes(task="stop", interval_ms=0, expected_rc=lrm.OCF_SUCCESS))
            stopped.append(StoppedResource(rsc=rsc, rc=result.rc))
        self.active.clear()
        await self._patch([{"op": "lrm_clear"}])
        self.log.warning("fenced: stopped everything and forgot it", stopped=[s.rsc for s in stopped])
        return ResetReply(stopped=stopped)

    def _track(self, op: Operation, result: lrm.OpResult) -> None:
        """Keep :attr:`active` in step: what a reset after fencing must stop."""
        if result.op_status != lrm.EXEC_DONE:
            return
        running = result.rc in (lrm.OCF_SUCCESS, lrm.OCF_RUNNING_PROMOTED)
        if op.task in ACTIVATING_TASKS and running:
            self.active[op.rsc] = op
        elif op.task == "monitor" and running:
            self.active.setdefault(op.rsc, op)
        elif (op.task == "stop" and result.rc == lrm.OCF_SUCCESS) or (
                op.task == "monitor" and result.rc == lrm.OCF_NOT_RUNNING):
            self.active.pop(op.rsc, None)

    async def _end_instance(self, rsc: str) -> list[Operation]:
        """Cancel the resource's recurring operations; returns them, for their records to go too."""
        # The epoch tells a monitor request still in flight that its resource has moved on.
        self._epochs[rsc] = self._epochs.get(rsc, 0) + 1
        return await self.monitors.cancel(rsc)

    async def _cancel(self, op: Operation) -> OperationResult:
        """Stop a recurring operation (the DC names it by the operation meta and the interval) and drop its
        record, as Pacemaker's controller does: the DC reads a recorded monitor as one still running."""
        task = op.meta.get("operation") or op.meta.get("op") or "monitor"
        cancelled = await self.monitors.cancel(op.rsc, task, op.interval_ms)
        if cancelled:
            try:
                await self._patch(forget_ops(cancelled))
            except (bus.BusUnavailable, bus.RemoteError) as exc:  # cancelled all the same; the record is history
                self.log.warning("cancelled, but its record could not be removed", op=cancelled[0].key,
                                 error=str(exc))
        return self._bookkeeping_done(op)

    async def _delete(self, op: Operation) -> OperationResult:
        """Forget a resource's history on this node (cleanup); the DC then probes it again."""
        self.active.pop(op.rsc, None)
        await self._patch([{"op": "lrm_delete", "rsc": op.rsc}])
        return self._bookkeeping_done(op)

    def _bookkeeping_done(self, op: Operation) -> OperationResult:
        """The reply to an action the executor carries out itself, without an agent."""
        result = make_result(op, AgentOutcome(lrm.OCF_SUCCESS, lrm.EXEC_DONE), call_id=next(self._call_ids))
        metrics.observe(result)
        return result_message(result)

    async def _run(self, op: Operation, repeat: bool = False) -> lrm.OpResult:
        """Run under the resource's lock; ``repeat`` runs of a healthy monitor log only at debug level."""
        queued = time.monotonic()
        async with self._locks.setdefault(op.rsc, asyncio.Lock()):
            queue_ms = int((time.monotonic() - queued) * 1000)
            outcome = await self.runner.run(op)
        result = make_result(op, outcome, call_id=next(self._call_ids), queue_ms=queue_ms)
        metrics.observe(result)
        log = self.log.warning if result.failed else self.log.debug if repeat else self.log.info
        log("operation done", op=op.key, rc=result.rc, status=lrm.EXEC_TEXT.get(result.op_status),
            exec_ms=result.exec_ms, reason=result.exit_reason or None, term=op.term,
            stderr=(outcome.errors.strip() or None) if result.failed else None)
        return result

    async def _record(self, op: Operation, result: lrm.OpResult, forget: list[Operation] | None = None) -> None:
        """Write the result into this node's status, then tell subscribers about it.

        ``forget``: recurring operations cancelled before this one ran, whose records go in the same write,
        so the DC never sees the new role next to a monitor of the old one.
        """
        ops = forget_ops(forget or []) + failcounts.status_ops(result, op.agent.record(), op.meta,
                                                                self.start_failure_is_fatal)
        deadline = time.monotonic() + RECORD_PATIENCE
        while True:
            try:
                await self._patch(ops)
                break
            except (bus.BusUnavailable, bus.RemoteError) as exc:
                if time.monotonic() >= deadline:
                    raise bus.UserError(f"{op.key} ran (rc {result.rc}) but could not be recorded: {exc}",
                                        code="cib-unavailable", details={"result": result.to_body()}) from None
                await asyncio.sleep(0.1)
        await self.nc.publish(self.subjects.executor_event(self.node), pack(result_message(result)))

    async def _patch(self, ops: list[dict[str, Any]]) -> None:
        await bus.call(self.nc, self.subjects.cib("patch"), CibPatch(self.node, ops, "executor"), CibWriteReply,
                       service="executor")

    async def _run_repeat(self, op: Operation) -> lrm.OpResult:
        return await self._run(op, repeat=True)
