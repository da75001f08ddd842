"""One bus server per machine: clients find a live server of the list, requests cross routes, buckets
are replicated on three servers (and scaled up when found with fewer)."""

from __future__ import annotations

import asyncio

import pytest
from paceline.shared import bus, jetstream, quickbus
from paceline.shared.natsserver import NatsServer, free_port

pytestmark = pytest.mark.integration


async def _wait_routed(nc, subject: str, timeout: float = 10.0) -> None:
    """Until a subscription made on another server is known here (route interest travels asynchronously)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await nc.request(subject, b"", timeout=0.5)
            return
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)


async def test_requests_cross_servers_and_a_dead_server_in_the_list_is_skipped(nats_cluster: list[NatsServer]):
    a, b, c = nats_cluster
    responder = await bus.connect(c.url, "responder", retry_forever=False)

    async def echo(msg) -> None:
        await msg.respond(b"from c:" + msg.data)

    await responder.subscribe("t.echo", cb=echo)
    await responder.flush()
    dead = f"nats://127.0.0.1:{free_port()}"
    client = await bus.connect(f"{dead},{b.url}", "client", retry_forever=False)
    try:
        await _wait_routed(client, "t.echo")
        assert client.connected_url is not None and client.connected_url.port == b.port
        on_a = await bus.connect(a.url, "on-a", retry_forever=False)
        try:  # interest reaches each server on its own; the quick client below talks to a
            await _wait_routed(on_a, "t.echo")
        finally:
            await on_a.close()
        with quickbus.QuickBus(f"{dead}, {a.url}") as q:
            reply = await asyncio.to_thread(q.request, "t.echo", b"x", 5.0)
        assert reply.data == b"from c:x"
    finally:
        await client.close()
        await responder.close()
    with pytest.raises(quickbus.QuickBusError, match=f"cannot reach the bus at {dead}: .*; nats://"):
        quickbus.QuickBus(f"{dead},nats://127.0.0.1:{free_port()}").request("t.x", b"")


async def test_buckets_get_three_replicas_and_a_smaller_bucket_is_scaled_up(nats_cluster: list[NatsServer]):
    nc = await bus.connect(nats_cluster[0].url, "t", retry_forever=False)
    try:
        js = nc.jetstream()
        assert jetstream.wanted_replicas(2, nc) == 2  # a setting wins
        kv = await jetstream.open_kv(js, "replicated", history=5, replicas=3)
        await kv.put("k", b"v")
        info = await js.stream_info(jetstream.stream_name("replicated"))
        assert info.config.num_replicas == 3
        assert info.cluster is not None and len(info.cluster.replicas or []) == 2  # the leader plus two others

        await jetstream.open_kv(js, "grown", history=5, replicas=1)
        grown = await jetstream.open_kv(js, "grown", history=5, replicas=3)
        assert (await js.stream_info(jetstream.stream_name("grown"))).config.num_replicas == 3
        # The stream's Raft group is re-formed on three peers; writes wait for its leader, then go on.
        await jetstream.when_available(lambda: grown.put("k", b"still writable"), "grown", patience=20)
    finally:
        await nc.close()


async def test_a_query_during_a_leader_election_is_answered_from_the_last_good_copy(
        nats_cluster: list[NatsServer]):
    from paceline.cib_store.store import LEADER_PATIENCE, CibStore
    from paceline.shared import cib

    setup = await bus.connect(nats_cluster[0].url, "setup", retry_forever=False)
    try:
        first = CibStore(setup.jetstream(), "cibtest", replicas=3)
        await first.open()
        await first.replace(cib.serialize(cib.empty(["n0", "n1", "n2"])), client="test")
        info = await setup.jetstream().stream_info(jetstream.stream_name("cibtest"))
    finally:
        await setup.close()
    assert info.cluster is not None and info.cluster.leader
    doomed = next(s for s in nats_cluster if s.name == info.cluster.leader)
    survivor = next(s for s in nats_cluster if s is not doomed)
    nc = await bus.connect(survivor.url, "t", retry_forever=False)  # a client of a machine that lives on
    try:
        store = CibStore(nc.jetstream(), "cibtest", replicas=3)
        await store.open()
        _root, version, stale = await store.query(fresh=False)
        assert not stale
        assert doomed.proc is not None
        doomed.proc.kill()  # the machine holding the stream's leader dies
        started = asyncio.get_running_loop().time()
        got, got_version, stale = await store.query(fresh=False)
        took = asyncio.get_running_loop().time() - started
        assert stale and got_version == version and cib.node_names(got) == ["n0", "n1", "n2"]
        assert took < LEADER_PATIENCE + 1.0
        # Once a new leader is elected, reads come from it again.
        await jetstream.when_available(lambda: store.read(), "cibtest", patience=30)
        assert (await store.query(fresh=False))[2] is False
    finally:
        await nc.close()
