"""How long a failover took, as the DC sees it: from a member lost in its node's view to its first plan with
nothing left to do (the lost node's resources running elsewhere, fencing included where it must wait).

Pure: views and plans in, a duration out. Only the DC measures (a node that is not DC forgets a loss; the DC
measures it), and one measurement covers every loss until the cluster has settled, as an operator would time
the failover of two nodes lost together.
"""

from __future__ import annotations

from collections.abc import Iterable


class RecoveryClock:
    def __init__(self) -> None:
        self.lost_at: float | None = None

    def view(self, before: Iterable[str] | None, after: Iterable[str], now: float) -> None:
        """Our node's view changed from ``before`` (None: the first one) to ``after``."""
        if before is not None and set(before) - set(after) and self.lost_at is None:
            self.lost_at = now

    def not_dc(self) -> None:
        """Not the DC (any more): the DC times the failover."""
        self.lost_at = None

    def settled(self, now: float) -> float | None:
        """The DC planned nothing left to do: the failover's duration, if one was under way."""
        if self.lost_at is None:
            return None
        seconds, self.lost_at = now - self.lost_at, None
        return seconds
