"""The CIB mirror of the executor's history: in order, coalesced, retried for ever, never dropped."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from paceline.executor import mirror
from paceline.executor.mirror import CibMirror
from paceline.shared.bus import BusUnavailable, RemoteError


class FlakyStore:
    """Fails the first ``failures`` writes (alternating the two errors the bus gives), then takes them."""

    def __init__(self, failures: int = 0):
        self.failures = failures
        self.attempts = 0
        self.written: list[list[dict[str, Any]]] = []

    async def send(self, ops: list[dict[str, Any]]) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise BusUnavailable("no cib-store") if self.attempts % 2 else RemoteError("no leader", "unavailable")
        self.written.append(ops)


def patch(n: int) -> list[dict[str, Any]]:
    return [{"op": "lrm_delete", "rsc": f"r{n}"}]


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    monkeypatch.setattr(mirror, "FIRST_BACKOFF", 0.01)
    monkeypatch.setattr(mirror, "MAX_BACKOFF", 0.02)


async def test_patches_are_written_in_order_and_what_piled_up_goes_in_one_patch():
    store = FlakyStore(failures=3)
    cib = CibMirror(store.send)
    cib.start()
    cib.put(patch(1))
    await asyncio.sleep(0)                # the writer takes patch 1 and starts failing
    cib.put(patch(2))
    cib.put([])                           # nothing to write: not queued
    cib.put(patch(3))
    assert await cib.flush(2)
    assert store.written == [patch(1), patch(2) + patch(3)] and cib.pending == 0
    cib.put(patch(4))
    assert await cib.flush(1)
    assert store.written[-1] == patch(4)
    await cib.close(1)


async def test_a_backlog_is_split_into_bounded_patches(monkeypatch):
    monkeypatch.setattr(mirror, "MAX_BATCH_OPS", 2)
    store = FlakyStore()
    cib = CibMirror(store.send)
    for n in range(5):
        cib.put(patch(n))
    cib.start()
    assert await cib.flush(1)
    assert store.written == [patch(0) + patch(1), patch(2) + patch(3), patch(4)]
    await cib.close(1)


async def test_closing_gives_up_after_its_bound_when_the_cib_never_answers():
    store = FlakyStore(failures=10**9)
    cib = CibMirror(store.send)
    cib.start()
    cib.put(patch(1))
    assert not await cib.flush(0.1)
    await asyncio.wait_for(cib.close(0.1), 1)
    assert cib.pending == 1 and store.attempts > 1 and not store.written
