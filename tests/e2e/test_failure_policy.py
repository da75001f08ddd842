"""Failure handling end to end, on a lab cluster of real processes: every on-fail value, migration-threshold,
failure-timeout, cleanup, hung / garbage-printing / self-killing agents, an agent missing on one node, and a
failed stop with fencing disabled.

Failures are caused the way they happen in real life: a resource's state vanishes behind the cluster's back
(the bundled Dummy keeps a state file in the node's run directory), or a test agent in a per-node extra OCF
root (setting ``extra_ocf_roots``) is told through a control file to hang, print garbage or die.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import PATIENCE, POLL, FailureLab, running_lab
from tests.support.wait import holds, until

pytestmark = pytest.mark.e2e

#: Behaviour is read from files in $OCF_RESKEY_ctl, so a test changes it while the resource runs.
TEST_AGENT = r"""#!/bin/sh
ctl="${OCF_RESKEY_ctl:-/nonexistent}"
state="$HA_RSCTMP/Trouble-$OCF_RESOURCE_INSTANCE.state"
node="$OCF_RESKEY_CRM_meta_on_node"
trouble() { [ -e "$ctl/$1-$node" ] || [ -e "$ctl/$1" ]; }
case "$1" in
  meta-data) echo '<?xml version="1.0"?><resource-agent name="Trouble"><version>1.1</version>
<parameters><parameter name="ctl"><content type="string"/></parameter></parameters>
<actions><action name="start" timeout="20s"/><action name="stop" timeout="20s"/>
<action name="monitor" timeout="20s" interval="10s"/></actions></resource-agent>'; exit 0;;
  start)
    if trouble hang-start; then
      sleep 1000 & echo $! >> "$ctl/pids"; sleep 999 & echo $! >> "$ctl/pids"; trap '' TERM; wait; fi
    touch "$state"; exit 0;;
  stop)
    if trouble fail-stop; then echo "ocf-exit-reason:refusing to stop" >&2; exit 1; fi
    rm -f "$state"; exit 0;;
  monitor)
    [ -e "$state" ] || exit 7
    if trouble garbage; then head -c 3000 /dev/urandom; echo "not xml <<<" ; kill -9 $$; fi
    exit 0;;
  validate-all) exit 0;;
  *) exit 3;;
esac
"""


@pytest.fixture(scope="module")
def flab(tmp_path_factory) -> Iterator[FailureLab]:
    runner = FailureLab(tmp_path_factory.mktemp("flab"))
    runner.ctl.mkdir()
    runner.install("Trouble", TEST_AGENT)
    runner.install("OnlyOnSecondary", TEST_AGENT.replace("Trouble", "OnlyOnSecondary"), nodes=("secondary",))
    with running_lab(runner):
        runner.crm("configure", "property", "stonith-enabled=false", "cluster-recheck-interval=2s")
        yield runner


def started(flab: FailureLab, rsc: str, node: str = "primary") -> None:
    until(lambda: flab.running_on(rsc) == [node], f"{rsc} started on {node}", PATIENCE, POLL)


# on-fail ---------------------------------------------------------------------------------------------------
def test_on_fail_restart_is_the_default(flab):
    flab.primitive("r-restart")
    started(flab, "r-restart")
    flab.state_file("primary", "r-restart").unlink()
    until(lambda: flab.state_file("primary", "r-restart").exists(), "restart in place", PATIENCE, POLL)
    assert flab.running_on("r-restart") == ["primary"]
    assert flab.failcount("r-restart", "primary") == "1"
    flab.remove("r-restart")


def test_on_fail_ignore_leaves_the_resource_alone(flab):
    flab.primitive("r-ignore", monitor=("interval=1s", "timeout=10s", "on-fail=ignore"))
    started(flab, "r-ignore")
    flab.state_file("primary", "r-ignore").unlink()
    until(lambda: any(f["resource"] == "r-ignore" for f in flab.status()["failed_actions"]),
          "failure shown", PATIENCE, POLL)
    assert holds(lambda: not flab.state_file("primary", "r-ignore").exists(), 3, POLL), "ignored failure was recovered"
    flab.remove("r-ignore")


def test_on_fail_block_stops_managing(flab):
    flab.primitive("r-block", monitor=("interval=1s", "timeout=10s", "on-fail=block"))
    started(flab, "r-block")
    flab.state_file("primary", "r-block").unlink()
    until(lambda: not flab.resource("r-block")["managed"] or flab.resource("r-block")["failed"],
          "blocked", PATIENCE, POLL)
    assert holds(lambda: not flab.state_file("primary", "r-block").exists(), 3, POLL), "blocked resource was recovered"
    flab.crm("resource", "cleanup", "r-block")
    flab.remove("r-block")


@pytest.mark.parametrize("on_fail", ["stop", "fence"])
def test_on_fail_stop_and_fence_without_fencing_stop_the_resource(flab, on_fail):
    # Pacemaker resets on-fail=fence to "stop" when fencing is disabled (stonith-enabled=false).
    rsc = f"r-{on_fail}"
    flab.primitive(rsc, monitor=("interval=1s", "timeout=10s", f"on-fail={on_fail}"))
    started(flab, rsc)
    flab.state_file("primary", rsc).unlink()
    until(lambda: flab.running_on(rsc) == [] and flab.failcount(rsc, "primary") == "1",
          f"{rsc} stopped", PATIENCE, POLL)
    assert holds(lambda: flab.running_on(rsc) == [] and not flab.state_file("secondary", rsc).exists(), 3, POLL)
    flab.crm("configure", "delete", rsc)


def test_on_fail_standby_moves_everything_off_the_node(flab):
    flab.primitive("r-standby", monitor=("interval=1s", "timeout=10s", "on-fail=standby"))
    flab.primitive("r-bystander")
    started(flab, "r-standby")
    started(flab, "r-bystander")
    flab.state_file("primary", "r-standby").unlink()
    until(lambda: flab.running_on("r-standby") == ["secondary"] and flab.running_on("r-bystander") == ["secondary"],
          "both resources on secondary", PATIENCE, POLL)
    flab.crm("resource", "cleanup", "r-standby")
    until(lambda: flab.running_on("r-bystander") == ["primary"], "primary usable again after cleanup", PATIENCE, POLL)
    flab.remove("r-standby", "r-bystander")


# thresholds, expiry, cleanup --------------------------------------------------------------------------------
def test_migration_threshold_moves_on_the_nth_failure(flab):
    flab.primitive("r-thresh", "ocf:paceline:Dummy", "meta", "migration-threshold=2")
    started(flab, "r-thresh")
    flab.state_file("primary", "r-thresh").unlink()
    until(lambda: flab.state_file("primary", "r-thresh").exists() and flab.failcount("r-thresh", "primary") == "1",
          "first failure: restarted in place", PATIENCE, POLL)
    assert flab.running_on("r-thresh") == ["primary"]
    flab.state_file("primary", "r-thresh").unlink()
    until(lambda: flab.running_on("r-thresh") == ["secondary"], "second failure: moved away", PATIENCE, POLL)
    assert flab.failcount("r-thresh", "primary") == "2"
    flab.crm("resource", "cleanup", "r-thresh")
    until(lambda: flab.running_on("r-thresh") == ["primary"], "cleanup: back on the preferred node", PATIENCE, POLL)
    assert flab.failcount("r-thresh", "primary") == "0"
    flab.remove("r-thresh")


def test_failure_timeout_forgives(flab):
    flab.primitive("r-expire", "ocf:paceline:Dummy", "meta", "migration-threshold=1", "failure-timeout=4s")
    started(flab, "r-expire")
    flab.state_file("primary", "r-expire").unlink()
    until(lambda: flab.running_on("r-expire") == ["secondary"], "moved after one failure", PATIENCE, POLL)
    failed_at = time.monotonic()
    until(lambda: flab.running_on("r-expire") == ["primary"], "back once the failure expired", 20, POLL)
    assert time.monotonic() - failed_at >= 2.5  # not before the failure could expire
    flab.remove("r-expire")


def test_failcount_delete(flab):
    flab.primitive("r-fcdel", "ocf:paceline:Dummy", "meta", "migration-threshold=1")
    started(flab, "r-fcdel")
    flab.state_file("primary", "r-fcdel").unlink()
    until(lambda: flab.running_on("r-fcdel") == ["secondary"], "moved after one failure", PATIENCE, POLL)
    flab.crm("resource", "failcount", "r-fcdel", "delete", "primary")
    until(lambda: flab.running_on("r-fcdel") == ["primary"], "back after the fail count was deleted", PATIENCE, POLL)
    flab.remove("r-fcdel")


# misbehaving agents -----------------------------------------------------------------------------------------
def _live_sleepers(pid_file: Path) -> list[int]:
    """Those of the agent's children (pids it wrote down) that are still a live ``sleep``."""
    alive = []
    for pid in pid_file.read_text().split() if pid_file.exists() else []:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if "(sleep)" in stat and stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
            alive.append(int(pid))
    return alive


def test_hung_start_is_killed_at_its_timeout_and_the_resource_moves(flab):
    (flab.ctl / "hang-start-primary").touch()
    flab.trouble("r-hang", "op", "start", "timeout=2s")
    until(lambda: _live_sleepers(flab.ctl / "pids"), "the hung start running", PATIENCE, POLL)
    until(lambda: flab.running_on("r-hang") == ["secondary"], "moved after the start timed out", PATIENCE, POLL)
    assert _live_sleepers(flab.ctl / "pids") == [], "the hung agent's children survived its timeout"
    failures = [f for f in flab.status()["failed_actions"] if f["resource"] == "r-hang"]
    assert any(f["operation"] == "start" and f["status"] == "Timed Out" for f in failures)
    assert flab.failcount("r-hang", "primary") == "INFINITY"  # start-failure-is-fatal
    (flab.ctl / "hang-start-primary").unlink()
    flab.remove("r-hang")


def test_agent_printing_garbage_and_killed_by_a_signal_is_a_failure(flab):
    flab.trouble("r-garbage")
    started(flab, "r-garbage")
    (flab.ctl / "garbage-primary").touch()
    failure = until(lambda: [f for f in flab.status()["failed_actions"] if f["resource"] == "r-garbage"],
                    "the failed monitor recorded", PATIENCE, POLL)
    assert failure[0]["status"] == "Error" and "signal 9" in failure[0]["exit_reason"]
    (flab.ctl / "garbage-primary").unlink()
    until(lambda: flab.running_on("r-garbage") == ["primary"] and flab.failcount("r-garbage", "primary") >= "1",
          "recovered in place", PATIENCE, POLL)
    flab.remove("r-garbage")


def test_agent_missing_on_one_node_runs_on_the_other(flab):
    flab.trouble("r-only", agent="ocf:test:OnlyOnSecondary")
    until(lambda: flab.running_on("r-only") == ["secondary"], "running where the agent is installed", PATIENCE, POLL)
    assert holds(lambda: flab.running_on("r-only") == ["secondary"], 2, POLL)
    flab.remove("r-only")


def test_failed_stop_without_fencing_blocks_the_resource(flab):
    flab.trouble("r-nostop")
    started(flab, "r-nostop")
    (flab.ctl / "fail-stop").touch()
    flab.crm("resource", "stop", "r-nostop")
    until(lambda: flab.failcount("r-nostop", "primary") == "INFINITY", "the failed stop counted", PATIENCE, POLL)
    def unmanaged() -> dict[str, Any]:
        entry = flab.resource("r-nostop")
        assert not entry["managed"], entry
        return entry

    rsc = until(unmanaged, "the resource blocked", PATIENCE, POLL)
    assert rsc["active_on"] == ["primary"]
    line = next(x for x in flab.crm("status").splitlines() if "r-nostop\t" in x or "r-nostop " in x)
    assert "blocked" in line and "primary" in line, line
    assert holds(lambda: not flab.state_file("secondary", "r-nostop", "Trouble").exists(), 3, POLL)
    (flab.ctl / "fail-stop").unlink()
    flab.crm("resource", "cleanup", "r-nostop")
    until(lambda: flab.running_on("r-nostop") == [], "stopped once the stop works again", PATIENCE, POLL)
    flab.crm("configure", "delete", "r-nostop")
