"""Call-ids keep growing across executor restarts (the CIB orders and guards records by them)."""

from __future__ import annotations

from paceline.executor.callids import BLOCK, EPOCH, CallIds


def test_a_restarted_executor_continues_above_every_call_id_it_handed_out(tmp_path):
    path = tmp_path / "executor.call-id"
    clock = lambda: EPOCH + 100.0  # noqa: E731
    first = CallIds(path, clock)
    used = [next(first) for _ in range(BLOCK + 5)]
    assert used == sorted(set(used)) and used[0] == 101
    again = CallIds(path, clock)  # restarted at the same second: the file says how far the last one reserved
    assert next(again) > used[-1]


def test_without_its_file_the_floor_is_the_clock(tmp_path):
    late = CallIds(tmp_path / "gone", lambda: EPOCH + 5000.0)
    assert next(late) == 5001
