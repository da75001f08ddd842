"""paceline(1), generated from the registry: groff renders it without a warning, and it names every command."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from paceline.cli.commands import CLI
from paceline.cli.invocation import GLOBAL_OPTIONS
from paceline.cli.main import main
from paceline.cli.manpage import manpage, text
from paceline.crm.preferences import OPTIONS

GROFF, MAN = shutil.which("groff"), shutil.which("man")


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("man") / "paceline.1"
    path.write_text(manpage(date(2026, 1, 2)))
    return path


def rendered(page: Path) -> str:
    done = subprocess.run([GROFF or "groff", "-man", "-Tutf8", "-ww", str(page)], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "GROFF_NO_SGR": "1"})
    assert done.returncode == 0 and done.stderr == "", done.stderr   # -ww: every warning is shown
    plain = re.sub(r".\x08", "", done.stdout)                         # overstrike bold and underline
    return re.sub(r"\s+", " ", plain.replace("\u2010", "-").replace("\u2212", "-"))  # hyphens, joined lines


@pytest.mark.skipif(GROFF is None, reason="groff is not installed (apt-get install groff-base)")
def test_groff_renders_it_without_warnings_and_every_command_is_there(page: Path) -> None:
    out = rendered(page)
    for level in CLI.levels:
        for command in level.commands:
            assert f"{level.name} {command.name}" in out, f"{level.name} {command.name}"
            assert " ".join(command.summary.split()[:4]) in out
        if not level.commands:
            assert f"{level.name} {level.args.split()[0]}" in out, level.name
    assert all(option.name in out for option in OPTIONS)
    assert all(name in out for names, _v, _s in GLOBAL_OPTIONS for name in names)
    assert "resource wait" in out and "core.wait_timeout" in out


@pytest.mark.skipif(MAN is None, reason="man is not installed (apt-get install man-db)")
def test_man_reads_it(page: Path) -> None:
    done = subprocess.run([MAN or "man", "--warnings", "-l", str(page)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "MANWIDTH": "80", "MANPAGER": "cat", "PAGER": "cat"})
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.lstrip().startswith("PACELINE(1)") and "SYNOPSIS" in done.stdout


def test_paceline_help_man_prints_the_page(capsys) -> None:
    assert main(["help", "--man"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(".TH PACELINE 1 ") and out.endswith("\n")


def test_text_is_escaped_for_groff() -> None:
    assert text(r"a\b -w") == r"a\eb \-w"
    assert text(".starts with a dot") == r"\&.starts with a dot"
    assert text("'quoted") == r"\&'quoted"
