"""The bus of a netns lab: nats-server inside the hub namespace, reachable from the nodes and the root namespace.

Inside the hub the server listens on every address the hub has - its
loopback (for the cluster-wide services, which also run in the hub) and the
lab bridge (for the node namespaces). The root namespace gets a loopback port
from :mod:`paceline.lab.netns_forward`, so ``paceline`` itself needs no
address in the lab range.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from paceline.lab.netns import call_in, exec_argv
from paceline.shared.natsserver import NatsServer, NatsServerError


@dataclass
class HubNatsServer(NatsServer):
    """The embedded nats-server, started and health-checked inside a namespace."""

    namespace: str = ""

    def command(self) -> list[str]:
        argv = super().command()
        # The hub has only its loopback and the lab bridge, so "every address" stays inside the lab.
        argv[argv.index("-a") + 1] = "0.0.0.0"
        return exec_argv(self.namespace, argv)

    def wait_healthy(self, timeout: float = 10.0) -> None:
        # The monitoring port is on the hub's loopback, so the health check has to run from inside the hub.
        call_in(self.namespace, NatsServer.wait_healthy, self, timeout)


def wait_listening(port: int, timeout: float = 10.0) -> None:
    """Until something accepts connections on 127.0.0.1:port (the forwarder has bound its socket)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise NatsServerError(f"nothing listens on 127.0.0.1:{port} after {timeout:g}s") from None
            time.sleep(0.05)
