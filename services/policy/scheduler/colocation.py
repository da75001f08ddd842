"""Colocations in assignment: which lists place a resource, and how a colocation changes scores.

Pacemaker's pcmk_sched_colocation.c. A resource is placed by what it is
colocated with (its *this-with* list: its primaries are assigned first and pull
or push it) and weighs what is colocated with it (its *with-this* list: the
dependents' preferences are folded in, scaled by the score, before it chooses).
Members inherit their container's lists (the variant's
``contribute_colocations``); how a colocation with a group or a clone reaches
the dependent's scores is the primary's variant's ``apply_coloc_score``, and
how a group's preferences are folded in is its ``add_colocated_scores``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paceline.policy.scheduler import instances
from paceline.policy.scheduler.activity import is_active
from paceline.policy.scheduler.variants import container_of, variant_of
from paceline.shared.cluster.model import Colocation, Resource, Role
from paceline.shared.cluster.remote import is_connection
from paceline.shared.cluster.scores import INF, add_scores, format_score, scale
from paceline.shared.cluster.unpack import insert_colocation
from paceline.shared.cluster.values import is_true

if TYPE_CHECKING:
    from paceline.policy.scheduler.placement import Placer


#: A node a clone's dependent would have pushed negative while merging (Pacemaker's INFINITY_HACK).
_UNUSABLE = -INF * 100

# ---------------------------------------------------------------- lists

def merge_lists(dest: list[Colocation], addition: list[Colocation], by_primary: bool) -> None:
    """Add a parent's list into a member's, reproducing Pacemaker HEAD's head-repeat quirk."""
    if not addition:
        return
    if not dest:
        dest.extend(addition)
        return
    for _ in addition:
        insert_colocation(dest, addition[0], by_primary)


def this_with(p: Placer, rsc: Resource) -> list[Colocation]:
    """What places ``rsc``: its own colocations with others, then its containers' (group, clone)."""
    out = list(rsc.this_with)
    _from_containers(p, rsc, out, this_with=True)
    return out


def with_this(p: Placer, rsc: Resource) -> list[Colocation]:
    """What ``rsc`` weighs before choosing: colocations with it, then with its containers."""
    out = list(rsc.with_this)
    _from_containers(p, rsc, out, this_with=False)
    return out


def _from_containers(p: Placer, rsc: Resource, out: list[Colocation], this_with: bool) -> None:
    """A clone's lists reach each instance (a group instance's through its first member), then a group's
    reach its first member (this-with) or its last (with-this)."""
    if rsc.clone_of is not None and rsc.parent is not None:
        clone = p.state.by_id[rsc.clone_of]
        variant_of(clone).contribute_colocations(p, clone, rsc, out, this_with)
    container = container_of(p.state, rsc)
    if container is not None:
        variant_of(container).contribute_colocations(p, container, rsc, out, this_with)


def add_member_colocations(out: list[Colocation], group: Resource, rsc: Resource, this_with: bool) -> None:
    """The other members' own colocations also place a (collocated) group as a whole.

    The first member decides where the group goes (its later members follow
    it), so it must already weigh what a later member is colocated with;
    symmetrically the last member answers for colocations with any member.
    Only explicit (user) constraints count: the internal member chain is
    what makes the members follow each other in the first place.
    """
    if not is_true(group.meta.get("collocated"), True):
        return
    for member in group.children:
        if member is rsc:
            continue
        for c in (member.this_with if this_with else member.with_this):
            if not c.id.startswith("#"):
                insert_colocation(out, c, by_primary=this_with)


def has_influence(c: Colocation) -> bool:
    """Does the colocation move the primary (``influence``), or is the primary not active anyway? A bundle's
    connection never moves its container when that runs cleanly on one node: moving a connection is cheap,
    moving a container interrupts the service (``pcmk__colocation_has_influence``)."""
    primary = c.primary
    if c.dependent.in_bundle is not None and is_connection(c.dependent) and not primary.status.failed \
            and len(primary.status.active_on) == 1:
        return False
    return c.influence or not is_active(primary)


# ---------------------------------------------------------------- this-with: the dependent's scores

def apply_this_with(p: Placer, c: Colocation, rsc: Resource) -> None:
    """Assign the primary, then let it change ``rsc``'s scores (undone if that leaves no node)."""
    archive = None
    if (c.dependent_role is not None and c.dependent_role >= Role.PROMOTED) or -INF < c.score < 0:
        archive = dict(rsc.place.allowed)
    primary = c.primary
    if not primary.place.assign_done:
        p.assign(primary)
    if c.dependent_role is not None and rsc.clone_of is not None:
        pass    # a role of the clone's instances: weighed when roles are chosen (promotion), not here
    else:
        variant_of(primary).apply_coloc_score(p, rsc, primary, c)
    if archive is not None and not p.any_available(rsc.place.allowed):
        p.replace_table(rsc, archive, f"colocation {c.id} undone: it left no node available")


def apply_to_scores(p: Placer, rsc: Resource, primary: Resource, c: Colocation) -> None:
    """Colocation with an assigned primitive: its node (and those sharing the attribute) gain or lose."""
    if not primary.place.assign_done or rsc.place.assign_done:
        return
    if c.primary_role is not None and (primary.next_role or primary.status.role) != c.primary_role:
        return
    pnode = primary.place.assigned
    if pnode is None and c.score < 0:
        return
    value = p.attr_key(pnode, c.node_attribute) if pnode is not None else None
    work = dict(rsc.place.allowed)
    for node, score in work.items():
        if pnode is None:
            work[node] = add_scores(-c.score, score)
        elif p.attr_key(node, c.node_attribute) == value:
            if c.score < INF:
                work[node] = add_scores(c.score, score)
        elif c.score >= INF:
            work[node] = -INF
    if c.mandatory or p.any_available(work):
        where = f"on {pnode}" if pnode is not None else "not placed"
        p.replace_table(rsc, work, f"colocation {c.id} with {c.primary.id} "
                                   f"(score {format_score(c.score)}; {primary.id} {where})")


def apply_with_instances(p: Placer, rsc: Resource, clone: Resource, c: Colocation) -> None:
    """Colocation with a clone: with any of its instances (in the role asked for), wherever they went.

    An optional one that names no role is applied instance by instance, as ``pcmk__clone_apply_coloc_score``
    does: each placed instance adds the score where it went, and each instance left unplaced takes the score
    off every node (each step rolled back on its own if it leaves no node available)."""
    if rsc.place.assign_done:
        return
    if -INF < c.score < INF and not instances.role_colocation(clone, c):
        for instance in clone.children:
            variant_of(instance).apply_coloc_score(p, rsc, instance, c)
        return
    # A role is looked at only for a promotable clone's instances, or when the colocation is optional (each
    # instance is then weighed on its own, pcmk__colocation_affects); a mandatory one with a clone whose
    # instances take no role only needs one there (pcmk__clone_apply_coloc_score).
    any_role = c.score >= INF and not clone.promotable
    values = {p.attr_key(i.place.assigned, c.node_attribute) for i in clone.children
              if i.place.assigned is not None and (c.primary_role is None or any_role or i.next_role == c.primary_role)
              and not (c.score >= INF and instances.blocked(i))}
    if not values and (c.score < 0 or (c.score < INF and instances.role_colocation(clone, c))):
        return      # pcmk__update_dependent_with_promotable: an optional one only adds where instances are
    keys = p.attr_keys(c.node_attribute)
    merged = instances.promoted_node_scores(p.state, clone, c)
    work = dict(rsc.place.allowed)
    for node, score in work.items():
        if not values:
            work[node] = add_scores(-c.score, score)
        elif keys.get(node) in values:
            if c.score < INF:
                work[node] = add_scores(c.score, score)
            elif node in merged:
                work[node] = add_scores(score, merged[node])
        elif c.score >= INF:
            work[node] = -INF
    if c.mandatory or p.any_available(work):
        role = f" ({c.primary_role.text})" if c.primary_role is not None else ""
        p.replace_table(rsc, work, f"colocation {c.id} with clone {clone.id}{role} "
                                   f"(score {format_score(c.score)})")


# ---------------------------------------------------------------- with-this: the primary weighs dependents

def add_dependent_scores(p: Placer, c: Colocation, primary: Resource) -> None:
    """Fold a dependent's preferences (and its own dependents', recursively) into the primary's table."""
    if not has_influence(c):
        return
    # A clone's dependents never push one of its nodes negative (pcmk__coloc_select_nonnegative).
    result = add_colocated(p, c.dependent, primary.place.allowed, c, factor=c.score / INF, positive=primary.is_clone)
    if result is not None:
        p.replace_table(primary, result, f"colocation {c.id}: {c.dependent.id} follows it "
                                         f"(score {format_score(c.score)}, its preferences weighed)")


def add_colocated(p: Placer, source: Resource, table: dict[str, int], c: Colocation,
                  factor: float, positive: bool = False, active: bool = True) -> dict[str, int] | None:
    """``source``'s preferences folded into a copy of the table; None means "roll this step back".

    ``merging`` guards against a loop of colocations folding a resource into itself. ``positive``: no node
    is made negative (a node whose positive score would be ends up at 1). ``active`` (Pacemaker's
    ``pcmk__coloc_select_active``): a step that leaves no node available is rolled back; without it (only
    the first step of ``cmp_instance_by_colocation``) the step stands and goes no further."""
    if source.place.merging:
        return table
    source.place.merging = True
    try:
        return variant_of(source).add_colocated_scores(p, source, table, c, factor, positive, active)
    finally:
        source.place.merging = False


def add_primitive_scores(p: Placer, source: Resource, table: dict[str, int], c: Colocation,
                         factor: float, positive: bool = False, active: bool = True) -> dict[str, int] | None:
    """A primitive's preferences, then those of what is colocated with it, scaled on (the deeper steps
    always roll back when they leave no node available: ``pcmk__add_colocated_node_scores``)."""
    work = dict(table)
    add_matching(p, work, source, c, factor, positive)
    if not p.any_available(work):
        return None if active else _without_unusable(work, positive)
    for c2 in with_this(p, source):
        if not has_influence(c2):
            continue
        result = add_colocated(p, c2.dependent, work, c2, factor * c2.score / INF, positive)
        if result is not None:
            work = result
    return _without_unusable(work, positive)


def _without_unusable(work: dict[str, int], positive: bool) -> dict[str, int]:
    """Nodes a positive-only merge marked unusable end at 1 (a merge may not make them negative)."""
    if positive:
        for node, score in work.items():
            if score == _UNUSABLE:
                work[node] = 1
    return work


def _best_by_value(p: Placer, source: Resource, c: Colocation) -> dict[str | None, int]:
    """The best score ``source`` has on an available node, per value of the colocation's node attribute."""
    best: dict[str | None, int] = {}
    keys = p.attr_keys(c.node_attribute)
    for other, score in _table_with_group_locations(p, source, c).items():
        if score > -INF and p.available(other):
            key = keys.get(other)
            if score > best.get(key, -INF):
                best[key] = score
    return best


def _table_with_group_locations(p: Placer, source: Resource, c: Colocation) -> dict[str, int]:
    """``source``'s table, plus its group's location scores if those never reached it.

    A group's locations land on its first member only (the rest follow
    through the member chain). When a later member is itself the dependent
    of a user colocation, its primary must not be drawn to a node the group
    is banned from, so the group's locations are weighed here as if they
    were the member's own.
    """
    group = source.parent
    if (c.dependent is not source or c.id.startswith("#") or group is None or not group.is_group
            or source is group.children[0]):
        return source.place.allowed
    table = dict(source.place.allowed)
    for loc in p.state.locations:
        if loc.rsc is not group or (loc.role is not None and loc.role >= Role.PROMOTED):
            continue
        for node, score in loc.node_scores:
            table[node] = add_scores(table[node], score) if node in table else score
    return table


def add_matching(p: Placer, work: dict[str, int], source: Resource, c: Colocation, factor: float,
                 positive: bool = False) -> None:
    """Add ``source``'s best score per node-attribute value, scaled, to each node sharing that value
    (add_node_scores_matching_attr)."""
    best_by_value = _best_by_value(p, source, c)
    keys = p.attr_keys(c.node_attribute)
    for node in list(work):
        best = best_by_value.get(keys.get(node), -INF)
        if factor < 0 and best < 0:
            primary = c.primary
            if primary.stickiness >= -best or not has_influence(c) or not _allowed_on_one(c.dependent):
                continue
        old = work[node]
        if old == _UNUSABLE:
            continue
        delta = scale(best, factor)
        if delta == 0 and best != 0 and factor != 0:
            delta = 1 if factor > 0 else -1
        new = add_scores(delta, old)
        if positive and new < 0 and old >= 0:
            if old > 0:         # add_node_scores_matching_attr's INFINITY_HACK: 1 once the merge is done
                work[node] = _UNUSABLE
            continue
        work[node] = new


def _allowed_on_one(rsc: Resource) -> bool:
    return sum(1 for score in rsc.place.allowed.values() if score >= 0) == 1
