"""One action of a transition and the flags its orderings carry.

A leaf module: the variants, the concept modules and the builder all create
and order these, so the record and the flag vocabulary live apart from any of
them (Pacemaker's ``pe_action_t`` and ``enum pe_ordering``).
"""

from __future__ import annotations

from dataclasses import dataclass

from paceline.shared.cluster.model import Resource
from paceline.shared.lrm import OCF_SUCCESS

# Ordering flags
IMPLIES_THEN = 1        # a required first makes then required
IMPLIES_FIRST = 2       # a required then makes first required
BLOCKS = 4              # an unrunnable first makes then unrunnable
INTERMEDIATE_STOP = 8   # stop -> start of one resource: a required or unrunnable start needs the stop
ASYMMETRIC = 16         # an unrunnable first makes then required and unrunnable (with exceptions)
ANY_BLOCKS = 32         # then is unrunnable once every such first is (a clone runs if any instance can)
IMPLIES_FIRST_MIGRATABLE = 64   # a then that cannot be part of a migration makes first unrunnable; required -> required
PSEUDO_LEFT = 128       # an unrunnable first makes then a real (not pseudo), unmigratable action
APPLY_FIRST_NON_MIGRATABLE = 256   # the graph keeps this ordering only when first is not part of a migration
#: A collective's pseudo-action and one of its instances' actions (Pacemaker's *_printed orderings): a
#: required instance action makes the pseudo-action required, but says nothing of whether it may migrate.
MEMBER = 512
#: The implies-first of a user ordering's inverse: a required then that cannot migrate keeps first from
#: migrating, but does not make first required (pcmk__update_ordered_actions clears first's optional flag only
#: where first's ordering flags - a collective's summarized from its members - are required already).
INVERSE_FIRST = 1024

INVERSE = {"start": "stop", "stop": "start", "promote": "demote", "demote": "promote",
            "running": "stopped", "stopped": "running", "promoted": "demoted", "demoted": "promoted"}
# A clone's completion pseudo-action and the instance actions it completes.
INSTANCE_TASK = {"running": "start", "stopped": "stop", "promoted": "promote", "demoted": "demote"}


@dataclass(eq=False, slots=True, init=False)
class Act:
    """One action; created by the tens of thousands (a probe per resource per node), hence the hand-written
    ``__init__``: the one ``dataclass`` generates is left interpreted in a mypyc-compiled build, and setting
    every field through it costs more than the rest of creating the action."""

    id: int
    task: str
    rsc: Resource | None
    node: str | None
    interval_ms: int
    optional: bool
    runnable: bool
    pseudo: bool
    reason: str | None
    expected_rc: int
    fence_reason: str
    fence_op: str                # a fencing action other than the cluster's fencing-action ("on": unfencing)
    meta: dict[str, str] | None  # meta the agent gets on top of the resource's (a notification's lists)
    migrate_runnable: bool       # part of a live migration that can still happen (pe_action_migrate_runnable)
    needs: int                   # ANY_BLOCKS firsts that must stay runnable (required_runnable_before)
    after: list[tuple[Act, int]] | tuple[()]
    before: list[tuple[Act, int]] | tuple[()]

    def __init__(self, id: int, task: str, rsc: Resource | None, node: str | None, interval_ms: int = 0,
                 optional: bool = True, runnable: bool = True, pseudo: bool = False, reason: str | None = None,
                 expected_rc: int = OCF_SUCCESS, fence_reason: str = "") -> None:
        self.id = id
        self.task = task
        self.rsc = rsc
        self.node = node
        self.interval_ms = interval_ms
        self.optional = optional
        self.runnable = runnable
        self.pseudo = pseudo
        self.reason = reason
        self.expected_rc = expected_rc
        self.fence_reason = fence_reason
        self.fence_op = ""
        self.meta = None
        self.migrate_runnable = False
        self.needs = 1
        self.after = ()
        self.before = ()

    @property
    def required(self) -> bool:
        return not self.optional

    def set_reason(self, text: str, overwrite: bool = False) -> None:
        if self.reason is None or overwrite:
            self.reason = text

    def describe(self) -> str:
        rid = self.rsc.id if self.rsc else ""
        return f"{rid}_{self.task}_{self.interval_ms}@{self.node}"

#: The pseudo-action that completes a group's or a clone's phase, by the phase's task.
COMPLETION = {"start": "running", "stop": "stopped", "promote": "promoted", "demote": "demoted"}
