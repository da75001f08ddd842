"""Whether an executor may carry out what a DC asks: the rule that keeps two DCs from both acting.

There is no lease. The DC of a membership view is a function of that view
(its member candidate with the lowest candidacy, see
``paceline.membership.election``), and every request a DC sends names the DC
and the members of the view it planned in. An executor acts only when its own
node's current view elects the same DC over exactly the same members. Two DCs
would both have to be elected by views with the same member set, and a member
set elects one DC; so at any instant an executor obeys one DC only, the one
its own membership agrees on. Views of different nodes differ only while a
change propagates (a heartbeat interval or so), during which requests are
refused and the DC plans again once views agree.

Pure (no I/O): the executor's glue supplies its node's view.
"""

from __future__ import annotations

from collections.abc import Iterable

#: The error code of a refused request (the DC treats it as "not the DC any more, or not yet").
NOT_DC = "not-dc"


def refusal(view_dc: str, view_members: Iterable[str], req_dc: str, req_members: Iterable[str]) -> str:
    """Why a request from ``req_dc`` planned over ``req_members`` is refused by a node whose view elects
    ``view_dc`` over ``view_members``; "" when it is admitted."""
    if not req_dc:
        return "the request names no DC"
    if not view_dc:
        return "this node's membership elects no DC"
    if req_dc != view_dc:
        return f"{req_dc} is not the DC of this node's membership view (the DC is {view_dc})"
    mine, theirs = set(view_members), set(req_members)
    if mine != theirs:
        only_dc = ",".join(sorted(theirs - mine)) or "-"
        only_here = ",".join(sorted(mine - theirs)) or "-"
        return (f"the DC planned over other members than this node's view (only the DC's: {only_dc}; "
                f"only this node's: {only_here})")
    return ""


def misattributed(sender: str, event_dc: str) -> str:
    """Why a fencing result is not its named DC's own ("" when it is): ``sender`` (the subject's last token,
    which only that node's policy may publish) is not the DC the result names."""
    return "" if sender == event_dc else f"sent by {sender} but names {event_dc or 'no node'} as its DC"


def fencing_refusal(view_dc: str, sender: str, event_dc: str) -> str:
    """Why a fencing result is not acted on by a node whose view elects ``view_dc``; "" when it is.

    ``sender`` is the node whose policy published the result: the last token of its subject, which the bus
    server lets only that node's credential publish (``Subjects.fenced_by``). A result counts only when it
    comes from the DC this node's own membership elects, and says so itself: another node's policy, even
    one holding a valid credential, cannot make this node emulate a power cut or leave the DC role.
    """
    if refused := misattributed(sender, event_dc):
        return refused
    if not view_dc:
        return "this node's membership elects no DC"
    if sender != view_dc:
        return f"{sender} is not the DC of this node's membership view (the DC is {view_dc})"
    return ""
