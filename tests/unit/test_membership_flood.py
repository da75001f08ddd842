"""A flood on a heartbeat subject is told from heartbeats by rate (see paceline.membership.flood)."""

from __future__ import annotations

from paceline.membership.flood import FloodGuard, pause


def test_heartbeats_and_their_bursts_pass_a_flood_does_not():
    guard = FloodGuard(heartbeat_interval=0.1)
    # ten a second for a minute, with a burst of thirty (a reconnect delivering what waited) now and then
    for second in range(60):
        beats = 40 if second % 10 == 0 else 10
        assert not any(guard.flooded(second + i / beats) for i in range(beats))
    assert not guard.flooded(60.0)
    assert any(guard.flooded(61.0 + i / 100_000) for i in range(1_000))  # a flood: caught within a second


def test_the_pause_is_a_few_token_timeouts():
    assert pause(0.6) == 3.0
