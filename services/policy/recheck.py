"""When the DC must plan again although nothing changed: the recheck interval and expiring failures.

Pacemaker re-runs its scheduler every ``cluster-recheck-interval`` and, sooner,
when a failure is due to expire (``failure-timeout``), because the passage of
time alone can change a decision - a resource banned by its fail count may run
again once the failure is forgotten. Nothing on the bus announces that
moment, so the DC sets a timer for it.
"""

from __future__ import annotations

from paceline.shared.cluster import history, locks
from paceline.shared.cluster.model import ClusterState
from paceline.shared.cluster.timespec import interval_ms

DEFAULT_RECHECK = "15min"
#: last-failure has one-second resolution and expiry needs "now > last + timeout": plan just after.
EXPIRY_MARGIN = 1.0


def next_recheck(state: ClusterState, now: float) -> float:
    """Seconds from ``now`` until the next plan is due even without any event."""
    recheck = interval_ms(state.options.get("cluster-recheck-interval") or DEFAULT_RECHECK) / 1000
    due = now + recheck if recheck > 0 else float("inf")
    for rsc in state.primitives():
        if rsc.failure_timeout_ms <= 0:
            continue
        for node in state.nodes.values():
            count, last = history.fail_count(state, rsc, node)
            if count and last:
                expiry = last + rsc.failure_timeout_ms / 1000 + EXPIRY_MARGIN
                if expiry > now:
                    due = min(due, expiry)
    for expiry in locks.expiries(state):
        if expiry + EXPIRY_MARGIN > now:
            due = min(due, expiry + EXPIRY_MARGIN)
    return max(0.0, due - now)
