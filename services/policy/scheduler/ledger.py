"""A record of why each allowed-node score is what it is, kept only for the resources someone asks about.

Placement changes a resource's allowed table in many places (node base
scores, history bans, location constraints, stickiness, failure limits,
colocations). When a ``Ledger`` watches a resource, each of those steps
leaves an entry naming its source and the score before and after, which is
what ``explain`` (``paceline simulate --explain``, the shell's ``resource why``)
shows. Unwatched resources cost one set lookup per step.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Entry:
    """One change to one node's score: ``before`` is None when the step created the entry."""

    node: str
    source: str
    before: int | None
    after: int


@dataclass
class Ledger:
    watched: set[str]
    entries: dict[str, list[Entry]] = field(default_factory=dict)

    def watches(self, rsc_id: str) -> bool:
        return rsc_id in self.watched

    def note(self, rsc_id: str, node: str, source: str, before: int | None, after: int) -> None:
        if before != after:
            self.entries.setdefault(rsc_id, []).append(Entry(node, source, before, after))

    def note_tables(self, rsc_id: str, source: str, before: dict[str, int], after: dict[str, int]) -> None:
        """Record every node whose score a whole-table step (a colocation) changed."""
        for node, score in after.items():
            self.note(rsc_id, node, source, before.get(node), score)
