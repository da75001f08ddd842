"""Has a resource's definition changed since it started? Compare recorded op digests with the config.

Two digest recipes are accepted: Pacemaker's (md5 of a ``<parameters .../>``
element, so CIBs exported from Pacemaker keep their resources running) and
Paceline's own ``paceline.shared.lrm.params_digest`` that our executor records.
"""

from __future__ import annotations

from collections.abc import Mapping

from paceline.shared.cluster.model import HistoryOp, Resource
from paceline.shared.lrm import pacemaker_digest, params_digest


def op_params(rsc: Resource, node: str | None, task: str, interval: int) -> dict[str, str]:
    params = dict(rsc.params_on(node))
    if params.get("addr", "").lower() == "#uname" and rsc.launcher is not None:
        # A bundle connection without an address of its own reaches the host its container runs on
        # (``pe__add_bundle_remote_name``, Pacemaker's REMOTE_CONTAINER_HACK): digests are of that name.
        host = rsc.launcher.status.active_on[0] if rsc.launcher.status.active_on else node
        if host is not None:
            params["addr"] = host
    for op in rsc.ops:
        if op.name == task and op.interval_ms == interval:
            params.update(op.params)
            break
    return params


def _matches(recorded: str, params: Mapping[str, str]) -> bool:
    return recorded in (pacemaker_digest(params), params_digest(params))


def check_op(rsc: Resource, node: str, op: HistoryOp) -> str | None:
    """'restart', 'reload' or None for one history entry of a non-recurring op."""
    if op.digest is None:
        return None
    task = "start" if op.task in ("monitor", "promote", "migrate_from") else op.task
    params = op_params(rsc, node, task, 0)
    if op.restart_digest is not None and op.force_restart is not None:
        names = op.force_restart.split()
        restart_params = {k: v for k, v in params.items() if k in names}
        if not _matches(op.restart_digest, restart_params):
            return "restart"
    if _matches(op.digest, params):
        return None
    if op.secure_digest is not None:
        secure = set((op.secure_params or " passwd password user ").split())
        fencing = rsc.agent.get("class") == "stonith"
        # Fencing devices' pcmk_* parameters are the cluster's, not the agent's: left out of this digest.
        kept = {k: v for k, v in params.items()
                if k not in secure and not (fencing and k.startswith("pcmk_"))}
        if _matches(op.secure_digest, kept):
            return None
    if op.restart_digest is not None:
        return "reload"
    return "restart"


def definition_change(rsc: Resource, node: str) -> str | None:
    """What the definition changes since ``rsc`` last started on ``node`` call for: 'restart', 'reload' or None."""
    ops = rsc.status.history.get(node, [])
    last_start = None
    for i, op in enumerate(ops):
        if op.task in ("start", "migrate_from"):
            last_start = i
    if last_start is None:
        return None
    result = None
    for op in ops[last_start:]:
        if op.interval_ms != 0 or op.task not in ("start", "monitor", "promote", "migrate_from"):
            continue
        verdict = check_op(rsc, node, op)
        if verdict == "restart":
            return "restart"
        result = result or verdict
    return result
