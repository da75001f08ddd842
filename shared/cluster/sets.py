"""Resource sets in colocations and orderings, expanded into the pairwise constraints they stand for.

crmsh writes a set whenever a constraint names more than two resources
(``colocation c inf: a b c``, ``order o Mandatory: a ( b c ) d``); Pacemaker
reads them with rules that surprise even seasoned users, so they are spelled
out here, each checked against crm_simulate:

* colocation: inside a set (``sequential``, default true) each member goes
  with the one *before* it; between two consecutive sets the earlier set
  goes with the later one - its first member (every member if not
  sequential) with the later set's last member (every member if not
  sequential). A set may carry its own ``score`` and ``role``.
* order: inside a sequential set each member's ``action`` (default start)
  comes after the previous member's; between two sets the earlier set comes
  first - from its last member to the next set's first member only when
  ``sequential="true"`` is *written* on them (a set without the attribute is
  ordered member by member with every member of the other set). A set with
  ``require-all="false"`` lets the next set go once any one of its members
  has: a ``one-or-more`` pseudo-action stands between them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from paceline.shared.cib import Element
from paceline.shared.cluster.model import ClusterState, Colocation, OneOrMore, Ordering, Resource, Role
from paceline.shared.cluster.scores import parse_score
from paceline.shared.cluster.values import is_true


@dataclass
class ResourceSet:
    id: str
    members: list[Resource]
    sequential: bool            # as Pacemaker reads it inside the set (default true)
    sequential_written: bool    # sequential="true" spelled out (what orderings between sets look at)
    require_all: bool
    action: str
    role: Role | None
    score: int | None


#: How a constraint's id names resources: a resource, a tag (several), or nothing known (empty).
Resolver = Callable[[ClusterState, str | None], list[Resource]]


def read_sets(el: Element, state: ClusterState, kind: str, resolve: Resolver) -> list[ResourceSet] | None:
    """The constraint's sets, members resolved by ``resolve`` (tags expanded); None when one names nothing
    known (a configuration error says which)."""
    out: list[ResourceSet] = []
    for rset in el.iterfind("resource_set"):
        members: list[Resource] = []
        for ref in rset.iterfind("resource_ref"):
            found = resolve(state, ref.get("id"))
            if not found:
                state.unusable_reference(f"{kind} {el.get('id')!r}", f"set {rset.get('id')!r} names "
                                         f"{ref.get('id')!r}", ref.get("id"))
                return None
            members += [m for m in found if m not in members]
        role = Role.parse(rset.get("role"))
        out.append(ResourceSet(
            id=rset.get("id", ""), members=members, sequential=is_true(rset.get("sequential"), True),
            sequential_written=is_true(rset.get("sequential"), False),
            require_all=is_true(rset.get("require-all"), True), action=rset.get("action") or "start",
            role=None if role in (None, Role.STARTED) else role,
            score=parse_score(rset.get("score"), 0) if rset.get("score") is not None else None))
    return [s for s in out if s.members]


def colocations(cid: str, sets: list[ResourceSet], score: int, influence: bool | None) -> list[Colocation]:
    """The pairwise colocations of a colocation with sets (``influence`` None: the dependent's ``critical``)."""
    out: list[Colocation] = []

    def add(dependent: Resource, primary: Resource, value: int, d_role: Role | None, p_role: Role | None) -> None:
        if value != 0 and dependent is not primary:
            out.append(Colocation(id=cid, dependent=dependent, primary=primary, score=value, dependent_role=d_role,
                                  primary_role=p_role,
                                  influence=dependent.critical if influence is None else influence))

    for s in sets:
        if not s.sequential:
            continue
        value = s.score if s.score is not None else score
        if value >= 0:      # a chain: each member with the one before it
            for prev, cur in pairwise(s.members):
                add(cur, prev, value, s.role, s.role)
        else:               # apart: each member from every one before it (unpack_colocation_set)
            for i, cur in enumerate(s.members):
                for prev in s.members[:i]:
                    add(cur, prev, value, s.role, s.role)
    for first, second in pairwise(sets):
        dependents = first.members[:1] if first.sequential else first.members
        primaries = second.members[-1:] if second.sequential else second.members
        for dependent in dependents:
            for primary in primaries:
                add(dependent, primary, score, first.role, second.role)
    return out


def orderings(oid: str, sets: list[ResourceSet], kind: str, symmetrical: bool
              ) -> tuple[list[Ordering], list[OneOrMore]]:
    """The pairwise orderings of an order with sets, and its one-or-more joins."""
    pairs: list[Ordering] = []
    joins: list[OneOrMore] = []

    def add(first: Resource, then: Resource, first_action: str, then_action: str) -> None:
        if first is not then:
            pairs.append(Ordering(id=oid, first=first, then=then, first_action=first_action,
                                  then_action=then_action, kind=kind, symmetrical=symmetrical))

    for s in sets:
        if s.sequential:
            for prev, cur in pairwise(s.members):
                add(prev, cur, s.action, s.action)
    for first, second in pairwise(sets):
        thens = second.members[:1] if second.sequential_written else second.members
        if not first.require_all:
            joins.append(OneOrMore(id=f"one-or-more:{first.id}", firsts=first.members, first_action=first.action,
                                   thens=thens, then_action=second.action, kind=kind))
            continue
        firsts = first.members[-1:] if first.sequential_written else first.members
        for a in firsts:
            for b in thens:
                add(a, b, first.action, second.action)
    return pairs, joins
