"""The executor's own Prometheus metrics (the common request metrics come from the bus glue)."""

from __future__ import annotations

from paceline.shared import lrm
from prometheus_client import Counter, Gauge, Histogram

OPERATIONS = Counter("paceline_executor_operations_total",
                     "Agent operations run, by operation and outcome", ["op", "outcome"])
OPERATION_SECONDS = Histogram("paceline_executor_operation_duration_seconds",
                              "Wall time of agent operations", ["op"],
                              buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
RECURRING_MONITORS = Gauge("paceline_executor_recurring_monitors",
                           "Recurring monitors currently scheduled on this node")


def outcome(result: lrm.OpResult) -> str:
    """A small fixed set of label values: ok, failed, timeout, not_installed, error."""
    if result.op_status == lrm.EXEC_TIMEOUT:
        return "timeout"
    if result.op_status == lrm.EXEC_NOT_INSTALLED:
        return "not_installed"
    if result.op_status != lrm.EXEC_DONE:
        return "error"
    return "failed" if result.failed else "ok"


def observe(result: lrm.OpResult) -> None:
    OPERATIONS.labels(result.task, outcome(result)).inc()
    OPERATION_SECONDS.labels(result.task).observe(result.exec_ms / 1000)
