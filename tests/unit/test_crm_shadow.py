"""Shadow CIBs offline: the files, the ``cib`` level in the shell (origin = a CIB file) and one-shot commands."""

from __future__ import annotations

import io

import pytest
from paceline.cli import main as cli
from paceline.cli.cib_level import crm_diff
from paceline.cli.completion import Completer
from paceline.cli.shell import Shell
from paceline.client.backends import FileBackend
from paceline.client.shadow import ShadowStore, check_name, shadow_dir
from paceline.crm import CrmError
from paceline.shared import cib


@pytest.fixture
def shadows(tmp_path, monkeypatch):
    """Every test gets its own shadow directory through Pacemaker's variable, and no active shadow."""
    directory = tmp_path / "shadows"
    monkeypatch.setenv("CIB_shadow_dir", str(directory))
    monkeypatch.delenv("CIB_shadow", raising=False)
    monkeypatch.delenv("CIB_file", raising=False)
    return directory


@pytest.fixture
def cib_file(tmp_path, shadows):
    path = tmp_path / "cib.xml"
    root = cib.empty(["primary", "secondary"])
    cib.node_state(root, "primary").set("crmd", "online")
    path.write_text(cib.serialize(root))
    return path


def shell(path) -> tuple[Shell, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Shell(FileBackend(str(path), "primary"), interactive=False, out=out, err=err), out, err


def run(sh: Shell, *lines: str) -> None:
    for line in lines:
        sh.run_line(line)


def load(path) -> cib.Element:
    return cib.parse_cib(path.read_bytes())


def has_primitive(path, rid: str) -> bool:
    return cib.find_resource(load(path), rid) is not None


# ------------------------------------------------------------------ the files

def test_names_and_where_shadows_live(shadows, monkeypatch):
    assert shadow_dir() == shadows
    monkeypatch.delenv("CIB_shadow_dir")
    monkeypatch.setenv("HOME", "/home/someone")
    assert str(shadow_dir()) == "/home/someone/.paceline/shadow"
    for bad in ("a/b", "../x", ".hidden", "", "live", "x.tmp", "sp ace"):
        with pytest.raises(CrmError):
            check_name(bad, "cib new")
    assert check_name("test-1.b_c", "cib new") == "test-1.b_c"


def test_store_keeps_the_base_version_beside_the_file_not_as_a_shadow(shadows):
    store = ShadowStore()
    assert store.names() == []
    store.write("one", cib.empty(), "0.7.3")
    store.write("two", cib.empty(), None)
    assert store.path("one") == shadows / "shadow.one"
    assert store.names() == ["one", "two"]          # the hidden .shadow.one.base is no shadow
    assert store.base_version("one") == "0.7.3" and store.base_version("two") is None
    store.delete("one")
    assert store.names() == ["two"] and not (shadows / ".shadow.one.base").exists()
    with pytest.raises(CrmError, match="no shadow CIB 'one'"):
        store.require("one", "cib use")


# ------------------------------------------------------------------ the shell

def test_new_switches_every_level_to_the_shadow_and_commit_writes_one_version(cib_file):
    sh, out, err = shell(cib_file)
    assert sh.prompt == "paceline(cib.xml)# "
    run(sh, "cib new test")
    assert sh.prompt == "paceline(test)# "
    run(sh, "configure", "primitive d1 ocf:heartbeat:Dummy", "commit", "end")
    assert sh.prompt == "paceline(test)# "
    run(sh, "node standby secondary", "status")
    assert "d1" in out.getvalue()
    assert not has_primitive(cib_file, "d1")                  # the origin saw nothing
    shadow = load(ShadowStore().path("test"))
    assert cib.find_resource(shadow, "d1") is not None
    run(sh, "cib use live")
    assert sh.prompt == "paceline(cib.xml)# "
    before = cib.version(load(cib_file))
    run(sh, "cib commit test")
    after = load(cib_file)
    assert cib.find_resource(after, "d1") is not None
    nodes = after.find("configuration/nodes")
    assert nodes is not None and "standby" in cib.serialize(nodes)
    assert cib.version(after).epoch > before.epoch            # one write for the whole change
    assert after.find("status/node_state") is not None       # the origin's status is kept
    assert sh.exit_code() == 0, err.getvalue()
    run(sh, "cib commit test")                                # the shadow is now based on the new version
    assert sh.exit_code() == 0, err.getvalue()


def test_commit_refuses_when_the_origin_changed_and_force_overwrites(cib_file):
    sh, _, err = shell(cib_file)
    run(sh, "cib new test", "configure primitive d1 ocf:heartbeat:Dummy")
    other, _, _ = shell(cib_file)
    run(other, "configure primitive d2 ocf:heartbeat:Dummy")
    before = cib_file.read_bytes()
    run(sh, "cib commit")
    assert sh.errors == 1
    message = err.getvalue().strip()
    assert len(message.splitlines()) == 1 and "changed since shadow CIB 'test' was copied" in message
    assert "cib commit test force" in message
    assert cib_file.read_bytes() == before
    run(sh, "cib diff")
    run(sh, "cib commit test force")
    assert sh.errors == 1, err.getvalue()
    assert has_primitive(cib_file, "d1") and not has_primitive(cib_file, "d2")


def test_delete_reset_list_diff_and_errors(cib_file):
    sh, out, err = shell(cib_file)
    run(sh, "cib new a", "cib new b", "configure primitive d1 ocf:heartbeat:Dummy")
    assert sh.exit_code() == 0, err.getvalue()
    out.truncate(0)
    out.seek(0)
    run(sh, "cib list")
    assert out.getvalue().splitlines() == ["  a", "* b"]
    out.truncate(0)
    out.seek(0)
    run(sh, "cib diff")
    assert out.getvalue().startswith("+ primitive d1")
    run(sh, "cib delete b")                     # in use
    run(sh, "cib new a")                        # exists, no force
    run(sh, "cib use nope")
    run(sh, "cib new x/y")
    run(sh, "cib commit nope")
    run(sh, "cib frobnicate")
    assert sh.errors == 6
    assert all(line.startswith("ERROR: ") for line in err.getvalue().splitlines())
    assert ShadowStore().names() == ["a", "b"]
    run(sh, "cib reset b")
    assert cib.find_resource(load(ShadowStore().path("b")), "d1") is None
    run(sh, "cib use a", "cib delete b")
    assert ShadowStore().names() == ["a"] and sh.errors == 6


def test_withstatus_empty_and_import(cib_file, tmp_path):
    sh, _, err = shell(cib_file)
    run(sh, "cib new plain", "cib new full withstatus", "cib new blank empty")
    store = ShadowStore()
    assert load(store.path("plain")).find("status/node_state") is None
    assert load(store.path("full")).find("status/node_state") is not None
    assert cib.node_names(load(store.path("blank"))) == []
    run(sh, "cib commit blank")                 # not copied from the origin: no version to check
    assert sh.errors == 1 and "force" in err.getvalue()
    run(sh, f"cib import {cib_file} copy")
    assert sh.prompt == "paceline(copy)# " and cib.node_names(load(store.path("copy"))) == ["primary", "secondary"]
    run(sh, f"cib import {tmp_path / 'missing.xml'} other")
    assert sh.errors == 2 and "other" not in store.names()


def test_shell_started_on_a_missing_shadow_says_how_to_create_it(cib_file):
    out, err = io.StringIO(), io.StringIO()
    sh = Shell(FileBackend(str(cib_file), "primary"), interactive=False, out=out, err=err, shadow="later")
    assert sh.prompt == "paceline(later)# "
    run(sh, "status")
    assert "cib new later" in err.getvalue()
    run(sh, "cib new later", "status")
    assert sh.errors == 1


def test_help_and_completion_of_shadow_names(cib_file):
    sh, out, _ = shell(cib_file)
    run(sh, "cib new alpha", "cib new beta", "help cib")
    assert "commit [NAME] [force]" in out.getvalue()
    completer = Completer(sh)
    assert sorted(completer.candidates(["cib", "use"], "")) == ["alpha", "beta", "live"]
    assert sorted(completer.candidates(["cib", "delete"], "")) == ["alpha", "beta"]
    run(sh, "cib")
    assert "commit" in completer.candidates([], "") and completer.candidates(["commit"], "") == ["alpha", "beta"]
    run(sh, "end", "configure primitive d1 ocf:heartbeat:Dummy")   # in shadow beta
    assert completer.resource_ids() == ["d1"]
    run(sh, "cib use live")
    assert completer.resource_ids() == []                          # not the shadow's ids, cached or not


def test_crm_diff_marks_removed_changed_and_added_objects():
    before, after = cib.empty(), cib.empty()
    from paceline.crm import execute

    execute(before, "configure primitive gone ocf:heartbeat:Dummy")
    execute(before, "configure primitive same ocf:heartbeat:Dummy")
    execute(after, "configure primitive same ocf:heartbeat:Dummy")
    execute(after, "configure primitive new ocf:heartbeat:Dummy")
    assert crm_diff(before, after).splitlines() == ["- primitive gone Dummy", "+ primitive new Dummy"]
    assert crm_diff(after, after) == ""


# ------------------------------------------------------------------ one-shot commands

def test_one_shot_commands_and_the_cib_shadow_variable(cib_file, monkeypatch, capsys):
    assert cli.main(["--cib-file", str(cib_file), "cib", "new", "test"]) == 0
    assert "CIB_shadow=test paceline" in capsys.readouterr().out
    monkeypatch.setenv("CIB_shadow", "test")
    assert cli.main(["--cib-file", str(cib_file), "configure", "show"]) == 0   # an explicit --cib-file wins
    monkeypatch.setenv("CIB_file", str(cib_file))
    assert cli.main(["configure", "primitive", "d1", "ocf:heartbeat:Dummy"]) == 0
    assert not has_primitive(cib_file, "d1")
    capsys.readouterr()
    assert cli.main(["status"]) == 0 and "d1" in capsys.readouterr().out
    assert cli.main(["cib", "list"]) == 0 and capsys.readouterr().out == "* test\n"
    assert cli.main(["cib", "delete", "test"]) == 1
    assert capsys.readouterr().err.startswith("ERROR: cib delete: shadow CIB 'test' is in use; unset CIB_shadow")
    assert cli.main(["cib", "commit"]) == 0 and has_primitive(cib_file, "d1")
    monkeypatch.setenv("CIB_shadow", "nope")
    assert cli.main(["configure", "show"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cib new nope" in err and "Traceback" not in err
    assert cli.main(["status", "--watch"]) == 1
