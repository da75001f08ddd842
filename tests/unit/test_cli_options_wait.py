"""crmsh's global options in the CLI: ``-o core.NAME=VALUE`` from one registry, ``-w``, and the settle test that
``-w`` and ``resource wait`` use (run here on CIB files: the scheduler's answer, no cluster)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from lxml import etree
from paceline.cli import settle
from paceline.cli.invocation import CliError, parse_globals
from paceline.cli.main import main
from paceline.client.backends import FileBackend
from paceline.crm import CrmError
from paceline.crm.preferences import OPTIONS, Preferences, known
from paceline.shared import cib


def test_every_option_has_a_type_a_default_and_a_field() -> None:
    defaults = Preferences()
    for option in OPTIONS:
        assert option.name.startswith("core.") and option.kind in ("boolean", "seconds")
        parsed = Preferences.parse([f"{option.name}={option.default}"])
        assert getattr(parsed, option.field) == getattr(defaults, option.field), option.name
    assert {o.field for o in OPTIONS} == set(Preferences.__dataclass_fields__)


@pytest.mark.parametrize(("text", "message"), [
    ("core.ignore_missing_metdata=yes", "did you mean core.ignore_missing_metadata"),
    ("core.wiat=yes", "did you mean core.wait"),
    ("color.style=plain", "unknown option 'color.style'"),
    ("core.wait=maybe", "not a boolean"),
    ("core.wait_timeout=-1", "not a number of seconds"),
    ("core.wait_timeout=inf", "not a number of seconds"),
    ("nodot=1", "expected SECTION.NAME=VALUE"),
])
def test_bad_options_are_refused_with_the_closest_name(text: str, message: str) -> None:
    with pytest.raises(CrmError, match=message):
        Preferences.parse([text])


def test_only_what_the_crm_language_reads_travels_with_a_command() -> None:
    prefs = Preferences.parse(["core.wait=yes", "core.wait_timeout=30s", "core.ignore_missing_metadata=on"])
    assert prefs.wait and prefs.wait_timeout == 30.0 and prefs.ignore_missing_metadata
    assert prefs.to_wire() == {"core.ignore_missing_metadata": "yes"}
    assert Preferences.from_wire(prefs.to_wire()) == Preferences(ignore_missing_metadata=True)
    assert known("core.force").hint() == "core.force (boolean, [no]): answer yes where a command would ask (as -y)"


def test_globals_parse_options_once_for_every_kind_of_run() -> None:
    opts = parse_globals(["-w", "--opt=core.wait_timeout=5", "-o", "core.force=yes", "resource", "stop", "x"])
    assert opts.preferences == Preferences(wait=True, wait_timeout=5.0, force=True)
    assert opts.yes and opts.words == ["resource", "stop", "x"]
    assert parse_globals(["--wait", "-f", "-"]).preferences.wait
    with pytest.raises(CliError, match=r"-o core\.nope=1: unknown option 'core\.nope'"):
        parse_globals(["-o", "core.nope=1", "status"])


def test_a_bad_option_is_one_line_and_exit_1(capsys) -> None:
    assert main(["-o", "core.ignore_missing_metdata=yes", "--cib-file", "/nonexistent", "configure", "show"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean core.ignore_missing_metadata?" in err


def _cib_file(tmp_path: Path, with_resource: bool) -> FileBackend:
    root = cib.empty(["primary"])
    root.set("have-quorum", "1")
    status = root.find("status")
    assert status is not None
    etree.SubElement(status, "node_state", {"id": "primary", "uname": "primary", **cib.NODE_STATE_MEMBER})
    if with_resource:
        from paceline.crm import execute

        from tests.support.crm import CTX

        execute(root, "configure property stonith-enabled=false", CTX)
        execute(root, "configure primitive p ocf:heartbeat:Dummy", CTX)
    path = tmp_path / "cib.xml"
    path.write_text(cib.serialize(root))
    return FileBackend(str(path), "primary")


def test_a_cib_at_rest_has_settled(tmp_path: Path) -> None:
    backend = _cib_file(tmp_path, with_resource=False)
    assert settle.pending(backend) == []
    assert settle.resource_wait(backend, []) == ""


def test_a_cib_file_with_work_left_is_not_waited_on(tmp_path: Path) -> None:
    backend = _cib_file(tmp_path, with_resource=True)
    left = settle.pending(backend)
    assert any("p" in action and "start" in action for action in left), left
    err = io.StringIO()
    with pytest.raises(CrmError, match=r"action\(s\) pending .*no cluster runs it"):
        settle.settle(backend, 60, "resource wait", err)
    assert err.getvalue() == ""
    with pytest.raises(CrmError, match="takes no arguments"):
        settle.resource_wait(backend, ["p"])


def test_resource_wait_on_a_cib_file_exits_1_with_one_line(tmp_path: Path, capsys) -> None:
    _cib_file(tmp_path, with_resource=True)
    assert main(["--cib-file", str(tmp_path / "cib.xml"), "resource", "wait"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ERROR: resource wait: ") and err.count("\n") == 1
