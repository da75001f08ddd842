"""The bus of a netns lab: each node's nats-server inside the node's namespace (a witness's in the hub).

Inside its namespace a server listens on every address the namespace has -
its loopback (for the node's own services) and the lab bridge (for the routes
to the other servers). The root namespace gets a loopback port per server
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
class NamespacedNatsServer(NatsServer):
    """The embedded nats-server, started and health-checked inside a namespace.

    A lab namespace has only its loopback and the lab bridge, so listening on
    "every address" (``host`` 0.0.0.0) stays inside the lab.
    """

    namespace: str = ""

    def command(self) -> list[str]:
        return exec_argv(self.namespace, super().command())

    def wait_healthy(self, timeout: float = 10.0) -> None:
        # The monitoring port is on the namespace's loopback, so the health check has to run from inside it.
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
