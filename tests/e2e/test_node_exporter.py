"""The node exporter on a running lab, and monitoring out of the box: a real Prometheus scraping the lab's node
exporters with the scrape configuration in deploy/prometheus, and every PromQL query of the ClusterLabs Grafana
dashboards (deploy/grafana, unmodified) and of Paceline's own dashboard answered with data.

One lab for the module: three nodes (so each runs a watchdog, ha_cluster_sbd_*), with a group, a clone, a
promotable clone, a resource failed and blocked (``on-fail=block``, its state file removed under it) and location
constraints of 100, +INFINITY and -INFINITY.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from paceline.lab.lab import Lab
from paceline.shared import bus
from paceline.shared.messages import CibDocument, CibQuery
from paceline.shared.subjects import Subjects

from tests.e2e.cli_helpers import dc_of
from tests.e2e.conftest import PATIENCE, LabRunner, running_lab
from tests.support import hacluster_metrics as ref
from tests.support.wait import until

pytestmark = pytest.mark.e2e

NODES = ("n1", "n2", "n3")
ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DASHBOARDS = DEPLOY / "grafana" / "provisioning" / "dashboards"
CLUSTERLABS = sorted((DASHBOARDS / "clusterlabs").glob("*.json"))
OWN_DASHBOARD = DASHBOARDS / "paceline" / "paceline.json"
PROMETHEUS = "/usr/bin/prometheus"
NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"


def ok(lab: LabRunner, *words: str) -> str:
    done = lab.paceline(*words)
    assert done.returncode == 0, f"paceline {' '.join(words)}: {done.stdout}{done.stderr}"
    return done.stdout


def scrape(address: str) -> str:
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=20) as reply:
        return str(reply.read().decode())


def exporters(lab: LabRunner) -> dict[str, str]:
    return dict(json.loads((lab.dir / "lab.json").read_text())["exporters"])


def resource_flag(text: str, resource: str, status: str) -> float | None:
    samples, _ = ref.parse(text)
    found = [v for labels, v in samples.get("ha_cluster_pacemaker_resources", [])
             if labels["resource"] == resource and labels["status"] == status]
    return found[0] if found else None


@pytest.fixture(scope="module")
def xlab(tmp_path_factory) -> Iterator[LabRunner]:
    with running_lab(LabRunner(tmp_path_factory.mktemp("exporter-lab")), NODES) as lab:
        for words in (
                ("primitive", "g-ip", "ocf:paceline:Dummy", "op", "monitor", "interval=2s"),
                ("primitive", "g-app", "ocf:paceline:Dummy", "op", "monitor", "interval=2s"),
                ("group", "g", "g-ip", "g-app"),
                ("location", "prefer-g", "g", "100: n1"),
                ("primitive", "cl-d", "ocf:paceline:Dummy", "op", "monitor", "interval=2s"),
                ("clone", "c-cl", "cl-d"),
                ("primitive", "st", "ocf:paceline:Stateful", "op", "monitor", "interval=2s", "role=Promoted",
                 "op", "monitor", "interval=3s", "role=Unpromoted"),
                ("ms", "ms-st", "st"),
                ("location", "ban-st-n3", "ms-st", "-inf: n3"),
                ("primitive", "broken", "ocf:paceline:Dummy", "op", "monitor", "interval=1s", "on-fail=block"),
                ("location", "prefer-broken", "broken", "inf: n2")):
            ok(lab, "configure", *words)
        n1 = exporters(lab)["n1"]
        state = lab.dir / "nodes" / "n2" / "run" / "Dummy-broken.state"
        until(lambda: state.exists() and resource_flag(scrape(n1), "broken", "active") == 1, "broken runs on n2",
              PATIENCE, 0.5)
        state.unlink()
        until(lambda: resource_flag(scrape(n1), "broken", "failed") == 1, "broken failed and blocked", PATIENCE, 0.5)

        def settled() -> bool:
            text = scrape(n1)
            return not ref.coverage(ref.parse(text)[0]) and 'role="starting"' not in text
        until(settled, "the promotable clone promoted and every kind of series shown", PATIENCE, 0.5)
        yield lab


# ---------------------------------------------------------------- the node exporter itself

def test_every_node_serves_the_reference_series_and_the_same_cluster_series(xlab, shared_dir):
    reference, reference_types = ref.reference(Path(shared_dir))
    cluster_views = {}
    for node, address in exporters(xlab).items():
        text = scrape(address)
        ours, types = ref.parse(text)
        assert ref.compare(ours, types, reference, reference_types) == [], node
        assert ref.coverage(ours) == [], node
        local = [labels["node"] for labels, _ in ours["ha_cluster_corosync_member_votes"] if labels["local"] == "true"]
        assert local == [node]
        cluster_views[node] = {(name, tuple(sorted(labels.items())), v) for name, rows in ours.items()
                               if name.startswith("ha_cluster_pacemaker_") for labels, v in rows}
    assert cluster_views["n1"] == cluster_views["n2"] == cluster_views["n3"]


def test_one_scrape_carries_every_service_of_the_node(xlab):
    text = scrape(exporters(xlab)["n2"])
    samples, _ = ref.parse(text)
    up = {labels["service"]: v for labels, v in samples["paceline_up"]}
    assert up == {"membership": 1, "executor": 1, "policy": 1, "cib-store": 1, "gateway": 1}
    assert {labels["service"] for labels, v in samples["paceline_exporter_service_up"] if v == 1} == {
        "executor", "policy", "cib-store", "gateway"}
    assert samples["paceline_jetstream_up"] == [({}, 1.0)]
    assert samples["paceline_bus_connected"] == [({}, 1.0)]
    assert "paceline_policy_dc_term" in samples and "paceline_executor_operation_duration_seconds_bucket" in samples
    names = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")]
    assert len(names) == len(set(names)), "a family declared twice"


def test_the_real_exporter_on_the_labs_cib_reports_the_same_pacemaker_series(xlab, tmp_path, monkeypatch):
    """Debian's ha_cluster_exporter with Pacemaker's crm_mon and cibadmin reading the lab's CIB (a file, read
    from the cib-store) reports the pacemaker series the node exporter serves."""
    ref.require_real_exporter()

    async def read_cib() -> str:
        lab = Lab.load(xlab.dir)
        nc = await lab.connect()
        try:
            reply = await bus.call(nc, Subjects(lab.cluster).cib("query"), CibQuery(), CibDocument)
            return reply.xml
        finally:
            await nc.close()

    monkeypatch.setenv("TZ", "UTC")  # the real exporter reads crm_mon's local "last change" as UTC
    time.tzset()
    try:
        def same() -> bool:
            (tmp_path / "cib.xml").write_text(asyncio.run(read_cib()))
            theirs = ref.pacemaker_samples(ref.real_exporter_output(tmp_path / "cib.xml"))
            ours = ref.pacemaker_samples(scrape(exporters(xlab)["n3"]))
            assert theirs == ours, (sorted(set(theirs) ^ set(ours)),
                                    {k: (v, ours[k]) for k, v in theirs.items() if k in ours and ours[k] != v})
            return True
        until(same, "both exporters agree on the same CIB", PATIENCE, 1.0)  # a monitor may land in between
    finally:
        monkeypatch.undo()
        time.tzset()


def test_lab_status_names_each_node_exporter(xlab):
    text = ok(xlab, "lab", "status", "--dir", str(xlab.dir))
    for node, address in exporters(xlab).items():
        assert f"{node}/exporter" in text and f"http://{address}/metrics" in text
    assert len(set(exporters(xlab).values())) == len(NODES)


# ---------------------------------------------------------------- a real Prometheus and the dashboards

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prometheus_config(cluster: str, targets: list[str], node_exporter: str | None) -> dict[str, Any]:
    """deploy/prometheus/prometheus.yml for this lab: its job named after the cluster, the lab's exporters as
    targets, a fast scrape. The node_exporter keeps its usual address in ``instance`` (":9100", which the
    multi-cluster dashboard selects on), whatever port it has here."""
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    job = config["scrape_configs"][0]
    job["job_name"] = cluster
    paceline, node = job["static_configs"]
    assert paceline["labels"] == {"exporter": "paceline"} and node["labels"] == {"exporter": "node"}
    paceline["targets"] = targets
    job["static_configs"] = [paceline]
    if node_exporter is not None:
        node["targets"] = [node_exporter]
        job["static_configs"].append(node)
        job["relabel_configs"] = [{"source_labels": ["exporter"], "regex": "node", "target_label": "instance",
                                   "replacement": "127.0.0.1:9100"}]
    return config


class Prometheus:
    def __init__(self, address: str):
        self.address = address

    def query(self, expr: str) -> list[dict[str, Any]]:
        url = f"http://{self.address}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(url, timeout=20) as reply:
            body = json.loads(reply.read().decode())
        assert body["status"] == "success", (expr, body)
        return list(body["data"]["result"])


@pytest.fixture(scope="module")
def prometheus(xlab, tmp_path_factory) -> Iterator[Prometheus]:
    if not Path(PROMETHEUS).exists():
        pytest.skip(f"needs a real Prometheus: Debian's prometheus package ({PROMETHEUS} not found; "
                    "apt-get install prometheus)")
    work = tmp_path_factory.mktemp("prometheus")
    procs: list[subprocess.Popen] = []
    node_exporter = None
    if Path(NODE_EXPORTER).exists():
        node_exporter = f"127.0.0.1:{_free_port()}"
        procs.append(subprocess.Popen([NODE_EXPORTER, f"--web.listen-address={node_exporter}"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    lab = Lab.load(xlab.dir)
    config = prometheus_config(lab.cluster, list(exporters(xlab).values()), node_exporter)
    (work / "prometheus.yml").write_text(yaml.safe_dump(config))
    address = f"127.0.0.1:{_free_port()}"
    with open(work / "prometheus.log", "wb") as log:
        procs.append(subprocess.Popen([PROMETHEUS, f"--config.file={work / 'prometheus.yml'}",
                                       f"--storage.tsdb.path={work / 'data'}", f"--web.listen-address={address}"],
                                      stdout=log, stderr=subprocess.STDOUT))
    try:
        server = Prometheus(address)
        targets = len(config["scrape_configs"][0]["static_configs"][0]["targets"]) + (1 if node_exporter else 0)

        def scraping() -> bool:
            if procs[-1].poll() is not None:
                pytest.fail(f"prometheus exited: {(work / 'prometheus.log').read_text()[-2000:]}")
            try:
                server.query("1")
            except OSError:
                return False  # not listening yet
            up = server.query(f'count_over_time(up{{job="{lab.cluster}"}}[1m]) >= 5')
            return len(up) == targets and all(s["value"][1] != "0" for s in server.query(f'up{{job="{lab.cluster}"}}'))
        until(scraping, "Prometheus scraped every target five times", 60, 0.5)
        yield server
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(20)


def dashboard_queries(path: Path) -> list[tuple[str, str]]:
    """(panel title, expr) of every target of every panel, rows' nested panels included."""
    def walk(panels: list[dict[str, Any]]) -> Iterator[tuple[str, str]]:
        for panel in panels:
            for target in panel.get("targets", []):
                if target.get("expr"):
                    yield panel.get("title", ""), target["expr"]
            yield from walk(panel.get("panels", []))
    return list(walk(json.loads(path.read_text())["panels"]))


def substitute(expr: str, variables: dict[str, str]) -> str:
    for name in sorted(variables, key=len, reverse=True):
        expr = expr.replace(f"${{{name}}}", variables[name]).replace(f"${name}", variables[name])
    return expr


#: Queries of the ClusterLabs dashboards that cannot return data on a Paceline lab, and why. Each is checked
#: empty; every other query must return data.
WITHOUT_DATA = {
    'node_systemd_unit_state{name=~"((corosync|pacemaker|sbd|prometheus|hawk).*)", state="active"}':
        "node_exporter's systemd collector (off by default) on units named corosync, pacemaker, sbd, hawk: "
        "Paceline's units are paceline-*.service, and this machine runs no systemd",
}
#: Without Debian's prometheus-node-exporter, the host panels (node_* series) have nothing to show.
NEEDS_NODE_EXPORTER = "needs prometheus-node-exporter (host panels: node_* series)"


def variables(prometheus: Prometheus, xlab: LabRunner) -> dict[str, str]:
    """The dashboards' template variables: ``cluster`` is a ``job`` (label_values(job)); ``dc_instance`` the DC's
    exporter instance (the dashboard finds it by joining the DC's node name and IP with node_exporter's
    node_uname_info: a lab's nodes share one machine, one IP and one host name, so it is taken from the lab)."""
    cluster = Lab.load(xlab.dir).cluster
    dc = prometheus.query(f'ha_cluster_pacemaker_nodes{{job="{cluster}",status="dc"}} == 1')
    assert dc, "no DC in the scraped series"
    return {"cluster": cluster, "dc_instance": exporters(xlab)[dc[0]["metric"]["node"]],
            "__interval": "15s", "__rate_interval": "1m", "__range": "1h", "__range_s": "3600"}


def check_queries(prometheus: Prometheus, path: Path, names: dict[str, str],
                  allowed_empty: dict[str, str]) -> dict[str, str]:
    """Every query of the dashboard; returns the empty ones that the table allows (asserting the others)."""
    empty: dict[str, str] = {}
    for title, expr in dashboard_queries(path):
        result = prometheus.query(substitute(expr, names))
        reasons = [why for fragment, why in allowed_empty.items() if fragment in expr]
        if reasons:
            assert not result, f"{path.name} {title!r}: listed as without data, but it has some: {expr}"
            empty[expr] = reasons[0]
        else:
            assert result, f"{path.name} {title!r}: no data for {substitute(expr, names)}"
    return empty


def test_the_deploy_files_are_the_clusterlabs_dashboards_unmodified(shared_dir):
    upstream = Path(shared_dir) / "ecosystem" / "ha_cluster_exporter"
    assert [p.name for p in CLUSTERLABS] == ["grafana-ha-cluster-details.json", "grafana-multi-cluster-overview.json"]
    for path in CLUSTERLABS:
        assert path.read_bytes() == (upstream / "dashboards" / path.name).read_bytes()
    assert (DASHBOARDS / "clusterlabs" / "LICENSE").read_bytes() == (upstream / "LICENSE").read_bytes()


def test_every_clusterlabs_dashboard_query_returns_data(xlab, prometheus):
    names = variables(prometheus, xlab)
    allowed = dict(WITHOUT_DATA)
    if not Path(NODE_EXPORTER).exists():
        allowed.update({"node_": NEEDS_NODE_EXPORTER, 'up{instance=~".*:9100"}': NEEDS_NODE_EXPORTER})
    empty: dict[str, str] = {}
    for path in CLUSTERLABS:
        empty |= check_queries(prometheus, path, names, allowed)
    total = sum(len(dashboard_queries(p)) for p in CLUSTERLABS)
    assert total == 37
    assert len(empty) <= (1 if Path(NODE_EXPORTER).exists() else 12), empty


def provoke_a_dc_change(lab: LabRunner) -> None:
    """Hang the DC's policy (SIGSTOP) until its membership withdraws the node's candidacy and the view elects
    another node, then let it go on: it steps down, as a DC that hung does, and counts it
    (``paceline_policy_dc_stepdowns_total{reason="elected"}``). Whether the lab's start-up made a DC change is
    a matter of timing; the "DC changes" panel must have one to show."""
    dc = dc_of(lab)
    pid = Lab.load(lab.dir).procs[f"{dc}/policy"]
    os.kill(pid, signal.SIGSTOP)
    try:
        until(lambda: dc_of(lab) != dc, f"another DC than {dc}, whose policy hangs", PATIENCE, 0.5)
    finally:
        os.kill(pid, signal.SIGCONT)


def test_every_paceline_dashboard_query_returns_data(xlab, prometheus):
    cluster = Lab.load(xlab.dir).cluster
    provoke_a_dc_change(xlab)
    until(lambda: prometheus.query(f'sum(paceline_policy_dc_stepdowns_total{{job="{cluster}"}}) > 0'),
          "Prometheus scraped the former DC's step-down", PATIENCE, 0.5)
    # Malformed messages are counted when they happen: send one, as a broken client would.
    async def send_garbage() -> None:
        lab = Lab.load(xlab.dir)
        nc = await lab.connect()
        try:
            with contextlib.suppress(Exception):  # the error reply (or none): only the count matters here
                await nc.request(Subjects(lab.cluster).cib("query"), b"\xc1 not msgpack", timeout=5)
        finally:
            await nc.close()
    asyncio.run(send_garbage())
    until(lambda: prometheus.query(f'count_over_time(paceline_malformed_messages_total{{job="{cluster}"}}[1m]) >= 2'),
          "Prometheus scraped the malformed message's count twice", PATIENCE, 0.5)
    # And a transition while Prometheus watches, so that the timing panels have one to measure.
    ok(xlab, "configure", "primitive", "late", "ocf:paceline:Dummy")
    until(lambda: prometheus.query(f'sum(increase(paceline_policy_transition_duration_seconds_count{{job="{cluster}"}}'
                                   f'[1h])) > 0'), "Prometheus saw a transition", PATIENCE, 0.5)
    names = variables(prometheus, xlab)
    queries = dashboard_queries(OWN_DASHBOARD)
    assert len(queries) >= 20
    assert check_queries(prometheus, OWN_DASHBOARD, names, {}) == {}
    mean = prometheus.query(substitute(next(e for t, e in queries if t == "Mean transition time"), names))
    assert all(math.isfinite(float(s["value"][1])) for s in mean)


def test_prometheus_sees_the_cluster_as_the_lab_is(xlab, prometheus):
    cluster = Lab.load(xlab.dir).cluster
    online = prometheus.query(
        f'count(count by (node) (ha_cluster_pacemaker_nodes{{job="{cluster}",status="online"}} == 1))')
    assert online[0]["value"][1] == str(len(NODES))
    failed = prometheus.query(f'ha_cluster_pacemaker_resources{{job="{cluster}",status="failed"}} == 1')
    assert {s["metric"]["resource"] for s in failed} == {"broken"}
    assert prometheus.query(f'min(ha_cluster_corosync_quorate{{job="{cluster}"}})')[0]["value"][1] == "1"


def test_a_failover_is_timed_and_shown(xlab, prometheus):
    """Last in the module (it kills a node): n1 holds the group and the promoted instance; the survivors wait
    for its watchdog (``stonith-watchdog-timeout``) and recover them. The DC times the failover, the dashboard's
    failover panels show it, and the ha_cluster series show the node gone and the resources moved."""
    cluster = Lab.load(xlab.dir).cluster
    timeouts = ref.parse(scrape(exporters(xlab)["n2"]))[0]["ha_cluster_sbd_timeouts"]
    msgwait = next(v for labels, v in timeouts if labels["type"] == "msgwait")
    ok(xlab, "lab", "kill", "n1", "--dir", str(xlab.dir))
    n2 = exporters(xlab)["n2"]

    def moved() -> bool:
        samples, _ = ref.parse(scrape(n2))
        online = {labels["node"]: v for labels, v in samples["ha_cluster_pacemaker_nodes"]
                  if labels["status"] == "online"}
        active = {(labels["resource"], labels["role"]) for labels, v in samples["ha_cluster_pacemaker_resources"]
                  if labels["status"] == "active" and v == 1 and labels["node"] != "n1"}
        return online["n1"] == 0 and {("g-ip", "started"), ("st", "promoted")} <= active
    until(moved, "the group and the promoted instance run on the survivors", 90, 0.5)
    until(lambda: prometheus.query(f'sum(paceline_policy_recovery_duration_seconds_count{{job="{cluster}"}}) > 0'),
          "Prometheus has the DC's failover time", PATIENCE, 0.5)
    names = variables(prometheus, xlab)
    panels = dict(dashboard_queries(OWN_DASHBOARD))
    failovers = prometheus.query(substitute(panels["Failovers"], names))
    assert float(failovers[0]["value"][1]) >= 1
    mean = float(prometheus.query(substitute(panels["Failover time"], names))[0]["value"][1])
    assert msgwait <= mean < 90, f"a failover that waits {msgwait:g}s for the watchdog took {mean:g}s"
