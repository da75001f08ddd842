"""The executor of one node: runs what the DC asks, records it in the history it holds, then answers.

The executor is the truth about what runs on its node. Ordering matters: a
result goes into the node's history (:mod:`paceline.executor.history`) *before*
the reply and the ``executor.event``, so the DC's next plan, which reads that
history on ``executor.history``, already sees it. The CIB's status is a mirror
written in the background (:mod:`paceline.executor.mirror`): a JetStream
leader election stalls writes for seconds, and failover must not wait for it.

A request runs only when this node's membership view elects the DC that sent
it over the same members (:mod:`paceline.executor.gate`). Operations on one
resource run one at a time, as in Pacemaker; different resources run in
parallel.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import nats.errors
import structlog
from nats.aio.client import Client
from paceline.executor import failcounts, fencing, limits, metrics, standards, validation
from paceline.executor.callids import CallIds
from paceline.executor.catalog import AgentCatalog
from paceline.executor.gate import DEFAULT_PATIENCE, MembershipGate, TermStore
from paceline.executor.history import NodeHistory, foreign_deletions
from paceline.executor.limits import ActionLimit
from paceline.executor.mirror import CibMirror
from paceline.executor.operation import AgentOutcome, Operation, make_result
from paceline.executor.recurring import RecurringMonitors
from paceline.executor.remote import Connections, RemoteGate, is_connection
from paceline.executor.runner import AgentRunner
from paceline.executor.schedule import ScheduleStore
from paceline.executor.standards import AgentRef
from paceline.shared import VERSION, admission, bus, cib, containers, lrm
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
    ExecutorHistory,
    Fenced,
    FenceReply,
    FenceRequest,
    HistoryRequest,
    MetadataReply,
    MetadataRequest,
    OperationResult,
    RemoteLinkReply,
    RemoteLinkRequest,
    ResetReply,
    ResetRequest,
    StoppedResource,
    ValidateReply,
    ValidateRequest,
    pack,
)
from paceline.shared.subjects import Subjects, sender_of

#: How long a stopping executor lets the CIB mirror catch up before it gives up (the next start clears it).
FLUSH_ON_STOP = 2.0
#: Seconds between attempts to read the cluster options at start while the CIB does not answer.
OPTIONS_RETRY = 2.0
#: The status patch that empties the node's history: the executor remembers nothing from before it started.
CLEAR_HISTORY: list[dict[str, Any]] = [{"op": "lrm_clear"}]
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


class Executor:
    def __init__(self, nc: Client, subjects: Subjects, node: str, runner: AgentRunner, state_dir: Path,
                 log: Any = None, patience: float = DEFAULT_PATIENCE, remote: bool = False):
        """``patience``: how long a request its node's view refuses waits for a view that admits it;
        ``remote``: this is a remote node's executor (``paceline.executor.remote``), admitting requests while
        a connection resource links it to a cluster node, by that node's view."""
        self.nc = nc
        self.subjects = subjects
        self.node = node
        self.runner = runner
        self.log = log or structlog.get_logger().bind(service="executor", node=node)
        self.terms = TermStore(state_dir / "executor.term")
        self.remote = remote
        self.gate: MembershipGate | RemoteGate = (RemoteGate if remote else MembershipGate)(
            node, self.terms, patience, self.log)
        self.connections = Connections(nc, subjects, node, self.log)
        self.connections.view = self._view
        self.history = NodeHistory(node)
        self.mirror = CibMirror(self._patch, self.log)
        self.start_failure_is_fatal = True
        self.schedule = ScheduleStore(state_dir / "recurring.json")
        self.monitors = RecurringMonitors(self._run_repeat, self._record, on_change=self.schedule.save)
        self.connections.lost = self.monitors.wake  # a remote executor gone: its connection's monitor runs now
        self.limit = ActionLimit()
        self.catalog = AgentCatalog(runner)
        self._call_ids = CallIds(state_dir / "executor.call-id")
        self._locks: dict[str, asyncio.Lock] = {}
        self._epochs: dict[str, int] = {}
        self.active: dict[str, Operation] = {}  # resources this executor started (or found running), by id
        self._service: bus.MicroService | None = None
        self._cib_sub: Any = None
        self._fenced_sub: Any = None
        self._background: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Forget earlier history, resume saved monitors, then serve; nothing here waits for the CIB.

        The history is cleared locally and the clear is the first patch of the CIB mirror; the cluster
        options and the node's membership view are fetched in the background (a leaderless JetStream must
        not keep a node's executor from serving).
        """
        self.mirror.start()
        self._note(CLEAR_HISTORY)
        self._cib_sub = await bus.subscribe(self.nc, "executor", self.subjects.cib_changed,
                                            self._on_cib_changed, CibChanged)
        await self.gate.follow(self.nc, self.subjects)
        self._in_background(self._learn_options(), "read cluster options")
        await self._resume_schedule()
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
        self._service.endpoint("history", self.subjects.executor("history", self.node), self.handle_history,
                               HistoryRequest)
        self._service.endpoint("link", self.subjects.executor("link", self.node), self.handle_link,
                               RemoteLinkRequest)
        if isinstance(self.gate, RemoteGate):  # no membership to tell it that it was fenced: it listens itself
            self._fenced_sub = await bus.subscribe(self.nc, "executor", self.subjects.fenced, self._on_fenced,
                                                   Fenced)
        await self._service.start()
        self.log.info("serving actions", subject=self.subjects.executor_action(self.node),
                      term=self.terms.term, incarnation=self.history.incarnation)

    async def stop(self) -> None:
        """Stop serving; the resources keep running (a restarted executor probes them again). The CIB mirror
        gets a moment to catch up: what it cannot write is cleared by the next start anyway."""
        if self._service is not None:
            await self._service.stop()
        for sub in (self._cib_sub, self._fenced_sub):
            if sub is not None:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()
        await self.gate.close()
        for task in list(self._background):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.monitors.cancel_all(forget=False)
        await self.mirror.close(FLUSH_ON_STOP)
        await self.connections.close(FLUSH_ON_STOP)

    def _in_background(self, work: Coroutine[Any, Any, None], what: str) -> None:
        """Run start-up work that must not delay serving; kept referenced until done, cancelled by stop."""
        task = asyncio.create_task(work, name=what)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

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
            await self._record(probe_op, probe)
            if not running:
                self.log.info("not resuming monitors of a resource that is not running", rsc=rsc, rc=probe.rc)
                continue
            self.active[rsc] = ops[0]
            for op in ops:
                first = await self._run(op)
                await self._record(op, first)
                self.monitors.schedule(op, first)
                resumed.append(op.key)
        self.schedule.save(self.monitors.operations())
        if resumed:
            self.log.info("resumed recurring operations after a restart", ops=resumed)

    async def _learn_options(self) -> None:
        """Read the cluster options at start, retrying until the CIB answers (serving does not wait for it:
        until then a failed start counts as Pacemaker's default, fatal, and the action limit is the default)."""
        while not await self.refresh_options():
            await asyncio.sleep(OPTIONS_RETRY)

    async def refresh_options(self) -> bool:
        """Read start-failure-is-fatal, which decides how a failed start is counted, and node-action-limit;
        False when the CIB could not be read."""
        try:
            reply = await bus.call(self.nc, self.subjects.cib("query"), CibQuery(fresh=True), CibDocument,
                                   service="executor")
            root = cib.parse_cib(reply.xml)
        except (bus.BusUnavailable, bus.RemoteError, cib.CibError, ValueError) as exc:
            self.log.warning("cannot read cluster options; keeping the previous ones", error=str(exc))
            return False
        now = time.time()
        options = cluster_options(root, now)
        self.start_failure_is_fatal = option_is_true(options, "start-failure-is-fatal", True)
        node_limit = node_attributes(root, self.node, now).get(limits.OPTION)
        await self.limit.resize(limits.effective_limit(options.get(limits.OPTION), node_limit))
        return True

    async def _on_cib_changed(self, event: CibChanged, _subject: str) -> None:
        """Configuration changes re-read the options; another writer's deletions in this node's status
        (``resource cleanup`` goes straight to the CIB) reach the history the executor holds."""
        if event.scope in ("configuration", "cluster"):
            await self.refresh_options()
        elif event.scope == "status" and event.node == self.node and event.client != "executor":
            self._follow_deletions(event)

    def _follow_deletions(self, event: CibChanged) -> None:
        """Apply another writer's deletions to the history. While the mirror still has writes of ours queued
        (made before the deletion, written after it), the deletions are queued behind them too, so that the
        CIB does not keep a record the history has dropped."""
        ops = foreign_deletions(event.ops)
        if not ops:
            return
        try:
            self.history.apply(ops)
        except lrm.PatchError as exc:  # the cib-store applied it; a bug somewhere if this node cannot
            self.log.error("cannot apply another writer's status patch to the history", client=event.client,
                           error=str(exc))
            return
        if self.mirror.pending:
            self.mirror.put(ops)
        self.log.info("history changed by another writer", client=event.client,
                      ops=[(op.get("op"), op.get("rsc")) for op in ops])

    # ------------------------------------------------------------ actions
    async def handle_action(self, req: ActionRequest) -> OperationResult:
        op = Operation.from_request(req)
        if op.node != self.node:
            raise bus.UserError(f"action for node {op.node!r} sent to the executor of {self.node!r}",
                                code="wrong-node")
        await self.gate.admit(req.dc, req.members, op.term)
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
        """Run one fencing action of a device on this node (the DC's fencer asks; admitted as actions are)."""
        ref = AgentRef.from_spec(req.agent)
        action = req.action
        target = req.target or None
        params = dict(req.params)
        if target and req.port:
            params = fencing.with_port(params, target, req.port)
        timeout_ms = req.timeout_ms or self.runner.timeout_ms(
            Operation(task=action, rsc=ref.type, node=self.node, agent=ref))
        await self.gate.admit(req.dc, req.members, req.term)
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

    async def handle_link(self, req: RemoteLinkRequest) -> RemoteLinkReply:
        """A connection resource on ``req.host`` opens, checks or closes this remote node's link."""
        if not isinstance(self.gate, RemoteGate):
            raise bus.UserError(f"{self.node} is a cluster node, not a remote node", code="not-remote")
        host = await self.gate.handle(req)
        return RemoteLinkReply(node=self.node, host=host, incarnation=self.history.incarnation)

    async def _on_fenced(self, event: Fenced, subject: str) -> None:
        """A remote node fenced while its executor lives on (a lab has no power switch): emulate the power
        cut, as a cluster node's membership has its executor do. Only a result of the DC that the view of
        the node it was last linked through elects counts (:func:`paceline.shared.admission.fencing_refusal`);
        the link goes with the power, so the DC must start the connection again."""
        if event.target != self.node or event.result != "ok" or event.action not in ("off", "reboot"):
            return
        assert isinstance(self.gate, RemoteGate)
        refused = admission.fencing_refusal(self.gate.last_dc, sender_of(subject), event.dc)
        if refused:
            self.log.warning("ignored a fencing result for this remote node", reason=refused, term=event.term)
            return
        self.log.warning("this remote node was fenced: emulating the power cut", action=event.action,
                         by=event.by, device=event.device)
        await self.gate.unlink()
        await self._power_cut()

    def _view(self) -> tuple[str, tuple[str, ...]]:
        """The DC and members of this node's view (what a remote link request carries)."""
        view = self.gate.view
        return (view.dc, tuple(view.members)) if view is not None else ("", ())

    async def handle_history(self, _req: HistoryRequest) -> ExecutorHistory:
        """The node's operation history as this executor holds it (the CIB's copy may lag behind)."""
        return self.history.snapshot()

    async def handle_reset(self, req: ResetRequest) -> ResetReply:
        """This node was fenced while its services live on (a lab has no real power switch): emulate the
        power cut. Every resource it runs is stopped with its agent, its monitors and saved schedule are
        dropped, and its history is cleared, so the node comes back as from a reboot with nothing running.
        Only a fencing by the DC this node's view elects is obeyed (:meth:`MembershipGate.admit_reset`).
        """
        await self.gate.admit_reset(req.dc, req.term)
        return await self._power_cut()

    async def _power_cut(self) -> ResetReply:
        """Stop everything this node runs with its agents, drop its monitors, schedule and history."""
        await self.monitors.cancel_all(forget=True)
        self.schedule.save([])
        stopped = []
        for rsc, op in sorted(self.active.items()):
            await self._end_instance(rsc)
            result = await self._run(op.with_changes(task="stop", interval_ms=0, expected_rc=lrm.OCF_SUCCESS))
            stopped.append(StoppedResource(rsc=rsc, rc=result.rc))
        self.active.clear()
        self._note(CLEAR_HISTORY)
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
        self._note(forget_ops(cancelled))
        return self._bookkeeping_done(op)

    async def _delete(self, op: Operation) -> OperationResult:
        """Forget a resource's history on this node (cleanup); the DC then probes it again."""
        self.active.pop(op.rsc, None)
        self._note([{"op": "lrm_delete", "rsc": op.rsc}])
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
            outcome = await self._outcome(op)
        result = make_result(op, outcome, call_id=next(self._call_ids), queue_ms=queue_ms)
        metrics.observe(result)
        log = self.log.warning if result.failed else self.log.debug if repeat else self.log.info
        log("operation done", op=op.key, rc=result.rc, status=lrm.EXEC_TEXT.get(result.op_status),
            exec_ms=result.exec_ms, reason=result.exit_reason or None, term=op.term,
            stderr=(outcome.errors.strip() or None) if result.failed else None)
        return result

    async def _outcome(self, op: Operation) -> AgentOutcome:
        """Run the agent; a remote connection resource is run here (as Pacemaker's controller runs it), and
        only by a cluster node's executor: a remote node reaches no other remote node."""
        if not is_connection(op):
            return await self._run_agent(op)
        if self.remote:
            return AgentOutcome(lrm.OCF_ERR_INSTALLED, lrm.EXEC_NOT_INSTALLED,
                                exit_reason="a remote node cannot run a remote connection")
        return await self.connections.run(op)

    async def _run_agent(self, op: Operation) -> AgentOutcome:
        """Run the agent, keeping the record of a container it starts or stops where a machine's crash
        (a lab's emulation of one) finds it: the container outlives the agent's processes."""
        box = containers.container_of((op.agent.standard, op.agent.provider, op.agent.type), op.rsc, op.params, op.meta)
        if box is not None:
            containers.note(self.runner.rsctmp, box, op.task, None)
        outcome = await self.runner.run(op)
        if box is not None and outcome.op_status == lrm.EXEC_DONE:
            containers.note(self.runner.rsctmp, box, op.task, outcome.rc)
        return outcome

    async def _record(self, op: Operation, result: lrm.OpResult, forget: list[Operation] | None = None) -> None:
        """Put the result into this node's history, then tell subscribers about it (the CIB follows).

        ``forget``: recurring operations cancelled before this one ran, whose records go in the same patch,
        so the DC never sees the new role next to a monitor of the old one.
        """
        self._note(forget_ops(forget or []) + failcounts.status_ops(result, op.agent.record(), op.meta,
                                                                     self.start_failure_is_fatal))
        try:
            await self.nc.publish(self.subjects.executor_event(self.node), pack(result_message(result)))
        except nats.errors.Error as exc:  # the result is in the history: the DC's reply must not be lost for an event
            self.log.warning("cannot publish an operation result", op=op.key, error=str(exc))

    def _note(self, ops: list[dict[str, Any]]) -> None:
        """Every change of the node's history goes through here: applied to the history the executor holds
        first (what the DC reads), then queued for the CIB mirror in the same order."""
        if ops:
            self.history.apply(ops)
            self.mirror.put(ops)

    async def _patch(self, ops: list[dict[str, Any]]) -> None:
        """Write one status patch to the cib-store (the mirror's sender)."""
        await bus.call(self.nc, self.subjects.cib_patch_by("executor", self.node),
                       CibPatch(self.node, ops, "executor"), CibWriteReply, service="executor")

    async def _run_repeat(self, op: Operation) -> lrm.OpResult:
        return await self._run(op, repeat=True)
