"""Every NATS subject, KV bucket and micro-service name Paceline uses.

Nothing else in the code base spells a subject by hand: tools that subscribe to
the bus can read this module to learn the whole surface (:func:`catalog` lists
it), and the services' READMEs are checked against it. Subjects follow
``paceline.<cluster>.<service>.<topic>[.<node>]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")

#: Micro-service names (``$SRV.PING.<name>`` finds the instances).
SERVICE_NAMES = {
    "membership": "paceline-membership",
    "executor": "paceline-executor",
    "cib-store": "paceline-cib-store",
    "policy": "paceline-policy",
    "gateway": "paceline-gateway",
}


#: Request endpoints of each service that has a family of them (``Subjects.cib(name)`` and so on).
CIB_ENDPOINTS = ("query", "replace", "modify", "patch", "erase", "cluster", "tickets")
#: Node services whose status patches go to a subject of their own role and node (``cib_patch_by``).
NODE_PATCHERS = ("executor", "membership")
#: ``link``: a remote node's executor is reached through its connection resource (``paceline.executor.remote``).
EXECUTOR_ENDPOINTS = ("metadata", "agents", "fence", "validate", "reset", "history", "link")
GATEWAY_ENDPOINTS = ("crm", "status", "cib", "commit", "agents", "metadata", "attribute", "nodes")


def check_token(value: str, what: str) -> str:
    """Reject names that would break subject tokenisation (dots, spaces, wildcards)."""
    if not _TOKEN.match(value):
        raise ValueError(f"{what} {value!r} may only contain letters, digits, '-' and '_'")
    return value


@dataclass(frozen=True)
class Subjects:
    """Subjects and bucket names of one cluster."""

    cluster: str = "default"

    def __post_init__(self) -> None:
        check_token(self.cluster, "cluster name")

    @property
    def prefix(self) -> str:
        return f"paceline.{self.cluster}"

    # membership -------------------------------------------------------
    def heartbeat(self, node: str) -> str:
        return f"{self.prefix}.membership.heartbeat.{node}"

    @property
    def heartbeats(self) -> str:
        return f"{self.prefix}.membership.heartbeat.*"

    def view(self, node: str) -> str:
        """Where a node's membership service publishes its view when it changes."""
        return f"{self.prefix}.membership.view.{node}"

    @property
    def views(self) -> str:
        return f"{self.prefix}.membership.view.*"

    def membership_query(self, node: str) -> str:
        return f"{self.prefix}.membership.query.{node}"

    # cib-store --------------------------------------------------------
    def cib(self, endpoint: str) -> str:
        """Request subjects of the cib-store: query, replace, patch, modify, erase, cluster, tickets."""
        return f"{self.prefix}.cib.{endpoint}"

    def cib_patch_by(self, role: str, node: str) -> str:
        """Where a node's ``role`` service (executor, membership) sends status patches: only that node's
        credential of that role may publish there, so the cib-store knows who writes
        (:func:`paceline.shared.permissions.status_patch_refusal`)."""
        return f"{self.prefix}.cib.patch.{role}.{node}"

    def cib_patches_by(self, role: str) -> str:
        """Every node's status patches of one role (the cib-store subscribes here)."""
        return f"{self.prefix}.cib.patch.{role}.*"

    @property
    def cib_changed(self) -> str:
        return f"{self.prefix}.cib.changed"

    # policy -----------------------------------------------------------
    @property
    def dc(self) -> str:
        """Announcements of a policy instance that became DC, with its term (its membership ring id)."""
        return f"{self.prefix}.policy.dc"

    def policy_alive(self, node: str) -> str:
        """A node's policy instance says it runs (every heartbeat interval): its membership then offers the node
        as a DC candidate."""
        return self.policy(f"alive.{node}")

    @property
    def transition(self) -> str:
        """Each transition graph the DC starts executing."""
        return f"{self.prefix}.policy.transition"

    def fenced_by(self, dc: str) -> str:
        """Where the DC ``dc`` announces each fencing attempt (target, device(s), action, result, executing
        node). The last token names the sender and only that node's policy may publish there (see
        :mod:`paceline.shared.permissions`), so a receiver knows which node really sent a result."""
        return f"{self.prefix}.policy.fenced.{dc}"

    @property
    def fenced(self) -> str:
        """Every DC's fencing announcements (subscribe here; :func:`sender_of` reads who sent one)."""
        return f"{self.prefix}.policy.fenced.*"

    def policy(self, endpoint: str) -> str:
        return f"{self.prefix}.policy.{endpoint}"

    def policy_status(self, node: str) -> str:
        """Each policy instance's own status endpoint (DC or not, term, holder)."""
        return self.policy(f"status.{node}")

    @property
    def policy_explain(self) -> str:
        """``resource why`` on a live cluster: only the DC subscribes, so the request reaches the DC."""
        return self.policy("explain")

    @property
    def policy_facts(self) -> str:
        """What the DC knows ahead of the CIB (its view, the nodes it fenced): only the DC subscribes."""
        return self.policy("facts")

    # executor ---------------------------------------------------------
    def executor_action(self, node: str) -> str:
        """Request subject: the DC asks a node's executor to run one action."""
        return f"{self.prefix}.executor.action.{node}"

    def executor_event(self, node: str) -> str:
        """Operation results a node's executor publishes (including recurring monitors)."""
        return f"{self.prefix}.executor.event.{node}"

    @property
    def executor_events(self) -> str:
        return f"{self.prefix}.executor.event.*"

    def executor(self, endpoint: str, node: str) -> str:
        return f"{self.prefix}.executor.{endpoint}.{node}"

    # gateway ----------------------------------------------------------
    def gateway(self, endpoint: str) -> str:
        """Request subjects of the gateway: crm, status, cib, commit, agents, metadata, attribute, nodes."""
        return f"{self.prefix}.gateway.{endpoint}"

    # JetStream --------------------------------------------------------
    @property
    def cib_bucket(self) -> str:
        return f"paceline_{self.cluster}_cib"


def sender_of(subject: str) -> str:
    """The node a per-node subject was published under (its last token): the bus server lets only that
    node's credential publish there (:mod:`paceline.shared.permissions`), so this is who sent it."""
    return subject.rsplit(".", 1)[-1]


#: Stand-ins for the variable tokens, as the READMEs write them.
CLUSTER_TOKEN, NODE_TOKEN = "<c>", "<node>"


def catalog() -> list[str]:
    """Every subject this module defines, with ``<c>`` for the cluster and ``<node>`` for a node name."""
    s = Subjects("CLUSTER")
    node = "NODE"
    subjects = [
        s.heartbeat(node), s.heartbeats, s.view(node), s.views, s.membership_query(node),
        *(s.cib(name) for name in CIB_ENDPOINTS), s.cib_changed,
        *(s.cib_patch_by(role, node) for role in NODE_PATCHERS), *(s.cib_patches_by(role) for role in NODE_PATCHERS),
        s.dc, s.policy_alive(node), s.transition, s.fenced_by(node), s.fenced, s.policy_status(node), s.policy_explain,
        s.policy_facts,
        s.executor_action(node), s.executor_event(node), s.executor_events,
        *(s.executor(name, node) for name in EXECUTOR_ENDPOINTS),
        *(s.gateway(name) for name in GATEWAY_ENDPOINTS),
    ]
    return [subject.replace("paceline.CLUSTER.", f"paceline.{CLUSTER_TOKEN}.").replace(".NODE", f".{NODE_TOKEN}")
            for subject in subjects]
