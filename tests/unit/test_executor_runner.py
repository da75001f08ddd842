"""Running agents by the OCF and LSB rules: environment, rc mapping, exit reasons, timeouts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from paceline.executor import standards
from paceline.executor.operation import Operation
from paceline.executor.runner import AgentRunner
from paceline.shared import codec, lrm


def _op(task: str = "start", agent: dict | None = None, **kw) -> Operation:
    body = {"task": task, "rsc": "r1", "node": "n1", "id": 4, "term": 1, "transition": 9,
            "agent": agent or {"class": "ocf", "provider": "test", "type": "probe"}}
    body.update(kw)
    return Operation.from_body(body)


@pytest.fixture
def roots(tmp_path: Path) -> standards.AgentPaths:
    ocf = tmp_path / "ocf"
    (ocf / "resource.d" / "test").mkdir(parents=True)
    (ocf / "lib" / "heartbeat").mkdir(parents=True)
    (tmp_path / "init.d").mkdir()
    return standards.AgentPaths(ocf_root=ocf, lsb_root=tmp_path / "init.d")


def _install(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def _runner(roots: standards.AgentPaths, tmp_path: Path, timeout: float = 5) -> AgentRunner:
    return AgentRunner(roots, rsctmp=tmp_path / "run", default_timeout=timeout,
                       base_env={"PATH": os.environ["PATH"], "OCF_RESKEY_leak": "x"}, kill_grace=0.2)


async def test_ocf_environment_reaches_the_agent(roots, tmp_path):
    _install(roots.ocf_root / "resource.d" / "test" / "probe", "env; exit 0\n")
    op = _op("monitor", interval_ms=5000, timeout_ms=7000, params={"ip": "10.0.0.1", "port": 80},
             meta={"target-role": "Started", "timeout": "1"})
    out = await _runner(roots, tmp_path).run(op)
    env = dict(line.split("=", 1) for line in out.output.splitlines() if "=" in line)
    assert out.rc == 0 and out.op_status == lrm.EXEC_DONE
    assert env["OCF_ROOT"] == str(roots.ocf_root)
    assert (env["OCF_RA_VERSION_MAJOR"], env["OCF_RA_VERSION_MINOR"]) == ("1", "1")
    assert env["OCF_RESOURCE_INSTANCE"] == "r1"
    assert (env["OCF_RESOURCE_TYPE"], env["OCF_RESOURCE_PROVIDER"]) == ("probe", "test")
    assert env["OCF_RESKEY_ip"] == "10.0.0.1" and env["OCF_RESKEY_port"] == "80"
    assert env["OCF_RESKEY_CRM_meta_target_role"] == "Started"
    assert env["OCF_RESKEY_CRM_meta_interval"] == "5000"
    assert env["OCF_RESKEY_CRM_meta_timeout"] == "7000"  # the operation's, not the resource meta's
    assert env["HA_RSCTMP"] == str(tmp_path / "run") and (tmp_path / "run").is_dir()
    assert env["OCF_FUNCTIONS_DIR"] == str(roots.ocf_root / "lib" / "heartbeat")
    assert "OCF_RESKEY_leak" not in env


async def test_default_timeout_is_passed_in_milliseconds(roots, tmp_path):
    _install(roots.ocf_root / "resource.d" / "test" / "probe", "echo $OCF_RESKEY_CRM_meta_timeout\n")
    out = await _runner(roots, tmp_path, timeout=2.5).run(_op())
    assert out.output.strip() == "2500"


async def test_rc_and_last_exit_reason_are_reported(roots, tmp_path):
    _install(roots.ocf_root / "resource.d" / "test" / "probe",
             "echo 'ocf-exit-reason:first' >&2; echo noise >&2; echo 'ocf-exit-reason: disk full' >&2; exit 6\n")
    out = await _runner(roots, tmp_path).run(_op())
    assert (out.rc, out.op_status, out.exit_reason) == (6, lrm.EXEC_DONE, "disk full")


async def test_missing_agent_is_not_installed(roots, tmp_path):
    out = await _runner(roots, tmp_path).run(_op(agent={"class": "ocf", "provider": "test", "type": "nope"}))
    assert (out.rc, out.op_status) == (lrm.OCF_ERR_INSTALLED, lrm.EXEC_NOT_INSTALLED)
    assert "ocf:test:nope is not installed" in out.exit_reason


async def test_path_tricks_in_agent_names_are_not_installed(roots, tmp_path):
    out = await _runner(roots, tmp_path).run(_op(agent={"class": "ocf", "provider": "..", "type": "bin"}))
    assert out.op_status == lrm.EXEC_NOT_INSTALLED


async def test_bundled_agents_are_found_after_the_system_root(roots, tmp_path):
    op = _op("meta-data", agent={"class": "ocf", "provider": "paceline", "type": "Dummy"})
    out = await _runner(roots, tmp_path).run(op)
    assert out.rc == 0 and "<resource-agent name=\"Dummy\"" in out.output
    (roots.ocf_root / "resource.d" / "paceline").mkdir()
    _install(roots.ocf_root / "resource.d" / "paceline" / "Dummy", "echo system copy\n")
    out = await _runner(roots, tmp_path).run(op)
    assert out.output.strip() == "system copy"


async def test_hung_agent_times_out_as_pacemaker_records_it(roots, tmp_path):
    _install(roots.ocf_root / "resource.d" / "test" / "probe", "trap '' TERM; sleep 30 & wait\n")
    out = await _runner(roots, tmp_path).run(_op(timeout_ms=300))
    assert (out.rc, out.op_status) == (lrm.OCF_ERR_GENERIC, lrm.EXEC_TIMEOUT)
    assert "timed out after 300ms" in out.exit_reason


async def test_unsupported_class(roots, tmp_path):
    out = await _runner(roots, tmp_path).run(_op(agent={"class": "heartbeat", "type": "IPaddr"}))
    assert (out.rc, out.op_status) == (lrm.OCF_ERR_UNIMPLEMENTED, lrm.EXEC_NOT_SUPPORTED)


LSB_SCRIPT = """
STATE={state}
case "$1" in
  start) touch $STATE; exit 0 ;;
  stop) rm -f $STATE; exit 0 ;;
  status) [ -f $STATE ] && exit 0; [ -f $STATE.crashed ] && exit 1; [ -f $STATE.weird ] && exit 4; exit 3 ;;
  *) exit 3 ;;
esac
"""


async def test_lsb_script_cycle_and_status_mapping(roots, tmp_path):
    state = tmp_path / "svc.state"
    _install(roots.lsb_root / "svc", LSB_SCRIPT.format(state=state))
    runner = _runner(roots, tmp_path)
    lsb = {"class": "lsb", "type": "svc"}

    async def rc(task: str) -> int:
        return (await runner.run(_op(task, agent=lsb))).rc

    assert await rc("monitor") == lrm.OCF_NOT_RUNNING   # status 3
    assert await rc("start") == 0
    assert await rc("start") == 0                       # already running
    assert await rc("monitor") == 0
    assert await rc("stop") == 0
    assert await rc("stop") == 0                        # already stopped
    (tmp_path / "svc.state.crashed").touch()
    assert await rc("monitor") == lrm.OCF_NOT_RUNNING   # status 1: dead, pid file left
    (tmp_path / "svc.state.crashed").unlink()
    (tmp_path / "svc.state.weird").touch()
    assert await rc("monitor") == lrm.OCF_ERR_GENERIC   # status 4: unknown
    assert (await runner.run(_op("promote", agent=lsb))).rc == lrm.OCF_ERR_UNIMPLEMENTED
    assert (await runner.run(_op("start", agent={"class": "lsb", "type": "absent"}))).op_status \
        == lrm.EXEC_NOT_INSTALLED


@pytest.mark.parametrize(("action", "code", "rc"), [
    ("status", 0, 0), ("status", 1, 7), ("status", 2, 7), ("status", 3, 7), ("status", 4, 1),
    ("status", 150, 5), ("status", 151, 4), ("start", 0, 0), ("start", 5, 5), ("stop", 7, 7), ("start", 42, 1),
])
def test_lsb_to_ocf(action, code, rc):
    assert standards.lsb_to_ocf(action, code) == rc


@pytest.mark.parametrize("body", [
    {},
    {"task": "start", "rsc": "r", "node": "n", "agent": {"class": "ocf", "type": "Dummy"}, "id": 1,
     "term": 1, "transition": 1},                                                   # ocf without provider
    {"task": "start", "rsc": "r", "node": "n", "agent": "ocf:paceline:Dummy", "id": 1, "term": 1,
     "transition": 1},
    {"task": "start", "rsc": "r", "node": "n", "agent": {"class": "ocf", "provider": "p", "type": "t"},
     "id": 1, "transition": 1},                                                     # no term
    {"task": "start", "rsc": "r", "node": "n", "agent": {"class": "ocf", "provider": "p", "type": "t"},
     "id": 1, "term": 1, "transition": 1, "interval_ms": -5},
    {"task": "start", "rsc": "r", "node": "n", "agent": {"class": "ocf", "provider": "p", "type": "t"},
     "id": 1, "term": 1, "transition": 1, "params": {"a": [1]}},
])
def test_malformed_operations_are_rejected(body):
    with pytest.raises(codec.MalformedMessage):
        Operation.from_body(body)


def test_transition_key_carries_the_expected_rc():
    assert _op("monitor", expected_rc=7).transition_key == "4:9:7:paceline"
