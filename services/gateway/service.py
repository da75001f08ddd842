"""gateway: the front door. Runs crm commands against the live CIB and renders status.

A crm command is applied to a private copy of the CIB the gateway just read,
and written back with the configuration version it was based on. If another
writer got in first the command is simply re-run on the fresh CIB; if it is
wrong the user gets crm's one-line error and nothing is written.
"""

from __future__ import annotations

import copy
from typing import Any

from paceline.gateway import status as status_view
from paceline.gateway.agents import AgentCatalog, referenced_agents
from paceline.gateway.crm import Context, CrmError, run_lines
from paceline.shared import bus, cib, codec, lrm
from paceline.shared.runtime import ServiceContext
from prometheus_client import Counter

COMMANDS = Counter("paceline_gateway_crm_commands_total", "crm commands run, by outcome", ["outcome"])
MAX_ATTEMPTS = 5


class Gateway:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx
        self.s = ctx.subjects

    async def read(self) -> tuple[cib.Element, str]:
        reply = await bus.request(self.ctx.nc, self.s.cib("query"), "query")
        return cib.parse_cib(reply["xml"]), reply["version"]

    async def crm(self, body: dict[str, Any]) -> dict[str, Any]:
        lines = codec.field(body, "lines", list)
        if not all(isinstance(line, str) for line in lines):
            raise codec.MalformedMessage("lines must be strings")
        local = codec.field(body, "node", str, "")
        script = codec.field(body, "script", bool, len(lines) != 1)
        if not lines:
            raise bus.UserError("no command given", code="crm")
        for _attempt in range(MAX_ATTEMPTS):
            root, version = await self.read()
            catalog = await self.catalog(root, lines)
            work = copy.deepcopy(root)
            ctx = Context(local_node=local or None, agent_known=catalog.known, agent_meta=catalog.meta,
                          resource_status=lambda rsc, r=root: self.resource_status(r, rsc))
            try:
                outcome, failure = run_lines(work, lines, ctx, script)
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

    async def catalog(self, root: cib.Element, lines: list[str]) -> AgentCatalog:
        """Agents the nodes' executors have, and the meta-data of those the command names."""
        wanted = referenced_agents(lines)
        if not wanted:
            return AgentCatalog(None, lambda *_: None)
        listing: dict[str, Any] = {"ocf": {}, "lsb": []}
        answered: list[str] = []
        for node in cib.node_names(root):
            try:
                have = await bus.request(self.ctx.nc, self.s.executor("agents", node), "agents", timeout=1)
            except (bus.BusUnavailable, bus.RemoteError):
                continue
            answered.append(node)
            for provider, types in have.get("ocf", {}).items():
                listing["ocf"][provider] = sorted(set(listing["ocf"].get(provider, [])) | set(types))
            listing["lsb"] = sorted(set(listing["lsb"]) | set(have.get("lsb", [])))
        metas: dict[tuple[str, str, str], str | None] = {}
        probe = AgentCatalog(listing if answered else None, lambda *_: None)
        for key in wanted:
            if not probe.known(*key):
                continue
            for node in answered:
                agent = {"class": key[0], "provider": key[1], "type": key[2]}
                try:
                    metas[key] = (await bus.request(self.ctx.nc, self.s.executor("metadata", node), "metadata",
                                                    {"agent": agent}, timeout=10))["xml"]
                    break
                except (bus.BusUnavailable, bus.RemoteError):
                    continue
        return AgentCatalog(listing if answered else None, lambda c, p, t: metas.get((c, p, t)))

    def resource_status(self, root: cib.Element, rsc: str | None) -> str:
        from paceline.policy.scheduler import unpack

        state = unpack(root)
        return describe_resources(state, rsc)

    async def status(self, body: dict[str, Any]) -> dict[str, Any]:
        root, version = await self.read()
        return {"text": status_view.render(root), "version": version}


def describe_resources(state: Any, rsc: str | None) -> str:
    """crm's `resource status` lines: "resource R is running on: N" / "is NOT running"."""
    if rsc is not None and rsc not in state.by_id:
        raise CrmError(f"resource status: no resource {rsc!r}")
    wanted = state.by_id[rsc].primitives() if rsc is not None else state.primitives()
    lines = []
    for prim in wanted:
        if prim.active_on:
            lines.append(f"resource {prim.id} is running on: {' '.join(prim.active_on)}")
        else:
            lines.append(f"resource {prim.id} is NOT running")
    return "\n".join(lines)


async def run(ctx: ServiceContext) -> None:
    gw = Gateway(ctx)
    svc = bus.MicroService(ctx.nc, "gateway", "0.1.0", metadata={"cluster": ctx.cfg.cluster})
    svc.endpoint("crm", ctx.subjects.gateway("crm"), gw.crm, kind="crm")
    svc.endpoint("status", ctx.subjects.gateway("status"), gw.status, kind="status")
    await svc.start()
    await ctx.stopping.wait()
    await svc.stop()
