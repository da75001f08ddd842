"""ha_cluster_exporter's reference exposition (its test/*.metrics) and the checks that Paceline's node exporter
follows it: the same metric names, label names and value conventions for every series Paceline has an
equivalent of, and a table of the series it has none of, each with the reason (and checked absent).

Used by the unit test (families computed from a CIB and a view) and the end-to-end test (a lab's
node exporter scraped over HTTP).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import socket
import subprocess
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.wait import until

Labels = dict[str, str]
Samples = dict[str, list[tuple[Labels, float]]]

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text: str) -> tuple[Samples, dict[str, str]]:
    """Samples by metric name and the ``# TYPE`` of each name, from Prometheus's text format."""
    samples: Samples = {}
    types: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            types[name] = kind.strip()
            continue
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m is not None, f"not a sample line: {line!r}"
        labels = {k: v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
                  for k, v in _LABEL.findall(m.group(2) or "")}
        samples.setdefault(m.group(1), []).append((labels, float(m.group(3))))
    return samples, types


def reference(shared: Path) -> tuple[Samples, dict[str, str]]:
    """The pacemaker, corosync and sbd samples of ha_cluster_exporter's test data."""
    text = "".join((shared / "ecosystem" / "ha_cluster_exporter" / "test" / f"{part}.metrics").read_text()
                   for part in ("pacemaker", "corosync", "sbd"))
    return parse(text)


@dataclass(frozen=True)
class Absent:
    """A reference series Paceline has no equivalent of: which (family and label values), and why."""

    family: str
    labels: Labels
    why: str

    def matches(self, labels: Labels) -> bool:
        return all(labels.get(k) == v for k, v in self.labels.items())


#: The reference series without a Paceline equivalent. Each is checked absent from Paceline's output.
NO_EQUIVALENT = [
    Absent("ha_cluster_corosync_member_votes", {"node": "Qdevice", "node_id": "0"},
           "a corosync quorum device (corosync-qdevice) votes here; Paceline has none: a two-node lab's witness "
           "keeps the bus's JetStream majority and has no vote"),
    Absent("ha_cluster_corosync_rings", {"number": "1"},
           "corosync's second (redundant) ring; Paceline has one ring, the node's bus connection (the NATS "
           "cluster's routes carry the redundancy)"),
    Absent("ha_cluster_sbd_devices", {"device": "/dev/vdd"},
           "a second shared SBD disk; Paceline's watchdog is diskless sbd's: one device, its watchdog socket"),
    Absent("ha_cluster_sbd_timeouts", {"device": "/dev/vdd"},
           "the timeouts of that second SBD disk (see ha_cluster_sbd_devices)"),
]

#: Label values spelled differently from the reference sample, with the reason: the sample was made with
#: Pacemaker 2.0's crm_mon; ha_cluster_exporter reports what crm_mon prints, and Pacemaker 2.1 (Debian's) prints
#: these. Paceline follows 2.1, so the values are the ones the exporter shows on a current cluster.
SPELLED = {
    ("ha_cluster_pacemaker_resources", "role", "master"): "promoted",
    ("ha_cluster_pacemaker_resources", "role", "slave"): "unpromoted",
}


def _binary(values: list[float]) -> bool:
    return all(v in (0.0, 1.0) for v in values)


def _per_entity(samples: list[tuple[Labels, float]], entity: tuple[str, ...], status_key: str,
                statuses: set[str]) -> list[str]:
    """Every entity (label values other than the status) has one 0/1 line per status."""
    problems = []
    seen: dict[tuple[str, ...], set[str]] = {}
    for labels, value in samples:
        key = tuple(labels.get(k, "") for k in entity)
        seen.setdefault(key, set()).add(labels[status_key])
        if value not in (0.0, 1.0):
            problems.append(f"{key} {labels[status_key]}={value}: not 0/1")
    for key, got in seen.items():
        if got != statuses:
            problems.append(f"{key}: statuses {sorted(got)}, expected {sorted(statuses)}")
    return problems


NODE_STATUSES = {"online", "standby", "standby_onfail", "maintenance", "pending", "unclean", "shutdown",
                 "expected_up", "dc"}
RESOURCE_STATUSES = {"active", "orphaned", "blocked", "failed", "failure_ignored"}
ROLES = {"started", "stopped", "promoted", "unpromoted", "starting", "stopping", "migrating", "promoting",
         "demoting"}


def _nodes(s: list[tuple[Labels, float]]) -> list[str]:
    problems = _per_entity(s, ("node", "type"), "status", NODE_STATUSES)
    problems += [f"type {labels['type']}" for labels, _ in s if labels["type"] not in ("member", "ping", "remote")]
    dcs = {labels["node"] for labels, v in s if labels["status"] == "dc" and v == 1}
    return problems + ([f"{len(dcs)} DCs"] if len(dcs) > 1 else [])


def _resources(s: list[tuple[Labels, float]]) -> list[str]:
    problems = _per_entity(s, ("node", "resource", "role", "agent", "group", "clone", "managed"), "status",
                           RESOURCE_STATUSES)
    for labels, _ in s:
        if labels["role"] not in ROLES:
            problems.append(f"role {labels['role']!r}")
        if labels["managed"] not in ("true", "false"):
            problems.append(f"managed {labels['managed']!r}")
        if (labels["node"] == "") != (labels["role"] == "stopped"):
            problems.append(f"{labels['resource']}: node {labels['node']!r} with role {labels['role']}")
    return problems


def _counts(s: list[tuple[Labels, float]]) -> list[str]:
    return [f"{labels}: {v}" for labels, v in s if not (v >= 0 and (math.isinf(v) or v == int(v)))]


def _thresholds(s: list[tuple[Labels, float]]) -> list[str]:
    return [f"{labels}: {v}" for labels, v in s if not (v >= 0 and v == int(v))]


def _scores(s: list[tuple[Labels, float]]) -> list[str]:
    return [f"{labels}: {v}" for labels, v in s
            if not (math.isinf(v) or v == int(v)) or labels["role"] != labels["role"].lower()]


def _ones(s: list[tuple[Labels, float]]) -> list[str]:
    return [f"{labels}: {v}" for labels, v in s if v != 1]


def _flag(s: list[tuple[Labels, float]]) -> list[str]:
    return [] if len(s) == 1 and _binary([v for _, v in s]) else [f"{s}: not one 0/1 line"]


def _timestamp(s: list[tuple[Labels, float]]) -> list[str]:
    return [] if len(s) == 1 and 1e9 < s[0][1] < 1e11 else [f"{s}: not a Unix time"]


def _quorum_votes(s: list[tuple[Labels, float]]) -> list[str]:
    kinds = sorted(labels["type"] for labels, _ in s)
    return [] if kinds == ["expected_votes", "highest_expected", "quorum", "total_votes"] else [f"types {kinds}"]


def _member_votes(s: list[tuple[Labels, float]]) -> list[str]:
    local = [labels for labels, _ in s if labels["local"] == "true"]
    return ([] if len(local) == 1 else [f"{len(local)} local members"]) + _thresholds(s)


def _rings(s: list[tuple[Labels, float]]) -> list[str]:
    return [f"{labels}" for labels, v in s if v not in (0, 1) or "/" not in labels["ring_id"]]


def _sbd_devices(s: list[tuple[Labels, float]]) -> list[str]:
    return [f"{labels}" for labels, v in s if v != 1 or labels["status"] not in ("healthy", "unhealthy")]


def _sbd_timeouts(s: list[tuple[Labels, float]]) -> list[str]:
    return [f"{labels}" for labels, v in s if labels["type"] not in ("watchdog", "msgwait") or v <= 0]


#: Each reference family's value convention, as a check returning what breaks it.
CONVENTIONS: dict[str, Callable[[list[tuple[Labels, float]]], list[str]]] = {
    "ha_cluster_pacemaker_nodes": _nodes,
    "ha_cluster_pacemaker_resources": _resources,
    "ha_cluster_pacemaker_fail_count": _counts,
    "ha_cluster_pacemaker_migration_threshold": _thresholds,
    "ha_cluster_pacemaker_location_constraints": _scores,
    "ha_cluster_pacemaker_node_attributes": _ones,
    "ha_cluster_pacemaker_stonith_enabled": _flag,
    "ha_cluster_pacemaker_maintenance_mode_enabled": _flag,
    "ha_cluster_pacemaker_config_last_change": _timestamp,
    "ha_cluster_corosync_quorate": _flag,
    "ha_cluster_corosync_quorum_votes": _quorum_votes,
    "ha_cluster_corosync_member_votes": _member_votes,
    "ha_cluster_corosync_ring_errors": _counts,
    "ha_cluster_corosync_rings": _rings,
    "ha_cluster_sbd_devices": _sbd_devices,
    "ha_cluster_sbd_timeouts": _sbd_timeouts,
}

#: Label values of the reference whose every value must occur in Paceline's output too (after SPELLED).
CATEGORICAL = {
    "ha_cluster_pacemaker_nodes": ("status", "type"),
    "ha_cluster_pacemaker_resources": ("status", "role", "managed"),
    "ha_cluster_corosync_quorum_votes": ("type",),
    "ha_cluster_corosync_member_votes": ("local",),
    "ha_cluster_sbd_timeouts": ("type",),
    "ha_cluster_sbd_devices": ("status",),
}


def compare(ours: Samples, our_types: dict[str, str], ref: Samples, ref_types: dict[str, str]) -> list[str]:
    """Everything in which ``ours`` does not follow the reference (empty: it follows it)."""
    problems: list[str] = []
    for family, ref_samples in ref.items():
        mine = ours.get(family, [])
        if not mine:
            problems.append(f"{family}: missing")
            continue
        if our_types.get(family) != ref_types.get(family):
            problems.append(f"{family}: type {our_types.get(family)}, reference {ref_types.get(family)}")
        ref_names = {frozenset(labels) for labels, _ in ref_samples}
        our_names = {frozenset(labels) for labels, _ in mine}
        if our_names != ref_names:
            problems.append(f"{family}: label names {sorted(map(sorted, our_names))}, "
                            f"reference {sorted(map(sorted, ref_names))}")
            continue
        problems += [f"{family}: {p}" for p in CONVENTIONS[family](mine)]
        for label in CATEGORICAL.get(family, ()):
            wanted = {SPELLED.get((family, label, labels[label]), labels[label]) for labels, _ in ref_samples
                      if not any(a.family == family and a.matches(labels) for a in NO_EQUIVALENT)}
            have = {labels[label] for labels, _ in mine}
            if wanted - have:
                problems.append(f"{family}: no {label} {sorted(wanted - have)}")
    for absent in NO_EQUIVALENT:
        assert any(absent.family == f and absent.matches(lab) for f, s in ref.items() for lab, _ in s), \
            f"the table names a series the reference does not have: {absent}"
        if any(absent.matches(labels) for labels, _ in ours.get(absent.family, [])):
            problems.append(f"{absent.family}{absent.labels}: listed without equivalent, but present")
    return problems


def coverage(ours: Samples) -> list[str]:
    """What a lab meant to show every kind of series lacks: a group member, a clone instance, a promoted and an
    unpromoted instance, a stopped clone instance, a failed resource, a fail count, +/-Inf and finite scores."""
    rows = [labels for labels, v in ours.get("ha_cluster_pacemaker_resources", []) if labels["status"] == "active"]
    failed = [labels for labels, v in ours.get("ha_cluster_pacemaker_resources", [])
              if labels["status"] == "failed" and v == 1]
    scores = [v for _, v in ours.get("ha_cluster_pacemaker_location_constraints", [])]
    wants = {
        "a group member": any(r["group"] for r in rows),
        "a clone instance": any(r["clone"] and r["role"] == "started" for r in rows),
        "a promoted instance": any(r["role"] == "promoted" for r in rows),
        "an unpromoted instance": any(r["role"] == "unpromoted" for r in rows),
        "a stopped clone instance": any(r["clone"] and r["role"] == "stopped" and r["node"] == "" for r in rows),
        "a failed resource": bool(failed),
        "a fail count": any(v > 0 for _, v in ours.get("ha_cluster_pacemaker_fail_count", [])),
        "scores +Inf, -Inf and finite": {math.inf, -math.inf} <= set(scores) and any(math.isfinite(v) for v in scores),
        "a node attribute": bool(ours.get("ha_cluster_pacemaker_node_attributes")),
    }
    return [what for what, ok in wants.items() if not ok]


# ---------------------------------------------------------------- the real exporter, as an oracle

#: The pacemaker families the real exporter derives from crm_mon and cibadmin alone (a CIB file is enough).
PACEMAKER_FAMILIES = {f"ha_cluster_pacemaker_{n}" for n in (
    "nodes", "resources", "fail_count", "migration_threshold", "location_constraints", "node_attributes",
    "stonith_enabled", "config_last_change")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_real_exporter() -> None:
    """Skip, saying why, unless Debian's ha_cluster_exporter and Pacemaker's crm_mon and cibadmin are installed."""
    missing = [tool for tool in ("ha_cluster_exporter", "crm_mon", "cibadmin") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs Debian's prometheus-hacluster-exporter and pacemaker-cli-utils ({', '.join(missing)} "
                    "not found)")


def real_exporter_output(cib_file: Path) -> str:
    """Debian's ha_cluster_exporter, its crm_mon and cibadmin reading ``cib_file`` (``CIB_file``)."""
    port = free_port()
    proc = subprocess.Popen(["ha_cluster_exporter", f"--web.listen-address=127.0.0.1:{port}", "--log.level=error"],
                            env={**os.environ, "CIB_file": str(cib_file), "TZ": "UTC"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        text: list[str] = []

        def scraped() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
                    text.append(reply.read().decode())
                return True
            except OSError:
                return False

        until(scraped, "ha_cluster_exporter answers", 20, 0.05)
        return text[0]
    finally:
        proc.terminate()
        proc.wait(10)


def pacemaker_samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The pacemaker series of an exposition, keyed by name and sorted labels."""
    samples, _ = parse(text)
    return {(name, tuple(sorted(labels.items()))): v for name, rows in samples.items()
            if name in PACEMAKER_FAMILIES for labels, v in rows}
