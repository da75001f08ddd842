"""One run of ``paceline``: its global options, and where its commands go (the cluster, a CIB file, a shadow).

Global options come first (``--cib-file``, ``-f``, ``--nats-url``, ``--lab``, ``--node``, ``-y``,
``--strict``, ``-w``, ``-o core.NAME=VALUE``); ``CIB_file`` and ``CIB_shadow`` say the same from the
environment, as for crmsh and Pacemaker's tools. The modules that run commands
(:mod:`paceline.cli.oneshot`, :mod:`paceline.cli.status`) share what is here; nothing here imports lxml,
nats-py or asyncio until a command needs it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paceline.crm.errors import CrmError
from paceline.crm.preferences import Preferences

if TYPE_CHECKING:
    from paceline.client.backends import Backend
    from paceline.client.gateway import GatewayClient


#: Exit status of a change whose outcome is unknown (Pacemaker's CRM_EX_INDETERMINATE).
EXIT_INDETERMINATE = 112


class CliError(Exception):
    """Printed as one line on stderr; exit status ``status`` (1 unless said otherwise)."""

    def __init__(self, message: str, status: int = 1, code: str = ""):
        super().__init__(message)
        self.status = status
        self.code = code


#: The global options: their names, the value they take ("" for none) and what they do - for the manual page
#: (:mod:`paceline.cli.manpage`) and bash completion; :func:`parse_globals` reads them.
GLOBAL_OPTIONS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("--cib-file",), "FILE", "work on a CIB file instead of the cluster (as CIB_file)"),
    (("-f", "--file"), "FILE", "run the commands of FILE, one a line, as typed at the top level ('-': stdin)"),
    (("-y", "--yes"), "", "answer yes where a command would ask; nothing ever asks when stdin is not a terminal"),
    (("-w", "--wait"), "", "after a change, return once the cluster has settled (crmsh's -w; dots on a terminal)"),
    (("-o", "--opt"), "core.NAME=VALUE", "set one of crmsh's options for this run (see below)"),
    (("--strict",), "", "exit 2 when there were warnings"),
    (("--nats-url",), "URL", "the cluster's bus (default: the lab's, or $PACELINE_NATS_URL)"),
    (("--lab",), "DIR", "the lab to talk to (default: $PACELINE_LAB or ~/.paceline/lab)"),
    (("--cluster",), "NAME", "the cluster's name on the bus"),
    (("--node",), "NODE", "the node this command counts as local (default: $PACELINE_NODE or the host name)"),
    (("-h", "--help"), "", "the commands; LEVEL [COMMAND] --help: a level or a command"),
    (("--version",), "", "the version"),
)


@dataclass
class Options:
    cib_file: str | None = None
    shadow: str | None = None   # $CIB_shadow: work on that shadow CIB (an explicit --cib-file wins)
    script: str | None = None
    nats_url: str | None = None
    lab: str | None = None
    node: str | None = None
    cluster: str | None = None
    yes: bool = False
    strict: bool = False
    words: list[str] = field(default_factory=list)
    #: crmsh's ``-o core.NAME=VALUE`` options (and ``-w``, ``-y``), read by :mod:`paceline.crm.preferences`
    #: once for the whole run: one-shot and shell use the same values.
    preferences: Preferences = field(default_factory=Preferences)
    console: bool = False   # run as the ``paceline`` process itself (not called in-process): may exit directly
    one_shot: bool = False  # a live one-shot request has run: nothing is left to tear down but the interpreter


def parse_globals(argv: list[str]) -> Options:
    """The global options up to the first word that is not one; the rest are the command's words."""
    opts = Options(cib_file=os.environ.get("CIB_file") or None,  # noqa: SIM112 - crmsh spells it so
                   shadow=os.environ.get("CIB_shadow") or None)  # noqa: SIM112 - Pacemaker spells it so
    takes_value = {"--cib-file": "cib_file", "-f": "script", "--file": "script", "--nats-url": "nats_url",
                   "--lab": "lab", "--node": "node", "--cluster": "cluster"}
    i = 0
    while i < len(argv):
        arg = argv[i]
        name, eq, value = arg.partition("=")
        if name in takes_value:
            if not eq:
                i += 1
                if i >= len(argv):
                    raise CliError(f"option {arg} needs a value")
                value = argv[i]
            setattr(opts, takes_value[name], value)
            if name == "--cib-file":
                opts.shadow = None
        elif name in ("-o", "--opt"):
            if not eq:
                i += 1
                if i >= len(argv):
                    raise CliError(f"option {arg} needs a value (e.g. core.ignore_missing_metadata=yes)")
                value = argv[i]
            opts.preferences = _preference(opts.preferences, value)
        elif arg in ("-y", "--yes"):
            opts.yes = True
        elif arg in ("-w", "--wait"):
            opts.preferences = _preference(opts.preferences, "core.wait=yes")
        elif arg == "--strict":
            opts.strict = True
        elif arg in ("-h", "--help"):
            opts.words = ["help"]
            return opts
        else:
            break
        i += 1
    opts.words = argv[i:]
    opts.yes = opts.yes or opts.preferences.force
    return opts


def _preference(current: Preferences, assignment: str) -> Preferences:
    """``current`` with one ``-o`` assignment applied; an unknown name or a bad value is a one-line error."""
    try:
        return Preferences.parse([assignment], base=current)
    except CrmError as exc:
        raise CliError(f"-o {assignment}: {exc}") from None


def read_script(path: str) -> list[str]:
    try:
        return (sys.stdin.read() if path == "-" else Path(path).read_text()).splitlines()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None


def local_node(opts: Options) -> str:
    name = opts.node or os.environ.get("PACELINE_NODE")
    if name:
        return name
    import socket  # on use: the offline commands (simulate) never ask for the host name

    return socket.gethostname()


def report(output: str, strict: bool) -> int:
    """Print a command's output: WARNING lines on stderr (exit 2 with --strict), the rest on stdout."""
    warned = False
    for line in output.rstrip("\n").splitlines():
        if line.startswith("WARNING:"):
            warned = True
            print(line, file=sys.stderr)
        else:
            print(line)
    return 2 if warned and strict else 0


def origin_backend(opts: Options) -> Backend:
    """The CIB file, or the cluster through the gateway: what a session works on and shadows are copied from."""
    if opts.cib_file:
        from paceline.cli.simulate import explain_offline
        from paceline.client.backends import FileBackend

        return FileBackend(opts.cib_file, local_node(opts), explain_offline)
    from paceline.client.backends import LiveBackend

    return LiveBackend(gateway_client(opts), local_node(opts))


def offline_backend(opts: Options) -> Backend | None:
    """The shadow CIB ($CIB_shadow) or CIB file a command works on without the cluster; None: the cluster."""
    if opts.shadow:
        from paceline.cli.simulate import explain_offline
        from paceline.client.shadow import ShadowStore

        return ShadowStore(explain=explain_offline).backend(opts.shadow, local_node(opts))
    return origin_backend(opts) if opts.cib_file else None


def gateway_client(opts: Options) -> GatewayClient:
    from paceline.client.gateway import ClientError, GatewayClient, find_bus, find_credential

    try:
        url, cluster = find_bus(opts.nats_url, opts.cluster, opts.lab)
        return GatewayClient(url, cluster, find_credential(opts.lab))
    except ClientError as exc:
        raise CliError(str(exc)) from None


def live_request(opts: Options, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    """One request to the gateway; the process has nothing left to tear down afterwards."""
    from paceline.client.gateway import ClientError

    client = gateway_client(opts)
    try:
        return client.request(endpoint, body)
    except ClientError as exc:
        raise CliError(str(exc), code=exc.code) from None
    finally:
        client.close()
        opts.one_shot = True
