"""Bad input against a live cluster: one clear line, exit status 1, nothing changed; bad bus messages dropped."""

from __future__ import annotations

import asyncio
import re
import shlex
import urllib.request
from pathlib import Path

import pytest
from paceline.lab.lab import Lab
from paceline.shared import codec
from paceline.shared.subjects import Subjects

from tests.support.bad_inputs import BAD, BASE

pytestmark = pytest.mark.e2e


def cib_xml(lab) -> str:
    out = lab.paceline("configure", "show", "xml")
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.parametrize("words, needle", [
    (["configure", "primitive", "p1", "nosuchclass:heartbeat:Dummy"], "nosuchclass"),
    (["configure", "primitive", "p1", "ocf:nosuch:Dummy"], "no such resource agent 'ocf:nosuch:Dummy'"),
    (["-o", "core.ignore_missing_metadata=perhaps", "configure", "primitive", "p1", "ocf:nosuch:Dummy"],
     "not a boolean"),
    (["configure", "location", "l1", "ghost", "100:", "primary"], "ghost"),
    (["configure", "location", "l2", "d0", "lots:", "primary"], "lots"),
    (["configure", "primitive", "d0", "ocf:paceline:Dummy"], "d0"),
    (["configure", "frobnicate", "x"], "frobnicate"),
])
def test_wrong_crm_command_changes_nothing_and_says_what(lab, words, needle):
    setup = lab.paceline("configure", "primitive", "d0", "ocf:paceline:Dummy", "meta", "target-role=Stopped")
    assert setup.returncode in (0, 1)  # exists already after the first parameter set
    before = cib_xml(lab)
    out = lab.paceline(*words)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    after = cib_xml(lab)
    strip = re.compile(r'(num_updates|epoch|cib-last-written)="[^"]*"')
    assert strip.sub("", after) == strip.sub("", before)


def test_every_bad_value_is_refused_by_the_cluster_with_one_line_and_nothing_written(lab):
    """Issue 12's table of bad inputs (the sixteen it found accepted, and their kind), through the CLI to a live
    cluster: rc 1, one line naming the problem, the CIB unchanged, no traceback in any service's log."""
    for line in BASE:
        lab.paceline(*shlex.split(line), "meta", "target-role=Stopped")
    strip = re.compile(r'(num_updates|epoch|cib-last-written)="[^"]*"')
    before = strip.sub("", cib_xml(lab))
    for line in BAD:
        out = lab.paceline(*shlex.split(line))
        errors = out.stderr.strip().splitlines()
        assert out.returncode == 1 and len(errors) == 1 and errors[0].startswith("ERROR: "), (line[:80], out.stderr)
    assert strip.sub("", cib_xml(lab)) == before
    tracebacks = [p.name for p in (lab.dir / "logs").glob("*.log") if "Traceback" in p.read_text()]
    assert not tracebacks, tracebacks


def test_an_agent_no_node_has_yet_is_defined_when_crmsh_is_told_to(lab):
    out = lab.paceline("-o", "core.ignore_missing_metadata=yes", "configure", "primitive", "later",
                       "ocf:nosuch:Dummy", "meta", "target-role=Stopped")
    assert out.returncode == 0, out.stderr
    assert 'id="later"' in cib_xml(lab) and 'provider="nosuch"' in cib_xml(lab)
    assert lab.paceline("configure", "delete", "later").returncode == 0


def metrics_of(path: Path) -> str:
    port = path.read_text().strip()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        return resp.read().decode()


def sample(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_malformed_messages_are_counted_and_services_keep_serving(lab):
    state = Lab.load(lab.dir)
    s = Subjects(state.cluster)
    # service -> (subject it listens on, the nodes whose instance may receive it, the credential that may send
    # there: garbage from a holder of that credential, a broken or compromised peer)
    targets = {
        "cib-store": (s.cib("patch"), state.nodes, "admin"),  # cluster-wide: any node's instance answers
        "gateway": (s.gateway("crm"), state.nodes, "admin"),
        "membership": (s.heartbeat("secondary"), ["primary"], "membership@secondary"),
        "executor": (s.executor_action("primary"), ["primary"], "policy@secondary"),
        "policy": (s.cib_changed, ["primary"], "cib-store@secondary"),
    }

    def malformed(svc: str) -> float:
        return sum(sample(metrics_of(state.node_dir(node) / f"{svc}.metrics-port"),
                          "paceline_malformed_messages_total", service=svc) for node in targets[svc][1])

    before = {svc: malformed(svc) for svc in targets}

    async def send_garbage() -> None:
        for subject, _, user in targets.values():
            nc = await state.connect(user, "garbage")
            for junk in (b"\x00\xff not msgpack", codec.encode("wrong-kind", {"x": 1})):
                await nc.publish(subject, junk)
            await nc.flush()
            await asyncio.sleep(0.5)
            await nc.close()

    asyncio.run(send_garbage())
    for svc, (_, nodes, _user) in targets.items():
        assert malformed(svc) >= before[svc] + 2, svc
        for node in nodes:
            assert sample(metrics_of(state.node_dir(node) / f"{svc}.metrics-port"), "paceline_up", service=svc) \
                == 1.0, (svc, node)
    status = lab.paceline("status")
    assert status.returncode == 0 and "partition with quorum" in status.stdout


def test_every_service_exports_its_metrics(lab):
    state = Lab.load(lab.dir)
    expected = {
        state.node_dir("primary") / "cib-store.metrics-port": ["paceline_cib_writes_total"],
        state.node_dir("primary") / "gateway.metrics-port": ["paceline_requests_total"],
        state.node_dir("primary") / "membership.metrics-port": ["paceline_membership_members",
                                                               "paceline_membership_quorate"],
        state.node_dir("primary") / "executor.metrics-port": ["paceline_executor_operations_total"],
        state.node_dir("primary") / "policy.metrics-port": ["paceline_policy_dc_term",
                                                           "paceline_policy_transitions_total"],
    }
    for port_file, names in expected.items():
        text = metrics_of(port_file)
        assert ("paceline_up" in text and "paceline_request_duration_seconds" in text) or "membership" in str(
            port_file) or "policy" in str(port_file)
        for name in names:
            assert name in text, (port_file, name)
