"""``validate-all``: an agent checks a set of parameters without starting anything (``ra validate``).

Pacemaker does this with ``crm_resource --validate``: the agent is called the
way a real operation would call it (OCF: the ``OCF_RESKEY_*`` environment;
fence agents: ``name=value`` lines on stdin) with action ``validate-all``, and
its exit code says what is wrong (6 ``OCF_ERR_CONFIGURED``, 5
``OCF_ERR_INSTALLED``, ...). So it goes through :meth:`AgentRunner.run` like
any other operation - same lookup, environment, timeout and kill rules - and
only the result is different: returned to the asker, never recorded in the
CIB. LSB scripts and systemd units have no such action; the runner answers
"unimplemented" for them, as it would for any action they lack.

Used by the executor's ``validate`` endpoint and, with ``--cib-file``, by the
``paceline`` command itself on this machine's agents.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from paceline.executor.operation import AgentOutcome, Operation
from paceline.executor.runner import AgentRunner
from paceline.executor.standards import AgentRef
from paceline.shared import codec
from paceline.shared.messages import ValidateReply

TASK = "validate-all"
#: ``OCF_RESOURCE_INSTANCE`` when no resource id is given (agents name state files after it).
DEFAULT_INSTANCE = "validate"
_INSTANCE = re.compile(r"^[A-Za-z0-9_.:-]+$")


def operation(ref: AgentRef, params: Mapping[str, str], node: str, rsc: str = "", timeout_ms: int = 0) -> Operation:
    """The ``validate-all`` call of ``ref`` with ``params``, as resource ``rsc`` (if given) on ``node``."""
    if rsc and not _INSTANCE.match(rsc):
        raise codec.MalformedMessage(f"resource id {rsc!r} may only contain letters, digits and '_.:-'")
    return Operation(task=TASK, rsc=rsc or DEFAULT_INSTANCE, node=node, agent=ref, params=dict(params),
                     timeout_ms=timeout_ms)


def reply(outcome: AgentOutcome, node: str) -> ValidateReply:
    """The answer of a validation: the agent's rc and execution status, its reason and its output."""
    return ValidateReply(node=node, rc=outcome.rc, op_status=outcome.op_status, exit_reason=outcome.exit_reason,
                         output=outcome.output, errors=outcome.errors, exec_ms=outcome.exec_ms)


async def run(runner: AgentRunner, ref: AgentRef, params: Mapping[str, str], node: str, rsc: str = "",
              timeout_ms: int = 0) -> ValidateReply:
    """Run ``validate-all`` through the runner (the path every operation takes) and describe the outcome."""
    return reply(await runner.run(operation(ref, params, node, rsc, timeout_ms)), node)


async def validate(runner: AgentRunner, ref: AgentRef, params: Mapping[str, str], node: str, rsc: str = "",
                   timeout_ms: int = 0) -> dict[str, Any]:
    """:func:`run`'s answer as the executor's ``validate`` endpoint sends it (for the offline ``ra validate``)."""
    return (await run(runner, ref, params, node, rsc, timeout_ms)).to_body()
