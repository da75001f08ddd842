"""Run mypy over the whole project as the ``paceline`` package it installs as.

The repository maps folders onto packages (``services/cib-store`` is
``paceline.cib_store``, ``services/gateway/crm`` is ``paceline.crm``; see
``[tool.setuptools.package-dir]`` in pyproject.toml), and an editable install
resolves them with an import hook mypy cannot follow. So this builds the same
tree out of symbolic links under ``build/typecheck`` from pyproject's own
mapping, and checks it together with ``tests/`` and ``bench/``.

    python -m tests.support.typecheck        (what ``make typecheck`` runs)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TREE = ROOT / "build" / "typecheck"


def package_dirs() -> dict[str, str]:
    """pyproject's ``package-dir``: dotted package -> folder, outermost packages first."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    mapping: dict[str, str] = data["tool"]["setuptools"]["package-dir"]
    return dict(sorted(mapping.items(), key=lambda kv: kv[0].count(".")))


def build_tree() -> Path:
    """``build/typecheck/paceline/...``: one link per package whose folder is not already inside its parent's."""
    if TREE.exists():
        shutil.rmtree(TREE)
    mapping = package_dirs()
    for package, folder in mapping.items():
        parent = package.rpartition(".")[0]
        if parent in mapping and Path(folder).parent == Path(mapping[parent]) \
                and Path(folder).name == package.rpartition(".")[2]:
            continue  # reached through the parent's link already (paceline.shared.cluster = shared/cluster)
        link = TREE / package.replace(".", "/")
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(ROOT / folder, link)
    return TREE


def nested_elsewhere() -> list[str]:  # as paths under build/typecheck
    """Folders that sit inside another package's folder but are packages of their own (``paceline.crm`` lives
    in ``services/gateway/crm``): mypy must not also see them as ``paceline.gateway.crm``."""
    mapping = package_dirs()
    out = []
    for package, folder in mapping.items():
        parent = package.rpartition(".")[0]
        for other, other_folder in mapping.items():
            if other != parent and Path(folder).parent == Path(other_folder):
                out.append(f"build/typecheck/{other.replace('.', '/')}/{Path(folder).name}/")
    return out


def main() -> int:
    tree = build_tree()
    exclude = "|".join(f"^{p}" for p in nested_elsewhere()) or "$^"
    env = {**os.environ, "MYPYPATH": str(tree)}
    package = str(tree.relative_to(ROOT) / "paceline")
    cmd = [sys.executable, "-m", "mypy", "--exclude", exclude, package, "tests", "bench"]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    for line in (done.stdout + done.stderr).splitlines():
        print(source_path(line))
    return done.returncode


def source_path(line: str) -> str:
    """A mypy line with its ``build/typecheck/...`` file name turned back into the repository's own path."""
    name, sep, rest = line.partition(":")
    if not sep or not name.startswith("build/typecheck/"):
        return line
    real = Path(os.path.realpath(ROOT / name))
    return f"{real.relative_to(ROOT)}{sep}{rest}" if real.is_relative_to(ROOT) else line


if __name__ == "__main__":
    sys.exit(main())
