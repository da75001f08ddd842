"""What ``paceline cluster init/join`` writes on a machine, as text: pure, so it is unit tested without root.

One node of an installed cluster is five Paceline services and one nats-server,
each a systemd unit, grouped by ``paceline.target``:

- ``paceline-nats.service``: the node's bus server (``nats-server -c nats.conf``):
  JetStream with its store under the state directory, TLS and the users'
  nkeys from the credentials, routes to the cluster's other servers.
- ``paceline-<service>.service`` for cib-store, gateway, membership, executor,
  policy: ``Type=notify`` (the service says READY=1 once it is connected to its
  bus server, and WATCHDOG=1 from its event loop), ``Restart=on-failure``,
  ``WatchdogSec=``, the state directory ``/var/lib/paceline`` (``StateDirectory=``).

:class:`Layout` says where everything goes under a root directory (``/`` on a
real machine; a per-node directory in tests), :class:`Unit` is one unit with the
command it runs - the same argv that the no-systemd fallback starts directly -
and :class:`JoinBundle` is what a joining machine needs from the cluster.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from paceline.shared.credentials import SHARED_FILES

#: The node's services in the order they are started: the cluster-wide ones first (the CIB must answer
#: before the node is added to it), then the node-bound ones.
SERVICES = ("cib-store", "gateway", "membership", "executor", "policy")
CLUSTER_WIDE = SERVICES[:2]
NATS_UNIT = "paceline-nats"
TARGET = "paceline.target"
SUMMARIES = {
    "cib-store": "CIB store (the configuration in JetStream)",
    "gateway": "gateway (CLI and HTTP front door)",
    "membership": "membership (heartbeats, quorum)",
    "executor": "executor (runs the resource agents of this node)",
    "policy": "policy engine (scheduler and transitions of the DC)",
}
#: systemd's watchdog for every service: a service pings at half of it from its event loop.
WATCHDOG_SEC = 30
BUNDLE_FORMAT = "paceline-join-1"


class BundleError(ValueError):
    """A join bundle that cannot be used; the message says what is wrong with it."""


@dataclass(frozen=True)
class Layout:
    """Where a node's files go: ``/etc/paceline``, ``/var/lib/paceline`` and the units, under ``root``."""

    root: Path = Path("/")

    @property
    def etc(self) -> Path:
        return self.root / "etc" / "paceline"

    @property
    def config_file(self) -> Path:
        return self.etc / "paceline.toml"

    @property
    def nats_config(self) -> Path:
        return self.etc / "nats.conf"

    @property
    def credentials(self) -> Path:
        return self.etc / "credentials"

    @property
    def bundle(self) -> Path:
        return self.etc / "join.bundle"

    @property
    def state(self) -> Path:
        return self.root / "var" / "lib" / "paceline"

    @property
    def jetstream(self) -> Path:
        return self.state / "jetstream"

    @property
    def units_dir(self) -> Path:
        return self.root / "etc" / "systemd" / "system"

    @property
    def run_dir(self) -> Path:
        """The no-systemd fallback's pid files (one per unit)."""
        return self.state / "units"

    @property
    def log_dir(self) -> Path:
        """The no-systemd fallback's logs (one per unit; under systemd: the journal)."""
        return self.state / "log"


@dataclass(frozen=True)
class Ports:
    client: int = 4222
    cluster: int = 6222
    monitor: int = 8222


@dataclass(frozen=True)
class NodeSpec:
    """One node of an installed cluster: its names, the address other servers reach it at, its route seeds."""

    cluster: str
    node: str
    address: str
    seeds: tuple[str, ...] = ()  # hosts (or host:port) of servers already in the cluster
    ports: Ports = field(default_factory=Ports)

    @property
    def own_route(self) -> str:
        return f"nats://{self.address}:{self.ports.cluster}"

    def route_urls(self) -> list[str]:
        """The seeds' route URLs, and this server's own: a clustered JetStream refuses to start without a
        route, and a server drops the one to itself - so a first node alone starts, and later dials nobody
        (the others dial it)."""
        urls = [self.own_route]
        for seed in self.seeds:
            url = f"nats://{seed if ':' in seed else f'{seed}:{self.ports.cluster}'}"
            if url not in urls:
                urls.append(url)
        return urls


@dataclass(frozen=True)
class Unit:
    """One systemd unit of a node, with the command it runs (the fallback runs the same one)."""

    name: str  # without .service
    description: str
    argv: tuple[str, ...]
    notify: bool = True
    environment: Mapping[str, str] = field(default_factory=dict)
    after: tuple[str, ...] = ()
    reload: str = ""

    @property
    def file_name(self) -> str:
        return f"{self.name}.service"

    def text(self) -> str:
        after = " ".join(["network-online.target", *(f"{a}.service" for a in self.after)])
        lines = ["# A Paceline unit (deploy/systemd, or written by paceline cluster init/join); paceline.target "
                 "groups a node's.",
                 "[Unit]", f"Description=Paceline {self.description}", f"PartOf={TARGET}",
                 "Wants=network-online.target" + "".join(f" {a}.service" for a in self.after),
                 f"After={after}", "", "[Service]"]
        if self.notify:
            lines += ["Type=notify", "NotifyAccess=main", f"WatchdogSec={WATCHDOG_SEC}s"]
        else:
            lines += ["Type=exec"]
        lines += [f"Environment={shlex.quote(f'{k}={v}')}" for k, v in self.environment.items()]
        lines += [f"ExecStart={shlex.join(self.argv)}"]
        if self.reload:
            lines.append(f"ExecReload={self.reload}")
        lines += ["Restart=on-failure", "RestartSec=2s", "TimeoutStartSec=120s", "StateDirectory=paceline",
                  "StateDirectoryMode=0750", "LimitNOFILE=65536", "", "[Install]", f"WantedBy={TARGET}", ""]
        return "\n".join(lines)


def units(layout: Layout, bindir: Path) -> list[Unit]:
    """The node's units, bus server first: every command reads the one configuration file."""
    env = {"PACELINE_CONFIG": str(layout.config_file)}
    nats = Unit(NATS_UNIT, "bus server (nats-server, JetStream)",
                (str(bindir / "nats-server"), "-c", str(layout.nats_config)), notify=False,
                reload="/bin/kill -HUP $MAINPID")
    services = [Unit(f"paceline-{svc}", SUMMARIES[svc],
                     (str(bindir / f"paceline-{svc}"), "--config", str(layout.config_file)),
                     environment=env, after=(NATS_UNIT,))
                for svc in SERVICES]
    return [nats, *services]


def target_text(node_units: list[Unit]) -> str:
    """``paceline.target``: ``systemctl start/stop paceline.target`` starts or stops the whole node."""
    wants = " ".join(u.file_name for u in node_units)
    return "\n".join(["# A Paceline node: its bus server and services (deploy/systemd, or paceline cluster init/join).",
                      "[Unit]", "Description=Paceline cluster node (bus server and services)",
                      f"Wants={wants}", "After=network-online.target", "", "[Install]",
                      "WantedBy=multi-user.target", ""])


def _toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a TOML basic string for anything a path or name holds


def paceline_toml(spec: NodeSpec, layout: Layout) -> str:
    """The Paceline configuration file of the node (:mod:`paceline.shared.config` reads it)."""
    settings = {"cluster": spec.cluster, "node": spec.node,
                "nats_url": f"nats://127.0.0.1:{spec.ports.client}",
                "credentials": str(layout.credentials), "state_dir": str(layout.state)}
    lines = [f"# Paceline configuration of node {spec.node} in cluster {spec.cluster} (paceline cluster init/join).",
             "# Every setting of paceline.shared.config may go here; PACELINE_<NAME> variables override them."]
    lines += [f"{k} = {_toml_string(v)}" for k, v in settings.items()]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ServerTls:
    cert_file: Path
    key_file: Path
    ca_file: Path

    def block(self, indent: str, verify: bool = False) -> list[str]:
        inner = indent + "  "
        lines = [f"{indent}tls {{", f"{inner}cert_file: {_toml_string(str(self.cert_file))}",
                 f"{inner}key_file: {_toml_string(str(self.key_file))}",
                 f"{inner}ca_file: {_toml_string(str(self.ca_file))}", f"{inner}timeout: 2"]
        return lines + ([f"{inner}verify: true"] if verify else []) + [f"{indent}}}"]


def nats_conf(spec: NodeSpec, layout: Layout, tls: ServerTls, authorization: str) -> str:
    """The node's nats-server configuration: named after the node (JetStream's Raft peers know servers by
    name), clients on every address, monitoring on loopback, routes with mutual TLS to the seeds.

    A NATS cluster learns its members by gossip, so one seed that is up is enough for a new server; the
    routes listed here are the ones it dials after a restart."""
    routes = spec.route_urls()
    lines = [f"# nats-server of Paceline node {spec.node} in cluster {spec.cluster} (paceline cluster init/join).",
             f"server_name: {_toml_string(spec.node)}", f'listen: "0.0.0.0:{spec.ports.client}"',
             f'http: "127.0.0.1:{spec.ports.monitor}"', "",
             "jetstream {", f"  store_dir: {_toml_string(str(layout.jetstream))}", "}", "",
             *tls.block(""), "",
             "cluster {", f"  name: {_toml_string('paceline-' + spec.cluster)}",
             f'  listen: "0.0.0.0:{spec.ports.cluster}"',
             "  routes: [" + ", ".join(_toml_string(r) for r in routes) + "]",
             *tls.block("  ", verify=True), "}", ""]
    return "\n".join(lines) + authorization


@dataclass(frozen=True)
class JoinBundle:
    """What ``cluster join`` needs from the cluster, in one file made by ``cluster init`` (and by each join):
    the cluster's name and ports, a seed server, and the CA with the two shared users.

    It holds the CA key: whoever has it can make a node of the cluster, as whoever has corosync's authkey can.
    It is written 0600 and must travel like a private key (scp), and be deleted once the nodes joined."""

    cluster: str
    seed: str  # the address of the node that made it
    ports: Ports
    files: Mapping[str, str]
    seed_node: str = ""  # the name of the node that made it

    def text(self) -> str:
        return json.dumps({"format": BUNDLE_FORMAT, "cluster": self.cluster, "seed": self.seed,
                           "seed_node": self.seed_node,
                           "ports": {"client": self.ports.client, "cluster": self.ports.cluster,
                                     "monitor": self.ports.monitor},
                           "files": dict(self.files)}, indent=1) + "\n"

    @classmethod
    def parse(cls, text: str, source: str) -> JoinBundle:
        try:
            data = json.loads(text)
        except ValueError:
            raise BundleError(f"{source} is not a join bundle (not JSON): paceline cluster init makes one") from None
        if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
            raise BundleError(f"{source} is not a join bundle of this version (format {BUNDLE_FORMAT})")
        try:
            ports = Ports(**{k: int(v) for k, v in data["ports"].items()})
            files = {str(k): str(v) for k, v in data["files"].items()}
            bundle = cls(str(data["cluster"]), str(data["seed"]), ports, files, str(data.get("seed_node", "")))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BundleError(f"{source}: a damaged join bundle ({exc})") from None
        missing = [f for f in SHARED_FILES if f not in bundle.files]
        if missing:
            raise BundleError(f"{source}: the join bundle lacks {', '.join(missing)}")
        return bundle


#: Where ``pip install paceline`` puts the commands on a real machine (the shipped units run them from there;
#: ``cluster init/join`` writes units that run the installation's own).
SHIPPED_BINDIR = Path("/usr/local/bin")


def shipped_units() -> dict[str, str]:
    """deploy/systemd/: the units for a machine set up by hand (file name -> text), with the default paths."""
    node_units = units(Layout(), SHIPPED_BINDIR)
    return {**{u.file_name: u.text() for u in node_units}, TARGET: target_text(node_units)}


if __name__ == "__main__":  # python -m paceline.cli.cluster_files DIR: (re)writes deploy/systemd
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "deploy/systemd")
    out.mkdir(parents=True, exist_ok=True)
    for name, text in shipped_units().items():
        (out / name).write_text(text)
