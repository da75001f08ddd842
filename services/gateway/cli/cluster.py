"""``paceline cluster``: install a cluster on real machines, as crmsh's ``crm cluster init/join`` does.

    paceline cluster init   --name CLUSTER [--node NAME] --address ADDR [--root DIR] [--no-systemd]
    paceline cluster join   --cluster-node FIRST --bundle FILE [--node NAME] --address ADDR [--root DIR]
    paceline cluster remove NODE [--root DIR]
    paceline cluster status [--root DIR]
    paceline cluster check  [SERVICE ...]

``init`` makes the cluster's credentials (``paceline keygen``'s), writes the
node's nats-server configuration, its Paceline configuration file and its
systemd units (:mod:`paceline.cli.cluster_files`), starts them and adds the
node to the CIB. It also writes ``/etc/paceline/join.bundle``: the cluster's
name, ports, a seed address and the CA with the shared users.

``join`` does not log in to the first node over SSH as crmsh does (machines
need not trust each other's root logins for this): the operator copies the
join bundle to the new machine (scp) and names the first node. The new machine
signs its own bus server certificate with the bundle's CA key, mints its
services' users, routes its bus server to the first node's (NATS learns the
rest of the cluster by gossip), starts, and adds itself to the CIB. The bundle
holds the CA key - it is as secret as corosync's authkey, which crmsh copies
the same way: 0600, copied over a secure channel, deleted when the nodes joined.

Without systemd (no ``/run/systemd/system``, or ``--no-systemd``, or a
``--root`` other than ``/``) the units' own commands are started directly, as
detached processes with pid files and logs under the state directory; nothing
then restarts a process that dies (systemd's ``Restart=``) - the commands say
so when they run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paceline.cli.cluster_files import (
    CLUSTER_WIDE,
    NATS_UNIT,
    SERVICES,
    TARGET,
    BundleError,
    JoinBundle,
    Layout,
    NodeSpec,
    Ports,
    ServerTls,
    Unit,
    nats_conf,
    paceline_toml,
    target_text,
    units,
)

if TYPE_CHECKING:
    from paceline.cli.invocation import Options
    from paceline.shared.cib import Element

SYSTEMD_RUNNING = Path("/run/systemd/system")
TIMEOUT = 120.0


class ClusterError(Exception):
    """A cluster command that cannot be carried out; one line saying why."""


# ---------------------------------------------------------------- arguments
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="paceline cluster", description="Install and grow a cluster on real "
                                "machines (crm cluster init/join/remove/status).")
    sub = p.add_subparsers(dest="action", required=True, metavar="init|join|remove|status|check")

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--root", default="/", help="install under this directory instead of / (etc/paceline, "
                        "var/lib/paceline, etc/systemd/system); implies --no-systemd")
        sp.add_argument("--no-systemd", action="store_true", help="run the units' commands directly (chosen "
                        "by itself when systemd is not running: no /run/systemd/system)")

    def node_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--node", default=None, help="this node's name (default: the host name)")
        sp.add_argument("--address", default=None, help="the address the other nodes reach this one at "
                        "(default: the host name's address)")
        sp.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds to wait for the node to be "
                        f"online (default {TIMEOUT:g})")

    init = sub.add_parser("init", help="make a new cluster with this machine as its first node")
    init.add_argument("--name", required=True, help="the cluster's name (the bus's subject prefix)")
    node_args(init)
    for name, default in (("client-port", 4222), ("route-port", 6222), ("monitor-port", 8222)):
        init.add_argument(f"--{name}", type=int, default=default, help=f"the bus server's {name} (default "
                          f"{default}; the same on every node)")
    common(init)
    join = sub.add_parser("join", help="add this machine to a cluster")
    join.add_argument("-c", "--cluster-node", required=True, help="a node of the cluster (name or address)")
    join.add_argument("--bundle", required=True, help="the join bundle copied from a node of the cluster "
                      "(/etc/paceline/join.bundle there)")
    node_args(join)
    common(join)
    remove = sub.add_parser("remove", help="take a node out of the cluster (this one, or one that is stopped)")
    remove.add_argument("node", metavar="NODE")
    remove.add_argument("--timeout", type=float, default=TIMEOUT)
    common(remove)
    status = sub.add_parser("status", help="this node's units, bus server and the cluster's nodes")
    common(status)
    check = sub.add_parser("check", help="exit 0 when this node's services answer on the bus (a health check "
                           "for containers and monitors); the node and bus come from the configuration file, "
                           "else the PACELINE_* environment")
    check.add_argument("services", nargs="*", metavar="SERVICE", help=f"some of {', '.join(SERVICES)} "
                       "(default: all)")
    check.add_argument("--wait", type=float, default=2.0, help="seconds to wait for the answers (default 2)")
    common(check)
    return p


def command(opts: Options, args: list[str]) -> int:
    opts.one_shot = True
    return main(args)


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    layout = Layout(Path(args.root).resolve())
    try:
        host = Host(layout, systemd=_use_systemd(layout, args.no_systemd))
        if args.action == "init":
            return init(host, args)
        if args.action == "join":
            return join(host, args)
        if args.action == "remove":
            return remove(host, args.node, args.timeout)
        if args.action == "check":
            return check(host, args.services, args.wait)
        return status(host)
    except (ClusterError, BundleError, OSError, ValueError) as exc:
        text = f"{exc.filename}: {exc.strerror}" if isinstance(exc, OSError) and exc.filename else str(exc)
        print(f"paceline cluster {args.action}: {text}", file=sys.stderr)
        return 1


def _use_systemd(layout: Layout, refused: bool) -> bool:
    return not refused and layout.root == Path("/") and SYSTEMD_RUNNING.is_dir()


def _say(text: str) -> None:
    print(text, flush=True)


# ---------------------------------------------------------------- the machine's units
@dataclass
class Host:
    """This machine: its files (``layout``) and how its units run (systemd, or started directly)."""

    layout: Layout
    systemd: bool

    @property
    def units(self) -> list[Unit]:
        return units(self.layout, Path(sys.executable).parent)

    def unit(self, name: str) -> Unit:
        return next(u for u in self.units if u.name == name)

    def how(self) -> str:
        if self.systemd:
            return "systemd (paceline.target)"
        if self.layout.root != Path("/"):
            reason = f"--root {self.layout.root}"
        else:
            reason = "--no-systemd" if SYSTEMD_RUNNING.is_dir() else f"systemd is not running: no {SYSTEMD_RUNNING}"
        return f"the units' commands run directly ({reason}); nothing restarts a process that dies"

    def write_units(self) -> None:
        self.layout.units_dir.mkdir(parents=True, exist_ok=True)
        for unit in self.units:
            (self.layout.units_dir / unit.file_name).write_text(unit.text())
        (self.layout.units_dir / TARGET).write_text(target_text(self.units))

    def start(self, names: list[str]) -> None:
        if self.systemd:
            _run(["systemctl", "daemon-reload"])
            _run(["systemctl", "enable", TARGET, *(f"{n}.service" for n in names)])
            _run(["systemctl", "start", *(f"{n}.service" for n in names)])
            return
        for name in names:
            if self.pid(name):
                continue
            unit = self.unit(name)
            self.layout.log_dir.mkdir(parents=True, exist_ok=True)
            self.layout.run_dir.mkdir(parents=True, exist_ok=True)
            env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LANG": "C.UTF-8",
                   **unit.environment}
            with open(self.layout.log_dir / f"{name}.log", "ab") as log:
                proc = subprocess.Popen(list(unit.argv), stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=env, start_new_session=True)
            (self.layout.run_dir / f"{name}.pid").write_text(f"{proc.pid}\n")

    def pid(self, name: str) -> int | None:
        """The pid of a directly started unit that still runs its own command (never a recycled pid)."""
        try:
            pid = int((self.layout.run_dir / f"{name}.pid").read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        except (OSError, ValueError):
            return None
        program = Path(self.unit(name).argv[0]).name.encode()
        return pid if stat != "Z" and any(Path(part.decode(errors="replace")).name.encode() == program
                                          for part in cmdline[:2]) else None

    def state(self, name: str) -> str:
        if self.systemd:
            done = subprocess.run(["systemctl", "is-active", f"{name}.service"], capture_output=True, text=True)
            return done.stdout.strip() or "unknown"
        pid = self.pid(name)
        return f"running (pid {pid})" if pid else "stopped"

    def stop(self, names: list[str], timeout: float = 15.0) -> None:
        if self.systemd:
            _run(["systemctl", "disable", "--now", *(f"{n}.service" for n in names)])
            return
        pids = [p for p in (self.pid(n) for n in names) if p]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while any(self.pid(n) for n in names) and time.monotonic() < deadline:
            time.sleep(0.1)
        for name in names:
            left = self.pid(name)
            if left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(left, signal.SIGKILL)
            (self.layout.run_dir / f"{name}.pid").unlink(missing_ok=True)


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise ClusterError(f"{' '.join(argv)} failed: {(done.stderr or done.stdout).strip()}")


# ---------------------------------------------------------------- init and join
def _node_and_address(args: argparse.Namespace) -> tuple[str, str]:
    node = args.node or socket.gethostname().split(".")[0]
    address = args.address
    if not address:
        try:
            address = socket.gethostbyname(node)
        except OSError:
            address = ""
        if not address or address.startswith("127."):
            raise ClusterError(f"cannot tell the address other nodes reach {node} at: give --address")
    return node, address


def _refuse_installed(layout: Layout) -> None:
    if layout.config_file.exists():
        raise ClusterError(f"{layout.config_file} exists: this machine is already a node (paceline cluster "
                           "remove it first)")
    if (layout.credentials / "credentials.json").exists():
        raise ClusterError(f"{layout.credentials} already holds credentials: this machine was set up before")


def init(host: Host, args: argparse.Namespace) -> int:
    from paceline.shared.credentials import keygen
    from paceline.shared.subjects import check_token

    check_token(args.name, "cluster name")
    node, address = _node_and_address(args)
    layout = host.layout
    _refuse_installed(layout)
    spec = NodeSpec(args.name, node, address, (), Ports(args.client_port, args.route_port, args.monitor_port))
    _say(f"cluster {spec.cluster}: first node {node} ({address}); services: {host.how()}")
    keygen(layout.credentials, spec.cluster, {node: [address]})
    _say(f"  credentials (CA, bus server certificate, users) in {layout.credentials}")
    _install(host, spec)
    _write_bundle(layout, spec)
    _bring_up_or_undo(host, spec, args.timeout)
    _say(f"node {node} is set up; the cluster's store (JetStream, Raft) forms when the second node joins: a "
         "clustered JetStream elects its leader among two servers at least, so the CIB answers from then on")
    _say(f"to add a machine: copy {layout.bundle} to it (scp; it holds the CA key), then run there:\n"
         f"  paceline cluster join --cluster-node {address} --bundle /etc/paceline/join.bundle --address ADDR")
    return 0


def join(host: Host, args: argparse.Namespace) -> int:
    from paceline.shared.credentials import add_node, seed_directory

    bundle_path = Path(args.bundle)
    bundle = JoinBundle.parse(bundle_path.read_text(), str(bundle_path))
    node, address = _node_and_address(args)
    layout = host.layout
    _refuse_installed(layout)
    spec = NodeSpec(bundle.cluster, node, address, (args.cluster_node,), bundle.ports)
    if spec.route_urls() == [spec.own_route]:
        raise ClusterError(f"--cluster-node {args.cluster_node} is this node's own address")
    _say(f"cluster {spec.cluster}: node {node} ({address}) joins through {args.cluster_node}; services: {host.how()}")
    seed_directory(layout.credentials, bundle.cluster, bundle.files)
    add_node(layout.credentials, node, [address])
    _say(f"  credentials: the cluster's CA from the bundle, a bus server certificate and users made for {node}")
    _install(host, spec)
    _write_bundle(layout, spec)
    _bring_up_or_undo(host, spec, args.timeout, joining=bundle.seed_node or args.cluster_node)
    _say(f"node {node} is online in cluster {spec.cluster}")
    return 0


def _install(host: Host, spec: NodeSpec) -> None:
    from paceline.shared.credentials import Credentials, authorization_block
    from paceline.shared.subjects import Subjects

    layout = host.layout
    creds = Credentials(layout.credentials)
    cert, key, ca = creds.server_files(spec.node)
    layout.etc.mkdir(parents=True, exist_ok=True)
    layout.state.mkdir(parents=True, exist_ok=True)
    conf = nats_conf(spec, layout, ServerTls(cert, key, ca), authorization_block(creds, Subjects(spec.cluster)))
    _write_private(layout.nats_config, conf)
    layout.config_file.write_text(paceline_toml(spec, layout))
    host.write_units()
    routes = ", ".join(u for u in spec.route_urls() if u != spec.own_route) or "none yet (the others dial this one)"
    _say(f"  wrote {layout.nats_config} (routes: {routes}), {layout.config_file}, units in {layout.units_dir}")


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def _write_bundle(layout: Layout, spec: NodeSpec) -> None:
    from paceline.shared.credentials import shared_files

    bundle = JoinBundle(spec.cluster, spec.address, spec.ports, shared_files(layout.credentials), spec.node)
    _write_private(layout.bundle, bundle.text())


def _bring_up_or_undo(host: Host, spec: NodeSpec, timeout: float, joining: str = "") -> None:
    """:func:`_bring_up`; if it fails, whatever it started is stopped again and the error says how to retry
    (the written files stay: they show what was tried)."""
    try:
        _bring_up(host, spec, timeout, joining)
    except (ClusterError, OSError) as exc:
        host.stop([u.name for u in reversed(host.units)])
        raise ClusterError(f"{exc}; the node's processes are stopped again - to start over, remove "
                           f"{host.layout.etc} and {host.layout.state}") from None


def _bring_up(host: Host, spec: NodeSpec, timeout: float, joining: str = "") -> None:
    """The bus server, then the cluster-wide services, the node in the CIB, the node's own services.

    The first node (``joining`` empty) stops before the CIB: its store has no JetStream leader until a
    second server routes to it. The second node adds the first (``joining``: the node the bundle came
    from) as well as itself, in that order, so the first node gets id 1."""
    deadline = time.monotonic() + timeout
    host.start([NATS_UNIT])
    _wait(lambda: _monitor(spec.ports, "/healthz?js-enabled-only=true") is not None, deadline,
          f"the bus server did not become healthy; see {_where_logs(host, NATS_UNIT)}")
    if joining:
        _wait(lambda: bool(_routes(spec.ports)), deadline,
              f"the bus server has no route to {spec.seeds[0]}:{spec.ports.cluster} (is it reachable? is its "
              f"bus server up?); see {_where_logs(host, NATS_UNIT)}")
        _say(f"  bus server {spec.node} routed to {', '.join(sorted(_routes(spec.ports)))}")
    else:
        _say(f"  bus server {spec.node} healthy (JetStream under {host.layout.jetstream})")
    host.start([f"paceline-{s}" for s in CLUSTER_WIDE])
    if not joining:
        host.start([f"paceline-{s}" for s in SERVICES[len(CLUSTER_WIDE):]])
        if host.systemd:
            _run(["systemctl", "start", TARGET])
        _say(f"  services of {spec.node} started")
        return
    nodes = [joining, spec.node] if joining != spec.node else [spec.node]
    added: list[str] = []

    def add(root: Element) -> bool:  # applied afresh to each CIB version read
        added[:] = [n for n in nodes if _add_node(root, n)]
        return bool(added)

    asyncio.run(_edit_cib(host.layout, add, deadline))
    _say(f"  CIB: {'added ' + ', '.join(added) if added else 'the nodes were there already'}")
    host.start([f"paceline-{s}" for s in SERVICES[len(CLUSTER_WIDE):]])
    if host.systemd:
        _run(["systemctl", "start", TARGET])
    asyncio.run(_wait_online(host.layout, set(nodes), deadline))


def _where_logs(host: Host, unit: str) -> str:
    return f"journalctl -u {unit}" if host.systemd else str(host.layout.log_dir / f"{unit}.log")


def _wait(check: Callable[[], bool], deadline: float, failure: str) -> None:
    while not check():
        if time.monotonic() > deadline:
            raise ClusterError(failure)
        time.sleep(0.2)


def _monitor(ports: Ports, path: str) -> dict[str, Any] | None:
    """A JSON page of the local bus server's monitoring port; None while it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ports.monitor}{path}", timeout=2) as resp:
            return dict(json.loads(resp.read() or b"{}"))
    except (OSError, ValueError):
        return None


def _routes(ports: Ports) -> set[str]:
    """The servers the local bus server has a route to, by name (``remote_name``; older servers: address)."""
    page = _monitor(ports, "/routez") or {}
    routes = page.get("routes") or []
    return {str(r.get("remote_name") or f"{r.get('ip')}:{r.get('port')}") for r in routes}


# ---------------------------------------------------------------- the CIB over the local bus
async def _connect(layout: Layout) -> Any:
    from paceline.shared import bus, config
    from paceline.shared.credentials import Credentials

    cfg = config.load(layout.config_file, env={})
    credential = Credentials(Path(cfg.credentials)).client("admin") if cfg.credentials else None
    return cfg, await bus.connect(cfg.nats_url, "paceline-cluster", retry_forever=False, credential=credential)


async def _edit_cib(layout: Layout, edit: Callable[[Element], bool], deadline: float) -> bool:
    """Apply ``edit`` to the CIB and write it (compare-and-set, retried on a concurrent change and while the
    cib-store is not yet answering); whether anything changed."""
    from paceline.shared import bus, cib

    cfg, nc = await _connect(layout)
    subjects = cfg.subjects
    try:
        while True:
            try:
                reply = await bus.request(nc, subjects.cib("query"), "query", timeout=2)
                root = cib.parse_cib(reply["xml"])
                if not edit(root):
                    return False
                await bus.request(nc, subjects.cib("replace"), "replace",
                                  {"xml": cib.serialize(root), "expected_version": reply["version"],
                                   "client": "paceline cluster"}, timeout=10)
                return True
            except (bus.BusUnavailable, bus.RemoteError) as exc:
                if time.monotonic() > deadline:
                    raise ClusterError(f"the CIB could not be changed: {exc}; see the cib-store's log") from None
                await asyncio.sleep(0.3)
    finally:
        await nc.close()


def _add_node(root: Element, node: str) -> bool:
    """The node in ``<nodes>`` with the next free id, as corosync's nodelist numbers them; False if there."""
    from lxml import etree
    from paceline.shared import cib

    if node in cib.node_names(root):
        return False
    ids = [n.get("id", "") for n in cib.node_elements(root)]
    etree.SubElement(cib.section(root, "nodes"), "node",
                     id=str(1 + max([int(i) for i in ids if i.isdigit()] or [0])), uname=node)
    return True


def _drop_node(root: Element, node: str) -> bool:
    """The node out of ``<nodes>`` and ``<status>``; False if it was in neither."""
    found = [*root.iterfind(f"configuration/nodes/node[@uname='{node}']"),
             *root.iterfind(f"status/node_state[@uname='{node}']")]
    for element in found:
        parent = element.getparent()
        if parent is not None:
            parent.remove(element)
    return bool(found)


async def _node_states(layout: Layout) -> dict[str, str]:
    """Every node of the CIB: online or offline (as ``status`` says it)."""
    from paceline.shared import bus, cib
    from paceline.shared.cluster.values import is_true

    cfg, nc = await _connect(layout)
    try:
        root = cib.parse_cib((await bus.request(nc, cfg.subjects.cib("query"), "query", timeout=5))["xml"])
    finally:
        await nc.close()
    online = {ns.get("uname") for ns in root.iterfind("status/node_state")
              if ns.get("crmd") == "online" and is_true(ns.get("in_ccm"))}
    return {name: "online" if name in online else "offline" for name in cib.node_names(root)}


async def _wait_online(layout: Layout, nodes: set[str], deadline: float, online: bool = True) -> None:
    from paceline.shared import bus

    while True:
        with contextlib.suppress(bus.BusUnavailable, bus.RemoteError):
            states = await _node_states(layout)
            if all((states.get(n) == "online") == online for n in nodes):
                return
        if time.monotonic() > deadline:
            raise ClusterError(f"node {', '.join(sorted(nodes))} did not go {'online' if online else 'offline'} "
                               f"in time; see the services' logs")
        await asyncio.sleep(0.3)


# ---------------------------------------------------------------- remove and status
def _local_node(layout: Layout) -> tuple[str, Ports]:
    from paceline.shared import config

    if not layout.config_file.exists():
        raise ClusterError(f"{layout.config_file} does not exist: this machine is not a node (paceline cluster "
                           "init or join)")
    cfg = config.load(layout.config_file, env={})
    return cfg.node, _ports_of(layout)


def _ports_of(layout: Layout) -> Ports:
    """The ports of the local bus server, read back from the join bundle the node keeps."""
    try:
        return JoinBundle.parse(layout.bundle.read_text(), str(layout.bundle)).ports
    except (OSError, BundleError):
        return Ports()


def remove(host: Host, node: str, timeout: float) -> int:
    """Take ``node`` out: on the node itself, stop its services, drop it from the CIB, stop its bus server;
    from another node, only a node that is not online (there is no SSH to stop it from here)."""
    layout = host.layout
    local, _ = _local_node(layout)
    deadline = time.monotonic() + timeout
    states = asyncio.run(_node_states(layout))
    if node not in states:
        raise ClusterError(f"no node {node!r} in the cluster (nodes: {', '.join(states) or 'none'})")
    services = [f"paceline-{s}" for s in reversed(SERVICES)]
    if node == local:
        host.stop(services)
        _say(f"stopped the services of {node}")
        asyncio.run(_wait_online(layout, {node}, deadline, online=False))
    elif states[node] == "online":
        raise ClusterError(f"node {node} is online: run 'paceline cluster remove {node}' on {node} itself, or "
                           f"stop it first (systemctl stop {TARGET})")
    asyncio.run(_edit_cib(layout, lambda root: _drop_node(root, node), deadline))
    _say(f"node {node} removed from the CIB")
    if node == local:
        host.stop([NATS_UNIT])
        _say(f"stopped the bus server of {node}; its files stay in {layout.etc} and {layout.state}")
    return 0


def status(host: Host) -> int:
    layout = host.layout
    node, ports = _local_node(layout)
    from paceline.shared import config

    cfg = config.load(layout.config_file, env={})
    lines = [f"cluster {cfg.cluster}, node {node} ({layout.config_file})", f"units: {host.how()}"]
    states = {u.name: host.state(u.name) for u in host.units}
    lines += [f"  {name + '.service':<28} {state}" for name, state in states.items()]
    health = _monitor(ports, "/healthz?js-enabled-only=true")
    jsz = _monitor(ports, "/jsz") or {}
    routes = sorted(_routes(ports))
    meta = (jsz.get("meta_cluster") or {}) if isinstance(jsz, dict) else {}
    lines.append(f"bus server: {'healthy' if health is not None else 'not answering'} on port {ports.client}; "
                 f"routes to {', '.join(routes) or 'no other server'}; JetStream meta leader "
                 f"{meta.get('leader') or '-'} of {meta.get('cluster_size') or '-'} servers")
    code = 0 if all(s.startswith(("running", "active")) for s in states.values()) else 3
    try:
        nodes = asyncio.run(_node_states(layout))
        lines.append("nodes: " + ", ".join(f"{n} {s}" for n, s in nodes.items()))
    except Exception as exc:  # any failure to read the CIB is reported, not raised
        lines.append(f"nodes: the CIB cannot be read ({exc})")
        code = 3
    print("\n".join(lines))
    return code


def check(host: Host, services: list[str], wait: float) -> int:
    """Whether this node's services answer a micro-service PING through the bus (``$SRV.PING``): what a
    container's health check or a monitor asks. Prints the ones that do not."""
    from paceline.shared import bus, config, micro
    from paceline.shared.credentials import Credentials

    unknown = sorted(set(services) - set(SERVICES))
    if unknown:
        raise ClusterError(f"no service {unknown[0]!r} (services: {', '.join(SERVICES)})")
    wanted = tuple(services or SERVICES)
    layout = host.layout
    cfg = config.load(layout.config_file if layout.config_file.exists() else None)
    if not cfg.node:
        raise ClusterError("which node? no configuration file, and PACELINE_NODE is not set")

    async def ask() -> set[tuple[str, str]]:
        credential = Credentials(Path(cfg.credentials)).client(cfg.user) if cfg.credentials else None
        nc = await bus.connect(cfg.nats_url, "paceline-check", retry_forever=False, credential=credential)
        try:
            return await micro.unanswered(nc, {cfg.node}, wanted, wait)
        finally:
            await nc.close()

    try:
        silent = asyncio.run(ask())
    except bus.BusUnavailable as exc:
        print(f"{cfg.node}: the bus does not answer ({exc})")
        return 1
    for _, service in sorted(silent):
        print(f"{cfg.node}/{service}: no answer")
    return 1 if silent else 0
