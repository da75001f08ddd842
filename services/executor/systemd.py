"""The ``systemd`` class: units started, stopped and watched through ``systemctl``, as Pacemaker does over D-Bus.

Only where systemd is the init system (PID 1) - checked the way ``sd_booted``
does, by the existence of ``/run/systemd/system``. Elsewhere every operation
is answered "not installed" with an exit reason saying why, so the scheduler
places the resource on a node that can run it. Command construction and the
reading of ``systemctl show`` are plain functions, testable on any machine.
"""

from __future__ import annotations

from pathlib import Path

from paceline.shared.lrm import OCF_ERR_GENERIC, OCF_ERR_INSTALLED, OCF_NOT_RUNNING, OCF_SUCCESS

SYSTEMD_RUNTIME = Path("/run/systemd/system")
SYSTEMCTL = "systemctl"
#: Unit suffixes a resource may name; anything else is a service (Pacemaker appends ".service" too).
UNIT_SUFFIXES = (".service", ".socket", ".mount", ".timer", ".path", ".target", ".slice", ".scope")
#: systemctl's "no such unit" exit status (LSB "program is not installed" for start/stop).
SYSTEMCTL_NO_UNIT = 5
STATE_PROPERTIES = "LoadState,ActiveState"
#: ActiveState values that mean the unit is running (activating: its start job is under way).
RUNNING_STATES = ("active", "reloading", "activating")
NOT_RUNNING_REASON = "systemd is not the init system on this node (no /run/systemd/system)"


def running(runtime_dir: Path = SYSTEMD_RUNTIME) -> bool:
    return runtime_dir.is_dir()


def unit_name(name: str) -> str:
    return name if name.endswith(UNIT_SUFFIXES) else f"{name}.service"


def command(task: str, unit: str) -> list[str] | None:
    """The systemctl call for an operation, or None when systemd units have no such action."""
    unit = unit_name(unit)
    if task in ("start", "stop", "reload"):
        # systemctl waits for the job to finish, which is what an operation's result must mean.
        return [SYSTEMCTL, task, unit]
    if task in ("monitor", "status"):
        return [SYSTEMCTL, "show", f"--property={STATE_PROPERTIES}", unit]
    return None


def read_state(show_output: str) -> int:
    """The OCF rc of a monitor from ``systemctl show`` output (``Key=value`` lines)."""
    props = dict(line.split("=", 1) for line in show_output.splitlines() if "=" in line)
    if props.get("LoadState") in ("not-found", "bad-setting", "error", "masked"):
        return OCF_ERR_INSTALLED
    return OCF_SUCCESS if props.get("ActiveState") in RUNNING_STATES else OCF_NOT_RUNNING


def action_rc(task: str, code: int) -> int:
    """The OCF rc of systemctl start/stop/reload: a missing unit is "not installed", except that it is stopped."""
    if code == 0:
        return OCF_SUCCESS
    if code == SYSTEMCTL_NO_UNIT:
        return OCF_SUCCESS if task == "stop" else OCF_ERR_INSTALLED
    return OCF_ERR_GENERIC


def list_command() -> list[str]:
    return [SYSTEMCTL, "list-unit-files", "--type=service", "--no-legend", "--no-pager"]


def read_unit_list(output: str) -> list[str]:
    """Service names (without ``.service``) from ``systemctl list-unit-files`` output."""
    names = []
    for line in output.splitlines():
        word = line.split(None, 1)[0] if line.strip() else ""
        if word.endswith(".service") and "@" not in word:
            names.append(word[: -len(".service")])
    return sorted(names)
