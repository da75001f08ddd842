"""Promotable behaviour (Pacemaker's pcmk_sched_promotable.c): a clone whose instances also take a role.

Everything of a clone, plus: promotion scores draw the instances when they
are placed, roles are chosen as soon as the instances are placed (so that
resources colocated with the promoted instance, assigned later, see where it
is; :mod:`~paceline.policy.scheduler.promotion`), each instance gets demote and
promote actions, and the clone's phases run demote, stop, start, promote - a
promoted instance moves by first stepping down.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paceline.policy.scheduler.act import BLOCKS, IMPLIES_FIRST, IMPLIES_THEN, Act
from paceline.policy.scheduler.variants.clone import Clone
from paceline.shared.cluster.model import Resource, Role

if TYPE_CHECKING:
    from paceline.policy.scheduler.actions import ActionBuilder


class Promotable(Clone):
    """The method table of a promotable clone."""

    phases: tuple[tuple[str, str], ...] = (("start", "running"), ("stop", "stopped"), ("promote", "promoted"),
                                           ("demote", "demoted"))

    def member_role_actions(self, b: ActionBuilder, clone: Resource, member: Resource, stops: list[Act],
                            start: Act | None, next_role: Role) -> Act | None:
        """An instance's demote (before it stops or steps down) and promote (after it starts).

        Both exist whenever they could matter, optional unless the role
        changes: a required stop makes its demote required, and a required
        start (a restart or recovery) makes the promote required again.
        """
        # on-fail=demote: a promoted instance whose monitor failed is demoted where it is, then promoted again
        # (unpack.c demotes it as it reads the failure; its summary says Re-promote).
        seen = member.status
        failed_demote = seen.failed and not seen.stop_if_failed and seen.role == Role.PROMOTED
        demotes: list[Act] = []
        for stop in stops:
            if member.status.role != Role.PROMOTED or stop.node is None:
                continue
            required = next_role < Role.PROMOTED or member.place.assigned != stop.node or failed_demote
            demote = b.new("demote", member, stop.node, optional=not required, pseudo=stop.pseudo)
            demote.runnable = stop.runnable
            if not member.managed:
                demote.optional = True
            b.order(demote, stop, IMPLIES_FIRST)
            demotes.append(demote)
        if next_role != Role.PROMOTED or start is None or start.node is None:
            return None
        already = member.status.role == Role.PROMOTED and member.status.active_on == [start.node] and not failed_demote
        promote = b.new("promote", member, start.node, optional=already)
        b.start_runnability(member, promote)
        if not start.runnable:
            promote.runnable = False
        b.order(start, promote, IMPLIES_THEN | BLOCKS)
        if failed_demote:
            for demote in demotes:
                b.order(demote, promote, 0)
        return promote

    def order_phases(self, b: ActionBuilder, pseudo: dict[str, Act]) -> None:
        """Every demote before any stop; promotions after demotions, stops and starts."""
        b.order(pseudo["demoted"], pseudo["stop"], 0)
        for before_promote in ("demoted", "stopped", "running"):
            b.order(pseudo[before_promote], pseudo["promote"], 0)
