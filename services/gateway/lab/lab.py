"""``paceline lab``: a whole cluster on one machine, every service a real process on a real NATS bus.

The lab is the topology Paceline is deployed on (see :mod:`paceline.lab.buses`):
every node runs its own nats-server (named after the node, clustered with the
others by routes, JetStream on, store under the lab directory) and every
Paceline service - cib-store, gateway, membership, executor, policy - each
connected to its own node's server. A two-node lab gets a *witness* by default,
a bus-only node that keeps JetStream's majority when either node dies.

``kill`` is a machine crash: SIGKILL of the node's services, its nats-server
and the services its agents started, and its volatile run directory (like /run
after a reboot) is wiped; its JetStream store (its disk) stays. ``revive``
brings all of it back. ``pause``/``resume`` stop and continue the node's
Paceline processes and its nats-server (SIGSTOP/SIGCONT: the cluster software
hangs, the resources keep running). Everything started is recorded in
``lab.json`` so later commands, and ``down``, find it again.

``up --netns`` (root only) gives every node its own network namespace on a lab
bridge (see :mod:`paceline.lab.netns`): a node's server and services run in the
node's namespace, a witness on the hub, and ``paceline`` reaches each server
through a loopback forwarder. A killed node loses its namespace and with it
every address it held, as a rebooted machine would; ``revive`` builds it again.

``up --single-bus`` is the explicitly named embedded mode: one nats-server for
all nodes that no ``kill`` takes down. Nothing that claims failover or safety
runs on it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from paceline.client.labfile import default_dir
from paceline.lab import buses, netns
from paceline.lab.buses import BusServer
from paceline.lab.netns import NetnsError, NetnsPlan
from paceline.lab.netns_bus import wait_listening
from paceline.shared import bus, cib, containers, micro
from paceline.shared.cluster.values import is_true
from paceline.shared.credentials import CredentialError, Credentials, add_remote, keygen, server_auth
from paceline.shared.natsserver import NatsServer, NatsServerError
from paceline.shared.pidfiles import LAB_DIR_ENV, pids_under, started_for
from paceline.shared.subjects import Subjects, check_token

#: Every node runs every service, as a real machine would; the first two are the cluster-wide ones (any
#: instance answers), started on every node before the node-bound ones.
NODE_SERVICES = ("cib-store", "gateway", "membership", "executor", "policy")
CLUSTER_SERVICES = NODE_SERVICES[:2]
#: The witness a two-node lab gets unless told otherwise.
DEFAULT_WITNESS = "witness"
#: A netns lab's loopback forwarder into a server's namespace, recorded as "SERVER/FORWARDER".
FORWARDER = "bus-forward"
#: Each node's watchdog, recorded as "NODE/WATCHDOG": it stands for hardware, so ``pause`` leaves it running.
WATCHDOG = "watchdog"
#: ha_cluster_exporter's port: a netns lab's node exporters listen on it, each on its node's own address.
EXPORTER_PORT = 9664
#: A remote node's one process, recorded as "NODE/REMOTE": its executor (``python -m paceline.executor --remote``).
REMOTE = "remote"
#: The file (in a node's directory) listing what its watchdog kills on a reset.
NODE_PIDS = "node.pids"
#: A lab's default watchdog timeout; survivors wait twice that (``stonith-watchdog-timeout``, as sbd advises).
DEFAULT_WATCHDOG_TIMEOUT = 2.0
MODULES = {"membership": "paceline.membership", "executor": "paceline.executor", "policy": "paceline.policy",
           "cib-store": "paceline.cib_store", "gateway": "paceline.gateway"}


class LabError(Exception):
    """A lab command that cannot be carried out; the message says why and what to do."""


def _running(pid: int) -> bool:
    """A process that exists and is not a zombie (killed, waiting to be reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def alive(pid: int | None, lab_dir: Path) -> bool:
    """True only for a live process started for the lab in ``lab_dir`` (never signal a recycled pid: it may
    be another lab's nats-server by now)."""
    return pid is not None and pid > 0 and _running(pid) and started_for(pid, [lab_dir])


def _signal(pid: int | None, sig: int, lab_dir: Path) -> None:
    if alive(pid, lab_dir):
        try:
            os.kill(pid, sig)  # type: ignore[arg-type]
        except ProcessLookupError:
            pass


def _wait_gone(pids: list[int], timeout: float, lab_dir: Path) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [p for p in pids if alive(p, lab_dir)]
        if not left:
            return []
        time.sleep(0.05)
    return [p for p in pids if alive(p, lab_dir)]


def _kill_namespace(namespace: str) -> None:
    """SIGKILL every process in one of the lab's namespaces: only the lab and its agents run there."""
    pids = netns.pids_in(namespace)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while pids and time.monotonic() < deadline:
        pids = [p for p in pids if _running(p)]
        time.sleep(0.02)


def free_port() -> int:
    """A TCP port free on loopback right now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def default_watchdog(nodes: int) -> float:
    """Watchdog self-fencing needs a majority to tell a lost node from a lost partner: three nodes or more
    (diskless sbd's rule too; a witness gives the bus a majority, not the membership a vote). Two-node labs
    run without watchdogs unless asked (``--watchdog-timeout``)."""
    return DEFAULT_WATCHDOG_TIMEOUT if nodes >= 3 else 0.0


@dataclass
class Lab:
    dir: Path
    cluster: str = "lab"
    nodes: list[str] = field(default_factory=list)
    witnesses: list[str] = field(default_factory=list)
    #: Remote nodes (``up --remote``): an executor each, no bus server, no membership, no vote; brought into
    #: the cluster by configuring ``primitive NAME ocf:pacemaker:remote``.
    remotes: list[str] = field(default_factory=list)
    single_bus: bool = False
    #: Every bus server's client URL, comma-separated: what ``paceline`` (and any tool) connects to.
    nats_url: str = ""
    buses: dict[str, dict[str, Any]] = field(default_factory=dict)  # server name -> BusServer.to_json()
    procs: dict[str, int] = field(default_factory=dict)  # "node/svc" (or "server/bus-forward") -> pid
    settings: dict[str, str] = field(default_factory=dict)
    netns: dict[str, Any] = field(default_factory=dict)  # NetnsPlan.to_json() of a netns lab, else empty
    #: Seconds each node's watchdog waits for a pet before it resets the node; 0: no watchdogs; below 0: the
    #: default for the number of nodes (see :func:`default_watchdog`).
    watchdog_timeout: float = -1.0
    #: The credentials directory of a lab whose bus requires them (``lab up --secure``); empty: an open bus.
    credentials: str = ""
    #: Each node's exporter (``host:port``, what Prometheus scrapes): a free loopback port each, as the nodes
    #: share one machine; in a netns lab ha_cluster_exporter's 9664 on the node's own address.
    exporters: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Absolute, as every process the lab starts names it: how a recorded pid is told from a recycled one.
        self.dir = Path(os.path.abspath(self.dir))

    # ------------------------------------------------------------ persistence
    @property
    def state_file(self) -> Path:
        return self.dir / "lab.json"

    @classmethod
    def load(cls, directory: Path | None = None) -> Lab:
        d = directory or default_dir()
        try:
            data = json.loads((d / "lab.json").read_text())
            return cls(dir=d, **data)
        except FileNotFoundError:
            raise LabError(f"no lab is running in {d} (start one with: paceline lab up)") from None
        except (ValueError, TypeError):
            raise LabError(f"{d / 'lab.json'} is not the state file of this version's lab; "
                           f"stop its processes and remove it") from None

    def save(self) -> None:
        data = {k: v for k, v in self.__dict__.items() if k != "dir"}
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(self.state_file)

    def node_dir(self, node: str) -> Path:
        return self.dir / "nodes" / node

    # ------------------------------------------------------------ the bus
    @property
    def servers(self) -> dict[str, BusServer]:
        return {name: BusServer(**data) for name, data in self.buses.items()}

    def server(self, name: str) -> BusServer:
        return BusServer(**self.buses[name])

    def _record(self, server: BusServer) -> None:
        self.buses[server.name] = server.to_json()
        self.nats_url = buses.client_urls(self.servers)

    def bus_url(self, node: str) -> str:
        """The URL a node's services connect to: their own node's server, on the loopback they share with it."""
        server = buses.server_of(self.servers, node)
        plan = self.plan
        if plan is None or server.namespace == plan.namespace(node):
            return server.local_url
        return f"nats://{server.address}:{server.port}"  # the single bus, on the hub, seen from a node namespace

    def _spawn_server(self, server: BusServer) -> NatsServer:
        """Start one bus server (and, in a netns lab, its forwarder) without waiting for it to be healthy."""
        log_dir = self.dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        auth = None
        if self.credentials:
            auth = server_auth(Credentials(Path(self.credentials)), server.name, Subjects(self.cluster))
        process = server.process(self.cluster, list(self.servers.values()), self.dir / "jetstream" / server.name,
                                 auth)
        process.spawn(log_file=log_dir / f"nats-{server.name}.log", detach=True)
        server.pid = process.pid or 0
        if server.namespace:
            self.launch(f"{server.name}/{FORWARDER}",
                        [sys.executable, "-m", "paceline.lab.netns_forward", "--listen", str(server.client_port),
                         "--netns", server.namespace, "--target", f"127.0.0.1:{server.port}"], dict(os.environ))
        self._record(server)
        return process

    def _start_servers(self, names: list[str], timeout: float = 10.0) -> None:
        """Start the named servers together (JetStream elects its leaders once a majority is up), then check each."""
        started = [self._spawn_server(self.server(name)) for name in names]
        self.save()
        for name, process in zip(names, started, strict=True):
            process.wait_healthy(timeout)
            if self.server(name).namespace:
                wait_listening(self.server(name).client_port)

    # ------------------------------------------------------------ network (netns lab)
    @property
    def plan(self) -> NetnsPlan | None:
        return NetnsPlan.from_json(self.netns) if self.netns else None

    def namespace_of(self, node: str) -> str | None:
        """Where a node's services run; None outside a netns lab."""
        plan = self.plan
        return plan.namespace(node) if plan is not None else None

    # ------------------------------------------------------------ processes
    def env(self, node: str) -> dict[str, str]:
        env = dict(os.environ)
        # Agents written in Python start with `#!/usr/bin/env python3`; this interpreter's folder first means
        # they start directly, not through a version manager's shim on PATH (pyenv's forks several helpers:
        # 0.1-0.5 s per agent run under load, three runs on a recovery path).
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        # A remote node has no bus server of its own: it reaches every cluster node's (the client fails over).
        url = self.nats_url if node in self.remotes else self.bus_url(node)
        env.update({"PACELINE_CLUSTER": self.cluster, "PACELINE_NATS_URL": url,
                    "PACELINE_EXPECTED_VOTES": str(len(self.nodes)), "PACELINE_LOG_FORMAT": "json",
                    "PACELINE_REPLICAS": str(buses.replicas(self.servers)),
                    "PACELINE_WATCHDOG_TIMEOUT": str(self.watchdog_timeout)})
        # The node's /run: agents that keep pid files in /var/run (ocf:heartbeat:apache, nginx) would otherwise
        # share one between the nodes, and one node's probe would find the other's server running. Under the run
        # directory, a crash wipes it and the lab's kill finds the servers by those pid files.
        env["HA_VARRUN"] = str(self.node_dir(node) / "run")
        if self.credentials:
            env["PACELINE_CREDENTIALS"] = self.credentials
        if node in self.exporters:
            host, _, port = self.exporters[node].rpartition(":")
            env.update({"PACELINE_EXPORTER_ADDRESS": host, "PACELINE_EXPORTER_PORT": port})
        env.update(self.settings)
        return env

    def _assign_exporters(self, plan: NetnsPlan | None) -> None:
        """Give every node's exporter its own address (see ``exporters``)."""
        for node in self.nodes:
            self.exporters[node] = f"{plan.address(node)}:{EXPORTER_PORT}" if plan is not None else \
                f"127.0.0.1:{free_port()}"

    def launch(self, name: str, argv: list[str], env: dict[str, str], namespace: str | None = None) -> int:
        """Start one detached process (inside ``namespace`` if given) with its log under logs/; record its pid."""
        log_dir = self.dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        if namespace:
            argv = netns.exec_argv(namespace, argv)
        with open(log_dir / f"{name.replace('/', '-')}.log", "ab") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env={**env, LAB_DIR_ENV: str(self.dir)}, start_new_session=True)
        self.procs[name] = proc.pid
        return proc.pid

    def spawn(self, service: str, node: str) -> int:
        state = self.node_dir(node)
        state.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", MODULES[service], "--state-dir", str(state), "--metrics-port", "0",
                "--node", node]
        return self.launch(f"{node}/{service}", argv, self.env(node), self.namespace_of(node))

    def node_pids(self, node: str) -> list[int]:
        """The node's Paceline services (not its bus server, not its resources); a remote node's executor."""
        return [self.procs[f"{node}/{s}"] for s in (*NODE_SERVICES, REMOTE) if f"{node}/{s}" in self.procs]

    def server_pids(self, name: str) -> list[int]:
        """A bus server's nats-server and, in a netns lab, its forwarder."""
        if name not in self.buses:
            return []
        return [p for p in (self.server(name).pid, self.procs.get(f"{name}/{FORWARDER}")) if p]

    def resource_pids(self, node: str) -> list[int]:
        """Processes the node's agents started, found by the pid files they keep in HA_RSCTMP."""
        return pids_under(self.node_dir(node) / "run")

    def _wipe_run_dirs(self, nodes: list[str]) -> None:
        """The end of the nodes' machines, once their processes are dead: the containers their agents started
        go too (the engine, shared by every node of the lab, would keep them), then the run directories."""
        containers.wipe(self.node_dir(node) / "run" for node in nodes)

    def _members(self) -> list[str]:
        return self.nodes + self.witnesses + self.remotes

    def remote_env(self, node: str) -> dict[str, str]:
        """A remote node's environment: a node's (connected to every cluster node's bus server), with no vote,
        no watchdog and no exporter."""
        env = self.env(node)
        for name in ("PACELINE_EXPECTED_VOTES", "PACELINE_WATCHDOG_TIMEOUT", "PACELINE_EXPORTER_ADDRESS",
                     "PACELINE_EXPORTER_PORT"):
            env.pop(name, None)
        return env

    def spawn_remote(self, node: str) -> int:
        """Start a remote node's executor (its whole cluster software), in the root namespace."""
        state = self.node_dir(node)
        (state / "run").mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", MODULES["executor"], "--remote", "--state-dir", str(state),
                "--metrics-port", "0", "--node", node]
        return self.launch(f"{node}/{REMOTE}", argv, self.remote_env(node))

    def _check_member(self, name: str) -> None:
        if name not in self._members():
            raise LabError(f"no node {name!r} in this lab (nodes: {', '.join(self._members())})")

    # ------------------------------------------------------------ commands
    def up(self, nodes: list[str], timeout: float = 30.0, with_netns: bool = False,
           witnesses: list[str] | None = None, single_bus: bool = False, secure: bool = True,
           remotes: list[str] | None = None) -> None:
        """Start the lab; ``witnesses`` None means the default (one for a two-node lab, none otherwise); with
        ``secure`` (the default) its bus requires the credentials it makes (``paceline keygen``'s) under
        ``credentials/``; ``remotes``: remote nodes, an executor each (``remote@NODE`` credentials)."""
        remotes = list(remotes or [])
        if witnesses is None:
            witnesses = [DEFAULT_WITNESS] if len(nodes) == 2 and not single_bus else []
        if self.watchdog_timeout < 0:
            self.watchdog_timeout = default_watchdog(len(nodes))
        self._check_names(nodes, witnesses, single_bus, remotes)
        self._refuse_running()
        plan = self._plan_network(nodes) if with_netns else None
        self.dir.mkdir(parents=True, exist_ok=True)
        self.nodes, self.witnesses, self.single_bus, self.remotes = list(nodes), list(witnesses), single_bus, remotes
        self.procs, self.buses = {}, {}
        if plan is not None:
            self.netns = plan.to_json()
        for server in buses.plan(self.nodes, self.witnesses, plan, single_bus).values():
            self._record(server)
        self._assign_exporters(plan)
        if secure:
            self._make_credentials()
        self.save()  # recorded before anything exists, so that down() can remove a half-built lab
        try:
            if plan is not None:
                netns.run(plan.hub_setup())
                for node in plan.nodes:
                    netns.run(plan.node_setup(node))
            self._start_servers(list(self.buses))
        except (NetnsError, NatsServerError, OSError):
            self.down()
            raise
        for node in nodes:
            self._start_services(node, CLUSTER_SERVICES)
        self.save()
        asyncio.run(self._init_cib(timeout))
        for node in nodes:
            self._start_services(node, NODE_SERVICES[len(CLUSTER_SERVICES):])
        for node in remotes:
            self.spawn_remote(node)
        self.save()
        asyncio.run(self.wait_ready(timeout))

    def _make_credentials(self) -> None:
        """The lab's own ``paceline keygen``: a certificate per bus server (valid for its addresses), a user per
        service of each node, an admin and an observer."""
        directory = self.dir / "credentials"
        servers = self.servers
        # Users for every node; a certificate per server: a node's (valid for its address), a witness's or the
        # single shared one.
        nodes: dict[str, list[str]] = {node: [] for node in self.nodes}
        others: dict[str, list[str]] = {}
        for name, server in servers.items():
            (nodes if name in nodes else others)[name] = [server.address]
        keygen(directory, self.cluster, nodes, force=True, witnesses=others, remotes=self.remotes)
        self.credentials = str(directory)

    @staticmethod
    def _check_names(nodes: list[str], witnesses: list[str], single_bus: bool, remotes: Sequence[str] = ()) -> None:
        try:
            for n in [*nodes, *witnesses, *remotes]:
                check_token(n, "node name")
        except ValueError as exc:
            raise LabError(str(exc)) from None
        names = [*nodes, *witnesses, *remotes]
        if len(set(names)) != len(names) or not nodes:
            raise LabError("give one or more distinct node names (and witness and remote node names different "
                           "from them), e.g. --nodes primary,secondary")
        if single_bus and witnesses:
            raise LabError("a witness is a bus server of its own; --single-bus has only one (drop --witness)")
        if not single_bus and buses.SINGLE in names:
            raise LabError(f"{buses.SINGLE!r} names the single bus; pick another node name")

    def _refuse_running(self) -> None:
        if not self.state_file.exists():
            return
        try:
            running = Lab.load(self.dir)
        except LabError:
            return
        pids = list(running.procs.values()) + [s.pid for s in running.servers.values()]
        if any(alive(p, self.dir) for p in pids):
            raise LabError(f"a lab is already running in {self.dir} (stop it with: paceline lab down)")

    def _plan_network(self, nodes: list[str]) -> NetnsPlan:
        netns.require_support()
        plan = NetnsPlan(self.cluster, tuple(nodes))
        taken = sorted(set(plan.namespaces()) & netns.existing_namespaces())
        if taken:
            raise LabError(f"network namespace {taken[0]} exists already: another netns lab of cluster "
                           f"{self.cluster!r} is running (stop it, or pick another name with --cluster)")
        return plan

    def _start_services(self, node: str, services: tuple[str, ...]) -> None:
        (self.node_dir(node) / "run").mkdir(parents=True, exist_ok=True)
        if self.watchdog_timeout > 0 and not alive(self.procs.get(f"{node}/{WATCHDOG}"), self.dir):
            self.launch(f"{node}/{WATCHDOG}", [sys.executable, "-m", "paceline.membership.watchdog", "--state-dir",
                                              str(self.node_dir(node)), "--timeout", str(self.watchdog_timeout),
                                              "--node-pids", str(self.node_dir(node) / NODE_PIDS)],
                        dict(os.environ))
        for svc in services:
            self.spawn(svc, node)
        self._list_node_processes(node)

    def _list_node_processes(self, node: str) -> None:
        """What the node's watchdog kills on a reset: its services and its bus server (not the watchdog)."""
        if node in self.nodes:
            pids = self.node_pids(node) + self.server_pids(node)
            (self.node_dir(node) / NODE_PIDS).write_text("".join(f"{p}\n" for p in pids))

    def watchdog_fired(self, node: str) -> bool:
        """Whether the node's watchdog reset it: it exits once it has (a killed node loses its record)."""
        name = f"{node}/{WATCHDOG}"
        return self.watchdog_timeout > 0 and name in self.procs and not alive(self.procs[name], self.dir)

    async def connect(self, user: str = "admin", name: str = "paceline-lab") -> Any:
        """A connection to the lab's bus from the root namespace, as ``user`` when the bus requires credentials
        (``admin``, ``observer`` or ``<service>@<node>``); tools and tests use it too."""
        credential = Credentials(Path(self.credentials)).client(user) if self.credentials else None
        return await bus.connect(self.nats_url, name, retry_forever=False, credential=credential)

    async def _init_cib(self, timeout: float) -> None:
        """Create the node list (ids 1..N) the first time, like corosync.conf's nodelist."""
        nc = await self.connect()
        s = Subjects(self.cluster)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    reply = await bus.request(nc, s.cib("query"), "query", timeout=1)
                    break
                except (bus.BusUnavailable, bus.RemoteError):
                    if time.monotonic() > deadline:
                        raise LabError(f"the cib-store did not come up; see the logs in {self.dir / 'logs'}") from None
                    await asyncio.sleep(0.1)
            root = cib.parse_cib(reply["xml"])
            if self._add_nodes(root) | self._declare_watchdogs(root):
                await bus.request(nc, s.cib("replace"), "replace",
                                  {"xml": cib.serialize(root), "expected_version": reply["version"], "client": "lab"})
        finally:
            await nc.close()

    def _add_nodes(self, root: cib.Element) -> bool:
        """The lab's nodes missing from <nodes>, added with the next free ids; whether any was."""
        known = set(cib.node_names(root))
        nodes = cib.section(root, "nodes")
        ids = [n.get("id", "") for n in cib.node_elements(root)]
        next_id = 1 + max([int(i) for i in ids if i.isdigit()] or [0])
        added = False
        for name in self.nodes:
            if name not in known:
                etree.SubElement(nodes, "node", id=str(next_id), uname=name)
                next_id += 1
                added = True
        return added

    def _declare_watchdogs(self, root: cib.Element) -> bool:
        """Every node runs a watchdog: say so (``have-watchdog``, which Pacemaker's controller writes when sbd
        runs) and, unless the user chose one, let survivors count a lost node as reset after twice the
        watchdog's timeout (``stonith-watchdog-timeout``, sbd's advice). Whether anything changed."""
        if self.watchdog_timeout <= 0:
            return False
        config = cib.section(root, "crm_config")
        options = config.find("cluster_property_set[@id='cib-bootstrap-options']")
        current = {nv.get("name"): nv.get("value") for nv in (options if options is not None else [])}
        wanted = {"have-watchdog": "true"}
        if not current.get("stonith-watchdog-timeout"):
            wanted["stonith-watchdog-timeout"] = f"{2 * self.watchdog_timeout:g}s"
        if all(current.get(k) == v for k, v in wanted.items()):
            return False
        for name, value in wanted.items():
            cib.set_nvpair(config, "cluster_property_set", "cib-bootstrap-options", name, value)
        return True

    async def wait_ready(self, timeout: float, nodes: list[str] | None = None) -> None:
        """Until the given nodes are online in the CIB, a DC is recorded, and every service of those nodes
        answers (``$SRV.PING``: a cluster-wide service still opening its bucket has not started its endpoints)."""
        want = set(nodes or self.nodes)
        remotes = set(self.remotes) if nodes is None else set(nodes) & set(self.remotes)
        want -= remotes
        nc = await self.connect()
        s = Subjects(self.cluster)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                try:
                    root = cib.parse_cib((await bus.request(nc, s.cib("query"), "query", timeout=1))["xml"])
                    online = {ns.get("uname") for ns in root.iterfind("status/node_state")
                              if ns.get("crmd") == "online" and is_true(ns.get("in_ccm"))}
                    if want <= online and root.get("dc-uuid") and not await self._silent(nc, want) and \
                            not await micro.unanswered(nc, remotes, ("executor",)):
                        return
                except (bus.BusUnavailable, bus.RemoteError):
                    pass
                await asyncio.sleep(0.1)
        finally:
            await nc.close()
        raise LabError(f"nodes {', '.join(sorted(want))} did not all come online within {timeout:g}s; "
                       f"see the logs in {self.dir / 'logs'}")

    @staticmethod
    async def _silent(nc: Any, nodes: set[str], wait: float = 0.3) -> set[tuple[str, str]]:
        """The (node, service) pairs of ``nodes`` that did not answer a micro-service PING within ``wait``."""
        return await micro.unanswered(nc, nodes, NODE_SERVICES, wait)

    def add_remote(self, node: str, timeout: float = 30.0) -> None:
        """Add a remote node to the running lab: its credential (the bus servers reload their users), then its
        executor. It joins the cluster once its connection resource is configured."""
        self._check_names(self.nodes, self.witnesses, self.single_bus, [*self.remotes, node])
        if self.credentials:
            try:
                add_remote(Path(self.credentials), node)
            except CredentialError as exc:
                raise LabError(str(exc)) from None
            self._reload_servers()
        self.remotes.append(node)
        self.spawn_remote(node)
        self.save()
        asyncio.run(self.wait_ready(timeout, [node]))

    def add_guest(self, node: str) -> None:
        """Make the credential of a guest node (``remote@NODE``) and have the bus servers learn it, starting
        nothing: a guest's executor runs in its container (a bundle replica, or a container primitive with
        ``remote-node``), which mounts the lab's credentials directory. An open bus needs no credential."""
        self._check_names(self.nodes, self.witnesses, self.single_bus, [*self.remotes, node])
        if not self.credentials:
            return
        try:
            add_remote(Path(self.credentials), node)
        except CredentialError as exc:
            raise LabError(str(exc)) from None
        self._reload_servers()

    def _reload_servers(self) -> None:
        """Write every bus server's auth configuration again and have it reload (SIGHUP): a new user."""
        for server in self.servers.values():
            auth = server_auth(Credentials(Path(self.credentials)), server.name, Subjects(self.cluster))
            server.process(self.cluster, list(self.servers.values()), self.dir / "jetstream" / server.name,
                           auth).config_file()
            _signal(server.pid, signal.SIGHUP, self.dir)

    def kill(self, node: str) -> None:
        """A machine crash: its services, resources and bus server die at once; its run directory is wiped."""
        self._check_member(node)
        doomed = self.node_pids(node) + self.resource_pids(node) + self.server_pids(node) + \
            [p for p in [self.procs.get(f"{node}/{WATCHDOG}")] if p]
        for pid in doomed:
            _signal(pid, signal.SIGKILL, self.dir)
        plan = self.plan
        if plan is not None and node in self.nodes:
            _kill_namespace(plan.namespace(node))
        _wait_gone(doomed, 5, self.dir)
        if plan is not None and node in self.nodes:
            netns.run(plan.node_teardown(node), ignore_errors=True)  # its addresses, floating ones too, vanish
        self._wipe_run_dirs([node])
        for svc in (*NODE_SERVICES, FORWARDER, WATCHDOG, REMOTE):
            self.procs.pop(f"{node}/{svc}", None)
        if node in self.buses:
            server = self.server(node)
            server.pid = 0
            self._record(server)
        self.save()

    def revive(self, node: str, timeout: float = 30.0) -> None:
        """Boot a killed machine: its network, its bus server (same store), then its services."""
        self.revive_many([node], timeout)

    def revive_many(self, nodes: list[str], timeout: float = 30.0) -> None:
        """Boot several killed machines at once, then wait for all of them: one alone may never be ready
        (its services wait for a JetStream majority that only the others' servers give)."""
        for node in nodes:
            self._check_member(node)
            if any(alive(p, self.dir) for p in self.node_pids(node) + self.server_pids(node)):
                raise LabError(f"node {node} is running (kill it first: paceline lab kill {node})")
        plan = self.plan
        for node in nodes:
            if plan is not None and node in self.nodes:
                netns.run(plan.node_teardown(node), ignore_errors=True)
                netns.run(plan.node_setup(node))
            if node in self.buses:
                self._start_servers([node])
            if node in self.nodes:
                self._start_services(node, NODE_SERVICES)
            if node in self.remotes:
                self.spawn_remote(node)
        self.save()
        booted = [n for n in nodes if n in self.nodes or n in self.remotes]
        if booted:
            asyncio.run(self.wait_ready(timeout, booted))

    def restart(self, node: str, process: str) -> None:
        """Start one of a node's processes again (a service, or ``nats-server``) after it died on its own,
        as systemd's ``Restart=`` would; the node is otherwise left as it is."""
        self._check_member(node)
        if process == "nats-server":
            if any(alive(p, self.dir) for p in self.server_pids(node)):
                raise LabError(f"the nats-server of {node} is running")
            for pid in self.server_pids(node):  # a forwarder without its server goes too
                _signal(pid, signal.SIGKILL, self.dir)
            self._start_servers([node])
            self._list_node_processes(node)
            return
        own = (REMOTE,) if node in self.remotes else NODE_SERVICES if node in self.nodes else ()
        if process not in own:
            raise LabError(f"no service {process!r} on {node} (services: {', '.join(own) or 'none'})")
        if alive(self.procs.get(f"{node}/{process}"), self.dir):
            raise LabError(f"{node}/{process} is running")
        if process == REMOTE:
            self.spawn_remote(node)
        else:
            self.spawn(process, node)
        self._list_node_processes(node)
        self.save()

    def pause(self, node: str, resume: bool = False) -> list[int]:
        """SIGSTOP (or SIGCONT) the node's Paceline services and its bus server; its resources keep running."""
        self._check_member(node)
        pids = self.node_pids(node) + self.server_pids(node)
        for pid in pids:
            _signal(pid, signal.SIGCONT if resume else signal.SIGSTOP, self.dir)
        return pids

    def isolate(self, node: str, heal: bool = False) -> None:
        """A network partition: cut the node off from every other node and witness (netns labs only; its
        services keep talking to its own bus server), or heal it."""
        self._check_member(node)
        plan = self.plan
        if plan is None:
            raise LabError("only a netns lab (paceline lab up --netns, as root) can be partitioned")
        netns.run(plan.link(node, up=heal))

    def down(self) -> None:
        services = list(self.procs.values())
        for pid in services:
            _signal(pid, signal.SIGCONT, self.dir)  # a paused process cannot act on SIGTERM
            _signal(pid, signal.SIGTERM, self.dir)
        for pid in _wait_gone(services, 10, self.dir):
            _signal(pid, signal.SIGKILL, self.dir)
        for node in self.nodes + self.remotes:
            for pid in self.resource_pids(node):
                _signal(pid, signal.SIGKILL, self.dir)
        self._wipe_run_dirs(self.nodes + self.remotes)
        servers = [s.pid for s in self.servers.values() if s.pid]
        for pid in servers:
            _signal(pid, signal.SIGCONT, self.dir)
            _signal(pid, signal.SIGTERM, self.dir)
        for pid in _wait_gone(servers, 10, self.dir):
            _signal(pid, signal.SIGKILL, self.dir)
        plan = self.plan
        if plan is not None:
            for namespace in plan.namespaces():
                _kill_namespace(namespace)
            for node in plan.nodes:
                netns.run(plan.node_teardown(node), ignore_errors=True)
            netns.run(plan.hub_teardown(), ignore_errors=True)
        self.procs = {}
        self.state_file.unlink(missing_ok=True)

    def describe(self) -> str:
        lines = [f"lab {self.dir}  cluster {self.cluster}  bus {self.nats_url}"]
        plan = self.plan
        if plan is not None:
            lines += plan.describe()
        for server in self.servers.values():
            role = "witness (bus only)" if server.witness else "single bus" if server.name == buses.SINGLE \
                else "node bus"
            where = f" in netns {server.namespace}" if server.namespace else ""
            state = "running" if alive(server.pid, self.dir) else "stopped"
            lines.append(f"  {server.name + '/nats-server':<22} {state:<8}"
                         f" pid {server.pid or '-'}  {role} {server.client_url}{where}")
        for node in self.nodes:
            for svc in (*NODE_SERVICES, *([WATCHDOG] if self.watchdog_timeout > 0 else [])):
                lines.append(self._describe_service(node, svc))
            if node in self.exporters:
                namespace = self.namespace_of(node)
                lines.append(f"  {node + '/exporter':<22} http://{self.exporters[node]}/metrics"
                             + (f" (in netns {namespace})" if namespace else ""))
        for node in self.remotes:
            lines.append(self._describe_service(node, REMOTE) + "  remote node (executor only, no vote)")
        if self.credentials:
            users = Path(self.credentials) / "users"
            lines += [f"  the bus requires credentials ({self.credentials}; CA {Path(self.credentials) / 'ca.pem'}):",
                      f"    admin    {users / 'admin.nk'}  (paceline finds it by itself; tools: "
                      f"PACELINE_CREDENTIALS={self.credentials})",
                      f"    observer {users / 'observer.nk'}  (read-only: events and status; PACELINE_USER=observer)"]
        return "\n".join(lines)

    def _describe_service(self, node: str, svc: str) -> str:
        name = f"{node}/{svc}"
        pid = self.procs.get(name)
        state = "running" if alive(pid, self.dir) else "stopped"
        port_file = self.node_dir(node) / f"{svc}.metrics-port"
        metrics = ""
        if state == "running" and port_file.exists():
            metrics = f"  metrics http://127.0.0.1:{port_file.read_text().strip()}/metrics"
            namespace = self.namespace_of(node)
            metrics += f" (in netns {namespace})" if namespace else ""
        return f"  {name:<22} {state:<8} pid {pid or '-'}{metrics}"
