"""Real clients of Pacemaker's crm_mon and cibadmin, pointed at Paceline's stand-ins, against a lab.

- Debian's crmsh 4.4 (``/usr/sbin/crm``) with the stand-ins first on its PATH: ``crm status``,
  ``crm configure show``, ``crm configure primitive ...`` and ``crm node standby``; the effect is checked
  through ``paceline status``. crmsh runs, for these (strace -f -e execve): ``crm_mon --help``,
  ``crm_mon -1 -r``, ``crm_mon --output-as=xml``, ``cibadmin -Ql``, ``cibadmin -Q``, ``cibadmin -p -P``
  (a format-1 patch from Debian's ``crm_diff --no-version``), ``cibadmin -p -P --force`` (``crm_diff -u``'s
  patch, for standby), Debian's ``crm_verify -VV -p`` and ``crm_resource --show-metadata|--list-ocf-*``
  (offline tools that work on the CIB and agents they are given: left to Pacemaker's own), ``ping -c 1 NODE``
  and ``pacemaker-controld version``. crmsh's HOME is a temporary folder.
- Debian's ``ha_cluster_exporter`` given the stand-ins' paths (``--crm-mon-path``, ``--cibadmin-path``) on a
  free loopback port serves the same node and resource series as Paceline's own node exporter when the lab
  runs one, and the series the cluster's status says in any case.
- The stand-ins' own answers: crm_mon's text is ``paceline status``, its XML is valid against Pacemaker's
  API schema, cibadmin's writes go through the commit path with Pacemaker's exit codes.

``crm node NODE`` pings NODE, so the lab's first node is named after this machine (``uname -n``), which
resolves; where that name cannot be a Paceline node name the standby test says so and skips.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from paceline.executor.runner import SBIN_DIR

from tests.e2e.cli_helpers import walk
from tests.e2e.conftest import PATIENCE, POLL, LabRunner, running_lab
from tests.support.wait import until

SCHEMA = Path("/usr/share/pacemaker/api/api-result-2.25.rng")
CRM = "/usr/sbin/crm"
EXPORTER = "/usr/bin/ha_cluster_exporter"
THIS_HOST = os.uname().nodename
NAME_OK = re.fullmatch(r"[A-Za-z0-9_-]+", THIS_HOST) is not None
NODES = (THIS_HOST, "peer") if NAME_OK else ("primary", "secondary")
#: The series both exporters must agree on (node and resource state, fail counts, thresholds).
COMPARED = ("ha_cluster_pacemaker_nodes", "ha_cluster_pacemaker_resources", "ha_cluster_pacemaker_fail_count",
            "ha_cluster_pacemaker_migration_threshold")


class ClientLab(LabRunner):
    """A lab whose clients find the stand-ins first on PATH (crmsh with a HOME of its own)."""

    def env(self) -> dict[str, str]:
        env = super().env()
        home = self.dir / "home"
        home.mkdir(exist_ok=True)
        env["HOME"] = str(home)
        env["PATH"] = os.pathsep.join([tools_dir(), str(Path(paceline_bin()).parent), env.get("PATH", "")])
        return env

    def run(self, *argv: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(list(argv), capture_output=True, text=True, env=self.env(), input=stdin,
                              timeout=timeout)

    def ok(self, *argv: str, stdin: str | None = None) -> str:
        done = self.run(*argv, stdin=stdin)
        assert done.returncode == 0, f"{' '.join(argv)}: rc {done.returncode}: {done.stdout}{done.stderr}"
        return done.stdout

    def status(self) -> dict:
        return json.loads(self.ok("paceline", "status", "--output-as", "json"))


def paceline_bin() -> str:
    """The ``paceline`` command of this interpreter (the stand-ins find their interpreter from it)."""
    return shutil.which("paceline") or str(Path(sys.executable).with_name("paceline"))


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Iterator[ClientLab]:
    with running_lab(ClientLab(tmp_path_factory.mktemp("clients")), NODES) as runner:
        yield runner


@functools.cache
def tools_dir() -> str:
    """Where ``paceline tools path`` says the stand-ins are (the folder the executor gives agents too)."""
    done = subprocess.run([paceline_bin(), "tools", "path"], capture_output=True, text=True, timeout=60, check=True)
    folder = done.stdout.strip()
    assert os.path.samefile(folder, SBIN_DIR)
    return folder


def tool(name: str) -> str:
    return os.path.join(tools_dir(), name)


# ------------------------------------------------------------------ the stand-ins themselves

def without_update_time(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if "Last updated:" not in line)


@pytest.mark.parametrize("switches", [["-r"], [], ["-r", "-n", "-f", "-o", "-t", "-A"]])
def test_crm_mon_text_is_the_paceline_status_page(lab, switches):
    mon = lab.ok(tool("crm_mon"), "-1", *switches)
    page = lab.ok("paceline", "status", "-1", *switches)
    assert without_update_time(mon) == without_update_time(page)
    assert "Node List:" in mon


@pytest.mark.parametrize("args", [["-X"], ["--as-xml"], ["--output-as", "xml"], ["--output-as=xml", "-r", "-1"]])
def test_crm_mon_xml_is_valid_against_pacemakers_api_schema(lab, args):
    if not SCHEMA.is_file():
        pytest.skip(f"needs Pacemaker's API schema {SCHEMA} (Debian package pacemaker-cli-utils)")
    doc = etree.fromstring(lab.ok(tool("crm_mon"), *args).encode())
    schema = etree.RelaxNG(etree.parse(str(SCHEMA)))
    assert schema.validate(doc), schema.error_log.last_error
    assert [n.get("name") for n in doc.iterfind("nodes/node")] == sorted(NODES)


def test_the_read_only_credential_monitors_and_cannot_write(lab):
    observer = {**lab.env(), "PACELINE_USER": "observer"}

    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(list(argv), capture_output=True, text=True, env=observer, timeout=60)

    assert run(tool("crm_mon"), "-X").returncode == 0
    assert run(tool("crm_mon"), "-1").returncode == 0
    refused = run(tool("cibadmin"), "-C", "-o", "resources", "-X", '<primitive id="o" class="ocf" '
                  'provider="heartbeat" type="Dummy"/>')
    assert refused.returncode == 4, refused.stderr


def test_cibadmin_writes_and_pacemakers_exit_codes(lab):
    cibadmin = tool("cibadmin")
    dummy = '<primitive id="cib-d" class="ocf" provider="heartbeat" type="Dummy"/>'
    assert lab.run(cibadmin, "-C", "-o", "resources", "-X", dummy).returncode == 0
    assert '<primitive id="cib-d"' in lab.ok(cibadmin, "--query", "--local", "--scope", "resources")
    refusals = [
        ((cibadmin, "-C", "-o", "resources", "-X", dummy), 108),
        ((cibadmin, "-M", "-X", '<primitive id="nope" description="x"/>'), 105),
        ((cibadmin, "-Q", "-o", "tags"), 105),
        ((cibadmin, "-C", "-o", "resources", "-X", '<primitive id="bad" class="ocf" provider="heartbeat"/>'), 78),
        ((cibadmin, "-M", "-X", '<primitive id="cib-d" '), 78),
        ((cibadmin, "-D", "-o", "status", "-X", f'<node_state uname="{NODES[0]}"/>'), 3),
        ((cibadmin, "-d", "--xpath", "//primitive[@id='cib-d']"), 107),
        ((cibadmin, "--bogus"), 64),
    ]
    for argv, code in refusals:
        done = lab.run(*argv)
        assert done.returncode == code, f"{argv}: {done.returncode} {done.stderr}"
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    version = etree.fromstring(lab.ok(cibadmin, "-Q").encode())
    stale = (f'<diff format="1"><diff-removed admin_epoch="{version.get("admin_epoch")}" epoch="1" '
             'num_updates="0"><cib/></diff-removed><diff-added admin_epoch="0" epoch="2" num_updates="0"><cib/>'
             '</diff-added></diff>')
    assert lab.run(cibadmin, "-P", "-p", stdin=stale).returncode == 103
    lab.ok(cibadmin, "-M", "-X", '<primitive id="cib-d" description="made by cibadmin"/>')
    assert "made by cibadmin" in lab.ok(cibadmin, "-Q", "--xpath", "//primitive[@id='cib-d']")
    conf = lab.ok(cibadmin, "-Q", "-o", "configuration").replace('"made by cibadmin"', '"replaced whole"')
    lab.ok(cibadmin, "-p", "-R", "--force", stdin=conf)          # crmsh's replace of the configuration
    assert "replaced whole" in lab.ok(cibadmin, "-Q", "--xpath", "//primitive[@id='cib-d']")
    lab.ok(cibadmin, "-D", "-X", '<primitive id="cib-d"/>')
    assert lab.run(cibadmin, "-Q", "--xpath", "//primitive[@id='cib-d']").returncode == 105
    nobody = {**lab.env(), "PACELINE_NATS_URL": f"nats://127.0.0.1:{free_port()}"}
    offline = subprocess.run([cibadmin, "-Q"], capture_output=True, text=True, env=nobody, timeout=60)
    assert offline.returncode == 102, offline.stderr


# ------------------------------------------------------------------ crmsh

@pytest.fixture(scope="module")
def crm(lab) -> ClientLab:
    if not os.access(CRM, os.X_OK):
        pytest.skip(f"needs Debian's crmsh ({CRM}; package crmsh)")
    return lab


def configure_web(crm: ClientLab) -> None:
    """``crm configure`` of a Dummy with a monitor, fencing off (the lab has no fence device)."""
    if "primitive web " in crm.ok(CRM, "configure", "show"):
        return
    crm.ok(CRM, "configure", "property", "stonith-enabled=false")
    crm.ok(CRM, "configure", "primitive", "web", "ocf:heartbeat:Dummy", "op", "monitor", "interval=10s")


def test_crmsh_configures_and_shows_through_the_stand_ins(crm):
    configure_web(crm)
    shown = crm.ok(CRM, "configure", "show")
    assert re.search(r"^primitive web Dummy \\\n\s+op monitor interval=10s", shown, re.M), shown
    assert "stonith-enabled=false" in shown
    until(lambda: next(r for r in walk(crm.status()["resources"]) if r["id"] == "web")["active_on"],
          "web started", PATIENCE, POLL)
    page = crm.ok(CRM, "status")
    assert re.search(r"\* web\s+\(ocf:heartbeat:Dummy\):\s+Started ", page), page


def test_crmsh_node_standby(crm):
    if not NAME_OK:
        pytest.skip(f"crm node NODE pings NODE: this machine's name {THIS_HOST!r} cannot be a lab node's name")
    if shutil.which("ping") is None:
        pytest.skip("crm node NODE pings NODE: needs ping (Debian package iputils-ping)")
    configure_web(crm)
    out = crm.run(CRM, "node", "standby", NODES[0])
    assert out.returncode == 0 and "standby node" in out.stderr + out.stdout, out.stderr
    node = until(lambda: next(n for n in crm.status()["nodes"] if n["name"] == NODES[0] and n["standby"]),
                 f"{NODES[0]} in standby", PATIENCE, POLL)
    assert node["standby"]
    until(lambda: next(r for r in walk(crm.status()["resources"]) if r["id"] == "web")["active_on"] == [NODES[1]],
          "web moved off the standby node", PATIENCE, POLL)
    assert 'name="standby" value="on"' in crm.ok(tool("cibadmin"), "-Q", "-o", "nodes")


# ------------------------------------------------------------------ ha_cluster_exporter

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def exporter(lab) -> Iterator[str]:
    if not os.access(EXPORTER, os.X_OK):
        pytest.skip(f"needs Debian's ha_cluster_exporter ({EXPORTER}; package prometheus-hacluster-exporter)")
    port = free_port()
    missing = str(lab.dir / "not-installed")
    proc = subprocess.Popen([EXPORTER, f"--crm-mon-path={tool('crm_mon')}", f"--cibadmin-path={tool('cibadmin')}",
                             f"--corosync-cfgtoolpath-path={missing}", f"--corosync-quorumtool-path={missing}",
                             f"--sbd-path={missing}", f"--drbdsetup-path={missing}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            env=lab.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        until(lambda: answers(url), "ha_cluster_exporter listening", PATIENCE, POLL)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def answers(url: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10):
            return True
    except (urllib.error.URLError, OSError):
        return False


def scrape(url: str, names: tuple[str, ...] = COMPARED) -> dict[tuple[str, frozenset], float]:
    """The series of an exposition named ``names`` (all of Pacemaker's with ``()``): (name, labels) -> value."""
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as response:
        text = response.read().decode()
    out: dict[tuple[str, frozenset], float] = {}
    for line in text.splitlines():
        m = re.match(r"^(ha_cluster_pacemaker_\w+)(?:\{(.*)\})? (\S+)$", line)
        if m and (m.group(1) in names or not names):
            labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
            out[(m.group(1), labels)] = float(m.group(3))
    return out


def primitives(entries: list[dict], group: str = "", clone: str = "") -> Iterator[tuple[dict, str, str]]:
    """Each primitive of ``status --output-as json`` with the group and clone it is in."""
    for r in entries:
        if r["type"] == "clone":
            yield from primitives(r["children"], group, r["id"])
        elif r["type"] == "group":
            yield from primitives(r["children"], r["id"], clone)
        else:
            yield r, group, clone


def expected_from_status(status: dict) -> dict[tuple[str, frozenset], float]:
    """The node and resource series the cluster's status implies (what ``paceline status`` says); an
    anonymous clone's instances are named by their resource, as crm_mon names them."""
    out: dict[tuple[str, frozenset], float] = {}
    for n in status["nodes"]:
        for word, value in (("online", n["online"]), ("standby", n["standby"]), ("maintenance", n["maintenance"]),
                            ("pending", n["pending"]), ("unclean", n["unclean"]), ("dc", n["is_dc"])):
            labels = {"node": n["name"], "status": word, "type": "member"}
            out[("ha_cluster_pacemaker_nodes", frozenset(labels.items()))] = float(value)
    for r, group, clone in primitives(status["resources"]):
        rid = r["id"].rsplit(":", 1)[0] if clone else r["id"]
        for node in r["active_on"]:
            labels = {"agent": r["agent"], "clone": clone, "group": group, "managed": str(r["managed"]).lower(),
                      "node": node, "resource": rid, "role": r["role"].lower()}
            out[("ha_cluster_pacemaker_resources", frozenset({**labels, "status": "active"}.items()))] = 1.0
            out[("ha_cluster_pacemaker_resources", frozenset({**labels, "status": "failed"}.items()))] = \
                float(r["failed"])
    return out


#: A group, a clone, a promotable clone (where Pacemaker's Stateful agent is installed) and a location
#: constraint, written with the cibadmin stand-in.
RICH = [
    ("resources", '<group id="exp-grp"><primitive id="exp-g1" class="ocf" provider="heartbeat" type="Dummy"/>'
                  '<primitive id="exp-g2" class="ocf" provider="heartbeat" type="Dummy"/></group>'),
    ("resources", '<clone id="exp-cln"><primitive id="exp-cl" class="ocf" provider="heartbeat" type="Dummy"/>'
                  '</clone>'),
    ("resources", '<primitive id="exp-d" class="ocf" provider="heartbeat" type="Dummy"/>'),
    ("constraints", f'<rsc_location id="exp-loc" rsc="exp-d" node="{NODES[0]}" score="-INFINITY"/>'),
]
STATEFUL = ('<clone id="exp-ms"><meta_attributes id="exp-ms-meta"><nvpair id="exp-ms-p" name="promotable" '
            'value="true"/></meta_attributes><primitive id="exp-st" class="ocf" provider="pacemaker" '
            'type="Stateful"><operations><op id="exp-st-p" name="monitor" interval="10s" role="Promoted"/>'
            '<op id="exp-st-u" name="monitor" interval="11s" role="Unpromoted"/></operations></primitive></clone>')


@pytest.fixture(scope="module")
def rich(lab) -> ClientLab:
    lab.ok(tool("crm_attribute"), "-n", "stonith-enabled", "-v", "false")
    lab.ok(tool("crm_attribute"), "-t", "nodes", "-N", NODES[0], "-n", "standby", "-v", "off")  # crmsh's standby
    for scope, xml in RICH:
        lab.ok(tool("cibadmin"), "-C", "-o", scope, "-X", xml)
    if os.access("/usr/lib/ocf/resource.d/pacemaker/Stateful", os.X_OK):
        lab.ok(tool("cibadmin"), "-C", "-o", "resources", "-X", STATEFUL)
    until(lambda: all(r["active_on"] for r, _, clone in primitives(lab.status()["resources"])
                      if r["id"].startswith(("exp-g", "exp-cl", "exp-st"))),
          "the group and clones started", PATIENCE * 2, POLL)
    return lab


def lab_exporters(lab) -> list[str]:
    """Paceline's own node exporters, where the lab runs them (``NODE/exporter  URL`` in lab status)."""
    text = lab.ok("paceline", "lab", "status", "--dir", str(lab.dir))
    return re.findall(r"/exporter\s+(http://\S+/metrics)", text)


def test_ha_cluster_exporter_serves_what_the_cluster_status_says(rich, exporter):
    lab = rich

    def agrees() -> bool:
        served, expected = scrape(exporter), expected_from_status(lab.status())
        assert {k: served.get(k) for k in expected} == expected
        return True

    until(agrees, "ha_cluster_exporter's node and resource series match paceline status", PATIENCE * 2, 1.0)


def test_ha_cluster_exporter_serves_the_same_series_as_the_node_exporter(rich, exporter):
    """Every ``ha_cluster_pacemaker_*`` series ha_cluster_exporter serves (nodes, resources, fail counts, migration
    thresholds, location constraints, node attributes, stonith, config last change), the same from each
    node's exporter."""
    ours = lab_exporters(rich)
    if not ours:
        pytest.skip("the lab runs no Paceline node exporter yet; compared with paceline status only")

    def same() -> bool:
        theirs = scrape(exporter, ())
        names = tuple({name for name, _ in theirs})      # Paceline serves more (maintenance mode...): not compared
        for url in ours:
            assert scrape(url, names) == theirs
        return bool(theirs)

    until(same, "both exporters serve the same ha_cluster_pacemaker_* series", PATIENCE * 2, 1.0)
