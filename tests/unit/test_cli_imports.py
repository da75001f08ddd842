"""The front door's packages import one way: shared <- crm <- client <- cli / lab."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GATEWAY = Path(__file__).resolve().parents[2] / "services" / "gateway"
#: package -> the paceline packages its modules may import (besides itself).
ALLOWED = {
    "crm": {"shared"},
    "client": {"shared", "crm", "executor"},   # the executor's agent runner, for agents on this machine
    "cli": {"shared", "crm", "client", "policy"},   # paceline.policy: simulate.py only (below)
    "lab": {"shared", "crm", "client"},
}


def imported(path: Path) -> set[str]:
    """The paceline packages a module imports (at the top or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        found |= {n.split(".")[1] for n in names if n.startswith("paceline.") and n.count(".") >= 1}
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_go_one_way(package: str) -> None:
    for path in sorted((GATEWAY / package).glob("*.py")):
        wrong = imported(path) - ALLOWED[package] - {package}
        assert not wrong, f"{path.relative_to(GATEWAY)} imports paceline.{', paceline.'.join(sorted(wrong))}"


def test_only_simulate_imports_the_policy_service_and_only_local_agents_the_executor() -> None:
    users = {p.name for p in (GATEWAY / "cli").glob("*.py") if "policy" in imported(p)}
    assert users <= {"simulate.py"}
    users = {p.name for p in (GATEWAY / "client").glob("*.py") if "executor" in imported(p)}
    assert users == {"local_agents.py"}
