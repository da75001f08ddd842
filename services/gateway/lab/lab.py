"""``paceline lab``: a whole cluster on one machine, every service a real process on a real NATS bus.

The lab starts the embedded nats-server (JetStream, store under the lab
directory), the cluster-wide cib-store and gateway, and for every node a
membership, executor and policy process. ``kill`` is a node crash: SIGKILL of
the node's processes and of the services its agents started, and its volatile
run directory (like /run after a reboot) is wiped. Everything it started is
recorded in ``lab.json`` so later commands, and ``down``, find it again.

``up --netns`` (root only) gives every node its own network namespace on a lab
bridge (see :mod:`paceline.lab.netns`): nats-server and the cluster-wide
services run in the hub namespace, each node's services in the node's
namespace, and ``paceline`` reaches the bus through a loopback forwarder. A
killed node loses its namespace and with it every address it held, as a
rebooted machine would; ``revive`` builds it again.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from paceline.client.labfile import default_dir
from paceline.lab import netns
from paceline.lab.netns import NetnsError, NetnsPlan
from paceline.lab.netns_bus import HubNatsServer, wait_listening
from paceline.shared import bus, cib
from paceline.shared.cluster.values import is_true
from paceline.shared.natsserver import NatsServer, NatsServerError, free_port
from paceline.shared.subjects import Subjects, check_token

NODE_SERVICES = ("membership", "executor", "policy")
CLUSTER_SERVICES = ("cib-store", "gateway")
FORWARDER = "netns-forward"
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


def _alive(pid: int | None) -> bool:
    """True only for a live process that is one of ours (never signal a recycled pid)."""
    if not pid or not _running(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"paceline" in cmdline or b"nats-server" in cmdline or b"http.server" in cmdline


def _signal(pid: int | None, sig: int) -> None:
    if _alive(pid):
        try:
            os.kill(pid, sig)  # type: ignore[arg-type]
        except ProcessLookupError:
            pass


def _wait_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [p for p in pids if _alive(p)]
        if not left:
            return []
        time.sleep(0.05)
    return [p for p in pids if _alive(p)]


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


@dataclass
class Lab:
    dir: Path
    cluster: str = "lab"
    nodes: list[str] = field(default_factory=list)
    nats_url: str = ""
    nats_pid: int = 0
    nats_http_port: int = 0
    procs: dict[str, int] = field(default_factory=dict)  # "svc" or "node/svc" -> pid
    settings: dict[str, str] = field(default_factory=dict)
    netns: dict[str, Any] = field(default_factory=dict)  # NetnsPlan.to_json() of a netns lab, else empty
    hub_nats_port: int = 0  # nats-server's port inside the hub namespace (netns lab only)

    # ------------------------------------------------------------ persistence
    @property
    def state_file(self) -> Path:
        return self.dir / "lab.json"

    @classmethod
    def load(cls, directory: Path | None = None) -> Lab:
        d = directory or default_dir()
        try:
            data = json.loads((d / "lab.json").read_text())
        except FileNotFoundError:
            raise LabError(f"no lab is running in {d} (start one with: paceline lab up)") from None
        return cls(dir=d, **data)

    def save(self) -> None:
        data = {k: v for k, v in self.__dict__.items() if k != "dir"}
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(self.state_file)

    def node_dir(self, node: str) -> Path:
        return self.dir / "nodes" / node

    # ------------------------------------------------------------ network (netns lab)
    @property
    def plan(self) -> NetnsPlan | None:
        return NetnsPlan.from_json(self.netns) if self.netns else None

    def namespace_of(self, node: str = "") -> str | None:
        """Where a node's services (or, for no node, the cluster-wide ones) run; None outside a netns lab."""
        plan = self.plan
        if plan is None:
            return None
        return plan.namespace(node) if node else plan.hub

    def bus_url(self, node: str = "") -> str:
        """The bus as seen from where the service runs: the hub's bridge address from a node namespace."""
        plan = self.plan
        if plan is None:
            return self.nats_url
        host = plan.hub_address if node else "127.0.0.1"
        return f"nats://{host}:{self.hub_nats_port}"

    # ------------------------------------------------------------ processes
    def env(self, node: str = "") -> dict[str, str]:
        env = dict(os.environ)
        # Agents written in Python start with `#!/usr/bin/env python3`; this interpreter's folder first means
        # they start directly, not through a version manager's shim on PATH (pyenv's forks several helpers:
        # 0.1-0.5 s per agent run under load, three runs on a recovery path).
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env.update({"PACELINE_CLUSTER": self.cluster, "PACELINE_NATS_URL": self.bus_url(node),
                    "PACELINE_EXPECTED_VOTES": str(len(self.nodes)), "PACELINE_LOG_FORMAT": "json"})
        env.update(self.settings)
        return env

    def launch(self, name: str, argv: list[str], env: dict[str, str], namespace: str | None = None) -> int:
        """Start one detached process (inside ``namespace`` if given) with its log under logs/; record its pid."""
        log_dir = self.dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        if namespace:
            argv = netns.exec_argv(namespace, argv)
        with open(log_dir / f"{name.replace('/', '-')}.log", "ab") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=env, start_new_session=True)
        self.procs[name] = proc.pid
        return proc.pid

    def spawn(self, service: str, node: str = "") -> int:
        name = f"{node}/{service}" if node else service
        state = self.node_dir(node) if node else self.dir / "services" / service
        state.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", MODULES[service], "--state-dir", str(state), "--metrics-port", "0"]
        if node:
            argv += ["--node", node]
        return self.launch(name, argv, self.env(node), self.namespace_of(node))

    def node_pids(self, node: str) -> list[int]:
        return [self.procs[f"{node}/{s}"] for s in NODE_SERVICES if f"{node}/{s}" in self.procs]

    def resource_pids(self, node: str) -> list[int]:
        """Processes the node's agents started, found by the pid files they keep in HA_RSCTMP."""
        pids = []
        for pid_file in (self.node_dir(node) / "run").glob("**/*.pid"):
            try:
                pids.append(int(pid_file.read_text().split()[0]))
            except (OSError, ValueError, IndexError):
                continue
        return pids

    # ------------------------------------------------------------ commands
    def up(self, nodes: list[str], timeout: float = 30.0, with_netns: bool = False) -> None:
        try:
            for n in nodes:
                check_token(n, "node name")
        except ValueError as exc:
            raise LabError(str(exc)) from None
        if len(set(nodes)) != len(nodes) or not nodes:
            raise LabError("give one or more distinct node names, e.g. --nodes primary,secondary")
        if self.state_file.exists():
            try:
                running = Lab.load(self.dir)
            except (LabError, json.JSONDecodeError, TypeError):
                running = None
            if running is not None and _alive(running.nats_pid):
                raise LabError(f"a lab is already running in {self.dir} (stop it with: paceline lab down)")
        plan = self._plan_network(nodes) if with_netns else None
        self.dir.mkdir(parents=True, exist_ok=True)
        self.nodes = list(nodes)
        self.procs = {}
        if plan is None:
            server = NatsServer(store_dir=self.dir / "jetstream").start(log_file=self.dir / "nats.log", detach=True)
            self.nats_url, self.nats_pid, self.nats_http_port = server.url, server.pid or 0, server.http_port
        else:
            self.netns = plan.to_json()
            self.save()  # recorded before anything exists, so that down() can remove a half-built network
            try:
                self._start_network(plan)
            except (NetnsError, NatsServerError, OSError):
                self.down()
                raise
        self.save()
        for svc in CLUSTER_SERVICES:
            self.spawn(svc)
        self.save()
        asyncio.run(self._init_cib(timeout))
        for node in nodes:
            self.start_node(node)
        self.save()
        asyncio.run(self.wait_ready(timeout))

    def _plan_network(self, nodes: list[str]) -> NetnsPlan:
        netns.require_support()
        plan = NetnsPlan(self.cluster, tuple(nodes))
        taken = sorted(set(plan.namespaces()) & netns.existing_namespaces())
        if taken:
            raise LabError(f"network namespace {taken[0]} exists already: another netns lab of cluster "
                           f"{self.cluster!r} is running (stop it, or pick another name with --cluster)")
        return plan

    def _start_network(self, plan: NetnsPlan) -> None:
        """Hub and node namespaces, nats-server in the hub, and the root namespace's forwarder to it."""
        netns.run(plan.hub_setup())
        for node in plan.nodes:
            netns.run(plan.node_setup(node))
        server = HubNatsServer(store_dir=self.dir / "jetstream", namespace=plan.hub)
        server.start(log_file=self.dir / "nats.log", detach=True)
        self.nats_pid, self.nats_http_port, self.hub_nats_port = server.pid or 0, server.http_port, server.port
        self.save()
        port = free_port()
        self.launch(FORWARDER, [sys.executable, "-m", "paceline.lab.netns_forward", "--listen", str(port),
                                "--netns", plan.hub, "--target", f"127.0.0.1:{server.port}"], dict(os.environ))
        self.nats_url = f"nats://127.0.0.1:{port}"
        self.save()
        wait_listening(port)

    def start_node(self, node: str) -> None:
        run = self.node_dir(node) / "run"
        run.mkdir(parents=True, exist_ok=True)
        for svc in NODE_SERVICES:
            self.spawn(svc, node)

    async def _connect(self):
        return await bus.connect(self.nats_url, "paceline-lab", retry_forever=False)

    async def _init_cib(self, timeout: float) -> None:
        """Create the node list (ids 1..N) the first time, like corosync.conf's nodelist."""
        nc = await self._connect()
        s = Subjects(self.cluster)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    reply = await bus.request(nc, s.cib("query"), "query", timeout=1)
                    break
                except bus.BusUnavailable:
                    if time.monotonic() > deadline:
                        raise LabError(f"the cib-store did not come up; see the logs in {self.dir / 'logs'}") from None
                    await asyncio.sleep(0.1)
            root = cib.parse_cib(reply["xml"])
            known = set(cib.node_names(root))
            if all(n in known for n in self.nodes):
                return
            nodes = cib.section(root, "nodes")
            ids = [n.get("id", "") for n in cib.node_elements(root)]
            next_id = 1 + max([int(i) for i in ids if i.isdigit()] or [0])
            for name in self.nodes:
                if name not in known:
                    etree.SubElement(nodes, "node", id=str(next_id), uname=name)
                    next_id += 1
            await bus.request(nc, s.cib("replace"), "replace",
                              {"xml": cib.serialize(root), "expected_version": reply["version"], "client": "lab"})
        finally:
            await nc.close()

    async def wait_ready(self, timeout: float, nodes: list[str] | None = None) -> None:
        """Until the given nodes are online in the CIB and a DC is recorded."""
        want = set(nodes or self.nodes)
        nc = await self._connect()
        s = Subjects(self.cluster)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                try:
                    root = cib.parse_cib((await bus.request(nc, s.cib("query"), "query", timeout=1))["xml"])
                    online = {ns.get("uname") for ns in root.iterfind("status/node_state")
                              if ns.get("crmd") == "online" and is_true(ns.get("in_ccm"))}
                    if want <= online and root.get("dc-uuid"):
                        return
                except (bus.BusUnavailable, bus.RemoteError):
                    pass
                await asyncio.sleep(0.1)
        finally:
            await nc.close()
        raise LabError(f"nodes {', '.join(sorted(want))} did not all come online within {timeout:g}s; "
                       f"see the logs in {self.dir / 'logs'}")

    def kill(self, node: str) -> None:
        if node not in self.nodes:
            raise LabError(f"no node {node!r} in this lab (nodes: {', '.join(self.nodes)})")
        for pid in self.node_pids(node) + self.resource_pids(node):
            _signal(pid, signal.SIGKILL)
        plan = self.plan
        if plan is not None:
            _kill_namespace(plan.namespace(node))
        _wait_gone(self.node_pids(node), 5)
        if plan is not None:
            netns.run(plan.node_teardown(node), ignore_errors=True)  # its addresses, floating ones too, vanish
        shutil.rmtree(self.node_dir(node) / "run", ignore_errors=True)
        for svc in NODE_SERVICES:
            self.procs.pop(f"{node}/{svc}", None)
        self.save()

    def revive(self, node: str, timeout: float = 30.0) -> None:
        if node not in self.nodes:
            raise LabError(f"no node {node!r} in this lab (nodes: {', '.join(self.nodes)})")
        if any(_alive(p) for p in self.node_pids(node)):
            raise LabError(f"node {node} is running (kill it first: paceline lab kill {node})")
        plan = self.plan
        if plan is not None:
            netns.run(plan.node_teardown(node), ignore_errors=True)
            netns.run(plan.node_setup(node))
        self.start_node(node)
        self.save()
        asyncio.run(self.wait_ready(timeout, [node]))

    def down(self) -> None:
        services = [pid for name, pid in self.procs.items()]
        for pid in services:
            _signal(pid, signal.SIGTERM)
        left = _wait_gone(services, 10)
        for pid in left:
            _signal(pid, signal.SIGKILL)
        for node in self.nodes:
            for pid in self.resource_pids(node):
                _signal(pid, signal.SIGKILL)
            shutil.rmtree(self.node_dir(node) / "run", ignore_errors=True)
        _signal(self.nats_pid, signal.SIGTERM)
        if _wait_gone([self.nats_pid], 10):
            _signal(self.nats_pid, signal.SIGKILL)
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
        lines = [f"lab {self.dir}  cluster {self.cluster}  bus {self.nats_url}"
                 f" ({'up' if _alive(self.nats_pid) else 'DOWN'}, pid {self.nats_pid})"]
        plan = self.plan
        if plan is not None:
            lines.append(f"  (a forwarder to nats-server at {self.bus_url()} in netns {plan.hub},"
                         f" {self.bus_url(plan.nodes[0])} from the nodes)")
            lines += plan.describe()
        cluster_wide = list(CLUSTER_SERVICES) + ([FORWARDER] if plan is not None else [])
        for name in cluster_wide + [f"{n}/{s}" for n in self.nodes for s in NODE_SERVICES]:
            pid = self.procs.get(name)
            state = "running" if _alive(pid) else "stopped"
            port_file = (self.node_dir(name.split("/")[0]) if "/" in name else self.dir / "services" / name) / \
                f"{name.split('/')[-1]}.metrics-port"
            metrics = ""
            if state == "running" and port_file.exists():
                metrics = f"  metrics http://127.0.0.1:{port_file.read_text().strip()}/metrics"
                namespace = self.namespace_of(name.split("/")[0] if "/" in name else "")
                metrics += f" (in netns {namespace})" if namespace else ""
            lines.append(f"  {name:<22} {state:<8} pid {pid or '-'}{metrics}")
        return "\n".join(lines)
