"""deploy/compose.yml's bus, run as the file says, on this machine: its keygen step's command makes the
credentials, and each node's nats-server runs with the compose file's own arguments (its servers/<node>.conf,
JetStream, the cluster name, routes to the others) - only the host names become loopback ports, as no
container engine is needed for the claim. An anonymous client is refused; the observer reads but cannot
write the configuration; a node's credential cannot speak for another node; the three servers form one
cluster over TLS routes (a message published on one reaches a subscriber on another). The health checks,
volumes and published ports parse and mean what they say: each server's health URL answers on its
monitoring port, each service's check is a valid ``paceline cluster check`` that really asks the bus.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from paceline.shared import bus
from paceline.shared.credentials import Credentials
from paceline.shared.natsserver import find_binary, free_port
from paceline.shared.subjects import Subjects

from tests.support.wait import until

pytestmark = pytest.mark.integration

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "compose.yml"
#: node -> its server's monitoring port, as the fixture started it.
MONITOR: dict[str, int] = {}


def _flag(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def _replace(argv: list[str], flag: str, value: str) -> list[str]:
    out = list(argv)
    out[out.index(flag) + 1] = value
    return out


@pytest.fixture(scope="module")
def compose_bus(tmp_path_factory) -> Iterator[tuple[dict[str, str], Credentials, str]]:
    """node -> client URL of the running servers, the credentials, the cluster name."""
    from paceline.cli.keygen import main as keygen_main

    base = tmp_path_factory.mktemp("compose")
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    keygen = services["keygen"]["command"]
    mount = _flag(keygen, "--dir")
    assert keygen_main(_replace(keygen[2:], "--dir", str(base / "creds"))) == 0
    servers = {name: svc["command"] for name, svc in services.items() if str(svc.get("image", "")).startswith("nats")}
    host_of = {name: _flag(argv, "-n") for name, argv in servers.items()}
    client = {node: free_port() for node in host_of.values()}
    route = {node: free_port() for node in host_of.values()}
    procs, urls = [], {}
    try:
        for name, argv in servers.items():
            node = host_of[name]
            own = _replace(argv, "-c", _flag(argv, "-c").replace(mount, str(base / "creds")))
            own = _replace(own, "-sd", str(base / node))
            MONITOR[node] = free_port()
            own = _replace(own, "-m", str(MONITOR[node]))
            own = _replace(own, "--cluster", f"nats://127.0.0.1:{route[node]}")
            routes = []
            for url in _flag(argv, "--routes").split(","):
                peer = next(host_of[n] for n in servers if f"//{n}:" in url)
                routes.append(f"nats://127.0.0.1:{route[peer]}")
            own = _replace(own, "--routes", ",".join(routes))
            log = open(base / f"{node}.log", "wb")  # noqa: SIM115 - kept open for the server's lifetime
            procs.append(subprocess.Popen([find_binary(), *own, "-a", "127.0.0.1", "-p", str(client[node])],
                                          stdout=log, stderr=subprocess.STDOUT))
            urls[node] = f"nats://127.0.0.1:{client[node]}"
        cluster = services[next(n for n in services if n.endswith("-membership"))]["environment"]["PACELINE_CLUSTER"]
        yield urls, Credentials(base / "creds"), cluster
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)


async def _connect(url: str, creds: Credentials | None, user: str, errors: list[str] | None = None):
    nc = await bus.connect(url, user, retry_forever=False, credential=creds.client(user) if creds else None)
    if errors is not None:
        async def on_error(exc: Exception) -> None:
            errors.append(str(exc))

        nc._error_cb = on_error  # the server's permission violations come here
    return nc


def test_the_compose_bus_refuses_whoever_has_no_credential_and_keeps_roles(compose_bus):
    urls, creds, cluster = compose_bus
    s = Subjects(cluster)
    nodes = sorted(urls)

    async def connects(url: str) -> bool:
        try:
            nc = await _connect(url, None, "anonymous")
        except bus.BusUnavailable as exc:
            assert "requires a credential" in str(exc)
            return False
        await nc.close()
        return True

    async def admin_connects(url: str) -> bool:
        try:
            await (await _connect(url, creds, "admin")).close()
        except bus.BusUnavailable:
            return False
        return True

    for url in urls.values():
        def answers(url: str = url) -> bool:
            return asyncio.run(admin_connects(url))

        until(answers, f"the server at {url} answers", 10, 0.2)
        assert not asyncio.run(connects(url))

    async def roles() -> None:
        first, second = nodes[0], nodes[1]
        admin = await _connect(urls[second], creds, "admin")
        errors: list[str] = []
        observer = await _connect(urls[first], creds, "observer", errors)
        member = await _connect(urls[first], creds, f"membership@{first}", errors)
        try:
            seen = await admin.subscribe(f"{s.prefix}.>")
            await admin.flush()

            async def arrives(nc, subject: str) -> bool:
                await nc.publish(subject, b"x")
                await nc.flush()
                try:
                    while True:
                        msg = await seen.next_msg(timeout=1.0)
                        if msg.subject == subject:
                            return True
                except TimeoutError:
                    return False

            # Routes up: the member's own heartbeat crosses from one server to another.
            for _ in range(20):
                if await arrives(member, s.heartbeat(first)):
                    break
            else:
                raise AssertionError("the servers did not form a cluster")
            assert not await arrives(member, s.heartbeat(second))
            assert not await arrives(observer, s.cib("replace"))
            assert not await arrives(observer, s.executor_action(first))
            assert any("permissions violation" in e.lower() for e in errors), errors
        finally:
            for nc in (admin, observer, member):
                await nc.close()

    asyncio.run(roles())


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_health_checks_volumes_and_ports_parse_and_mean_what_they_say(compose_bus):
    urls, creds, _cluster = compose_bus
    data = _compose()
    services = data["services"]
    servers = {n: s for n, s in services.items() if str(s.get("image", "")).startswith("nats")}
    for name, server in servers.items():
        node = _flag(server["command"], "-n")
        store = next(v for v in server["volumes"] if v.endswith(":" + _flag(server["command"], "-sd")))
        assert store.split(":")[0] in data["volumes"], f"{name}: the JetStream store is not a declared volume"
        assert any(p.endswith(":4222") for p in server["ports"]), f"{name} publishes no client port"
        test = server["healthcheck"]["test"]
        assert test[0] == "CMD"
        url = next(word for word in test if word.startswith("http://"))
        assert f":{_flag(server['command'], '-m')}/" in url  # the check asks the port the server monitors on
        with urllib.request.urlopen(url.replace(f":{_flag(server['command'], '-m')}/", f":{MONITOR[node]}/"),
                                    timeout=10) as resp:
            assert resp.status == 200
    from paceline.cli.cluster import parser

    checks = {n: s for n, s in services.items() if "PACELINE_NODE" in s.get("environment", {})}
    assert len(checks) == 15
    for name, svc in checks.items():
        test = svc["healthcheck"]["test"]
        assert test[:4] == ["CMD", "paceline", "cluster", "check"]
        args = parser().parse_args(test[3:])
        assert args.services == [svc["command"][0].removeprefix("paceline-")], name
        if svc["command"] == ["paceline-membership"]:  # the node exporter's port
            assert any(p.endswith(":9664") for p in svc["ports"]), name
    # The check, run as the containers run it (their environment), really asks the bus: no services run here.
    env = {**checks["node1-membership"]["environment"], "PACELINE_NATS_URL": urls["node1"],
           "PACELINE_CREDENTIALS": str(creds.directory), "PATH": os.environ["PATH"]}
    done = subprocess.run([sys.executable, "-m", "paceline.cli.main", "cluster", "check", "membership",
                           "--root", str(creds.directory / "no-such-root")],
                          capture_output=True, text=True, env=env, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (1, "node1/membership: no answer"), done.stderr


def test_the_build_context_leaves_out_what_the_image_does_not_need():
    ignored = (COMPOSE.parents[1] / ".dockerignore").read_text().split()
    for entry in (".venv", ".git", "tests", "**/__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"):
        assert entry in ignored
    assert _compose()["x-paceline"]["build"]["context"] == ".."  # the repository, where .dockerignore is
