"""policy: the DC. Holds the lease, turns every relevant change into a new plan, and executes it.

Thin glue: the decisions are the scheduler's (a pure function, run in a worker
thread so lease renewals never stall behind a big plan), the execution is the
transition engine's. This module only decides *when* to plan: on CIB changes,
membership changes and failed operations, coalescing bursts of events. The DC
also answers ``resource why`` (``policy.explain``) from its own view of the
CIB: only the DC subscribes to that subject, so a request reaches the DC.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from paceline.policy.engine import TransitionEngine
from paceline.policy.fencer import Fencer
from paceline.policy.graph import Action, Graph
from paceline.policy.lease import Lease
from paceline.policy.recheck import next_recheck
from paceline.policy.scheduler import schedule
from paceline.shared import VERSION, bus, cib, jetstream
from paceline.shared.lrm import OpResult
from paceline.shared.messages import (
    CibChanged,
    CibCluster,
    CibDocument,
    CibPatch,
    CibQuery,
    CibWriteReply,
    DcAnnouncement,
    ExplainReply,
    ExplainRequest,
    Fenced,
    MembershipQuery,
    MembershipViewMessage,
    OperationResult,
    PolicyStatus,
    PolicyStatusQuery,
    TransitionStarted,
    pack,
)
from paceline.shared.runtime import ServiceContext
from prometheus_client import Counter, Gauge, Histogram

IS_DC = Gauge("paceline_policy_is_dc", "1 while this instance holds the DC lease")
TERM = Gauge("paceline_policy_dc_term", "Term of the DC lease as this instance last saw it")
TRANSITIONS = Counter("paceline_policy_transitions_total", "Transitions run, by outcome", ["outcome"])
TRANSITION_SECONDS = Histogram("paceline_policy_transition_duration_seconds", "Wall time of one transition")
SCHEDULER_SECONDS = Histogram("paceline_policy_scheduler_duration_seconds", "Time the scheduler took for one plan",
                              buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
ACTIONS = Counter("paceline_policy_actions_total", "Actions dispatched, by task and outcome", ["task", "outcome"])
STEPDOWNS = Counter("paceline_policy_dc_stepdowns_total", "Times this instance stopped acting as DC, by reason "
                    "(unproven: renewals failed for the TTL less its margin; deposed; ineligible)", ["reason"])
SERVICE = "policy"
#: The endpoint only the DC serves.
EXPLAIN = "explain"


def op_result(msg: OperationResult) -> OpResult:
    """The result model of an operation result read off the bus."""
    return OpResult(**msg.to_body())


class Policy:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx
        self.s = ctx.subjects
        self.me = ctx.cfg.node or f"policy-{id(self):x}"
        self.lease = Lease(ctx.nc.jetstream(), self.s.lease_bucket, self.me, ctx.cfg.lease_ttl,
                           replicas=jetstream.wanted_replicas(ctx.cfg.replicas, ctx.nc))
        self.views: dict[str, MembershipViewMessage] = {}  # node -> latest membership view it published
        self.view_changed: dict[str, float] = {}  # node -> when its view's members last changed
        self.seen: set[str] = set()  # every node our own node's views have ever listed
        self.wake = asyncio.Event()
        self.campaign_now = asyncio.Event()  # run a lease step at once (our node was fenced)
        self.engine = TransitionEngine(self.dispatch)
        self.fencer = Fencer(ctx.nc, self.s, self.me, lambda: self.lease.term, self.members, ctx.log)
        self.transition_id = 0
        self.running = False
        self.recheck_in: float | None = None  # seconds until a plan is due without any event
        self.check_unseen_nodes = False  # a new DC first marks nodes it cannot see as down
        self.missed_plan = False  # a wake-up came while the lease was not provably ours
        # Our own node was fenced: (its ring id then, until when at most) we stay out of the DC campaign
        self.fenced: tuple[int, float] | None = None
        self.log = ctx.log
        self.svc: bus.MicroService | None = None  # set by run(): the explain endpoint follows the DC role

    # ---------------------------------------------------------------- membership
    def view(self) -> MembershipViewMessage | None:
        """The view of our own node when we have one, else the newest view anyone published."""
        if self.ctx.cfg.node:
            return self.views.get(self.ctx.cfg.node)
        return max(self.views.values(), key=lambda v: v.ring_id, default=None)

    def eligible(self) -> bool:
        view = self.view()
        if not self.ctx.cfg.node:
            return True
        if self.fenced is not None:
            ring, until = self.fenced
            if (view is None or view.ring_id <= ring) and time.monotonic() < until:
                return False
            self.fenced = None
        return view is not None and self.ctx.cfg.node in view.members

    async def on_fenced(self, event: Fenced, subject: str) -> None:
        """Our own node was fenced: a fenced machine runs no DC, so this one gives the lease up at once and
        campaigns again only once its node has rejoined (a newer membership ring), as a rebooted DC would."""
        if event.target != self.ctx.cfg.node or event.result != "ok" or event.action == "on":
            return
        view = self.view()
        holdoff = 2 * (self.ctx.cfg.token_timeout + self.ctx.cfg.lease_ttl)
        self.fenced = (view.ring_id if view else 0, time.monotonic() + holdoff)
        self.log.warning("our node was fenced: leaving the DC role", by=event.by, action=event.action)
        self.engine.abort()
        self.campaign_now.set()

    async def on_view(self, view: MembershipViewMessage, subject: str) -> None:
        node = view.node or subject.rsplit(".", 1)[-1]
        self.log.debug("membership view", of=node, ring_id=view.ring_id, members=list(view.members))
        self.record_view(node, view)
        self.abandon_lost_actions()
        self.trigger(abort=True)

    def abandon_lost_actions(self) -> None:
        """Actions in flight on nodes our view no longer lists will not be answered (their executor went
        with the node): fail them now, as Pacemaker's controller does, rather than hold every re-plan -
        quorum loss, recovery elsewhere - until their timeout. Fencing runs elsewhere and is kept."""
        view = self.view()
        if view is None or not self.running:
            return
        members = set(view.members)
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
            self.seen.update(view.members)

    async def fetch_view(self) -> None:
        if not self.ctx.cfg.node:
            return
        with contextlib.suppress(bus.BusUnavailable, bus.RemoteError):
            view = await bus.call(self.ctx.nc, self.s.membership_query(self.ctx.cfg.node), MembershipQuery(),
                                  MembershipViewMessage, timeout=1, service=SERVICE)
            self.record_view(self.ctx.cfg.node, view)

    # ---------------------------------------------------------------- triggers
    def trigger(self, abort: bool = False) -> None:
        if abort and self.running:
            self.engine.abort()
        self.wake.set()

    async def on_cib_changed(self, event: CibChanged, subject: str) -> None:
        expected = event.client == "executor" and event.scope == "status"
        self.trigger(abort=not expected)

    async def on_executor_event(self, event: OperationResult, subject: str) -> None:
        if op_result(event).failed:
            self.trigger(abort=True)

    # ---------------------------------------------------------------- DC duties
    async def lease_step(self) -> None:
        """Renew or try to take the lease; a node that is not a member of its own view gives it up."""
        if self.eligible():
            await self.lease.acquire_or_renew(self.known_gone)
        else:
            if self.lease.recorded_as_holder:
                await self.lease.release()
            self.lease.state = await self.lease.read()

    async def campaign_loop(self) -> None:
        was_dc = False
        while not self.ctx.stopping.is_set():
            step_ok = True
            try:
                # A holder's step may not outlast its proof: a renewal hanging on a cut-off bus must not
                # keep it acting until after another node may legally take over.
                await asyncio.wait_for(self.lease_step(), self.lease.proof_left() if self.lease.held else None)
            except Exception as exc:  # bus trouble: the proof of the last renewal still counts until it runs out
                step_ok = False
                self.log.warning("lease step failed", error=str(exc) or type(exc).__name__,
                                 proof_left=round(self.lease.proof_left(), 3))
            is_dc = self.lease.held
            TERM.set(self.lease.term)
            IS_DC.set(1 if is_dc else 0)
            if is_dc and not was_dc:
                self.log.info("became DC", term=self.lease.term)
                self.check_unseen_nodes = True
                await self.ctx.nc.publish(self.s.dc, pack(DcAnnouncement(node=self.me, term=self.lease.term)))
                self.trigger()
            elif was_dc and not is_dc:
                self.step_down()
            if is_dc and self.missed_plan:
                self.missed_plan = False
                self.trigger()
            await self.serve_dc_endpoints(is_dc)
            was_dc = is_dc
            retry = min(0.25, self.ctx.cfg.lease_ttl / 4)
            interval = (self.ctx.cfg.lease_ttl / 3 if step_ok else retry) if is_dc else retry
            if is_dc:  # wake up when the proof runs out, to step down on time even if nothing else happens
                interval = min(interval, self.lease.proof_left())
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop_or_campaign(), interval)
            self.campaign_now.clear()

    async def serve_dc_endpoints(self, on: bool) -> None:
        """Subscribe to what only the DC answers (``policy.explain``) while DC; a bus hiccup is only logged."""
        if self.svc is None:
            return
        try:
            await self.svc.serve(EXPLAIN, on)
        except Exception as exc:  # tried again at the next campaign step
            self.log.warning("cannot change the DC-only endpoints", serve=on, error=str(exc) or type(exc).__name__)

    async def _stop_or_campaign(self) -> None:
        stopping = asyncio.ensure_future(self.ctx.stopping.wait())
        now = asyncio.ensure_future(self.campaign_now.wait())
        try:
            await asyncio.wait({stopping, now}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            now.cancel()

    def step_down(self) -> None:
        """Stop acting as DC: no new dispatches (``lease.held`` is already false), the running transition ends."""
        # unproven: still ours in the bucket as far as we know, but not renewed in time
        reason = "unproven" if self.lease.recorded_as_holder else "deposed" if self.eligible() else "ineligible"
        STEPDOWNS.labels(reason).inc()
        self.log.warning("stepped down as DC", reason=reason, term=self.lease.term,
                         holder=self.lease.state.holder if self.lease.state else "",
                         ttl=self.ctx.cfg.lease_ttl, margin=round(self.lease.margin, 3))
        self.engine.abort()

    def cluster_facts(self, root: cib.Element) -> dict[str, str]:
        """What the DC asserts about the cluster: itself as DC, and quorum as its membership view says."""
        node = cib.node_by_uname(root, self.me)
        attrs = {"dc-uuid": (node.get("id") if node is not None else None) or self.me}
        view = self.view()
        if view is not None:
            attrs["have-quorum"] = "1" if view.quorate else "0"
        return attrs

    async def record_cluster_facts(self, root: cib.Element, attrs: dict[str, str]) -> None:
        if all(root.get(k) == v for k, v in attrs.items()):
            return
        await bus.call(self.ctx.nc, self.s.cib("cluster"), CibCluster(attrs=dict(attrs), client=SERVICE),
                       CibWriteReply, service=SERVICE)

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

    async def mark_unseen_down(self, root: cib.Element) -> bool:
        """Nodes the CIB still shows online but no member can see (the whole cluster restarted while they
        were gone, so no survivor saw them leave) are recorded as down, as Pacemaker's new DC does.

        Only once our own view has settled: just after start-up, peers we have not heard from yet are
        alive. Returns False when it is too early to tell.
        """
        if self.view() is None or self.view_settled_in() > 0:
            return False
        for ns in root.iterfind("status/node_state"):
            uname = ns.get("uname")
            if uname and ns.get("crmd") == "online" and self.known_gone(uname):
                self.log.info("marking unseen node down", node=uname)
                ops: list[dict[str, object]] = [{"op": "node_state", "attrs": dict(cib.NODE_STATE_DOWN)}]
                await bus.call(self.ctx.nc, self.s.cib("patch"), CibPatch(uname, ops, SERVICE), CibWriteReply,
                               service=SERVICE)
        return True

    async def plan_loop(self) -> None:
        while not self.ctx.stopping.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.recheck_in)
            self.wake.clear()
            if not self.lease.held:
                # Not provably DC at this instant (a renewal slower than its proof, during a JetStream
                # election): the campaign loop plans again as soon as it sees the lease held, or the wake-up
                # would be lost and, with nothing else changing, no plan would ever follow.
                self.missed_plan = True
                continue
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

    async def read_cib(self) -> tuple[cib.Element, str]:
        """The CIB as the cib-store has it, and its version."""
        reply = await bus.call(self.ctx.nc, self.s.cib("query"), CibQuery(fresh=True), CibDocument, service=SERVICE)
        return cib.parse_cib(reply.xml), reply.version

    async def explain(self, req: ExplainRequest) -> ExplainReply:
        """``resource why``: every contribution to the resource's score on every node, from the CIB as the DC
        plans with it (the quorum and DC facts it asserts included)."""
        if not self.lease.held:  # stepping down: the next DC answers the asker's retry
            raise bus.UserError("this policy instance is no longer the DC; ask again", code="not-dc")
        root, _version = await self.read_cib()
        for name, value in self.cluster_facts(root).items():
            root.set(name, value)
        # from the module itself: the package's ``explain`` name is shadowed by the module once it is loaded
        from paceline.policy.scheduler.explain import explain as explain_resource  # on use: only ``why`` needs it

        try:
            found = await asyncio.to_thread(explain_resource, root, req.rsc, time.time())
        except KeyError:
            raise bus.UserError(f"resource why: no resource {req.rsc!r}", code="no-such-resource") from None
        return ExplainReply(text=found.text())

    async def plan_once(self) -> None:
        root, version = await self.read_cib()
        if self.check_unseen_nodes and await self.mark_unseen_down(root):
            self.check_unseen_nodes = False
        facts = self.cluster_facts(root)
        await self.record_cluster_facts(root, facts)
        for name, value in facts.items():  # plan with what we just asserted, not the copy read before it
            root.set(name, value)
        started = time.perf_counter()
        now = time.time()
        result = await asyncio.to_thread(schedule, root, now)
        SCHEDULER_SECONDS.observe(time.perf_counter() - started)
        self.recheck_in = next_recheck(result.state, now)
        if self.check_unseen_nodes:
            self.recheck_in = min(self.recheck_in, self.view_settled_in() + 0.05)
        graph: Graph = result.graph
        self.log.debug("planned", cib=version, actions=len(graph.actions), facts=facts,
                       scheduler_ms=round((time.perf_counter() - started) * 1000, 1))
        if not graph.actions:
            return
        self.transition_id += 1
        graph.transition_id = self.transition_id
        self.log.info("transition", id=graph.transition_id, actions=len(graph.actions), cib=version,
                      summary=[line.strip() for line in result.summary])
        await self.ctx.nc.publish(self.s.transition, pack(TransitionStarted(
            term=self.lease.term, cib_version=version, transition_id=graph.transition_id,
            actions=[a.to_body() for a in graph.actions])))
        self.running = True
        try:
            outcome = await self.engine.run(graph)
        finally:
            self.running = False
        TRANSITION_SECONDS.observe(outcome.seconds)
        kind = "complete" if outcome.ok else ("aborted" if outcome.aborted else "failed")
        TRANSITIONS.labels(kind).inc()
        for action, error in outcome.failed:
            self.log.warning("action failed", action=action.key, node=action.node, error=error)
        self.wake.set()  # results are in the CIB: plan again until nothing is left to do

    def members(self) -> list[str]:
        """The nodes our membership view says are up (where fence agents may run)."""
        view = self.view()
        return list(view.members) if view else ([self.ctx.cfg.node] if self.ctx.cfg.node else [])

    async def dispatch(self, action: Action) -> OpResult:
        if not self.lease.held:
            raise RuntimeError("no longer DC")
        if action.task == "stonith":  # the victim cannot run it: the fencer picks a device and a node
            result = await self.fencer.fence(action)
            ACTIONS.labels(action.task, "failed" if result.failed else "ok").inc()
            return result
        request = action.request(self.lease.term, self.transition_id)
        timeout = action.timeout_ms / 1000 + 5
        try:
            reply = await bus.call(self.ctx.nc, self.s.executor_action(action.node or ""), request, OperationResult,
                                   timeout=timeout, service=SERVICE)
        except Exception:
            ACTIONS.labels(action.task, "undelivered").inc()
            raise
        result = op_result(reply)
        ok = not result.failed and result.rc == action.expected_rc
        ACTIONS.labels(action.task, "ok" if ok else "failed").inc()
        return result


async def run(ctx: ServiceContext) -> None:
    policy = Policy(ctx)
    await jetstream.wait_ready(ctx.nc, ctx.log)
    await policy.lease.open()
    s = ctx.subjects
    await bus.subscribe(ctx.nc, SERVICE, s.views, policy.on_view, MembershipViewMessage)
    await bus.subscribe(ctx.nc, SERVICE, s.cib_changed, policy.on_cib_changed, CibChanged)
    await bus.subscribe(ctx.nc, SERVICE, s.executor_events, policy.on_executor_event, OperationResult)
    await bus.subscribe(ctx.nc, SERVICE, s.fenced, policy.on_fenced, Fenced)
    svc = bus.MicroService(ctx.nc, SERVICE, VERSION, metadata={"node": ctx.cfg.node})

    async def status(_query: PolicyStatusQuery) -> PolicyStatus:
        state = policy.lease.state
        return PolicyStatus(node=policy.me, is_dc=policy.lease.held, term=policy.lease.term,
                            holder=state.holder if state else "", transition=policy.transition_id)

    svc.endpoint("status", s.policy_status(policy.me), status, PolicyStatusQuery)
    svc.endpoint(EXPLAIN, s.policy_explain, policy.explain, ExplainRequest, concurrent=True, standby=True)
    policy.svc = svc
    await svc.start()
    await policy.fetch_view()
    tasks = [asyncio.create_task(policy.campaign_loop()), asyncio.create_task(policy.plan_loop())]
    await ctx.stopping.wait()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await policy.lease.release()
    await svc.stop()
