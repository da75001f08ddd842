"""votequorum's arithmetic: expected votes, the quorum threshold, two_node and wait_for_all.

The rules follow corosync's votequorum(5), which is what sysadmins reason with:

* expected_votes comes from the configuration when set, otherwise from the
  number of nodes the CIB declares, otherwise from the number of nodes ever
  seen; like votequorum it is never below the votes actually present, so a
  cluster that grew past its declared size does not lose quorum for it;
* quorum = expected_votes // 2 + 1;
* two_node forces the quorum to 1, but only in a cluster of exactly two
  expected votes (votequorum ignores it otherwise), and it implies
  wait_for_all: without that, both halves of a split two-node cluster
  starting apart would each believe they are quorate;
* wait_for_all keeps the partition inquorate until all expected votes have
  been present at the same time once; after that it no longer matters.

Until the expected count is known for real (configured, or the CIB was read)
the partition is never quorate and the wait_for_all latch cannot be set: a
node that has not read the CIB yet counts only itself and would otherwise
believe it is the whole cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class QuorumSettings:
    expected_votes: int = 0
    two_node: bool = False
    wait_for_all: bool = False

    @classmethod
    def from_config(cls, cfg: Any) -> QuorumSettings:
        return cls(expected_votes=max(0, int(cfg.expected_votes)), two_node=bool(cfg.two_node),
                   wait_for_all=bool(cfg.wait_for_all))


@dataclass(frozen=True)
class QuorumState:
    quorate: bool
    total_votes: int
    expected_votes: int
    quorum: int
    #: True while wait_for_all still holds quorum back.
    waiting_for_all: bool = False
    two_node: bool = False


def expected_votes(settings: QuorumSettings, cib_nodes: int | None, ever_seen: int, total_votes: int) -> int:
    """``cib_nodes`` is None while the CIB has not been read."""
    declared = settings.expected_votes or cib_nodes or ever_seen
    return max(declared, total_votes, 1)


def two_node_active(settings: QuorumSettings, expected: int) -> bool:
    return settings.two_node and expected == 2


def quorum_threshold(settings: QuorumSettings, expected: int) -> int:
    return 1 if two_node_active(settings, expected) else expected // 2 + 1


class QuorumCalculator:
    """Evaluates quorum; holds the one piece of history votequorum has (wait_for_all's latch)."""

    def __init__(self, settings: QuorumSettings):
        self.settings = settings
        self._all_seen_once = False

    def evaluate(self, total_votes: int, cib_nodes: int | None, ever_seen: int) -> QuorumState:
        expected = expected_votes(self.settings, cib_nodes, ever_seen, total_votes)
        quorum = quorum_threshold(self.settings, expected)
        two_node = two_node_active(self.settings, expected)
        known = bool(self.settings.expected_votes) or cib_nodes is not None
        if known and total_votes >= expected:
            self._all_seen_once = True
        waiting = (self.settings.wait_for_all or two_node) and not self._all_seen_once
        quorate = known and total_votes >= quorum and not waiting
        return QuorumState(quorate=quorate, total_votes=total_votes,
                           expected_votes=expected, quorum=quorum, waiting_for_all=waiting,
                           two_node=two_node)
