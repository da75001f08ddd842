"""The DC lease over a real JetStream KV: one holder, terms grow on takeover, lapse and membership loss."""

import asyncio

import nats
import pytest
from paceline.policy.lease import Lease

pytestmark = pytest.mark.integration


async def test_one_holder_and_takeovers(nats_server):
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    a, b = Lease(js, "lease", "a", ttl=0.5), Lease(js, "lease", "b", ttl=0.5)
    await a.open()
    await b.open()
    assert await a.acquire_or_renew() and a.term == 1
    assert not await b.acquire_or_renew() and b.state is not None and b.state.holder == "a"
    assert await a.acquire_or_renew() and a.term == 1  # renewal keeps the term
    # membership says a's node is gone: b takes over at once with a higher term
    assert await b.acquire_or_renew(holder_gone=lambda h: h not in {"b"}) and b.term == 2
    assert not await a.acquire_or_renew(holder_gone=lambda h: h not in {"a", "b"})
    assert a.state is not None and a.state.holder == "b"
    # b stops renewing: after the TTL a may take over
    await asyncio.sleep(0.6)
    assert await a.acquire_or_renew() and a.term == 3
    await a.release()
    assert await b.acquire_or_renew() and b.term == 4
    await nc.close()


async def test_racing_candidates_get_one_winner(nats_server):
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    leases = [Lease(js, "lease", f"n{i}", ttl=5) for i in range(5)]
    for lease in leases:
        await lease.open()
    won = await asyncio.gather(*(lease.acquire_or_renew() for lease in leases))
    assert sum(won) == 1
    await nc.close()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_proof_runs_out_before_the_ttl_and_a_renewal_restores_it(nats_server):
    nc = await nats.connect(nats_server.url)
    clock = FakeClock()
    a = Lease(nc.jetstream(), "lease", "a", ttl=3.0, clock=clock)
    await a.open()
    assert await a.acquire_or_renew() and a.held
    assert a.proof_left() == pytest.approx(3.0 - a.margin) and 0 < a.margin < 3.0
    clock.now += 3.0 - a.margin - 0.01
    assert a.held
    clock.now += 0.02  # no renewal for the TTL less its margin: stop acting, though the bucket still names us
    assert not a.held and a.recorded_as_holder and a.proof_left() == 0
    assert await a.acquire_or_renew() and a.held and a.term == 1  # nobody took over: same term
    await nc.close()
