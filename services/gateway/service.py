"""gateway: the front door. Runs crm commands against the live CIB, commits staged sessions, renders status.

A crm command is applied to a private copy of the CIB the gateway just read,
and written back with the configuration version it was based on. If another
writer got in first the command is simply re-run on the fresh CIB; if it is
wrong the user gets crm's one-line error and nothing is written. An
interactive session's staged configuration arrives whole at ``commit`` and is
written only if the configuration is still the version the session started
from - a conflict is reported, never overwritten. The crm code runs in a
worker thread so that it may ask the bus lazily (agents and meta-data from the
executors, ``resource why`` from the DC), only when a command needs it. The
gateway never runs the scheduler: the DC answers ``resource why`` from its own
view of the cluster.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from paceline.crm import Context, CrmError, Outcome, run_lines
from paceline.crm.agents import AgentCatalog, merge_listings
from paceline.crm.preferences import Preferences
from paceline.crm.words import check_line
from paceline.gateway import attributes
from paceline.shared import VERSION, bus, cib, dc_facts, lrm
from paceline.shared.cluster import crm_mon as status_view
from paceline.shared.cluster import crm_mon_xml, tickets
from paceline.shared.messages import (
    AgentListing,
    AgentSpec,
    AgentsRequest,
    AgentXml,
    AttributeReply,
    AttributeRequest,
    CibCopyRequest,
    CibDocument,
    CibPatch,
    CibQuery,
    CibReplace,
    CibTickets,
    CibWriteReply,
    CommitReply,
    CommitRequest,
    CrmReply,
    CrmRequest,
    ExplainReply,
    ExplainRequest,
    GatewayAgentListing,
    GatewayAgentsRequest,
    GatewayMetadataRequest,
    Message,
    MetadataReply,
    MetadataRequest,
    NodesReply,
    NodesRequest,
    StatusReply,
    StatusRequest,
    ValidateReply,
    ValidateRequest,
)
from paceline.shared.runtime import ServiceContext
from prometheus_client import Counter

COMMANDS = Counter("paceline_gateway_crm_commands_total", "crm commands run, by outcome", ["outcome"])
SERVICE = "gateway"
MAX_ATTEMPTS = 5
#: How long ``ra validate`` waits for an executor's ``validate-all`` (agents advise 20 s for it).
VALIDATE_TIMEOUT = 25.0
#: How long ``resource why`` waits for the DC (a big cluster's scheduler run, in a worker thread there).
EXPLAIN_TIMEOUT = 20.0
T = TypeVar("T")
R = TypeVar("R", bound=Message)


#: Under a status page read from the cib-store's last good copy.
STALE_NOTE = "\n(read from a cached copy: the bus is electing the CIB's new leader; it may be seconds old)\n"
#: Over a cached copy with the DC's facts and the executors' histories laid: only the configuration may be old.
STALE_CONFIGURATION_NOTE = ("\n(configuration read from a cached copy: the bus is electing the CIB's new leader; "
                            "nodes and resources as the DC and the executors know them now)\n")


class WriteConflict(Exception):
    """The CIB kept changing under a change: it was re-run ``MAX_ATTEMPTS`` times and never written."""


class Gateway:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx
        self.s = ctx.subjects

    async def query(self, fresh: bool) -> CibDocument:
        return await bus.call(self.ctx.nc, self.s.cib("query"), CibQuery(fresh=fresh), CibDocument, service=SERVICE)

    async def read(self) -> tuple[cib.Element, str]:
        """The CIB from the bucket's leader: what a change, or a session's working copy, is based on."""
        reply = await self.query(fresh=True)
        return cib.parse_cib(reply.xml), reply.version

    async def apply(self, change: Callable[[cib.Element, cib.Element], tuple[T, bool]]) -> tuple[T, str]:
        """Run ``change(root, work)`` on a fresh copy of the CIB and write ``work`` back if it changed.

        ``change`` runs in a worker thread (crm code may ask the bus, bridged back
        to this loop) and returns its result and whether it changed ``work``. A
        lost compare-and-set re-runs it on the CIB as it is now; CrmError and the
        cib-store's refusals (as UserError) reach the caller, and WriteConflict
        after ``MAX_ATTEMPTS`` lost races.
        """
        for _attempt in range(MAX_ATTEMPTS):
            root, version = await self.read()
            work = copy.deepcopy(root)
            result, changed = await asyncio.to_thread(change, root, work)
            if not changed:
                return result, version
            try:
                return result, await self.write(root, work, version)
            except bus.RemoteError as exc:
                if exc.code == "conflict":
                    continue
                raise bus.UserError(str(exc), code=exc.code) from None
        raise WriteConflict

    # ------------------------------------------------------------ crm lines
    async def crm(self, req: CrmRequest) -> CrmReply:
        if not req.lines:
            raise bus.UserError("no command given", code="crm")
        script = req.script if req.script is not None else len(req.lines) != 1
        try:
            preferences = Preferences.from_wire(req.options)
            if not script:  # a line over the size limit is refused before the CIB is read (a script's, as it runs)
                check_line(req.lines[0])
        except CrmError as exc:
            COMMANDS.labels("rejected").inc()
            raise bus.UserError(str(exc), code="crm") from None
        loop = asyncio.get_running_loop()

        def run(root: cib.Element, work: cib.Element) -> tuple[tuple[Outcome, CrmError | None], bool]:
            outcome, failure = run_lines(work, req.lines, self.context(root, req.node, loop, preferences), script)
            return (outcome, failure), outcome.changed

        try:
            (outcome, failure), version = await self.apply(run)
        except CrmError as exc:
            COMMANDS.labels("rejected").inc()
            raise bus.UserError(str(exc), code="crm") from None
        except WriteConflict:
            COMMANDS.labels("conflict").inc()
            raise bus.UserError("the CIB kept changing under this command; try again", code="conflict") from None
        except bus.UserError:
            COMMANDS.labels("rejected").inc()
            raise
        if failure is not None:
            COMMANDS.labels("rejected").inc()
            raise bus.UserError(str(failure), code="crm", details={"output": outcome.output})
        COMMANDS.labels("ok").inc()
        return CrmReply(output=outcome.output, changed=outcome.changed, version=version)

    def context(self, root: cib.Element, local: str, loop: asyncio.AbstractEventLoop,
                preferences: Preferences | None = None) -> Context:
        """What crm may learn beyond the CIB; bus questions are bridged from the worker thread to ``loop``;
        ``preferences``: the requester's crmsh options (crmsh's defaults when not given)."""
        nodes = cib.node_names(root)

        def blocking(coro: Awaitable[T]) -> T:
            return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=30)  # type: ignore[arg-type]

        catalog = AgentCatalog(lambda: blocking(self.agent_listing(nodes)),
                               lambda c, p, t: blocking(self.agent_metadata(nodes, c, p, t)),
                               lambda c, p, t, params, rsc: blocking(self.agent_validate(nodes, local, c, p, t,
                                                                                         params, rsc)))
        return Context(local_node=local or "", agent_known=catalog.known, agent_meta=catalog.meta,
                       agents=catalog, explain=lambda rsc: blocking(self.explain(rsc)),
                       preferences=preferences or Preferences())

    async def explain(self, rsc: str) -> str:
        """``resource why``, asked of the DC (the only policy instance serving ``policy.explain``)."""
        try:
            reply = await bus.call(self.ctx.nc, self.s.policy_explain, ExplainRequest(rsc=rsc), ExplainReply,
                                   timeout=EXPLAIN_TIMEOUT, service=SERVICE)
        except bus.RemoteError as exc:
            raise CrmError(str(exc)) from None
        except bus.BusUnavailable as exc:
            raise CrmError(f"resource why: no DC answers ({exc}); the cluster has no DC right now") from None
        return reply.text

    async def write(self, before: cib.Element, after: cib.Element, version: str) -> str:
        """Write back what a command changed: configuration by version, status as per-node patches, the
        tickets' states as a change of the stored ones."""
        new_version = version
        if _configuration(before) != _configuration(after):
            reply = await bus.call(self.ctx.nc, self.s.cib("replace"), CibReplace(
                xml=cib.serialize(after, pretty=False), expected_version=version, client="crm"), CibWriteReply,
                service=SERVICE)
            new_version = reply.version or new_version
        old_states = {ns.get("uname"): ns for ns in before.iterfind("status/node_state")}
        for ns in after.iterfind("status/node_state"):
            old = old_states.get(ns.get("uname"))
            ops = lrm.status_diff(old, ns) if old is not None else []
            if ops:
                patch = CibPatch(node=ns.get("uname") or "", ops=ops, client="crm")
                reply = await bus.call(self.ctx.nc, self.s.cib("patch"), patch, CibWriteReply, service=SERVICE)
                new_version = reply.version or new_version
        changes = tickets.changes_between(tickets.tickets_element(before, False), tickets.tickets_element(after, False))
        if changes:     # the tickets' states (site ticket): written as a change of the stored ones
            reply = await bus.call(self.ctx.nc, self.s.cib("tickets"), CibTickets(changes=changes, client="crm"),
                                   CibWriteReply, service=SERVICE)
            new_version = reply.version or new_version
        return new_version

    # ------------------------------------------------------------ sessions (the interactive shell)
    async def cib_copy(self, _req: CibCopyRequest) -> CibDocument:
        """The whole CIB and its version: the working copy an interactive configure session stages on."""
        root, version = await self.read()
        return CibDocument(xml=cib.serialize(root, pretty=False), version=version)

    async def commit(self, req: CommitRequest) -> CommitReply:
        """Write a session's configuration as one CIB version, only on top of the version it started from."""
        try:
            reply = await bus.call(self.ctx.nc, self.s.cib("replace"),
                                   CibReplace(xml=req.xml, expected_version=req.expected_version, client="crm"),
                                   CibWriteReply, service=SERVICE)
        except bus.RemoteError as exc:
            if exc.code == "conflict":
                raise bus.UserError(f"commit: the configuration changed since this session read it (version "
                                    f"{req.expected_version}); nothing was written - 'refresh' and make the "
                                    "changes again", code="conflict") from None
            raise bus.UserError(f"commit: {exc}", code=exc.code) from None
        COMMANDS.labels("ok").inc()
        return CommitReply(version=reply.version, changed=reply.changed)

    # ------------------------------------------------------------ agents (the executors know)
    async def agent_listing(self, nodes: list[str]) -> dict[str, Any] | None:
        replies = await asyncio.gather(*(self._ask(self.s.executor("agents", n), AgentsRequest(), AgentListing)
                                         for n in nodes))
        answered = [r.to_body() for r in replies if r is not None]
        return merge_listings(answered) if answered else None

    async def agent_metadata(self, nodes: list[str], cls: str, provider: str, kind: str) -> str | None:
        request = MetadataRequest(agent=AgentSpec(standard=cls, type=kind, provider=provider))
        for node in nodes:
            reply = await self._ask(self.s.executor("metadata", node), request, MetadataReply, timeout=10)
            if reply is not None:
                return reply.xml
        return None

    async def agent_validate(self, nodes: list[str], local: str, cls: str, provider: str, kind: str,
                             params: dict[str, str], rsc: str) -> dict[str, Any] | None:
        """``validate-all`` on the command's own node when it is a cluster node (as ``crm_resource --validate``
        runs where it is typed), else - or where the agent is missing - on the next node that has it."""
        request = ValidateRequest(agent=AgentSpec(standard=cls, type=kind, provider=provider), params=params,
                                  rsc=rsc)
        not_installed = None
        for node in sorted(nodes, key=lambda n: n != local):
            reply = await self._ask(self.s.executor("validate", node), request, ValidateReply,
                                    timeout=VALIDATE_TIMEOUT)
            if reply is not None and reply.op_status != lrm.EXEC_NOT_INSTALLED:
                return reply.to_body()
            not_installed = not_installed or reply
        return not_installed.to_body() if not_installed is not None else None

    async def _ask(self, subject: str, request: Message, reply: type[R], timeout: float = 1) -> R | None:
        try:
            return await bus.call(self.ctx.nc, subject, request, reply, timeout=timeout, service=SERVICE)
        except (bus.BusUnavailable, bus.RemoteError):
            return None

    async def agents(self, _req: GatewayAgentsRequest) -> GatewayAgentListing:
        root, _ = await self.read()
        listing = await self.agent_listing(cib.node_names(root))
        if listing is None:
            raise bus.UserError("no executor answered; the installed agents cannot be listed", code="unavailable")
        return GatewayAgentListing(ocf=listing["ocf"], lsb=listing["lsb"])

    async def metadata(self, req: GatewayMetadataRequest) -> AgentXml:
        cls, provider, kind = (str(req.agent.get(k) or "") for k in ("class", "provider", "type"))
        root, _ = await self.read()
        xml = await self.agent_metadata(cib.node_names(root), cls, provider, kind)
        if xml is None:
            raise bus.UserError(f"no node has agent {':'.join(k for k in (cls, provider, kind) if k)}",
                                code="not-installed")
        return AgentXml(xml=xml)

    # ------------------------------------------------------------ status
    async def status(self, req: StatusRequest) -> StatusReply:
        if req.format != crm_mon_xml.FORMAT and req.format not in status_view.FORMATS:
            raise bus.UserError(f"unknown output format {req.format!r}; one of {', '.join(status_view.FORMATS)}",
                                code="bad-request")
        # A page to look at: during a JetStream leader election the cib-store's last good copy beats no page,
        # and what the DC knows (its view, the nodes it fenced) beats the CIB's record of it, written behind;
        # over a last good copy, the executors' own histories too (their CIB copies cannot land meanwhile).
        reply = await self.query(fresh=False)
        root = cib.parse_cib(reply.xml)
        facts = await dc_facts.lay_dc_facts_over(self.ctx.nc, self.s, root, SERVICE, stale=reply.stale)
        if req.format == crm_mon_xml.FORMAT:     # crm_mon -X: a monitoring tool's, with the read-only credential
            text = crm_mon_xml.render(root, time.time(), identity=(crm_mon_xml.STACK, VERSION))
            return StatusReply(text=text, version=reply.version)
        try:
            text, errors = status_view.page_and_notes(root, req.format, time.time(), req.show,
                                                      identity=(crm_mon_xml.STACK, VERSION))
        except ValueError as exc:
            raise bus.UserError(str(exc), code="bad-request") from None
        if reply.stale and req.format == "text":
            text += STALE_NOTE if facts is None else STALE_CONFIGURATION_NOTE
        return StatusReply(text=text, version=reply.version, errors=tuple(errors))

    # ------------------------------------------------------------ what Pacemaker's tools ask (agents)
    async def attribute(self, req: AttributeRequest) -> AttributeReply:
        """Read, set or delete one node attribute or cluster option (``crm_attribute``, ``attrd_updater``)."""
        try:
            if req.command == "get":
                root, _version = await self.read()
                return AttributeReply(value=attributes.read(root, req))
            _changed, version = await self.apply(lambda _root, work: ((), attributes.edit(work, req)))
        except CrmError as exc:
            raise bus.UserError(str(exc), code="crm") from None
        except WriteConflict:
            raise bus.UserError("the CIB kept changing under this change; try again", code="conflict") from None
        return AttributeReply(version=version)

    async def nodes(self, _req: NodesRequest) -> NodesReply:
        """The nodes, their membership state and quorum (``crm_node -l/-p/-q/-i``)."""
        root, _version = await self.read()
        return attributes.nodes(root, time.time())


def _configuration(root: cib.Element) -> str:
    conf = root.find("configuration")
    return cib.serialize(conf) if conf is not None else ""


async def run(ctx: ServiceContext) -> None:
    gw = Gateway(ctx)
    svc = bus.MicroService(ctx.nc, SERVICE, VERSION, metadata={"cluster": ctx.cfg.cluster, "node": ctx.cfg.node})
    endpoints: list[tuple[type[Message], Callable[[Any], Awaitable[Message]]]] = [
        (CrmRequest, gw.crm), (StatusRequest, gw.status), (CibCopyRequest, gw.cib_copy), (CommitRequest, gw.commit),
        (GatewayAgentsRequest, gw.agents), (GatewayMetadataRequest, gw.metadata), (AttributeRequest, gw.attribute),
        (NodesRequest, gw.nodes)]
    for request, handler in endpoints:
        svc.endpoint(request.KIND, ctx.subjects.gateway(request.KIND), handler, request, concurrent=True)
    await svc.start()
    await ctx.stopping.wait()
    await svc.stop()
