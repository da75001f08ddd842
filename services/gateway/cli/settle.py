"""``-w``/``--wait`` and ``resource wait``: wait until the cluster has settled, as crmsh's ``crm -w`` does.

crmsh waits for the DC's controller to be back in S_IDLE. Paceline asks the question Pacemaker's own
``crm_resource --wait`` asks instead, which needs no new endpoint and also covers what ``status`` will show:
the cluster has settled when the scheduler, run on the CIB as it is now (the gateway's ``cib`` endpoint: the
configuration with the status section the executors' results are recorded in), has no action left to take.
A change is in that CIB as soon as its command returns, so a stop still to be done - or done but not yet
recorded - keeps the answer "not yet"; once the result is in the CIB, ``paceline status`` shows it.

The wait polls (every 0.25 s, backing off to 1 s, as crmsh's wait4dc) for at most ``core.wait_timeout``
seconds (120 by default, 0: for ever as crmsh), and on a terminal shows crmsh's progress on stderr:
``waiting for stop to finish .... done``. A CIB file has nothing to wait for: ``-w`` does nothing there,
and ``resource wait`` says at once whether the file's CIB is at rest.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, TextIO

from paceline.crm.errors import CrmError

if TYPE_CHECKING:
    from paceline.client.backends import Backend

#: Pacemaker's CRM_EX_TIMEOUT: what ``crm_resource --wait`` exits with when the cluster did not settle in time.
EXIT_TIMEOUT = 124
FIRST_POLL, LAST_POLL = 0.25, 1.0
#: At most this many pending actions are named in a timeout's message.
SHOWN = 3


class NotSettled(CrmError):
    """The cluster still had actions left when the wait ran out."""


def pending(backend: Backend) -> list[str]:
    """What the scheduler would still do on the backend's CIB, now."""
    from paceline.cli.simulate import pending_actions

    root, _version = backend.load()
    return pending_actions(root)


def is_live(backend: Backend) -> bool:
    """Whether the backend is a cluster (something acts on its CIB), rather than a CIB file or a shadow."""
    from paceline.client.backends import LiveBackend

    return isinstance(backend, LiveBackend)


def settle(backend: Backend, timeout: float, what: str, err: TextIO | None = None,
           waiting_for: str = "") -> None:
    """Return once nothing is pending; NotSettled after ``timeout`` seconds (0: no limit).

    ``what`` names the command in errors; ``waiting_for`` ends the progress line (default: ``WHAT to finish``,
    crmsh's words), which is written only when ``err`` is a terminal.
    """
    err = err or sys.stderr
    if not is_live(backend):
        left = pending(backend)
        if left:
            raise CrmError(f"{what}: {_describe(left)} on this CIB, and no cluster runs it")
        return
    show = err.isatty()
    deadline = time.monotonic() + timeout if timeout > 0 else None
    pause, started = FIRST_POLL, False
    while True:
        left = pending(backend)
        if not left:
            if started:
                err.write(" done\n")
            return
        if deadline is not None and time.monotonic() >= deadline:
            if started:
                err.write("\n")
            raise NotSettled(f"{what}: the cluster did not settle within {timeout:g}s; {_describe(left)}")
        if show:
            err.write("." if started else f"waiting for {waiting_for or what + ' to finish'} .")
            err.flush()
            started = True
        time.sleep(pause if deadline is None else max(0.0, min(pause, deadline - time.monotonic())))
        pause = min(pause * 2, LAST_POLL)


def _describe(actions: list[str]) -> str:
    named = "; ".join(" ".join(a.split()) for a in actions[:SHOWN])
    more = f" and {len(actions) - SHOWN} more" if len(actions) > SHOWN else ""
    return f"{len(actions)} action(s) pending ({named}{more})"


def resource_wait(backend: Backend, args: list[str], err: TextIO | None = None) -> str:
    """``resource wait``: settle with the run's ``core.wait_timeout``; nothing to print once settled."""
    from paceline.crm.preferences import session

    if args:
        raise CrmError(f"resource wait: unexpected {args[0]!r} (it takes no arguments; "
                       "-o core.wait_timeout=SECONDS sets how long)")
    settle(backend, session().wait_timeout, "resource wait", err, waiting_for="the cluster to settle")
    return ""


def after(backend: Backend, words: list[str], err: TextIO | None = None) -> None:
    """crmsh's ``-w``: after ``LEVEL COMMAND ...`` ran on a cluster, wait if the run asked for it and the command
    is one crmsh waits after. A CIB file or a shadow: nothing acts on it, nothing to wait for."""
    from paceline.cli.commands import waits
    from paceline.crm.preferences import session

    prefs = session()
    if prefs.wait and waits(words) and is_live(backend):
        settle(backend, prefs.wait_timeout, " ".join(words[:2]), err)
