"""The demo story's failure: a product-side error naming the step, with the services' log tails."""

from __future__ import annotations

import pytest
from paceline.lab.story import Status, Story, StoryStepFailed


def test_a_failed_step_names_the_step_and_carries_the_log_tails(tmp_path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "gateway.log").write_text("".join(f"line {n}\n" for n in range(100)))
    story = Story(tmp_path, echo=False)
    story.step("1. The cluster is up")
    with pytest.raises(StoryStepFailed) as err:
        story.holds(lambda st: st.resource("ghost")[0] == "Started", Status("no resources here"))
    assert not isinstance(err.value, AssertionError)
    assert err.value.step == "1. The cluster is up"
    assert str(err.value).startswith("resource ghost is not in the status")
    assert err.value.log_tails.startswith("--- gateway.log\nline 60\n") and err.value.log_tails.endswith("line 99")
