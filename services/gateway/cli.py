"""The ``paceline`` command: crmsh's levels and language, one-shot or from a file, live or offline.

Global options come first (``--cib-file``, ``-f``, ``--nats-url``, ``--lab``,
``--node``); the first word then picks ``lab``, ``simulate``, ``status`` or a
crm level (``configure``, ``node``, ``resource``). Against a cluster the words
go to the gateway, which applies them to the live CIB; with ``--cib-file`` (or
``CIB_file``) the very same code edits a file and no cluster is needed.
User errors print one line and exit 1; nothing ever prompts.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

USAGE = """\
usage: paceline [--cib-file FILE] [-f FILE] [--nats-url URL] [--lab DIR] [--node NODE] COMMAND ...

commands:
  status                          cluster status in crm_mon's layout
  configure SUBCOMMAND ...        primitive, group, location, colocation, order, property,
                                  rsc_defaults, op_defaults, monitor, delete, show, verify, ...
  node standby|online [NODE]      and the rest of crmsh's node level
  resource start|stop|migrate|unmigrate|status|cleanup RSC ...
  simulate -x FILE [-S] [-s]      the scheduler offline, like crm_simulate
  lab up --nodes A,B | status | kill NODE | revive NODE | down

A lab started with 'paceline lab up' is found automatically ($PACELINE_LAB or ~/.paceline/lab);
$PACELINE_NATS_URL points at any cluster's bus.
"""

CRM_LEVELS = ("configure", "node", "resource", "cib", "ra")


class CliError(Exception):
    """Printed as one line on stderr; exit status 1."""


@dataclass
class Options:
    cib_file: str | None = None
    script: str | None = None
    nats_url: str | None = None
    lab: str | None = None
    node: str | None = None
    cluster: str | None = None
    yes: bool = False
    words: list[str] = field(default_factory=list)


def parse_globals(argv: list[str]) -> Options:
    opts = Options(cib_file=os.environ.get("CIB_file") or None)  # noqa: SIM112 - crmsh spells it so
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
        elif arg in ("-y", "--yes"):
            opts.yes = True
        elif arg in ("-h", "--help"):
            opts.words = ["help"]
            return opts
        else:
            break
        i += 1
    opts.words = argv[i:]
    return opts


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        opts = parse_globals(argv)
        return dispatch(opts)
    except CliError as exc:
        for line in str(exc).splitlines() or [""]:
            print(f"ERROR: {line}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def dispatch(opts: Options) -> int:
    words = opts.words
    if not words and not opts.script:
        print(USAGE, end="")
        return 0
    head = words[0] if words else ""
    if head in ("help", "--help"):
        print(USAGE, end="")
        return 0
    if head == "--version":
        print("paceline 0.1.0")
        return 0
    if head == "lab":
        from paceline.gateway.labcli import run_lab

        return run_lab(words[1:], opts.lab)
    if head == "simulate":
        from paceline.policy.simulate import main as simulate

        return simulate(words[1:])
    if head == "status":
        return show_status(opts, words[1:])
    lines = []
    if opts.script:
        lines += read_script(opts.script)
    if words:
        if head not in CRM_LEVELS:
            raise CliError(f"unknown command {head!r}; expected one of: status, {', '.join(CRM_LEVELS)}, "
                           "simulate, lab (see paceline --help)")
        lines.append(shlex.join(words))
    return run_crm(opts, lines, script=bool(opts.script))


def read_script(path: str) -> list[str]:
    try:
        return (sys.stdin.read() if path == "-" else Path(path).read_text()).splitlines()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None


def local_node(opts: Options) -> str:
    return opts.node or os.environ.get("PACELINE_NODE") or socket.gethostname()


# ------------------------------------------------------------------ offline (CIB file)

def load_file(path: str):
    from paceline.shared import cib

    try:
        return cib.parse_cib(Path(path).read_bytes())
    except FileNotFoundError:
        raise CliError(f"CIB file {path} does not exist") from None
    except cib.CibError as exc:
        raise CliError(f"CIB file {path}: {exc}") from None


def run_crm(opts: Options, lines: list[str], script: bool) -> int:
    if opts.cib_file:
        return run_crm_file(opts, lines, script)
    reply = asyncio.run(_live_request(opts, "crm", {"lines": lines, "node": local_node(opts), "script": script}))
    if reply.get("output"):
        print(reply["output"].rstrip("\n"))
    return 0


def run_crm_file(opts: Options, lines: list[str], script: bool) -> int:
    from paceline.gateway.agents import local_catalog
    from paceline.gateway.crm import Context, CrmError, run_lines
    from paceline.gateway.service import describe_resources
    from paceline.policy.scheduler import unpack
    from paceline.shared import cib

    path = opts.cib_file
    assert path is not None
    root = load_file(path)
    catalog = local_catalog()
    ctx = Context(local_node=local_node(opts), agent_known=catalog.known, agent_meta=catalog.meta,
                  resource_status=lambda rsc: describe_resources(unpack(root), rsc))
    try:
        outcome, failure = run_lines(root, lines, ctx, script)
    except CrmError as exc:
        raise CliError(str(exc)) from None
    if outcome.changed:
        v = cib.version(root)
        cib.set_version(root, cib.Version(v.admin_epoch, v.epoch + 1, 0))
        cib.stamp_change(root, "crm")
        tmp = Path(path).with_name(Path(path).name + ".tmp")
        tmp.write_text(cib.serialize(root))
        tmp.replace(path)
    if outcome.output:
        print(outcome.output.rstrip("\n"))
    if failure is not None:
        raise CliError(str(failure))
    return 0


# ------------------------------------------------------------------ live (the bus)

def nats_url(opts: Options) -> tuple[str, str]:
    """The bus to talk to, and the cluster name: flag, environment, or the running lab."""
    url = opts.nats_url or os.environ.get("PACELINE_NATS_URL")
    cluster = opts.cluster or os.environ.get("PACELINE_CLUSTER")
    if url:
        return url, cluster or "default"
    from paceline.gateway.lab import Lab, LabError

    try:
        lab = Lab.load(Path(opts.lab) if opts.lab else None)
    except LabError as exc:
        raise CliError(f"no cluster to talk to: {exc}; or set PACELINE_NATS_URL") from None
    return lab.nats_url, cluster or lab.cluster


async def _live_request(opts: Options, endpoint: str, body: dict) -> dict:
    from paceline.shared import bus
    from paceline.shared.subjects import Subjects

    url, cluster = nats_url(opts)
    try:
        nc = await bus.connect(url, "paceline-cli", retry_forever=False, connect_timeout=2)
    except bus.BusUnavailable as exc:
        raise CliError(str(exc)) from None
    try:
        return await bus.request(nc, Subjects(cluster).gateway(endpoint), endpoint, body, timeout=30)
    except bus.RemoteError as exc:
        raise CliError(str(exc)) from None
    except bus.BusUnavailable as exc:
        raise CliError(f"{exc} (is the gateway running?)") from None
    finally:
        await nc.close()


def show_status(opts: Options, args: list[str]) -> int:
    if args:
        raise CliError(f"status takes no arguments here, got {' '.join(args)!r}")
    if opts.cib_file:
        from paceline.gateway.status import render

        print(render(load_file(opts.cib_file)), end="")
        return 0
    reply = asyncio.run(_live_request(opts, "status", {}))
    print(reply["text"], end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
