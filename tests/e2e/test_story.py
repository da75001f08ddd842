"""The whole two-node story against real processes; each step is checked from `paceline status`/the CIB."""

import pytest
from paceline.gateway.story import Story

pytestmark = pytest.mark.e2e


def test_two_node_web_service_story(tmp_path):
    story = Story(tmp_path / "lab", echo=False)
    try:
        story.run_all()
    finally:
        story.teardown()
    assert story.timings["monitor_recovery_s"] <= 3.0
