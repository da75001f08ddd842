"""Tickets: the cluster-wide tokens (``booth`` grants them per site) that ``rsc_ticket`` constraints depend on.

A ticket's state lives in the CIB status section, ``<tickets><ticket_state id="T" granted="true"
standby="false" last-granted="..."/></tickets>``, written by ``crm_ticket`` (and booth through it). A
ticket that only a constraint names exists too, neither granted nor in standby: a resource depending on
it may not run until someone grants it (Pacemaker's ``ticket_new``).

This module reads both halves as Pacemaker's ``unpack_tickets_state`` and ``pcmk__unpack_rsc_ticket``
read them: the states, and each ``rsc_ticket`` (one resource with an optional ``rsc-role``, or resource
sets each with its ``role``) with its ``loss-policy`` validated and defaulted; and applies what a dependency
on a ticket that is not usable does (``apply_constraints``: bans, fencing, freezing - the scheduler before
placing anything, crm_mon's page when it shows tickets); refusing promotion is the scheduler's
(``paceline.policy.scheduler.tickets``). Below those: the tickets as crm_mon and crm_ticket print them, and
the change of the status section's tickets the gateway sends the cib-store.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from lxml import etree
from paceline.shared import cib
from paceline.shared.cib import Element
from paceline.shared.cluster.model import ClusterState, Resource, Role
from paceline.shared.cluster.scores import INF
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


# ------------------------------------------------------------------ what a dependency does

#: Why a node is fenced when a ticket with loss-policy=fence is revoked (Pacemaker's words).
FENCE_REASON = "deadman ticket was lost"


def apply_constraints(state: ClusterState) -> None:
    """Every dependency on a ticket that is not usable, applied as Pacemaker applies it while unpacking the
    constraints (``rsc_ticket_new`` calls ``constraints_for_ticket``): the scheduler does before placing
    anything, and crm_mon does when it shows tickets (``-c``), which is why its page then shows a frozen
    resource blocked and a node to be fenced for a lost ticket unclean.

    The bans are location scores for every node (the placement applies them with the other bans found
    while unpacking); fencing marks the nodes unclean before anything is placed, as ``pe_fence_node`` does.
    """
    for dep in state.rsc_tickets:
        if not dep.ticket.usable:
            _constraints_for_ticket(state, dep.rsc, dep)


def _constraints_for_ticket(state: ClusterState, rsc: Resource, dep: RscTicket) -> None:
    """Pacemaker's ``constraints_for_ticket``: recurse to the primitives, then act on each."""
    if rsc.children:
        for child in rsc.children:
            _constraints_for_ticket(state, child, dep)
        return
    ticket = dep.ticket
    if not ticket.granted and rsc.status.active_on:
        _on_loss(state, rsc, dep)
    elif dep.role != Role.PROMOTED or dep.loss_policy == "stop":
        _ban(rsc, "__no_ticket__" if not ticket.granted else "__ticket_standby__")


def _on_loss(state: ClusterState, rsc: Resource, dep: RscTicket) -> None:
    """The loss-policy of a revoked ticket, for a primitive that is running."""
    policy = dep.loss_policy
    if policy == "stop" or (policy == "demote" and dep.role != Role.PROMOTED):
        _ban(rsc, "__loss_of_ticket__")
    elif policy == "fence" and _role_matches(rsc, dep):
        _ban(rsc, "__loss_of_ticket__")
        for name in rsc.status.active_on:
            state.nodes[name].mark_unclean(FENCE_REASON)
    elif policy == "freeze" and _role_matches(rsc, dep):
        rsc.managed = False
        rsc.status.blocked = True
        rsc.status.frozen = True


def _role_matches(rsc: Resource, dep: RscTicket) -> bool:
    """Pacemaker's ``ticket_role_matches``: the dependency names no role, or the one the resource has now."""
    return dep.role is None or dep.role == rsc.status.role


def _ban(rsc: Resource, why: str) -> None:
    """-INFINITY on every node, among the scores found while unpacking (Pacemaker's ``resource_location``
    with no node)."""
    rsc.status.unpack_scores.append((None, -INF, why))


# ------------------------------------------------------------------ showing

#: GLib's hash table sizes: 2**shift buckets, a key's first bucket its hash (times 11) modulo this prime.
_GLIB_PRIMES = (1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071,
                262139, 524287, 1048573, 2097143, 4194301, 8388593, 16777213, 33554393, 67108859, 134217689)


def glib_order(keys: list[str]) -> list[str]:
    """``keys`` (inserted in this order) in the order Pacemaker's tools list a GLib hash table of them: crm_mon
    and crm_ticket print tickets, and a ticket's attributes (``crm_ticket -L``), by walking such a table.

    The table as GLib 2.74 builds it: 8 buckets to start, a key's bucket its string hash (h*31 + c) times 11
    modulo a prime, quadratic probing on a collision, and growth to the power of two above 4/3 of the keys
    when it is full (checked against Debian's crm_mon and crm_ticket on sets of up to 9 tickets)."""
    shift = 3
    slots: list[str | None] = [None] * 8
    for count, key in enumerate(keys, 1):
        _glib_place(slots, _GLIB_PRIMES[shift], key)
        if len(slots) <= count + count // 16:
            wanted, shift = int(count * 1.333), 0
            while wanted:
                wanted >>= 1
                shift += 1
            shift = max(shift, 3)
            old = [k for k in slots if k is not None]
            slots = [None] * (1 << shift)
            for k in old:
                _glib_place(slots, _GLIB_PRIMES[shift], k)
    return [k for k in slots if k is not None]


def _glib_place(slots: list[str | None], prime: int, key: str) -> None:
    value = 0
    for byte in key.encode():
        value = (value * 31 + (byte - 256 if byte > 127 else byte)) & 0xFFFFFFFF
    value = 2 if value <= 1 else value
    index, step = ((value * 11) & 0xFFFFFFFF) % prime, 0
    while slots[index] is not None:
        step += 1
        index = (index + step) & (len(slots) - 1)
    slots[index] = key


def listed(states: dict[str, Ticket]) -> list[Ticket]:
    """The tickets in the order crm_mon and crm_ticket list them (``states`` as ``unpack`` fills them: the
    status section's first, then those only constraints name)."""
    return [states[tid] for tid in glib_order(list(states))]

def _when(seconds: int) -> str:
    """A time as Pacemaker's tools print it (ctime, local time)."""
    try:
        return time.strftime(cib.TIME_FORMAT, time.localtime(seconds))
    except (OverflowError, OSError, ValueError):
        return str(seconds)


def status_line(ticket: Ticket) -> str:
    """The ticket as crm_mon's "Tickets:" section lists it (``crm_mon -c``), without the bullet."""
    text = f"{ticket.id}: {'granted' if ticket.granted else 'revoked'}{' [standby]' if ticket.standby else ''}"
    if ticket.last_granted is not None:
        text += f' last-granted="{_when(ticket.last_granted)}"'
    return text


def listing_line(ticket: Ticket, details: bool = False) -> str:
    """The ticket as ``crm_ticket -l`` lists it, or with ``details`` as ``crm_ticket -L`` (every attribute of its
    state, in crm_ticket's order)."""
    head = f"{ticket.id}\t{'granted' if ticket.granted else 'revoked'}{' [standby]' if ticket.standby else ' ' * 10}"
    if details:
        if not ticket.attrs:
            return head
        attrs = ticket.attrs
        shown_attrs = [f"{k}='{_when(ticket.last_granted)}'" if k == "last-granted" and ticket.last_granted is not None
                       else f"{k}={attrs[k]}" for k in glib_order(list(attrs))]
        return f"{head} ({', '.join(shown_attrs)})"
    if ticket.last_granted is not None:
        return f"{head} last-granted='{_when(ticket.last_granted)}'"
    return head


# ------------------------------------------------------------------ writing

#: A change of the status section's tickets: ticket id -> {attribute: new value, or None to remove it}, or
#: None to remove the ticket's state altogether. What the gateway sends the cib-store, which applies it to
#: the tickets as they are stored (so that two writers changing different tickets never undo each other).
TicketChanges = dict[str, "dict[str, str | None] | None"]


def changes_between(before: Element | None, after: Element | None) -> TicketChanges:
    """What turns the status section's ``<tickets>`` ``before`` into ``after`` (either may be missing)."""
    old = {el.get("id", ""): cib.attributes(el) for el in _states(before)}
    new = {el.get("id", ""): cib.attributes(el) for el in _states(after)}
    out: TicketChanges = {}
    for tid, attrs in new.items():
        was = old.get(tid, {})
        edit: dict[str, str | None] = {k: v for k, v in attrs.items() if k != "id" and was.get(k) != v}
        edit.update({k: None for k in was if k not in attrs})
        if edit or tid not in old:
            out[tid] = edit
    out.update({tid: None for tid in old if tid not in new})
    return out


def apply_changes(tickets: Element, changes: TicketChanges) -> None:
    """Apply ``changes_between``'s result to a ``<tickets>`` element (a ticket's state made where missing);
    ValueError, with nothing applied, for a change that cannot be one (not text, not an XML name)."""
    _check(changes)
    by_id = {el.get("id"): el for el in _states(tickets)}
    for tid, edit in changes.items():
        el = by_id.get(tid)
        if edit is None:
            if el is not None:
                tickets.remove(el)
            continue
        if el is None:
            el = by_id[tid] = etree.SubElement(tickets, "ticket_state", id=tid)
        for name, value in edit.items():
            if name == "id":
                continue
            if value is None:
                if name in el.attrib:
                    del el.attrib[name]
            else:
                el.set(name, value)


def _check(changes: object) -> None:
    """Refuse what no ticket change can be: a change comes over the bus from any admin credential."""
    if not isinstance(changes, dict):
        raise ValueError("the changes are not a mapping of ticket ids")
    for tid, edit in changes.items():
        if not isinstance(tid, str) or not tid:
            raise ValueError(f"{tid!r} is not a ticket id")
        if edit is None:
            continue
        if not isinstance(edit, dict):
            raise ValueError(f"ticket {tid!r}: the change is not a mapping of attributes")
        for name, value in edit.items():
            if not isinstance(name, str) or not _XML_NAME.match(name) or name == "id":
                raise ValueError(f"ticket {tid!r}: {name!r} is not an attribute a ticket's state may have")
            if value is not None and not isinstance(value, str):
                raise ValueError(f"ticket {tid!r}: the value of {name} is not text")


#: An attribute name (XML's Name production, ASCII-only as Pacemaker's tools write them).
_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]*\Z")


def tickets_element(root: Element, create: bool) -> Element | None:
    """The status section's ``<tickets>`` (first in it, as Pacemaker keeps it), made when ``create``."""
    status = cib.section(root, "status", create=create)
    if status is None:
        return None
    found = status.find("tickets")
    if found is None and create:
        found = etree.Element("tickets")
        status.insert(0, found)
    return found


def _states(tickets: Element | None) -> list[Element]:
    return [] if tickets is None else [el for el in tickets.iterfind("ticket_state") if el.get("id")]
