"""Tickets: the cluster-wide tokens (``booth`` grants them per site) that ``rsc_ticket`` constraints depend on.

A ticket's state lives in the CIB status section, ``<tickets><ticket_state id="T" granted="true"
standby="false" last-granted="..."/></tickets>``, written by ``crm_ticket`` (and booth through it). A
ticket that only a constraint names exists too, neither granted nor in standby: a resource depending on
it may not run until someone grants it (Pacemaker's ``ticket_new``).

This module reads both halves as Pacemaker's ``unpack_tickets_state`` and ``pcmk__unpack_rsc_ticket``
read them: the states, and each ``rsc_ticket`` (one resource with an optional ``rsc-role``, or resource
sets each with its ``role``) with its ``loss-policy`` validated and defaulted. What the constraints *do*
(bans, demotion, fencing, freezing) is the scheduler's business (``paceline.policy.scheduler.tickets``);
the status page only shows the states.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from paceline.shared import cib
from paceline.shared.cib import Element
from paceline.shared.cluster.model import ClusterState, Resource, Role
from paceline.shared.cluster.sets import Resolver
from paceline.shared.cluster.values import INT64_MAX, INT64_MIN, is_true, leading_int, shown

#: What ``loss-policy`` may say: what happens to a resource that is running when its ticket is revoked.
LOSS_POLICIES = ("stop", "demote", "fence", "freeze")


@dataclass
class Ticket:
    """One ticket's state: ``granted`` and ``standby`` as ``crm_ticket`` sets them."""

    id: str
    granted: bool = False
    standby: bool = False
    last_granted: int | None = None             # seconds since the epoch, when it was last granted
    attrs: dict[str, str] = field(default_factory=dict)   # every attribute of its ticket_state, id aside

    @property
    def usable(self) -> bool:
        """Granted and not in standby: what a resource depending on it needs to run."""
        return self.granted and not self.standby


@dataclass
class RscTicket:
    """One resource's dependency on a ticket (one ``rsc_ticket``, or one member of one of its sets)."""

    id: str                     # the constraint's id, or its set's id for a set member (as Pacemaker names it)
    rsc: Resource
    ticket: Ticket
    loss_policy: str            # one of LOSS_POLICIES, defaults and fencing already applied
    role: Role | None           # the role the dependency holds for; None: every role ("Started" too)


def read_states(root: Element) -> dict[str, Ticket]:
    """Every ``ticket_state`` of the status section, as Pacemaker's ``unpack_ticket_state`` reads it."""
    out: dict[str, Ticket] = {}
    for el in root.iterfind("status/tickets/ticket_state"):
        tid = el.get("id")
        if not tid:
            continue
        ticket = out.setdefault(tid, Ticket(tid))
        ticket.attrs.update((k, v) for k, v in cib.attributes(el).items() if k != "id")
        ticket.granted = is_true(ticket.attrs.get("granted"), False)
        ticket.standby = is_true(ticket.attrs.get("standby"), False)
        last = ticket.attrs.get("last-granted")
        ticket.last_granted = None if last is None else leading_int(last, 0, INT64_MIN, INT64_MAX)
    return out


def unpack(root: Element, state: ClusterState, resolve: Resolver) -> None:
    """Fill ``state.tickets`` and ``state.rsc_tickets`` from the CIB (after the resources and constraints).

    ``resolve`` is how the other constraints read a resource id (a tag stands for what it names)."""
    state.tickets = read_states(root)
    cons = root.find("configuration/constraints")
    if cons is None:
        return
    templates = _template_users(root)
    for el in cons.iterfind("rsc_ticket"):
        _unpack_rsc_ticket(el, state, _Names(state, resolve, templates))


class _Names:
    """How an ``rsc_ticket`` names resources: as other constraints do, plus templates (each resource made
    from one) and a cloned resource's own id (its clone), as Pacemaker's ``pcmk__expand_tags_in_sets`` and
    ``pcmk__find_constraint_resource`` resolve them."""

    def __init__(self, state: ClusterState, resolve: Resolver, templates: dict[str, list[str]]):
        self.state = state
        self.resolve = resolve
        self.templates = templates

    def __call__(self, rid: str) -> list[Resource]:
        ids = self.templates.get(rid, [rid])
        out: list[Resource] = []
        for one in ids:
            found = self.resolve(self.state, one) or self._clone_of(one)
            out += [r for r in found if r not in out]
        return out

    def _clone_of(self, rid: str) -> list[Resource]:
        """The clone a cloned resource's own id (``rsc`` inside ``clone``) stands for: Pacemaker finds an
        instance and answers with its top-most parent."""
        instances = self.state.clones.get(rid)
        if not instances:
            return []
        top = instances[0]
        while top.parent is not None:
            top = top.parent
        clone = self.state.by_id.get(top.clone_of) if top.clone_of is not None else top
        return [] if clone is None else [clone]


def _template_users(root: Element) -> dict[str, list[str]]:
    """Template id -> the ids of the primitives made from it, in configuration order."""
    out: dict[str, list[str]] = {t.get("id", ""): [] for t in root.iterfind("configuration/resources/template")}
    for prim in root.iterfind("configuration/resources//primitive[@template]"):
        users = out.get(prim.get("template", ""))
        if users is not None and prim.get("id"):
            users.append(prim.get("id", ""))
    return out


def _unpack_rsc_ticket(el: Element, state: ClusterState, names: _Names) -> None:
    """One ``rsc_ticket``, as ``pcmk__unpack_rsc_ticket`` reads it: sets if it has any, else ``rsc``."""
    cid = el.get("id")
    where = f"rsc_ticket {shown(cid or '')}"
    if not cid:
        state.config_error(f"{where}: has no id; constraint ignored")
        return
    tid = el.get("ticket")
    if not tid:
        state.config_error(f"{where}: ticket is missing; constraint ignored")
        return
    ticket = state.tickets.setdefault(tid, Ticket(tid))     # named only here: exists, not granted
    loss_policy = el.get("loss-policy")
    sets = el.findall("resource_set")
    if sets:
        for rset in sets:
            if not _unpack_set(rset, el, state, names, ticket, loss_policy):
                return      # Pacemaker stops at the first bad set; the sets before it hold
        return
    rid = el.get("rsc")
    if rid is None:
        state.config_error(f"{where}: rsc is missing; constraint ignored")
        return
    found = names(rid)
    if not found:
        state.unusable_reference(where, f"rsc={shown(rid)}", rid)
        return
    role = _role(el.get("rsc-role"), state, where, "rsc-role")
    for rsc in found:
        _add(state, RscTicket(cid, rsc, ticket, "", role), loss_policy, where)


def _unpack_set(rset: Element, el: Element, state: ClusterState, names: _Names, ticket: Ticket,
                loss_policy: str | None) -> bool:
    """One set of an ``rsc_ticket`` (its members named by the set's id); False when it cannot be used."""
    where = f"rsc_ticket {shown(el.get('id') or '')}"
    set_id = rset.get("id")
    if not set_id:
        state.config_error(f"{where}: a resource_set has no id; constraint ignored from there")
        return False
    role = _role(rset.get("role"), state, f"{where} set {shown(set_id)}", "role")
    for ref in rset.iterfind("resource_ref"):
        found = names(ref.get("id") or "")
        if not found:
            state.unusable_reference(where, f"set {shown(set_id)} names {shown(ref.get('id') or '')}",
                                     ref.get("id"))
            return False
        for rsc in found:
            _add(state, RscTicket(set_id, rsc, ticket, "", role), loss_policy, where)
    return True


def _role(text: str | None, state: ClusterState, where: str, attr: str) -> Role | None:
    """The role a dependency holds for: none written, or Started, means every role (``rsc_ticket_new``)."""
    role = Role.parse(text)
    if text is not None and role is None:
        state.config_error(f"{where}: {attr}={shown(text)} is not a role; the constraint holds for every role")
    return None if role in (None, Role.STARTED, Role.UNKNOWN) else role


def _add(state: ClusterState, dep: RscTicket, loss_policy: str | None, where: str) -> None:
    """Record one dependency with its loss-policy as ``rsc_ticket_new`` settles it: ``fence`` only where
    fencing is enabled (else ``stop``, a configuration error), and by default ``demote`` for the promoted
    role, ``stop`` otherwise."""
    policy = (loss_policy or "").lower()
    if policy == "fence" and not state.fencing_enabled:
        state.config_error(f"{where}: loss-policy=fence for ticket {shown(dep.ticket.id)} needs fencing "
                           "enabled; using stop")
        policy = "stop"
    if policy not in LOSS_POLICIES:
        default = "demote" if dep.role == Role.PROMOTED else "stop"
        if loss_policy is not None:
            state.config_error(f"{where}: loss-policy={shown(loss_policy)} is not one of "
                               f"{', '.join(LOSS_POLICIES)}; using {default}")
        policy = default
    dep.loss_policy = policy
    state.rsc_tickets.append(dep)
