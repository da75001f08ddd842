"""What ``paceline cluster init/join`` writes, checked by the tools that read it: systemd-analyze for the
units, ``nats-server -t`` for the bus server's configuration, Paceline's config loader for the TOML file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from paceline.cli.cluster_files import (
    BundleError,
    JoinBundle,
    Layout,
    NodeSpec,
    Ports,
    ServerTls,
    nats_conf,
    paceline_toml,
    shipped_units,
    target_text,
    units,
)
from paceline.shared import config
from paceline.shared.credentials import SHARED_FILES, Credentials, authorization_block, keygen, shared_files
from paceline.shared.natsserver import find_binary
from paceline.shared.subjects import Subjects

REPO = Path(__file__).resolve().parents[2]
BINDIR = Path(sys.executable).parent


def test_the_shipped_units_are_the_rendered_ones():
    """deploy/systemd is generated (python -m paceline.cli.cluster_files deploy/systemd): never edited apart."""
    shipped = {p.name: p.read_text() for p in (REPO / "deploy" / "systemd").iterdir()}
    assert shipped == shipped_units()


def test_units_say_what_the_issue_asks_for():
    node_units = {u.name: u for u in units(Layout(), BINDIR)}
    assert list(node_units) == ["paceline-nats", "paceline-cib-store", "paceline-gateway", "paceline-membership",
                                "paceline-executor", "paceline-policy"]
    membership = node_units["paceline-membership"].text()
    for line in ("Type=notify", "WatchdogSec=30s", "Restart=on-failure", "StateDirectory=paceline",
                 "PartOf=paceline.target", "After=network-online.target paceline-nats.service",
                 f"ExecStart={BINDIR}/paceline-membership --config /etc/paceline/paceline.toml"):
        assert line in membership.splitlines()
    assert "Type=notify" not in node_units["paceline-nats"].text()  # nats-server does not speak sd_notify
    assert "Wants=" + " ".join(f"{n}.service" for n in node_units) in target_text(list(node_units.values()))


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze (Debian package systemd)")
def test_systemd_analyze_verifies_the_units(tmp_path: Path):
    node_units = units(Layout(), BINDIR)
    for unit in node_units:
        (tmp_path / unit.file_name).write_text(unit.text())
    (tmp_path / "paceline.target").write_text(target_text(node_units))
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", *sorted(str(p) for p in tmp_path.iterdir())],
                          capture_output=True, text=True, cwd=tmp_path)
    assert (done.returncode, done.stderr.strip()) == (0, "")


def test_the_config_file_loads_without_warnings(tmp_path: Path):
    layout = Layout(Path("/srv/n1"))
    spec = NodeSpec("prod", "n1", "10.0.0.1", ports=Ports(client=4333))
    (tmp_path / "paceline.toml").write_text(paceline_toml(spec, layout))
    cfg = config.load(tmp_path / "paceline.toml", env={})
    assert (cfg.cluster, cfg.node, cfg.nats_url) == ("prod", "n1", "nats://127.0.0.1:4333")
    assert (cfg.credentials, cfg.state_dir) == ("/srv/n1/etc/paceline/credentials", "/srv/n1/var/lib/paceline")
    assert cfg.warnings == [] and cfg.extra == {}


def test_nats_server_accepts_the_configuration(tmp_path: Path):
    layout = Layout(tmp_path)
    keygen(layout.credentials, "prod", {"n1": ["10.0.0.1"]})
    creds = Credentials(layout.credentials)
    spec = NodeSpec("prod", "n1", "10.0.0.1", seeds=("10.0.0.2", "10.0.0.1:6222"))
    text = nats_conf(spec, layout, ServerTls(*creds.server_files("n1")), authorization_block(creds, Subjects("prod")))
    assert 'routes: ["nats://10.0.0.1:6222", "nats://10.0.0.2:6222"]' in text  # itself (deduplicated) and the seed
    (tmp_path / "nats.conf").write_text(text)
    done = subprocess.run([find_binary(), "-t", "-c", str(tmp_path / "nats.conf")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + done.stdout


def test_a_join_bundle_round_trips_and_damaged_ones_are_named(tmp_path: Path):
    keygen(tmp_path / "creds", "prod", {"n1": []})
    bundle = JoinBundle("prod", "10.0.0.1", Ports(), shared_files(tmp_path / "creds"), "n1")
    again = JoinBundle.parse(bundle.text(), "b")
    assert again == bundle and set(again.files) == set(SHARED_FILES)
    with pytest.raises(BundleError, match="not a join bundle"):
        JoinBundle.parse("hello", "x.bundle")
    with pytest.raises(BundleError, match=r"lacks ca\.key"):
        JoinBundle.parse(bundle.text().replace('"ca.key"', '"ca.kez"'), "x.bundle")
