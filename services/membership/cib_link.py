"""Membership's conversation with the cib-store: read the declared nodes, write node_state entries.

The store may be down, restarting or not yet started when membership runs
(membership starts first on a booting node), so nothing here may block the
heartbeats: writes are kept as "desired state per node" and a background task
flushes them, retrying with backoff. Keeping only the latest wish per node
makes retries idempotent and lets a newer wish (the peer came back) replace an
older one (the peer was lost) that was never delivered. Before each write the
owner is asked whether the wish still holds, because a view can go stale while
the bus was unreachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from enum import Enum

import structlog
from nats.aio.client import Client
from paceline.membership.node_state import CibNodes, node_state_ops, recorded_online
from paceline.shared import bus, cib
from paceline.shared.cluster.fencing import fencing_enabled
from paceline.shared.cluster.options import cluster_options
from paceline.shared.messages import CibDocument, CibPatch, CibQuery, CibWriteReply
from paceline.shared.subjects import Subjects

CLIENT = "membership"


class Decision(Enum):
    WRITE = "write"
    DROP = "drop"
    DEFER = "defer"


#: ``(uname, online) -> Decision``: asked right before a write is sent.
Decider = Callable[[str, bool], Decision]


def quorum_loss_resets(root: cib.Element) -> bool:
    """Fencing enabled and ``no-quorum-policy`` not ``ignore``: the survivors rely on a node that lost quorum
    resetting itself (watchdog fencing); otherwise they do not, and a node alone keeps its resources."""
    options = cluster_options(root, time.time())
    return fencing_enabled(options) and options.get("no-quorum-policy", "stop") != "ignore"


class CibLink:
    def __init__(self, nc: Client, subjects: Subjects, node: str, log: structlog.BoundLogger,
                 on_nodes: Callable[[CibNodes], None], decide: Decider,
                 request_timeout: float = 2.0, retry_min: float = 0.2, retry_max: float = 5.0):
        self.nc = nc
        self.subjects = subjects
        self.node = node
        self.log = log
        self.on_nodes = on_nodes
        self.decide = decide
        self.request_timeout = request_timeout
        self.retry_min = retry_min
        self.retry_max = retry_max
        self.nodes: CibNodes | None = None
        #: Whether survivors would count this node as reset by its watchdog if it lost quorum (fencing on,
        #: no-quorum-policy not ignore): only then must quorum loss stop the petting. From the last read.
        self.quorum_loss_resets = True
        #: uname -> (online, wish number). The number tells a wish made while a write was in flight from
        #: the one being written, even with the same value: the declared node ids may have changed meanwhile.
        self._pending: dict[str, tuple[bool, int]] = {}
        self._wishes = 0
        self._wake = asyncio.Event()
        self._refresh_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._unreachable_logged = False
        # Whether our own "online" write went through since we were last recorded down. Only for the log:
        # rejoining no longer clears the node's operation history in the CIB. The node's executor holds the
        # authoritative history and the DC reads it from there; clearing the CIB's copy would only make
        # the mirror wrong.
        self._online_written = False

    # ------------------------------------------------------------ reading
    async def refresh(self, timeout: float | None = None) -> bool:
        """Re-read <nodes>; returns False (and keeps the last known nodes) if the store cannot answer.

        Also notices when our own node_state no longer says we are a member
        (a peer declared us lost, a CIB imported with its status section
        overwrote it) and rejoins.
        """
        async with self._refresh_lock:
            try:
                reply = await bus.call(self.nc, self.subjects.cib("query"), CibQuery(fresh=True), CibDocument,
                                       timeout=timeout or self.request_timeout, service=CLIENT)
                root = cib.parse_cib(reply.xml)
            except (bus.BusUnavailable, bus.RemoteError, cib.CibError) as exc:
                self._note_unreachable(f"cannot read the CIB: {exc}")
                return False
            self._unreachable_logged = False
            self.quorum_loss_resets = quorum_loss_resets(root)
            nodes = CibNodes.from_root(root)
            changed = nodes != self.nodes
            self.nodes = nodes
        if not recorded_online(root, self.node, nodes.node_id(self.node)):
            # Recorded down (by a peer that lost us, a new DC, an import) while this process kept
            # running: write ourselves online again. The operation history is left alone (see __init__).
            if self._online_written:
                self.log.warning("the CIB records this node as down: rejoining")
            self._online_written = False
            self.want(self.node, True)
        if changed:
            self.on_nodes(nodes)
        return True

    # ------------------------------------------------------------ writing
    def want(self, uname: str, online: bool) -> None:
        """Ask for ``uname``'s node_state to be written up or down; the newest wish wins."""
        self._wishes += 1
        self._pending[uname] = (online, self._wishes)
        self._wake.set()

    @property
    def pending(self) -> dict[str, bool]:
        return {uname: online for uname, (online, _) in self._pending.items()}

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="membership-cib-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        delay = self.retry_min
        while True:
            await self._wake.wait()
            self._wake.clear()
            if await self._flush():
                delay = self.retry_min
                continue
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.retry_max)
            self._wake.set()

    async def _flush(self) -> bool:
        """Send every pending wish; False when something must be retried later."""
        if self.nodes is None and not await self.refresh():
            return False
        assert self.nodes is not None
        complete = True
        for uname, wish in list(self._pending.items()):
            online = wish[0]
            decision = self.decide(uname, online)
            if decision is Decision.DEFER:
                complete = False
                continue
            if decision is Decision.WRITE:
                ops = node_state_ops(self.nodes.node_id(uname), uname, online)
                try:
                    await bus.call(self.nc, self.subjects.cib_patch_by("membership", self.node),
                                   CibPatch(uname, ops, CLIENT), CibWriteReply,
                                   timeout=self.request_timeout, service=CLIENT)
                except (bus.BusUnavailable, bus.RemoteError) as exc:
                    self._note_unreachable(f"cannot write node_state of {uname}: {exc}")
                    return False
                self._unreachable_logged = False
                self._online_written = self._online_written or (uname == self.node and online)
                self.log.info("node_state written", uname=uname, online=online)
            if self._pending.get(uname) == wish:  # unless a newer wish arrived meanwhile, even an equal one
                del self._pending[uname]
        return complete

    def _note_unreachable(self, message: str) -> None:
        """Warn once per outage, not once per retry."""
        if not self._unreachable_logged:
            self.log.warning(message)
            self._unreachable_logged = True
        else:
            self.log.debug(message)
