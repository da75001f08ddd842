"""Bash completion outside the shell: the script ``paceline --bash-completion`` prints, sourced in a real bash,
with COMP_WORDS/COMP_CWORD/COMP_LINE/COMP_POINT set as bash sets them for a Tab, asks ``paceline --complete``;
the candidates come from the same registry and completers as the interactive shell's Tab."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from paceline.cli.commands import CLI
from paceline.cli.completion import complete_line
from paceline.crm.preferences import OPTIONS
from paceline.lab.story import paceline_argv
from paceline.shared import cib

BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None or len(paceline_argv()) != 1,
                                reason="needs bash and the installed paceline command (make install)")


@pytest.fixture
def cib_file(tmp_path: Path) -> Path:
    from paceline.crm import execute

    from tests.support.crm import CTX

    root = cib.empty(["primary", "secondary"])
    execute(root, "configure primitive web ocf:heartbeat:Dummy", CTX)
    execute(root, "configure primitive db ocf:heartbeat:Dummy", CTX)
    path = tmp_path / "cib.xml"
    path.write_text(cib.serialize(root))
    return path


def tab(script: Path, line: str, tmp_path: Path) -> list[str]:
    """COMPREPLY after a Tab at the end of ``line``, split into words the way bash splits them (COMP_WORDBREAKS)."""
    driver = tmp_path / "driver.sh"
    driver.write_text(f"""
source {script}
line=$1
# bash's own word splitting of the line, wordbreaks included, as readline hands it to a completion function
read -ra words <<< "$(printf '%s' "$line" | sed -E 's/([:=])/ \\1 /g')"
[[ "$line" == *" " ]] && words+=("")
# a wordbreak glued to the word before it stays one word in bash: ocf:heartbeat: -> ocf : heartbeat :
COMP_WORDS=("{paceline_argv()[0]}" "${{words[@]:1}}")
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE=$line
COMP_POINT=${{#line}}
_paceline
printf '%s\\n' "${{COMPREPLY[@]}}"
""")
    done = subprocess.run([BASH, str(driver), line], capture_output=True, text=True, timeout=60)  # type: ignore[list-item]
    assert done.returncode == 0, done.stderr
    return [w for w in done.stdout.splitlines() if w]


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "paceline.bash"
    done = subprocess.run([*paceline_argv(), "--bash-completion"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    path.write_text(done.stdout)
    return path


def test_levels_and_commands_from_the_registry(script: Path, tmp_path: Path) -> None:
    assert tab(script, "paceline ", tmp_path) == sorted([*CLI.names(), "help"])
    assert tab(script, "paceline res", tmp_path) == ["resource"]
    assert tab(script, "paceline resource ", tmp_path) == CLI.get("resource").names()
    assert tab(script, "paceline node st", tmp_path) == ["standby", "status", "status-attr"]
    assert tab(script, "paceline help con", tmp_path) == ["configure"]


def test_ids_and_nodes_from_the_cib_file(script: Path, cib_file: Path, tmp_path: Path) -> None:
    assert tab(script, f"paceline --cib-file {cib_file} resource stop ", tmp_path) == ["db", "web"]
    assert tab(script, f"paceline --cib-file {cib_file} resource migrate web ", tmp_path) == ["primary", "secondary"]
    assert tab(script, f"paceline -w --cib-file {cib_file} configure show w", tmp_path) == ["web"]


def test_words_bash_breaks_at_colons_and_equals(script: Path, cib_file: Path, tmp_path: Path) -> None:
    """``ocf:heartbeat:Du`` reaches the function as the word ``Du``: the candidates are cut to fit it."""
    assert tab(script, f"paceline --cib-file {cib_file} configure primitive x ocf:heartbeat:Dumm", tmp_path) \
        == ["Dummy"]
    assert tab(script, "paceline -o core.wait=", tmp_path) == ["=no", "=yes"]
    assert tab(script, "paceline -o core.ign", tmp_path) == ["core.ignore_missing_metadata="]
    assert tab(script, f"paceline --cib-file {cib_file} configure property stonith-enabled=", tmp_path) \
        == ["=false", "=true"]


def test_global_options_and_a_programs_words(script: Path, tmp_path: Path) -> None:
    assert "--wait" in tab(script, "paceline --", tmp_path) and "--cib-file" in tab(script, "paceline --", tmp_path)
    assert {"up", "down", "--nodes"} <= set(tab(script, "paceline lab ", tmp_path))
    assert tab(script, "paceline configure primitive --h", tmp_path) == ["--help"]


def test_nothing_offered_without_a_cluster_or_for_a_file_name(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PACELINE_LAB", str(tmp_path / "no-lab"))
    monkeypatch.delenv("PACELINE_NATS_URL", raising=False)
    monkeypatch.delenv("CIB_file", raising=False)
    assert complete_line("paceline resource stop ") == []
    assert complete_line("paceline --cib-file ") == []          # bash's default (file names) takes over
    assert complete_line("paceline -o ") == [f"{o.name}=" for o in OPTIONS]
