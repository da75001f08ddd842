"""The compiled build (``make native``): its scheduler modules are extension modules, and it schedules as the
dev venv's pure-Python build does.

Skipped unless ``.venv-native`` exists (``make native``, which needs a C
compiler and Python's headers). The case suite against the compiled build is
wired elsewhere; these are a few of Pacemaker's regression cases, to see the
two builds agree byte for byte on ``simulate -S``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NATIVE = REPO / ".venv-native" / "bin"
DEV = REPO / ".venv" / "bin"

# A primitive move, a group, a clone, a promotable clone, a node to fence: the compiled modules' main paths.
CASES = ["1-a-then-bm-move-b", "group1", "clone-anon-probe-1", "promoted-0", "rec-node-11"]

pytestmark = [
    pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                       reason="the compiled build needs a C compiler (gcc) and Python's headers"),
    pytest.mark.skipif(not (NATIVE / "paceline").exists(),
                       reason="no compiled build: run `make native` (it makes .venv-native)"),
]


def test_scheduler_modules_are_compiled():
    for module in ("paceline.policy.scheduler.placement", "paceline.policy.graph", "paceline.shared.cib",
                   "paceline.shared.cluster.unpack"):
        out = subprocess.run([str(NATIVE / "python"), "-c", f"import importlib; print(importlib.import_module("
                              f"'{module}').__file__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
        assert out.endswith(".so"), f"{module} is not compiled in .venv-native: {out}"
        assert not out.startswith(str(REPO / "services")) and not out.startswith(str(REPO / "shared")), \
            f"{module} comes from the source tree, not the installed wheel: {out}"


def test_not_compiled_modules_stay_python():
    out = subprocess.run([str(NATIVE / "python"), "-c", "import paceline.policy.scheduler.explain as m; "
                          "print(m.__file__)"], capture_output=True, text=True, check=True).stdout.strip()
    assert out.endswith(".py"), out


def test_no_extension_modules_in_the_source_tree():
    """A stale extension module beside a .py would shadow the developer's edits under the editable install."""
    strays = [str(p.relative_to(REPO)) for folder in ("shared", "services")
              for pattern in ("*.so", "*.c") for p in (REPO / folder).rglob(pattern)]
    assert not strays


@pytest.mark.parametrize("case", CASES)
def test_same_output_as_the_dev_build(shared_dir, case):
    path = Path(shared_dir) / "pacemaker-cases" / "xml" / f"{case}.xml"
    if not path.exists():
        pytest.skip(f"needs {path} (the shared Pacemaker cases)")

    def simulate(venv: Path) -> str:
        done = subprocess.run([str(venv / "paceline"), "simulate", "-x", str(path), "-S"],
                              capture_output=True, text=True, timeout=120)
        return f"exit {done.returncode}\n{done.stdout}"

    assert simulate(NATIVE) == simulate(DEV)
