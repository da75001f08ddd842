"""The watchdog: what sbd and a hardware watchdog are to a Pacemaker node, as a small separate process.

Membership pets it (a datagram on ``watchdog.sock`` in the node's state directory) every heartbeat tick
while the node is part of a quorate membership. When the pets stop for ``timeout`` seconds - membership
hung or paused, the node cut off and without quorum - the watchdog resets the node: it SIGKILLs every
process of the node (the Paceline services and bus server listed in ``--node-pids``, and every
process the node's agents started, from their pid files) and wipes the node's volatile run directory, as
a hardware reset would. It is armed by the first pet, and exits after a reset (the machine is down).

Survivors may then treat a lost node as fenced once ``stonith-watchdog-timeout`` has passed since they
lost it: set it above ``timeout`` (twice, as sbd advises), so the reset has happened before anything of
the node is started elsewhere.

    python -m paceline.membership.watchdog --state-dir DIR --timeout SECONDS [--node-pids FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from paceline.shared import containers
from paceline.shared.pidfiles import LAB_DIR_ENV, pids_under, started_for

SOCKET = "watchdog.sock"
#: Default file of the pids of the node's own processes (services, bus server), one per line, kept by
#: whoever starts them (``--node-pids``).
PIDS = "node.pids"
PET = b"pet"


@dataclass
class Countdown:
    """Pure: pets in, "expired" out (armed by the first pet)."""

    timeout: float
    last_pet: float | None = None

    def pet(self, now: float) -> None:
        self.last_pet = now

    def expired(self, now: float) -> bool:
        return self.last_pet is not None and now - self.last_pet > self.timeout


def pet(state_dir: Path) -> bool:
    """Pet the node's watchdog; False when none listens (not configured, or already fired)."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        sock.sendto(PET, str(state_dir / SOCKET))
        return True
    return False


def listening(state_dir: Path) -> bool:
    """Whether a watchdog listens on the node's socket (connects without sending: asking is not petting)."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect(str(state_dir / SOCKET))
        return True
    return False


def node_processes(state_dir: Path, listed: Path) -> list[int]:
    """Everything a reset kills: the listed node processes, and every pid file under the run directory;
    only those that are still the node's (their command line or environment names the node's directory,
    or the lab's that started this watchdog): a listed pid may since have been recycled for anything."""
    pids = []
    for line in (listed.read_text().split() if listed.exists() else []):
        if line.isdigit():
            pids.append(int(line))
    pids += pids_under(state_dir / "run")
    roots = [state_dir.absolute(), *([Path(os.environ[LAB_DIR_ENV])] if os.environ.get(LAB_DIR_ENV) else [])]
    return [p for p in pids if p > 1 and p != os.getpid() and started_for(p, roots)]


def reset(state_dir: Path, listed: Path | None = None) -> list[int]:
    """The hardware reset: SIGKILL the node's processes, then wipe its run directory."""
    killed = []
    for pid in node_processes(state_dir, listed or state_dir / PIDS):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    containers.wipe([state_dir / "run"])  # its containers too: outside the process tree, yet on this machine
    return killed


def say(event: str, **fields: object) -> None:
    print(json.dumps({"service": "watchdog", "event": event, "timestamp": time.time(), **fields}), flush=True)


def watch(state_dir: Path, timeout: float, listed: Path) -> int:
    path = state_dir / SOCKET
    state_dir.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    countdown = Countdown(timeout)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(min(0.05, timeout / 10))
        say("watching", timeout=timeout, socket=str(path))
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    if sock.recv(64) == PET:
                        if countdown.last_pet is None:
                            say("armed")
                        countdown.pet(time.monotonic())
                now = time.monotonic()
                if countdown.expired(now):
                    silent = round(now - (countdown.last_pet or now), 3)
                    killed = reset(state_dir, listed)
                    say("reset: no pet in time", silent_for=silent, killed=killed)
                    return 0
        finally:
            path.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="paceline-watchdog", description=__doc__.split("\n\n")[0])
    p.add_argument("--state-dir", required=True, help="the node's state directory (membership's)")
    p.add_argument("--timeout", type=float, required=True, help="seconds without a pet before the reset")
    p.add_argument("--node-pids", help=f"file listing the node's own pids (default: STATE_DIR/{PIDS})")
    args = p.parse_args(argv)
    if args.timeout <= 0:
        print("ERROR: --timeout must be positive", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    state_dir = Path(args.state_dir)
    return watch(state_dir, args.timeout, Path(args.node_pids) if args.node_pids else state_dir / PIDS)


if __name__ == "__main__":
    raise SystemExit(main())
