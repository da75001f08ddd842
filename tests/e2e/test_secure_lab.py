"""A lab's bus requires credentials (the default; ``lab up --insecure`` opts out): every service, the CLI
and the lab's tools use them; an anonymous client is refused; the observer reads but cannot change; failover
still works."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator

import pytest
from paceline.lab.lab import Lab
from paceline.shared import bus

from tests.e2e.conftest import PATIENCE, POLL, FailureLab, running_lab
from tests.support.wait import until

pytestmark = pytest.mark.e2e

NODES = ("n1", "n2", "n3")


@pytest.fixture(scope="module")
def secure_lab(tmp_path_factory) -> Iterator[FailureLab]:
    runner = FailureLab(tmp_path_factory.mktemp("secure"))
    with running_lab(runner, NODES, "--no-watchdog") as lab:
        yield lab


def test_the_cluster_runs_on_credentials_and_refuses_anonymous_clients(secure_lab: FailureLab):
    lab = secure_lab
    state = Lab.load(lab.dir)
    assert state.credentials and (lab.dir / "credentials" / "users" / "observer.nk").exists()
    assert "the bus requires credentials" in lab.crm("lab", "status")
    with pytest.raises(bus.BusUnavailable, match="requires a credential"):
        asyncio.run(bus.connect(state.nats_url, "anonymous", retry_forever=False))

    lab.crm("configure", "property", "stonith-enabled=false")
    lab.crm("configure", "primitive", "d1", "ocf:paceline:Dummy", "op", "monitor", "interval=2s")
    holder = until(lambda: re.search(r"d1\s.*Started (\S+)", lab.crm("status")), "d1 started", PATIENCE, POLL)
    assert holder is not None
    node = holder.group(1)

    os.environ["PACELINE_USER"] = "observer"
    try:
        assert "d1" in lab.crm("status")
        refused = lab.paceline("configure", "primitive", "d2", "ocf:paceline:Dummy")
        assert refused.returncode == 1 and "observer credential is read-only" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
    finally:
        del os.environ["PACELINE_USER"]
    assert "d2" not in lab.crm("configure", "show")

    lab.crm("lab", "kill", node)
    until(lambda: re.search(rf"d1\s.*Started (?!{node})", lab.crm("status")), "d1 moved", PATIENCE, POLL)
    lab.crm("lab", "revive", node)
    until(lambda: f"Online: [ {' '.join(NODES)} ]" in lab.crm("status"), "every node back", PATIENCE, POLL)
    violations = [line for log in (lab.dir / "logs").glob("nats-*.log") for line in log.read_text().splitlines()
                  if "Violation" in line and "gateway.crm" not in line]
    assert not violations, violations[:5]  # the cluster's own traffic stays inside every role's allow list
