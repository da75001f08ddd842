"""Run mypy over the whole project as the ``paceline`` package it installs as.

The repository maps folders onto packages (``services/cib-store`` is
``paceline.cib_store``, ``services/gateway/crm`` is ``paceline.crm``; see
``[tool.setuptools.package-dir]`` in pyproject.toml), and an editable install
resolves them with an import hook mypy cannot follow. So this builds the same
tree out of symbolic links under ``build/typecheck`` from pyproject's own
mapping (``tools/layout.py``, which the compiled build uses too), and checks it
together with ``tests/``, ``bench/`` and ``tools/``.

    python -m tests.support.typecheck        (what ``make typecheck`` runs)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tools.layout import ROOT, build_tree, nested_elsewhere

TREE = ROOT / "build" / "typecheck"


def main() -> int:
    tree = build_tree(TREE)
    exclude = "|".join(f"^build/typecheck/{p}" for p in nested_elsewhere()) or "$^"
    env = {**os.environ, "MYPYPATH": str(tree)}
    package = str(tree.relative_to(ROOT) / "paceline")
    cmd = [sys.executable, "-m", "mypy", "--exclude", exclude, package, "tests", "bench", "tools"]
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
