"""The interactive shell on a real terminal (tmux): levels, tab completion, staged configure, edit."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
import uuid

import pytest
from paceline.lab.story import paceline_argv

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)")]


class Terminal:
    """One tmux session on a private server socket, running a command in a 200x50 window."""

    def __init__(self, command: list[str], env: dict[str, str]):
        self.socket = f"paceline-test-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        subprocess.run(["tmux", "-L", self.socket, "new-session", "-d", "-s", "t", "-x", "200", "-y", "50",
                        f"env {exports} {shlex.join(command)}"], check=True)

    def send(self, *keys: str) -> None:
        subprocess.run(["tmux", "-L", self.socket, "send-keys", "-t", "t", *keys], check=True)

    def type(self, text: str) -> None:
        self.send("-l", text)

    def screen(self) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, "capture-pane", "-p", "-t", "t", "-S", "-200"],
                             capture_output=True, text=True)
        return out.stdout

    def wait_for(self, needle: str, timeout: float = 20) -> str:
        needle = needle.rstrip()  # capture-pane drops trailing blanks
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.screen()
            if needle in text:
                return text
            time.sleep(0.1)
        raise AssertionError(f"{needle!r} did not appear on the terminal:\n{self.screen()}")

    def last_line(self) -> str:
        lines = [line for line in self.screen().splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def terminal(lab, tmp_path):
    env = {k: v for k, v in lab.env().items() if k in ("PATH", "HOME", "PACELINE_LAB", "LANG", "VIRTUAL_ENV")}
    env["PACELINE_HISTORY"] = str(tmp_path / "history")
    env["EDITOR"] = "sed -i 's/Dummy$/Dummy params fake=edited/'"
    env["TERM"] = "xterm"
    term = Terminal(paceline_argv(), env)
    try:
        yield term
    finally:
        term.close()


def test_shell_levels_completion_staging_and_edit(lab, terminal, tmp_path):
    assert lab.paceline("configure", "primitive", "tmuxres1", "ocf:paceline:Dummy").returncode == 0
    t = terminal
    t.wait_for("paceline(live)# ")

    t.type("configure")
    t.send("Enter")
    t.wait_for("paceline(live)configure# ")

    # a property name completes to "name=", a second Tab lists the values under crmsh's hint line
    t.type("property stonith-en")
    t.send("Tab")
    t.wait_for("property stonith-enabled=")
    t.send("Tab", "Tab")
    t.wait_for("stonith-enabled (boolean, [true]):")
    t.send("C-u")

    # a resource id completes from the CIB
    t.type("show tmuxr")
    t.send("Tab")
    t.wait_for("show tmuxres1")
    t.send("Enter")
    t.wait_for("primitive tmuxres1 ocf:paceline:Dummy")

    # staged: invisible to the cluster until commit
    t.type("primitive staged1 ocf:paceline:Dummy")
    t.send("Enter")
    t.type("show changed")
    t.send("Enter")
    t.wait_for("\nprimitive staged1 ocf:paceline:Dummy")
    assert "staged1" not in lab.paceline("status").stdout
    assert "staged1" not in lab.paceline("configure", "show").stdout

    # edit with a scripted $EDITOR (sed adds a parameter), still staged
    t.type("edit staged1")
    t.send("Enter")
    t.type("show staged1")
    t.send("Enter")
    t.wait_for("params fake=edited")
    assert "staged1" not in lab.paceline("configure", "show").stdout

    t.type("commit")
    t.send("Enter")
    t.wait_for("INFO: committed as version")
    shown = lab.paceline("configure", "show", "staged1")
    assert shown.returncode == 0 and "fake=edited" in shown.stdout
    deadline = time.monotonic() + 20
    while "staged1" not in lab.paceline("status").stdout and time.monotonic() < deadline:
        time.sleep(0.3)
    assert "staged1" in lab.paceline("status").stdout

    # levels: up, into resource, help, cd, quit
    t.type("end")
    t.send("Enter")
    t.type("cd resource")
    t.send("Enter")
    t.wait_for("paceline(live)resource# ")
    t.type("status tmuxres1")
    t.send("Enter")
    t.wait_for("resource tmuxres1 is")
    t.type("..")
    t.send("Enter")
    t.type("help")
    t.send("Enter")
    t.wait_for("levels: configure")
    t.type("quit")
    t.send("Enter")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and subprocess.run(["tmux", "-L", t.socket, "has-session"],
                                                          capture_output=True).returncode == 0:
        time.sleep(0.1)
    history = (tmp_path / "history").read_text()
    assert "primitive staged1 ocf:paceline:Dummy" in history
    assert os.path.exists(tmp_path / "history")
