"""Clone notifications (``notify=true``): tell every instance before and after the others change.

Replicated services - a database with a primary and replicas, a DRBD-like
device - need to know when a peer instance starts, stops, is promoted or
demoted: the replicas must follow a new primary. Pacemaker therefore
surrounds each phase of a clone's transition (demote, stop, start, promote, in
that order) with a *pre* and a *post* notification: the agent of every
instance running at that moment is called with the ``notify`` action and
``CRM_meta_notify_*`` variables naming who starts, stops, is promoted or
demoted, and where, and which instances are active, promoted or not.

The notifications are added once the flags are settled (they change no
decision): for every phase in which some instance really acts, pseudo-actions
``pre_notify_<phase>`` and ``confirmed-pre_notify_<phase>`` bracket the
instances' pre-notifications before the phase begins, and
``post_notify_<phase>ed`` / ``confirmed-post_notify_<phase>ed`` bracket the
post-notifications after it completes; consecutive phases chain, and whatever
is ordered after the clone's phase waits for its confirmed post-notification.
Notifications leave no trace in the resource history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paceline.policy.scheduler.activity import current_node
from paceline.shared.cluster.model import Resource, Role
from paceline.shared.cluster.values import is_true

if TYPE_CHECKING:
    from paceline.policy.scheduler.actions import Act, ActionBuilder

# Each phase: the clone's pseudo-actions that begin and complete it.
PHASES = (("demote", "demoted"), ("stop", "stopped"), ("start", "running"), ("promote", "promoted"))
EMPTY = " "          # what Pacemaker passes for an empty list


def wants_notifications(clone: Resource) -> bool:
    return clone.is_clone and is_true(clone.meta.get("notify"), False)


def _included(act: Act) -> bool:
    return act.required and act.runnable and act.node is not None


def _words(items: list[str]) -> str:
    return " ".join(items) if items else EMPTY


def _pairs(prefix: str, pairs: list[tuple[str, str]]) -> dict[str, str]:
    """``notify_<prefix>_resource`` and ``notify_<prefix>_uname``: instance ids and their nodes, in step."""
    return {f"notify_{prefix}_resource": _words([r for r, _ in pairs]),
            f"notify_{prefix}_uname": _words([n for _, n in pairs])}


class _Clone:
    """Who does what in this transition, per instance primitive of one clone."""

    def __init__(self, b: ActionBuilder, clone: Resource):
        self.b = b
        self.clone = clone
        self.parts = clone.primitives()
        self.current = {p.id: current_node(b.state, p) for p in self.parts}
        self.acting = {task: [(p, a) for p in self.parts for a in b.find(p, task) if _included(a)]
                       for task, _done in PHASES}

    def doing(self, task: str) -> list[tuple[str, str]]:
        return [(p.id, a.node or "") for p, a in self.acting[task]]

    def lists(self) -> dict[str, str]:
        state = self.b.state
        active = [(p.id, node) for p in self.parts if (node := self.current[p.id]) is not None]
        promoted = [(p.id, node) for p in self.parts if (node := self.current[p.id]) and p.status.role == Role.PROMOTED]
        unpromoted = [(p.id, node) for p in self.parts
                      if (node := self.current[p.id]) and p.status.role != Role.PROMOTED and self.clone.promotable]
        out = {**_pairs("start", self.doing("start")), **_pairs("stop", self.doing("stop")),
               **_pairs("promote", self.doing("promote")), **_pairs("demote", self.doing("demote")),
               **_pairs("active", active),
               "notify_inactive_resource": _words([p.id for p in self.parts if self.current[p.id] is None]),
               **_pairs("promoted", promoted), **_pairs("master", promoted),
               **_pairs("unpromoted", unpromoted), **_pairs("slave", unpromoted),
               "notify_all_uname": _words(list(state.nodes)),
               "notify_available_uname": _words([n.name for n in state.nodes.values() if n.online and not n.unclean])}
        return out

    def running_around(self, task: str, after: bool) -> list[tuple[Resource, str]]:
        """The instances to notify before (``after`` False) or after a phase: those running at that moment.

        Phases run in the order demote, stop, start, promote: before the stops
        every active instance runs; between stops and starts, those not
        stopping; from the starts on, every instance placed somewhere.
        """
        stopping = {p.id for p, _a in self.acting["stop"]}

        def node_of(p: Resource) -> str | None:
            if task == "demote" or (task == "stop" and not after):
                return self.current[p.id]
            if task == "stop" or (task == "start" and not after):
                return None if p.id in stopping else self.current[p.id]
            return p.place.assigned if (p.next_role or Role.STARTED) > Role.STOPPED else None

        return [(p, node) for p in self.parts if (node := node_of(p)) is not None and self.b.node_ok(node)]


def add_notifications(b: ActionBuilder, clone: Resource) -> None:
    """Notification actions around each phase of ``clone`` in which an instance acts (see the module doc)."""
    who = _Clone(b, clone)
    lists = who.lists()
    previous: Act | None = None
    confirmations: list[Act] = []
    for begin, done in PHASES:
        if not who.acting[begin]:
            continue
        begin_act, done_act = b.find(clone, begin), b.find(clone, done)
        if not begin_act or not done_act:
            continue
        pre = _pseudo(b, clone, f"pre_notify_{begin}")
        confirmed_pre = _pseudo(b, clone, f"confirmed-pre_notify_{begin}")
        post = _pseudo(b, clone, f"post_notify_{done}")
        confirmed_post = _pseudo(b, clone, f"confirmed-post_notify_{done}")
        _notify_each(b, who, {**lists, "notify_key_operation": begin}, begin, "pre", pre, confirmed_pre)
        _notify_each(b, who, {**lists, "notify_key_operation": done}, begin, "post", post, confirmed_post)
        b.order(confirmed_pre, begin_act[0], 0)
        b.order(done_act[0], post, 0)
        b.order(confirmed_pre, post, 0)
        if previous is not None:
            b.order(previous, pre, 0)
        for then, _flags in list(done_act[0].after):     # what waits for the phase waits for its notifications
            if then.rsc is not clone and (then.rsc is None or then.rsc.clone_of != clone.id):
                b.order(confirmed_post, then, 0)
        previous = confirmed_post
        confirmations.append(confirmed_post)
    for part in who.parts:         # the new role's monitors start once everybody has been told
        for act in b.by_rsc.get(part.id, ()):
            if act.task == "monitor" and act.interval_ms > 0 and _included(act):
                for confirmed in confirmations:
                    b.order(confirmed, act, 0)


def _pseudo(b: ActionBuilder, clone: Resource, task: str) -> Act:
    return b.new(task, clone, None, optional=False, pseudo=True)


def _notify_each(b: ActionBuilder, who: _Clone, lists: dict[str, str], operation: str, kind: str,
                 start: Act, confirmed: Act) -> None:
    b.order(start, confirmed, 0)
    for part, node in who.running_around(operation, after=kind == "post"):
        act = b.new("notify", part, node, optional=False)
        act.meta = {**lists, "notify_type": kind, "notify_key_type": kind, "notify_operation": operation}
        b.order(start, act, 0)
        b.order(act, confirmed, 0)
