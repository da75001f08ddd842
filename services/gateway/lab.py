"""``paceline lab``: a whole cluster on one machine, every service a real process on a real NATS bus.

The lab starts the embedded nats-server (JetStream, store under the lab
directory), the cluster-wide cib-store and gateway, and for every node a
membership, executor and policy process. ``kill`` is a node crash: SIGKILL of
the node's processes and of the services its agents started, and its volatile
run directory (like /run after a reboot) is wiped. Everything it started is
recorded in ``lab.json`` so later commands, and ``down``, find it again.
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

from lxml import etree
from paceline.shared import bus, cib
from paceline.shared.natsserver import NatsServer
from paceline.shared.subjects import Subjects, check_token

NODE_SERVICES = ("membership", "executor", "policy")
CLUSTER_SERVICES = ("cib-store", "gateway")
MODULES = {"membership": "paceline.membership", "executor": "paceline.executor", "policy": "paceline.policy",
           "cib-store": "paceline.cib_store", "gateway": "paceline.gateway"}


class LabError(Exception):
    """A lab command that cannot be carried out; the message says why and what to do."""


def default_dir() -> Path:
    env = os.environ.get("PACELINE_LAB")
    return Path(env) if env else Path.home() / ".paceline" / "lab"


def _alive(pid: int | None) -> bool:
    """True only for a live process that is one of ours (never signal a recycled pid)."""
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":
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

    # ------------------------------------------------------------ processes
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({"PACELINE_CLUSTER": self.cluster, "PACELINE_NATS_URL": self.nats_url,
                    "PACELINE_EXPECTED_VOTES": str(len(self.nodes)), "PACELINE_LOG_FORMAT": "json"})
        env.update(self.settings)
        return env

    def spawn(self, service: str, node: str = "") -> int:
        name = f"{node}/{service}" if node else service
        state = self.node_dir(node) if node else self.dir / "services" / service
        state.mkdir(parents=True, exist_ok=True)
        log_dir = self.dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", MODULES[service], "--state-dir", str(state), "--metrics-port", "0"]
        if node:
            argv += ["--node", node]
        with open(log_dir / f"{name.replace('/', '-')}.log", "ab") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=self.env(), start_new_session=True)
        self.procs[name] = proc.pid
        return proc.pid

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
    def up(self, nodes: list[str], timeout: float = 30.0) -> None:
        for n in nodes:
            check_token(n, "node name")
        if len(set(nodes)) != len(nodes) or not nodes:
            raise LabError("give one or more distinct node names, e.g. --nodes primary,secondary")
        if self.state_file.exists():
            try:
                running = Lab.load(self.dir)
            except (LabError, json.JSONDecodeError, TypeError):
                running = None
            if running is not None and _alive(running.nats_pid):
                raise LabError(f"a lab is already running in {self.dir} (stop it with: paceline lab down)")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.nodes = list(nodes)
        server = NatsServer(store_dir=self.dir / "jetstream").start(log_file=self.dir / "nats.log", detach=True)
        self.nats_url, self.nats_pid, self.nats_http_port = server.url, server.pid or 0, server.http_port
        self.procs = {}
        self.save()
        for svc in CLUSTER_SERVICES:
            self.spawn(svc)
        self.save()
        asyncio.run(self._init_cib(timeout))
        for node in nodes:
            self.start_node(node)
        self.save()
        asyncio.run(self.wait_ready(timeout))

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
            next_id = 1 + max([int(n.get("id")) for n in cib.node_elements(root) if n.get("id", "").isdigit()] or [0])
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
                              if ns.get("crmd") == "online" and cib.is_true(ns.get("in_ccm"))}
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
        _wait_gone(self.node_pids(node), 5)
        shutil.rmtree(self.node_dir(node) / "run", ignore_errors=True)
        for svc in NODE_SERVICES:
            self.procs.pop(f"{node}/{svc}", None)
        self.save()

    def revive(self, node: str, timeout: float = 30.0) -> None:
        if node not in self.nodes:
            raise LabError(f"no node {node!r} in this lab (nodes: {', '.join(self.nodes)})")
        if any(_alive(p) for p in self.node_pids(node)):
            raise LabError(f"node {node} is running (kill it first: paceline lab kill {node})")
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
        self.procs = {}
        self.state_file.unlink(missing_ok=True)

    def describe(self) -> str:
        lines = [f"lab {self.dir}  cluster {self.cluster}  bus {self.nats_url}"
                 f" ({'up' if _alive(self.nats_pid) else 'DOWN'}, pid {self.nats_pid})"]
        for name in list(CLUSTER_SERVICES) + [f"{n}/{s}" for n in self.nodes for s in NODE_SERVICES]:
            pid = self.procs.get(name)
            state = "running" if _alive(pid) else "stopped"
            port_file = (self.node_dir(name.split("/")[0]) if "/" in name else self.dir / "services" / name) / \
                f"{name.split('/')[-1]}.metrics-port"
            metrics = ""
            if state == "running" and port_file.exists():
                metrics = f"  metrics http://127.0.0.1:{port_file.read_text().strip()}/metrics"
            lines.append(f"  {name:<22} {state:<8} pid {pid or '-'}{metrics}")
        return "\n".join(lines)
