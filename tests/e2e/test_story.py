"""The whole two-node story against real processes; each step is checked from `paceline status`/the CIB."""

import pytest
from paceline.lab.story import Story, StoryStepFailed

pytestmark = pytest.mark.e2e


def test_two_node_web_service_story(tmp_path):
    story = Story(tmp_path / "lab", echo=False)
    try:
        story.run_all()
    except StoryStepFailed as exc:
        pytest.fail(f"step {exc.step!r}: {exc}\n\nservice logs:\n{exc.log_tails}")
    finally:
        story.teardown()
    assert story.timings["monitor_recovery_s"] <= 3.0
