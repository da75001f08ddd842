"""cib-store: request endpoints over :class:`CibStore` and the ``cib.changed`` events.

Stateless: any number of instances may serve the same bucket, because every
write is a compare-and-set. User mistakes (malformed XML, duplicate ids,
references to unknown resources, stale versions) come back as error replies
and change nothing.
"""

from __future__ import annotations

from typing import Any

from paceline.cib_store.store import CibStore, Conflict, WriteResult
from paceline.shared import codec, lrm
from paceline.shared.bus import MicroService, UserError
from paceline.shared.cib import CibError, serialize
from paceline.shared.runtime import ServiceContext
from prometheus_client import Counter, Gauge

WRITES = Counter("paceline_cib_writes_total", "CIB writes by scope and outcome", ["scope", "outcome"])
EPOCH = Gauge("paceline_cib_epoch", "Configuration epoch of the newest CIB written by this instance")


class CibService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx
        self.subjects = ctx.subjects
        self.store = CibStore(ctx.nc.jetstream(), self.subjects.cib_bucket)

    async def start(self) -> MicroService:
        await self.store.open()
        svc = MicroService(self.ctx.nc, "cib-store", "0.1.0", metadata={"cluster": self.ctx.cfg.cluster})
        for name, handler in (("query", self.query), ("replace", self.replace), ("modify", self.modify),
                              ("patch", self.patch), ("erase", self.erase), ("cluster", self.cluster)):
            svc.endpoint(name, self.subjects.cib(name), handler, kind=name)
        await svc.start()
        return svc

    async def _changed(self, result: WriteResult | None, client: str) -> dict[str, Any]:
        if result is None:
            return {"version": None, "changed": False}
        WRITES.labels(result.scope, "ok").inc()
        if result.scope == "configuration":
            EPOCH.set(result.new.epoch)
        await self.ctx.nc.publish(self.subjects.cib_changed, codec.encode("cib.changed", {
            "old": str(result.old), "new": str(result.new), "scope": result.scope,
            "node": result.node, "client": client}))
        return {"version": str(result.new), "changed": True}

    async def _guard(self, scope: str, coro) -> WriteResult | None:
        try:
            return await coro
        except (CibError, lrm.PatchError) as exc:
            WRITES.labels(scope, "rejected").inc()
            raise UserError(str(exc), code="invalid") from None
        except Conflict as exc:
            WRITES.labels(scope, "conflict").inc()
            raise UserError(str(exc), code="conflict") from None

    async def query(self, body: dict[str, Any]) -> dict[str, Any]:
        root, version = await self.store.query()
        return {"xml": serialize(root, pretty=False), "version": str(version)}

    async def replace(self, body: dict[str, Any]) -> dict[str, Any]:
        xml = codec.field(body, "xml", str)
        expected = codec.field(body, "expected_version", (str, type(None)), None)
        client = codec.field(body, "client", str, "cibadmin")
        with_status = codec.field(body, "with_status", bool, False)
        write = self.store.replace(xml, expected, client, with_status)
        return await self._changed(await self._guard("configuration", write), client)

    async def modify(self, body: dict[str, Any]) -> dict[str, Any]:
        section = codec.field(body, "section", str)
        xml = codec.field(body, "xml", str)
        client = codec.field(body, "client", str, "cibadmin")
        return await self._changed(await self._guard("configuration", self.store.modify(section, xml, client)),
                                   client)

    async def erase(self, body: dict[str, Any]) -> dict[str, Any]:
        client = codec.field(body, "client", str, "cibadmin")
        return await self._changed(await self._guard("configuration", self.store.erase(client)), client)

    async def patch(self, body: dict[str, Any]) -> dict[str, Any]:
        node = codec.field(body, "node", str)
        ops = codec.field(body, "ops", list)
        client = codec.field(body, "client", str, "unknown")
        if not all(isinstance(op, dict) for op in ops):
            raise codec.MalformedMessage("every patch op must be a map")
        return await self._changed(await self._guard("status", self.store.patch(node, ops)), client)

    async def cluster(self, body: dict[str, Any]) -> dict[str, Any]:
        attrs = codec.field(body, "attrs", dict)
        client = codec.field(body, "client", str, "policy")
        clean = {str(k): (None if v is None else str(v)) for k, v in attrs.items()}
        return await self._changed(await self._guard("cluster", self.store.set_cluster(clean)), client)


async def run(ctx: ServiceContext) -> None:
    svc = await CibService(ctx).start()
    await ctx.stopping.wait()
    await svc.stop()
