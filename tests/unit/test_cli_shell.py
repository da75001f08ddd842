"""The shell engine on a CIB file: staging until commit, scripts that never prompt, errors one line each."""

from __future__ import annotations

import io
import json

import pytest
from paceline.cli import main as cli
from paceline.cli.invocation import Options
from paceline.cli.oneshot import confirmed
from paceline.cli.shell import Shell
from paceline.client.backends import FileBackend
from paceline.shared import cib


@pytest.fixture
def cib_file(tmp_path):
    path = tmp_path / "cib.xml"
    path.write_text(cib.serialize(cib.empty(["primary", "secondary"])))
    return path


def shell(path, **kw) -> tuple[Shell, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Shell(FileBackend(str(path), "primary"), interactive=False, out=out, err=err, **kw), out, err


def configuration(path) -> str:
    conf = cib.parse_cib(path.read_bytes()).find("configuration")
    assert conf is not None
    return cib.serialize(conf)


def test_configure_level_stages_until_commit(cib_file):
    sh, out, err = shell(cib_file)
    sh.run_line("configure")
    sh.run_line("primitive d1 ocf:heartbeat:Dummy")
    assert "d1" not in configuration(cib_file)
    sh.run_line("show changed")
    assert "primitive d1 Dummy" in out.getvalue()
    sh.run_line("commit")
    assert 'id="d1"' in configuration(cib_file)
    assert sh.exit_code() == 0, err.getvalue()


def test_script_refuses_to_leave_uncommitted_changes(cib_file):
    before = configuration(cib_file)
    sh, _, err = shell(cib_file)
    code = sh.run_script(["configure", "primitive d1 ocf:heartbeat:Dummy", "end"])
    assert code == 1
    assert "uncommitted changes" in err.getvalue() and "line 3" in err.getvalue()
    assert configuration(cib_file) == before


def test_yes_commits_on_leaving(cib_file):
    sh, _, err = shell(cib_file, yes=True)
    assert sh.run_script(["configure", "primitive d1 ocf:heartbeat:Dummy"]) == 0, err.getvalue()
    assert 'id="d1"' in configuration(cib_file)


def test_commit_conflict_is_reported_not_overwritten(cib_file):
    sh, _, err = shell(cib_file)
    sh.run_line("configure")
    sh.run_line("primitive d1 ocf:heartbeat:Dummy")
    other, _, _ = shell(cib_file)
    other.run_line("configure primitive d2 ocf:heartbeat:Dummy")
    sh.run_line("commit")
    assert "changed since this session read it" in err.getvalue()
    conf = configuration(cib_file)
    assert 'id="d2"' in conf and 'id="d1"' not in conf


def test_edit_load_and_erase(cib_file, tmp_path, monkeypatch):
    sh, out, err = shell(cib_file)
    for line in ("configure", "primitive d1 ocf:heartbeat:Dummy", "primitive d2 ocf:heartbeat:Dummy",
                 "group g1 d1 d2", "location l1 g1 100: primary"):
        sh.run_line(line)
    monkeypatch.setenv("EDITOR", "sed -i 's/^primitive d1 Dummy$/primitive d1 Dummy params fake=x/'")
    sh.run_line("edit d1")
    sh.run_line("save " + str(tmp_path / "saved.crm"))
    saved = (tmp_path / "saved.crm").read_text()
    assert "params fake=x" in saved and "group g1 d1 d2" in saved  # d1 stayed in its group
    sh.run_line("erase")
    sh.run_line("load update " + str(tmp_path / "saved.crm"))
    sh.run_line("show type:group")
    assert out.getvalue().strip().endswith("group g1 d1 d2")
    sh.run_line("commit")
    assert sh.exit_code() == 0, err.getvalue()
    assert "fake" in configuration(cib_file)


WRONG = [
    "configure primitive p1 nosuchclass:heartbeat:Dummy",
    "configure location l1 ghost 100: primary",
    "configure frobnicate x",
    "node standby nosuchnode",
    "resource stop ghost",
    "resource meta",
    "frobnicate",
    'configure primitive "unbalanced',
    "configure show type:nothing",
    "cd nowhere",
]


def test_a_batch_of_wrong_commands_gives_one_line_each(cib_file, tmp_path, capsys):
    script = tmp_path / "wrong.crm"
    script.write_text("\n".join(WRONG) + "\n")
    code = cli.main(["--cib-file", str(cib_file), "-f", str(script)])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 1
    assert "Traceback" not in captured.err + captured.out
    assert len(lines) == len(WRONG), captured.err
    for number, line in enumerate(lines, start=1):
        assert line.startswith(f"ERROR: line {number}: "), line


def test_warnings_exit_2_only_with_strict(cib_file, capsys):
    assert cli.main(["--cib-file", str(cib_file), "configure", "property", "stonith-enabeld=false"]) == 0
    assert "did you mean" in capsys.readouterr().err
    assert cli.main(["--strict", "--cib-file", str(cib_file), "configure", "property", "no-such=1"]) == 2


def test_status_as_json_and_xml(cib_file, capsys):
    cli.main(["--cib-file", str(cib_file), "configure", "primitive", "d1", "ocf:heartbeat:Dummy"])
    capsys.readouterr()
    assert cli.main(["--cib-file", str(cib_file), "status", "--output-as", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [n["name"] for n in data["nodes"]] == ["primary", "secondary"]
    assert data["resources"][0]["id"] == "d1" and data["summary"]["resources_configured"] == 1
    assert cli.main(["--cib-file", str(cib_file), "status", "--output-as=xml"]) == 0
    assert '<resource id="d1"' in capsys.readouterr().out
    assert cli.main(["--cib-file", str(cib_file), "status", "--output-as", "yaml"]) == 1


def test_status_nests_a_clones_instances_as_crm_mon_does(cib_file, capsys):
    for words in (["primitive", "st", "ocf:paceline:Stateful"], ["ms", "ms-st", "st"]):
        assert cli.main(["--cib-file", str(cib_file), "configure", *words]) == 0
    capsys.readouterr()
    assert cli.main(["--cib-file", str(cib_file), "status", "--output-as", "json"]) == 0
    clone = json.loads(capsys.readouterr().out)["resources"][0]
    assert (clone["id"], clone["type"], clone["promotable"]) == ("ms-st", "clone", True)
    assert [c["id"] for c in clone["children"]] == ["st:0", "st:1"]
    assert cli.main(["--cib-file", str(cib_file), "status", "--output-as", "xml"]) == 0
    xml = capsys.readouterr().out
    assert '<clone id="ms-st" multi_state="true"' in xml and '<resource id="st:0"' in xml


def _fence_ready(path) -> None:
    sh, _out, err = shell(path)
    sh.run_line("configure property stonith-enabled=true")
    sh.run_line("configure primitive f stonith:fence_x params pcmk_host_list=primary,secondary")
    assert sh.exit_code() == 0, err.getvalue()


@pytest.mark.parametrize(("interactive", "answer", "yes", "fenced"), [
    (True, "y", False, True), (True, "n", False, False), (False, "", False, False), (False, "", True, True)])
def test_node_fence_is_asked_on_a_terminal_and_refused_in_a_script(cib_file, interactive, answer, yes, fenced):
    _fence_ready(cib_file)
    asked: list[str] = []
    def ask(question: str) -> str:
        asked.append(question)
        return answer

    sh, out, err = shell(cib_file, yes=yes, ask=ask)
    sh.interactive = interactive
    sh.run_line("node fence secondary")
    text = cib.serialize(cib.parse_cib(cib_file.read_bytes()))
    assert ('name="terminate" value="true"' in text) is fenced, out.getvalue() + err.getvalue()
    assert bool(asked) is (interactive and not yes)
    if not interactive and not yes:
        assert "-y" in err.getvalue() and "Traceback" not in err.getvalue()


def test_one_shot_fence_takes_the_global_yes_and_never_asks_a_script():
    assert confirmed(Options(yes=True), "node fence n2") == "node fence n2 -y"
    assert confirmed(Options(), "node fence n2") == "node fence n2"       # stdin is no terminal here
    assert confirmed(Options(yes=True), "node standby n2") == "node standby n2"


def test_session_commands_typed_as_one_command_commit_at_once(cib_file, tmp_path):
    sh, _out, err = shell(cib_file)
    sh.run_line("configure primitive d1 ocf:heartbeat:Dummy")
    saved = tmp_path / "saved.crm"
    sh.run_line(f"configure save {saved}")
    assert "primitive d1 Dummy" in saved.read_text()
    sh.run_line("configure erase")
    assert 'id="d1"' not in configuration(cib_file)
    sh.run_line(f"configure load replace {saved}")
    assert 'id="d1"' in configuration(cib_file)
    assert sh.exit_code() == 0, err.getvalue()


def test_resource_why_on_a_cib_file_runs_the_scheduler_offline_every_time(cib_file, capsys):
    """``resource why`` offline goes through the CLI's simulate module; a second call in the same process
    must still reach the explain function (the package once exported a name that a submodule shadowed)."""
    assert cli.main(["--cib-file", str(cib_file), "configure", "primitive", "w", "ocf:heartbeat:Dummy"]) == 0
    for _ in range(2):
        assert cli.main(["--cib-file", str(cib_file), "resource", "why", "w"]) == 0
        out = capsys.readouterr().out
        assert "primary" in out and "secondary" in out
    assert cli.main(["--cib-file", str(cib_file), "resource", "why", "nope"]) == 1
