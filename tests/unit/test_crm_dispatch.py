"""execute / execute_script: all-or-nothing lines, versions, scripts like crm -f."""

from __future__ import annotations

import pytest
from lxml import etree
from paceline.crm import CrmError, CrmScriptError, execute, execute_script
from paceline.shared import cib

from tests.support.crm import CTX, found


@pytest.fixture
def root() -> etree._Element:
    return cib.empty(["primary", "secondary"])


def text(el: etree._Element) -> str:
    return etree.tostring(el, encoding="unicode")


def test_success_changes_in_place_and_leaves_versions_to_the_caller(root) -> None:
    same = root
    out = execute(root, "configure primitive a Dummy", CTX)
    assert out.changed and same is root
    assert cib.find_resource(root, "a") is not None
    assert str(cib.version(root)) == "0.0.0"


def test_score_glued_to_node_in_one_argument(root) -> None:
    execute(root, "configure primitive a Dummy", CTX)
    execute(root, "configure primitive b Dummy", CTX)
    execute(root, "configure location l a '50: secondary'", CTX)
    execute(root, "configure colocation c 'inf: a' b", CTX)
    execute(root, "configure order o 'Mandatory: a b'", CTX)
    assert found(root, "l").get("node") == "secondary"
    assert found(root, "c").get("with-rsc") == "b"
    assert found(root, "o").get("then") == "b"


def test_no_change_is_reported(root) -> None:
    execute(root, "configure primitive a Dummy", CTX)
    execute(root, "resource start a", CTX)
    assert not execute(root, "resource start a", CTX).changed
    assert not execute(root, "resource clear a", CTX).changed


def test_error_leaves_cib_untouched(root) -> None:
    execute(root, "configure primitive a Dummy", CTX)
    before = text(root)
    with pytest.raises(CrmError):
        execute(root, "configure primitive b Dummy params", CTX)
    with pytest.raises(CrmError):
        execute(root, "configure delete a nope", CTX)
    assert text(root) == before


def test_validation_after_the_change_is_part_of_execute(root) -> None:
    execute(root, "configure primitive a Dummy", CTX)
    before = text(root)
    with pytest.raises(CrmError, match="configure property: duplicate id 'a'"):
        execute(root, "configure property $id=a x=1", CTX)
    assert text(root) == before


def test_preexisting_problems_do_not_block_other_commands(root) -> None:
    etree.SubElement(cib.section(root, "constraints"), "rsc_location", id="old", rsc="ghost", node="x", score="1")
    execute(root, "configure primitive a Dummy", CTX)
    assert cib.find_resource(root, "a") is not None


@pytest.mark.parametrize(("line", "message"), [
    ("", "empty command"),
    ("confgure show", "unknown command or level 'confgure'"),
    ("configure", "configure: missing command"),
    ("resource", "resource: missing command"),
])
def test_top_level_errors(root, line: str, message: str) -> None:
    with pytest.raises(CrmError, match=message):
        execute(root, line, CTX)


def test_script_continues_after_errors_and_numbers_lines(root) -> None:
    lines = ["# start", "configure primitive a Dummy", "configure location l zz 1: primary", "",
             "configure primitive b Dummy \\", "   meta x=1", "configure order o bogus: a b"]
    with pytest.raises(CrmScriptError) as err:
        execute_script(root, lines, CTX)
    assert err.value.errors == [
        "line 3: configure location: no resource or tag 'zz'",
        "line 7: configure order: bad kind or score 'bogus': expected Mandatory, Optional, Serialize or a score"]
    assert err.value.outcome.changed
    assert cib.find_resource(root, "a") is not None and cib.find_resource(root, "b") is not None


def test_script_levels_and_quit(root) -> None:
    out = execute_script(root, ["configure", "primitive a Dummy", "node third", "commit", "end",
                                "node standby secondary", "configure", "show a", "quit", "garbage here"], CTX)
    assert out.changed and out.output == "primitive a Dummy"
    assert "third" in cib.node_names(root)
    assert cib.find_id(root, "num-2-instance_attributes-standby") is not None
