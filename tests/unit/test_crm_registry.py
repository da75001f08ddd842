"""The one registry of levels and commands: dispatch, the shell, completion and help all read it."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from paceline.cli.commands import CLI, level_help, shell_help, usage
from paceline.cli.completion import Completer
from paceline.cli.confirm import needs_confirmation
from paceline.cli.shell import Shell, level_commands, levels
from paceline.client.backends import FileBackend
from paceline.crm import Context, CrmError, execute
from paceline.crm.registry import CRM, NAVIGATION, Command, Level
from paceline.shared import cib


def every_command() -> list[tuple[Level, Command]]:
    return [(level, command) for level in CLI.levels for command in level.commands]


@pytest.mark.parametrize(("level", "command"), every_command(), ids=lambda x: getattr(x, "name", ""))
def test_every_handler_resolves_to_a_callable(level: Level, command: Command) -> None:
    assert command.handler, f"{level.name} {command.name} has no handler"
    assert callable(command.run())
    assert command.summary and command.usage().startswith(command.name)


def test_top_level_commands_have_handlers_and_the_others_are_levels() -> None:
    for level in CLI.levels:
        assert level.enterable != bool(level.handler), level.name
        if level.handler:
            assert callable(level.run())
    assert CLI.names() == ["configure", "node", "resource", "ra", "site", "status", "events", "cib", "simulate",
                           "keygen", "cluster", "tools", "lab"]
    assert levels() == ["configure", "node", "resource", "ra", "site", "status", "cib"]


def test_dispatch_runs_exactly_the_crm_levels_of_the_registry() -> None:
    root = cib.empty(["n1"])
    for level in CRM.levels:
        with pytest.raises(CrmError, match=f"{level.name}: unknown command 'nope' \\(expected one of "
                                           f"{', '.join(level.names())}\\)"):
            execute(root, f"{level.name} nope", Context())
    with pytest.raises(CrmError, match="expected one of configure, node, resource, ra, site\\)"):
        execute(root, "cib list", Context())


def test_aliases_share_their_command() -> None:
    resource = CRM.get("resource")
    assert resource.get("move") is resource.get("migrate")
    assert resource.get("locate").read_only and "locate" in resource.names()
    root = cib.empty(["n1"])
    execute(root, "configure primitive d Dummy", Context())
    execute(root, "configure primitive e Dummy", Context())
    assert not execute(root, "resource locate d", Context()).changed
    execute(root, "configure collocation c inf: d e", Context())   # the alias reaches colocation's handler
    assert cib.find_id(root, "c") is not None


def test_the_cli_configure_level_adds_the_session_commands() -> None:
    configure = CLI.get("configure")
    session = {c.name for c in configure.commands if c.session}
    assert session == {"commit", "refresh", "edit", "save", "load", "erase"}
    assert {c.name for c in configure.commands if c.own_session} == {"edit", "save", "load", "erase"}
    assert set(CRM.get("configure").names()) < set(configure.names())
    assert "changed" in configure.get("show").args and "changed" not in CRM.get("configure").get("show").args


def test_confirmation_questions_come_from_the_command() -> None:
    assert needs_confirmation("node", ["fence", "n2"]) == CLI.get("node").get("fence").question(["n2"])
    assert needs_confirmation("node", ["fence", "n2", "-y"]) is None
    assert needs_confirmation("resource", ["stop", "d"]) is None
    assert needs_confirmation("nope", ["x"]) is None


@pytest.fixture
def shell(tmp_path, monkeypatch) -> tuple[Shell, io.StringIO]:
    monkeypatch.setenv("CIB_shadow_dir", str(tmp_path / "shadows"))
    path = tmp_path / "cib.xml"
    path.write_text(cib.serialize(cib.empty(["primary", "secondary"])))
    out = io.StringIO()
    return Shell(FileBackend(str(path), "primary"), interactive=False, out=out, err=io.StringIO()), out


def test_ls_and_help_list_what_the_registry_has(shell) -> None:
    sh, out = shell
    for name in ("", "configure", "node", "resource", "ra", "cib"):
        sh.level = name
        out.truncate(0)
        out.seek(0)
        sh.run_line("ls")
        assert out.getvalue().split() == [*level_commands(name), *NAVIGATION]
    for level in CLI.levels:
        if not level.shell:
            continue
        text = shell_help(level.name)
        assert text == level_help(level)
        for command in level.commands:
            assert command.usage() in text and command.summary.split()[0] in text
    assert shell_help("").startswith("levels: configure, node, resource, ra, site, status, cib\n  configure ")
    assert shell_help("migrate", "resource").startswith("resource migrate RSC NODE [LIFETIME] [force]")
    assert "also: move" in shell_help("migrate", "resource")
    assert "ISO 8601" in shell_help("migrate", "resource") and "#uname" in shell_help("location", "configure")


def test_cd_enters_only_levels_with_commands(shell) -> None:
    sh, _ = shell
    sh.run_line("cd status")
    assert sh.errors == 1 and sh.level == ""
    sh.run_line("cd ra")
    assert sh.level == "ra"


def test_completion_reads_each_commands_completer(shell) -> None:
    sh, _ = shell
    sh.run_line("configure primitive d1 ocf:heartbeat:Dummy")
    completer = Completer(sh)
    assert completer.candidates(["configure", "group"], "") == ["d1"]
    assert completer.candidates(["configure", "property"], "stonith-en") == ["stonith-enabled=true",
                                                                              "stonith-enabled=false"]
    assert completer.candidates(["configure", "primitive", "x"], "ocf:paceline:D") == completer.agents()
    assert completer.candidates(["resource", "migrate", "d1"], "") == ["primary", "secondary"]
    assert completer.candidates(["node", "standby"], "") == ["primary", "secondary"]
    assert completer.candidates(["ra", "list"], "") == ["ocf", "lsb"]
    assert completer.candidates(["cd"], "") == levels()
    assert completer.candidates(["configure"], "") == [*CLI.get("configure").names(), *NAVIGATION]
    sh.run_line("cd node")
    assert completer.candidates(["cd"], "") == levels()


def test_usage_names_every_command() -> None:
    text = usage()
    for level in CLI.levels:
        assert f"  {level.name} {level.args}" in text
        for command in level.commands:
            assert command.name in text


def test_the_registry_loads_without_the_crm_language() -> None:
    """The one-shot CLI reads the registry before it knows whether it needs lxml at all."""
    probe = ("import sys\n"
             "import paceline.cli.commands, paceline.cli.confirm\n"
             "print(sorted(m for m in sys.modules if m.startswith(('lxml', 'paceline.crm.dispatch'))))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "[]", out.stderr
