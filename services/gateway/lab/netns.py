"""The network of a netns lab: one network namespace per node, joined to a bridge in a "hub" namespace.

Why namespaces: a floating address managed by the real ``ocf:heartbeat:IPaddr2``
is a kernel address on an interface. To watch it move between nodes on one
machine, every node needs its own network stack; to keep the host untouched,
every address, link and bridge lives only inside namespaces this module
creates - nothing is configured in the root namespace and no route leads out.

Layout (names are prefixed with the cluster name so two labs do not clash)::

    CLUSTER-hub:   lo, br0 (10.213.0.1/24), vethN (one per node, enslaved to br0), a witness's nats-server
    CLUSTER-NODE:  lo, lab0 (10.213.0.1X/24; the same interface name on every node), the node's nats-server

:class:`NetnsPlan` is pure (names, addresses, ``ip`` command lines) so it is
unit tested without root; the functions below it run the commands.
"""

from __future__ import annotations

import ctypes
import ipaddress
import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

DEFAULT_SUBNET = "10.213.0.0/24"
NODE_HOST_OFFSET = 10  # node i (1-based) gets host number 10 + i
FLOATING_HOST_OFFSET = 100  # suggested floating addresses start here, away from node addresses
NETNS_DIR = "/run/netns"
CLONE_NEWNET = 0x40000000

T = TypeVar("T")


class NetnsError(Exception):
    """The lab network cannot be set up or torn down; the message says why in one line."""


Command = list[str]


@dataclass(frozen=True)
class NetnsPlan:
    """Every name and address of one lab's network, derived from the cluster and node names only."""

    cluster: str
    nodes: tuple[str, ...]
    subnet: str = DEFAULT_SUBNET
    nic: str = "lab0"
    bridge: str = "br0"

    def __post_init__(self) -> None:
        if "hub" in self.nodes:
            raise NetnsError("a node may not be called 'hub' in a netns lab (the hub namespace has that name)")
        net = ipaddress.IPv4Network(self.subnet)
        room = min(FLOATING_HOST_OFFSET, net.num_addresses - 1) - NODE_HOST_OFFSET - 1
        if len(self.nodes) > room:
            raise NetnsError(f"a netns lab on {self.subnet} has room for {room} nodes, not {len(self.nodes)}")

    # ------------------------------------------------------------ names
    @property
    def hub(self) -> str:
        return f"{self.cluster}-hub"

    def namespace(self, node: str) -> str:
        return f"{self.cluster}-{node}"

    def namespaces(self) -> list[str]:
        return [self.hub] + [self.namespace(n) for n in self.nodes]

    def hub_port(self, node: str) -> str:
        """The hub side of the node's veth pair; only the hub sees it, so a short index name is enough."""
        return f"veth{self.nodes.index(node) + 1}"

    # ------------------------------------------------------------ addresses
    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.subnet)

    def _host(self, number: int) -> str:
        return str(self.network.network_address + number)

    @property
    def hub_address(self) -> str:
        return self._host(1)

    @property
    def bridge_mac(self) -> str:
        """A fixed, locally administered MAC address for the bridge (02:00 + its IPv4 address).

        Left alone, a Linux bridge takes the lowest MAC address of its ports, so
        removing a killed node's veth (or adding one back) would change it, and
        every node would keep sending to the hub's old MAC until its ARP entry
        expired - tens of seconds without a bus.
        """
        return "02:00:" + ":".join(f"{b:02x}" for b in ipaddress.IPv4Address(self.hub_address).packed)

    def address(self, node: str) -> str:
        return self._host(NODE_HOST_OFFSET + self.nodes.index(node) + 1)

    def floating(self, index: int = 0) -> str:
        """A free address of the lab range for floating IPs (none of them is configured by the lab)."""
        if not 0 <= index < self.network.num_addresses - FLOATING_HOST_OFFSET - 1:
            raise NetnsError(f"no floating address #{index} in {self.subnet}")
        return self._host(FLOATING_HOST_OFFSET + index)

    def cidr(self, address: str) -> str:
        return f"{address}/{self.network.prefixlen}"

    # ------------------------------------------------------------ commands
    def hub_setup(self) -> list[Command]:
        h = self.hub
        return [["ip", "netns", "add", h],
                ["ip", "-n", h, "link", "set", "lo", "up"],
                ["ip", "-n", h, "link", "add", self.bridge, "address", self.bridge_mac, "type", "bridge"],
                ["ip", "-n", h, "addr", "add", self.cidr(self.hub_address), "dev", self.bridge],
                ["ip", "-n", h, "link", "set", self.bridge, "up"]]

    def node_setup(self, node: str) -> list[Command]:
        """The node's namespace and its veth pair, created from the hub side so nothing touches the root."""
        ns, port = self.namespace(node), self.hub_port(node)
        return [["ip", "netns", "add", ns],
                ["ip", "-n", ns, "link", "set", "lo", "up"],
                ["ip", "-n", self.hub, "link", "add", port, "type", "veth", "peer", "name", self.nic, "netns", ns],
                ["ip", "-n", self.hub, "link", "set", port, "master", self.bridge],
                ["ip", "-n", self.hub, "link", "set", port, "up"],
                ["ip", "-n", ns, "addr", "add", self.cidr(self.address(node)), "dev", self.nic],
                ["ip", "-n", ns, "link", "set", self.nic, "up"]]

    def node_teardown(self, node: str) -> list[Command]:
        """Deleting the hub end removes both ends at once, so the node's addresses vanish immediately."""
        return [["ip", "-n", self.hub, "link", "del", self.hub_port(node)],
                ["ip", "netns", "del", self.namespace(node)]]

    def link(self, node: str, up: bool) -> list[Command]:
        """Cut (or restore) the node's only link to the others: its port on the lab bridge. Its own bus
        server and services, inside its namespace, still reach each other over its loopback."""
        return [["ip", "-n", self.hub, "link", "set", self.hub_port(node), "up" if up else "down"]]

    def hub_teardown(self) -> list[Command]:
        return [["ip", "netns", "del", self.hub]]

    # ------------------------------------------------------------ lab.json
    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["nodes"] = list(self.nodes)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NetnsPlan:
        return cls(**{**data, "nodes": tuple(data["nodes"])})

    def describe(self) -> list[str]:
        lines = [f"network: hub namespace {self.hub}, bridge {self.bridge} {self.cidr(self.hub_address)};"
                 f" floating addresses from {self.floating()}"]
        lines += [f"  {n:<22} namespace {self.namespace(n)}  {self.nic} {self.cidr(self.address(n))}"
                  for n in self.nodes]
        return lines


# ---------------------------------------------------------------- running the plan
def require_support() -> None:
    """Namespaces need root and iproute2; say so in one line rather than failing half-way."""
    if os.geteuid() != 0:
        raise NetnsError("paceline lab up --netns needs root (network namespaces); run it as root or drop --netns")
    if shutil.which("ip") is None:
        raise NetnsError("paceline lab up --netns needs the 'ip' command (Debian package iproute2)")


def exec_argv(namespace: str, argv: Command) -> Command:
    """A command run inside a namespace; ``ip`` execs it, so the pid is the command's own."""
    return ["ip", "netns", "exec", namespace, *argv]


def existing_namespaces() -> set[str]:
    try:
        return {name for name in os.listdir(NETNS_DIR)}
    except FileNotFoundError:
        return set()


def run(commands: list[Command], ignore_errors: bool = False) -> None:
    """Run ``ip`` commands in order; the first failure stops with its own message unless ignored."""
    for cmd in commands:
        proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if proc.returncode != 0 and not ignore_errors:
            reason = (proc.stderr or proc.stdout).strip().splitlines()
            raise NetnsError(f"{' '.join(cmd)} failed: {reason[-1] if reason else f'exit {proc.returncode}'}")


def pids_in(namespace: str) -> list[int]:
    """Every process whose network namespace is this one (a node crash kills exactly these)."""
    if namespace not in existing_namespaces():
        return []
    proc = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True)
    return [int(p) for p in proc.stdout.split() if p.isdigit()]


def enter(namespace: str) -> None:
    """Move the calling thread into a namespace (setns(2)); other threads of the process stay where they are."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(os.path.join(NETNS_DIR, namespace), os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise NetnsError(f"cannot enter network namespace {namespace}: {os.strerror(err)}")
    finally:
        os.close(fd)


def call_in(namespace: str, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` in a fresh thread inside ``namespace`` and return its result (or raise its error).

    A throw-away thread keeps the caller's own thread, and therefore every
    socket it opens later, in the namespace it started in.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            enter(namespace)
            outcome["value"] = fn(*args)
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name=f"netns-{namespace}", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
