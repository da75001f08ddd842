"""Failure detection without I/O: heartbeats and clock ticks in, membership changes out.

Keeping the detector pure (the caller passes ``now``) makes the timing rules
testable with a fake clock in microseconds, and leaves the service module with
nothing but plumbing. The rules mirror corosync's totem in spirit:

* the local node is always a member of its own view;
* a peer is a member while its heartbeats keep arriving, and lost once none
  arrived for ``token_timeout`` seconds;
* a heartbeat carrying a new incarnation means the peer restarted: it is
  reported as having left and joined again in one change, and heartbeats of the
  old incarnation still in flight are ignored from then on;
* every change gets a ring id above every ring id seen so far, so a view's
  number never goes backwards anywhere in the cluster;
* time during which this process itself could not listen (a gap between
  ticks longer than half the token timeout: a GC pause, a stopped process, an
  overloaded host) is not held against the peers: their heartbeats from that
  time are still queued, unread. Corosync likewise does not time out a token
  while it is not running.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from paceline.membership.heartbeat import Heartbeat


@dataclass
class Peer:
    node: str
    incarnation: str
    votes: int
    last_seen: float
    last_seq: int


@dataclass(frozen=True)
class MembershipChange:
    """One new view: who is in it now and how it differs from the previous one."""

    ring_id: int
    members: tuple[str, ...]
    joined: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()
    #: Peers that restarted (new incarnation) without ever being declared lost.
    restarted: tuple[str, ...] = ()


@dataclass
class MembershipTracker:
    node: str
    incarnation: str
    token_timeout: float
    votes: int = 1
    ring_id: int = 0
    peers: dict[str, Peer] = field(default_factory=dict)
    #: Every node ever seen alive, the local node included (quorum's last-resort expected count).
    ever_seen: set[str] = field(default_factory=set)
    _highest_ring_seen: int = 0
    _retired: dict[str, set[str]] = field(default_factory=dict)
    _last_tick: float | None = None

    def __post_init__(self) -> None:
        if self.token_timeout <= 0:
            raise ValueError("token_timeout must be positive")
        self.ever_seen.add(self.node)
        self._highest_ring_seen = self.ring_id

    # ---------------------------------------------------------------- queries
    @property
    def members(self) -> tuple[str, ...]:
        return tuple(sorted({self.node, *self.peers}))

    @property
    def total_votes(self) -> int:
        return self.votes + sum(p.votes for p in self.peers.values())

    def is_duplicate_of_self(self, hb: Heartbeat) -> bool:
        """Another process heartbeating under this node's name (two processes claim one node)."""
        return hb.node == self.node and hb.incarnation != self.incarnation

    # ---------------------------------------------------------------- inputs
    def form(self) -> MembershipChange:
        """The first view of a starting process: itself alone (peers join as their heartbeats arrive)."""
        return self._change(joined=(self.node,))

    def observe(self, hb: Heartbeat, now: float) -> MembershipChange | None:
        """Account for one received heartbeat; returns the new view when membership changed."""
        if hb.node == self.node:
            # Our own heartbeats come back through the wildcard subscription; they
            # carry nothing we do not know, and an impostor must not alter the view.
            return None
        if hb.incarnation in self._retired.get(hb.node, ()):
            return None  # a late heartbeat from before the peer restarted
        self._highest_ring_seen = max(self._highest_ring_seen, hb.ring_id)
        self.ever_seen.add(hb.node)
        peer = self.peers.get(hb.node)
        if peer is None:
            self.peers[hb.node] = Peer(hb.node, hb.incarnation, hb.votes, now, hb.seq)
            return self._change(joined=(hb.node,))
        if peer.incarnation != hb.incarnation:
            self._retired.setdefault(hb.node, set()).add(peer.incarnation)
            self.peers[hb.node] = Peer(hb.node, hb.incarnation, hb.votes, now, hb.seq)
            return self._change(restarted=(hb.node,))
        peer.last_seen = max(peer.last_seen, now)
        peer.last_seq = max(peer.last_seq, hb.seq)
        if peer.votes != hb.votes:
            peer.votes = hb.votes
            return self._change()
        return None

    def tick(self, now: float) -> MembershipChange | None:
        """Declare lost every peer silent for longer than the token timeout."""
        if self._last_tick is not None and now - self._last_tick > self.token_timeout / 2:
            stall = now - self._last_tick
            for peer in self.peers.values():
                peer.last_seen += stall
        self._last_tick = now
        lost = tuple(sorted(n for n, p in self.peers.items() if now - p.last_seen > self.token_timeout))
        if not lost:
            return None
        for name in lost:
            del self.peers[name]
        return self._change(lost=lost)

    # ---------------------------------------------------------------- internals
    def _change(self, joined: tuple[str, ...] = (), lost: tuple[str, ...] = (),
                restarted: tuple[str, ...] = ()) -> MembershipChange:
        self.ring_id = max(self.ring_id, self._highest_ring_seen) + 1
        self._highest_ring_seen = self.ring_id
        return MembershipChange(ring_id=self.ring_id, members=self.members, joined=joined, lost=lost,
                                restarted=restarted)
