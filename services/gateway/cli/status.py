"""``paceline status [--output-as text|json|xml] [--watch]``: the cluster page, once or redrawn on changes."""

from __future__ import annotations

from paceline.cli.invocation import CliError, Options, gateway_client, live_request, offline_backend


def parse_status_args(args: list[str]) -> tuple[str, bool]:
    """(format, watch) from ``--output-as FORMAT`` / ``-o`` / ``--as-xml`` and ``--watch`` / ``-w``."""
    fmt, watch = "text", False
    i = 0
    while i < len(args):
        name, eq, value = args[i].partition("=")
        if name in ("--output-as", "-o", "--as-xml"):
            if name == "--as-xml":
                value = "xml"
            elif not eq:
                i += 1
                if i >= len(args):
                    raise CliError(f"status: {name} needs a value (text, json or xml)")
                value = args[i]
            if value not in ("text", "json", "xml"):
                raise CliError(f"status: unknown output format {value!r}; expected text, json or xml")
            fmt = value
        elif args[i] in ("--watch", "-w"):
            watch = True
        else:
            raise CliError(f"status: unexpected {args[i]!r}; expected --output-as text|json|xml or --watch")
        i += 1
    return fmt, watch


def command(opts: Options, args: list[str]) -> int:
    """The page of the shadow or CIB file in use, else the cluster's (from the gateway)."""
    fmt, watch = parse_status_args(args)
    if watch:
        if opts.cib_file or opts.shadow:
            raise CliError("status --watch needs a live cluster (it redraws on changes from the bus)")
        from paceline.cli.watch import watch_status

        return watch_status(gateway_client(opts), fmt)
    offline = offline_backend(opts)
    if offline is not None:
        from paceline.crm import CrmError

        try:
            print(offline.status(fmt), end="")
        except CrmError as exc:
            raise CliError(str(exc)) from None
        return 0
    print(live_request(opts, "status", {"format": fmt})["text"], end="")
    return 0
