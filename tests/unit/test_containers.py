"""The record of a node's containers (paceline.shared.containers): which agent call names which container,
and how the record follows starts, monitors and stops. The removal itself runs in tests/e2e/test_bundle.py."""

from __future__ import annotations

from pathlib import Path

from paceline.shared import lrm
from paceline.shared.containers import Container, container_of, note, recorded, remove, remove_argv, wipe

PODMAN = ("ocf", "heartbeat", "podman")


def test_only_the_container_agents_run_containers():
    assert container_of(("ocf", "heartbeat", "Dummy"), "d", {}, {}) is None
    assert container_of(("ocf", "paceline", "podman"), "d", {}, {}) is None
    assert container_of(("ocf", "heartbeat", "docker"), "web", {}, {}) == Container("docker", "web")


def test_the_name_is_the_agents_own_rule():
    assert container_of(PODMAN, "web", {"name": "box"}, {}) == Container("podman", "box")
    assert container_of(PODMAN, "web:1", {}, {}) == Container("podman", "web:1")
    assert container_of(PODMAN, "web:1", {}, {"globally-unique": "true"}) == Container("podman", "web-1")
    assert container_of(PODMAN, "web:1", {}, {"globally_unique": "yes"}) == Container("podman", "web-1")


def test_the_record_follows_start_monitor_and_stop(tmp_path: Path):
    box = Container("podman", "b-podman-0")
    note(tmp_path, box, "start", None)
    assert recorded(tmp_path) == [box]  # before the start runs: a start cut short leaves a container too
    note(tmp_path, box, "stop", lrm.OCF_ERR_GENERIC)
    assert recorded(tmp_path) == [box]  # a failed stop leaves it running
    note(tmp_path, box, "stop", lrm.OCF_SUCCESS)
    assert recorded(tmp_path) == []
    note(tmp_path, box, "monitor", lrm.OCF_SUCCESS)  # a probe finds it running (the executor restarted)
    assert recorded(tmp_path) == [box]
    note(tmp_path, box, "monitor", lrm.OCF_NOT_RUNNING)
    assert recorded(tmp_path) == []
    note(tmp_path, box, "monitor", lrm.OCF_NOT_RUNNING)  # nothing to forget is no error
    assert recorded(tmp_path) == []


def test_stray_files_are_not_containers(tmp_path: Path):
    (tmp_path / "containers" / "lxc").mkdir(parents=True)
    (tmp_path / "containers" / "lxc" / "x").touch()
    assert recorded(tmp_path) == []
    assert recorded(tmp_path / "missing") == []


def test_removal_is_a_power_cut():
    assert remove_argv(Container("podman", "b")) == ["podman", "rm", "-f", "-t", "0", "b"]
    assert remove_argv(Container("docker", "b")) == ["docker", "rm", "-f", "b"]


def test_a_missing_engine_removes_nothing_and_raises_nothing(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert remove([Container("podman", "b"), Container("docker", "c")]) == []


def test_wipe_removes_the_recorded_containers_then_the_directories(monkeypatch, tmp_path: Path):
    calls: list[list[Container]] = []

    def remove_(boxes: list[Container]) -> list[Container]:
        calls.append(list(boxes))
        return []

    monkeypatch.setattr("paceline.shared.containers.remove", remove_)
    runs = [tmp_path / "n1" / "run", tmp_path / "n2" / "run"]
    note(runs[0], Container("podman", "a"), "start", None)
    note(runs[1], Container("docker", "b"), "start", None)
    wipe(runs)
    assert calls == [[Container("podman", "a"), Container("docker", "b")]]  # one call: removed in parallel
    assert not any(run.exists() for run in runs)
