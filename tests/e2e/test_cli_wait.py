"""crmsh's ``-w``/``--wait`` and Paceline's ``resource wait`` against a lab: right after the command returns,
``paceline status`` shows the result.

The resource's agent takes 3 s to start and to stop, so a command that returns when the CIB has the change
(without -w) is visibly earlier than one that returns when the cluster has settled (with -w): the first
status still shows the old state, the second the new one.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from paceline.lab.story import paceline_argv

from tests.e2e.conftest import FailureLab, running_lab

SLOW_AGENT = """#!/bin/sh
# start and stop take 3 seconds; running while its state file exists
state="$HA_RSCTMP/Slow-$OCF_RESOURCE_INSTANCE.state"
case "$1" in
  meta-data) echo '<?xml version="1.0"?><resource-agent name="Slow"><version>1.1</version>
<longdesc lang="en">slow</longdesc><shortdesc lang="en">slow</shortdesc><parameters/>
<actions><action name="start" timeout="20s"/><action name="stop" timeout="20s"/>
<action name="monitor" timeout="20s" interval="10s"/><action name="meta-data" timeout="5s"/></actions>
</resource-agent>'; exit 0;;
  start) sleep 3; touch "$state"; exit 0;;
  stop) sleep 3; rm -f "$state"; exit 0;;
  monitor) [ -f "$state" ] && exit 0; exit 7;;
  *) exit 3;;
esac
"""


@pytest.fixture(scope="module")
def wlab(tmp_path_factory) -> Iterator[FailureLab]:
    runner = FailureLab(tmp_path_factory.mktemp("wlab"))
    runner.install("Slow", SLOW_AGENT)
    with running_lab(runner):
        runner.crm("configure", "property", "stonith-enabled=false")
        runner.crm("-w", "configure", "primitive", "slow", "ocf:test:Slow", "op", "monitor", "interval=5s",
                   "meta", "target-role=Stopped")
        runner.crm("-w", "configure", "location", "slow-on-primary", "slow", "100: primary")
        yield runner


def test_wait_then_status_shows_the_result(wlab: FailureLab) -> None:
    wlab.crm("resource", "start", "slow")
    assert wlab.running_on("slow") == [], "without -w the command returns before the 3 s start is done"
    wlab.crm("resource", "wait")
    assert wlab.running_on("slow") == ["primary"]

    done = wlab.paceline("-w", "resource", "stop", "slow")
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", "no progress indicator when stderr is not a terminal"
    assert wlab.running_on("slow") == []
    assert "Stopped" in next(line for line in wlab.crm("status").splitlines() if "slow" in line)

    wlab.crm("--wait", "resource", "start", "slow")
    assert wlab.running_on("slow") == ["primary"]


def test_wait_in_a_script_and_with_the_option(wlab: FailureLab) -> None:
    """``-w`` before ``-f`` (the shell engine) and ``-o core.wait=yes`` mean the same as ``-w`` one-shot."""
    wlab.crm("-w", "resource", "start", "slow")
    script = wlab.dir / "stop.crm"
    script.write_text("resource stop slow\n")
    wlab.crm("-w", "-f", str(script))
    assert wlab.running_on("slow") == []
    wlab.crm("-o", "core.wait=yes", "resource", "start", "slow")
    assert wlab.running_on("slow") == ["primary"]


def test_wait_gives_up_after_the_timeout(wlab: FailureLab) -> None:
    wlab.crm("-w", "resource", "start", "slow")
    done = wlab.paceline("-w", "-o", "core.wait_timeout=1", "resource", "stop", "slow")
    assert done.returncode == 124, done.stderr
    assert "did not settle within 1s" in done.stderr and "slow" in done.stderr
    wlab.crm("resource", "wait")
    assert wlab.running_on("slow") == []


@pytest.mark.skipif(shutil.which("script") is None, reason="needs script(1) (bsdutils) for a terminal")
def test_progress_dots_on_a_terminal(wlab: FailureLab) -> None:
    wlab.crm("-w", "resource", "stop", "slow")
    command = shlex.join([*paceline_argv(), "-w", "resource", "start", "slow"])
    done = subprocess.run(["script", "-qec", command, os.devnull], capture_output=True, text=True,
                          env=wlab.env(), timeout=120)
    assert done.returncode == 0, done.stdout
    assert "waiting for resource start to finish ." in done.stdout and done.stdout.rstrip().endswith("done")
    assert wlab.running_on("slow") == ["primary"]


def test_wait_after_committing_a_shadow(wlab: FailureLab) -> None:
    """``cib commit`` writes to the cluster even while the shadow is in use: -w waits on the cluster."""
    wlab.crm("-w", "resource", "start", "slow")
    env = {**wlab.env(), "CIB_shadow_dir": str(wlab.dir / "shadows"), "CIB_shadow": "stopping"}
    (wlab.dir / "shadows").mkdir(exist_ok=True)

    def run(*words: str) -> None:
        done = subprocess.run([*paceline_argv(), *words], capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr

    run("cib", "new", "stopping", "force")
    run("resource", "stop", "slow")
    assert wlab.running_on("slow") == ["primary"]      # the shadow changed, not the cluster
    run("-w", "cib", "commit", "stopping")
    assert wlab.running_on("slow") == []
