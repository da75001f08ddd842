"""The compiled ("native") build: a wheel of Paceline whose scheduler hot path is compiled to C with mypyc.

``make native`` runs this with ``.venv-native``'s Python (which has mypy and
setuptools; the dev ``.venv`` stays pure Python and editable) and installs the
wheel there. It

* builds the ``paceline`` layout as symbolic links under ``build/native/src``
  (``tools/layout.py``; mypyc names a module after its path);
* compiles the modules ``[tool.paceline.native]`` in pyproject.toml lists
  (globs in package terms, minus its ``exclude``), in its ``groups`` (one C
  extension each, compiled ``jobs`` at a time), at its ``opt_level``;
* calls setuptools with the metadata of pyproject's ``[project]`` (version from
  ``paceline.shared.VERSION``, dependencies, console scripts, package data) and
  every package the folders hold, so the wheel holds the whole of Paceline.

Everything it writes is under ``build/native/`` (C sources in ``c/``,
setuptools' build in ``build/``, mypy's cache in ``mypy-cache/``, the wheel in
``dist/``); nothing lands in the source folders, where a stale extension
module would shadow the ``.py`` beside it under the editable install.
Incremental: mypyc rewrites a C file only when it changes, and setuptools
recompiles only extensions whose C is newer.

    python -m tools.native [--opt-level N] [--one-group] [--multi-file] [--jobs N] [--list] [--requirements]
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import glob
import os
import shutil
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.layout import ROOT, build_tree, packages, pyproject

NATIVE = ROOT / "build" / "native"
TREE = NATIVE / "src"


@dataclass
class Options:
    opt_level: str
    multi_file: bool
    groups: list[list[str]]         # globs; each group one C extension (a module in none: the last group)
    jobs: int


def config() -> dict[str, Any]:
    table: dict[str, Any] = pyproject()["tool"]["paceline"]["native"]
    return table


def compiled_modules(tree: Path) -> list[str]:
    """The modules to compile, as paths relative to ``tree`` (``paceline/policy/graph.py``)."""
    table = config()

    def matching(patterns: list[str]) -> set[str]:
        return {p for pattern in patterns for p in glob.glob(pattern, root_dir=tree, recursive=True)}

    chosen = matching(table["modules"]) - matching(table.get("exclude", []))
    return sorted(p for p in chosen if p.endswith(".py") and "__pycache__" not in p)


def grouped(modules: list[str], groups: list[list[str]]) -> list[tuple[list[str], str | None]]:
    """``modules`` split into mypyc's ``separate`` groups, each named after its first glob's package."""
    members: list[list[str]] = [[] for _ in groups]
    for module in modules:
        index = next((i for i, globs in enumerate(groups) if any(fnmatch.fnmatchcase(module, g) for g in globs)),
                     len(groups) - 1)
        members[index].append(module)
    return [(files, "_".join(p for p in globs[0].split("/") if "*" not in p and not p.endswith(".py")))
            for files, globs in zip(members, groups, strict=True) if files]


def version() -> str:
    """``paceline.shared.VERSION``, read without importing the package."""
    tree = ast.parse((ROOT / "shared" / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "VERSION" for t in node.targets):
            value = ast.literal_eval(node.value)
            assert isinstance(value, str)
            return value
    raise SystemExit("native: no VERSION in shared/__init__.py")


def metadata() -> dict[str, Any]:
    """setuptools' keywords from pyproject.toml (what its ``[project]`` says, the package data, every package)."""
    data = pyproject()
    project = data["project"]
    return {
        "name": project["name"],
        "version": version(),
        "description": project["description"],
        "long_description": (ROOT / project["readme"]).read_text(),
        "long_description_content_type": "text/markdown",
        "license": project["license"]["text"],
        "python_requires": project["requires-python"],
        "install_requires": project["dependencies"],
        "extras_require": project.get("optional-dependencies", {}),
        "entry_points": {"console_scripts": [f"{name} = {target}" for name, target in project["scripts"].items()]},
        "packages": packages(),
        "package_data": data["tool"]["setuptools"]["package-data"],
        "zip_safe": False,
    }


def requirements() -> list[str]:
    """What the build needs installed beside it: setuptools with ``bdist_wheel`` built in, mypy and the stubs of
    the test extra (mypy type-checks everything the compiled modules import), and Paceline's dependencies."""
    project = pyproject()["project"]
    tools = [r for r in project["optional-dependencies"]["test"]
             if r.startswith(("mypy", "lxml-stubs", "types-"))]
    return ["setuptools>=70.1", *tools, *project["dependencies"]]


def preflight() -> None:
    """Stop with a plain message where the C compiler or Python's headers are missing."""
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        raise SystemExit(f"native: no C compiler ({compiler}): install gcc")
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not headers.exists():
        raise SystemExit(f"native: no Python headers ({headers}): install python3-dev")


def build(options: Options, dist: Path) -> Path:
    """Compile and package; the wheel's path."""
    from mypyc.build import mypycify
    from setuptools import setup

    preflight()
    tree = build_tree(TREE)
    modules = compiled_modules(tree)
    groups = grouped(modules, options.groups)
    os.environ["MYPYPATH"] = str(tree)
    os.environ["MYPY_CACHE_DIR"] = str(NATIVE / "mypy-cache")
    if dist.exists():
        shutil.rmtree(dist)
    os.chdir(tree)      # mypyc derives module names from the paths, setuptools finds the packages from here
    t0 = time.perf_counter()
    extensions = mypycify(["--config-file", str(ROOT / "pyproject.toml"), *modules],
                          opt_level=options.opt_level, multi_file=options.multi_file,
                          separate=groups if len(groups) > 1 else False,
                          group_name=groups[0][1] if len(groups) == 1 else None,
                          target_dir=str(NATIVE / "c"))
    t1 = time.perf_counter()
    setup(**metadata(), ext_modules=extensions,
          script_args=["--quiet", "build", f"--build-base={NATIVE / 'build'}",
                       "build_ext", f"--parallel={options.jobs}", "bdist_wheel", f"--dist-dir={dist}"])
    t2 = time.perf_counter()
    wheel = next(dist.glob("*.whl"))
    print(f"native: {len(modules)} modules in {len(groups)} group(s), -O{options.opt_level}"
          f"{', multi-file' if options.multi_file else ''}, {options.jobs} job(s): mypyc {t1 - t0:.0f} s, "
          f"C compiler and wheel {t2 - t1:.0f} s -> {wheel}", file=sys.stderr)
    return wheel


def main() -> int:
    table = config()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--opt-level", default=str(table.get("opt_level", "3")), help="the C compiler's -O level")
    ap.add_argument("--multi-file", action=argparse.BooleanOptionalAction, default=table.get("multi_file", False),
                    help="one C file per module")
    ap.add_argument("--one-group", action="store_true", help="one C extension for all modules (not pyproject's "
                    "groups)")
    ap.add_argument("--jobs", type=int, default=int(table.get("jobs", 2)), help="extensions compiled at once")
    ap.add_argument("--dist", type=Path, default=NATIVE / "dist", help="where the wheel goes")
    ap.add_argument("--list", action="store_true", help="print the modules to compile by group and stop")
    ap.add_argument("--requirements", action="store_true", help="print what the build needs installed and stop")
    ap.add_argument("--check", action="store_true", help="exit 0 when this machine can build it (a C compiler and "
                    "Python's headers), else say what is missing and exit 1")
    a = ap.parse_args()
    if a.check:
        try:
            preflight()
        except SystemExit as missing:
            print(f"{missing}; the compiled build is not made or tested here", file=sys.stderr)
            return 1
        return 0
    if a.requirements:
        print(" ".join(requirements()))     # for a shell's $(...): words, no quotes
        return 0
    groups = [["paceline/**"]] if a.one_group else table.get("groups", [["paceline/**"]])
    if a.list:
        for files, name in grouped(compiled_modules(build_tree(TREE)), groups):
            print(f"{name}: {' '.join(files)}")
        return 0
    build(Options(a.opt_level, a.multi_file, groups, a.jobs), a.dist.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
