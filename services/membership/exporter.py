"""What ha_cluster_exporter says about a cluster, computed from the CIB and this node's membership view.

Pure: a CIB (configuration and status), the membership view and a few local facts in, metric families
out. The names, label names and value conventions are ha_cluster_exporter's (its doc/metrics.md), so
existing Prometheus rules and the ClusterLabs Grafana dashboards work unchanged:

- ``ha_cluster_pacemaker_*`` from the CIB read through the cluster model the scheduler uses
  (:func:`paceline.shared.cluster.unpack`), as the exporter reads crm_mon's XML: one series per node per
  status (0/1), one per resource instance per status (0/1) labelled with its node, role, agent, group,
  clone and whether it is managed; fail counts and migration thresholds per online node and resource with
  history there; location constraints as written in the CIB, their score as the value (+/-Inf for
  INFINITY); node attributes (value always 1); stonith and maintenance mode; the last CIB change.
  Role and agent are spelled as Pacemaker 2.1's crm_mon spells them (``promoted``/``unpromoted``,
  ``ocf:heartbeat:Dummy``), which is what the exporter shows on a current Pacemaker.
- ``ha_cluster_corosync_*`` from this node's membership view (votequorum's numbers, the members and
  their votes) and its bus connection, Paceline's one ring.
- ``ha_cluster_sbd_*`` from the node's watchdog, where one is configured: Paceline's watchdog is
  diskless sbd's, so the "device" is the watchdog's socket, ``watchdog`` its timeout and ``msgwait`` the
  ``stonith-watchdog-timeout`` survivors wait before they count a lost node as reset.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

from paceline.membership.exposition import Family
from paceline.membership.view import MembershipView
from paceline.shared import cib
from paceline.shared.cluster import crm_mon, history, status_sections
from paceline.shared.cluster.model import ClusterState, HistoryOp, Resource
from paceline.shared.cluster.options import cluster_options
from paceline.shared.cluster.scores import INF
from paceline.shared.cluster.status_view import printable_id
from paceline.shared.cluster.timespec import parse_interval_ms
from paceline.shared.cluster.unpack import unpack
from paceline.shared.cluster.values import is_true

NODE_STATUSES = ("online", "standby", "standby_onfail", "maintenance", "pending", "unclean", "shutdown",
                 "expected_up", "dc")
RESOURCE_STATUSES = ("active", "orphaned", "blocked", "failed", "failure_ignored")
#: Node attributes crm_mon leaves out of its node attribute list (and so the exporter): the controller's own.
HIDDEN_ATTRIBUTES = ("shutdown", "terminate", "standby")
HIDDEN_PREFIXES = ("#", "fail-count-", "last-failure-")


#: crm_mon's node types; the model calls a cluster node's kind "cluster".
NODE_TYPES = {"cluster": "member", "member": "member", "remote": "remote", "guest": "remote", "ping": "ping"}


def _bool(flag: bool) -> float:
    return 1.0 if flag else 0.0


def _text(flag: bool) -> str:
    return "true" if flag else "false"


# ---------------------------------------------------------------- pacemaker

def last_change(root: cib.Element) -> float | None:
    """``cib-last-written`` (ctime, local time) as a Unix time; None when absent or unreadable."""
    text = root.get("cib-last-written")
    if not text:
        return None
    try:
        return time.mktime(time.strptime(" ".join(text.split()), "%a %b %d %H:%M:%S %Y"))
    except (ValueError, OverflowError):
        return None


def agent_label(rsc: Resource) -> str:
    """The agent as crm_mon's XML writes it (``ocf:heartbeat:IPaddr2``, ``stonith:fence_xvm``)."""
    return cib.agent_text(rsc.agent.get("class", ""), rsc.agent.get("provider"), rsc.agent.get("type", ""))


@dataclass(frozen=True)
class ResourceRow:
    """One ``<resource>`` of crm_mon's XML: a primitive (instance) on one node, or stopped (node "")."""

    resource: str
    node: str
    role: str
    agent: str
    managed: bool
    group: str
    clone: str
    statuses: tuple[bool, ...]   # RESOURCE_STATUSES, in order


def _failed(prim: Resource, state: ClusterState) -> bool:
    """crm_mon's ``failed``: the model's flag, and also a resource blocked by ``on-fail=block`` after a failure
    (the model leaves ``failed`` unset there, as nothing is to be recovered; crm_mon still says failed)."""
    status = prim.status
    return status.failed or (status.blocked and any(f.rsc in (prim.id, prim.history_id) for f in state.failed_ops))


def _rows(prim: Resource, state: ClusterState, group: str, clone: str) -> list[ResourceRow]:
    status = prim.status
    statuses = (bool(status.active_on), prim.orphan, status.blocked, _failed(prim, state), status.ignore_failure)
    rid = printable_id(prim, state)
    if not prim.status.active_on:
        return [ResourceRow(rid, "", "stopped", agent_label(prim), prim.managed, group, clone, statuses)]
    return [ResourceRow(rid, node, _role(prim, node), agent_label(prim), prim.managed, group, clone, statuses)
            for node in prim.status.active_on]


#: The role crm_mon reports while one of these operations is in flight (the exporter's doc lists them).
PENDING_ROLES = {"start": "starting", "stop": "stopping", "migrate_to": "migrating", "migrate_from": "migrating",
                 "promote": "promoting", "demote": "demoting"}


def _role(prim: Resource, node: str) -> str:
    return PENDING_ROLES.get(prim.status.pending_task.get(node, ""), prim.status.role.text.lower())


def resource_rows(state: ClusterState) -> list[ResourceRow]:
    """Every resource instance as crm_mon lists it with ``--inactive`` (stopped orphans left out); a clone's
    identical stopped instances once, as the exporter records them."""
    rows: list[ResourceRow] = []
    clones_done: set[str] = set()
    for top in state.resources:
        if top.orphan and not top.status.active_on:
            continue
        if top.clone_of is not None:
            if top.clone_of in clones_done:
                continue
            clones_done.add(top.clone_of)
            clone = state.by_id.get(top.clone_of)
            seen: set[ResourceRow] = set()
            for instance in (clone.children if clone is not None else [top]):
                group = instance.id if instance.is_group else ""
                for prim in instance.primitives():
                    for row in _rows(prim, state, group, top.clone_of):
                        if row not in seen:
                            seen.add(row)
                            rows.append(row)
        elif top.is_group:
            for member in top.children:
                rows += _rows(member, state, top.id, "")
        else:
            rows += _rows(top, state, "", "")
    return rows


def _shown_op(op: HistoryOp) -> bool:
    """An operation crm_mon lists in a node's history: not a notification, not a probe that found nothing."""
    return op.task != "notify" and not (op.task == "monitor" and op.interval_ms == 0 and op.rc == 7)


def _histories(state: ClusterState, legacy_names: bool = False) -> list[tuple[str, str, Resource, int]]:
    """(node, printable id, primitive, fail count) for every online node and each resource crm_mon lists in that
    node's history: one with an operation worth showing there, or with failures.

    ``legacy_names``: the CIB predates crm_feature_set 3.0.13, whose fail counts Pacemaker 2.1's crm_mon (what the
    real exporter reads) looks for under the names of that time, ``fail-count-RSC`` without the operation
    (``generate_fail_regex``), so today's ``fail-count-RSC#op_interval`` count nothing there (Pacemaker 3, whose
    scheduler Paceline follows, dropped that compatibility)."""
    out: dict[tuple[str, str], tuple[Resource, int]] = {}
    for prim in state.primitives():
        for node_name, ops in prim.status.history.items():
            node = state.nodes.get(node_name)
            if node is None or not node.online:
                continue
            count = 0 if legacy_names else history.effective_fail_count(state, prim, node)
            if count or any(_shown_op(op) for op in ops):
                out.setdefault((node_name, printable_id(prim, state)), (prim, count))
    return [(node, rid, prim, count) for (node, rid), (prim, count) in sorted(out.items())]


def _score_value(text: str | None) -> float:
    """A location score as the exporter reports it: +/-Inf for INFINITY, else the integer; 0 when the constraint
    has no score of its own (a rule-based one: its scores are its rules', which the exporter does not read)."""
    text = (text or "").strip()
    if text in ("INFINITY", "+INFINITY"):
        return math.inf
    if text == "-INFINITY":
        return -math.inf
    try:
        return float(int(text))
    except ValueError:
        return 0.0


def pacemaker_families(root: cib.Element, now: float, dc: str | None = None) -> list[Family]:
    """The ``ha_cluster_pacemaker_*`` families of a CIB; ``dc`` overrides the CIB's ``dc-uuid`` (the live
    membership's DC is newer than the CIB's record of it)."""
    state = unpack(root, now)
    dc = dc if dc is not None else (crm_mon.dc_name(root) or root.get("dc-uuid") or "")  # an unknown id as is
    families: list[Family] = []

    stonith = Family("ha_cluster_pacemaker_stonith_enabled", "Whether or not stonith is enabled")
    stonith.add(_bool(state.fencing_enabled))
    maintenance = Family("ha_cluster_pacemaker_maintenance_mode_enabled",
                         "Whether or not cluster wide maintenance-mode is enabled")
    maintenance.add(_bool(state.maintenance_mode))
    families += [stonith, maintenance]

    nodes = Family("ha_cluster_pacemaker_nodes", "The status of each node in the cluster; 1 means the node is in "
                   "that status, 0 otherwise")
    for node in state.nodes.values():
        onfail = node.standby and not is_true(node.attrs.get("standby"))
        flags = (node.online, node.standby, onfail, node.maintenance, node.pending, node.unclean,
                 node.shutdown, node.expected_up, node.name == dc)
        for status, flag in zip(NODE_STATUSES, flags, strict=True):
            nodes.add(_bool(flag), node=node.name, type=NODE_TYPES.get(node.kind, "unknown"), status=status)
    families.append(nodes)

    attributes = Family("ha_cluster_pacemaker_node_attributes",
                        "Metadata attributes of each node; value is always 1")
    for node in state.nodes.values():
        if not node.online:
            continue
        for name, value in sorted(node.attrs.items()):
            if name in HIDDEN_ATTRIBUTES or name.startswith(HIDDEN_PREFIXES):
                continue
            attributes.add(1, node=node.name, name=name, value=value)
    families.append(attributes)

    resources = Family("ha_cluster_pacemaker_resources", "The status of each resource in the cluster; 1 means "
                       "the resource is in that status, 0 otherwise")
    for row in resource_rows(state):
        for status, flag in zip(RESOURCE_STATUSES, row.statuses, strict=True):
            resources.add(_bool(flag), node=row.node, resource=row.resource, role=row.role,
                          managed=_text(row.managed), status=status, agent=row.agent, group=row.group,
                          clone=row.clone)
    families.append(resources)

    fail_count = Family("ha_cluster_pacemaker_fail_count", "The Fail count number per node and resource id")
    threshold = Family("ha_cluster_pacemaker_migration_threshold",
                       "The migration_threshold number per node and resource id")
    for node_name, rid, prim, count in _histories(state, status_sections.legacy_fail_counts(root)):
        fail_count.add(math.inf if count >= INF else count, node=node_name, resource=rid)
        threshold.add(prim.migration_threshold, node=node_name, resource=rid)
    families += [fail_count, threshold]

    constraints = Family("ha_cluster_pacemaker_location_constraints",
                         "Resource location constraints. The value indicates the score.")
    for el in root.iterfind("configuration/constraints/rsc_location"):
        constraints.add(_score_value(el.get("score")), constraint=el.get("id", ""), node=el.get("node", ""),
                        resource=el.get("rsc", ""), role=el.get("role", "").lower())
    families.append(constraints)

    changed = last_change(root)
    if changed is not None:
        last = Family("ha_cluster_pacemaker_config_last_change",
                      "The timestamp of the last change of the cluster configuration", "counter")
        last.add(changed)
        families.append(last)
    return families


# ---------------------------------------------------------------- corosync

@dataclass(frozen=True)
class Ring:
    """This node's one ring: its bus connection (address it reaches the bus at, and whether it is up)."""

    address: str
    healthy: bool


def corosync_families(view: MembershipView, node_ids: dict[str, str], ring: Ring,
                      votes: Iterable[tuple[str, int]]) -> list[Family]:
    """The ``ha_cluster_corosync_*`` families of this node's view; ``votes`` is (member, votes) per member."""
    q = view.quorum
    quorate = Family("ha_cluster_corosync_quorate", "Whether or not the cluster is quorate")
    quorate.add(_bool(q.quorate))
    quorum_votes = Family("ha_cluster_corosync_quorum_votes", "Cluster quorum votes; one line per type")
    # Paceline's expected votes never fall below those ever declared or seen: they are votequorum's highest.
    for kind, value in (("expected_votes", q.expected_votes), ("highest_expected", q.expected_votes),
                        ("total_votes", q.total_votes), ("quorum", q.quorum)):
        quorum_votes.add(value, type=kind)
    members = Family("ha_cluster_corosync_member_votes",
                     "How many votes each member node has contributed with to the current quorum")
    for member, count in votes:
        members.add(count, node=member, node_id=node_ids.get(member, member), local=_text(member == view.node))
    own_id = node_ids.get(view.node, view.node)
    first = node_ids.get(view.members[0], view.members[0]) if view.members else own_id
    rings = Family("ha_cluster_corosync_rings", "The status of each Corosync ring; 1 means healthy, 0 means faulty.")
    rings.add(_bool(ring.healthy), ring_id=f"{first}/{view.ring_id}", node_id=own_id, number="0",
              address=ring.address)
    errors = Family("ha_cluster_corosync_ring_errors", "The total number of faulty corosync rings")
    errors.add(0 if ring.healthy else 1)
    return [members, quorate, quorum_votes, errors, rings]


# ---------------------------------------------------------------- sbd (the watchdog)

def msgwait_seconds(root: cib.Element | None, now: float) -> float | None:
    """``stonith-watchdog-timeout`` in seconds, when the CIB sets a positive one."""
    if root is None:
        return None
    text = cluster_options(root, now).get("stonith-watchdog-timeout")
    ms = parse_interval_ms(text) if text else None
    return ms / 1000 if ms else None


def sbd_families(device: str, healthy: bool, watchdog_timeout: float, msgwait: float | None) -> list[Family]:
    """``ha_cluster_sbd_*`` for a node whose watchdog listens at ``device`` (only where one is configured)."""
    devices = Family("ha_cluster_sbd_devices", "SBD devices; one line per device")
    devices.add(1, device=device, status="healthy" if healthy else "unhealthy")
    timeouts = Family("ha_cluster_sbd_timeouts", "SBD timeouts for each device and type")
    timeouts.add(watchdog_timeout, device=device, type="watchdog")
    if msgwait is not None:
        timeouts.add(msgwait, device=device, type="msgwait")
    return [devices, timeouts]
