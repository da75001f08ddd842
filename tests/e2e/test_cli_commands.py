"""node, resource, ra and status commands against a running lab: each command's effect, one lab for all."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from paceline.lab.story import paceline_argv

from tests.e2e.cli_helpers import ok, running_on, status_json

pytestmark = pytest.mark.e2e


def eventually(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def test_node_commands(lab):
    ok(lab, "configure", "property", "stonith-enabled=false")
    ok(lab, "node", "standby", "secondary")
    assert eventually(lambda: [n for n in status_json(lab)["nodes"] if n["name"] == "secondary" and n["standby"]])
    ok(lab, "node", "online", "secondary")
    assert "standby=off" in ok(lab, "node", "show", "secondary")
    ok(lab, "node", "maintenance", "secondary")
    assert eventually(lambda: [n for n in status_json(lab)["nodes"] if n["maintenance"]])
    ok(lab, "node", "ready", "secondary")
    ok(lab, "node", "attribute", "primary", "set", "rack", "r1")
    assert "value=r1" in ok(lab, "node", "attribute", "primary", "show", "rack")
    ok(lab, "node", "utilization", "primary", "set", "cpu", "4")
    assert "value=4" in ok(lab, "node", "utilization", "primary", "show", "cpu")
    ok(lab, "node", "status-attr", "primary", "set", "probe", "x")
    assert "scope=status" in ok(lab, "node", "status-attr", "primary", "show", "probe")
    assert "in_ccm=true" in ok(lab, "node", "status", "primary")
    ok(lab, "node", "clearstate", "secondary")
    fence = lab.paceline("node", "fence", "secondary")
    assert fence.returncode == 1 and "fencing is not available" in fence.stderr
    ok(lab, "configure", "node", "ghost")
    ok(lab, "node", "delete", "ghost")
    assert "ghost" not in ok(lab, "node", "show")


def test_resource_commands(lab):
    ok(lab, "configure", "property", "stonith-enabled=false")
    ok(lab, "configure", "primitive", "r1", "ocf:paceline:Dummy", "op", "monitor", "interval=5s")
    assert eventually(lambda: running_on(lab, "r1"))
    home = running_on(lab, "r1")[0]
    other = "secondary" if home == "primary" else "primary"
    assert f"running on: {home}" in ok(lab, "resource", "locate", "r1")
    assert "r1" in ok(lab, "resource", "list")
    ok(lab, "resource", "stop", "r1")
    assert eventually(lambda: not running_on(lab, "r1"))
    ok(lab, "resource", "start", "r1")
    assert eventually(lambda: running_on(lab, "r1"))
    assert "stopped" in ok(lab, "resource", "restart", "r1") and running_on(lab, "r1")
    ok(lab, "resource", "migrate", "r1", other, "PT1H")
    assert eventually(lambda: running_on(lab, "r1") == [other])
    assert "cli-prefer-r1" in ok(lab, "configure", "show", "type:location")
    ok(lab, "resource", "unmigrate", "r1")
    ok(lab, "resource", "ban", "r1", other)
    assert eventually(lambda: running_on(lab, "r1") == [home])
    ok(lab, "resource", "clear", "r1")
    assert "cli-" not in ok(lab, "configure", "show", "type:location")
    ok(lab, "resource", "meta", "r1", "set", "resource-stickiness", "50")
    assert ok(lab, "resource", "meta", "r1", "show", "resource-stickiness").strip() == "50"
    ok(lab, "resource", "param", "r1", "set", "fake", "x")
    assert ok(lab, "resource", "param", "r1", "show", "fake").strip() == "x"
    ok(lab, "resource", "utilization", "r1", "set", "cpu", "1")
    ok(lab, "resource", "unmanage", "r1")
    assert eventually(lambda: not next(r for r in status_json(lab)["resources"] if r["id"] == "r1")["managed"])
    ok(lab, "resource", "manage", "r1")
    ok(lab, "resource", "maintenance", "r1", "on")
    ok(lab, "resource", "maintenance", "r1", "off")
    assert "scope=status" in ok(lab, "resource", "failcount", "r1", "show", home)
    ok(lab, "resource", "failcount", "r1", "delete", home)
    ok(lab, "resource", "cleanup", "r1")
    assert eventually(lambda: running_on(lab, "r1"))  # the DC re-probes and finds it running
    assert "r1" in ok(lab, "resource", "why", "r1")


def test_ra_commands(lab):
    assert "paceline" in ok(lab, "ra", "classes")
    assert "Dummy" in ok(lab, "ra", "list", "ocf", "paceline").split()
    assert "paceline" in ok(lab, "ra", "providers", "Dummy")
    info = ok(lab, "ra", "info", "ocf:paceline:Dummy")
    assert "Parameters (*: required, []: default):" in info and "state (string" in info
    assert "valid" in ok(lab, "ra", "validate", "ocf:paceline:Dummy", "fake=1")
    bad = lab.paceline("ra", "validate", "ocf:paceline:Dummy", "bogus=1")
    assert bad.returncode == 1 and "bogus" in bad.stderr
    refused = lab.paceline("ra", "validate", "ocf:paceline:IPaddr")   # the agent's own validate-all, on a node
    assert refused.returncode == 1 and "OCF_ERR_CONFIGURED (rc 6, not configured)" in refused.stderr


def test_status_watch_redraws_on_change(lab):
    proc = subprocess.Popen([*paceline_argv(), "status", "--watch"], stdout=subprocess.PIPE, text=True,
                            env=lab.env(), start_new_session=True)
    assert proc.stdout is not None
    try:
        assert "Cluster Summary:" in proc.stdout.readline()
        ok(lab, "configure", "primitive", "watched1", "ocf:paceline:Dummy")
        deadline = time.monotonic() + 20
        seen = ""
        while "watched1" not in seen and time.monotonic() < deadline:
            seen += proc.stdout.readline()
        assert "watched1" in seen
    finally:
        os.kill(proc.pid, signal.SIGINT)
        try:
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:  # a watch that ignored Ctrl-C must not outlive the test
                proc.kill()
                proc.wait()


def test_status_sections_come_over_the_bus(lab):
    """crmsh's sub-options reach the gateway: ``status bynode failcounts`` is crm_mon -1 -n -f's page (no
    inactive list), plain ``status`` crm status's (-r), both naming Paceline as the stack."""
    page = ok(lab, "status")
    assert "  * Stack: paceline (NATS)\n" in page and "\nFull List of Resources:\n" in page
    by_node = ok(lab, "status", "bynode", "failcounts")
    assert "\nNode List:\n  * Node " in by_node and "    * Resources:\n" in by_node
    assert "Full List of Resources:" not in by_node and "Inactive Resources:" not in by_node
    assert "\nMigration Summary:\n" in by_node
    refused = lab.paceline("status", "-w")
    assert refused.returncode == 1 and "--watch" in refused.stderr
