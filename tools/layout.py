"""The ``paceline`` package as the repository's folders make it up, built as a tree of symbolic links.

The repository maps folders onto packages (``services/cib-store`` is
``paceline.cib_store``, ``services/gateway/crm`` is ``paceline.crm``; see
``[tool.setuptools.package-dir]`` in pyproject.toml), and an editable install
resolves them with an import hook that neither mypy nor mypyc can follow: both
derive a module's name from its path. So ``build_tree`` makes the same layout
out of symbolic links (``build/typecheck/paceline/...`` for mypy,
``build/native/src/paceline/...`` for the compiled build), from pyproject's own
mapping, and ``packages`` walks the folders for every package the mapping
implies (its subpackages included, which pyproject's ``packages`` list does not
all name).
"""

from __future__ import annotations

import os
import shutil
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def package_dirs() -> dict[str, str]:
    """pyproject's ``package-dir``: dotted package -> folder, outermost packages first."""
    mapping: dict[str, str] = pyproject()["tool"]["setuptools"]["package-dir"]
    return dict(sorted(mapping.items(), key=lambda kv: kv[0].count(".")))


def _inside_parent(package: str, folder: str, mapping: dict[str, str]) -> bool:
    """Whether ``folder`` is where the parent package's folder already holds it (paceline.shared.cluster =
    shared/cluster), so the parent's link reaches it."""
    parent, _, name = package.rpartition(".")
    return parent in mapping and Path(folder).parent == Path(mapping[parent]) and Path(folder).name == name


def build_tree(tree: Path) -> Path:
    """``tree/paceline/...``: one link per package whose folder is not already inside its parent's."""
    if tree.exists():
        shutil.rmtree(tree)
    mapping = package_dirs()
    for package, folder in mapping.items():
        if _inside_parent(package, folder, mapping):
            continue
        link = tree / package.replace(".", "/")
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(ROOT / folder, link)
    return tree


def nested_elsewhere() -> list[str]:
    """Folders (as ``paceline/...`` paths in a tree) that sit inside another package's folder but are packages of
    their own (``paceline.crm`` lives in ``services/gateway/crm``): not also ``paceline.gateway.crm``."""
    mapping = package_dirs()
    out = []
    for package, folder in mapping.items():
        parent = package.rpartition(".")[0]
        for other, other_folder in mapping.items():
            if other != parent and Path(folder).parent == Path(other_folder):
                out.append(f"{other.replace('.', '/')}/{Path(folder).name}/")
    return out


def packages() -> list[str]:
    """Every package: the mapped ones and each folder with an ``__init__.py`` below them that is not mapped
    to a package of its own."""
    mapping = package_dirs()
    mapped_folders = {(ROOT / folder).resolve() for folder in mapping.values()}
    found: set[str] = set()
    for package, folder in mapping.items():
        top = (ROOT / folder).resolve()
        for dirpath, dirnames, filenames in os.walk(top):
            here = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and (here / d) not in mapped_folders)
            if "__init__.py" in filenames:
                rel = here.relative_to(top).parts
                found.add(".".join((package, *rel)))
    return sorted(found)
