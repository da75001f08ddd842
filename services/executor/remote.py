"""Remote nodes at run time: a remote node's executor, and the connection resource that reaches it.

A remote node runs an executor and nothing else (no membership, no policy, no
store): what ``pacemaker_remoted`` is to Pacemaker. It is brought into the
cluster by its connection resource, an ``ocf:pacemaker:remote`` primitive whose
id is the remote node's name, run by the executor of a cluster node (the
*host*), as Pacemaker's controller runs it in-process (``remote_lrmd_ra.c``)
rather than through an agent script. Here:

- ``start`` opens the link: the host's executor asks the remote executor on
  ``executor.link.<remote>`` (``open``); from then on the remote executor admits
  the DC's actions by the host's membership view, exactly as the host's own
  executor does (:class:`RemoteGate` follows ``membership.view.<host>``), and
  the host records the remote node's ``node_state`` up (``remote_node="true"``).
- ``monitor`` asks ``check``: running while the remote executor answers and
  its link names this host; a remote executor that is gone, or restarted (a new
  process holds no link), or linked to another host, is "not running", so the
  recurring monitor fails and the DC recovers the connection as Pacemaker does
  for a lost remote connection. A probe on another node finds it not running.
- ``stop`` closes the link (best effort: the remote may be gone) and records
  the node down.

The DC sends the remote node's own actions straight to ``executor.action.<remote>``
(the bus reaches every node; no proxy hop through the host): the link is what
makes the remote executor accept them. Without an open link it refuses every
action with ``not-connected``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import structlog
from nats.aio.client import Client
from paceline.executor.gate import DEFAULT_PATIENCE, MembershipGate, TermStore
from paceline.executor.mirror import CibMirror
from paceline.executor.operation import AgentOutcome, Operation
from paceline.shared import bus, lrm
from paceline.shared.cluster import remote_nodes
from paceline.shared.messages import CibPatch, CibWriteReply, RemoteLinkReply, RemoteLinkRequest
from paceline.shared.subjects import Subjects

#: The error code of an action a remote executor refuses because no connection resource has reached it.
NOT_CONNECTED = "not-connected"
#: How long the host waits for the remote executor when an operation names no timeout (seconds).
DEFAULT_LINK_TIMEOUT = 5.0
#: Seconds between two looks whether a linked remote executor is still on the bus (between monitors).
WATCH_INTERVAL = 1.0
#: Seconds between a guest connection's attempts to reach an executor that is still starting in its container.
GUEST_RETRY = 0.5
#: The exit reason of a guest connection that never came up: most often the container runs Pacemaker's default
#: command (pacemaker-remoted) or cannot reach the bus, which the container's own log shows.
GUEST_HINT = ("{reason} (is the run command of container {container} Paceline's remote executor, with the bus "
              "and the credential of remote@{remote}? its log: podman|docker logs {container})")
#: Connection resource tasks that ask the remote executor something (the others are answered locally).
LINK_TASKS = {"start": "open", "monitor": "check", "stop": "close"}


def is_connection(op: Operation) -> bool:
    """Whether an operation is one of a remote connection resource's (run here, not by an agent script)."""
    return remote_nodes.is_connection(op.agent.standard, op.agent.provider, op.agent.type)


def is_guest_connection(op: Operation) -> bool:
    """Whether a connection operation is a guest node's: its resource is launched by a container (the meta
    attribute ``container`` Pacemaker gives the implicit connection of ``remote-node`` and of a bundle)."""
    return bool(op.meta.get("container"))


# ------------------------------------------------------------------ the remote node's side

class LinkState:
    """Which cluster node's connection a remote executor follows: the last ``open`` wins (the connection
    moved, or its host was lost and the DC started it elsewhere); ``close`` only from the host that holds
    it (a late stop on the old host must not cut the new one). Pure."""

    def __init__(self) -> None:
        self.host = ""

    def apply(self, action: str, host: str) -> str:
        """Apply one link request; the host linked afterwards ("" when none)."""
        if action == "open":
            self.host = host
        elif action == "close" and host == self.host:
            self.host = ""
        return self.host


class RemoteGate:
    """Admission on a remote node: by the membership view of the cluster node its connection runs on.

    A remote node has no membership of its own. While a link is open, a
    :class:`MembershipGate` follows the host's view and decides as it would on
    the host (same DC over the same members); with no link every request is
    refused (``not-connected``): the remote node is not part of the cluster.
    """

    def __init__(self, node: str, terms: TermStore, patience: float = DEFAULT_PATIENCE, log: Any = None):
        self.node = node
        self.terms = terms
        self.patience = patience
        self.log = log or structlog.get_logger().bind(service="remote", node=node)
        self.link = LinkState()
        self.host_gate: MembershipGate | None = None
        self._bus: tuple[Client, Subjects] | None = None
        self._last_dc = ""  # the DC of the last host view held: whose fencing of this node counts

    @property
    def last_dc(self) -> str:
        """The DC the view of the host last linked elects (kept after the link is lost: the DC fences a remote
        node whose connection failed)."""
        self._remember_dc()
        return self._last_dc

    def _remember_dc(self) -> None:
        if self.host_gate is not None and self.host_gate.view is not None:
            self._last_dc = self.host_gate.view.dc

    @property
    def view(self) -> Any:
        return self.host_gate.view if self.host_gate is not None else None

    async def follow(self, nc: Client, subjects: Subjects) -> None:
        """Nothing to follow until a connection opens; remember the bus for then."""
        self._bus = (nc, subjects)

    async def unlink(self) -> None:
        """Forget the link (fenced: a node that lost its power has no connection)."""
        self.link.host = ""
        await self.close()

    async def close(self) -> None:
        self._remember_dc()  # the DC of the view being dropped may still fence this node
        if self.host_gate is not None:
            await self.host_gate.close()
            self.host_gate = None

    async def handle(self, req: RemoteLinkRequest) -> str:
        """Apply a link request from ``req.host``'s executor; the host linked afterwards."""
        before = self.link.host
        after = self.link.apply(req.action, req.host)
        if after != before:
            await self.close()
            if after:
                assert self._bus is not None, "follow() is called at start"
                self.host_gate = MembershipGate(after, self.terms, self.patience, self.log)
                await self.host_gate.follow(*self._bus)
            self.log.warning("remote connection changed", host=after or None, was=before or None,
                             action=req.action)
        if after and self.host_gate is not None and self.host_gate.view is None:
            self.terms.admit(req.term)  # until the host's view arrives, the DC term that opened the link rules
        return after

    def _linked(self) -> MembershipGate:
        if not self.link.host or self.host_gate is None:
            raise bus.UserError(f"remote node {self.node} is not connected to the cluster (no connection resource "
                                "runs for it)", code=NOT_CONNECTED)
        return self.host_gate

    async def admit(self, dc: str, members: Iterable[str], term: int) -> None:
        await self._linked().admit(dc, members, term)

    async def admit_reset(self, dc: str, term: int) -> None:
        await self._linked().admit_reset(dc, term)


# ------------------------------------------------------------------ the host's side

#: Asks the remote executor something; None when it did not answer (gone, or not on the bus).
Ask = Callable[[str, RemoteLinkRequest, float], Awaitable[RemoteLinkReply | None]]


def outcome_of(task: str, host: str, reply: RemoteLinkReply | None, remote: str) -> AgentOutcome:
    """A connection operation's result from the remote executor's answer (pure).

    start: running when the link now names this host; monitor: the same, else not running (7) - a remote
    that does not answer, restarted or follows another host; stop: always done, the remote may be gone.
    """
    if task == "stop":
        return AgentOutcome(lrm.OCF_SUCCESS, lrm.EXEC_DONE)
    linked = reply is not None and reply.host == host
    if linked:
        return AgentOutcome(lrm.OCF_SUCCESS, lrm.EXEC_DONE)
    why = (f"the executor of remote node {remote} does not answer" if reply is None else
           f"remote node {remote} is connected through {reply.host}" if reply.host else
           f"remote node {remote} has no open connection")
    if task == "start":
        return AgentOutcome(lrm.OCF_ERR_GENERIC, lrm.EXEC_DONE, exit_reason=why)
    return AgentOutcome(lrm.OCF_NOT_RUNNING, lrm.EXEC_DONE, exit_reason=why)


class Connections:
    """The remote connection resources run by this (cluster node's) executor, and the remote nodes'
    ``node_state`` it records: each remote node's records go through a mirror of their own, in order and
    retried until written, as the node's own history does."""

    def __init__(self, nc: Client, subjects: Subjects, node: str, log: Any = None):
        self.nc = nc
        self.subjects = subjects
        self.node = node
        self.log = log or structlog.get_logger().bind(service="executor", node=node)
        self.view: Callable[[], tuple[str, tuple[str, ...]]] = lambda: ("", ())
        #: Called with a remote node's name when its executor is found gone between monitors (the executor
        #: runs the connection's recurring monitor at once, which records the loss).
        self.lost: Callable[[str], object] = lambda remote: None
        self._mirrors: dict[str, CibMirror] = {}
        self._up: set[str] = set()  # remote nodes this executor last recorded up
        self._watches: dict[str, asyncio.Task[None]] = {}

    async def run(self, op: Operation) -> AgentOutcome:
        """One operation of a connection resource (``op.rsc`` is the remote node)."""
        started = time.monotonic()
        link = LINK_TASKS.get(op.task)
        if link is None:
            if op.task in ("validate-all", "meta-data"):
                return AgentOutcome(lrm.OCF_SUCCESS, lrm.EXEC_DONE)
            return AgentOutcome(lrm.OCF_ERR_UNIMPLEMENTED, lrm.EXEC_DONE,
                                exit_reason=f"a remote connection does not {op.task}")
        dc, members = self.view()
        req = RemoteLinkRequest(action=link, host=self.node, dc=dc, members=members, term=op.term)
        timeout = op.timeout_ms / 1000 if op.timeout_ms else DEFAULT_LINK_TIMEOUT
        if op.task == "start" and is_guest_connection(op):
            reply = await self._ask_until_up(op.rsc, req, started + timeout)
        else:
            reply = await self._ask(op.rsc, req, timeout)
        outcome = outcome_of(op.task, self.node, reply, op.rsc)
        if op.task == "start" and reply is None and is_guest_connection(op):
            outcome = dataclasses.replace(outcome, exit_reason=GUEST_HINT.format(
                reason=outcome.exit_reason, container=op.meta.get("container"), remote=op.rsc))
        if op.task == "start" and outcome.rc == lrm.OCF_SUCCESS:
            self._record(op.rsc, up=True)
            self._watch(op.rsc, op.term)
        elif op.task == "stop" or (op.interval_ms and outcome.rc != lrm.OCF_SUCCESS and op.rsc in self._up):
            self._record(op.rsc, up=False)  # stopped, or lost under a running monitor
            self._unwatch(op.rsc)
        return dataclasses.replace(outcome, exec_ms=int((time.monotonic() - started) * 1000))

    async def _ask(self, remote: str, req: RemoteLinkRequest, timeout: float) -> RemoteLinkReply | None:
        try:
            return await bus.call(self.nc, self.subjects.executor("link", remote), req, RemoteLinkReply,
                                  timeout=timeout, service="executor")
        except (bus.BusUnavailable, bus.RemoteError) as exc:
            self.log.info("remote executor did not take the link request", remote=remote, action=req.action,
                          error=str(exc))
            return None

    async def _ask_until_up(self, remote: str, req: RemoteLinkRequest, deadline: float) -> RemoteLinkReply | None:
        """Ask until the remote executor answers or ``deadline`` (monotonic) passes: a guest's executor is its
        container's run command, which the container's start has only just launched (Pacemaker's connection
        start likewise retries until its timeout)."""
        while True:
            left = deadline - time.monotonic()
            reply = await self._ask(remote, req, max(left, 0.1))
            if reply is not None or left <= GUEST_RETRY:
                return reply
            await asyncio.sleep(GUEST_RETRY)

    def _watch(self, remote: str, term: int) -> None:
        """Keep asking whether the linked remote executor is still on the bus, as Pacemaker's controller
        learns at once that a remote connection dropped (its TCP link closes): a bus client that leaves has
        no such signal, but an ask finds no responder at once."""
        self._unwatch(remote)
        self._watches[remote] = asyncio.create_task(self._watch_loop(remote, term), name=f"watch {remote}")

    def _unwatch(self, remote: str) -> None:
        task = self._watches.pop(remote, None)
        if task is not None:
            task.cancel()

    async def _watch_loop(self, remote: str, term: int) -> None:
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            dc, members = self.view()
            req = RemoteLinkRequest(action="check", host=self.node, dc=dc, members=members, term=term)
            reply = await self._ask(remote, req, WATCH_INTERVAL)
            if reply is None or reply.host != self.node:
                self.log.warning("remote executor lost between monitors: monitoring its connection now",
                                 remote=remote)
                self._watches.pop(remote, None)
                self.lost(remote)
                return

    def _record(self, remote: str, up: bool) -> None:
        mirror = self._mirrors.get(remote)
        if mirror is None:
            mirror = self._mirrors[remote] = CibMirror(self._sender(remote), self.log)
            mirror.start()
        (self._up.add if up else self._up.discard)(remote)
        mirror.put(remote_nodes.node_state_ops(remote, up))

    def _sender(self, remote: str) -> Callable[[list[dict[str, Any]]], Awaitable[None]]:
        async def send(ops: list[dict[str, Any]]) -> None:
            await bus.call(self.nc, self.subjects.cib_patch_by("executor", self.node),
                           CibPatch(remote, ops, "executor"), CibWriteReply, service="executor")
        return send

    async def close(self, flush: float) -> None:
        for remote in list(self._watches):
            self._unwatch(remote)
        for mirror in self._mirrors.values():
            await mirror.close(flush)
