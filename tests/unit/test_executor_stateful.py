"""The promotable agent ``ocf:paceline:Stateful`` run as a real executable, and what the executor gives it.

The agent publishes its promotion score with the ``paceline`` CLI. Here the CLI
is either the real one with no cluster to reach (the agent must work all the
same) or a stand-in on PATH that only writes down how it was called, which
pins the agent's side of the contract: which attribute, which node, and when.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree
from paceline.executor.catalog import parse_metadata
from paceline.executor.failcounts import status_ops
from paceline.executor.operation import Operation
from paceline.executor.runner import AgentRunner, cluster_environment
from paceline.executor.standards import BUNDLED_ROOT, AgentPaths, AgentRef
from paceline.shared import lrm

AGENT = BUNDLED_ROOT / "ocf" / "paceline" / "Stateful"
PROMOTED = lrm.OCF_RUNNING_PROMOTED
#: Stands in for the paceline CLI: records its arguments, fails while the file "down" exists.
RECORDING_CLI = """#!/bin/sh
echo "$*" >> "$(dirname "$0")/calls"
[ ! -e "$(dirname "$0")/down" ]
"""


def offline_env(tmp_path: Path) -> dict[str, str]:
    """The real CLI on PATH, but no PACELINE_NATS_URL and no lab to find: the cluster is unreachable."""
    return {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path),
            "PACELINE_LAB": str(tmp_path / "no-lab")}


@pytest.fixture
def cli(tmp_path: Path) -> Path:
    """A recording stand-in for ``paceline``; returns its folder (calls are in ``calls``)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "paceline").write_text(RECORDING_CLI)
    (folder / "paceline").chmod(0o755)
    return folder


def recording_env(cli: Path) -> dict[str, str]:
    return {"PATH": f"{cli}{os.pathsep}{os.environ['PATH']}", "OCF_RESKEY_CRM_meta_on_node": "n1"}


def calls(cli: Path) -> list[str]:
    path = cli / "calls"
    return path.read_text().splitlines() if path.exists() else []


def run(action: str, rsctmp: Path, env: dict[str, str], instance: str = "st:0", interval_ms: int = 0,
        **params: str) -> subprocess.CompletedProcess:
    full = {**env, "HA_RSCTMP": str(rsctmp), "OCF_RESOURCE_INSTANCE": instance, "OCF_ROOT": "/usr/lib/ocf",
            "OCF_RESKEY_CRM_meta_interval": str(interval_ms), **{f"OCF_RESKEY_{k}": v for k, v in params.items()}}
    return subprocess.run([str(AGENT), action], env=full, capture_output=True, text=True, timeout=30)


def test_role_cycle_works_without_a_reachable_cluster(tmp_path):
    env = offline_env(tmp_path)
    rsctmp = tmp_path / "run"
    assert run("monitor", rsctmp, env).returncode == lrm.OCF_NOT_RUNNING
    started = run("start", rsctmp, env)
    assert started.returncode == 0
    assert "cannot change the promotion score" in started.stderr      # logged, not fatal
    assert run("monitor", rsctmp, env).returncode == 0
    assert run("promote", rsctmp, env).returncode == 0
    assert run("monitor", rsctmp, env).returncode == PROMOTED
    assert run("monitor", rsctmp, env, interval_ms=10000).returncode == PROMOTED
    assert run("demote", rsctmp, env).returncode == 0
    assert run("monitor", rsctmp, env).returncode == 0
    assert run("stop", rsctmp, env).returncode == 0
    assert run("monitor", rsctmp, env).returncode == lrm.OCF_NOT_RUNNING
    refused = run("promote", rsctmp, env)
    assert refused.returncode == lrm.OCF_NOT_RUNNING and "ocf-exit-reason:" in refused.stderr
    assert run("demote", rsctmp, env).returncode == lrm.OCF_NOT_RUNNING


def test_meta_data_lists_the_promotable_actions_and_score_parameters(tmp_path):
    done = run("meta-data", tmp_path, offline_env(tmp_path))
    assert done.returncode == 0
    root = etree.fromstring(done.stdout.encode())
    assert root.tag == "resource-agent" and root.get("name") == "Stateful"
    actions = {a.get("name") for a in root.iterfind("actions/action")}
    assert {"start", "stop", "monitor", "promote", "demote", "meta-data", "validate-all"} <= actions
    info = parse_metadata(done.stdout)
    defaults = {p["name"]: p["default"] for p in info["parameters"]}
    assert (defaults["promoted_score"], defaults["unpromoted_score"]) == ("10", "5")
    assert {a.get("role") for a in info["actions"] if a["name"] == "monitor"} == {"Promoted", "Unpromoted"}


def test_validation_and_unknown_actions(tmp_path):
    env = offline_env(tmp_path)
    assert run("validate-all", tmp_path, env).returncode == 0
    assert run("validate-all", tmp_path, env, promoted_score="-INFINITY").returncode == 0
    bad = run("validate-all", tmp_path, env, unpromoted_score="5x")
    assert bad.returncode == lrm.OCF_ERR_CONFIGURED and "5x" in bad.stderr
    assert run("start", tmp_path, env, promoted_score="high").returncode == lrm.OCF_ERR_CONFIGURED
    assert run("frobnicate", tmp_path, env).returncode == lrm.OCF_ERR_UNIMPLEMENTED
    assert run("reload-agent", tmp_path, env).returncode == 0


def test_score_is_published_per_resource_and_only_when_it_changes(tmp_path, cli):
    env, rsctmp = recording_env(cli), tmp_path / "run"
    assert run("start", rsctmp, env).returncode == 0
    assert calls(cli) == ["node status-attr n1 set master-st 5"]          # "st:0" publishes for "st"
    assert run("monitor", rsctmp, env, interval_ms=10000).returncode == 0
    assert len(calls(cli)) == 1                                         # unchanged: no call
    assert run("promote", rsctmp, env, promoted_score="100").returncode == 0
    assert run("monitor", rsctmp, env, interval_ms=10000, promoted_score="100").returncode == PROMOTED
    assert run("monitor", rsctmp, env, promoted_score="100").returncode == PROMOTED   # a probe re-asserts
    assert run("demote", rsctmp, env).returncode == 0
    assert run("stop", rsctmp, env).returncode == 0
    assert calls(cli)[1:] == ["node status-attr n1 set master-st 100", "node status-attr n1 set master-st 100",
                              "node status-attr n1 set master-st 5", "node status-attr n1 delete master-st"]


def test_a_failed_publication_is_retried_by_the_next_monitor(tmp_path, cli):
    env, rsctmp = recording_env(cli), tmp_path / "run"
    (cli / "down").touch()
    assert run("start", rsctmp, env, instance="web").returncode == 0
    (cli / "down").unlink()
    assert run("monitor", rsctmp, env, instance="web", interval_ms=10000).returncode == 0
    assert run("monitor", rsctmp, env, instance="web", interval_ms=10000).returncode == 0
    assert calls(cli) == ["node status-attr n1 set master-web 5"] * 2


def test_node_name_defaults_to_the_host_name(tmp_path, cli):
    env = {"PATH": recording_env(cli)["PATH"]}
    assert run("start", tmp_path, env, instance="db:12").returncode == 0
    assert calls(cli) == [f"node status-attr {os.uname().nodename} set master-db 5"]


def test_cluster_environment_points_agents_at_this_executor():
    base = {"PATH": "/usr/bin:/bin", "CIB_file": "/tmp/cib.xml", "CIB_shadow": "test", "HOME": "/root",
            "PACELINE_NATS_URL": "nats://elsewhere:4222"}
    env = cluster_environment(base, "nats://10.0.0.1:4222", "prod", Path("/opt/paceline/bin"))
    assert env["PATH"] == "/opt/paceline/bin:/usr/bin:/bin" and env["HOME"] == "/root"
    assert (env["PACELINE_NATS_URL"], env["PACELINE_CLUSTER"]) == ("nats://10.0.0.1:4222", "prod")
    assert "CIB_file" not in env and "CIB_shadow" not in env
    again = cluster_environment(env, "nats://10.0.0.1:4222", "prod", Path("/opt/paceline/bin"))
    assert again["PATH"] == env["PATH"]                                  # not prepended twice


async def test_agents_run_by_the_executor_find_this_installations_cli(tmp_path):
    agent = tmp_path / "ocf" / "resource.d" / "site" / "Env"
    agent.parent.mkdir(parents=True)
    agent.write_text('#!/bin/sh\necho "$PACELINE_NATS_URL $PACELINE_CLUSTER $(command -v paceline)"\n')
    agent.chmod(0o755)
    env = cluster_environment({"PATH": "/usr/bin:/bin"}, "nats://127.0.0.1:4999", "c1")
    runner = AgentRunner(AgentPaths(tmp_path / "ocf", tmp_path / "init.d"), tmp_path / "run", 5, base_env=env)
    out = await runner.run(Operation(task="monitor", rsc="r", node="n1", agent=AgentRef("ocf", "site", "Env")))
    assert out.output.split() == ["nats://127.0.0.1:4999", "c1", str(Path(sys.executable).parent / "paceline")]


@pytest.mark.parametrize("task", ["promote", "demote"])
def test_failed_promote_or_demote_counts_once(task):
    result = lrm.OpResult(rsc="st", task=task, interval_ms=0, rc=1, call_id=3, transition_key="1:2:0:paceline")
    attrs = {(o["op"], o["name"], o.get("value")) for o in status_ops(result, {"class": "ocf", "type": "Stateful"})
             if o["op"].startswith("attr")}
    assert ("attr_incr", f"fail-count-st#{task}_0", None) in attrs
