"""The service, systemd and stonith classes, extra OCF roots and the OCF environment's last details."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from paceline.executor import fencing, standards, systemd
from paceline.executor.operation import Operation
from paceline.executor.runner import AgentRunner
from paceline.shared import lrm

FENCE = standards.BUNDLED_ROOT / "stonith" / "fence_paceline"


def _op(task: str, agent: dict, **kw) -> Operation:
    body = {"task": task, "rsc": "r1", "node": "n1", "id": 1, "term": 1, "transition": 1, "agent": agent}
    body.update(kw)
    return Operation.from_body(body)


@pytest.fixture
def paths(tmp_path: Path) -> standards.AgentPaths:
    (tmp_path / "ocf" / "resource.d").mkdir(parents=True)
    (tmp_path / "init.d").mkdir()
    (tmp_path / "sbin").mkdir()
    return standards.AgentPaths(ocf_root=tmp_path / "ocf", lsb_root=tmp_path / "init.d",
                                extra_ocf_roots=(tmp_path / "extra",), fence_dir=tmp_path / "sbin")


def _runner(paths: standards.AgentPaths, tmp_path: Path, systemd_running: bool = False) -> AgentRunner:
    return AgentRunner(paths, rsctmp=tmp_path / "run", default_timeout=5,
                       base_env={"PATH": os.environ["PATH"]}, kill_grace=0.2, systemd_running=systemd_running)


def _install(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


# systemd ---------------------------------------------------------------------------------------------
def test_systemd_commands_name_a_service_unit():
    assert systemd.command("start", "nginx") == ["systemctl", "start", "nginx.service"]
    assert systemd.command("stop", "web.socket") == ["systemctl", "stop", "web.socket"]
    assert systemd.command("reload", "nginx") == ["systemctl", "reload", "nginx.service"]
    assert systemd.command("monitor", "nginx") == ["systemctl", "show", "--property=LoadState,ActiveState",
                                                   "nginx.service"]
    assert systemd.command("promote", "nginx") is None


@pytest.mark.parametrize(("output", "rc"), [
    ("LoadState=loaded\nActiveState=active\n", lrm.OCF_SUCCESS),
    ("LoadState=loaded\nActiveState=reloading\n", lrm.OCF_SUCCESS),
    ("LoadState=loaded\nActiveState=inactive\n", lrm.OCF_NOT_RUNNING),
    ("LoadState=loaded\nActiveState=failed\n", lrm.OCF_NOT_RUNNING),
    ("LoadState=not-found\nActiveState=inactive\n", lrm.OCF_ERR_INSTALLED),
])
def test_systemd_monitor_reads_the_unit_state(output, rc):
    assert systemd.read_state(output) == rc


def test_systemctl_exit_codes():
    assert systemd.action_rc("start", 0) == lrm.OCF_SUCCESS
    assert systemd.action_rc("start", 5) == lrm.OCF_ERR_INSTALLED
    assert systemd.action_rc("stop", 5) == lrm.OCF_SUCCESS  # a unit that does not exist is stopped
    assert systemd.action_rc("start", 1) == lrm.OCF_ERR_GENERIC
    listing = "nginx.service enabled enabled\ngetty@.service static -\nsshd.service enabled enabled\n"
    assert systemd.read_unit_list(listing) == ["nginx", "sshd"]


def test_systemd_detection(tmp_path):
    assert not systemd.running(tmp_path / "absent")
    assert systemd.running(tmp_path)


async def test_systemd_without_systemd_is_not_installed_with_a_reason(paths, tmp_path):
    out = await _runner(paths, tmp_path).run(_op("start", {"class": "systemd", "type": "nginx"}))
    assert (out.rc, out.op_status) == (lrm.OCF_ERR_INSTALLED, lrm.EXEC_NOT_INSTALLED)
    assert "systemd is not the init system" in out.exit_reason


async def test_service_class_prefers_an_init_script(paths, tmp_path):
    _install(paths.lsb_root / "web", 'case "$1" in status) exit 3;; *) exit 0;; esac\n')
    runner = _runner(paths, tmp_path, systemd_running=True)
    assert runner.service_class(standards.AgentRef("service", "", "web")) == "lsb"
    assert runner.service_class(standards.AgentRef("service", "", "other")) == "systemd"
    assert _runner(paths, tmp_path).service_class(standards.AgentRef("service", "", "other")) == "lsb"
    out = await runner.run(_op("monitor", {"class": "service", "type": "web"}))
    assert out.rc == lrm.OCF_NOT_RUNNING
    missing = await _runner(paths, tmp_path).run(_op("start", {"class": "service", "type": "other"}))
    assert missing.op_status == lrm.EXEC_NOT_INSTALLED


# stonith ---------------------------------------------------------------------------------------------
def test_fence_agent_arguments_on_stdin():
    params = {"hosts": "a,b", "pcmk_host_list": "a b", "ipaddr": "10.0.0.1"}
    lines = fencing.stdin_args(params, "reboot", "a").splitlines()
    assert lines == ["hosts=a,b", "ipaddr=10.0.0.1", "action=reboot", "port=a", "nodename=a"]
    plug = fencing.stdin_args({"pcmk_host_argument": "plug", "pcmk_reboot_action": "off"}, "reboot", "b")
    assert plug == "action=off\nplug=b\nnodename=b\n"
    assert fencing.stdin_args({}, "monitor", "a") == "action=monitor\n"
    assert fencing.status_rc(2) == lrm.OCF_NOT_RUNNING and fencing.monitor_rc(3) == lrm.OCF_ERR_GENERIC


async def test_fence_device_lifecycle_with_the_test_agent(paths, tmp_path):
    runner = _runner(paths, tmp_path)
    device = {"class": "stonith", "type": "fence_paceline"}
    params = {"hosts": "n1,n2", "state_dir": str(tmp_path / "power"), "log": str(tmp_path / "fenced.log")}
    assert (await runner.run(_op("monitor", device, params=params))).rc == lrm.OCF_NOT_RUNNING
    assert (await runner.run(_op("start", device, params=params))).rc == lrm.OCF_SUCCESS
    assert (await runner.run(_op("monitor", device, params=params, interval_ms=1000))).rc == lrm.OCF_SUCCESS
    assert (await runner.run(_op("stop", device, params=params))).rc == lrm.OCF_SUCCESS
    assert (await runner.run(_op("monitor", device, params=params))).rc == lrm.OCF_NOT_RUNNING
    off = await runner.fence(FENCE, "off", params, 5000, "n2")
    assert off.rc == lrm.OCF_SUCCESS
    assert (await runner.fence(FENCE, "status", params, 5000, "n2")).rc == lrm.OCF_NOT_RUNNING
    assert (await runner.fence(FENCE, "reboot", params, 5000, "n2")).rc == lrm.OCF_SUCCESS
    assert (await runner.fence(FENCE, "status", params, 5000, "n2")).rc == lrm.OCF_SUCCESS
    assert (await runner.fence(FENCE, "list", params, 5000)).output.splitlines() == ["n1,n1", "n2,n2"]
    assert [line.split()[1:] for line in (tmp_path / "fenced.log").read_text().splitlines()] == [
        ["off", "n2"], ["reboot", "n2"]]
    assert "fence_paceline" in await runner.metadata(standards.AgentRef("stonith", "", "fence_paceline"))


async def test_unreachable_fence_device_fails_to_start(paths, tmp_path):
    (tmp_path / "down").touch()
    out = await _runner(paths, tmp_path).run(_op("start", {"class": "stonith", "type": "fence_paceline"},
                                                 params={"hosts": "n1", "unreachable": str(tmp_path / "down")}))
    assert out.rc == lrm.OCF_ERR_GENERIC


def test_listing_covers_every_class(paths, tmp_path):
    _install(paths.fence_dir / "fence_x", "exit 0\n")
    _install(paths.fence_dir / "not_a_fence_agent", "exit 0\n")
    _install(tmp_path / "extra" / "resource.d" / "site" / "App", "exit 0\n")
    _install(paths.lsb_root / "web", "exit 0\n")
    agents = standards.list_agents(paths, ["nginx"])
    assert agents["stonith"] == ["fence_paceline", "fence_x"]
    assert agents["ocf"]["site"] == ["App"] and "Dummy" in agents["ocf"]["paceline"]
    assert agents["service"] == ["nginx", "web"] and agents["systemd"] == ["nginx"]


# OCF details -----------------------------------------------------------------------------------------
async def test_extra_ocf_root_and_check_level(paths, tmp_path):
    _install(tmp_path / "extra" / "resource.d" / "site" / "App", "env\n")
    op = _op("monitor", {"class": "ocf", "provider": "site", "type": "App"}, interval_ms=10000,
             params={"OCF_CHECK_LEVEL": "10", "ip": "1"})
    out = await _runner(paths, tmp_path).run(op)
    env = dict(line.split("=", 1) for line in out.output.splitlines() if "=" in line)
    assert env["OCF_CHECK_LEVEL"] == "10" and "OCF_RESKEY_OCF_CHECK_LEVEL" not in env
    assert env["OCF_RESKEY_crm_feature_set"] and env["OCF_RESKEY_ip"] == "1"
    meta_level = _op("monitor", {"class": "ocf", "provider": "site", "type": "App"}, meta={"OCF_CHECK_LEVEL": "20"})
    env = dict(line.split("=", 1) for line in (await _runner(paths, tmp_path).run(meta_level)).output.splitlines()
               if "=" in line)
    assert env["OCF_CHECK_LEVEL"] == "20"


def test_extra_roots_setting_expands_the_node_name():
    assert standards.parse_roots("/srv/{node}/ocf:/opt/ocf", "n2") == (Path("/srv/n2/ocf"), Path("/opt/ocf"))
    assert standards.parse_roots("", "n2") == ()


def test_unknown_class_is_not_supported():
    with pytest.raises(standards.UnsupportedStandard):
        standards.locate(standards.AgentRef("heartbeat", "", "IPaddr"), standards.AgentPaths(Path("/"), Path("/")))
