"""deploy/compose.yml's bus, run as the file says, on this machine: its keygen step's command makes the
credentials, and each node's nats-server runs with the compose file's own arguments (its servers/<node>.conf,
JetStream, the cluster name, routes to the others) - only the host names become loopback ports, as no
container engine is needed for the claim. An anonymous client is refused; the observer reads but cannot
write the configuration; a node's credential cannot speak for another node; the three servers form one
cluster over TLS routes (a message published on one reaches a subscriber on another).
"""

from __future__ import annotations

import asyncio
import subprocess
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
