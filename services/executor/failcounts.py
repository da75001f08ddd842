"""Which failures raise a fail count, and by how much: the controller's rules on top of lrm.result_ops.

``lrm.result_ops`` records a failure and bumps ``fail-count-RSC#OP_INTERVAL``
by one. Pacemaker's controller is more selective, and the scheduler's
decisions depend on it:

- only recurring operations, start, stop, promote and demote count; a probe
  that finds a resource in an unexpected state is history, not a failure to
  count (it still gets its last_failure record);
- a failed start sets the count to INFINITY when ``start-failure-is-fatal`` is
  true (the default), so the resource moves instead of restarting in place;
- a failed stop always sets INFINITY;
- ``on-fail=ignore`` keeps the last-failure time but not the count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paceline.shared import lrm

COUNTED_TASKS = ("start", "stop", "promote", "demote")
INFINITY = "INFINITY"


def counts(result: lrm.OpResult) -> bool:
    return result.interval_ms > 0 or result.task in COUNTED_TASKS


def status_ops(result: lrm.OpResult, agent: Mapping[str, str], meta: Mapping[str, str] | None = None,
               start_failure_is_fatal: bool = True) -> list[dict[str, Any]]:
    """The status patch recording ``result`` the way Pacemaker's controller would."""
    ops = lrm.result_ops(result, agent)
    meta = meta or {}
    on_fail = (meta.get("on-fail") or meta.get("on_fail") or "").lower()
    fatal = result.task == "stop" or (result.task == "start" and start_failure_is_fatal)
    out: list[dict[str, Any]] = []
    for op in ops:
        name = str(op.get("name", ""))
        if name.startswith("fail-count-"):
            if not counts(result) or on_fail == "ignore":
                continue
            if fatal:
                op = {"op": "attr", "name": name, "value": INFINITY}
        elif name.startswith("last-failure-") and not counts(result):
            continue
        out.append(op)
    return out
