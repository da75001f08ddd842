"""The DC lease: one policy instance at a time holds it, in a JetStream KV key, by compare-and-set.

The value names the holder and a term that grows with every change of holder;
actions carry the term, and executors refuse older terms, so a deposed DC
cannot act after a newer one took over. A lease can be taken when it lapsed
(not renewed within its TTL) or, faster, when membership says the holder's
node is gone - the same fact Pacemaker's election acts on.

A holder acts only while it can *prove* the lease: for ``ttl`` minus a safety
margin after the last renewal that reached the bucket. A holder cut off from
the bus (its renewals failing or hanging) therefore stops acting before anyone
else may take the lease over by lapse; the margin absorbs clock drift between
nodes and the time a renewal spends on the wire. Proof is kept on the
monotonic clock, so a wall-clock jump cannot extend it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import msgpack
from nats.js import JetStreamContext
from nats.js.errors import KeyDeletedError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from paceline.shared import jetstream

LEASE_KEY = "dc"
#: Share of the TTL a holder keeps in reserve: it stops acting this long before the lease could lapse.
SAFETY_FRACTION = 0.2


@dataclass
class LeaseState:
    holder: str
    term: int
    renewed: float
    ttl: float
    revision: int = 0

    def lapsed(self, now: float) -> bool:
        return now - self.renewed > self.ttl


class Lease:
    def __init__(self, js: JetStreamContext, bucket: str, holder: str, ttl: float,
                 clock: Callable[[], float] = time.monotonic, replicas: int = 1):
        self.js = js
        self.replicas = replicas
        self.bucket = bucket
        self.holder = holder
        self.ttl = ttl
        self.clock = clock
        self.kv: KeyValue | None = None
        self.state: LeaseState | None = None  # what we last read or wrote
        self.proven_until = 0.0  # clock() until which our last successful write proves we hold the lease

    async def open(self) -> None:
        self.kv = await jetstream.open_kv(self.js, self.bucket, 5, self.replicas)

    @property
    def margin(self) -> float:
        return self.ttl * SAFETY_FRACTION

    @property
    def recorded_as_holder(self) -> bool:
        """The bucket named us holder when we last read or wrote it (it may have lapsed since)."""
        return self.state is not None and self.state.holder == self.holder

    @property
    def held(self) -> bool:
        """We hold the lease and can prove it: act as DC only while this is true."""
        return self.recorded_as_holder and self.clock() < self.proven_until

    def proof_left(self) -> float:
        """Seconds we may still act as holder without another successful renewal."""
        return max(0.0, self.proven_until - self.clock()) if self.recorded_as_holder else 0.0

    @property
    def term(self) -> int:
        return self.state.term if self.state else 0

    async def read(self) -> LeaseState | None:
        assert self.kv is not None
        try:
            entry = await self.kv.get(LEASE_KEY)
        except (KeyNotFoundError, KeyDeletedError):
            return None
        data = msgpack.unpackb(entry.value)
        return LeaseState(data["holder"], int(data["term"]), float(data["renewed"]), float(data["ttl"]),
                          entry.revision or 0)

    def _value(self, term: int) -> bytes:
        return msgpack.packb({"holder": self.holder, "term": term, "renewed": time.time(), "ttl": self.ttl})

    async def acquire_or_renew(self, holder_gone: Callable[[str], bool] | None = None) -> bool:
        """One campaign step; True while we hold the lease afterwards.

        ``holder_gone(name)``: whether membership knows the holder's node is
        gone; such a holder is replaced at once instead of after the TTL.
        """
        assert self.kv is not None
        current = await self.read()
        try:
            if current is None:
                sent = self.clock()
                rev = await self.kv.create(LEASE_KEY, self._value(1))
                self._proved(1, rev, sent)
                return self.held
            gone = holder_gone is not None and current.holder != self.holder and holder_gone(current.holder)
            if current.holder == self.holder or current.lapsed(time.time()) or gone:
                term = current.term if current.holder == self.holder else current.term + 1
                sent = self.clock()
                rev = await self.kv.update(LEASE_KEY, self._value(term), last=current.revision)
                self._proved(term, rev, sent)
                return self.held  # False only when the write itself took longer than the proof lasts
        except KeyWrongLastSequenceError:
            pass  # someone else wrote first; read again next round
        self.state = await self.read()
        return self.held

    def _proved(self, term: int, revision: int, sent: float) -> None:
        """A write naming us holder reached the bucket; others count its TTL from no earlier than ``sent``."""
        self.state = LeaseState(self.holder, term, time.time(), self.ttl, revision)
        self.proven_until = sent + self.ttl - self.margin

    async def release(self) -> None:
        """Step down on shutdown so a successor need not wait for the TTL (also after our proof ran out:
        the compare-and-set only clears a lease nobody took over since)."""
        if self.kv is None or not self.recorded_as_holder or self.state is None:
            return
        try:
            data = {"holder": "", "term": self.state.term, "renewed": 0.0, "ttl": self.ttl}
            await self.kv.update(LEASE_KEY, msgpack.packb(data), last=self.state.revision)
        except Exception:  # the bus may be gone; the TTL then does the job
            pass
        self.state = None
        self.proven_until = 0.0
