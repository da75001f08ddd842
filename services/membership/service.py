"""The membership process: heartbeats on the bus, the tracker's verdicts published as views.

Everything that decides lives in tracker.py, election.py and quorum.py; this
module only feeds them (received heartbeats, the local policy's ``PolicyAlive``,
the clock, the CIB's node list) and carries their results out (heartbeats with
``hears`` and ``candidate``, view events naming the DC, the query endpoint,
metrics, node_state writes).

Bus outages: nats-py reconnects by itself and restores subscriptions, so the
process simply keeps ticking. While the bus is down, peers age out of the view
exactly as in a real partition; nothing is published (a view delivered late
from a reconnect buffer would be stale), and the current view is published
again once the bus is back. Offline writes for lost peers wait until the bus
has been up for a whole token timeout, so that a view formed while we were
the ones cut off never marks healthy peers down.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import structlog
from nats.aio.client import Client
from paceline.membership import flood, metrics, watchdog
from paceline.membership.cib_link import CibLink, Decision
from paceline.membership.heartbeat import Heartbeat, new_incarnation
from paceline.membership.node_exporter import Inputs, NodeExporter
from paceline.membership.node_state import CibNodes
from paceline.membership.quorum import QuorumCalculator, QuorumSettings
from paceline.membership.tracker import PEER_VOTES, MembershipChange, MembershipTracker
from paceline.membership.view import MembershipView
from paceline.shared import VERSION, admission, bus, config
from paceline.shared.credentials import CredentialError
from paceline.shared.messages import (
    CibChanged,
    Fenced,
    MembershipQuery,
    MembershipViewMessage,
    PolicyAlive,
    ResetReply,
    ResetRequest,
    pack,
)
from paceline.shared.runtime import ServiceContext, service_credential
from paceline.shared.subjects import check_token, sender_of

#: How long start() waits for the CIB before publishing a first view without it.
INITIAL_CIB_WAIT = 2.0
#: How long a fenced node's executor may take to stop everything it runs.
RESET_TIMEOUT = 120.0
#: Heartbeats that may wait for the handler, per subscription: ten seconds of one node's at 0.1 s is 100; a
#: flood beyond this is dropped (and counted: paceline_slow_consumer_dropped_messages_total).
HEARTBEAT_PENDING = 1000


class MembershipService:
    def __init__(self, nc: Client, cfg: config.Config, log: structlog.BoundLogger,
                 clock: Callable[[], float] = time.monotonic):
        try:
            check_token(cfg.node, "node name")
        except ValueError as exc:  # it becomes a subject token; a dot would hide our heartbeats
            raise config.ConfigError(str(exc)) from None
        if cfg.heartbeat_interval <= 0 or cfg.token_timeout <= cfg.heartbeat_interval:
            raise config.ConfigError(
                f"token_timeout ({cfg.token_timeout:g}s) must exceed heartbeat_interval "
                f"({cfg.heartbeat_interval:g}s), and both must be positive")
        self.nc = nc
        self.cfg = cfg
        self.node = cfg.node
        self.subjects = cfg.subjects
        self.log = log
        self.clock = clock
        self.incarnation = new_incarnation()
        self.tracker = MembershipTracker(self.node, self.incarnation, cfg.token_timeout)
        self.quorum = QuorumCalculator(QuorumSettings.from_config(cfg))
        self.cib = CibLink(nc, self.subjects, self.node, log, on_nodes=self._on_cib_nodes, decide=self.write_decision)
        self.view: MembershipView | None = None
        self._seq = 0
        self._bus_up_since: float | None = None
        self._unpublished = False
        self._micro = bus.MicroService(nc, "membership", VERSION, metadata={"node": self.node})
        self._subs: list[Any] = []
        #: Node -> the connection and subscription that carry its heartbeats alone (see _follow_heartbeats).
        self._heartbeat_subs: dict[str, Any] = {}
        self._heartbeat_conns: dict[str, Client] = {}
        #: Every node's heartbeats, heard only while the CIB's node list is not known.
        self._wildcard: Any = None
        #: Nodes whose heartbeat subject is not listened to for a while: it was flooded (see flood.py).
        self._muted: set[str] = set()
        self._following = asyncio.Lock()
        self._loop: asyncio.Task[None] | None = None
        self._impostors: set[str] = set()
        self._publishing: set[asyncio.Task[None]] = set()
        self.powered_off = False  # fenced while alive: silent until the emulated reboot (or for good, "off")
        self._ring_heard = 0  # the highest ring id a peer's heartbeat carried
        self.state_dir = Path(cfg.state_dir or ".")
        self._checking: asyncio.Task[bool] | None = None

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        self._subs.append(await bus.subscribe(self.nc, "membership", self.subjects.cib_changed,
                                              self._on_cib_changed, CibChanged))
        # Best effort: knowing the declared nodes before the first view lets it
        # carry a real quorum verdict instead of "not known yet".
        await self.cib.refresh(timeout=INITIAL_CIB_WAIT)
        self._apply(self.tracker.form())
        if not self.cib.nodes:
            # Until the CIB says which nodes there are, every heartbeat subject is heard through the wildcard:
            # on a connection of its own, so that the main one (views, queries, policy.alive) never waits
            # behind a flooded subject. _follow_heartbeats closes it once the nodes are known.
            discovery = await self._heartbeat_connection("*") or self.nc
            self._wildcard = await bus.subscribe(
                discovery, "membership", self.subjects.heartbeats, self._on_heartbeat, Heartbeat,
                accept=lambda subject: subject.rsplit(".", 1)[-1] not in self._heartbeat_subs,
                pending_msgs=HEARTBEAT_PENDING)
        await self._follow_heartbeats(self.cib.nodes.ids if self.cib.nodes else ())
        self._subs.append(await bus.subscribe(self.nc, "membership", self.subjects.fenced, self._on_fenced, Fenced))
        self._subs.append(await bus.subscribe(self.nc, "membership", self.subjects.policy_alive(self.node),
                                              self._on_policy_alive, PolicyAlive))
        self._micro.endpoint("query", self.subjects.membership_query(self.node), self._on_query,
                             MembershipQuery, queue_group=f"membership-{self.node}")
        await self._micro.start()
        self.cib.start()
        self._loop = asyncio.create_task(self._heartbeat_loop(), name="membership-heartbeat")
        self.log.info("membership started", incarnation=self.incarnation,
                      heartbeat_interval=self.cfg.heartbeat_interval, token_timeout=self.cfg.token_timeout)

    async def stop(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        await self.cib.stop()
        for sub in [*self._subs, *self._heartbeat_subs.values(), *([self._wildcard] if self._wildcard else [])]:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        for conn in self._heartbeat_conns.values():
            with contextlib.suppress(Exception):
                await conn.close()
        with contextlib.suppress(Exception):
            await self._micro.stop()

    # ------------------------------------------------------------ inputs
    async def _heartbeat_loop(self) -> None:
        # Ticking finer than the heartbeat keeps loss detection close to the token
        # timeout instead of up to one heartbeat interval late.
        step = min(self.cfg.heartbeat_interval, self.cfg.token_timeout / 10)
        next_beat = self.clock()
        while True:
            now = self.clock()
            if self.powered_off:
                await asyncio.sleep(step)
                continue
            if not self.nc.is_connected:
                self._bus_up_since = None
            elif now >= next_beat:
                if self._bus_up_since is None:
                    self._bus_up_since = now
                next_beat = now + self.cfg.heartbeat_interval
                await self._send_heartbeat()
                if self._unpublished:
                    await self._publish_view(self.view)
            change = self.tracker.tick(now)
            if change is not None:
                self._apply(change)
            self._pet_watchdog()
            await asyncio.sleep(step)

    def _pet_watchdog(self) -> None:
        """Keep the node's watchdog from resetting it while this node belongs to a quorate membership (or the
        cluster does not count on a node without quorum resetting itself: fencing off, or
        ``no-quorum-policy=ignore``).

        A node that loses quorum (cut off), or whose membership stops running (hung, paused), stops
        petting; its watchdog then kills everything of the node before the survivors, who wait
        ``stonith-watchdog-timeout``, recover its resources.
        """
        if self.cfg.watchdog_timeout <= 0 or self.powered_off or self.view is None:
            return
        if self.view.quorum.quorate or not self.cib.quorum_loss_resets:
            watchdog.pet(self.state_dir)

    async def _send_heartbeat(self) -> None:
        self._seq += 1
        hb = Heartbeat(node=self.node, incarnation=self.incarnation, ring_id=self.tracker.ring_id,
                       seq=self._seq, votes=self.tracker.votes, hears=self.tracker.hears,
                       candidate=self.tracker.candidate)
        try:
            await self.nc.publish(self.subjects.heartbeat(self.node), pack(hb))
        except Exception as exc:  # the connection can drop between the check and the publish
            self.log.debug("heartbeat not sent", error=str(exc))

    async def _follow_heartbeats(self, nodes: Iterable[str]) -> None:
        """A connection and subscription of its own for each declared node's heartbeats, with a bounded queue: a
        flood on one node's subject (a broken or compromised peer; only a node's own credential may publish
        there) fills that node's socket and queue alone. On a shared connection the others' heartbeats would
        wait behind it in the one TCP stream, and be late by as long as the flood takes to read. Our own
        subject is followed too: another process heartbeating as this node is found there.

        Once nodes are declared the wildcard subscription is closed: it would receive a flood on any
        subject as well, and reading it costs this process the time its own heartbeats need (a flood of
        150,000 messages cost each node about a second of CPU per connection that received it).
        """
        async with self._following:  # start() and a CIB change may both get here: one subscription per node
            await self._follow(set(nodes))

    async def _follow(self, declared: set[str]) -> None:
        for node in sorted(declared - self._heartbeat_subs.keys() - self._muted):
            conn = await self._heartbeat_connection(node)
            if conn is None:
                continue
            self._heartbeat_subs[node] = await bus.subscribe(
                conn, "membership", self.subjects.heartbeat(node), self._on_heartbeat, Heartbeat,
                accept=self._flood_guard(node), pending_msgs=HEARTBEAT_PENDING)
        if declared and declared <= self._heartbeat_subs.keys() and self._wildcard is not None:
            wildcard, self._wildcard = self._wildcard, None
            with contextlib.suppress(Exception):
                await wildcard.unsubscribe()
            conn = self._heartbeat_conns.pop("*", None)
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()

    def _flood_guard(self, node: str) -> Callable[[str], bool]:
        """The ``accept`` filter of one node's heartbeat subscription: over the rate, the subject is muted."""
        guard = flood.FloodGuard(self.cfg.heartbeat_interval)

        def accept(_subject: str) -> bool:
            if not guard.flooded(self.clock()):
                return True
            if node not in self._muted:
                self._muted.add(node)
                task = asyncio.get_running_loop().create_task(self._mute(node, guard.count))
                self._publishing.add(task)
                task.add_done_callback(self._publishing.discard)
            return False

        return accept

    async def _mute(self, node: str, seen: int) -> None:
        """Stop reading a flooded heartbeat subject for a while (see :mod:`.flood`), then follow it again."""
        pause = flood.pause(self.cfg.token_timeout)
        metrics.HEARTBEAT_FLOODS.inc()
        self.log.error("a heartbeat subject is flooded: not listened to for a while", peer=node,
                       messages_in_a_second=seen, pause_s=pause)
        sub = self._heartbeat_subs.pop(node, None)
        conn = self._heartbeat_conns.pop(node, None)
        with contextlib.suppress(Exception):
            if sub is not None:
                await sub.unsubscribe()
        with contextlib.suppress(Exception):
            if conn is not None:
                await conn.close()
        try:
            await asyncio.sleep(pause)
        finally:
            self._muted.discard(node)
        if self.cib.nodes and node in self.cib.nodes.ids:
            await self._follow_heartbeats([node])

    async def _heartbeat_connection(self, peer: str) -> Client | None:
        """A connection of its own for one peer's heartbeats (or "*": the wildcard's); None when it cannot be
        made, and the heartbeats then stay with the wildcard subscription."""
        try:
            conn = await bus.connect(self.cfg.nats_url, f"paceline-membership-{self.node}-heartbeats-{peer}",
                                     credential=service_credential(self.cfg, "membership"))
        except (bus.BusUnavailable, CredentialError) as exc:
            self.log.warning("heartbeats stay on a shared connection", peer=peer, error=str(exc))
            return None
        self._heartbeat_conns[peer] = conn
        return conn

    async def _on_heartbeat(self, hb: Heartbeat, subject: str) -> None:
        hb.on_subject(subject)
        if self.tracker.is_duplicate_of_self(hb):
            if hb.incarnation not in self._impostors:
                self._impostors.add(hb.incarnation)
                self.log.error("another process heartbeats as this node", incarnation=hb.incarnation)
            return
        contested = hb.node in self.tracker.contested
        change = self.tracker.observe(hb, self.clock())
        if not contested and hb.node in self.tracker.contested:
            self.log.error("two processes heartbeat as one node: it is left out until one falls silent",
                           peer=hb.node, incarnations=sorted(self.tracker.contested[hb.node]))
        if change is not None and not self.powered_off:  # while off, peers are noted but nothing is said
            self._apply(change)
        if hb.ring_id > self._ring_heard:
            self._ring_heard = hb.ring_id
            self._check_own_record()

    async def _on_policy_alive(self, alive: PolicyAlive, subject: str) -> None:
        """Our node's policy runs: while it keeps saying so, this node is a DC candidate (see election.py)."""
        if alive.node != self.node:  # on our own node's subject only; anything else is a bug or a spoof
            self.log.warning("policy.alive names another node", node=alive.node, subject=subject)
            return
        change = self.tracker.policy_alive(alive.incarnation, self.clock())
        if change is not None and not self.powered_off:
            self._apply(change)

    def _check_own_record(self) -> None:
        """Some node's view changed (a ring id we had not heard): it may have declared us lost while we could
        not hear it - we were paused, cut off, or too slow - and written us down in the CIB, with no change
        in our own view to tell us. Re-read our node_state; :meth:`CibLink.refresh` rejoins if it says down."""
        if self.powered_off or (self._checking is not None and not self._checking.done()):
            return
        self._checking = asyncio.get_running_loop().create_task(self.cib.refresh())

    async def _on_cib_changed(self, event: CibChanged, subject: str) -> None:
        if self.powered_off:
            return
        # Our own node_state written by someone other than our executor (a peer's membership that lost
        # us, a new DC marking nodes it cannot see, an import) may now say we are down: re-read, and
        # refresh() rejoins if so. Our own writes come back here too: one extra read, rarely.
        overwritten = event.scope == "status" and event.node == self.node and event.client != "executor"
        if event.scope == "configuration" or overwritten:
            await self.cib.refresh()

    async def _on_fenced(self, event: Fenced, subject: str) -> None:
        """This node was fenced while its processes live on (no real power switch in a lab): act as if
        the power was cut. Go silent at once (before the DC's "fenced" record can make us rewrite our
        node_state), have the executor stop and forget everything, then - for a reboot - come back as a
        freshly booted node with a new incarnation. After ``off`` the node stays silent until its
        services are restarted, as a powered-off machine stays off until someone turns it on.
        """
        action = event.action
        if event.target != self.node or event.result != "ok" or action not in ("off", "reboot"):
            return
        if self.powered_off:
            return
        sender = sender_of(subject)
        refused = admission.fencing_refusal(self.view.dc if self.view else "", sender, event.dc)
        if refused:
            self.log.warning("ignored a fencing result for this node", reason=refused, by=sender, term=event.term)
            return
        self.powered_off = True
        self.log.warning("this node was fenced: emulating the power cut", action=action, by=event.by,
                         device=event.device)
        try:
            await bus.call(self.nc, self.subjects.executor("reset", self.node),
                           ResetRequest(dc=event.dc, term=event.term), ResetReply,
                           timeout=RESET_TIMEOUT, service="membership")
        except (bus.BusUnavailable, bus.RemoteError) as exc:
            self.log.warning("the executor did not confirm that everything stopped", error=str(exc))
        if action == "off":
            self.log.warning("powered off by fencing: this node stays out of the cluster until restarted")
            return
        # Back with a new incarnation, so peers see a restarted node. The peers heard meanwhile stay in
        # our view: a view of this node alone would tell its policy that the DC's node is gone.
        self._impostors.add(self.incarnation)  # our own heartbeats still in flight are from "before the boot"
        self.powered_off = False
        change = self.tracker.rebooted(new_incarnation(), self.clock())
        self.incarnation = self.tracker.incarnation
        self._apply(change)
        self.log.info("rejoining after the emulated reboot", incarnation=self.incarnation)
        self.cib.want(self.node, True)  # the DC recorded us down while we were silent

    async def _on_query(self, _query: MembershipQuery) -> MembershipViewMessage:
        assert self.view is not None  # set in start() before the endpoint can be reached
        return self.view.to_message()

    def _on_cib_nodes(self, nodes: CibNodes) -> None:
        """The declared nodes changed: quorum may differ, and our own node_state id may too."""
        self.cib.want(self.node, True)
        if self.view is not None:
            self._apply(self.tracker.current())
        follow = asyncio.get_running_loop().create_task(self._follow_heartbeats(nodes.ids))
        self._publishing.add(follow)
        follow.add_done_callback(self._publishing.discard)

    # ------------------------------------------------------------ outputs
    def _apply(self, change: MembershipChange) -> None:
        nodes = self.cib.nodes
        state = self.quorum.evaluate(self.tracker.total_votes, nodes.count if nodes else None,
                                     len(self.tracker.ever_seen))
        # Quorum lives here, candidacy in the tracker: a flipped verdict renews our candidacy (a new ring id).
        change = self.tracker.quorum_verdict(state.quorate, change, self.clock())
        view = MembershipView(node=self.node, incarnation=self.incarnation, ring_id=change.ring_id,
                              members=change.members, quorum=state, joined=change.joined,
                              lost=change.lost, restarted=change.restarted, dc=change.dc)
        if view.same_state(self.view):
            return
        self.view = view
        metrics.record(view)
        self.log.info("membership view", ring_id=view.ring_id, members=list(view.members),
                      quorate=state.quorate, dc=view.dc, joined=list(change.joined), lost=list(change.lost),
                      restarted=list(change.restarted))
        self.cib.want(self.node, True)
        for peer in change.lost:
            self.cib.want(peer, False)
        self._unpublished = True
        task = asyncio.get_running_loop().create_task(self._publish_view(view))
        self._publishing.add(task)
        task.add_done_callback(self._publishing.discard)

    async def _publish_view(self, view: MembershipView | None) -> None:
        """Publish one view; when the bus is down it is left for the heartbeat loop to republish."""
        if view is None or not self.nc.is_connected:
            return
        try:
            await self.nc.publish(self.subjects.view(self.node), pack(view.to_message()))
        except Exception as exc:
            self.log.debug("view not published", error=str(exc))
            return
        if view is self.view:
            self._unpublished = False

    def node_exporter(self, state_dir: Path) -> NodeExporter:
        """This node's exporter (see :mod:`.node_exporter`), reading this process's view and declared nodes."""
        inputs = Inputs(view=lambda: self.view,
                        node_ids=lambda: dict(self.cib.nodes.ids) if self.cib.nodes else {},
                        votes=lambda: [(m, self.tracker.votes if m == self.node else PEER_VOTES)
                                       for m in (self.view.members if self.view else ())])
        return NodeExporter(self.nc, self.subjects, self.cfg.nats_url, state_dir, inputs, self.log,
                            watchdog_timeout=self.cfg.watchdog_timeout)

    def write_decision(self, uname: str, online: bool) -> Decision:
        """Whether a node_state wish made earlier still holds now that the write can be sent."""
        if self.powered_off:
            return Decision.DROP  # a powered-off node writes nothing; it wishes again when it is back
        if online:
            return Decision.WRITE if uname == self.node else Decision.DROP
        if uname in self.tracker.peers or uname == self.node:
            return Decision.DROP  # it came back (heard again) before we could write it down
        if self._bus_up_since is None or self.clock() - self._bus_up_since < self.cfg.token_timeout:
            return Decision.DEFER
        return Decision.WRITE


async def run(ctx: ServiceContext) -> None:
    try:
        svc = MembershipService(ctx.nc, ctx.cfg, ctx.log)
    except config.ConfigError as exc:
        ctx.log.error("cannot start", error=str(exc))
        raise SystemExit(2) from None
    await svc.start()
    node_exporter = svc.node_exporter(ctx.state_dir)
    node_exporter.start(ctx.cfg.exporter_address, ctx.cfg.exporter_port)
    try:
        await ctx.stopping.wait()
    finally:
        node_exporter.stop()
        await svc.stop()
