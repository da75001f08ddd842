"""``paceline events`` against a lab: what a change puts on the bus, as JSON lines a script can read, under the
read-only observer credential; a malformed message is printed as such; Ctrl-C ends it with status 0; and the
real traffic matches the payload schemas of docs/asyncapi.json."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from paceline.client.gateway import find_credential
from paceline.lab.lab import Lab
from paceline.lab.story import paceline_argv
from paceline.shared import bus

from tests.e2e.conftest import PATIENCE, POLL, LabRunner
from tests.support import asyncapi as validator
from tests.support.wait import until

pytestmark = pytest.mark.e2e

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"


class Events:
    """A ``paceline events`` process run as the observer; its stderr read as it comes (the "listening" line)."""

    def __init__(self, lab: LabRunner, *args: str):
        env = {**lab.env(), "PACELINE_USER": "observer"}
        self.proc = subprocess.Popen([*paceline_argv(), "events", *args], env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.err: list[str] = []
        self.reader = threading.Thread(target=self._read_err, daemon=True)
        self.reader.start()
        until(lambda: any(line.startswith("listening on") for line in self.err) or self.proc.poll() is not None,
              "paceline events subscribed", PATIENCE, POLL)
        assert self.proc.poll() is None, f"paceline events ended early: {self.err}"

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.err.append(line)

    def finish(self, timeout: float = 60) -> tuple[int, list[dict], str]:
        """Wait for the end: (status, the stdout lines parsed as JSON, stderr)."""
        out, _ = self.proc.communicate(timeout=timeout)
        self.reader.join(5)
        return self.proc.returncode, [json.loads(line) for line in out.splitlines()], "".join(self.err)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture
def watching(lab: LabRunner) -> Iterator[list[Events]]:
    started: list[Events] = []
    yield started
    for events in started:
        events.kill()


def _publish_garbage(lab: LabRunner) -> str:
    """As the admin (who may publish under gateway.>): bytes that are no envelope, on a subject no service serves."""
    state = Lab.load(lab.dir)
    subject = f"paceline.{state.cluster}.gateway.garbage"

    async def send() -> None:
        nc = await bus.connect(state.nats_url, "test-garbage", retry_forever=False,
                               credential=find_credential(str(lab.dir)))
        await nc.publish(subject, b"\xc1 not msgpack")
        await nc.flush()
        await nc.close()

    asyncio.run(send())
    return subject


def test_a_change_as_json_lines_under_the_observer_credential(lab: LabRunner, watching: list[Events]):
    lab.paceline("configure", "property", "stonith-enabled=false")
    results = Events(lab, "--json", "--count", "4", "--timeout", "90", "executor.event.*")
    everything = Events(lab, "--json")
    watching += [results, everything]

    done = lab.paceline("configure", "primitive", "ev1", "ocf:paceline:Dummy", "op", "monitor", "interval=5s")
    assert done.returncode == 0, done.stderr
    garbage_subject = _publish_garbage(lab)

    # two probes (not running: rc 7), the start and the first monitor
    status, lines, err = results.finish(timeout=120)
    assert status == 0, err
    assert len(lines) == 4 and all(line["channel"] == "executorEvent" for line in lines)
    assert {line["message"]["rsc"] for line in lines} == {"ev1"}
    tasks = sorted((line["message"]["task"], line["message"]["interval_ms"], line["message"]["rc"]) for line in lines)
    assert tasks == [("monitor", 0, 7), ("monitor", 0, 7), ("monitor", 5000, 0), ("start", 0, 0)]
    assert "Traceback" not in err

    everything.proc.send_signal(signal.SIGINT)  # Ctrl-C
    status, seen, err = everything.finish()
    assert status == 0 and "Traceback" not in err, err
    kinds = {(line["channel"], line["kind"]) for line in seen}
    assert ("gatewayCrm", "crm") in kinds
    assert ("cibReplace", "replace") in kinds
    assert ("policyTransition", "transition") in kinds
    assert ("executorAction", "action") in kinds
    changed = [line["message"] for line in seen if line["channel"] == "cibChanged"]
    assert any(c["scope"] == "configuration" and c["client"] == "crm" for c in changed)
    transition = next(line["message"] for line in seen if line["channel"] == "policyTransition")
    assert any(a["rsc"] == "ev1" and a["task"] == "start" for a in transition["actions"])
    assert not any(line["channel"] == "membershipHeartbeat" for line in seen)  # keep-alives left out
    garbage = [line for line in seen if line["subject"] == garbage_subject]
    assert len(garbage) == 1 and garbage[0]["malformed"].startswith("not msgpack"), garbage
    well_formed = [line for line in seen if "malformed" not in line]
    assert len(well_formed) == len(seen) - 1, [line for line in seen if "malformed" in line]

    where, why = validator.validator()
    if where is None:
        pytest.skip(f"the traffic's check against docs/asyncapi.json needs the validator: {why}")
    samples = [{"channel": line["channel"], "payload": {"v": 1, "kind": line["kind"], "body": line["message"]}}
               for line in well_formed + lines]
    valid, findings = validator.check(where, DOCUMENT, samples)
    assert valid, json.dumps(findings, indent=1)[:4000]


def test_text_lines_for_people_and_a_timeout(lab: LabRunner):
    env = {**lab.env(), "PACELINE_USER": "observer"}
    quiet = subprocess.run([*paceline_argv(), "events", "--count", "1", "--timeout", "2", "policy.dc"], env=env,
                           capture_output=True, text=True, timeout=60)
    assert quiet.returncode == 1 and quiet.stderr.strip().endswith("ERROR: 0 of 1 events within 2 s"), quiet.stderr
    beats = subprocess.run([*paceline_argv(), "events", "--count", "2", "--timeout", "60", "membership.heartbeat.*"],
                           env=env, capture_output=True, text=True, timeout=90)
    assert beats.returncode == 0, beats.stderr
    lines = beats.stdout.splitlines()
    assert len(lines) == 2 and all(" membership.heartbeat." in line and " heartbeat node=" in line for line in lines)
