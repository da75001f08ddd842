"""Shadow CIBs against a running lab: invisible until ``cib commit``, then one version that the cluster acts on."""

from __future__ import annotations

import io
import json
import time

import pytest
from paceline.cli.shell import Shell
from paceline.client.backends import LiveBackend
from paceline.client.gateway import GatewayClient, find_bus, find_credential
from paceline.shared import cib

pytestmark = pytest.mark.e2e


@pytest.fixture
def shadow_env(tmp_path, monkeypatch):
    """A private shadow directory; ``CIB_shadow`` is set per call by ``run``."""
    monkeypatch.setenv("CIB_shadow_dir", str(tmp_path / "shadows"))
    monkeypatch.delenv("CIB_shadow", raising=False)
    return monkeypatch


def run(lab, monkeypatch, *words: str, shadow: str | None = None, code: int = 0):
    if shadow:
        monkeypatch.setenv("CIB_shadow", shadow)
    try:
        out = lab.paceline(*words)
    finally:
        monkeypatch.delenv("CIB_shadow", raising=False)
    assert out.returncode == code, f"{words}: {out.stdout}{out.stderr}"
    assert "Traceback" not in out.stderr
    return out


def status(lab, monkeypatch, shadow: str | None = None) -> dict:
    return json.loads(run(lab, monkeypatch, "status", "--output-as", "json", shadow=shadow).stdout)


def resource(data: dict, rid: str) -> dict | None:
    return next((r for r in data["resources"] if r["id"] == rid), None)


def epoch(data: dict) -> int:
    return cib.Version.parse(data["summary"]["version"]).epoch


def eventually(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.3)
    return value


def test_a_shadow_is_invisible_until_commit_then_starts(lab, shadow_env):
    mp = shadow_env
    run(lab, mp, "configure", "property", "stonith-enabled=false")
    assert "CIB_shadow=test paceline" in run(lab, mp, "cib", "new", "test").stdout
    run(lab, mp, "configure", "primitive", "sh1", "ocf:paceline:Dummy", "op", "monitor", "interval=5s",
        shadow="test")
    run(lab, mp, "configure", "location", "sh1-pref", "sh1", "100:", "secondary", shadow="test")
    assert resource(status(lab, mp, shadow="test"), "sh1") is not None
    live = status(lab, mp)
    assert resource(live, "sh1") is None
    assert run(lab, mp, "cib", "diff", "test").stdout.splitlines()[0] == "+ primitive sh1 ocf:paceline:Dummy \\"
    run(lab, mp, "cib", "commit", "test")
    after = status(lab, mp)
    assert epoch(after) == epoch(live) + 1            # primitive and constraint: one version
    assert eventually(lambda: (resource(status(lab, mp), "sh1") or {}).get("active_on") == ["secondary"])


def test_commit_refuses_after_a_live_change_and_force_overwrites(lab, shadow_env):
    mp = shadow_env
    run(lab, mp, "cib", "new", "conflict")
    run(lab, mp, "configure", "primitive", "sh2", "ocf:paceline:Dummy", shadow="conflict")
    run(lab, mp, "configure", "primitive", "meanwhile", "ocf:paceline:Dummy")
    before = status(lab, mp)
    refused = run(lab, mp, "cib", "commit", "conflict", code=1)
    assert refused.stderr.count("\n") == 1 and "changed since shadow CIB 'conflict' was copied" in refused.stderr
    after = status(lab, mp)
    assert epoch(after) == epoch(before) and resource(after, "sh2") is None
    run(lab, mp, "cib", "commit", "conflict", "force")
    shown = run(lab, mp, "configure", "show").stdout
    assert "primitive sh2" in shown and "primitive meanwhile" not in shown


def test_the_shell_prompt_follows_cib_use(lab, shadow_env):
    url, cluster = find_bus(None, None, str(lab.dir))
    client = GatewayClient(url, cluster, find_credential(str(lab.dir)))
    out, err = io.StringIO(), io.StringIO()
    sh = Shell(LiveBackend(client, "primary"), interactive=False, out=out, err=err)
    try:
        assert sh.prompt == "paceline(live)# "
        sh.run_line("cib new interactive")
        assert sh.prompt == "paceline(interactive)# "
        sh.run_line("configure primitive sh3 ocf:paceline:Dummy")
        sh.run_line("cib use live")
        assert sh.prompt == "paceline(live)# "
        sh.run_line("cib use interactive")
        sh.run_line("cd cib")
        assert sh.prompt == "paceline(interactive)cib# "
        sh.run_line("commit")
        assert sh.exit_code() == 0, err.getvalue()
    finally:
        client.close()
    assert "primitive sh3" in run(lab, shadow_env, "configure", "show", "sh3").stdout
