"""Every CIB read is whole: each node's status and the DC facts, while statuses are being written, read after read.

A read that silently lost a node's ``node_state`` made the DC plan as if that
node ran nothing (``resource stop`` then found nothing to stop and never
acted) and made ``paceline status`` print "Current DC: NONE".
"""

from __future__ import annotations

import asyncio

import nats
import pytest
from paceline.cib_store.store import CibStore
from paceline.shared import cib

pytestmark = pytest.mark.integration

NODES = ("primary", "secondary")
#: More reads than the server lets one stream keep ephemeral consumers (1000): a lister that left one
#: behind per read would start failing before the end.
READS = 1100


async def test_reads_stay_whole_under_concurrent_status_writes(nats_server):
    nc = await nats.connect(nats_server.url)
    store = CibStore(nc.jetstream(), "reads")
    await store.open()
    await store.replace(cib.serialize(cib.empty(list(NODES))))
    for node in NODES:
        await store.patch(node, [{"op": "node_state", "attrs": {"crmd": "online"}}])
    await store.set_cluster({"dc-uuid": "1", "have-quorum": "1"})
    stop = asyncio.Event()

    async def keep_writing(node: str) -> int:
        count = 0
        while not stop.is_set():
            await store.patch(node, [{"op": "node_state", "attrs": {"join": f"member-{count % 2}"}}])
            count += 1
            await asyncio.sleep(0)
        return count

    writers = [asyncio.create_task(keep_writing(node)) for node in NODES]
    incomplete = []
    try:
        for i in range(READS):
            root, _version, _stale = await store.query()
            seen = sorted(ns.get("uname") or "" for ns in root.iterfind("status/node_state"))
            if seen != sorted(NODES) or root.get("dc-uuid") != "1":
                incomplete.append((i, seen, root.get("dc-uuid")))
    finally:
        stop.set()
        written = await asyncio.gather(*writers)
        await nc.close()
    assert min(written) > 0, "the writers never ran alongside the reads"
    assert not incomplete, f"{len(incomplete)} of {READS} reads were missing keys, first: {incomplete[:3]}"
