"""The services' READMEs and ``paceline.shared.subjects`` describe the same bus, and name real message classes.

Every subject a service README's table lists must be one ``subjects.py``
produces, every subject ``subjects.py`` defines must appear in some README's
table, and every message class a table names must exist in
``paceline.shared.messages``: the READMEs cannot drift from the code.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from paceline.shared import messages, subjects
from paceline.shared.subjects import Subjects

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("membership", "cib-store", "executor", "policy", "gateway")
READMES = [ROOT / "services" / name / "README.md" for name in SERVICES]
SUBJECT = re.compile(r"`(paceline\.<[^`\s]+)`")  # paceline.<c>..., not a module such as paceline.shared.lrm
CLASS = re.compile(r"`([A-Z][A-Za-z]+)`")


def table_rows(readme: Path) -> list[str]:
    """The rows of the README's subject tables (rows that name a subject)."""
    return [line for line in readme.read_text().splitlines() if line.startswith("|") and SUBJECT.search(line)]


def listed(readme: Path) -> set[str]:
    """The subjects a README's tables name, spelled as the catalog spells them."""
    found = set()
    for row in table_rows(readme):
        for subject in SUBJECT.findall(row):
            found.add(subject.replace(".<cluster>.", ".<c>.").replace(".<NODE>", ".<node>"))
    return found


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.parent.name)
def test_every_subject_a_readme_lists_is_defined(readme: Path):
    names = listed(readme)
    assert names, f"{readme} lists no subject"
    assert names <= set(subjects.catalog()), f"{readme} names subjects subjects.py does not define"


def test_every_defined_subject_is_in_some_readme():
    documented = set().union(*(listed(readme) for readme in READMES))
    assert set(subjects.catalog()) - documented == set()


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.parent.name)
def test_message_classes_named_in_tables_exist(readme: Path):
    named = {name for row in table_rows(readme) for name in CLASS.findall(row)}
    assert named, f"{readme}'s tables name no message class"
    missing = {name for name in named if not isinstance(getattr(messages, name, None), type)}
    assert not missing, f"{readme} names message classes that do not exist: {sorted(missing)}"


def test_the_catalog_covers_every_subject_the_subjects_class_makes():
    """A subject added to Subjects without a place in catalog() would escape the README check."""
    catalog = set(subjects.catalog())
    s = Subjects("CLUSTER")

    def spelled(subject: str) -> str:
        return subject.replace("paceline.CLUSTER.", "paceline.<c>.").replace(".NODE", ".<node>")

    families = {"cib": subjects.CIB_ENDPOINTS, "gateway": subjects.GATEWAY_ENDPOINTS,
                "executor": subjects.EXECUTOR_ENDPOINTS, "cib_patch_by": subjects.NODE_PATCHERS,
                "cib_patches_by": subjects.NODE_PATCHERS}
    for name, member in inspect.getmembers(Subjects):
        if name.startswith("_") or name in ("cluster", "prefix", "cib_bucket", "policy"):
            continue
        if isinstance(member, property):
            assert spelled(getattr(s, name)) in catalog, name
        elif name in families:
            args = ("NODE",) if name in ("executor", "cib_patch_by") else ()
            for endpoint in families[name]:
                assert spelled(getattr(s, name)(endpoint, *args)) in catalog, (name, endpoint)
        else:
            assert spelled(getattr(s, name)("NODE")) in catalog, name
