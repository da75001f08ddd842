"""The DC's fencer: carries out the scheduler's ``stonith`` actions through fence devices on other nodes.

A ``stonith`` action names its victim as ``node``; the victim is dead or about
to be, so it cannot run the action itself. The fencer picks the devices and
the node that runs each agent (``fencing.py``: Pacemaker's rules), asks that
node's executor (endpoint ``fence``, admitted only under the DC's mandate)
and, once the device confirmed, publishes ``policy.fenced`` and records the
victim as Pacemaker's controller does: cleanly down, with no operation
history and no transient attributes - the scheduler then recovers its
resources elsewhere. The DC hands the fencer its working copy of the CIB and
takes the record itself (it plans with it at once and writes the CIB behind);
used on its own, the fencer reads and writes the CIB directly.

A failed attempt fails the action (the transition aborts and the DC plans
again, which retries). Retries of one target back off exponentially (up to
``MAX_BACKOFF`` seconds) so a broken device does not spin the DC.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from nats.aio.client import Client
from paceline.policy.graph import Action
from paceline.policy.mandate import Mandate
from paceline.shared import admission, bus, cib, lrm
from paceline.shared.cluster import fencing
from paceline.shared.cluster.options import cluster_options
from paceline.shared.messages import (
    AgentSpec,
    CibDocument,
    CibPatch,
    CibQuery,
    CibWriteReply,
    Fenced,
    FenceReply,
    FenceRequest,
    pack,
)
from paceline.shared.subjects import Subjects
from prometheus_client import Counter

FENCING = Counter("paceline_fencing_operations_total", "Fencing operations the DC carried out, by action and result",
                  ["action", "result"])
#: How long a device's ``list`` answer is trusted (Pacemaker's fencer refreshes it after a minute too).
LIST_TTL = 60.0
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 10.0
#: Timeout of the questions asked of a device (``list``, ``status``), in ms.
QUERY_TIMEOUT_MS = 20000
ORIGIN = "paceline-fencer"
SERVICE = "policy"


#: Refusals that mean "you are not the DC I follow" (membership-based, or the legacy term check).
NOT_DC_CODES = (admission.NOT_DC, "stale-term")
#: The victim's status after fencing, recorded by the caller: ``(target, ops)``.
Record = Callable[[str, list[dict[str, Any]]], Awaitable[None]]


class NotDC(RuntimeError):
    """An executor refused the request: this instance is not (or no longer) the DC its node follows."""


@dataclass
class Attempt:
    """How fencing one target went: which devices were used, from where, and why it failed."""

    ok: bool = False
    devices: tuple[str, ...] = ()
    by: str = ""
    error: str = ""


class Fencer:
    def __init__(self, nc: Client, subjects: Subjects, me: str, mandate: Callable[[], Mandate | None],
                 online: Callable[[], Iterable[str]], log: Any,
                 root: Callable[[], Awaitable[cib.Element]] | None = None, record: Record | None = None):
        self.nc = nc
        self.s = subjects
        self.me = me
        self.mandate = mandate
        self.online = online
        self.log = log
        self.root = root or self._read_cib
        self.record = record or self._write_victim
        self.failures: dict[str, int] = {}
        self.retry_at: dict[str, float] = {}
        self._lists: dict[tuple[str, ...], tuple[float, set[str]]] = {}

    # ------------------------------------------------------------ the action
    async def fence(self, action: Action) -> lrm.OpResult:
        target = action.node or ""
        what = action.meta.get("fencing-action") or "reboot"
        wait = self.retry_at.get(target, 0.0) - time.monotonic()
        if wait > 0:
            self.log.info("waiting before fencing again", target=target, seconds=round(wait, 2))
            await asyncio.sleep(wait)
        root = await self.root()
        now = time.time()
        options = cluster_options(root, now)
        online = sorted(set(self.online()))
        self.log.warning("fencing", target=target, action=what, reason=action.meta.get("reason") or None)
        attempt = await self._carry_out(root, options, target, what, online, now)
        await self._announce(target, what, attempt, action.meta.get("reason", ""))
        FENCING.labels(what, "ok" if attempt.ok else "failed").inc()
        if not attempt.ok:
            failures = self.failures[target] = self.failures.get(target, 0) + 1
            self.retry_at[target] = time.monotonic() + min(FIRST_BACKOFF * 2 ** (failures - 1), MAX_BACKOFF)
            self.log.error("fencing failed", target=target, action=what, error=attempt.error, attempts=failures)
            return lrm.OpResult(rsc="", task="stonith", interval_ms=0, rc=lrm.OCF_ERR_GENERIC,
                                op_status=lrm.EXEC_ERROR, exit_reason=attempt.error, node=target)
        self.failures.pop(target, None)
        self.retry_at.pop(target, None)
        await self.record(target, fencing.victim_status_ops(what, int(time.time()), ORIGIN))
        self.log.warning("fenced", target=target, action=what, devices=list(attempt.devices), by=attempt.by)
        return lrm.OpResult(rsc="", task="stonith", interval_ms=0, rc=lrm.OCF_SUCCESS, node=target)

    async def _read_cib(self) -> cib.Element:
        reply = await bus.call(self.nc, self.s.cib("query"), CibQuery(fresh=True), CibDocument, service=SERVICE)
        return cib.parse_cib(reply.xml)

    async def _write_victim(self, target: str, ops: list[dict[str, Any]]) -> None:
        await bus.call(self.nc, self.s.cib("patch"), CibPatch(target, ops, SERVICE), CibWriteReply, service=SERVICE)

    def _mandate(self) -> Mandate:
        mandate = self.mandate()
        if mandate is None:
            raise NotDC(f"{self.me} is not the DC of its membership view")
        return mandate

    async def _announce(self, target: str, what: str, attempt: Attempt, reason: str) -> None:
        """Tell the bus first: a victim that is still alive emulates the power cut before it can rejoin."""
        mandate = self.mandate()
        await self.nc.publish(self.s.fenced_by(self.me), pack(Fenced(
            target=target, action=what, result="ok" if attempt.ok else "failed", device=",".join(attempt.devices),
            by=attempt.by, dc=self.me, term=mandate.term if mandate else 0, reason=reason, error=attempt.error,
            time=time.time())))

    # ------------------------------------------------------------ devices and levels
    async def _carry_out(self, root: cib.Element, options: dict[str, str], target: str, what: str,
                         online: list[str], now: float) -> Attempt:
        if not fencing.fencing_enabled(options):
            return Attempt(error="fencing is disabled (stonith-enabled=false)")
        known = await self._ask_agents(root, target, online, now)
        plan = fencing.plan(root, target, now, known)
        if not plan.levels:
            return await self._watchdog(target, options)
        errors = []
        for level in plan.levels:
            attempt = await self._run_level(level, options, target, what, online)
            if attempt.ok:
                return attempt
            errors.append(attempt.error)
        return Attempt(error="; ".join(errors))

    async def _watchdog(self, target: str, options: dict[str, str]) -> Attempt:
        """No device can fence the target: if nodes run watchdogs, it has reset itself once
        ``stonith-watchdog-timeout`` has passed (its membership stopped petting when it lost us)."""
        wait = fencing.watchdog_wait(options)
        if wait <= 0:
            return Attempt(error=f"no fence device can fence {target}")
        self.log.warning("no fence device: waiting for the target's watchdog", target=target, seconds=wait)
        await asyncio.sleep(wait)
        return Attempt(ok=True, devices=("watchdog",), by="watchdog")

    async def _run_level(self, level: list[fencing.FenceDevice], options: dict[str, str], target: str,
                         what: str, online: list[str]) -> Attempt:
        """Every device of the level must succeed; a reboot through several is all "off", then all "on"."""
        steps = [(dev, what) for dev in level]
        if what == "reboot" and len(level) > 1:
            steps = [(dev, "off") for dev in level] + [(dev, "on") for dev in level]
        by = ""
        for dev, step in steps:
            ok, node, error = await self._run_device(dev, step, options, target, online)
            if not ok:
                return Attempt(error=f"{dev.id}: {error}")
            by = by or node
        return Attempt(ok=True, devices=tuple(d.id for d in level), by=by)

    async def _run_device(self, dev: fencing.FenceDevice, what: str, options: dict[str, str], target: str,
                          online: list[str]) -> tuple[bool, str, str]:
        """Run one device against the target from the best node that answers: (ok, node, error)."""
        timeout = dev.timeout_s(what, options)
        ask = _ask(dev, what, int(timeout * 1000), target, dev.port_for(target))
        node, reply, error = await self._first_answer(dev, ask, target, online, timeout + 5)
        if reply is None:
            return False, "", error
        if _done(reply, lrm.OCF_SUCCESS):
            return True, node, ""
        return False, node, reply.exit_reason or f"agent answered rc {reply.rc}"

    async def _first_answer(self, dev: fencing.FenceDevice, ask: Callable[[Mandate], FenceRequest], target: str,
                            online: list[str], timeout: float) -> tuple[str, FenceReply | None, str]:
        """Ask the nodes that may run ``dev``, best first, until one answers: (node, reply, error).

        ``ask(mandate)`` makes the request: each one carries the DC's mandate as it is when sent.
        """
        error = f"no online node may run {dev.id}"
        for node in fencing.executing_nodes(dev, target, online, self.me):
            try:
                reply = await bus.call(self.nc, self.s.executor("fence", node), ask(self._mandate()), FenceReply,
                                       timeout=timeout, service=SERVICE)
                return node, reply, ""
            except bus.RemoteError as exc:
                if exc.code in NOT_DC_CODES:
                    raise NotDC(str(exc)) from None
                error = f"{node}: {exc}"  # e.g. the agent is not installed there: another node may have it
            except bus.BusUnavailable as exc:
                error = str(exc)
        return "", None, error

    async def _ask_agents(self, root: cib.Element, target: str, online: list[str], now: float) -> dict[str, bool]:
        """For devices whose host check needs the agent (dynamic-list, status): can it fence the target?"""
        known: dict[str, bool] = {}
        for dev in fencing.fence_devices(root, now):
            if dev.can_fence_statically(target) is not None:
                continue
            if dev.host_check == fencing.STATUS:
                ask = _ask(dev, "status", QUERY_TIMEOUT_MS, target, dev.port_for(target))
                _node, reply, _error = await self._first_answer(dev, ask, target, online, QUERY_TIMEOUT_MS / 1000 + 5)
                known[dev.id] = reply is not None and (_done(reply, lrm.OCF_SUCCESS) or
                                                       _done(reply, lrm.OCF_NOT_RUNNING))
            else:
                known[dev.id] = target in await self._list(dev, online, target)
        return known

    async def _list(self, dev: fencing.FenceDevice, online: list[str], target: str) -> set[str]:
        """The targets the device's ``list`` action names (cached for ``LIST_TTL``)."""
        key = (dev.id, dev.agent, *sorted(f"{k}={v}" for k, v in dev.params.items()))
        cached = self._lists.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        ask = _ask(dev, "list", QUERY_TIMEOUT_MS)
        _node, reply, _error = await self._first_answer(dev, ask, target, online, QUERY_TIMEOUT_MS / 1000 + 5)
        if reply is None or not _done(reply, lrm.OCF_SUCCESS):
            return set()
        names = fencing.parse_list_output(reply.output)
        self._lists[key] = (time.monotonic() + LIST_TTL, names)
        return names


def _ask(dev: fencing.FenceDevice, action: str, timeout_ms: int, target: str = "",
         port: str = "") -> Callable[[Mandate], FenceRequest]:
    """The request running ``action`` of ``dev`` (against ``target`` under its ``port`` name), under a mandate."""
    record = dev.agent_record()
    agent = AgentSpec(standard=record.get("class", ""), type=record.get("type", ""),
                      provider=record.get("provider", ""))

    def request(mandate: Mandate) -> FenceRequest:
        return FenceRequest(agent=agent, action=action, term=mandate.term, params=dict(dev.params), target=target,
                            port=port, timeout_ms=timeout_ms, dc=mandate.dc, members=mandate.members)

    return request


def _done(reply: FenceReply, rc: int) -> bool:
    return reply.op_status == lrm.EXEC_DONE and reply.rc == rc
