"""The containers a node's agents started, kept as files under its run directory (``HA_RSCTMP``).

An agent's own processes leave pid files there (:mod:`paceline.shared.pidfiles`). A container agent
(``ocf:heartbeat:podman``, ``ocf:heartbeat:docker``, on which a bundle's replicas and most guest nodes run)
leaves none that matter: its container lives on under the engine (conmon, dockerd), outside the agent's
process tree. A real machine's crash takes its containers with it. A lab's machines share one host and one
engine, so whatever emulates the crash (``paceline lab kill``, ``lab down``, a watchdog reset) has to find
the node's containers and remove them itself, or a "dead" node's container would keep running beside its
replacement. The executor writes ``containers/<engine>/<name>`` before a start and when a monitor finds
the container running, and removes it when a stop succeeds or a monitor finds it stopped; a record of a
container that never came up costs one ``rm`` of nothing.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from paceline.shared import lrm
from paceline.shared.cluster.values import is_true

#: Where the records live, under the run directory.
FOLDER = "containers"
#: ``ocf:heartbeat:TYPE`` agents that run a container, and the engine's command line tool.
ENGINES = {"podman": "podman", "docker": "docker"}
#: How long one engine call may take before the emulated crash goes on without it.
REMOVE_TIMEOUT = 30.0


@dataclass(frozen=True, order=True)
class Container:
    """A container as its engine's command line names it."""

    engine: str
    name: str


def container_of(agent: tuple[str, str, str], instance: str, params: Mapping[str, str],
                 meta: Mapping[str, str]) -> Container | None:
    """The container an agent call acts on (None for an agent that runs none). The name is the agent's own
    rule: its ``name`` parameter, else the resource instance, with ``:`` made ``-`` when the clone is
    globally unique (the ``podman`` and ``docker`` agents of resource-agents)."""
    standard, provider, kind = agent
    if standard != "ocf" or provider != "heartbeat" or kind not in ENGINES:
        return None
    name = params.get("name")
    if not name:
        unique = meta.get("globally-unique", meta.get("globally_unique", ""))
        name = instance.replace(":", "-") if is_true(unique) else instance
    return Container(ENGINES[kind], name)


def _path(run_dir: Path, box: Container) -> Path:
    return run_dir / FOLDER / box.engine / box.name


def note(run_dir: Path, box: Container, task: str, rc: int | None) -> None:
    """Keep the record in step with an operation: ``rc`` None before it runs, its rc after (only for an
    operation the agent answered)."""
    path = _path(run_dir, box)
    starting = task == "start" and rc is None
    seen_running = task == "monitor" and rc in (lrm.OCF_SUCCESS, lrm.OCF_RUNNING_PROMOTED)
    if starting or seen_running:
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
    elif (task == "stop" and rc == lrm.OCF_SUCCESS) or (task == "monitor" and rc == lrm.OCF_NOT_RUNNING):
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def recorded(run_dir: Path) -> list[Container]:
    """Every container recorded under ``run_dir``."""
    return sorted(Container(path.parent.name, path.name) for path in (run_dir / FOLDER).glob("*/*")
                  if path.parent.name in ENGINES.values())


def remove_argv(box: Container) -> list[str]:
    """Kill and delete at once, as a power cut would (podman waits ``-t`` seconds before SIGKILL)."""
    return [box.engine, "rm", "-f", *(["-t", "0"] if box.engine == "podman" else []), box.name]


def remove(boxes: Iterable[Container]) -> list[Container]:
    """Remove the containers (in parallel); returns those the engine removed. A missing engine or
    container is no error: the crash leaves nothing to remove."""
    calls = []
    for box in boxes:
        with contextlib.suppress(OSError):
            calls.append((box, subprocess.Popen(remove_argv(box), stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL)))
    removed = []
    for box, call in calls:
        try:
            if call.wait(REMOVE_TIMEOUT) == 0:
                removed.append(box)
        except subprocess.TimeoutExpired:
            call.kill()
            call.wait()
    return removed


def wipe(run_dirs: Iterable[Path]) -> None:
    """The end of machines' run directories, once their processes are dead (a crash, a reset): first the
    containers recorded there (all at once), then the directories with their records."""
    dirs = list(run_dirs)
    remove([box for run_dir in dirs for box in recorded(run_dir)])
    for run_dir in dirs:
        shutil.rmtree(run_dir, ignore_errors=True)
