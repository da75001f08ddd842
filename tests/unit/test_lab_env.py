"""What a lab node's services (and so its agents) find in their environment."""

from __future__ import annotations

from pathlib import Path

from paceline.lab import buses
from paceline.lab.lab import Lab


def test_each_node_has_its_own_var_run_under_its_run_directory(tmp_path: Path) -> None:
    lab = Lab(dir=tmp_path, nodes=["a", "b"])
    for server in buses.plan(["a", "b"], [], None, single=False).values():
        lab._record(server)
    # Agents that keep pid files in /var/run (apache, nginx) must not see the other node's; a crash wipes them.
    assert lab.env("a")["HA_VARRUN"] == str(lab.node_dir("a") / "run")
    assert lab.env("b")["HA_VARRUN"] == str(lab.node_dir("b") / "run")
