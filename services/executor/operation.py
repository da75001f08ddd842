"""One operation as the DC asks for it, checked field by field, and its result in Pacemaker's terms."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

from paceline.executor.standards import AgentRef
from paceline.shared import lrm
from paceline.shared.cluster.timespec import interval_ms
from paceline.shared.lrm import OpResult
from paceline.shared.messages import ActionRequest

#: The transition key's last field; Pacemaker puts the DC's UUID there.
KEY_ORIGIN = "paceline"


@dataclass(frozen=True)
class Operation:
    task: str
    rsc: str
    node: str
    agent: AgentRef
    interval_ms: int = 0
    timeout_ms: int = 0
    params: dict[str, str] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    expected_rc: int = 0
    digest: str = ""
    action_id: int = 0
    term: int = 0
    transition: int = 0

    @classmethod
    def from_request(cls, req: ActionRequest) -> Operation:
        """The operation an action request (checked on arrival) asks for."""
        return cls(task=req.task, rsc=req.rsc, node=req.node, agent=AgentRef.from_spec(req.agent),
                   interval_ms=req.interval_ms, timeout_ms=req.timeout_ms, params=dict(req.params),
                   meta=dict(req.meta), expected_rc=req.expected_rc, digest=req.digest, action_id=req.id,
                   term=req.term, transition=req.transition)

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Operation:
        """Parse an action request (raises codec.MalformedMessage on any missing or mistyped field)."""
        return cls.from_request(ActionRequest.from_body(body))

    def to_body(self) -> dict[str, Any]:
        """The request body this operation was parsed from (``from_body`` reads it back)."""
        return {"task": self.task, "rsc": self.rsc, "node": self.node, "agent": self.agent.record(),
                "interval_ms": self.interval_ms, "timeout_ms": self.timeout_ms, "params": dict(self.params),
                "meta": dict(self.meta), "expected_rc": self.expected_rc, "digest": self.digest,
                "id": self.action_id, "term": self.term, "transition": self.transition}

    def with_changes(self, **changes: Any) -> Operation:
        return dataclasses.replace(self, **changes)

    @property
    def start_delay_ms(self) -> int:
        """The op's ``start-delay`` (Pacemaker waits this long before running it, e.g. a first monitor)."""
        raw = self.meta.get("start-delay") or self.meta.get("start_delay")
        return interval_ms(raw) if raw else 0

    @property
    def pacemaker_digest(self) -> str:
        """The op-digest Pacemaker's controller would record (recurring ops include their timeout)."""
        return lrm.pacemaker_digest(self.params, self.timeout_ms if self.recurring else None)

    @property
    def recurring(self) -> bool:
        return self.interval_ms > 0

    @property
    def transition_key(self) -> str:
        """``ACTION:TRANSITION:EXPECTED_RC:ORIGIN``, the scheduler reads the expected rc from it."""
        return f"{self.action_id}:{self.transition}:{self.expected_rc}:{KEY_ORIGIN}"

    @property
    def key(self) -> str:
        return f"{self.rsc}_{self.task}_{self.interval_ms}"


@dataclass(frozen=True)
class AgentOutcome:
    """What running the agent told us, before it gets a call id and a place in the CIB."""

    rc: int
    op_status: int
    exit_reason: str = ""
    exec_ms: int = 0
    output: str = ""
    #: The end of the agent's stderr, logged when the operation failed (sysadmins look there first).
    errors: str = ""


def make_result(op: Operation, outcome: AgentOutcome, *, call_id: int, queue_ms: int = 0,
                last_rc_change: int | None = None) -> OpResult:
    return OpResult(
        rsc=op.rsc, task=op.task, interval_ms=op.interval_ms, rc=outcome.rc, op_status=outcome.op_status,
        call_id=call_id, exec_ms=outcome.exec_ms, queue_ms=queue_ms, exit_reason=outcome.exit_reason,
        digest=op.pacemaker_digest, transition_key=op.transition_key, node=op.node,
        last_rc_change=last_rc_change or int(time.time()), expected_rc=op.expected_rc)
