"""The compiled build (``make native``): its scheduler modules are extension modules, and it schedules as the
dev venv's pure-Python build does.

Skipped unless ``.venv-native`` exists and is newer than the sources (``make native``, which needs a C
compiler and Python's headers; ``make test`` makes it where it can). Every shared Pacemaker case is
tallied through both builds, which must disagree with crm_simulate on exactly the same cases; and a few
are compared byte for byte on ``simulate -S``.
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

def _stale() -> bool:
    """Whether a source changed since ``make native`` last installed the compiled build."""
    stamp = REPO / ".venv-native" / ".installed"
    if not stamp.exists():
        return False
    built = stamp.stat().st_mtime
    return any(p.stat().st_mtime > built for folder in ("shared", "services")
               for p in (REPO / folder).rglob("*.py"))


pytestmark = [
    pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                       reason="the compiled build needs a C compiler (gcc) and Python's headers"),
    pytest.mark.skipif(not (NATIVE / "paceline").exists(),
                       reason="no compiled build: run `make native` (it makes .venv-native)"),
    pytest.mark.skipif(_stale(), reason="the compiled build is older than the sources: run `make native`"),
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


def test_every_case_decided_as_the_dev_build_decides(shared_dir):
    """The whole shared case suite through each build (``tests.support.pcmk_tally``, in-process): the same
    counts and the same cases on either side of crm_simulate's summary and scores. A compiled module checks the
    types it is handed at run time, so code mypy accepts can still fail there (an lxml comment's tag is no str):
    this is where such a difference shows."""
    def tally(venv: Path) -> str:
        done = subprocess.run([str(venv / "python"), "-m", "tests.support.pcmk_tally", "--shared", str(shared_dir)],
                              cwd=REPO, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert tally(NATIVE) == tally(DEV)
