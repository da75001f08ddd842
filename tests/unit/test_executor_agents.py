"""The bundled agents, run as real executables the way the executor runs them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from lxml import etree
from paceline.executor.standards import BUNDLED_ROOT
from paceline.shared.natsserver import free_port

AGENTS = BUNDLED_ROOT / "ocf" / "paceline"


def call(agent: str, action: str, rsctmp: Path, instance: str = "r1", **params: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "HA_RSCTMP": str(rsctmp), "OCF_RESOURCE_INSTANCE": instance,
           "OCF_ROOT": "/usr/lib/ocf", **{f"OCF_RESKEY_{k}": v for k, v in params.items()}}
    return subprocess.run([str(AGENTS / agent), action], env=env, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("agent", ["Dummy", "http", "IPaddr"])
def test_meta_data_is_ocf_xml_with_parameters(agent, tmp_path):
    done = call(agent, "meta-data", tmp_path)
    assert done.returncode == 0
    root = etree.fromstring(done.stdout.encode())
    assert root.tag == "resource-agent" and root.get("name") == agent
    assert root.findall("parameters/parameter")
    actions = {a.get("name") for a in root.iterfind("actions/action")}
    assert {"start", "stop", "monitor", "meta-data", "validate-all"} <= actions


@pytest.mark.parametrize("agent", ["Dummy", "http", "IPaddr"])
def test_unknown_action_is_unimplemented_and_no_action_is_a_usage_error(agent, tmp_path):
    assert call(agent, "frobnicate", tmp_path).returncode == 3
    env = {"PATH": os.environ["PATH"], "HA_RSCTMP": str(tmp_path)}
    assert subprocess.run([str(AGENTS / agent)], env=env, capture_output=True).returncode == 2


def test_dummy_cycle(tmp_path):
    assert call("Dummy", "monitor", tmp_path).returncode == 7
    assert call("Dummy", "validate-all", tmp_path).returncode == 0
    assert call("Dummy", "start", tmp_path).returncode == 0
    assert (tmp_path / "Dummy-r1.state").exists()
    assert call("Dummy", "start", tmp_path).returncode == 0
    assert call("Dummy", "monitor", tmp_path).returncode == 0
    assert call("Dummy", "monitor", tmp_path, instance="other").returncode == 7
    (tmp_path / "Dummy-r1.state").unlink()                      # "crash" behind the cluster's back
    assert call("Dummy", "monitor", tmp_path).returncode == 7
    assert call("Dummy", "start", tmp_path).returncode == 0
    assert call("Dummy", "stop", tmp_path).returncode == 0
    assert call("Dummy", "stop", tmp_path).returncode == 0
    assert call("Dummy", "monitor", tmp_path).returncode == 7


def test_dummy_state_parameter(tmp_path):
    state = tmp_path / "elsewhere" / "d.state"
    assert call("Dummy", "start", tmp_path / "run", state=str(state)).returncode == 0
    assert state.exists()
    assert call("Dummy", "monitor", tmp_path / "run", state=str(state)).returncode == 0
    assert call("Dummy", "stop", tmp_path / "run", state=str(state)).returncode == 0
    assert not state.exists()


def test_ipaddr_cycle_marks_the_holder(tmp_path):
    marker = tmp_path / "IPaddr-192.168.122.10"
    assert call("IPaddr", "monitor", tmp_path, ip="192.168.122.10").returncode == 7
    assert call("IPaddr", "start", tmp_path, ip="192.168.122.10").returncode == 0
    assert marker.read_text().strip() == "192.168.122.10"
    assert call("IPaddr", "start", tmp_path, ip="192.168.122.10").returncode == 0
    assert call("IPaddr", "monitor", tmp_path, ip="192.168.122.10").returncode == 0
    assert call("IPaddr", "stop", tmp_path, ip="192.168.122.10").returncode == 0
    assert not marker.exists()
    assert call("IPaddr", "stop", tmp_path, ip="192.168.122.10").returncode == 0
    assert call("IPaddr", "monitor", tmp_path, ip="192.168.122.10").returncode == 7


def test_ipaddr_rejects_a_bad_address(tmp_path):
    done = call("IPaddr", "start", tmp_path, ip="../etc/passwd")
    assert done.returncode == 6 and "ocf-exit-reason:" in done.stderr
    assert call("IPaddr", "validate-all", tmp_path).returncode == 6
    assert call("IPaddr", "monitor", tmp_path).returncode == 7   # a probe of a broken definition


def _pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


@pytest.fixture
def http_env(tmp_path):
    docroot = tmp_path / "www"
    docroot.mkdir()
    (docroot / "index.html").write_text("hello from paceline\n")
    params = {"docroot": str(docroot), "port": str(free_port())}
    yield tmp_path / "run", params
    call("http", "stop", tmp_path / "run", **params)


def test_http_serves_and_notices_a_killed_server(http_env):
    rsctmp, params = http_env
    assert call("http", "monitor", rsctmp, **params).returncode == 7
    assert call("http", "start", rsctmp, **params).returncode == 0
    body = urllib.request.urlopen(f"http://127.0.0.1:{params['port']}/index.html", timeout=5).read()
    assert body == b"hello from paceline\n"
    assert call("http", "start", rsctmp, **params).returncode == 0
    assert call("http", "monitor", rsctmp, **params).returncode == 0
    pid = int((rsctmp / "http-r1.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert call("http", "monitor", rsctmp, **params).returncode == 7
    assert call("http", "start", rsctmp, **params).returncode == 0     # recovers
    pid = int((rsctmp / "http-r1.pid").read_text())
    assert call("http", "stop", rsctmp, **params).returncode == 0
    assert not _pid_alive(pid)
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", int(params["port"])), timeout=1):
        pass
    assert call("http", "stop", rsctmp, **params).returncode == 0
    assert call("http", "monitor", rsctmp, **params).returncode == 7


def test_http_validation(http_env, tmp_path):
    rsctmp, params = http_env
    assert call("http", "validate-all", rsctmp, **params).returncode == 0
    assert call("http", "validate-all", rsctmp, **{**params, "port": "http"}).returncode == 6
    missing = call("http", "start", rsctmp, **{**params, "docroot": str(tmp_path / "absent")})
    assert missing.returncode == 5 and "not a directory" in missing.stderr


def test_http_start_fails_when_the_port_is_taken(http_env):
    rsctmp, params = http_env
    with socket.socket() as s:
        s.bind(("127.0.0.1", int(params["port"])))
        s.listen()
        done = call("http", "start", rsctmp, **params)
    assert done.returncode == 1 and "in use" in done.stderr
