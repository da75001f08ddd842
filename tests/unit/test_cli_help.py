"""``--help`` on every level and every command, from the one registry, the same text one-shot and in the shell."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from paceline.cli.commands import CLI, help_topic
from paceline.cli.main import main
from paceline.cli.shell import Shell
from paceline.client.backends import FileBackend
from paceline.crm.preferences import OPTIONS
from paceline.shared import cib

CRM_LEVELS = [level for level in CLI.levels if level.enterable]
COMMANDS = [(level.name, command.name) for level in CRM_LEVELS for command in level.commands]


@pytest.fixture
def shell(tmp_path: Path) -> tuple[Shell, io.StringIO]:
    path = tmp_path / "cib.xml"
    path.write_text(cib.serialize(cib.empty(["primary"])))
    out = io.StringIO()
    return Shell(FileBackend(str(path), "primary"), interactive=False, out=out, err=out), out


@pytest.mark.parametrize("level", [level.name for level in CRM_LEVELS])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_every_level_has_help(level: str, flag: str, capsys, shell) -> None:
    assert main([level, flag]) == 0
    text = capsys.readouterr().out
    assert text == help_topic([level]) + "\n"
    assert all(f"  {command.usage()}" in text for command in CLI.get(level).commands)
    sh, out = shell
    sh.run_line(f"help {level}")
    assert out.getvalue() == text


@pytest.mark.parametrize(("level", "command"), COMMANDS)
def test_every_command_has_help(level: str, command: str, capsys, shell) -> None:
    assert main([level, command, "--help"]) == 0
    text = capsys.readouterr().out
    found = CLI.get(level).get(command)
    assert text.startswith(f"{level} {found.usage()}\n  {found.summary}\n")
    assert ("with -w (--wait)" in text) == found.waits
    assert main(["help", level, command]) == 0 and capsys.readouterr().out == text
    sh, out = shell
    sh.run_line(f"help {level} {command}")           # at the top
    sh.run_line(f"{level} {command} --help")
    if level != "configure":                         # entering configure would stage a session: not needed
        sh.level = level
        sh.run_line(f"{command} --help")             # inside the level
        sh.run_line(f"help {command}")
    assert out.getvalue() == text * (2 if level == "configure" else 4)


PROGRAMS = [level.name for level in CLI.levels if not level.enterable and level.name != "status"]


@pytest.mark.parametrize("level", PROGRAMS)
def test_top_level_programs_answer_help(level: str, capsys) -> None:
    """``simulate``, ``lab`` ... read their own arguments; ``--help`` still exits 0 with a usage. (``status``'s
    arguments, ``--help`` among them, are crm_mon's: tests/unit/test_status_* cover them.)"""
    try:
        code = main([level, "--help"])
    except SystemExit as exc:        # argparse's way of ending after --help
        code = int(exc.code or 0)
    assert code == 0
    assert "usage" in capsys.readouterr().out.lower()


def test_help_for_what_does_not_exist_is_one_line(capsys) -> None:
    assert main(["help", "configure", "nosuch"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ERROR: help: configure has no command 'nosuch'") and err.count("\n") == 1
    assert main(["help", "nosuch"]) == 1
    assert "no level or command 'nosuch'" in capsys.readouterr().err


def test_global_help_lists_every_option_of_the_registry(capsys) -> None:
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "[-w]" in text and all(option.hint() in text for option in OPTIONS)
