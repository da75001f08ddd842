"""The lab's bus: one nats-server per node (and per witness), clustered with routes, JetStream on each.

This is the shape Paceline is deployed in - every machine runs its own bus
server and its services talk to that one - so a killed lab node takes its bus
server, and any JetStream Raft leaders it held, with it. A *witness* is a
bus-only node: a nats-server with JetStream and no Paceline services or
resources, so that a two-node cluster keeps a JetStream majority when one node
dies (what corosync-qnetd is to a two-node corosync cluster).

``single`` is the explicitly named embedded mode: one server that every node
shares and that no ``lab kill`` takes down. Nothing that claims failover or
safety runs on it.

:class:`BusServer` is pure (names, ports, addresses, the server's command
line); starting and health-checking them is the lab's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from paceline.lab.netns import NetnsPlan
from paceline.lab.netns_bus import NamespacedNatsServer
from paceline.shared.jetstream import MAX_REPLICAS
from paceline.shared.natsserver import NatsServer, Routes, ServerAuth, free_port

#: The server of the single-bus mode, in lab.json and in ``lab status``.
SINGLE = "bus"


@dataclass
class BusServer:
    """One bus server of the lab, as recorded in lab.json."""

    name: str
    port: int  # client port, where the node's own services connect
    http_port: int  # monitoring (healthz, jsz) on the server's loopback
    route_port: int  # cluster routes; 0 for the single bus
    address: str = "127.0.0.1"  # where other servers reach it (the node's address in a netns lab)
    namespace: str = ""  # the network namespace it runs in ("" = the root namespace)
    witness: bool = False
    client_port: int = 0  # where ``paceline`` in the root namespace reaches it (a forwarder in a netns lab)
    pid: int = 0

    @property
    def route_url(self) -> str:
        return f"nats://{self.address}:{self.route_port}"

    @property
    def local_url(self) -> str:
        """The URL the node's own services use (loopback: the server runs where they run)."""
        return f"nats://127.0.0.1:{self.port}"

    @property
    def client_url(self) -> str:
        return f"nats://127.0.0.1:{self.client_port or self.port}"

    def process(self, cluster: str, peers: list[BusServer], store_dir: Path,
                auth: ServerAuth | None = None) -> NatsServer:
        """The nats-server of this bus server: named after its node, routed to every peer; with ``auth`` it
        requires credentials (clients and routes)."""
        routes = Routes(cluster=f"paceline-{cluster}", port=self.route_port,
                        peers=tuple(p.route_url for p in peers if p.name != self.name),
                        host="0.0.0.0" if self.namespace else "127.0.0.1") if self.route_port else None
        if self.namespace:
            return NamespacedNatsServer(store_dir=store_dir, port=self.port, http_port=self.http_port, name=self.name,
                                        routes=routes, host="0.0.0.0", namespace=self.namespace, auth=auth)
        return NatsServer(store_dir=store_dir, port=self.port, http_port=self.http_port, name=self.name,
                          routes=routes, auth=auth)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def plan(nodes: list[str], witnesses: list[str], network: NetnsPlan | None, single: bool) -> dict[str, BusServer]:
    """Every bus server of a new lab with fresh ports: one per node and witness, or the single shared one."""
    if single:
        hub = network.hub if network else ""
        address = network.hub_address if network else "127.0.0.1"
        return {SINGLE: BusServer(SINGLE, free_port(), free_port(), 0, address=address, namespace=hub,
                                  client_port=free_port() if hub else 0)}
    servers = {}
    for name in nodes + witnesses:
        witness = name in witnesses
        if network is None:
            address, namespace = "127.0.0.1", ""
        elif witness:  # a witness has no node namespace: it sits on the hub, reachable by every node
            address, namespace = network.hub_address, network.hub
        else:
            address, namespace = network.address(name), network.namespace(name)
        servers[name] = BusServer(name, free_port(), free_port(), free_port(), address=address,
                                  namespace=namespace, witness=witness, client_port=free_port() if namespace else 0)
    return servers


def server_of(servers: dict[str, BusServer], node: str) -> BusServer:
    """The bus server a node's services connect to: its own, or the single shared one."""
    return servers.get(node) or servers[SINGLE]


def replicas(servers: dict[str, BusServer]) -> int:
    """Copies of every bucket: min(3, JetStream servers)."""
    return min(MAX_REPLICAS, len(servers))


def client_urls(servers: dict[str, BusServer]) -> str:
    """Every server, comma-separated, for ``paceline`` and other clients in the root namespace."""
    return ",".join(s.client_url for s in servers.values())
