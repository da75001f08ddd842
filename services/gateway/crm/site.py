"""The ``site`` level: tickets, as crmsh's ``crm site ticket`` and Pacemaker's ``crm_ticket`` handle them.

A ticket's state is a ``<ticket_state>`` in the status section's ``<tickets>``; resources that depend on it
(``rsc_ticket``) run only while it is granted and not in standby. crmsh's grammar is
``site ticket grant|revoke|standby|activate|show|time|delete TICKET``; Paceline adds ``cleanup TICKET``
and ``attribute TICKET set|delete|show NAME [VALUE]`` (``crm_ticket -C``, ``-S``/``-D``/``-G``), so that
the ``crm_ticket`` stand-in has a command for each of its writes.

As with Pacemaker's ``crm_ticket``, granting a ticket (this site cannot know whether another holds it) and
revoking one (the loss-policy of what depends on it applies) must be confirmed (``--force``, ``-y``), and so
must cleaning up a granted one.
"""

from __future__ import annotations

import re
import time

from paceline.crm.context import Context
from paceline.crm.registry import CONFIRM_WORDS
from paceline.crm.words import Words
from paceline.shared.cib import Element
from paceline.shared.cluster import tickets
from paceline.shared.cluster.values import shown

#: crmsh's sub-commands, then Paceline's own.
SUBCOMMANDS = ("grant", "revoke", "standby", "activate", "show", "time", "delete", "cleanup", "attribute")
#: Sub-commands that must be confirmed, and what confirming means.
CONFIRMED = ("grant", "revoke", "delete")
#: What crmsh refuses in a name (``utils.is_name_sane``): quotes, globs and shell specials.
_INSANE = re.compile(r"['`#*?$\[\]]")


def question(args: list[str]) -> str | None:
    """What to ask before ``ticket SUB TICKET`` (the registry's ``asks``); None when nothing needs asking."""
    if len(args) < 2 or args[0] not in CONFIRMED:
        return None
    tid = args[1]
    if args[0] == "grant":
        return (f"Ticket {tid} may already be granted to another site; this site cannot tell. Grant {tid} to "
                "this site now")
    return (f"Revoking ticket {tid} applies the loss-policy of every resource that depends on it (stop, "
            f"demote, fence or freeze). Revoke {tid} now")


def ticket(root: Element, words: Words, ctx: Context) -> str:
    """``site ticket SUB TICKET [...]``."""
    sub = words.take(f"one of {'|'.join(SUBCOMMANDS)}")
    if sub not in SUBCOMMANDS:
        raise words.unexpected(sub, "|".join(SUBCOMMANDS))
    tid = words.take("ticket name")
    if not tid or _INSANE.search(tid):
        raise words.error(f"ticket name {shown(tid)} may not be empty or contain ' ` # * ? $ [ ]")
    rest = words.rest()
    confirmed = any(w in CONFIRM_WORDS for w in rest)
    args = [w for w in rest if w not in CONFIRM_WORDS]
    if sub == "attribute":
        return _attribute(root, words, tid, args)
    if args:
        raise words.unexpected(args[0], f"{sub} TICKET [--force]")
    if sub in ("show", "time"):
        return _show(root, words, tid, sub)
    if sub in CONFIRMED and not confirmed:
        raise words.error(_refusal(sub, tid))
    if sub == "cleanup":
        return _cleanup(root, words, tid, confirmed)
    state = _state(root, tid)
    # last-granted records when the ticket became granted, not every grant (crm_ticket's modify_ticket_state)
    granting: dict[str, str | None] = {"granted": "true"} if state is not None and state.get("granted") == "true" else \
        {"granted": "true", "last-granted": str(int(time.time()))}
    edits: dict[str, dict[str, str | None]] = {
        "grant": granting, "revoke": {"granted": "false"},
        "standby": {"standby": "true"}, "activate": {"standby": "false"}, "delete": {"granted": None}}
    _edit(root, tid, edits[sub])
    return ""


def _refusal(sub: str, tid: str) -> str:
    """Why a grant or revoke waits for confirmation (Pacemaker's crm_ticket says the same)."""
    if sub == "grant":
        return (f"granting ticket {tid!r} cannot check whether it is already granted elsewhere (another site); "
                f"if it is not, confirm with --force (site ticket grant {tid} --force)")
    return (f"revoking ticket {tid!r} applies the loss-policy of the resources that depend on it "
            f"(configure show type:rsc_ticket); 'site ticket standby {tid}' first stops them in order; "
            f"confirm with --force (site ticket {sub} {tid} --force)")


def _state(root: Element, tid: str) -> Element | None:
    found = tickets.tickets_element(root, create=False)
    if found is None:
        return None
    return next((el for el in found.iterfind("ticket_state") if el.get("id") == tid), None)


def _edit(root: Element, tid: str, edit: dict[str, str | None]) -> None:
    """Set (or with None remove) attributes of the ticket's state, made if it has none yet."""
    holder = tickets.tickets_element(root, create=True)
    assert holder is not None
    tickets.apply_changes(holder, {tid: edit})


def _show(root: Element, words: Words, tid: str, sub: str) -> str:
    """crmsh's ``show`` (granted or revoked) and ``time`` (when last granted)."""
    state = _state(root, tid)
    name = "granted" if sub == "show" else "last-granted"
    value = state.get(name) if state is not None else None
    if value is None:
        raise words.error(f"apparently nothing to show for ticket {tid}")
    if sub == "show":
        if value not in ("true", "false"):
            raise words.error(f"unexpected value for ticket {tid}: {value}")
        return f"ticket {tid} is {'granted' if value == 'true' else 'revoked'}"
    if not re.fullmatch(r"-?[0-9]+", value) or len(value) > 19:
        raise words.error(f"unexpected value for ticket {tid}: {value}")
    if value == "-1":
        raise words.error(f"{tid}: no such ticket")
    return f"ticket {tid} last time granted on {time.ctime(int(value))}"


def _cleanup(root: Element, words: Words, tid: str, confirmed: bool) -> str:
    """Forget the ticket's state (``crm_ticket -C``); a granted ticket only when confirmed."""
    state = _state(root, tid)
    if state is None:
        return ""
    if state.get("granted") == "true" and not confirmed:
        raise words.error(f"ticket {tid!r} is granted; cleaning it up revokes it: confirm with --force "
                          f"(site ticket cleanup {tid} --force)")
    parent = state.getparent()
    if parent is not None:
        parent.remove(state)
    return f"Cleaned up {tid}"


def _attribute(root: Element, words: Words, tid: str, args: list[str]) -> str:
    """``attribute TICKET set|delete|show NAME [VALUE]``: any attribute of the ticket's state."""
    if not args or args[0] not in ("set", "delete", "show"):
        raise words.error("expected: site ticket attribute TICKET set|delete|show NAME [VALUE]")
    verb, operands = args[0], args[1:]
    if len(operands) != (2 if verb == "set" else 1):
        raise words.error(f"expected: site ticket attribute TICKET {verb} NAME{' VALUE' if verb == 'set' else ''}")
    name = operands[0]
    if name in ("id", "granted") and verb != "show":
        raise words.error(f"{name!r} is not changed with attribute: use grant, revoke or delete"
                          if name == "granted" else "a ticket's id cannot be changed")
    if verb == "show":
        state = _state(root, tid)
        value = state.get(name) if state is not None else None
        if value is None:
            raise words.error(f"ticket {tid} has no attribute {name!r}")
        return value
    try:
        _edit(root, tid, {name: operands[1] if verb == "set" else None})
    except ValueError as exc:
        raise words.error(str(exc)) from None
    return ""

