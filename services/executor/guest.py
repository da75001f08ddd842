"""Who a remote executor is when it runs inside a bundle's container: the guest node's name.

Pacemaker's ``pacemaker-remoted`` needs no name of its own: the cluster connects to it and names it. A
Paceline remote executor is reached on the bus by its node's subjects (``executor.*.<node>``) and connects
with that node's credential, so it must know the name before anything reaches it. In a bundle every
replica's container is started from the same ``image`` and ``run-command``, so the command line cannot
carry the name; what differs per replica is Pacemaker's own ``run_opts`` (``lib/pengine/bundle.c``): when a
primitive is inside, each replica ``B-i`` mounts ``<bundle log dir>/B-i`` at ``/var/log``. The last part of
the source of that mount, as the kernel reports it in ``/proc/self/mountinfo``, is the guest node's name.

``PACELINE_NODE`` (or ``--node``) still wins: a guest made with ``remote-node`` on a container primitive
(whose options the user writes) can simply pass ``-e PACELINE_NODE=NAME``.
"""

from __future__ import annotations

from pathlib import Path

#: Where Pacemaker mounts each replica's own log directory inside a bundle's container.
REPLICA_LOG_MOUNT = "/var/log"
MOUNTINFO = Path("/proc/self/mountinfo")


def _unescape(field: str) -> str:
    r"""mountinfo writes space, tab, newline and backslash in paths as octal escapes (``\040``)."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def name_from_mountinfo(text: str, mount_point: str = REPLICA_LOG_MOUNT) -> str:
    """The replica name in ``/proc/self/mountinfo``'s text: the last part of the root of the bind mount at
    ``mount_point`` (the directory it shows, ``/var/log/pacemaker/bundles/web-0`` -> ``web-0``); "" when
    nothing is mounted there or it is a whole filesystem (no replica directory). Pure."""
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 5 and _unescape(fields[4]) == mount_point:
            root = _unescape(fields[3]).rstrip("/")
            return root.rpartition("/")[2] if root else ""
    return ""


def guest_name(mountinfo: Path = MOUNTINFO) -> str:
    """This process's guest node name from its mounts ("" outside a bundle's container)."""
    try:
        return name_from_mountinfo(mountinfo.read_text())
    except OSError:
        return ""
