"""policy: the DC. Acts while its node's membership view elects it; turns every relevant change into a plan.

Thin glue: the decisions are the scheduler's (a pure function, run in a worker
thread), the execution is the transition engine's, the DC role is the
membership view's (``mandate.py``), and what the DC knows better than the CIB
is laid over its copy before each plan (``overlay.py``: members from the view,
operation histories from the executors, fenced nodes from its own fencer).
This module decides *when* to plan: on CIB changes, membership changes and
failed operations, coalescing bursts of events. Nothing on the path from "a
node is lost" to "its resources run elsewhere" waits for a JetStream write:
the CIB is read with a short patience (the last copy read serves while a
stream elects its leader) and the DC's own records are written behind
(``recorder.py``).

The DC also answers ``resource why`` (``policy.explain``) from its own view of
the CIB: only the DC subscribes to that subject, so a request reaches the DC.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from paceline.policy.engine import TransitionEngine
from paceline.policy.fencer import NOT_DC_CODES, Fencer
from paceline.policy.graph import Action, Graph
from paceline.policy.histories import Histories
from paceline.policy.mandate import Mandate, mandate_of
from paceline.policy.recheck import next_recheck
from paceline.policy.recorder import CibRecorder
from paceline.policy.recovery import RecoveryClock
from paceline.policy.scheduler import schedule
from paceline.shared import VERSION, admission, bus, cib
from paceline.shared.cluster import remote_nodes
from paceline.shared.cluster.overlay import Known, lay_over
from paceline.shared.dc_facts import facts_of
from paceline.shared.lrm import OpResult
from paceline.shared.messages import (
    CibChanged,
    CibCluster,
    CibDocument,
    CibPatch,
    CibQuery,
    DcAnnouncement,
    DcFacts,
    DcFactsQuery,
    ExplainReply,
    ExplainRequest,
    Fenced,
    MembershipQuery,
    MembershipViewMessage,
    OperationResult,
    PolicyAlive,
    PolicyStatus,
    PolicyStatusQuery,
    TransitionStarted,
    pack,
)
from paceline.shared.runtime import ServiceContext
from paceline.shared.subjects import sender_of
from prometheus_client import Counter, Gauge, Histogram

IS_DC = Gauge("paceline_policy_is_dc", "1 while this instance is the DC its membership view elects")
TERM = Gauge("paceline_policy_dc_term", "The DC's term: the ring id of the membership view that elects it")
TRANSITIONS = Counter("paceline_policy_transitions_total", "Transitions run, by outcome", ["outcome"])
TRANSITION_SECONDS = Histogram("paceline_policy_transition_duration_seconds", "Wall time of one transition")
RECOVERY_SECONDS = Histogram("paceline_policy_recovery_duration_seconds",
                             "Failover time: from a member lost in the DC's view to the DC's first plan with nothing "
                             "left to do", buckets=(0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 60, 120, 300))
SCHEDULER_SECONDS = Histogram("paceline_policy_scheduler_duration_seconds", "Time the scheduler took for one plan",
                              buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
ACTIONS = Counter("paceline_policy_actions_total", "Actions dispatched, by task and outcome", ["task", "outcome"])
STEPDOWNS = Counter("paceline_policy_dc_stepdowns_total", "Times this instance stopped acting as DC, by reason "
                    "(elected: its view elects another node; fenced: its own node was fenced)", ["reason"])
STALE_PLANS = Counter("paceline_policy_plans_from_cached_cib_total",
                      "Plans made from the last CIB read because a fresh read did not answer in time")
CONFIG_ERRORS = Gauge("paceline_policy_config_errors", "Configuration errors in the CIB the DC last planned from "
                      "(a resource left out, a value replaced by its default)")
SERVICE = "policy"
#: How many configuration errors one plan logs at most (then a count).
MAX_CONFIG_ERRORS_LOGGED = 50
#: The endpoints only the DC serves: ``resource why``, and what it knows ahead of the CIB.
EXPLAIN = "explain"
FACTS = "facts"
DC_ENDPOINTS = (EXPLAIN, FACTS)
#: How long a plan waits for a fresh read of the CIB before it uses the last copy read (JetStream elections).
CIB_PATIENCE = 0.3
#: How soon a plan made from a cached CIB is made again (by then the read may answer).
STALE_RECHECK = 0.5
#: How long a policy instance that is not DC waits after a CIB change before refreshing its copy.
CACHE_REFRESH_DELAY = 0.3
#: The longest wait between tries while the store cannot answer a standby DC's refresh.
CACHE_REFRESH_MAX_DELAY = 2.0


def op_result(msg: OperationResult) -> OpResult:
    """The result model of an operation result read off the bus."""
    return OpResult(**msg.to_body())


@dataclass(frozen=True)
class CibCopy:
    root: cib.Element
    version: str


def newer(a: str, b: str) -> bool:
    """Whether CIB version ``a`` is above ``b`` ("" is below every version)."""
    if not b:
        return bool(a)
    try:
        return cib.Version.parse(a) > cib.Version.parse(b)
    except cib.CibError:
        return False


class Policy:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx
        self.s = ctx.subjects
        self.me = ctx.cfg.node or f"policy-{id(self):x}"
        self.incarnation = secrets.token_hex(8)
        self.views: dict[str, MembershipViewMessage] = {}  # node -> latest membership view it published
        self.recovery = RecoveryClock()
        self.view_changed: dict[str, float] = {}  # node -> when its view's members last changed
        self.seen: set[str] = set()  # every node our own node's views have ever listed
        #: Nodes our own views listed since they were last fenced: gone, they are unclean (see known()).
        self.unfenced: set[str] = set()
        self.wake = asyncio.Event()
        self.engine = TransitionEngine(self.dispatch)
        self.histories = Histories(ctx.nc, self.s, ctx.log)
        self.remote_nodes: frozenset[str] = frozenset()  # remote and guest nodes, as last planned with
        self.recorder = CibRecorder(ctx.nc, self.s, ctx.log)
        self.fencer = Fencer(ctx.nc, self.s, self.me, self.mandate, self.members, ctx.log,
                             root=self.fencing_root, record=self.record_fenced)
        self.transition_id = 0
        self.running = False
        self.recheck_in: float | None = None  # seconds until a plan is due without any event
        self.check_unseen_nodes = False  # a new DC first marks nodes it cannot see as down
        self.dc: Mandate | None = None  # the mandate we act under, while we are DC
        # Our own node was fenced: its ring id then; we act as DC again only under a newer view
        self.fenced_at_ring: int | None = None
        self.fenced_ops: dict[str, list[dict[str, Any]]] = {}  # nodes we fenced -> their recorded state
        self.cib_copy: CibCopy | None = None  # the last CIB read
        self.cib_latest = ""  # the newest CIB version a change event announced
        self.plan_root: cib.Element | None = None  # the working CIB of the transition running now
        self.recorded_facts: dict[str, str] = {}
        #: The configuration version and errors last logged (see report_config_errors)
        self.config_errors_logged: tuple[tuple[int, int], tuple[str, ...]] = ((-1, -1), ())
        self.refused = False  # an executor refused our mandate during the transition
        self._refreshing: asyncio.Task[None] | None = None
        self.log = ctx.log
        self.svc: bus.MicroService | None = None  # set by run(): the explain endpoint follows the DC role

    # ---------------------------------------------------------------- membership and the DC role
    def view(self) -> MembershipViewMessage | None:
        """The view of our own node (the one whose election we follow)."""
        return self.views.get(self.ctx.cfg.node) if self.ctx.cfg.node else None

    def mandate(self) -> Mandate | None:
        """The mandate our node's current view gives us; None when it elects another node (or no one)."""
        view = self.view()
        if self.fenced_at_ring is not None:
            if view is None or view.ring_id <= self.fenced_at_ring:
                return None
            self.fenced_at_ring = None
        return mandate_of(self.me, view)

    async def update_role(self) -> None:
        """Start or stop acting as DC as our node's view now says."""
        mandate = self.mandate()
        was = self.dc
        self.dc = mandate
        if (mandate is None) != (was is None):
            self.histories.forget_all()
        TERM.set(mandate.term if mandate else 0)
        IS_DC.set(1 if mandate else 0)
        if mandate is None:
            self.recovery.not_dc()
        if mandate is not None and was is None:
            self.log.info("became DC", term=mandate.term, members=list(mandate.members))
            self.check_unseen_nodes = True
            self.recorded_facts = {}
            with contextlib.suppress(Exception):  # only an announcement; the bus may be down right now
                await self.ctx.nc.publish(self.s.dc, pack(DcAnnouncement(node=self.me, term=mandate.term)))
            await self.serve_dc_endpoints(True)
            self.trigger()
        elif mandate is None and was is not None:
            self.step_down("fenced" if self.fenced_at_ring is not None else "elected")
            await self.serve_dc_endpoints(False)

    def step_down(self, reason: str) -> None:
        """Stop acting as DC: no new dispatches (the mandate is gone), the running transition ends."""
        STEPDOWNS.labels(reason).inc()
        self.recorder.drop("cluster")  # our "dc-uuid" must not land after our successor's
        view = self.view()
        self.log.warning("stepped down as DC", reason=reason, dc=view.dc if view else "")
        self.engine.abort()

    async def on_fenced(self, event: Fenced, subject: str) -> None:
        """Our own node was fenced: a fenced machine runs no DC, so this one stops at once and acts again only
        under a newer membership view (the node rejoined, as a rebooted DC would). Another node's fencing
        makes it clean (:meth:`note_fenced`). Either counts only when its sender is the DC it names, and our
        own fencing only when that is the DC our view elects (:func:`admission.fencing_refusal`)."""
        sender = sender_of(subject)
        if refused := admission.misattributed(sender, event.dc):
            self.log.warning("ignored a fencing result", target=event.target, reason=refused)
            return
        self.note_fenced(event)
        if event.target != self.ctx.cfg.node or event.result != "ok" or event.action == "on":
            return
        view = self.view()
        refused = admission.fencing_refusal(view.dc if view else "", sender, event.dc)
        if refused:
            self.log.warning("ignored a fencing result for our node", reason=refused, by=sender)
            return
        self.fenced_at_ring = view.ring_id if view else 0
        self.log.warning("our node was fenced: leaving the DC role", by=event.by, action=event.action)
        self.engine.abort()
        await self.update_role()

    async def on_view(self, view: MembershipViewMessage, subject: str) -> None:
        node = view.node or subject.rsplit(".", 1)[-1]
        self.log.debug("membership view", of=node, ring_id=view.ring_id, members=list(view.members), dc=view.dc)
        self.record_view(node, view)
        await self.update_role()
        self.abandon_lost_actions()
        self.trigger(abort=True)

    def abandon_lost_actions(self) -> None:
        """Actions in flight on nodes our view no longer lists will not be answered (their executor went
        with the node): fail them now, as Pacemaker's controller does, rather than hold every re-plan -
        quorum loss, recovery elsewhere - until their timeout. Fencing runs elsewhere and is kept."""
        view = self.view()
        if view is None or not self.running:
            return
        # A remote node is never a member: its loss shows as its connection's failed monitor, not here.
        members = set(view.members) | self.remote_nodes
        lost = self.engine.abandon(lambda a: a.task != "stonith" and bool(a.node) and a.node not in members)
        for action in lost:
            self.log.warning("gave up an action on a lost node", action=action.key, node=action.node)

    def record_view(self, node: str, view: MembershipViewMessage) -> None:
        """Keep a node's newest view, when its members changed, and every node our own views listed."""
        old = self.views.get(node)
        if old is not None and view.ring_id < old.ring_id:
            return
        self.views[node] = view
        if old is None or old.members != view.members:
            self.view_changed[node] = time.monotonic()
        if node == self.ctx.cfg.node:
            self.recovery.view(old.members if old is not None else None, view.members, time.monotonic())
            self.seen.update(view.members)
            self.unfenced.update(view.members)

    def note_fenced(self, event: Fenced) -> None:
        """Any DC's successful off or reboot of a node that is not a member makes it clean until it is back."""
        view = self.view()
        if event.result == "ok" and event.action in ("off", "reboot") and (
                view is None or event.target not in view.members):
            self.unfenced.discard(event.target)

    async def fetch_view(self) -> None:
        if not self.ctx.cfg.node:
            return
        with contextlib.suppress(bus.BusUnavailable, bus.RemoteError):
            view = await bus.call(self.ctx.nc, self.s.membership_query(self.ctx.cfg.node), MembershipQuery(),
                                  MembershipViewMessage, timeout=1, service=SERVICE)
            self.record_view(self.ctx.cfg.node, view)
            await self.update_role()

    async def alive_loop(self) -> None:
        """Tell our node's membership, every heartbeat interval, that this policy instance runs: only then
        does it offer the node as a DC candidate (a dead or hung policy is not elected)."""
        if not self.ctx.cfg.node:
            return
        alive = pack(PolicyAlive(node=self.ctx.cfg.node, incarnation=self.incarnation))
        subject = self.s.policy_alive(self.ctx.cfg.node)
        while not self.ctx.stopping.is_set():
            with contextlib.suppress(Exception):  # the bus may be down: membership then drops us, rightly
                await self.ctx.nc.publish(subject, alive)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.ctx.stopping.wait(), self.ctx.cfg.heartbeat_interval)

    async def serve_dc_endpoints(self, on: bool) -> None:
        """Subscribe to what only the DC answers (``policy.explain``, ``policy.facts``) while DC; a bus hiccup
        is only logged."""
        if self.svc is None:
            return
        try:
            for endpoint in DC_ENDPOINTS:
                await self.svc.serve(endpoint, on)
        except Exception as exc:  # the next role change tries again
            self.log.warning("cannot change the DC-only endpoints", serve=on, error=str(exc) or type(exc).__name__)

    # ---------------------------------------------------------------- triggers
    def trigger(self, abort: bool = False) -> None:
        if abort and self.running:
            self.engine.abort()
        self.wake.set()

    async def on_cib_changed(self, event: CibChanged, subject: str) -> None:
        if newer(event.new, self.cib_latest):
            self.cib_latest = event.new
        if self.dc is None:
            self.refresh_copy_soon()
        expected = event.client == "executor" and event.scope == "status"
        self.trigger(abort=not expected)

    async def on_executor_event(self, event: OperationResult, subject: str) -> None:
        if op_result(event).failed:
            self.trigger(abort=True)

    # ---------------------------------------------------------------- the CIB
    async def read_cib(self, timeout: float = 5.0) -> tuple[cib.Element, str]:
        """The CIB as the cib-store has it, and its version (kept as the copy a plan may fall back on)."""
        reply = await bus.call(self.ctx.nc, self.s.cib("query"), CibQuery(fresh=True), CibDocument,
                               timeout=timeout, service=SERVICE)
        root = cib.parse_cib(reply.xml)
        self.cib_copy = CibCopy(copy.deepcopy(root), reply.version)
        if newer(reply.version, self.cib_latest):
            self.cib_latest = reply.version
        return root, reply.version

    def refresh_copy_soon(self) -> None:
        """Keep the copy of a standby DC close to the CIB, so that it can plan at once when it takes over
        while the CIB's stream has no leader (coalesced: one read after a burst of changes)."""
        if self._refreshing is not None and not self._refreshing.done():
            return

        async def refresh() -> None:
            # Until the copy holds the newest version announced: changes announced while a read was on its
            # way are not in its answer, and a read the store could not answer leaves the copy behind.
            delay = CACHE_REFRESH_DELAY
            while self.dc is None and self.copy_behind():
                await asyncio.sleep(delay)
                try:
                    await self.read_cib()
                except (bus.BusUnavailable, bus.RemoteError, cib.CibError):
                    delay = min(delay * 2, CACHE_REFRESH_MAX_DELAY)

        self._refreshing = asyncio.get_running_loop().create_task(refresh())

    def copy_behind(self) -> bool:
        """Whether a newer CIB version was announced than the copy we hold."""
        return self.cib_copy is None or newer(self.cib_latest, self.cib_copy.version)

    async def working_cib(self) -> tuple[cib.Element, str, bool]:
        """The CIB to plan from, its version, and whether it is known to be current.

        The last copy read is current when no change was announced since; else the CIB is read, and if no
        answer comes within :data:`CIB_PATIENCE` (the stream has no leader) the last copy serves.
        """
        held = self.cib_copy
        if held is not None and held.version == self.cib_latest:
            return copy.deepcopy(held.root), held.version, True
        try:
            root, version = await self.read_cib(timeout=CIB_PATIENCE)
            return root, version, True
        except (bus.BusUnavailable, bus.RemoteError) as exc:
            if held is None:
                raise
            STALE_PLANS.inc()
            self.log.warning("planning from the last CIB read: a fresh read did not answer in time",
                             version=held.version, newest=self.cib_latest, error=str(exc))
            return copy.deepcopy(held.root), held.version, False

    async def fencing_root(self) -> cib.Element:
        """The fencer's CIB: the transition's own working copy (no read on the recovery path)."""
        if self.plan_root is not None:
            return self.plan_root
        root, _version, _current = await self.working_cib()
        return root

    async def record_fenced(self, target: str, ops: list[dict[str, Any]]) -> None:
        """A node was fenced: plan with it at once (cleanly down, running nothing), record it behind."""
        self.fenced_ops[target] = ops
        self.unfenced.discard(target)
        self.histories.forget(target)
        self.recorder.record("patch", CibPatch(target, ops, SERVICE), f"fenced {target}")

    # ---------------------------------------------------------------- what the DC knows
    def cluster_facts(self, root: cib.Element) -> dict[str, str]:
        """What the DC asserts about the cluster: itself as DC, and quorum as its membership view says."""
        node = cib.node_by_uname(root, self.me)
        attrs = {"dc-uuid": (node.get("id") if node is not None else None) or self.me}
        view = self.view()
        if view is not None:
            attrs["have-quorum"] = "1" if view.quorate else "0"
        return attrs

    def record_cluster_facts(self, root: cib.Element, attrs: dict[str, str]) -> None:
        """Write the facts behind when the CIB says otherwise (the plan already uses them); not again while
        the same write is still queued."""
        if all(root.get(k) == v for k, v in attrs.items()):
            return
        if attrs == self.recorded_facts and self.recorder.pending:
            return
        self.recorded_facts = dict(attrs)
        self.recorder.record("cluster", CibCluster(attrs=dict(attrs), client=SERVICE), "DC and quorum")

    def known_gone(self, node: str) -> bool:
        """Membership says ``node`` is gone: it was a member and was lost, or our view has settled without
        it. Just after start-up a peer not yet heard from is presumed alive."""
        view = self.view()
        if view is None:
            return False
        if node in view.members:
            return False
        return node in self.seen or self.view_settled_in() == 0

    def view_settled_in(self) -> float:
        """Seconds until our view is old enough that every live peer would have been heard from."""
        settle = self.ctx.cfg.token_timeout + 2 * self.ctx.cfg.heartbeat_interval
        since = self.view_changed.get(self.ctx.cfg.node or "", 0.0)
        return max(0.0, since + settle - time.monotonic())

    def known(self, root: cib.Element) -> Known:
        """What the DC lays over the CIB: members, nodes known gone, the executors' histories, fenced nodes."""
        view = self.view()
        members = frozenset(view.members if view else ())
        for node in members:  # a fenced node that is back runs what its new executor says
            self.fenced_ops.pop(node, None)
        nodes = set(cib.node_names(root)) | {ns.get("uname") or "" for ns in root.iterfind("status/node_state")}
        nodes -= set(remote_nodes.remote_node_names(root))  # up or down by their connection, not by membership
        gone = frozenset(n for n in nodes if n and self.known_gone(n))
        return Known(members=members, gone=gone, unclean=gone & self.unfenced, histories=self.histories.lrm(),
                     fenced=dict(self.fenced_ops))

    async def lay_known_over(self, root: cib.Element, members: Iterable[str]) -> dict[str, str]:
        """Make ``root`` (a copy of the CIB) what the DC plans with: the members' histories fetched, what the
        DC knows laid over, and the DC and quorum facts it asserts set (returned), not the CIB's."""
        self.remote_nodes = frozenset(remote_nodes.remote_node_names(root))
        await self.histories.refresh([*members, *self.remote_nodes])  # a remote node's executor holds its own
        lay_over(root, self.known(root))
        facts = self.cluster_facts(root)
        for name, value in facts.items():
            root.set(name, value)
        return facts

    def mark_unseen_down(self, cib_root: cib.Element) -> bool:
        """Nodes the CIB still shows online but no member can see (the whole cluster restarted while they
        were gone, so no survivor saw them leave) are recorded as out of the membership, as Pacemaker's new
        DC does (the plan already treats them so). Their ``expected`` stays: one that was a member is
        unclean, and fenced when fencing is enabled. Only once our own view has settled; False when it is
        too early to tell."""
        if self.view() is None or self.view_settled_in() > 0:
            return False
        for ns in cib_root.iterfind("status/node_state"):
            uname = ns.get("uname")
            if uname and ns.get("crmd") == "online" and self.known_gone(uname):
                self.log.info("marking unseen node down", node=uname)
                ops: list[dict[str, object]] = [{"op": "node_state", "attrs": dict(cib.NODE_STATE_LOST)}]
                self.recorder.record("patch", CibPatch(uname, ops, SERVICE), f"{uname} down")
        return True

    # ---------------------------------------------------------------- planning
    async def plan_loop(self) -> None:
        while not self.ctx.stopping.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.recheck_in)
            self.wake.clear()
            if self.dc is None:
                continue  # becoming DC triggers a plan
            await asyncio.sleep(self.ctx.cfg.replan_delay)  # let a burst of events settle
            self.wake.clear()
            try:
                await self.plan_once()
            except (bus.BusUnavailable, bus.RemoteError) as exc:
                self.log.warning("planning failed, will retry", error=str(exc))
                await asyncio.sleep(0.2)
                self.wake.set()
            except Exception:
                self.log.exception("planning failed")
                await asyncio.sleep(0.5)
                self.wake.set()

    async def explain(self, req: ExplainRequest) -> ExplainReply:
        """``resource why``: every contribution to the resource's score on every node, from the CIB as the DC
        plans with it (what it knows laid over, and the quorum and DC facts it asserts)."""
        if self.dc is None:  # stepping down: the next DC answers the asker's retry
            raise bus.UserError("this policy instance is no longer the DC; ask again", code="not-dc")
        root, _version, _current = await self.working_cib()
        await self.lay_known_over(root, self.members())
        # from the module itself: the package's ``explain`` name is shadowed by the module once it is loaded
        from paceline.policy.scheduler.explain import explain as explain_resource  # on use: only ``why`` needs it

        try:
            found = await asyncio.to_thread(explain_resource, root, req.rsc, time.time())
        except KeyError:
            raise bus.UserError(f"resource why: no resource {req.rsc!r}", code="no-such-resource") from None
        return ExplainReply(text=found.text())

    async def status(self, _query: PolicyStatusQuery) -> PolicyStatus:
        """``policy.status.<node>``: this instance, DC or not, its term and holder, its last transition."""
        view = self.view()
        return PolicyStatus(node=self.me, is_dc=self.dc is not None, term=view.ring_id if view else 0,
                            holder=view.dc if view else "", transition=self.transition_id,
                            cib_copy=self.cib_copy.version if self.cib_copy else "")

    async def facts(self, _query: DcFactsQuery) -> DcFacts:
        """``policy.facts``: what this DC lays over the CIB now, for readers that show the cluster (see
        :mod:`paceline.shared.dc_facts`); the nodes are the last CIB copy's (read only if there is none yet)."""
        if self.dc is None:
            raise bus.UserError("this policy instance is no longer the DC; ask again", code="not-dc")
        root = self.cib_copy.root if self.cib_copy is not None else (await self.working_cib())[0]
        return facts_of(self.known(root), self.me)

    async def plan_once(self) -> None:
        mandate = self.dc
        if mandate is None:
            return
        root, version, current = await self.working_cib()
        if self.check_unseen_nodes and self.mark_unseen_down(root):
            self.check_unseen_nodes = False
        self.record_cluster_facts(root, self.cluster_facts(root))
        facts = await self.lay_known_over(root, mandate.members)
        started = time.perf_counter()
        now = time.time()
        result = await asyncio.to_thread(schedule, root, now)
        SCHEDULER_SECONDS.observe(time.perf_counter() - started)
        self.report_config_errors(root, version, result.state.config_errors)
        self.recheck_in = next_recheck(result.state, now)
        if self.check_unseen_nodes:
            self.recheck_in = min(self.recheck_in, self.view_settled_in() + 0.05)
        if not current:
            self.recheck_in = min(self.recheck_in, STALE_RECHECK)
        graph: Graph = result.graph
        self.log.debug("planned", cib=version, actions=len(graph.actions), facts=facts, current=current,
                       scheduler_ms=round((time.perf_counter() - started) * 1000, 1))
        if not graph.actions and current and self.dc == mandate and (
                seconds := self.recovery.settled(time.monotonic())):
            RECOVERY_SECONDS.observe(seconds)
            self.log.info("settled after losing a member", seconds=round(seconds, 3))
        if not graph.actions or self.dc != mandate:
            return  # nothing to do, or the view changed while we planned: the plan is stale already
        await self.run_transition(graph, root, version, result.summary, mandate)

    def report_config_errors(self, root: cib.Element, version: str, errors: list[str]) -> None:
        """Log what of the configuration the plan could not use, once per configuration version.

        The DC plans after every operation result and every status change; the same lines each time would
        bury everything else, so they are logged again only when the configuration (admin_epoch, epoch)
        changes or the errors do (a status change can bring a history entry's). The plan itself goes on
        without what they name, as Pacemaker's does. At most :data:`MAX_CONFIG_ERRORS_LOGGED` lines, then a
        count: ``paceline simulate -V`` on the CIB lists them all.
        """
        v = cib.version(root)
        key = ((v.admin_epoch, v.epoch), tuple(errors))
        if key == self.config_errors_logged:
            return
        self.config_errors_logged = key
        CONFIG_ERRORS.set(len(errors))
        for error in errors[:MAX_CONFIG_ERRORS_LOGGED]:
            self.log.error("configuration error", error=error, cib=version)
        if len(errors) > MAX_CONFIG_ERRORS_LOGGED:
            self.log.error("more configuration errors", count=len(errors) - MAX_CONFIG_ERRORS_LOGGED, cib=version)

    async def run_transition(self, graph: Graph, root: cib.Element, version: str, summary: list[str],
                             mandate: Mandate) -> None:
        self.transition_id += 1
        graph.transition_id = self.transition_id
        self.log.info("transition", id=graph.transition_id, actions=len(graph.actions), cib=version,
                      term=mandate.term, summary=[line.strip() for line in summary])
        await self.ctx.nc.publish(self.s.transition, pack(TransitionStarted(
            term=mandate.term, cib_version=version, transition_id=graph.transition_id,
            actions=[a.to_body() for a in graph.actions])))
        self.running, self.plan_root, self.refused = True, root, False
        try:
            outcome = await self.engine.run(graph)
        finally:
            self.running, self.plan_root = False, None
        TRANSITION_SECONDS.observe(outcome.seconds)
        kind = "complete" if outcome.ok else ("aborted" if outcome.aborted else "failed")
        TRANSITIONS.labels(kind).inc()
        for action, error in outcome.failed:
            self.log.warning("action failed", action=action.key, node=action.node, error=error)
        if self.refused:  # views still differ somewhere: give them a heartbeat to agree before planning again
            await asyncio.sleep(self.ctx.cfg.heartbeat_interval)
        if outcome.completed == 0 and not outcome.failed and not outcome.aborted and outcome.skipped:
            # Nothing could run (the graph waits on itself): the same plan would come back at once. Pacemaker's
            # DC goes idle on such an incomplete transition; so does this one, until a change or the recheck.
            self.log.warning("transition stalled", id=graph.transition_id, actions=outcome.skipped)
            return
        self.wake.set()  # the executors hold every result: plan again until nothing is left to do

    def members(self) -> list[str]:
        """The nodes our membership view says are up (where fence agents may run)."""
        view = self.view()
        return list(view.members) if view else ([self.ctx.cfg.node] if self.ctx.cfg.node else [])

    async def dispatch(self, action: Action) -> OpResult:
        mandate = self.dc
        if mandate is None:
            raise RuntimeError("no longer DC")
        if action.task == "stonith":  # the victim cannot run it: the fencer picks a device and a node
            result = await self.fencer.fence(action)
            ACTIONS.labels(action.task, "failed" if result.failed else "ok").inc()
            return result
        request = action.request(mandate.term, self.transition_id, mandate.dc, mandate.members)
        timeout = action.timeout_ms / 1000 + 5
        try:
            reply = await bus.call(self.ctx.nc, self.s.executor_action(action.node or ""), request, OperationResult,
                                   timeout=timeout, service=SERVICE)
        except bus.RemoteError as exc:
            ACTIONS.labels(action.task, "refused" if exc.code in NOT_DC_CODES else "undelivered").inc()
            self.refused = self.refused or exc.code in NOT_DC_CODES
            raise
        except Exception:
            ACTIONS.labels(action.task, "undelivered").inc()
            raise
        result = op_result(reply)
        ok = not result.failed and result.rc == action.expected_rc
        ACTIONS.labels(action.task, "ok" if ok else "failed").inc()
        return result


def declare_endpoints(policy: Policy, svc: bus.MicroService) -> bus.MicroService:
    """The policy's endpoints on ``svc`` (not started): its own status, and those only the DC serves, which
    follow the role (:meth:`Policy.serve_dc_endpoints`)."""
    s = policy.s
    svc.endpoint("status", s.policy_status(policy.me), policy.status, PolicyStatusQuery)
    svc.endpoint(EXPLAIN, s.policy_explain, policy.explain, ExplainRequest, concurrent=True, standby=True)
    svc.endpoint(FACTS, s.policy_facts, policy.facts, DcFactsQuery, concurrent=True, standby=True)
    policy.svc = svc
    return svc


async def run(ctx: ServiceContext) -> None:
    policy = Policy(ctx)
    s = ctx.subjects
    await bus.subscribe(ctx.nc, SERVICE, s.views, policy.on_view, MembershipViewMessage)
    await bus.subscribe(ctx.nc, SERVICE, s.cib_changed, policy.on_cib_changed, CibChanged)
    await bus.subscribe(ctx.nc, SERVICE, s.executor_events, policy.on_executor_event, OperationResult)
    await bus.subscribe(ctx.nc, SERVICE, s.fenced, policy.on_fenced, Fenced)
    svc = declare_endpoints(policy, bus.MicroService(ctx.nc, SERVICE, VERSION, metadata={"node": ctx.cfg.node}))
    await svc.start()
    policy.refresh_copy_soon()
    tasks = [asyncio.create_task(policy.alive_loop()), asyncio.create_task(policy.plan_loop())]
    await policy.fetch_view()
    await ctx.stopping.wait()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await policy.recorder.close()
    await svc.stop()
