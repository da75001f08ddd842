"""A real service started the way systemd starts a ``Type=notify`` unit with ``WatchdogSec=``, stderr to the journal.

No systemd runs here, so the test plays its part: it binds the notification socket
(``$NOTIFY_SOCKET``), sets ``$WATCHDOG_USEC`` and ``$JOURNAL_STREAM`` (the device and inode of the
file the service's stderr goes to), and reads what a real membership service on a real nats-server sends.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from tests.support.wait import until


def test_ready_then_watchdog_pings_and_priorities_in_the_journal(nats_server, tmp_path: Path) -> None:
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(60)
    journal = tmp_path / "journal"
    with open(journal, "wb") as stderr:
        st = os.fstat(stderr.fileno())
        env = {"PATH": os.environ["PATH"], "NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "400000",
               "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}", "PACELINE_TOKEN_TIMOUT": "2"}
        proc = subprocess.Popen([sys.executable, "-m", "paceline.membership", "--node", "n1", "--cluster", "sd",
                                 "--nats-url", nats_server.url, "--state-dir", str(tmp_path / "state"),
                                 "--metrics-port", "-1"], stdout=subprocess.DEVNULL, stderr=stderr, env=env)
    try:
        first = notify.recv(4096).decode()
        assert first.startswith("READY=1\n") and f"STATUS=connected to {nats_server.url}" in first
        pings = [notify.recv(4096) for _ in range(3)]  # every 0.2 s: half of WatchdogSec
        assert pings == [b"WATCHDOG=1"] * 3
        def logged() -> str | None:
            text = journal.read_text()
            return text if "<6>" in text and "<4>" in text else None

        text = str(until(logged, "the service logged info and warning lines", timeout=30))
        assert all(line[:3] in ("<2>", "<3>", "<4>", "<6>", "<7>") for line in text.splitlines() if line)
        warning = next(line for line in text.splitlines() if "PACELINE_TOKEN_TIMOUT" in line)
        assert warning.startswith("<4>") and "did you mean 'PACELINE_TOKEN_TIMEOUT'?" in warning
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        notify.settimeout(0)
        left = []
        while True:
            try:
                left.append(notify.recv(4096))
            except BlockingIOError:
                break
        assert left[-1] == b"STOPPING=1"  # the last word: no ping after it
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        notify.close()
