"""The two-node web-service story, as steps a sysadmin types, with a check of each step's effect.

Shared by ``make demo`` (prints everything, exits non-zero on the first
failed expectation) and the end-to-end tests. Every check reads what a user
would read - ``paceline status`` or the CIB - never a log. A step that does
not have its expected effect raises :class:`StoryStepFailed`, which carries
the step and the end of every service's log (what the cluster was doing);
the demo prints it, a test turns it into a test failure.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from paceline.shared.natsserver import free_port

RESOURCE_LINE = re.compile(r"^\s*\* (\S+)\s+\(([^)]+)\):\s+(\S+)(?:\s+(\S+))?")


class StoryStepFailed(Exception):
    """A step of the story did not have its expected effect.

    ``str()`` is what was expected and what was seen; ``step`` the title of the step it happened in (empty
    before the first one, or outside a story's steps) and ``log_tails`` the last lines of each service's log.
    """

    def __init__(self, what: str, step: str = "", log_tails: str = ""):
        super().__init__(what)
        self.what = what
        self.step = step
        self.log_tails = log_tails


def log_tails(lab_dir: Path, lines: int = 40) -> str:
    """The end of every service's log: what the cluster was doing when a step went wrong."""
    parts = []
    for log in sorted((lab_dir / "logs").glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"--- {log.name}\n" + "\n".join(line[:400] for line in tail))
    return "\n".join(parts)


def paceline_argv() -> list[str]:
    exe = Path(sys.executable).parent / "paceline"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "paceline.cli.main"]


@dataclass
class Status:
    text: str

    @property
    def online(self) -> list[str]:
        m = re.search(r"\* Online: \[ (.*?) \]", self.text)
        return m.group(1).split() if m else []

    @property
    def offline(self) -> list[str]:
        m = re.search(r"\* OFFLINE: \[ (.*?) \]", self.text)
        found = m.group(1).split() if m else []
        found += re.findall(r"\* Node (\S+): OFFLINE", self.text)
        return found

    @property
    def quorate(self) -> bool:
        return "partition with quorum" in self.text

    @property
    def dc(self) -> str | None:
        m = re.search(r"Current DC: (\S+)", self.text)
        return None if not m or m.group(1) == "NONE" else m.group(1)

    def resource(self, rid: str) -> tuple[str, str | None]:
        """(role, node) of a primitive as the status lists it."""
        for line in self.text.splitlines():
            m = RESOURCE_LINE.match(line)
            if m and m.group(1) == rid:
                return m.group(3), m.group(4)
        raise StoryStepFailed(f"resource {rid} is not in the status:\n{self.text}")

    def started_on(self, rid: str) -> str | None:
        role, node = self.resource(rid)
        return node if role == "Started" else None


@dataclass
class Story:
    lab_dir: Path
    echo: bool = True
    port: int = field(default_factory=free_port)
    docroot: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)
    current_step: str = ""

    # ------------------------------------------------------------ plumbing
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PACELINE_LAB"] = str(self.lab_dir)
        env.pop("PACELINE_NATS_URL", None)
        return env

    def failed(self, what: str) -> StoryStepFailed:
        """The failure of the current step: what went wrong, with the services' log tails."""
        return StoryStepFailed(what, self.current_step, log_tails(self.lab_dir))

    def holds(self, check: Callable[[Status], bool], st: Status) -> bool:
        """``check(st)``; a check that fails outright (a resource missing from the page) fails the step."""
        try:
            return check(st)
        except StoryStepFailed as exc:
            raise self.failed(exc.what) from None

    def say(self, text: str = "") -> None:
        if self.echo:
            print(text, flush=True)

    def run(self, *words: str, ok: bool = True, quiet: bool = False) -> subprocess.CompletedProcess:
        cmd = paceline_argv() + list(words)
        if not quiet:
            self.say(f"$ paceline {shlex.join(words)}")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=self.env(), timeout=120)
        out = (proc.stdout + proc.stderr).rstrip()
        if not quiet and out:
            self.say(out)
        if ok and proc.returncode != 0:
            raise self.failed(f"paceline {shlex.join(words)} exited {proc.returncode}: {out}")
        return proc

    def status(self) -> Status:
        return Status(self.run("status", quiet=True).stdout)

    def wait_for(self, what: str, check: Callable[[Status], bool], timeout: float = 20.0) -> Status:
        deadline = time.monotonic() + timeout
        st = self.status()
        while not self.holds(check, st):
            if time.monotonic() > deadline:
                raise self.failed(f"timed out after {timeout:g}s waiting until {what}; status was:\n{st.text}")
            time.sleep(0.2)
            st = self.status()
        return st

    def expect(self, what: str, check: Callable[[Status], bool], timeout: float = 20.0) -> Status:
        st = self.wait_for(what, check, timeout)
        self.say(f"$ paceline status\n{st.text.rstrip()}")
        self.say(f"ok: {what}\n")
        return st

    def hold(self, what: str, check: Callable[[Status], bool], seconds: float) -> Status:
        """Check that a condition holds for a while (e.g. resources stay stopped)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            st = self.status()
            if not self.holds(check, st):
                raise self.failed(f"expected {what} for {seconds:g}s, but:\n{st.text}")
            time.sleep(0.25)
        self.say(f"ok: {what} (held for {seconds:g}s)\n")
        return st

    def http_answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=1) as resp:
                return resp.status == 200 and b"Paceline" in resp.read()
        except OSError:
            return False

    def ip_holder(self) -> list[str]:
        return sorted(p.parent.parent.name for p in (self.lab_dir / "nodes").glob("*/run/**/IPaddr-*")
                      if p.is_file())

    def step(self, title: str) -> None:
        self.current_step = title
        self.say("=" * 78)
        self.say(title)
        self.say("=" * 78)

    # ------------------------------------------------------------ the story
    def group_on(self, node: str | None) -> Callable[[Status], bool]:
        def check(st: Status) -> bool:
            a, b = st.started_on("webip"), st.started_on("webserver")
            return a is not None and a == b if node is None else a == b == node
        return check

    def run_all(self) -> None:
        self.docroot = Path(tempfile.mkdtemp(prefix="paceline-docroot-"))
        (self.docroot / "index.html").write_text("<h1>Served by Paceline</h1>\n")
        self.step("0. Two nodes, primary and secondary: paceline lab up")
        self.run("lab", "up", "--nodes", "primary,secondary", "--dir", str(self.lab_dir))
        self.step_1_status()
        self.step_2_properties()
        holder = self.step_3_resources()
        holder = self.step_4_standby(holder)
        holder = self.step_5_resource_commands(holder)
        holder = self.step_6_constraints(holder)
        self.step_7_monitor(holder)
        self.step_8_node_loss(holder)

    def step_1_status(self) -> None:
        self.step("1. The cluster is up")
        self.expect("both nodes online, a DC, quorum, 2 nodes and 0 resources",
                    lambda st: sorted(st.online) == ["primary", "secondary"] and st.dc is not None
                    and st.quorate and "2 nodes configured" in st.text
                    and "0 resource instances configured" in st.text)

    def step_2_properties(self) -> None:
        self.step("2. No fencing device in this lab")
        self.run("configure", "property", "stonith-enabled=false")
        shown = self.run("configure", "show", quiet=True).stdout
        if "stonith-enabled=false" not in shown:
            raise self.failed(f"property not in the configuration:\n{shown}")
        self.say("ok: stonith-enabled=false is in the CIB\n")

    def step_3_resources(self) -> str:
        self.step("3. A floating address and a web server, grouped")
        self.run("configure", "primitive", "webip", "ocf:paceline:IPaddr", "params", "ip=127.0.0.99",
                 "op", "monitor", "interval=5s", "timeout=20s")
        self.run("configure", "primitive", "webserver", "ocf:paceline:http", "params", f"port={self.port}",
                 f"docroot={self.docroot}", "op", "monitor", "interval=2s", "timeout=20s")
        self.run("configure", "group", "webservice", "webip", "webserver")
        st = self.expect("webip and webserver started together on one node", self.group_on(None))
        holder = st.started_on("webip")
        if holder is None:
            raise self.failed(f"webip is not started:\n{st.text}")
        if not self.http_answers():
            raise self.failed(f"http://127.0.0.1:{self.port}/ does not answer")
        if self.ip_holder() != [holder]:
            raise self.failed(f"the address should be held by {holder} only, held by {self.ip_holder()}")
        self.say(f"$ curl http://127.0.0.1:{self.port}/\n<h1>Served by Paceline</h1>\nok: the web server answers,"
                 f" the address is held by {holder}\n")
        return holder

    def step_4_standby(self, holder: str) -> str:
        self.step("4. Standby moves everything away; online brings the node back without moving anything")
        other = "secondary" if holder == "primary" else "primary"
        self.run("configure", "rsc_defaults", "resource-stickiness=50")
        self.run("node", "standby", holder)
        self.expect(f"{holder} is standby and the group runs on {other}", lambda st: self.group_on(other)(st)
                    and f"Node {holder}: standby" in st.text)
        if not self.http_answers() or self.ip_holder() != [other]:
            raise self.failed("after the move the service must answer and the address live on " + other)
        self.run("node", "online", holder)
        self.expect(f"{holder} is online again", lambda st: holder in st.online)
        self.hold(f"the group stays on {other} (stickiness)", self.group_on(other), 2.0)
        return other

    def step_5_resource_commands(self, holder: str) -> str:
        self.step("5. resource stop/start and migrate/unmigrate")
        self.run("resource", "stop", "webserver")
        self.expect("webserver stopped, webip still running",
                    lambda st: st.resource("webserver")[0] == "Stopped" and st.started_on("webip") == holder)
        self.run("resource", "start", "webserver")
        self.expect("webserver running again", self.group_on(holder))
        other = "secondary" if holder == "primary" else "primary"
        self.run("resource", "migrate", "webip", other)
        self.expect(f"the group follows webip to {other}", self.group_on(other))
        if "cli-prefer-webip" not in self.run("configure", "show", quiet=True).stdout:
            raise self.failed("migrate must leave a cli-prefer-webip constraint")
        self.run("resource", "unmigrate", "webip")
        if "cli-prefer-webip" in self.run("configure", "show", quiet=True).stdout:
            raise self.failed("unmigrate must remove cli-prefer-webip")
        self.hold(f"the group stays on {other} after unmigrate (stickiness)", self.group_on(other), 2.0)
        return other

    def step_6_constraints(self, holder: str) -> str:
        self.step("6. Colocation, order and location constraints")
        other = "secondary" if holder == "primary" else "primary"
        self.run("configure", "primitive", "helper", "ocf:paceline:Dummy")
        self.run("configure", "colocation", "helper-with-web", "inf:", "helper", "webservice")
        self.run("configure", "order", "web-then-helper", "Mandatory:", "webservice", "helper")
        self.expect("helper runs with the group", lambda st: st.started_on("helper") == holder
                    and self.group_on(holder)(st))
        self.run("configure", "location", "web-likes-other", "webservice", f"50: {other}")
        self.hold(f"a 50 preference for {other} does not beat stickiness", self.group_on(holder), 2.0)
        self.run("configure", "location", "web-rule", "webservice", "rule", "200:", "#uname", "eq", other)
        self.expect(f"the rule moves the group and helper to {other}",
                    lambda st: self.group_on(other)(st) and st.started_on("helper") == other)
        return other

    def step_7_monitor(self, holder: str) -> None:
        self.step("7. The web server dies behind the cluster's back")
        pid_files = list((self.lab_dir / "nodes" / holder / "run").glob("**/*webserver*.pid"))
        if not pid_files:
            raise self.failed(f"no pid file of webserver under {self.lab_dir / 'nodes' / holder / 'run'}")
        pid = int(pid_files[0].read_text().split()[0])
        self.say(f"$ kill -9 {pid}    # the http server of webserver on {holder}")
        killed = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        while not self.http_answers():
            if time.monotonic() - killed > 15:
                raise self.failed("the web server was not restarted within 15s")
            time.sleep(0.05)
        took = time.monotonic() - killed
        self.timings["monitor_recovery_s"] = took
        st = self.expect(f"webserver restarted in place on {holder}", self.group_on(holder))
        if f"webserver 2s-interval monitor on {holder}" not in st.text:  # crm_mon's words for the failure
            raise self.failed("the failed monitor should be listed under Failed Resource Actions")
        self.say(f"ok: answering again {took:.2f}s after the kill (monitor interval 2s + 1s = 3s allowed)\n")
        if took > 3.0:
            raise self.failed(f"restart took {took:.2f}s, more than the monitor interval plus one second")

    def step_8_node_loss(self, holder: str) -> None:
        self.step("8. A whole node dies")
        survivor = "secondary" if holder == "primary" else "primary"
        self.run("lab", "kill", holder)
        self.expect(f"{survivor} sees {holder} OFFLINE and has no quorum",
                    lambda st: holder in st.offline and not st.quorate)
        self.hold("with no-quorum-policy=stop (the default) nothing runs",
                  lambda st: st.started_on("webip") is None and st.started_on("webserver") is None, 3.0)
        self.run("configure", "property", "no-quorum-policy=ignore")
        self.expect(f"with no-quorum-policy=ignore the group starts on {survivor}", self.group_on(survivor))
        if not self.http_answers():
            raise self.failed("the web server does not answer on the survivor")
        self.run("lab", "revive", holder)
        self.expect(f"{holder} rejoins: both online, quorum back",
                    lambda st: sorted(st.online) == ["primary", "secondary"] and st.quorate
                    and self.group_on(None)(st))

    def teardown(self) -> None:
        if (self.lab_dir / "lab.json").exists():
            self.run("lab", "down", "--dir", str(self.lab_dir), ok=False, quiet=True)
        if self.docroot is not None:
            shutil.rmtree(self.docroot, ignore_errors=True)


def main() -> int:
    lab_dir = Path(tempfile.mkdtemp(prefix="paceline-demo-"))
    story = Story(lab_dir)
    started = time.monotonic()
    try:
        story.run_all()
    except StoryStepFailed as exc:
        print(f"\nDEMO FAILED: {exc}\n(logs in {lab_dir / 'logs'})", file=sys.stderr)
        return 1
    finally:
        story.teardown()
    shutil.rmtree(lab_dir, ignore_errors=True)
    print(f"The whole story ran in {time.monotonic() - started:.1f}s; every step had the expected result.")
    return 0
