"""A blocking client of the gateway for the ``paceline`` command: one bus connection, one event loop.

The CLI is synchronous (readline, an editor, a terminal), so every request
runs to completion on a private event loop; the connection is made once and
reused by every command of a shell session. This module imports only the bus
glue - no lxml, no scheduler - so a one-shot live command starts fast.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any


class ClientError(Exception):
    """One line for the user: what failed and, if known, why."""

    def __init__(self, message: str, code: str = "", details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.details = details or {}


def find_bus(nats_url: str | None, cluster: str | None, lab_dir: str | None) -> tuple[str, str]:
    """The bus to talk to, and the cluster name: flag, environment, or the running lab."""
    url = nats_url or os.environ.get("PACELINE_NATS_URL")
    cluster = cluster or os.environ.get("PACELINE_CLUSTER")
    if url:
        return url, cluster or "default"
    from paceline.gateway.labfile import NoLab, bus_of

    try:
        lab_url, lab_cluster = bus_of(Path(lab_dir) if lab_dir else None)
    except NoLab as exc:
        raise ClientError(f"no cluster to talk to: {exc}; or set PACELINE_NATS_URL") from None
    return lab_url, cluster or lab_cluster


class GatewayClient:
    """Requests to ``paceline.<cluster>.gateway.<endpoint>``, blocking."""

    def __init__(self, url: str, cluster: str):
        from paceline.shared.subjects import Subjects

        self.url = url
        self.subjects = Subjects(cluster)
        self.loop = asyncio.new_event_loop()
        self.nc: Any = None

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def connect(self) -> Any:
        from paceline.shared import bus

        if self.nc is None:
            try:
                self.nc = self.run(bus.connect(self.url, "paceline-cli", retry_forever=False, connect_timeout=2))
            except bus.BusUnavailable as exc:
                raise ClientError(str(exc)) from None
        return self.nc

    def request(self, endpoint: str, body: dict[str, Any] | None = None, timeout: float = 30) -> dict[str, Any]:
        from paceline.shared import bus

        nc = self.connect()
        try:
            return self.run(bus.request(nc, self.subjects.gateway(endpoint), endpoint, body or {}, timeout=timeout))
        except bus.RemoteError as exc:
            raise ClientError(str(exc), exc.code, exc.details) from None
        except bus.BusUnavailable as exc:
            raise ClientError(f"{exc} (is the gateway running?)") from None

    def close(self) -> None:
        if self.nc is not None:
            try:
                self.run(self.nc.close())
            except Exception:  # closing a connection the server already dropped: nothing left to do
                pass
            self.nc = None
        self.loop.close()
