"""cib-store: request endpoints over :class:`CibStore` and the ``cib.changed`` events.

Stateless: any number of instances may serve the same bucket, because every
write is a compare-and-set. User mistakes (malformed XML, duplicate ids,
references to unknown resources, stale versions) come back as error replies
and change nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from paceline.cib_store.store import CibStore, Conflict, WriteResult
from paceline.shared import VERSION, jetstream, lrm, permissions
from paceline.shared.bus import MicroService, UserError
from paceline.shared.cib import CibError, serialize
from paceline.shared.cluster import remote_nodes
from paceline.shared.messages import (
    CibChanged,
    CibCluster,
    CibDocument,
    CibErase,
    CibModify,
    CibPatch,
    CibQuery,
    CibReplace,
    CibTickets,
    CibWriteReply,
    Message,
    pack,
)
from paceline.shared.runtime import ServiceContext
from paceline.shared.subjects import NODE_PATCHERS, sender_of
from prometheus_client import Counter, Gauge

WRITES = Counter("paceline_cib_writes_total", "CIB writes by scope and outcome", ["scope", "outcome"])
STALE_READS = Counter("paceline_cib_stale_reads_total",
                      "Queries answered from the last good copy while the bucket's leader did not answer")
EPOCH = Gauge("paceline_cib_epoch", "Configuration epoch of the newest CIB written by this instance")


class CibService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx
        self.subjects = ctx.subjects
        self.store = CibStore(ctx.nc.jetstream(), self.subjects.cib_bucket,
                              jetstream.wanted_replicas(ctx.cfg.replicas, ctx.nc), ctx.log)

    async def start(self) -> MicroService:
        await jetstream.wait_ready(self.ctx.nc, self.ctx.log)
        await self.store.open()
        svc = MicroService(self.ctx.nc, "cib-store", VERSION,
                           metadata={"cluster": self.ctx.cfg.cluster, "node": self.ctx.cfg.node})
        endpoints: list[tuple[type[Message], Callable[[Any], Awaitable[Message]]]] = [
            (CibQuery, self.query), (CibReplace, self.replace), (CibModify, self.modify), (CibPatch, self.patch),
            (CibErase, self.erase), (CibCluster, self.cluster), (CibTickets, self.tickets)]
        for request, handler in endpoints:
            # A query never waits behind another: one stuck on a leader election must not hold up a query
            # that may be answered from the last good copy.
            svc.endpoint(request.KIND, self.subjects.cib(request.KIND), handler, request,
                         concurrent=request is CibQuery)
        for role in NODE_PATCHERS:
            # A node's executor and membership write status on subjects naming their node, which only their
            # own credential may publish: what each may write is checked against who it is.
            svc.endpoint(f"patch-{role}", self.subjects.cib_patches_by(role), self.node_patch(role), CibPatch,
                         with_subject=True)
        await svc.start()
        return svc

    async def _changed(self, result: WriteResult | None, client: str,
                       ops: Sequence[Mapping[str, Any]] = ()) -> CibWriteReply:
        """Count the write and announce it; ``ops``: a status patch's ops, which the event carries so that the
        node's executor applies what others deleted (``resource cleanup``) to the history it holds."""
        if result is None:
            return CibWriteReply(version=None, changed=False)
        WRITES.labels(result.scope, "ok").inc()
        if result.scope == "configuration":
            EPOCH.set(result.new.epoch)
        await self.ctx.nc.publish(self.subjects.cib_changed, pack(CibChanged(
            old=str(result.old), new=str(result.new), scope=result.scope, node=result.node, client=client,
            ops=[dict(op) for op in ops])))
        return CibWriteReply(version=str(result.new), changed=True)

    async def _guard(self, scope: str, coro: Awaitable[WriteResult | None]) -> WriteResult | None:
        try:
            return await coro
        except (CibError, lrm.PatchError) as exc:
            WRITES.labels(scope, "rejected").inc()
            raise UserError(str(exc), code="invalid") from None
        except Conflict as exc:
            WRITES.labels(scope, "conflict").inc()
            raise UserError(str(exc), code="conflict") from None

    async def query(self, request: CibQuery) -> CibDocument:
        root, version, stale = await self.store.query(fresh=request.fresh)
        if stale:
            STALE_READS.inc()
        return CibDocument(xml=serialize(root, pretty=False), version=str(version), stale=stale)

    async def replace(self, req: CibReplace) -> CibWriteReply:
        write = self.store.replace(req.xml, req.expected_version, req.client, req.with_status)
        return await self._changed(await self._guard("configuration", write), req.client)

    async def modify(self, req: CibModify) -> CibWriteReply:
        return await self._changed(await self._guard("configuration", self.store.modify(req.section, req.xml,
                                                                                        req.client)), req.client)

    async def erase(self, req: CibErase) -> CibWriteReply:
        return await self._changed(await self._guard("configuration", self.store.erase(req.client)), req.client)

    async def patch(self, req: CibPatch) -> CibWriteReply:
        return await self._changed(await self._guard("status", self.store.patch(req.node, req.ops)), req.client,
                                   req.ops)

    def node_patch(self, role: str) -> Callable[[CibPatch, str], Awaitable[CibWriteReply]]:
        """The handler of ``role``'s status patches: refused (and counted) when the sender, named by the
        subject, may not write them (:func:`paceline.shared.permissions.status_patch_refusal`)."""
        async def handle(req: CibPatch, subject: str) -> CibWriteReply:
            sender = sender_of(subject)
            remotes = await self.remote_nodes() if role == "executor" and req.node != sender else []
            refused = permissions.status_patch_refusal(role, sender, req.node, req.ops, remotes)
            if refused:
                WRITES.labels("status", "refused").inc()
                self.ctx.log.warning("status patch refused", role=role, sender=sender, node=req.node,
                                     reason=refused)
                raise UserError(refused, code="forbidden")
            return await self.patch(req)

        return handle

    async def remote_nodes(self) -> list[str]:
        """The remote and guest nodes the configuration names (``remote_nodes.remote_node_names``): the
        executor running one's connection writes that node's node_state
        (``paceline.shared.permissions.remote_state_refusal``)."""
        root, _version, _stale = await self.store.query(fresh=False)
        return remote_nodes.remote_node_names(root)

    async def cluster(self, req: CibCluster) -> CibWriteReply:
        clean = {str(k): (None if v is None else str(v)) for k, v in req.attrs.items()}
        return await self._changed(await self._guard("cluster", self.store.set_cluster(clean)), req.client)

    async def tickets(self, req: CibTickets) -> CibWriteReply:
        return await self._changed(await self._guard("tickets", self.store.set_tickets(req.changes)), req.client)


async def run(ctx: ServiceContext) -> None:
    svc = await CibService(ctx).start()
    await ctx.stopping.wait()
    await svc.stop()
