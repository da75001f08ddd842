"""gateway: the front door. Runs crm commands against the live CIB, commits staged sessions, renders status.

A crm command is applied to a private copy of the CIB the gateway just read,
and written back with the configuration version it was based on. If another
writer got in first the command is simply re-run on the fresh CIB; if it is
wrong the user gets crm's one-line error and nothing is written. An
interactive session's staged configuration arrives whole at ``commit`` and is
written only if the configuration is still the version the session started
from - a conflict is reported, never overwritten. The crm code runs in a
worker thread so that it may ask the executors (agents, meta-data) lazily,
only when a command needs them.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

from paceline.crm import Context, CrmError, run_lines
from paceline.crm.agents import AgentCatalog, merge_listings
from paceline.shared import bus, cib, codec, lrm
from paceline.shared.cluster import crm_mon as status_view
from paceline.shared.runtime import ServiceContext
from prometheus_client import Counter

COMMANDS = Counter("paceline_gateway_crm_commands_total", "crm commands run, by outcome", ["outcome"])
MAX_ATTEMPTS = 5
#: How long ``ra validate`` waits for an executor's ``validate-all`` (agents advise 20 s for it).
VALIDATE_TIMEOUT = 25.0
T = TypeVar("T")


class Gateway:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx
        self.s = ctx.subjects

    async def read(self) -> tuple[cib.Element, str]:
        reply = await bus.request(self.ctx.nc, self.s.cib("query"), "query")
        return cib.parse_cib(reply["xml"]), reply["version"]

    # ------------------------------------------------------------ crm lines
    async def crm(self, body: dict[str, Any]) -> dict[str, Any]:
        lines = codec.field(body, "lines", list)
        if not all(isinstance(line, str) for line in lines):
            raise codec.MalformedMessage("lines must be strings")
        local = codec.field(body, "node", str, "")
        script = codec.field(body, "script", bool, len(lines) != 1)
        if not lines:
            raise bus.UserError("no command given", code="crm")
        loop = asyncio.get_running_loop()
        for _attempt in range(MAX_ATTEMPTS):
            root, version = await self.read()
            work = copy.deepcopy(root)
            ctx = self.context(root, local, loop)
            try:
                outcome, failure = await asyncio.to_thread(run_lines, work, lines, ctx, script)
            except CrmError as exc:
                COMMANDS.labels("rejected").inc()
                raise bus.UserError(str(exc), code="crm") from None
            new_version = version
            if outcome.changed:
                try:
                    new_version = await self.write(root, work, version)
                except bus.RemoteError as exc:
                    if exc.code == "conflict":
                        continue
                    COMMANDS.labels("rejected").inc()
                    raise bus.UserError(str(exc), code=exc.code) from None
            if failure is not None:
                COMMANDS.labels("rejected").inc()
                raise bus.UserError(str(failure), code="crm", details={"output": outcome.output})
            COMMANDS.labels("ok").inc()
            return {"output": outcome.output, "changed": outcome.changed, "version": new_version}
        COMMANDS.labels("conflict").inc()
        raise bus.UserError("the CIB kept changing under this command; try again", code="conflict")

    def context(self, root: cib.Element, local: str, loop: asyncio.AbstractEventLoop) -> Context:
        """What crm may learn beyond the CIB; bus questions are bridged from the worker thread to ``loop``."""
        nodes = cib.node_names(root)

        def blocking(coro: Awaitable[T]) -> T:
            return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=30)  # type: ignore[arg-type]

        catalog = AgentCatalog(lambda: blocking(self.agent_listing(nodes)),
                               lambda c, p, t: blocking(self.agent_metadata(nodes, c, p, t)),
                               lambda c, p, t, params, rsc: blocking(self.agent_validate(nodes, local, c, p, t,
                                                                                         params, rsc)))
        return Context(local_node=local or None, agent_known=catalog.known, agent_meta=catalog.meta,
                       agents=catalog, explain=lambda rsc: explain_resource(root, rsc))

    async def write(self, before: cib.Element, after: cib.Element, version: str) -> str:
        """Write back what a command changed: configuration by version, status as per-node patches."""
        new_version = version
        conf_before, conf_after = before.find("configuration"), after.find("configuration")
        if cib.serialize(conf_before) != cib.serialize(conf_after):
            reply = await bus.request(self.ctx.nc, self.s.cib("replace"), "replace", {
                "xml": cib.serialize(after, pretty=False), "expected_version": version, "client": "crm"})
            new_version = reply["version"]
        old_states = {ns.get("uname"): ns for ns in before.iterfind("status/node_state")}
        for ns in after.iterfind("status/node_state"):
            old = old_states.get(ns.get("uname"))
            ops = lrm.status_diff(old, ns) if old is not None else []
            if ops:
                reply = await bus.request(self.ctx.nc, self.s.cib("patch"), "patch",
                                          {"node": ns.get("uname"), "ops": ops, "client": "crm"})
                new_version = reply["version"]
        return new_version

    # ------------------------------------------------------------ sessions (the interactive shell)
    async def cib_copy(self, body: dict[str, Any]) -> dict[str, Any]:
        """The whole CIB and its version: the working copy an interactive configure session stages on."""
        root, version = await self.read()
        return {"xml": cib.serialize(root, pretty=False), "version": version}

    async def commit(self, body: dict[str, Any]) -> dict[str, Any]:
        """Write a session's configuration as one CIB version, only on top of the version it started from."""
        xml = codec.field(body, "xml", str)
        expected = codec.field(body, "expected_version", str)
        try:
            reply = await bus.request(self.ctx.nc, self.s.cib("replace"), "replace",
                                      {"xml": xml, "expected_version": expected, "client": "crm"})
        except bus.RemoteError as exc:
            if exc.code == "conflict":
                raise bus.UserError(f"commit: the configuration changed since this session read it (version "
                                    f"{expected}); nothing was written - 'refresh' and make the changes again",
                                    code="conflict") from None
            raise bus.UserError(f"commit: {exc}", code=exc.code) from None
        COMMANDS.labels("ok").inc()
        return {"version": reply["version"], "changed": reply.get("changed", True)}

    # ------------------------------------------------------------ agents (the executors know)
    async def agent_listing(self, nodes: list[str]) -> dict[str, Any] | None:
        replies = await asyncio.gather(*(self._ask(self.s.executor("agents", n), "agents", {}) for n in nodes))
        answered = [r for r in replies if r is not None]
        return merge_listings(answered) if answered else None

    async def agent_metadata(self, nodes: list[str], cls: str, provider: str, kind: str) -> str | None:
        agent = {"class": cls, "provider": provider, "type": kind}
        for node in nodes:
            reply = await self._ask(self.s.executor("metadata", node), "metadata", {"agent": agent}, timeout=10)
            if reply is not None:
                return reply["xml"]
        return None

    async def agent_validate(self, nodes: list[str], local: str, cls: str, provider: str, kind: str,
                             params: dict[str, str], rsc: str) -> dict[str, Any] | None:
        """``validate-all`` on the command's own node when it is a cluster node (as ``crm_resource --validate``
        runs where it is typed), else - or where the agent is missing - on the next node that has it."""
        body = {"agent": {"class": cls, "provider": provider, "type": kind}, "params": params, "rsc": rsc}
        not_installed = None
        for node in sorted(nodes, key=lambda n: n != local):
            reply = await self._ask(self.s.executor("validate", node), "validate", body, timeout=VALIDATE_TIMEOUT)
            if reply is not None and reply.get("op_status") != lrm.EXEC_NOT_INSTALLED:
                return reply
            not_installed = not_installed or reply
        return not_installed

    async def _ask(self, subject: str, kind: str, body: dict[str, Any], timeout: float = 1) -> dict | None:
        try:
            return await bus.request(self.ctx.nc, subject, kind, body, timeout=timeout)
        except (bus.BusUnavailable, bus.RemoteError):
            return None

    async def agents(self, body: dict[str, Any]) -> dict[str, Any]:
        root, _ = await self.read()
        listing = await self.agent_listing(cib.node_names(root))
        if listing is None:
            raise bus.UserError("no executor answered; the installed agents cannot be listed", code="unavailable")
        return listing

    async def metadata(self, body: dict[str, Any]) -> dict[str, Any]:
        agent = codec.field(body, "agent", dict)
        key = [str(agent.get(k) or "") for k in ("class", "provider", "type")]
        root, _ = await self.read()
        xml = await self.agent_metadata(cib.node_names(root), *key)
        if xml is None:
            raise bus.UserError(f"no node has agent {':'.join(k for k in key if k)}", code="not-installed")
        return {"xml": xml}

    # ------------------------------------------------------------ status
    async def status(self, body: dict[str, Any]) -> dict[str, Any]:
        fmt = codec.field(body, "format", str, "text")
        if fmt not in status_view.FORMATS:
            raise bus.UserError(f"unknown output format {fmt!r}; one of {', '.join(status_view.FORMATS)}",
                                code="bad-request")
        root, version = await self.read()
        return {"text": status_view.render_as(root, fmt, time.time()), "version": version}


def explain_resource(root: cib.Element, rsc: str) -> str:
    """``resource why``: the scheduler's per-node score breakdown for one resource."""
    from paceline.policy.scheduler import explain

    try:
        return explain(root, rsc).text()
    except KeyError:
        raise CrmError(f"resource why: no resource {rsc!r}") from None


async def run(ctx: ServiceContext) -> None:
    gw = Gateway(ctx)
    svc = bus.MicroService(ctx.nc, "gateway", "0.1.0", metadata={"cluster": ctx.cfg.cluster})
    svc.endpoint("crm", ctx.subjects.gateway("crm"), gw.crm, kind="crm", concurrent=True)
    svc.endpoint("status", ctx.subjects.gateway("status"), gw.status, kind="status", concurrent=True)
    svc.endpoint("cib", ctx.subjects.gateway("cib"), gw.cib_copy, kind="cib", concurrent=True)
    svc.endpoint("commit", ctx.subjects.gateway("commit"), gw.commit, kind="commit", concurrent=True)
    svc.endpoint("agents", ctx.subjects.gateway("agents"), gw.agents, kind="agents", concurrent=True)
    svc.endpoint("metadata", ctx.subjects.gateway("metadata"), gw.metadata, kind="metadata", concurrent=True)
    await svc.start()
    await ctx.stopping.wait()
    await svc.stop()
