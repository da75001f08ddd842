"""Every NATS subject, KV bucket and micro-service name Paceline uses.

Nothing else in the code base spells a subject by hand: tools that subscribe to
the bus can read this module to learn the whole surface. Subjects follow
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
        """Request subjects of the cib-store: query, replace, patch, modify, erase."""
        return f"{self.prefix}.cib.{endpoint}"

    @property
    def cib_changed(self) -> str:
        return f"{self.prefix}.cib.changed"

    # policy -----------------------------------------------------------
    @property
    def dc(self) -> str:
        """Announcements of the DC (lease holder), with its term."""
        return f"{self.prefix}.policy.dc"

    @property
    def transition(self) -> str:
        """Each transition graph the DC starts executing."""
        return f"{self.prefix}.policy.transition"

    @property
    def fenced(self) -> str:
        """Each fencing attempt the DC made: target, device(s), action, result, executing node."""
        return f"{self.prefix}.policy.fenced"

    def policy(self, endpoint: str) -> str:
        return f"{self.prefix}.policy.{endpoint}"

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
        """Request subjects of the gateway: crm, status, cib, commit, agents."""
        return f"{self.prefix}.gateway.{endpoint}"

    # JetStream --------------------------------------------------------
    @property
    def cib_bucket(self) -> str:
        return f"paceline_{self.cluster}_cib"

    @property
    def lease_bucket(self) -> str:
        return f"paceline_{self.cluster}_lease"

    @property
    def cib_history_stream(self) -> str:
        return f"paceline_{self.cluster}_cib_history"

    @property
    def cib_history_subject(self) -> str:
        return f"{self.prefix}.cib.history"
