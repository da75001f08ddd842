"""Pure parts of the executor's scheduling: node-action-limit, the saved recurring schedule, start-delay,
parsed meta-data and the operations passed through to OCF agents unchanged."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from paceline.executor import limits
from paceline.executor.catalog import parse_metadata
from paceline.executor.operation import Operation
from paceline.executor.runner import AgentRunner
from paceline.executor.schedule import ScheduleStore
from paceline.executor.standards import BUNDLED_ROOT, AgentPaths
from paceline.shared import lrm


def _op(**kw) -> Operation:
    body = {"task": "monitor", "rsc": "r1", "node": "n1", "id": 5, "term": 2, "transition": 3, "interval_ms": 10000,
            "timeout_ms": 20000, "agent": {"class": "ocf", "provider": "paceline", "type": "Dummy"},
            "params": {"state": "/tmp/x"}, "meta": {"start-delay": "2s"}}
    body.update(kw)
    return Operation.from_body(body)


def test_limit_defaults_to_twice_the_cores_and_node_attribute_wins():
    default = 2 * (os.cpu_count() or 1)
    assert limits.effective_limit(None) == default
    assert limits.effective_limit("0") == default
    assert limits.effective_limit("junk") == default
    assert limits.effective_limit("3") == 3
    assert limits.effective_limit("3", "5") == 5
    assert limits.effective_limit("3", "0") == 3


async def test_action_limit_holds_back_the_excess_and_can_grow():
    gate = limits.ActionLimit(2)
    release = asyncio.Event()

    async def job() -> None:
        async with gate.slot():
            await release.wait()

    tasks = [asyncio.create_task(job()) for _ in range(5)]
    await asyncio.sleep(0.05)
    assert gate.running == 2
    await gate.resize(4)
    await asyncio.sleep(0.05)
    assert gate.running == 4
    release.set()
    await asyncio.gather(*tasks)
    assert gate.running == 0 and gate.peak == 4


def test_operation_round_trips_through_its_body_and_reads_start_delay():
    op = _op()
    assert Operation.from_body(op.to_body()) == op
    assert op.start_delay_ms == 2000
    assert _op(meta={}).start_delay_ms == 0
    assert op.pacemaker_digest == lrm.pacemaker_digest({"state": "/tmp/x"}, 20000)
    assert _op(interval_ms=0).pacemaker_digest == lrm.pacemaker_digest({"state": "/tmp/x"})


def test_schedule_store_keeps_operations_and_survives_garbage(tmp_path):
    store = ScheduleStore(tmp_path / "recurring.json")
    assert store.load() == []
    store.save([_op(), _op(rsc="r2")])
    assert [op.rsc for op in store.load()] == ["r1", "r2"]
    (tmp_path / "recurring.json").write_text(json.dumps([{"task": 1}, _op().to_body()]))
    assert [op.rsc for op in store.load()] == ["r1"]
    (tmp_path / "recurring.json").write_text("not json")
    assert store.load() == []


def test_parse_metadata_of_a_bundled_agent_and_refuses_garbage():
    xml = """<?xml version="1.0"?><resource-agent name="A" version="1.2"><shortdesc>short</shortdesc>
      <parameters>
        <parameter name="ip" required="1" unique="1"><shortdesc>addr</shortdesc><content type="string"/></parameter>
        <parameter name="mode"><content type="select" default="fast"><option value="fast"/><option value="safe"/>
        </content></parameter>
      </parameters>
      <actions><action name="start" timeout="20s"/><action name="monitor" timeout="10s" interval="10s" depth="0"/>
      </actions></resource-agent>"""
    info = parse_metadata(xml)
    ip, mode = info["parameters"]
    assert (ip["name"], ip["required"], ip["unique"], ip["type"]) == ("ip", True, True, "string")
    assert (mode["default"], mode["values"], mode["required"]) == ("fast", ["fast", "safe"], False)
    assert info["actions"][1] == {"name": "monitor", "timeout": "10s", "interval": "10s", "depth": "0"}
    assert info["version"] == "1.2" and info["shortdesc"] == "short"
    with pytest.raises(ValueError):
        parse_metadata("garbage <<<")
    with pytest.raises(ValueError):
        parse_metadata("<html/>")


@pytest.mark.parametrize("task", ["promote", "demote", "notify", "reload", "reload-agent", "migrate_to",
                                  "migrate_from", "meta-data", "validate-all"])
async def test_ocf_operations_pass_through_to_the_agent(task, tmp_path):
    agent = tmp_path / "ocf" / "resource.d" / "site" / "Echo"
    agent.parent.mkdir(parents=True)
    agent.write_text('#!/bin/sh\necho "$1 $OCF_RESKEY_CRM_meta_name"\nexit 0\n')
    agent.chmod(0o755)
    runner = AgentRunner(AgentPaths(tmp_path / "ocf", tmp_path / "init.d"), tmp_path / "run", 5,
                         base_env={"PATH": os.environ["PATH"]})
    out = await runner.run(_op(task=task, interval_ms=0, agent={"class": "ocf", "provider": "site", "type": "Echo"}))
    assert out.rc == 0 and out.output.split() == [task, task]


def test_bundled_stonith_agent_is_executable():
    assert os.access(Path(BUNDLED_ROOT) / "stonith" / "fence_paceline", os.X_OK)
