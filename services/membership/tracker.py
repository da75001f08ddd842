"""Failure detection without I/O: heartbeats and clock ticks in, membership changes out.

Keeping the detector pure (the caller passes ``now``) makes the timing rules
testable with a fake clock in microseconds, and leaves the service module with
nothing but plumbing. The rules mirror corosync's totem in spirit:

* the local node is always a member of its own view;
* a peer is *heard* while its heartbeats keep arriving (none missing for
  ``token_timeout`` seconds); every heartbeat lists the peers its sender hears;
* a heard peer is a *member* only while its latest heartbeat lists this node
  (symmetric exclusion). Joining is thus a handshake - a hears b, b's next
  heartbeat lists a, a admits b - and when a peer stops hearing us we drop it
  at once, although its heartbeats still arrive. That is how a node the others
  declared lost (it was paused, or its outbound traffic was cut) learns it:
  their heartbeats stop naming it, its view shrinks, and it rejoins by the
  handshake like any newcomer;
* a peer is never admitted on the heartbeat that makes it heard: that one may
  have been written before the peer read the heartbeats that dropped it (a
  paused node's first heartbeat after it resumes still lists everyone). Its
  next one tells;
* a heartbeat carrying a new incarnation means the peer restarted: its state
  is replaced (a fresh process hears nobody yet, so it leaves the view and
  rejoins by the handshake; one that already lists us stays, reported as
  restarted), and heartbeats of the old incarnation still in flight are
  ignored for a token timeout;
* an old incarnation still heard after that is a live process: two processes
  claim one node (a restart whose predecessor still runs, or a stolen key
  heartbeating under the node's name). Neither can be told from the other, so
  the node is *contested*: no member until all claimants but one have been
  silent for a token timeout; that one then rejoins by the handshake. Before,
  the newer claim won for good and the real process was ignored until it
  restarted;
* every change gets a ring id above every ring id seen so far, so a view's
  number never goes backwards anywhere in the cluster; a change of a member's
  DC candidacy (or of our own) is a change too (votes are configuration: one each);
* time during which this process itself could not listen (a gap between
  ticks longer than half the token timeout: a GC pause, a stopped process, an
  overloaded host) is not held against the peers nor the local policy: their
  messages from that time are still queued, unread. Corosync likewise does not
  time out a token while it is not running.

The view's DC is elected from the members' candidacies (:mod:`.election`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from paceline.membership.election import Candidacy, elect
from paceline.membership.heartbeat import Heartbeat

#: Every node has one vote. Votes are configuration, as corosync's quorum_votes: a peer's heartbeat may say
#: otherwise, and is not believed (a node claiming two votes made a lone node of three quorate).
PEER_VOTES = 1
#: What a view shows of one member: (incarnation, votes, candidacy). Comparing these before and after an
#: input tells whether the input changed the view.
Shown = tuple[str, int, int]


@dataclass
class Peer:
    node: str
    incarnation: str
    votes: int
    last_seen: float
    last_seq: int
    #: The peers its latest heartbeat says it hears.
    hears: frozenset[str] = frozenset()
    candidate: int = 0
    #: True until a second heartbeat of this peer arrived since it was last not heard (see the module doc).
    fresh: bool = True


@dataclass(frozen=True)
class MembershipChange:
    """One new view: who is in it now and how it differs from the previous one."""

    ring_id: int
    members: tuple[str, ...]
    joined: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()
    #: Peers that restarted (new incarnation) without ever being declared lost.
    restarted: tuple[str, ...] = ()
    #: The DC this view elects ("" when no member runs a policy).
    dc: str = ""


@dataclass
class MembershipTracker:
    node: str
    incarnation: str
    token_timeout: float
    votes: int = 1
    ring_id: int = 0
    #: Every peer heard within the token timeout (current incarnations); members are the subset that hear us.
    peers: dict[str, Peer] = field(default_factory=dict)
    #: Every node ever seen alive, the local node included (quorum's last-resort expected count).
    ever_seen: set[str] = field(default_factory=set)
    candidacy: Candidacy = field(init=False)
    #: Nodes that two live processes claim: each claimant incarnation's last heartbeat (see the module doc).
    contested: dict[str, dict[str, float]] = field(default_factory=dict)
    _highest_ring_seen: int = 0
    #: Incarnations a newer one replaced, per node, with when.
    _retired: dict[str, dict[str, float]] = field(default_factory=dict)
    _last_tick: float | None = None

    def __post_init__(self) -> None:
        if self.token_timeout <= 0:
            raise ValueError("token_timeout must be positive")
        self.ever_seen.add(self.node)
        self._highest_ring_seen = self.ring_id
        self.candidacy = Candidacy(self.token_timeout)

    # ---------------------------------------------------------------- queries
    def is_member(self, peer: Peer) -> bool:
        """Heard (it is in ``peers``), past its first heartbeat, and its latest heartbeat hears us."""
        return not peer.fresh and self.node in peer.hears

    @property
    def members(self) -> tuple[str, ...]:
        return tuple(sorted({self.node, *(p.node for p in self._member_peers())}))

    @property
    def hears(self) -> tuple[str, ...]:
        """What our heartbeats say we hear: every peer heard within the token timeout, member or not."""
        return tuple(sorted(self.peers))

    @property
    def candidate(self) -> int:
        """Our DC candidacy, as our heartbeats carry it."""
        return self.candidacy.number

    @property
    def total_votes(self) -> int:
        return self.votes + sum(p.votes for p in self._member_peers())

    @property
    def dc(self) -> str:
        """The DC the current view elects."""
        return elect({name: shown[2] for name, shown in self._shown().items()})

    def is_duplicate_of_self(self, hb: Heartbeat) -> bool:
        """Another process heartbeating under this node's name (two processes claim one node)."""
        return hb.node == self.node and hb.incarnation != self.incarnation

    def current(self) -> MembershipChange:
        """The current view again, under its own ring id (for a republish when only quorum changed)."""
        return MembershipChange(ring_id=self.ring_id, members=self.members, dc=self.dc)

    # ---------------------------------------------------------------- inputs
    def form(self) -> MembershipChange:
        """The first view of a starting process: itself alone (peers join by the handshake)."""
        return self._change(joined=(self.node,))

    def observe(self, hb: Heartbeat, now: float) -> MembershipChange | None:
        """Account for one received heartbeat; returns the new view when it changed."""
        if hb.node == self.node:
            # Our own heartbeats come back through the wildcard subscription; they
            # carry nothing we do not know, and an impostor must not alter the view.
            return None
        retired_at = self._retired.get(hb.node, {}).get(hb.incarnation)
        if hb.node not in self.contested and retired_at is not None and now - retired_at <= self.token_timeout:
            return None  # a late heartbeat from before the peer restarted
        self._highest_ring_seen = max(self._highest_ring_seen, hb.ring_id)
        self.ever_seen.add(hb.node)
        before = self._shown()
        if hb.node in self.contested or retired_at is not None:
            self._contest(hb, now)
        else:
            self._take(hb, now)
        return self._finish(before, now)

    def tick(self, now: float) -> MembershipChange | None:
        """Forget every peer silent for longer than the token timeout, and withdraw our candidacy when our
        policy fell silent as long."""
        before = self._shown()
        self._compensate_stall(now)
        for name in [n for n, p in self.peers.items() if now - p.last_seen > self.token_timeout]:
            del self.peers[name]
        self._settle_contests(now)
        withdrawn = self.candidacy.expire(now)
        return self._finish(before, now, changed=withdrawn)

    def policy_alive(self, incarnation: str, now: float) -> MembershipChange | None:
        """Our node's policy said it runs; a rising edge (it was silent, or restarted) renews our candidacy,
        which is a view change."""
        if not self.candidacy.heard_policy(incarnation, now):
            return None
        return self._change(renew=True, now=now)

    def rebooted(self, incarnation: str, now: float) -> MembershipChange:
        """This node comes back from an emulated power cut (fenced while its processes lived on) as a new
        incarnation. A rebooted machine's policy restarts with it, so the candidacy is renewed: a fenced DC
        must not hold the role (nobody would act: its own policy waits for a newer view, the others'
        views still name it)."""
        self.incarnation = incarnation
        return self._change(renew=True, now=now)

    def quorum_verdict(self, quorate: bool, change: MembershipChange, now: float) -> MembershipChange:
        """Quorum, which the caller evaluates, of the view ``change`` it is about to publish. When the verdict
        flipped while we are a candidate, our candidacy is renewed: the view is replaced by one with a new
        ring id (same joined/lost/restarted) so that no view is ever published with the stale number."""
        if not self.candidacy.quorum_verdict(quorate):
            return change
        renewed = self._change(renew=True, now=now)
        return replace(change, ring_id=renewed.ring_id, members=renewed.members, dc=renewed.dc)

    # ---------------------------------------------------------------- internals
    def _member_peers(self) -> list[Peer]:
        return [p for p in self.peers.values() if self.is_member(p)]

    def _shown(self) -> dict[str, Shown]:
        """Each member (ourselves included) as the view shows it."""
        shown = {p.node: (p.incarnation, p.votes, p.candidate) for p in self._member_peers()}
        shown[self.node] = (self.incarnation, self.votes, self.candidate)
        return shown

    def _take(self, hb: Heartbeat, now: float) -> None:
        """Record a peer's heartbeat: a new peer or incarnation replaces what we knew, else the newest wins."""
        peer = self.peers.get(hb.node)
        if peer is None or peer.incarnation != hb.incarnation:
            if peer is not None:
                self._retired.setdefault(hb.node, {})[peer.incarnation] = now
            # A restarted peer was heard all along: its new process is judged by what it hears, at once.
            self.peers[hb.node] = Peer(hb.node, hb.incarnation, PEER_VOTES, now, hb.seq, frozenset(hb.hears),
                                       hb.candidate, fresh=peer is None)
            return
        peer.last_seen = max(peer.last_seen, now)
        if hb.seq >= peer.last_seq:  # not an older heartbeat overtaking a newer one
            peer.fresh = False
            peer.last_seq, peer.candidate = hb.seq, hb.candidate
            peer.hears = frozenset(hb.hears)

    def _contest(self, hb: Heartbeat, now: float) -> None:
        """A replaced incarnation still speaks, or a contested node's claimant did: record the claim. The
        node is out of the view until :meth:`_settle_contests` finds one claimant left."""
        claims = self.contested.setdefault(hb.node, {})
        peer = self.peers.pop(hb.node, None)
        if peer is not None:
            claims[peer.incarnation] = max(claims.get(peer.incarnation, 0.0), peer.last_seen)
        claims[hb.incarnation] = now
        self._settle_contests(now)
        if hb.node not in self.contested:
            self._take(hb, now)  # the one claimant left: heard from now on, admitted by the handshake

    def _settle_contests(self, now: float) -> None:
        """Drop claimants silent for a token timeout; a node with one claimant left is no longer contested
        and that claimant's next heartbeat is taken as a newcomer's (the handshake), the others' as retired."""
        for node, claims in list(self.contested.items()):
            for incarnation in [i for i, heard in claims.items() if now - heard > self.token_timeout]:
                del claims[incarnation]
                self._retired.setdefault(node, {})[incarnation] = now
            if len(claims) <= 1:
                del self.contested[node]
                for incarnation in claims:
                    self._retired.get(node, {}).pop(incarnation, None)

    def _compensate_stall(self, now: float) -> None:
        """Credit peers (and our policy) with the time this process could not listen (see the module doc)."""
        if self._last_tick is not None and now - self._last_tick > self.token_timeout / 2:
            stall = now - self._last_tick
            for peer in self.peers.values():
                peer.last_seen += stall
            self.candidacy.shift(stall)
        self._last_tick = now

    def _finish(self, before: dict[str, Shown], now: float, changed: bool = False) -> MembershipChange | None:
        """The new view after an input, or None when the view would show nothing new."""
        after = self._shown()
        if after == before and not changed:
            return None
        lost = tuple(sorted(before.keys() - after.keys()))
        restarted = tuple(sorted(n for n in before.keys() & after.keys() if before[n][0] != after[n][0]))
        # Left alone after losing someone: our membership of the cluster broke (see election's doc).
        alone = bool(lost) and after.keys() == {self.node}
        return self._change(joined=tuple(sorted(after.keys() - before.keys())), lost=lost, restarted=restarted,
                            renew=alone, now=now)

    def _change(self, joined: tuple[str, ...] = (), lost: tuple[str, ...] = (), restarted: tuple[str, ...] = (),
                renew: bool = False, now: float = 0.0) -> MembershipChange:
        self.ring_id = max(self.ring_id, self._highest_ring_seen) + 1
        self._highest_ring_seen = self.ring_id
        if renew:
            self.candidacy.renew(self.ring_id, now)
        return MembershipChange(ring_id=self.ring_id, members=self.members, joined=joined, lost=lost,
                                restarted=restarted, dc=self.dc)
