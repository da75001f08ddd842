"""systemd's readiness and watchdog protocol (sd_notify(3)), written out: it is one datagram on a socket.

A unit with ``Type=notify`` counts as started only once its process sends
``READY=1`` to the ``AF_UNIX`` datagram socket named by ``$NOTIFY_SOCKET``
(a path, or an abstract name when it starts with ``@``); with ``WatchdogSec=``,
systemd sets ``$WATCHDOG_USEC`` and restarts the service when no ``WATCHDOG=1``
arrives within it. Outside systemd (no ``$NOTIFY_SOCKET``) every call is a
no-op, so the services send these unconditionally. Written here rather than
taken from a library: the protocol is these few lines and no dependency is worth it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping


def notify(state: str, env: Mapping[str, str] | None = None) -> bool:
    """Send ``state`` (``READY=1``, ``WATCHDOG=1``, ``STOPPING=1``, ``STATUS=...``; several joined by
    newlines); whether it was sent (False outside systemd, or when the socket is gone)."""
    address = (os.environ if env is None else env).get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket: a leading NUL byte instead of the '@'
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError:
        return False
    return True


def watchdog_interval(env: Mapping[str, str] | None = None, pid: int | None = None) -> float | None:
    """Seconds between ``WATCHDOG=1`` pings: half of ``$WATCHDOG_USEC`` (as sd_watchdog_enabled(3)
    advises), or None when systemd watches no watchdog for this process (``$WATCHDOG_PID`` names another)."""
    env = os.environ if env is None else env
    try:
        usec = int(env.get("WATCHDOG_USEC", "0"))
        owner = int(env.get("WATCHDOG_PID", "0"))
    except ValueError:
        return None
    if usec <= 0 or (owner and owner != (os.getpid() if pid is None else pid)):
        return None
    return usec / 2e6
