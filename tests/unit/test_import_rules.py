"""The import graph runs one way, as the architecture says: shared <- services <- client <- cli / lab.

Checked on the source, every ``import``/``from`` statement anywhere in a module
(inside functions too), so a lazy import cannot slip past.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def package_folders() -> dict[str, Path]:
    """pyproject's package-dir: dotted package -> folder."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {pkg: ROOT / folder for pkg, folder in data["tool"]["setuptools"]["package-dir"].items()}


def modules_of(package: str) -> list[Path]:
    """The modules of one package, not those of its sub-packages mapped elsewhere."""
    folders = package_folders()
    own = folders[package]
    others = [f for p, f in folders.items() if p != package and f != own and f.is_relative_to(own)]
    return [p for p in sorted(own.rglob("*.py")) if not any(p.is_relative_to(o) for o in others)]


def imports(path: Path) -> set[str]:
    """Every paceline module a file names in an import statement."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return {name for name in found if name == "paceline" or name.startswith("paceline.")}


def importers(prefix: str, packages: list[str]) -> dict[str, set[str]]:
    """Module path -> what it imports under ``prefix``, for the modules of ``packages``."""
    out: dict[str, set[str]] = {}
    for package in packages:
        for path in modules_of(package):
            hits = {m for m in imports(path) if m == prefix or m.startswith(prefix + ".")}
            if hits:
                out[str(path.relative_to(ROOT))] = hits
    return out


def test_only_the_cli_simulate_module_imports_the_policy_service_from_outside() -> None:
    outside = [p for p in package_folders() if not p.startswith("paceline.policy")]
    assert set(importers("paceline.policy", outside)) == {"services/gateway/cli/simulate.py"}


@pytest.mark.parametrize("front", ["paceline.gateway", "paceline.crm", "paceline.client", "paceline.cli",
                                   "paceline.lab"])
def test_the_executor_imports_none_of_the_gateway_packages(front: str) -> None:
    assert importers(front, ["paceline.executor"]) == {}


@pytest.mark.parametrize("service", ["paceline.membership", "paceline.executor", "paceline.cib_store",
                                     "paceline.policy", "paceline.gateway", "paceline.crm", "paceline.client",
                                     "paceline.cli", "paceline.lab"])
def test_shared_imports_no_service(service: str) -> None:
    assert importers(service, ["paceline.shared", "paceline.shared.cluster"]) == {}


@pytest.mark.parametrize("upper", ["paceline.client", "paceline.cli", "paceline.lab"])
def test_services_import_no_client_side_package(upper: str) -> None:
    services = ["paceline.membership", "paceline.executor", "paceline.cib_store", "paceline.policy",
                "paceline.policy.scheduler", "paceline.gateway", "paceline.crm"]
    assert importers(upper, services) == {}


def test_services_do_not_import_each_other() -> None:
    """Services talk over the bus; only the gateway may use the crm language (its own job)."""
    services = ["paceline.membership", "paceline.executor", "paceline.cib_store", "paceline.policy",
                "paceline.gateway"]
    for service in services:
        for other in services:
            if other != service and not (service == "paceline.policy" and other.startswith("paceline.policy")):
                assert importers(other, [service]) == {}, f"{service} imports {other}"


def test_the_cluster_model_imports_only_shared() -> None:
    wrong = {path: {m for m in mods if not m.startswith("paceline.shared")}
             for path, mods in importers("paceline", ["paceline.shared.cluster"]).items()}
    assert {p: m for p, m in wrong.items() if m} == {}
