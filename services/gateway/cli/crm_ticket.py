"""``crm_ticket`` for the programs that call it (booth, crmsh's ``site ticket``, scripts), answered by Paceline.

Pacemaker's ``crm_ticket`` reads and changes the tickets' states in the CIB status section. This stand-in
takes its options and follows its behaviour (Debian's crm_ticket 2.1.5, compared on a CIB file):

- queries: ``-l`` (info), ``-L`` (details), ``-w`` (ids), ``-q`` (the state XML), ``-c`` (the rsc_ticket
  constraints), all tickets or the one ``-t`` names; ``-G NAME [-d DEFAULT]`` one attribute of one ticket;
- changes of ``-t TICKET``: ``-g``/``-r`` (grant/revoke), ``-s``/``-a`` (standby/activate), ``-S NAME -v VALUE``,
  ``-D NAME``, ``-C`` (forget its state). Granting or revoking (``-D granted`` too) needs ``--force``, as
  cleaning up a granted ticket does; without it the call is refused with Pacemaker's explanation (exit 4).

Reads ask the gateway for the CIB (the ``cib`` endpoint) and read it with the cluster model; writes are the
crm language's ``site ticket`` lines sent to the ``crm`` endpoint - one CIB write, which the gateway makes a
change of the stored tickets (``paceline.shared.cluster.tickets``). Exit codes are Pacemaker's: 64 usage,
4 not allowed without --force, 105 no such ticket or attribute, 102 no cluster.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, TextIO

from paceline.cli.pcmk_tools import EX_NOSUCH, EX_OK, FLAG, VALUE, Cluster, OptionSpec, ToolError, parse_options, usage
from paceline.shared import VERSION

if TYPE_CHECKING:
    from paceline.shared import cib
    from paceline.shared.cluster.model import ClusterState

EX_NOT_ALLOWED = 4


class NotAllowed(ToolError):
    """A change crm_ticket refuses without --force: its explanation goes to stdout, the one-line reason (none
    for a cleanup) to stderr, as crm_ticket prints them."""

    def __init__(self, reason: str, explanation: str):
        super().__init__(reason, EX_NOT_ALLOWED)
        self.explanation = explanation

SPEC = OptionSpec([
    ("-?|-h|--help|--help-all|--help-queries|--help-commands|--help-advanced|--help-additional|--help-deprecated",
     "help", FLAG),
    ("-$|--version", "version", FLAG), ("-V|--verbose", "ignored", FLAG), ("-Q|--quiet", "ignored", FLAG),
    ("-t|--ticket", "ticket", VALUE),
    ("-l|--info", "l", FLAG), ("-L|--details", "L", FLAG), ("-w|--raw", "w", FLAG),
    ("-q|--query-xml", "q", FLAG), ("-c|--constraints", "c", FLAG), ("-C|--cleanup", "C", FLAG),
    ("-g|--grant", "grant", FLAG), ("-r|--revoke", "revoke", FLAG), ("-s|--standby", "standby", FLAG),
    ("-a|--activate", "activate", FLAG),
    ("-G|--get-attr", "get", VALUE), ("-S|--set-attr", "set", VALUE), ("-v|--attr-value", "value", VALUE),
    ("-D|--delete-attr", "delete", VALUE), ("-d|--default", "default", VALUE), ("-f|--force", "force", FLAG),
    ("-n|--set-name", "ignored", VALUE), ("-i|--nvpair", "ignored", VALUE),
])

#: crm_ticket's query commands (its ``ticket_cmd`` letters), and the changes -g -r -s -a make.
_QUERIES = ("l", "L", "w", "q", "c", "C")
_CHANGES = {"grant": ("granted", "true"), "revoke": ("granted", "false"), "standby": ("standby", "true"),
            "activate": ("standby", "false")}

HELP = """\
usage: crm_ticket [-t TICKET] -l|-L|-w|-q|-c
       crm_ticket -t TICKET -g|-r|-s|-a [--force]
       crm_ticket -t TICKET -G NAME [-d DEFAULT] | -S NAME -v VALUE | -D NAME | -C [--force]
Paceline's crm_ticket: the tickets' states in the status section of the Paceline cluster's CIB.
Granting or revoking a ticket needs --force: this site cannot tell whether another holds it, and revoking
applies the loss-policy of the resources that depend on it (see -c).
"""


class Request:
    """One crm_ticket call: the query letter (``ticket_cmd``) or the changes, and their operands."""

    def __init__(self) -> None:
        self.ticket: str | None = None
        self.command = ""                       # l L w q c C G, or "" for a change
        self.get_name = ""
        self.default: str | None = None
        self.sets: dict[str, str] = {}
        self.deletes: list[str] = []
        self.pending_name: str | None = None    # -S NAME still waiting for its -v
        self.pending_value: str | None = None   # -v VALUE still waiting for its -S
        self.force = False


def parse(argv: list[str]) -> Request | str:
    """The request of ``crm_ticket ARGS``; a string is text to print at once (help, version)."""
    req = Request()
    for dest, arg in parse_options(SPEC, argv):
        if dest == "help":
            return HELP
        if dest == "version":
            return f"Paceline {VERSION} (crm_ticket stand-in, answered by the Paceline cluster)\n"
        if dest == "ticket":
            req.ticket = arg
        elif dest in _QUERIES:
            req.command = dest
        elif dest == "get":
            req.command, req.get_name = "G", arg or ""
        elif dest in _CHANGES:
            key, value = _CHANGES[dest]
            req.sets[key] = value
        elif dest == "set":
            req.pending_name = arg
            _pair(req)
        elif dest == "value":
            req.pending_value = arg
            _pair(req)
        elif dest == "delete":
            req.deletes.append(arg or "")
        elif dest == "default":
            req.default = arg
        elif dest == "force":
            req.force = True
    return req


def _pair(req: Request) -> None:
    """-S NAME and -v VALUE make one attribute to set, in either order (crm_ticket's set_attr_cb)."""
    if req.pending_name and req.pending_value is not None:
        req.sets[req.pending_name] = req.pending_value
        req.pending_name = req.pending_value = None


# ------------------------------------------------------------------ answering

def answer(req: Request, root: cib.Element, now: float) -> tuple[str, list[str]]:
    """What to print and the ``site ticket`` lines to run, for the CIB ``root`` as read; ToolError with
    crm_ticket's message (none for -G of what is not there, as crm_ticket) and exit code when it refuses."""
    from paceline.shared.cluster.unpack import unpack

    state = unpack(root, now)
    if req.command in ("l", "L", "w"):
        return _listing(req, state), []
    if req.command == "q":
        return _state_xml(req, root), []
    if req.command == "c":
        return _constraints_xml(req, root), []
    if req.command == "G":
        return _get(req, state), []
    if req.command == "C":
        return "", _cleanup(req, state)
    if req.sets or req.deletes:
        return "", _changes(req, state)
    if req.pending_name is not None:
        raise usage(f"crm_ticket: Must supply value with -v for -S {req.pending_name}")
    if req.pending_value is not None:
        raise usage(f"crm_ticket: Must supply attribute name with -S for -v {req.pending_value}")
    raise usage("crm_ticket: Must supply a command")


def _ticket(req: Request) -> str:
    if not req.ticket:
        raise usage("crm_ticket: Must supply ticket ID with -t")
    return req.ticket


def _listing(req: Request, state: ClusterState) -> str:
    from paceline.shared.cluster import tickets

    chosen = tickets.listed(state.tickets)
    if req.ticket is not None:
        chosen = [t for t in chosen if t.id == req.ticket]
        if not chosen:
            raise ToolError(f"crm_ticket: No such ticket '{req.ticket}'", EX_NOSUCH)
    if req.command == "w":
        return "".join(f"{t.id}\n" for t in chosen)
    return "".join(tickets.listing_line(t, req.command == "L") + "\n" for t in chosen)


def _pretty(el: cib.Element) -> str:
    from lxml import etree

    return etree.tostring(el, pretty_print=True, encoding="unicode")


def _state_xml(req: Request, root: cib.Element) -> str:
    from paceline.shared.cluster import tickets

    holder = tickets.tickets_element(root, create=False)
    found = holder
    if holder is not None and req.ticket is not None:
        found = next((el for el in holder.iterfind("ticket_state") if el.get("id") == req.ticket), None)
    if found is None:
        raise ToolError("crm_ticket: Could not query ticket XML: No such device or address", EX_NOSUCH)
    return f"State XML:\n\n{_pretty(found)}"


def _constraints_xml(req: Request, root: cib.Element) -> str:
    from lxml import etree

    found = [el for el in root.iterfind("configuration/constraints/rsc_ticket")
             if req.ticket is None or el.get("ticket") == req.ticket]
    if not found:
        raise ToolError("crm_ticket: Could not show ticket constraints: No such device or address", EX_NOSUCH)
    if len(found) == 1:
        return f"Constraints XML:\n\n{_pretty(found[0])}"
    wrapper = etree.Element("xpath-query")
    for el in found:
        copy = etree.fromstring(etree.tostring(el))
        copy.tail = None
        wrapper.append(copy)
    return f"Constraints XML:\n\n{_pretty(wrapper)}"


def _get(req: Request, state: ClusterState) -> str:
    tid = _ticket(req)
    found = state.tickets.get(tid)
    value = found.attrs.get(req.get_name) if found is not None else None
    if value is None:
        value = req.default
    if value is None:
        raise ToolError("", EX_NOSUCH)
    return f"{value}\n"


def _line(sub: str, tid: str, *more: str) -> str:
    return " ".join(["site", "ticket", sub, shlex.quote(tid), *(shlex.quote(m) for m in more)])


def _cleanup(req: Request, state: ClusterState) -> list[str]:
    tid = _ticket(req)
    if not req.force:
        found = state.tickets.get(tid)
        if found is None:
            raise ToolError(f"crm_ticket: No such ticket '{tid}'", EX_NOSUCH)
        if found.granted:
            raise NotAllowed("", _not_allowed(tid, "revoke"))
    return [_line("cleanup", tid, "--force")]


def _changes(req: Request, state: ClusterState) -> list[str]:
    """The lines of a change, once crm_ticket's allow_modification lets it through."""
    from paceline.shared.cluster.values import is_true

    tid = _ticket(req)
    if req.pending_name is not None:
        raise usage(f"crm_ticket: Must supply value with -v for -S {req.pending_name}")
    if req.pending_value is not None:
        raise usage(f"crm_ticket: Must supply attribute name with -S for -v {req.pending_value}")
    granted = req.sets.get("granted")
    if not req.force:
        if granted is not None:
            raise NotAllowed(_NOT_ALLOWED, _not_allowed(tid, "grant" if is_true(granted) else "revoke"))
        if "granted" in req.deletes:
            raise NotAllowed(_NOT_ALLOWED, _not_allowed(tid, "revoke"))
    lines = [_line("attribute", tid, "delete", name) for name in req.deletes if name != "granted"]
    if "granted" in req.deletes:
        lines.append(_line("delete", tid, "--force"))
    for name, value in req.sets.items():
        if name == "granted":
            lines.append(_line("grant" if is_true(value) else "revoke", tid, "--force"))
        elif name == "standby" and value in ("true", "false"):
            lines.append(_line("standby" if value == "true" else "activate", tid))
        else:
            lines.append(_line("attribute", tid, "set", name, value))
    return lines


_NOT_ALLOWED = "crm_ticket: Ticket modification not allowed"


def _not_allowed(tid: str, what: str) -> str:
    """crm_ticket's ticket_warning, word for word."""
    if what == "grant":
        return (f"This command cannot help you verify whether '{tid}' has been already granted elsewhere.\n"
                f"If you really want to grant '{tid}' to this site now, and you know what you are doing,\n"
                "please specify --force.\n")
    return (f"Revoking '{tid}' can trigger the specified 'loss-policy'(s) relating to '{tid}'.\n\n"
            f"You can check that with:\ncrm_ticket --ticket {tid} --constraints\n\n"
            f"Otherwise before revoking '{tid}', you may want to make '{tid}' standby with:\n"
            f"crm_ticket --ticket {tid} --standby\n\n"
            f"If you really want to revoke '{tid}' from this site now, and you know what you are doing,\n"
            "please specify --force.\n")


def run(argv: list[str], out: TextIO) -> int:
    """One crm_ticket call against the cluster; errors are raised as :class:`ToolError`."""
    import time

    from paceline.cli.pcmk_clients import _call, read_cib
    from paceline.shared.messages import CrmReply, CrmRequest

    request = parse(argv)
    if isinstance(request, str):
        out.write(request)
        return EX_OK
    cluster = Cluster("crm_ticket")
    try:
        root, _version = read_cib(cluster)
        try:
            text, lines = answer(request, root, time.time())
        except NotAllowed as exc:
            out.write(exc.explanation)
            if str(exc):
                raise
            return exc.code
        except ToolError as exc:
            if str(exc):
                raise
            return exc.code     # -G of a missing ticket or attribute: crm_ticket prints nothing at all
        if lines:
            reply = _call(cluster, CrmRequest(lines=lines, script=False if len(lines) == 1 else None), CrmReply)
            text += reply.output + ("\n" if reply.output and not reply.output.endswith("\n") else "")
        out.write(text)
        return EX_OK
    finally:
        cluster.close()
