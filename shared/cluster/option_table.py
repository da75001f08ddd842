"""Pacemaker's cluster options: name, type, default, what each one does (and the choices of a "select").

The one table every part reads: the crm shell completes and describes options
from it (``paceline.crm.cluster_options``) and the value checks
(:mod:`paceline.shared.cluster.checks`) refuse a value of the wrong type.
"""

from __future__ import annotations

from typing import NamedTuple


class ClusterOption(NamedTuple):
    name: str
    type: str
    default: str
    description: str
    choices: tuple[str, ...] = ()

    def hint(self) -> str:
        """``name (type, [default]): description``, as crmsh prints it while completing."""
        default = f", [{self.default}]" if self.default else ""
        return f"{self.name} ({self.type}{default}): {self.description}"

    def values(self) -> tuple[str, ...]:
        """The values completion offers for this option."""
        if self.choices:
            return self.choices
        return ("true", "false") if self.type == "boolean" else ()


_B = "boolean"
OPTIONS: dict[str, ClusterOption] = {o.name: o for o in (
    ClusterOption("batch-limit", "integer", "0", "How many actions the cluster may run in parallel (0: automatic)"),
    ClusterOption("cluster-delay", "time", "60s", "Round-trip delay allowed on the network before an action "
                  "counts as lost"),
    ClusterOption("cluster-name", "string", "", "A name for the cluster, shown by tools"),
    ClusterOption("cluster-recheck-interval", "time", "15min", "How often to re-plan even without events "
                  "(time-based rules, failure timeouts)"),
    ClusterOption("concurrent-fencing", _B, "true", "Allow fencing several nodes at the same time"),
    ClusterOption("dc-deadtime", "time", "20s", "How long to wait for an answer from other nodes at start-up"),
    ClusterOption("election-timeout", "time", "2min", "Declare an election failed after this long"),
    ClusterOption("enable-acl", _B, "false", "Enforce access control lists on the CIB"),
    ClusterOption("enable-startup-probes", _B, "true", "Look for resources already running before starting any"),
    ClusterOption("fence-reaction", "select", "stop", "What a node does when told it was fenced",
                  ("stop", "panic")),
    ClusterOption("join-finalization-timeout", "time", "30min", "How long the DC waits for a node to finish "
                  "joining"),
    ClusterOption("join-integration-timeout", "time", "3min", "How long the DC waits for a node to start "
                  "joining"),
    ClusterOption("load-threshold", "percentage", "80%", "Slow down when the CPU load reaches this much"),
    ClusterOption("maintenance-mode", _B, "false", "Leave every resource alone: no starts, stops or monitors"),
    ClusterOption("migration-limit", "integer", "-1", "Live migrations one node may run at once (-1: no limit)"),
    ClusterOption("no-quorum-policy", "select", "stop", "What to do with resources when this partition loses "
                  "quorum", ("stop", "freeze", "ignore", "demote", "suicide")),
    ClusterOption("node-action-limit", "integer", "0", "Actions one node may run at once (0: twice its cores)"),
    ClusterOption("node-health-base", "integer", "0", "Base score of every node under the progressive "
                  "health strategy"),
    ClusterOption("node-health-green", "integer", "0", "Score a green health attribute adds"),
    ClusterOption("node-health-red", "integer", "-INFINITY", "Score a red health attribute adds"),
    ClusterOption("node-health-strategy", "select", "none", "How node health attributes affect placement",
                  ("none", "migrate-on-red", "only-green", "progressive", "custom")),
    ClusterOption("node-health-yellow", "integer", "0", "Score a yellow health attribute adds"),
    ClusterOption("pe-error-series-max", "integer", "-1", "Scheduler inputs kept that led to errors"),
    ClusterOption("pe-input-series-max", "integer", "4000", "Scheduler inputs kept of ordinary transitions"),
    ClusterOption("pe-warn-series-max", "integer", "5000", "Scheduler inputs kept that led to warnings"),
    ClusterOption("placement-strategy", "select", "default", "How utilization decides where resources go",
                  ("default", "utilization", "minimal", "balanced")),
    ClusterOption("priority-fencing-delay", "time", "0", "Extra delay before fencing the node running the "
                  "more important resources"),
    ClusterOption("shutdown-escalation", "time", "20min", "Give up waiting for a clean shutdown after this long"),
    ClusterOption("shutdown-lock", _B, "false", "Keep a cleanly stopped node's resources for it until it is back"),
    ClusterOption("shutdown-lock-limit", "time", "0", "Release shutdown locks after this long (0: never)"),
    ClusterOption("start-failure-is-fatal", _B, "true", "A failed start bans the resource from that node"),
    ClusterOption("startup-fencing", _B, "true", "Fence nodes never seen since the cluster started"),
    ClusterOption("stonith-action", "select", "reboot", "What fencing does to a node", ("reboot", "off")),
    ClusterOption("stonith-enabled", _B, "true", "Failed nodes are fenced before their resources move"),
    ClusterOption("stonith-max-attempts", "integer", "10", "Fencing attempts per target before giving up"),
    ClusterOption("stonith-timeout", "time", "60s", "How long a fencing action may take"),
    ClusterOption("stonith-watchdog-timeout", "time", "0", "Consider a node self-fenced by its watchdog after "
                  "this long"),
    ClusterOption("stop-all-resources", _B, "false", "Stop every resource"),
    ClusterOption("stop-orphan-actions", _B, "true", "Cancel recurring operations no longer configured"),
    ClusterOption("stop-orphan-resources", _B, "true", "Stop resources no longer configured"),
    ClusterOption("symmetric-cluster", _B, "true", "Resources may run anywhere unless a constraint says "
                  "otherwise"),
    ClusterOption("transition-delay", "time", "0s", "Wait this long before running a new transition"),
)}
#: Set by the cluster itself; users see them in ``show`` but should not set them.
READ_ONLY = ("cluster-infrastructure", "dc-version", "have-watchdog", "last-lrm-refresh")
