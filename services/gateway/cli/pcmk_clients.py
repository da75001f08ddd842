"""``crm_mon`` and ``cibadmin`` for the programs that call them, answered by the Paceline cluster.

Monitoring (ClusterLabs' ``ha_cluster_exporter``), crmsh, pcs and site scripts run Pacemaker's
``crm_mon`` and ``cibadmin``. These stand-ins take the same options and reach the cluster like
``paceline`` does (:class:`paceline.cli.pcmk_tools.Cluster`: one blocking connection to the gateway):

- ``crm_mon -1 [-r] [-n] [-f] [-o] [-t] [-A] [-c]`` prints the status page - the gateway's ``status`` endpoint,
  the very text of ``paceline status -1 [-r] [-n]...`` (crm_mon's layout and switches); ``-X`` /
  ``--as-xml`` / ``--output-as xml`` print crm_mon's XML (:mod:`paceline.shared.cluster.crm_mon_xml`),
  rendered by the same endpoint: a monitoring tool may run with the read-only observer credential.
- ``cibadmin --query`` prints the CIB, a section (``-o``) or an XPath's matches; ``--create``,
  ``--modify``, ``--replace``, ``--delete`` and ``--patch`` edit a copy of the CIB read with its version
  (:mod:`paceline.shared.cib_ops`) and write it through the ``commit`` endpoint the configure session
  uses: one CIB version, compare-and-set on the version read, validated by the cib-store. When another
  writer got in first the operation is re-applied to the new CIB (it is a delta, as in Pacemaker); after
  :data:`MAX_ATTEMPTS` lost races it is refused (75) and nothing is written. A write whose outcome is
  unknown (the request went, no answer came) exits 124 and says so.

The status section belongs to each node's executor and membership (they write it through their own
subjects), so a write that would change it is refused (3) rather than half applied; the status part of a
whole CIB given to ``--replace`` is not written, and a note says so. Exit codes are Pacemaker's
(``crm_error -X``, listed in :data:`EXIT_CODES`); errors are one line on stderr.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO, TypeVar

from paceline.cli.pcmk_tools import (
    EX_ERROR,
    EX_OK,
    EX_UNIMPLEMENTED,
    FLAG,
    OPTIONAL,
    VALUE,
    Cluster,
    OptionSpec,
    ToolCrmError,
    ToolError,
    parse_options,
    usage,
)
from paceline.shared import VERSION

if TYPE_CHECKING:
    from paceline.shared import cib
    from paceline.shared.messages import Message

R = TypeVar("R", bound="Message")

CLIENT_TOOLS = ("crm_mon", "cibadmin")

# Pacemaker's exit codes (crm_exit_t) these two can end with, beside pcmk_tools' and cib_ops' own.
EX_NOT_PRIVILEGED = 4
EX_CONFIG = 78
EX_TEMPFAIL = 75
EX_UNSAFE = 107
EX_TIMEOUT = 124

#: Every exit code of the stand-ins and when it is given (README and report read this table).
EXIT_CODES = {
    0: "OK",
    1: "error: the gateway refused for another reason; a patch made for a newer CIB than the cluster's",
    3: "unimplemented: an option Paceline does not support, a write to the status section",
    4: "insufficient privileges: the credential may not write (the observer)",
    64: "incorrect usage: unknown option, missing argument, unknown scope, bad XPath",
    65: "invalid data: input that is not what the operation takes (no id to create by, a bad patch)",
    75: "temporary failure: the configuration kept changing under the write; nothing was written",
    78: "invalid configuration: input that is not XML, or a result the CIB schema or checks refuse",
    102: "not connected: no bus, no gateway",
    103: "older than the existing configuration: --replace of an older CIB, a patch for an older version",
    104: "digest mismatch: a patch that does not apply to the CIB",
    105: "no such object: query or modify/replace of something the CIB does not have",
    107: "operation not safe: --delete-all without --force",
    108: "already exists: --create of an id that is there",
    124: "timeout: no answer came; a write may or may not have been applied",
}

#: How often a cibadmin write is re-applied to a fresh CIB after losing a compare-and-set.
MAX_ATTEMPTS = 5
REQUEST_TIMEOUT = 30.0

_COMMON = [("-?|--help", "help", FLAG), ("-$|--version", "version", FLAG), ("-V|--verbose", "verbose", FLAG)]

CRM_MON = OptionSpec([
    *_COMMON,
    ("--help-all|--help-output|--help-display|--help-additional|--help-deprecated", "help", FLAG),
    ("-1|--one-shot", "one_shot", FLAG), ("-X|--as-xml", "xml", FLAG), ("--output-as", "output_as", VALUE),
    ("--output-to", "output_to", VALUE),
    # the page's sections, as `paceline status` shows them (paceline.shared.cluster.crm_mon.SHOW)
    ("-r|--inactive", "inactive", FLAG), ("-n|--group-by-node", "bynode", FLAG),
    ("-f|--failcounts", "failcounts", FLAG), ("-o|--operations", "operations", FLAG),
    ("-t|--timing-details", "timing", FLAG), ("-A|--show-node-attributes", "attributes", FLAG),
    ("-c|--tickets", "tickets", FLAG),
    # display options accepted with no effect on the page (Paceline has no fencing history)
    ("-m|--fence-history", "display", OPTIONAL),
    ("-L|--neg-locations", "display", OPTIONAL),
    ("-D|--hide-headers", "display", FLAG), ("-R|--show-detail", "display", FLAG), ("-b|--brief", "display", FLAG),
    ("-j|--pending", "display", FLAG), ("-Q|--quiet", "display", FLAG), ("-N|--disable-ncurses", "display", FLAG),
    ("-I|--include", "display", VALUE), ("-U|--exclude", "display", VALUE), ("--node", "display", VALUE),
    ("--resource", "display", VALUE), ("-i|--interval", "display", VALUE), ("--text-fancy", "display", FLAG),
    ("-s|--simple-status", "unsupported", FLAG), ("-h|--as-html", "unsupported", VALUE),
    ("-w|--web-cgi", "unsupported", FLAG), ("-d|--daemonize", "unsupported", FLAG),
    ("-p|--pid-file", "unsupported", VALUE), ("-E|--external-agent", "unsupported", VALUE),
    ("-e|--external-recipient", "unsupported", VALUE), ("-W|--watch-fencing", "unsupported", FLAG),
    ("--html-cgi", "unsupported", FLAG), ("--html-stylesheet", "unsupported", VALUE),
    ("--html-title", "unsupported", VALUE),
])

CIBADMIN = OptionSpec([
    *_COMMON,
    ("-Q|--query", "query", FLAG), ("-C|--create", "create", FLAG), ("-M|--modify", "modify", FLAG),
    ("-R|--replace", "replace", FLAG), ("-D|--delete", "delete", FLAG), ("-P|--patch", "patch", FLAG),
    ("-d|--delete-all", "delete_all", FLAG), ("-!|--features", "features", FLAG),
    ("-u|--upgrade", "unsupported", FLAG), ("-E|--erase", "unsupported", FLAG), ("-B|--bump", "unsupported", FLAG),
    ("-a|--empty", "unsupported", OPTIONAL), ("-5|--md5-sum", "unsupported", FLAG),
    ("-6|--md5-sum-versioned", "unsupported", FLAG), ("-S|--show-access", "unsupported", OPTIONAL),
    ("-f|--force", "force", FLAG), ("-t|--timeout", "timeout", VALUE), ("-U|--user", "unsupported", VALUE),
    ("-s|--sync-call", "ignored", FLAG), ("-l|--local", "ignored", FLAG),
    ("-c|--allow-create", "allow_create", FLAG), ("-n|--no-children", "no_children", FLAG),
    ("-X|--xml-text", "xml_text", VALUE), ("-x|--xml-file", "xml_file", VALUE),
    ("-p|--xml-pipe", "xml_pipe", FLAG), ("-o|--scope", "scope", VALUE), ("-A|--xpath", "xpath", VALUE),
    ("-e|--node-path", "node_path", FLAG), ("-N|--node", "ignored", VALUE),
])

HELP = {
    "crm_mon": """\
usage: crm_mon [-1] [-r] [-n] [-f] [-o] [-t] [-A] [-c] [-X | --as-xml | --output-as text|xml] [--output-to FILE]
Paceline's crm_mon: the cluster's status once - the page 'paceline status' prints with the same switches
(-r inactive resources, -n by node, -f fail counts, -o operations, -t timings, -A node attributes,
-c tickets), or crm_mon's XML (API schema crm_mon-2.25). -m -L -D -R -b -Q -I -U are accepted and change
nothing.
Without -1 it prints once too: the live view is 'paceline status --watch'.
""",
    "cibadmin": """\
usage: cibadmin -Q [-o SECTION | -A XPATH [-e] [-n]] [-l]
       cibadmin -C|-M|-R|-D|-P [-o SECTION] (-X XML | -x FILE | -p) [-c] [-f]
       cibadmin -C|-M|-R -A XPATH (-X XML | -x FILE | -p)
       cibadmin -D|-d -A XPATH [-f]
Paceline's cibadmin: query and edit the CIB of the Paceline cluster. Every write is one CIB version, made
on top of the version it read (re-applied when another writer got in first) and validated by the cib-store.
The status section is written by the nodes themselves and cannot be edited here.
""",
}


class Written:
    """A cibadmin write's outcome: the new version, and a note for stderr (what was not written)."""

    def __init__(self, version: str, note: str = ""):
        self.version, self.note = version, note


# ------------------------------------------------------------------ crm_mon

#: crm_mon's switches that choose the text page's sections, by the name ``paceline status`` gives them.
SECTIONS = ("inactive", "bynode", "failcounts", "operations", "timing", "attributes", "tickets")


class MonRequest:
    """What a crm_mon call asks for: ``text`` (with the sections ``show``) or ``xml``, written to stdout or
    ``output_to``."""

    def __init__(self, fmt: str, output_to: str, request: str, show: tuple[str, ...] = ()):
        self.fmt, self.output_to, self.request, self.show = fmt, output_to, request, show


def crm_mon_request(argv: list[str]) -> MonRequest | str:
    """The request of ``crm_mon ARGS``; a string is text to print at once (help, version)."""
    options = parse_options(CRM_MON, argv)
    fmt, output_to = "text", ""
    show = tuple(dict.fromkeys(dest for dest, _ in options if dest in SECTIONS))
    for dest, arg in options:
        if dest == "help":
            return HELP["crm_mon"]
        if dest == "version":
            return f"Paceline {VERSION} (crm_mon stand-in, answered by the Paceline cluster)\n"
        if dest == "unsupported":
            raise ToolError("crm_mon: this option is not supported by Paceline (one-shot text and XML are)",
                            EX_UNIMPLEMENTED)
        if dest == "xml":
            fmt = "xml"
        elif dest == "output_as":
            if arg not in ("text", "console", "xml"):
                raise usage(f"crm_mon: --output-as {arg}: Paceline prints text or xml")
            fmt = "xml" if arg == "xml" else "text"
        elif dest == "output_to":
            output_to = "" if arg == "-" else arg or ""
    return MonRequest(fmt, output_to, " ".join(["crm_mon", *argv]), show)


def run_crm_mon(req: MonRequest, cluster: Cluster, out: TextIO) -> int:
    from paceline.shared.messages import StatusReply, StatusRequest

    if req.fmt == "xml":     # rendered by the gateway (the status endpoint: the observer credential may ask)
        from paceline.shared.cluster import crm_mon_xml

        text = with_request(_call(cluster, StatusRequest(format=crm_mon_xml.FORMAT), StatusReply).text, req.request)
    else:
        reply = _call(cluster, StatusRequest(format="text", show=req.show), StatusReply)
        text = reply.text
        for line in reply.errors:       # crm_mon logs them apart from the page
            print(f"crm_mon: configuration error: {line}", file=sys.stderr)
    _emit(text, req.output_to, out)
    return EX_OK


def with_request(document: str, request: str) -> str:
    """crm_mon's XML naming the command line that asked for it (``<pacemaker-result request="...">``)."""
    from lxml import etree

    top = etree.fromstring(document.encode())
    top.set("request", request)
    return etree.tostring(top, pretty_print=True, encoding="unicode")


def _emit(text: str, path: str, out: TextIO) -> None:
    if not path:
        out.write(text if text.endswith("\n") else text + "\n")
        return
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        raise ToolError(f"cannot write {path}: {exc.strerror}", 73) from None


# ------------------------------------------------------------------ cibadmin

class AdminRequest:
    """One cibadmin call: the operation and what it operates on."""

    __slots__ = ("allow_create", "delete_all", "force", "no_children", "node_path", "operation", "scope",
                 "source", "xml", "xpath")

    def __init__(self) -> None:
        self.operation = ""
        self.scope: str | None = None
        self.xpath: str | None = None
        self.xml = ""
        self.source = ""            # where the XML comes from: -X, -x FILE, -p
        self.delete_all = self.allow_create = self.force = self.no_children = self.node_path = False


def cibadmin_request(argv: list[str], stdin: TextIO) -> AdminRequest | str:
    """The request of ``cibadmin ARGS`` (its XML read from -X, -x or stdin); a string is text to print."""
    options = parse_options(CIBADMIN, argv)
    req = AdminRequest()
    for dest, arg in options:
        if dest == "help":
            return HELP["cibadmin"]
        if dest == "version":
            return f"Paceline {VERSION} (cibadmin stand-in, answered by the Paceline cluster)\n"
        if dest == "features":
            # not Pacemaker's "Pacemaker X (Build: Y): features" line: crmsh reads no features from it
            return f"Paceline {VERSION}: cib-patch-v1 cib-patch-v2 compare-and-set\n"
        if dest == "unsupported":
            raise ToolError("cibadmin: this option is not supported by Paceline (query, create, modify, replace, "
                            "delete and patch are)", EX_UNIMPLEMENTED)
        _read_option(req, dest, arg)
    if not req.operation:
        raise usage("cibadmin: no command given (one of -Q, -C, -M, -R, -D, -d, -P)")
    if req.delete_all and not req.force:
        raise ToolError("cibadmin: --delete-all is considered dangerous; add --force to proceed", EX_UNSAFE)
    if req.operation == "delete" and req.delete_all and not req.xpath:
        raise usage("cibadmin: --delete-all needs --xpath")
    if req.operation != "query" and not req.xpath:
        req.xml = _read_xml(req, stdin)
    return req


def _read_option(req: AdminRequest, dest: str, arg: str | None) -> None:
    if dest in ("query", "create", "modify", "replace", "delete", "patch"):
        req.operation = dest
    elif dest == "delete_all":
        req.operation, req.delete_all = "delete", True
    elif dest in ("xml_text", "xml_file"):
        req.source, req.xml = dest, arg or ""
    elif dest == "xml_pipe":
        req.source = dest
    elif dest == "scope":
        req.scope = arg or None
    elif dest == "xpath":
        req.xpath = arg or None
    elif dest in ("force", "allow_create", "no_children", "node_path"):
        setattr(req, dest, True)


def _read_xml(req: AdminRequest, stdin: TextIO) -> str:
    if req.source == "xml_text":
        return req.xml
    if req.source == "xml_file":
        try:
            with open(req.xml, encoding="utf-8") as f:
                return f.read()
        except OSError as exc:
            raise ToolError(f"cibadmin: couldn't read input from {req.xml}: {exc.strerror}", EX_CONFIG) from None
    if req.source == "xml_pipe":
        return stdin.read()
    raise usage(f"cibadmin: --{req.operation} needs XML (-X TEXT, -x FILE or -p for stdin)")


def run_cibadmin(req: AdminRequest, cluster: Cluster, out: TextIO) -> int:
    from paceline.shared import cib_ops

    try:
        if req.operation == "query":
            root, _version = read_cib(cluster)
            out.write(cib_ops.query(root, req.scope, req.xpath, req.no_children, req.node_path))
            return EX_OK
        written = write(cluster, req)
    except cib_ops.CibOpError as exc:
        raise ToolError(f"cibadmin: {exc}", exc.code) from None
    if written.note:
        print(f"cibadmin: {written.note}", file=sys.stderr)
    return EX_OK


def write(cluster: Cluster, req: AdminRequest) -> Written:
    """Apply the write to the CIB as it is and commit it on top of that version; re-applied to the new CIB
    when another writer got in first."""
    from paceline.shared import cib
    from paceline.shared.messages import CommitReply, CommitRequest

    for _attempt in range(MAX_ATTEMPTS):
        root, version = read_cib(cluster)
        result, note = apply_write(root, req)
        if result is None:
            return Written(version, note)
        try:
            reply = _call(cluster, CommitRequest(xml=cib.serialize(result, pretty=False), expected_version=version),
                          CommitReply)
        except ToolCrmError as exc:
            if exc.kind == "conflict":
                continue
            raise
        return Written(reply.version or version, note)
    raise ToolError(f"cibadmin: the configuration kept changing under this {req.operation} ({MAX_ATTEMPTS} "
                    "tries); nothing was written", EX_TEMPFAIL)


def apply_write(root: cib.Element, req: AdminRequest) -> tuple[cib.Element | None, str]:
    """The CIB after the write (None: nothing changed) and a note for the user. Refused (3) when it would
    change the status section, except a whole CIB given to --replace, whose status part is left out."""
    import copy

    from paceline.shared import cib, cib_ops

    before = copy.deepcopy(root)
    after = cib_ops.apply(root, req.operation, req.xml, req.scope, req.xpath, req.delete_all, req.allow_create)
    note = ""
    if _section(before, "status") != _section(after, "status"):
        if not (req.operation == "replace" and after.tag == "cib" and after is not root):
            raise cib_ops.CibOpError("the status section is written by the nodes themselves (executor, "
                                     "membership); it cannot be changed with cibadmin", EX_UNIMPLEMENTED)
        note = "the status section of the CIB given was not written: each node's services own it"
    if _section(before, "configuration") == _section(after, "configuration") and \
            cib.attributes(before) == cib.attributes(after):
        return None, note
    return after, note


def _section(root: cib.Element, name: str) -> str:
    from paceline.shared import cib

    el = root.find(name)
    return cib.serialize(el, pretty=False) if el is not None else ""


# ------------------------------------------------------------------ the cluster

def read_cib(cluster: Cluster) -> tuple[cib.Element, str]:
    """The whole CIB and its version, as a configure session reads it."""
    from paceline.shared import cib
    from paceline.shared.messages import CibCopyRequest, CibDocument

    reply = _call(cluster, CibCopyRequest(), CibDocument)
    return cib.parse_cib(reply.xml), reply.version


def _call(cluster: Cluster, request: Message, reply: type[R]) -> R:
    """One gateway request; the gateway's refusals as Pacemaker's exit codes (the commit endpoint names the
    reason by code: conflict, invalid, forbidden)."""
    try:
        return cluster.call(request, reply, timeout=REQUEST_TIMEOUT)
    except ToolCrmError as exc:
        if exc.kind == "conflict":
            raise
        text = str(exc).removeprefix("commit: ")
        code = {"invalid": EX_CONFIG, "forbidden": EX_NOT_PRIVILEGED, "no-answer": EX_TIMEOUT}.get(exc.kind,
                                                                                                    EX_ERROR)
        if exc.kind == "no-answer":
            text += "; the change may or may not have been applied: check with cibadmin -Q"
        raise ToolError(f"{cluster.tool}: {text}", code) from None


def run(tool: str, argv: list[str], stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    """Run one crm_mon or cibadmin call; errors are raised as :class:`ToolError`."""
    out = sys.stdout if out is None else out
    stdin = sys.stdin if stdin is None else stdin
    request: MonRequest | AdminRequest | str
    request = crm_mon_request(argv) if tool == "crm_mon" else cibadmin_request(argv, stdin)
    if isinstance(request, str):
        out.write(request)
        return EX_OK
    cluster = Cluster(tool)
    try:
        if isinstance(request, MonRequest):
            return run_crm_mon(request, cluster, out)
        return run_cibadmin(request, cluster, out)
    except ToolError as exc:
        if isinstance(request, MonRequest) and request.fmt == "xml":
            _xml_failure(request, exc, out)
        raise
    finally:
        cluster.close()


def _xml_failure(req: MonRequest, exc: ToolError, out: TextIO) -> None:
    """crm_mon's XML for a failure (``<status code="102" message="Not connected">``), as Pacemaker's prints
    one, so a tool reading the document learns why; the line on stderr and the exit code stay."""
    from paceline.shared.cluster import crm_mon_xml

    message = EXIT_CODES.get(exc.code, "error").split(":")[0].capitalize()
    _emit(crm_mon_xml.error_document(req.request, exc.code, message, [str(exc)]), req.output_to, out)

