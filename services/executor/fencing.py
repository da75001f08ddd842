"""The ``stonith`` class: fence agents spoken to with the fence-agents argument protocol.

A fence agent reads ``name=value`` lines on stdin (``action=...`` plus the
device's parameters, and the target node in ``port``/``plug`` or whatever
``pcmk_host_argument`` names) and answers with its exit status: 0 success,
and for ``status`` 0 "on" / 2 "off". Pacemaker's own ``pcmk_*`` parameters
configure the cluster's use of the device and are never passed to the agent.

As a resource, a fence device is "started" when it is registered on a node
(Pacemaker's executor registers it with the fencer and checks it with a
monitor); the registration lives in the node's volatile run directory, so a
crashed node forgets it the way the fencer would.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from paceline.shared.lrm import OCF_ERR_GENERIC, OCF_NOT_RUNNING, OCF_SUCCESS

#: Actions fence agents implement (fence-agents' common set).
FENCE_ACTIONS = ("on", "off", "reboot", "status", "list", "list-status", "monitor", "metadata", "validate-all")
#: Actions that act on one target node.
TARGETED = ("on", "off", "reboot", "status")
DEFAULT_HOST_ARGUMENT = "port"
#: A fence agent's ``status`` exit code for a target that is powered off.
STATUS_OFF = 2


def agent_action(task: str) -> str | None:
    """The fence-agent action behind a resource operation (None: the executor does it itself)."""
    if task in ("start", "stop"):
        return None
    if task == "meta-data":
        return "metadata"
    return task if task in FENCE_ACTIONS else None


def stdin_args(params: Mapping[str, str], action: str, target: str | None = None) -> str:
    """The agent's stdin: device parameters, the action and, for targeted actions, the node."""
    lines = [f"{k}={v}" for k, v in sorted(params.items()) if not k.startswith(("pcmk_", "CRM_meta_"))
             and "\n" not in str(v)]
    mapped = params.get(f"pcmk_{action}_action") or action
    lines.append(f"action={mapped}")
    if target and action in TARGETED:
        host_arg = params.get("pcmk_host_argument", DEFAULT_HOST_ARGUMENT)
        if host_arg != "none":
            lines.append(f"{host_arg}={target}")
        lines.append(f"nodename={target}")
    return "\n".join(lines) + "\n"


def with_port(params: Mapping[str, str], target: str, port: str) -> dict[str, str]:
    """Device parameters that hand the agent ``port`` (``pcmk_host_map``'s name for ``target``) as the plug.

    The port goes in as the device's own host argument and the automatic one is
    switched off, so :func:`stdin_args` still adds ``nodename=<target>``.
    """
    out = dict(params)
    if port and port != target:
        host_arg = out.get("pcmk_host_argument", DEFAULT_HOST_ARGUMENT)
        if host_arg != "none":
            out[host_arg] = port
        out["pcmk_host_argument"] = "none"
    return out


def monitor_rc(code: int) -> int:
    """A device check (``monitor``/``validate-all``) either works or is a generic error."""
    return OCF_SUCCESS if code == 0 else OCF_ERR_GENERIC


def status_rc(code: int) -> int:
    """``status`` of a target: 0 on, 2 off (reported as "not running"), anything else an error."""
    if code == 0:
        return OCF_SUCCESS
    return OCF_NOT_RUNNING if code == STATUS_OFF else OCF_ERR_GENERIC


def registration(rsctmp: Path, rsc: str) -> Path:
    """The marker of a started (registered) fence device on this node."""
    return rsctmp / f"stonith-device-{rsc}"
