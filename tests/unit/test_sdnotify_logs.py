"""sd_notify over a real datagram socket, journald priorities, and misspelt settings warned about."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from paceline.shared import config, logs, sdnotify


@pytest.fixture
def notify_socket(tmp_path: Path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    sock.settimeout(5)
    yield sock, str(tmp_path / "notify")
    sock.close()


def test_notify_sends_one_datagram_to_the_named_socket(notify_socket):
    sock, path = notify_socket
    assert sdnotify.notify("READY=1\nSTATUS=up", env={"NOTIFY_SOCKET": path})
    assert sock.recv(4096) == b"READY=1\nSTATUS=up"


def test_notify_outside_systemd_or_to_a_gone_socket_is_a_quiet_no(tmp_path: Path):
    assert not sdnotify.notify("READY=1", env={})
    assert not sdnotify.notify("READY=1", env={"NOTIFY_SOCKET": str(tmp_path / "gone")})


def test_abstract_socket_names_start_with_at():
    name = f"paceline-test-{id(object())}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        assert sdnotify.notify("WATCHDOG=1", env={"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(64) == b"WATCHDOG=1"


@pytest.mark.parametrize("env, pid, interval", [
    ({"WATCHDOG_USEC": "30000000"}, 7, 15.0),
    ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "7"}, 7, 15.0),
    ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "8"}, 7, None),  # systemd watches another process
    ({}, 7, None),
    ({"WATCHDOG_USEC": "soon"}, 7, None),
])
def test_watchdog_interval_is_half_of_systemds(env, pid, interval):
    assert sdnotify.watchdog_interval(env, pid) == interval


def test_journal_stream_is_recognised_by_device_and_inode(tmp_path: Path):
    with open(tmp_path / "journal", "w") as stream, open(tmp_path / "other", "w") as other:
        import os

        st = os.fstat(stream.fileno())
        env = {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
        assert logs.writes_to_journal(stream, env)
        assert not logs.writes_to_journal(other, env)  # inherited variable, another stream: no prefixes
        assert not logs.writes_to_journal(stream, {})


def test_every_line_gets_its_levels_syslog_priority():
    assert logs.journal_priority(None, "error", "boom") == "<3>boom"
    assert logs.journal_priority(None, "warning", "careful") == "<4>careful"
    assert logs.journal_priority(None, "info", "started") == "<6>started"
    assert logs.journal_priority(None, "exception", "failed\nTraceback\n  line") == "<3>failed\n<3>Traceback\n<3>  line"


def test_unknown_keys_and_variables_are_warned_about_with_the_closest_name(tmp_path: Path):
    f = tmp_path / "paceline.toml"
    f.write_text('token_timout = 2.5\nnode = "n1"\nwholly_unknown = 1\n')
    cfg = config.load(f, env={"PACELINE_NODES": "n2", "PACELINE_LAB": "/x", "PACELINE_NODE": "n3"})
    assert cfg.token_timeout == 0.6 and cfg.node == "n3"  # nothing misspelt is applied
    assert cfg.warnings == [
        f"config file {f}: unknown setting 'token_timout' ignored (did you mean 'token_timeout'?)",
        f"config file {f}: unknown setting 'wholly_unknown' ignored",
        "environment: unknown variable PACELINE_NODES ignored (did you mean 'PACELINE_NODE'?)",
    ]


def test_every_variable_the_project_sets_is_known():
    """The lab and the tests set these; none of them may be warned about."""
    import re

    root = Path(__file__).resolve().parents[2]
    used = set()
    for path in [*root.glob("services/**/*.py"), *root.glob("shared/**/*.py"), *root.glob("tests/**/*.py")]:
        used |= set(re.findall(r"\bPACELINE_[A-Z_]+[A-Z]\b", path.read_text()))
    used -= {"PACELINE_NODES", "PACELINE_TOKEN_TIMOUT"}  # the misspellings the tests of the warning use
    assert config.load(env={name: "1" if name != "PACELINE_CLUSTER" else "c" for name in used
                            if name not in ("PACELINE_CONFIG",)}, cluster="c").warnings == []
