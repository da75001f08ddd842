"""``paceline status``: the cluster page as ``crm status`` shows it (``crm_mon -1 -r``), with crmsh's sub-options
and crm_mon's switches for its other sections, or the same facts as JSON or XML; ``--watch`` redraws on changes.

crmsh passes ``crm status WORD...`` to crm_mon as switches (``bynode`` is ``-n``, ``full`` is ``-ncrft``) and
adds ``-r`` only when given nothing; ``paceline status`` takes the words and the switches and does the same.
"""

from __future__ import annotations

import sys
from typing import NamedTuple

from paceline.cli.invocation import CliError, Options, gateway_client, live_request, offline_backend

#: crmsh's ``status`` sub-options, as the sections of the page they show (crmsh's ``full`` is ``-ncrft``).
WORDS = {"inactive": {"inactive"}, "bynode": {"bynode"}, "failcounts": {"failcounts"}, "ops": {"operations"},
         "timing": {"timing"}, "full": {"bynode", "inactive", "failcounts", "timing", "tickets"},
         "tickets": {"tickets"}}
#: crm_mon's switches: the section each shows (``-1``: none; it says the page is wanted once, which it is).
SWITCHES = {"-1": set(), "--one-shot": set(), "-r": {"inactive"}, "--inactive": {"inactive"},
            "-n": {"bynode"}, "--group-by-node": {"bynode"}, "-f": {"failcounts"}, "--failcounts": {"failcounts"},
            "-o": {"operations"}, "--operations": {"operations"}, "-t": {"timing"},
            "--timing-details": {"timing"}, "-A": {"attributes"}, "--show-node-attributes": {"attributes"},
            "-c": {"tickets"}, "--tickets": {"tickets"}}
FORMATS = ("text", "json", "xml")
#: Without a word or switch, the page of ``crm status``: ``crm_mon -1 -r``.
DEFAULT_SHOW = ("inactive",)


class StatusArgs(NamedTuple):
    fmt: str
    watch: bool
    show: tuple[str, ...]


def _sections(arg: str) -> set[str] | None:
    """The sections a crmsh word or crm_mon switch (``-rf`` as ``-r -f``) shows; None if it is not one."""
    if arg in WORDS:
        return WORDS[arg]
    if arg in SWITCHES:
        return SWITCHES[arg]
    if len(arg) > 2 and arg.startswith("-") and not arg.startswith("--") and all(f"-{c}" in SWITCHES for c in arg[1:]):
        return set().union(*(SWITCHES[f"-{c}"] for c in arg[1:]))
    return None


def parse_status_args(args: list[str]) -> StatusArgs:
    """Format (``--output-as FORMAT`` / ``--as-xml``), ``--watch`` and the sections to show."""
    fmt, watch, show, explicit = "text", False, set(), False
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, value = arg.partition("=")
        sections = _sections(arg)
        if sections is not None:
            show |= sections
            explicit = True
        elif name in ("--output-as", "--as-xml"):
            if name == "--as-xml":
                value = "xml"
            elif not eq:
                i += 1
                if i >= len(args):
                    raise CliError("status: --output-as needs a value (text, json or xml)")
                value = args[i]
            if value not in FORMATS:
                raise CliError(f"status: unknown output format {value!r}; expected text, json or xml")
            fmt = value
        elif arg == "--watch":
            watch = True
        elif arg == "-w":
            raise CliError("status: -w is the global --wait, given before the command (paceline -w status); "
                           "to redraw on every change use status --watch")
        else:
            raise CliError(f"status: unexpected {arg!r}; expected full, bynode, inactive, ops, timing, failcounts, "
                           "tickets, -1rnfotAc, --output-as text|json|xml or --watch (status --help)")
        i += 1
    return StatusArgs(fmt, watch, tuple(sorted(show)) if explicit else DEFAULT_SHOW)


def command(opts: Options, args: list[str]) -> int:
    """The page of the shadow or CIB file in use, else the cluster's (from the gateway)."""
    if any(a in ("--help", "-h") for a in args):
        from paceline.cli.main import help_text

        print(help_text(["status"]), end="")
        return 0
    parsed = parse_status_args(args)
    if parsed.watch:
        if opts.cib_file or opts.shadow:
            raise CliError("status --watch needs a live cluster (it redraws on changes from the bus)")
        from paceline.cli.watch import watch_status

        return watch_status(gateway_client(opts), parsed.fmt, parsed.show)
    offline = offline_backend(opts)
    if offline is not None:
        from paceline.crm import CrmError

        try:
            text, errors = offline.status_page(parsed.fmt, parsed.show)
        except CrmError as exc:
            raise CliError(str(exc)) from None
    else:
        reply = live_request(opts, "status", {"format": parsed.fmt, "show": list(parsed.show)})
        text, errors = reply["text"], reply.get("errors") or []
    print(text, end="")
    sys.stdout.flush()
    for line in errors:
        print(f"paceline status: configuration error: {line}", file=sys.stderr)
    return 0
