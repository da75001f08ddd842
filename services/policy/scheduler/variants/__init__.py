"""One method table per resource kind, as Pacemaker's ``pcmk__assignment_methods_t`` (pcmk_sched_resource.c).

Everything the scheduler does differently for a primitive, a group or a clone
is a method of that kind's :class:`Variant`; the concept modules (colocation,
location, utilization, orderings, probes, recurring, migration,
notifications) and the two cores (``placement.Placer``, ``actions.ActionBuilder``)
ask ``variant_of(rsc)`` instead of testing the kind. Adding a kind is one new
module here plus its entry in :data:`TABLE`.

A promotable clone is a clone with promotable behaviour: its table entry
(:class:`~paceline.policy.scheduler.variants.promotable.Promotable`) extends the
clone's, adding role choice after assignment, promotion scores, and the
promote/demote phases.

The model's shape, which the methods follow: ``state.resources`` lists the
*assignment units* in order - primitives, groups, and each clone's instances
(a primitive or a group each, ``clone_of`` naming the clone); the clone itself
(kind ``clone``, its instances as children) is reached through ``clone_of``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from paceline.shared.cluster.model import Resource

if TYPE_CHECKING:
    from paceline.policy.scheduler.act import Act
    from paceline.policy.scheduler.actions import ActionBuilder
    from paceline.policy.scheduler.placement import Placer
    from paceline.policy.scheduler.summary import Line
    from paceline.shared.cluster.model import ClusterState, Colocation, Role


class Variant(Protocol):
    """What each kind of resource does at each step of scheduling."""

    # ---- assignment (placement.Placer)
    def assign(self, p: Placer, rsc: Resource, prefer: str | None = None, stop_if_fail: bool = True) -> str | None:
        """Choose the node (None: nowhere), assigning whatever must go first (Pacemaker's ``assign``);
        ``prefer`` wins if as good as the best, ``stop_if_fail`` False leaves a failed attempt unmarked."""

    def apply_location(self, p: Placer, rsc: Resource, node: str, score: int, why: str) -> None:
        """A location score given to this resource (Pacemaker's ``apply_location``)."""

    def before_assign(self, p: Placer, rsc: Resource) -> None:
        """Scores of the kind's own, once every constraint's have been applied (promotion scores)."""

    def assigned_nodes(self, rsc: Resource) -> list[str]:
        """Where it was assigned: every instance's node for a clone (Pacemaker's ``location`` method)."""

    # ---- colocation (colocation.py)
    def apply_coloc_score(self, p: Placer, dependent: Resource, primary: Resource, c: Colocation) -> None:
        """Update the dependent's scores for a colocation whose primary is of this kind (``apply_coloc_score``)."""

    def add_colocated_scores(self, p: Placer, source: Resource, table: dict[str, int], c: Colocation,
                             factor: float, positive: bool = False, active: bool = True) -> dict[str, int] | None:
        """Fold this resource's preferences into a primary's table (``add_colocated_node_scores``)."""

    def contribute_colocations(self, p: Placer, container: Resource, member: Resource, out: list[Colocation],
                               this_with: bool) -> None:
        """Add what the container (group, clone) is colocated with to a member's list (``with_this_colocations``
        / ``this_with_colocations`` asked of the parent)."""

    # ---- actions (actions.ActionBuilder)
    def create_actions(self, b: ActionBuilder, rsc: Resource) -> None:
        """The actions it needs (Pacemaker's ``create_actions``)."""

    def member_role_actions(self, b: ActionBuilder, container: Resource, member: Resource, stops: list[Act],
                            start: Act | None, next_role: Role) -> Act | None:
        """A member's demotes and promote, where the container promotes (returns the promote)."""

    def internal_constraints(self, b: ActionBuilder, rsc: Resource) -> None:
        """Orderings among its own actions (Pacemaker's ``internal_constraints``)."""

    def first_actions(self, b: ActionBuilder, rsc: Resource, task: str) -> list[Act]:
        """The actions an ordering that names this resource first waits for (``action_flags`` side)."""

    def then_actions(self, b: ActionBuilder, rsc: Resource, task: str) -> list[Act]:
        """The actions an ordering that names this resource then constrains."""

    # ---- output
    def summary_lines(self, state: ClusterState, b: ActionBuilder, rsc: Resource) -> list[Line]:
        """Its Transition Summary lines (Pacemaker's ``output_actions``)."""


def variant_of(rsc: Resource) -> Variant:
    """The method table for a resource's kind."""
    if not TABLE:
        _load()
    if rsc.is_clone and rsc.promotable:
        return TABLE["promotable"]
    return TABLE[rsc.kind]


def container_of(state: ClusterState, rsc: Resource) -> Resource | None:
    """The group a member belongs to, else the clone an instance belongs to, else the bundle a replica's
    resource belongs to (None at the top)."""
    if rsc.parent is not None:
        return rsc.parent
    if rsc.clone_of is not None:
        return state.by_id[rsc.clone_of]
    # A bundle's container, address or connection (its clone passes the bundle's colocations on to nothing).
    return bundle_of(state, rsc)


def bundle_of(state: ClusterState, rsc: Resource) -> Resource | None:
    """The bundle a container, address, connection, clone or bundled instance belongs to."""
    return state.by_id.get(rsc.in_bundle) if rsc.in_bundle is not None else None


def _table() -> dict[str, Variant]:
    from paceline.policy.scheduler.variants.bundle import Bundle
    from paceline.policy.scheduler.variants.clone import Clone
    from paceline.policy.scheduler.variants.group import Group
    from paceline.policy.scheduler.variants.primitive import Primitive
    from paceline.policy.scheduler.variants.promotable import Promotable
    return {"primitive": Primitive(), "group": Group(), "clone": Clone(), "promotable": Promotable(),
            "bundle": Bundle()}


#: kind -> its methods. Filled on first use: the variant modules use the concept modules, which ask this one.
TABLE: dict[str, Variant] = {}


def _load() -> None:
    TABLE.update(_table())
