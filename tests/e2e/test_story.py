"""The whole two-node story against real processes; each step is checked from `paceline status`/the CIB."""

from pathlib import Path

import pytest
from paceline.lab.story import Story, StoryFailure

pytestmark = pytest.mark.e2e


def _log_tails(lab_dir: Path, lines: int = 40) -> str:
    """The end of every service's log: what the cluster was doing when a step timed out."""
    parts = []
    for log in sorted((lab_dir / "logs").glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"--- {log.name}\n" + "\n".join(line[:400] for line in tail))
    return "\n".join(parts)


def test_two_node_web_service_story(tmp_path):
    story = Story(tmp_path / "lab", echo=False)
    try:
        story.run_all()
    except StoryFailure as exc:
        pytest.fail(f"{exc}\n\nservice logs:\n{_log_tails(tmp_path / 'lab')}")
    finally:
        story.teardown()
    assert story.timings["monitor_recovery_s"] <= 3.0
