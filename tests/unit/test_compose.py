"""deploy/compose.yml has the lab's shape: a bus server per node, every service on every node, R3 buckets.

The lab is what the tests exercise; the compose file is what users deploy. They must not drift apart: a
deployment whose services all talk to one server, or whose buckets keep one copy, would lose the cluster
with one machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from paceline.lab import buses
from paceline.lab.lab import NODE_SERVICES

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "compose.yml"
SERVICE_COMMANDS = {svc: f"paceline-{svc}" for svc in NODE_SERVICES}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def _flag(argv: list[str], flag: str) -> str:
    assert flag in argv, f"{flag} missing from {argv}"
    return argv[argv.index(flag) + 1]


def _servers(compose: dict[str, Any]) -> dict[str, list[str]]:
    """Compose service name -> nats-server argv, for every bus server."""
    return {name: svc["command"] for name, svc in compose.items() if str(svc.get("image", "")).startswith("nats")}


def _nodes(compose: dict[str, Any]) -> dict[str, dict[str, dict[str, str]]]:
    """Node -> Paceline service -> its environment."""
    nodes: dict[str, dict[str, dict[str, str]]] = {}
    for svc in compose.values():
        if "PACELINE_NODE" in svc.get("environment", {}):
            env = svc["environment"]
            service = next(s for s, cmd in SERVICE_COMMANDS.items() if svc["command"] == [cmd])
            nodes.setdefault(env["PACELINE_NODE"], {})[service] = env
    return nodes


def test_one_named_clustered_jetstream_server_per_node(compose: dict[str, Any]) -> None:
    servers, nodes = _servers(compose), _nodes(compose)
    assert sorted(_flag(argv, "-n") for argv in servers.values()) == sorted(nodes)
    lab = buses.plan(sorted(nodes), [], None, single=False)
    for name, argv in servers.items():
        assert "-js" in argv
        lab_argv = lab[_flag(argv, "-n")].process("prod", list(lab.values()), Path("/data")).command()
        assert _flag(argv, "--cluster_name") == _flag(lab_argv, "--cluster_name")
        routes = _flag(argv, "--routes").split(",")
        assert len(routes) == len(servers) - 1 and not any(name in r for r in routes), f"{name} routes {routes}"


def test_every_node_runs_every_service_on_its_own_server(compose: dict[str, Any]) -> None:
    servers = {_flag(argv, "-n"): name for name, argv in _servers(compose).items()}
    for node, services in _nodes(compose).items():
        assert sorted(services) == sorted(NODE_SERVICES), f"{node} runs {sorted(services)}"
        for env in services.values():
            assert env["PACELINE_NATS_URL"] == f"nats://{servers[node]}:4222"


def test_buckets_replicated_as_the_lab_does(compose: dict[str, Any]) -> None:
    nodes = _nodes(compose)
    want = buses.replicas(buses.plan(sorted(nodes), [], None, single=False))
    assert want == 3
    for services in nodes.values():
        for env in services.values():
            assert env["PACELINE_REPLICAS"] == str(want)
            assert env["PACELINE_EXPECTED_VOTES"] == str(len(nodes))


def test_the_bus_requires_the_credentials_its_keygen_step_makes(compose: dict[str, Any], tmp_path: Path) -> None:
    """Every server reads its own auth configuration and every service connects with credentials; the keygen
    step's command line is valid and makes what they read, with certificates for the names the URLs use."""
    from paceline.cli.keygen import main as keygen_main
    from paceline.shared.credentials import Credentials

    keygen_argv = compose["keygen"]["command"]
    assert keygen_argv[:2] == ["paceline", "keygen"] and "--if-missing" in keygen_argv
    mount = _flag(keygen_argv, "--dir")
    nodes = _nodes(compose)
    for name, argv in _servers(compose).items():
        assert _flag(argv, "-c") == f"{mount}/servers/{_flag(argv, '-n')}.conf", name
    for services in nodes.values():
        for env in services.values():
            assert env["PACELINE_CREDENTIALS"] == mount
    argv = list(keygen_argv[2:])
    argv[argv.index("--dir") + 1] = str(tmp_path / "creds")
    assert keygen_main(argv) == 0
    creds = Credentials(tmp_path / "creds")
    assert sorted(creds.nodes) == sorted(nodes)
    from cryptography import x509

    for node, services in nodes.items():
        assert (tmp_path / "creds" / "servers" / f"{node}.conf").is_file()
        cert = x509.load_pem_x509_certificate(creds.server_files(node)[0].read_bytes())
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName)
        host = next(iter(services.values()))["PACELINE_NATS_URL"].split("//")[1].split(":")[0]
        assert host in names, (node, names)
