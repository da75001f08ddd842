"""The node exporter's pure parts: ha_cluster_exporter's series from a CIB and a membership view, the text
format, and the merge of the node's services' own metrics.

The CIB ``exporter_cases/lab.xml`` was read from a running lab with a group, a clone, a promotable clone, a
resource failed and blocked (``on-fail=block``) and location constraints of +INFINITY, -INFINITY and 100.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import math
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import structlog
import yaml
from paceline.membership import exporter, exposition, node_exporter
from paceline.membership.quorum import QuorumState
from paceline.membership.view import MembershipView
from paceline.shared import cib
from paceline.shared.cluster import crm_mon
from paceline.shared.subjects import Subjects

from tests.support import hacluster_metrics as ref

CASES = Path(__file__).parent / "exporter_cases"
LAB_CIB = CASES / "lab.xml"
NODE_IDS = {"n1": "1", "n2": "2", "n3": "3"}


def lab_view(node: str = "n1", members: tuple[str, ...] = ("n1", "n2", "n3")) -> MembershipView:
    quorum = QuorumState(quorate=True, total_votes=len(members), expected_votes=3, quorum=2)
    return MembershipView(node=node, incarnation="x", ring_id=12, members=members, quorum=quorum, dc="n2")


def node_output(root: cib.Element, view: MembershipView) -> str:
    """What a node exporter of the lab serves of ha_cluster_exporter's series (with a watchdog)."""
    families = exporter.pacemaker_families(root, time.time(), dc=view.dc)
    families += exporter.corosync_families(view, NODE_IDS, exporter.Ring("127.0.0.1", True),
                                           [(m, 1) for m in view.members])
    families += exporter.sbd_families("/var/lib/paceline/watchdog.sock", True, 5.0, 10.0)
    return exposition.render(families)


@pytest.fixture(scope="module")
def lab_root() -> cib.Element:
    return cib.parse_cib(LAB_CIB.read_text())


# ---------------------------------------------------------------- the reference exposition

def test_every_reference_series_with_an_equivalent_follows_it(lab_root, shared_dir):
    reference, reference_types = ref.reference(Path(shared_dir))
    ours, types = ref.parse(node_output(lab_root, lab_view()))
    assert ref.compare(ours, types, reference, reference_types) == []
    assert ref.coverage(ours) == []


def test_the_table_of_series_without_equivalent_is_short_and_each_is_absent(lab_root, shared_dir):
    reference, _ = ref.reference(Path(shared_dir))
    ours, _ = ref.parse(node_output(lab_root, lab_view()))
    assert len(ref.NO_EQUIVALENT) <= 4
    for absent in ref.NO_EQUIVALENT:
        assert absent.why
        assert any(absent.matches(labels) for labels, _ in reference[absent.family])
        assert not any(absent.matches(labels) for labels, _ in ours.get(absent.family, []))


def test_a_wrong_convention_is_caught(lab_root, shared_dir):
    """The comparison can fail: a resource line with a status missing, a label renamed, a family left out."""
    reference, reference_types = ref.reference(Path(shared_dir))
    ours, types = ref.parse(node_output(lab_root, lab_view()))
    broken = dict(ours)
    broken["ha_cluster_pacemaker_resources"] = [s for s in ours["ha_cluster_pacemaker_resources"]
                                                if s[0]["status"] != "orphaned"]
    broken["ha_cluster_pacemaker_nodes"] = [({**labels, "kind": labels["type"]}, v)
                                            for labels, v in ours["ha_cluster_pacemaker_nodes"]]
    del broken["ha_cluster_corosync_quorate"]
    problems = ref.compare(broken, types, reference, reference_types)
    assert any(p.startswith("ha_cluster_pacemaker_resources:") for p in problems)
    assert any(p.startswith("ha_cluster_pacemaker_nodes: label names") for p in problems)
    assert "ha_cluster_corosync_quorate: missing" in problems


# ---------------------------------------------------------------- values, from the lab's CIB

def samples_of(root: cib.Element, family: str, view: MembershipView | None = None) -> list[tuple[dict, float]]:
    ours, _ = ref.parse(node_output(root, view or lab_view()))
    return ours.get(family, [])


def value(root: cib.Element, family: str, **labels: str) -> float:
    found = [v for lab, v in samples_of(root, family) if all(lab.get(k) == x for k, x in labels.items())]
    assert len(found) == 1, (family, labels, found)
    return found[0]


def test_nodes_one_line_per_status_and_the_dc_from_the_membership(lab_root):
    assert value(lab_root, "ha_cluster_pacemaker_nodes", node="n2", status="dc") == 1
    assert value(lab_root, "ha_cluster_pacemaker_nodes", node="n1", status="dc") == 0
    assert value(lab_root, "ha_cluster_pacemaker_nodes", node="n3", status="online") == 1
    assert value(lab_root, "ha_cluster_pacemaker_nodes", node="n3", status="standby") == 0


def test_resources_as_crm_mon_lists_them(lab_root):
    active = {(lab["resource"], lab["node"], lab["role"], lab["group"], lab["clone"])
              for lab, v in samples_of(lab_root, "ha_cluster_pacemaker_resources")
              if lab["status"] == "active" and v == 1}
    assert {("g-ip", "n1", "started", "g", ""), ("g-app", "n1", "started", "g", ""),
            ("cl-d", "n3", "started", "", "c-cl"), ("st", "n1", "promoted", "", "ms-st"),
            ("st", "n2", "unpromoted", "", "ms-st"), ("broken", "n2", "started", "", "")} <= active
    assert value(lab_root, "ha_cluster_pacemaker_resources", resource="broken", status="failed") == 1
    assert value(lab_root, "ha_cluster_pacemaker_resources", resource="broken", status="blocked") == 1
    assert value(lab_root, "ha_cluster_pacemaker_resources", resource="st", role="stopped", status="active") == 0


def test_fail_counts_thresholds_and_scores(lab_root):
    assert value(lab_root, "ha_cluster_pacemaker_fail_count", node="n2", resource="broken") == 2
    assert value(lab_root, "ha_cluster_pacemaker_migration_threshold", node="n2", resource="broken") == 1_000_000
    assert value(lab_root, "ha_cluster_pacemaker_location_constraints", constraint="ban-st-n3") == -math.inf
    assert value(lab_root, "ha_cluster_pacemaker_location_constraints", constraint="prefer-broken") == math.inf
    assert value(lab_root, "ha_cluster_pacemaker_location_constraints", constraint="prefer-g") == 100


def test_corosync_from_the_view(lab_root):
    view = lab_view(node="n3", members=("n1", "n3"))
    ours, _ = ref.parse(node_output(lab_root, view))
    assert ours["ha_cluster_corosync_quorate"] == [({}, 1.0)]
    votes = {lab["type"]: v for lab, v in ours["ha_cluster_corosync_quorum_votes"]}
    assert votes == {"expected_votes": 3, "highest_expected": 3, "total_votes": 2, "quorum": 2}
    members = {(lab["node"], lab["node_id"], lab["local"]) for lab, _ in ours["ha_cluster_corosync_member_votes"]}
    assert members == {("n1", "1", "false"), ("n3", "3", "true")}
    assert ours["ha_cluster_corosync_rings"] == [
        ({"address": "127.0.0.1", "node_id": "3", "number": "0", "ring_id": "1/12"}, 1.0)]
    down = exporter.corosync_families(view, NODE_IDS, exporter.Ring("127.0.0.1", False), [])
    text = exposition.render(down)
    assert "ha_cluster_corosync_ring_errors 1\n" in text


def test_msgwait_is_the_stonith_watchdog_timeout(lab_root):
    assert exporter.msgwait_seconds(lab_root, time.time()) == 4.0
    families = exporter.sbd_families("/x/watchdog.sock", False, 2.0, None)
    assert exposition.render(families).splitlines()[2:] == [
        'ha_cluster_sbd_devices{device="/x/watchdog.sock",status="unhealthy"} 1',
        "# HELP ha_cluster_sbd_timeouts SBD timeouts for each device and type",
        "# TYPE ha_cluster_sbd_timeouts gauge",
        'ha_cluster_sbd_timeouts{device="/x/watchdog.sock",type="watchdog"} 2']


# ---------------------------------------------------------------- the text format and the merge

def test_render_spells_values_and_escapes_labels_as_the_go_client():
    family = exposition.Family("x", "help", "counter")
    family.add(math.inf, b="2", a='q"\\\n')
    family.add(1.5)
    family.add(1796590827)
    empty = exposition.Family("y", "nothing")
    assert exposition.render([family, empty]) == (
        '# HELP x help\n# TYPE x counter\nx{a="q\\"\\\\\\n",b="2"} +Inf\nx 1.5\nx 1796590827\n')


def test_merge_joins_families_and_labels_each_service():
    membership = ('# HELP paceline_up up\n# TYPE paceline_up gauge\npaceline_up{service="membership"} 1.0\n'
                  "# HELP process_open_fds fds\n# TYPE process_open_fds gauge\nprocess_open_fds 10.0\n")
    policy = ('# HELP paceline_up up\n# TYPE paceline_up gauge\npaceline_up{service="policy"} 1.0\n'
              "# HELP process_open_fds fds\n# TYPE process_open_fds gauge\nprocess_open_fds 12.0\n"
              "# HELP h a histogram\n# TYPE h histogram\n"
              'h_bucket{le="1.0"} 1.0\nh_bucket{le="+Inf"} 1.0\nh_count 1.0\nh_sum 0.5\n')
    merged = exposition.merge([("membership", membership), ("policy", policy)])
    assert merged == (
        "# HELP paceline_up up\n# TYPE paceline_up gauge\n"
        'paceline_up{service="membership"} 1.0\npaceline_up{service="policy"} 1.0\n'
        "# HELP process_open_fds fds\n# TYPE process_open_fds gauge\n"
        'process_open_fds{service="membership"} 10.0\nprocess_open_fds{service="policy"} 12.0\n'
        "# HELP h a histogram\n# TYPE h histogram\n"
        'h_bucket{service="policy",le="1.0"} 1.0\nh_bucket{service="policy",le="+Inf"} 1.0\n'
        'h_count{service="policy"} 1.0\nh_sum{service="policy"} 0.5\n')
    names = [line.split()[2] for line in merged.splitlines() if line.startswith("# TYPE")]
    assert len(names) == len(set(names))


# ---------------------------------------------------------------- against the real ha_cluster_exporter

#: CIBs where Paceline's series must equal the real exporter's (reading real crm_mon on the CIB file): the lab's,
#: and Pacemaker cases with clones, groups, promotable clones, failures, standby and unclean nodes.
ORACLE_CASES = ["1360", "group10", "anti-colocation-order", "rec-node-10", "rec-node-4", "a-demote-then-b-migrate",
                "bug-cl-5213", "bug-lf-2493", "clone-no-shuffle", "1484", "failed-probe-primitive",
                "group-colocation-failure", "colocation-vs-stickiness"]
@pytest.mark.parametrize("case", ["lab", *ORACLE_CASES])
def test_same_pacemaker_series_as_the_real_exporter(case, shared_dir, tmp_path, monkeypatch):
    ref.require_real_exporter()
    source = LAB_CIB if case == "lab" else Path(shared_dir) / "pacemaker-cases" / "xml" / f"{case}.xml"
    # The shared cases use Pacemaker 3's option names (fencing-*), which Debian's Pacemaker 2.1 does not know;
    # Paceline reads both, so both read the 2.1 names.
    cib_file = tmp_path / "cib.xml"
    cib_file.write_text(source.read_text().replace('name="fencing-', 'name="stonith-'))
    monkeypatch.setenv("TZ", "UTC")  # the exporter reads crm_mon's local "last change" as UTC
    time.tzset()
    try:
        theirs = ref.pacemaker_samples(ref.real_exporter_output(cib_file))
        ours = ref.pacemaker_samples(exposition.render(exporter.pacemaker_families(
            cib.parse_cib(cib_file.read_text()), time.time())))
    finally:
        monkeypatch.undo()
        time.tzset()
    assert theirs, "the real exporter reported no pacemaker series"
    assert sorted(set(theirs) - set(ours)) == []
    assert sorted(set(ours) - set(theirs)) == []
    assert {k: (theirs[k], ours[k]) for k in theirs if theirs[k] != ours[k]} == {}


def test_without_a_dc_no_node_is_dc_and_without_a_view_the_cib_names_it(lab_root):
    elected = [lab for lab, v in samples_of(lab_root, "ha_cluster_pacemaker_nodes", lab_view())
              if lab["status"] == "dc" and v == 1]
    assert [lab["node"] for lab in elected] == ["n2"]
    no_dc = MembershipView(node="n1", incarnation="x", ring_id=3, members=("n1",),
                           quorum=QuorumState(False, 1, 3, 2), dc="")
    assert not [lab for lab, v in samples_of(lab_root, "ha_cluster_pacemaker_nodes", no_dc)
                if lab["status"] == "dc" and v == 1]
    from_cib = exposition.render(exporter.pacemaker_families(lab_root, time.time()))
    assert f'ha_cluster_pacemaker_nodes{{node="{crm_mon.dc_name(lab_root)}",status="dc",type="member"}} 1' in from_cib


# ---------------------------------------------------------------- the endpoint (no bus: cut off from it)

class CutOff:
    """The one thing the endpoint asks a bus client when it is cut off: whether it is connected."""

    is_connected = False
    connected_url = None
    stats = {"reconnects": 2, "in_msgs": 5, "out_msgs": 7}


def _serve_text(text: str) -> tuple[Any, int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = text.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, int(server.server_address[1])


async def test_the_endpoint_serves_the_view_and_relays_the_services_when_cut_off_from_the_bus(tmp_path):
    policy, policy_port = _serve_text('# HELP paceline_policy_dc_term t\n# TYPE paceline_policy_dc_term gauge\n'
                                      'paceline_policy_dc_term{service="policy"} 7.0\n')
    (tmp_path / "policy.metrics-port").write_text(f"{policy_port}\n")
    (tmp_path / "executor.metrics-port").write_text(f"{ref.free_port()}\n")  # stopped: nothing answers there
    inputs = node_exporter.Inputs(view=lambda: lab_view(node="n3"), node_ids=lambda: NODE_IDS,
                                  votes=lambda: [("n1", 1), ("n2", 1), ("n3", 1)])
    log = structlog.get_logger()
    endpoint = node_exporter.NodeExporter(CutOff(), Subjects("lab"), "nats://127.0.0.1:4222", tmp_path,  # type: ignore[arg-type]
                                          inputs, log)
    port = endpoint.start("127.0.0.1", 0)
    assert port
    try:
        busy = node_exporter.NodeExporter(CutOff(), Subjects("lab"), "", tmp_path, inputs, log)  # type: ignore[arg-type]
        assert busy.start("127.0.0.1", port) is None  # taken: logged, and the node runs on without it
        assert busy.start("127.0.0.1", -1) is None and busy.start("", 9664) is None  # disabled

        def get(path: str) -> tuple[int, str]:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as reply:
                    return reply.status, reply.read().decode()
            except urllib.error.HTTPError as exc:
                return exc.code, ""

        status, text = await asyncio.to_thread(get, "/metrics")
        assert status == 200
        samples, _ = ref.parse(text)
        assert samples["ha_cluster_scrape_success"] == [({"collector": "pacemaker"}, 0.0),
                                                        ({"collector": "corosync"}, 1.0)]
        assert "ha_cluster_pacemaker_nodes" not in samples  # no CIB: nothing rather than something stale
        assert samples["ha_cluster_corosync_ring_errors"] == [({}, 1.0)]
        assert samples["ha_cluster_corosync_rings"][0][0]["address"] == "127.0.0.1"
        assert samples["paceline_bus_connected"] == [({}, 0.0)]
        assert samples["paceline_bus_reconnects_total"] == [({}, 2.0)]
        assert samples["paceline_jetstream_up"] == [({}, 0.0)]
        # relayed from the policy's endpoint (the test process's own registry, served as membership's, may hold
        # the same family from in-process services of other tests)
        assert ({"service": "policy"}, 7.0) in samples["paceline_policy_dc_term"]
        assert dict((lab["service"], v) for lab, v in samples["paceline_exporter_service_up"]) == {
            "executor": 0.0, "policy": 1.0}
        assert (await asyncio.to_thread(get, "/"))[0] == 200
        assert (await asyncio.to_thread(get, "/other"))[0] == 404
    finally:
        endpoint.stop()
        policy.shutdown()
        policy.server_close()


# ---------------------------------------------------------------- deploy/

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_the_deploy_prometheus_configuration_is_valid_and_scrapes_9664():
    if shutil.which("promtool") is None:
        pytest.skip("needs promtool (Debian's prometheus package) to check the configuration")
    done = subprocess.run(["promtool", "check", "config", str(DEPLOY / "prometheus" / "prometheus.yml")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = [t for job in config["scrape_configs"] for group in job["static_configs"] for t in group["targets"]]
    assert any(t.endswith(":9664") for t in targets) and any(t.endswith(":9100") for t in targets)


def test_the_grafana_provisioning_names_every_dashboard_folder():
    provisioning = DEPLOY / "grafana" / "provisioning"
    providers = yaml.safe_load((provisioning / "dashboards" / "paceline.yaml").read_text())["providers"]
    folders = {Path(p["options"]["path"]).name for p in providers}
    assert folders == {d.name for d in (provisioning / "dashboards").iterdir() if d.is_dir()}
    for folder in folders:
        for path in (provisioning / "dashboards" / folder).glob("*.json"):
            assert json.loads(path.read_text())["panels"], path
    sources = yaml.safe_load((provisioning / "datasources" / "prometheus.yaml").read_text())["datasources"]
    assert [s["type"] for s in sources] == ["prometheus"]
