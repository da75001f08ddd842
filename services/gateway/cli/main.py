"""The ``paceline`` command: crmsh's levels and language, one-shot or from a file, live or offline.

Global options come first (``--cib-file``, ``-f``, ``--nats-url``, ``--lab``,
``--node``); the first word then picks ``lab``, ``simulate``, ``status`` or a
crm level (``configure``, ``node``, ``resource``). Against a cluster the words
go to the gateway, which applies them to the live CIB; with ``--cib-file`` (or
``CIB_file``) the very same code edits a file and no cluster is needed.
User errors print one line and exit 1; nothing ever prompts.
"""

from __future__ import annotations

import os
import shlex
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

USAGE = """\
usage: paceline [--cib-file FILE] [-f FILE] [-y] [--strict] [--nats-url URL] [--lab DIR] [--node NODE] [COMMAND ...]

  paceline                        the interactive shell (levels configure, node, resource, ra, status)
  status [--output-as text|json|xml] [--watch]
                                  cluster status in crm_mon's layout, or for tools; --watch redraws on changes
  configure SUBCOMMAND ...        primitive, group, clone, ms, location, colocation, order, property,
                                  rsc_defaults, op_defaults, monitor, delete, rename, show, verify, ...
  node standby|online [NODE]      and the rest of crmsh's node level
  resource start|stop|restart|migrate|unmigrate|ban|cleanup|status RSC ...
  ra classes|list CLASS|providers TYPE|info AGENT|validate AGENT k=v ...
  cib new|use|commit|diff|reset|delete|list NAME ...
                                  shadow CIBs; CIB_shadow=NAME makes any command work on shadow NAME
  simulate -x FILE [-S] [-s]      the scheduler offline, like crm_simulate
  lab up --nodes A,B | status | kill NODE | revive NODE | down

-f FILE runs one command a line (as typed at the top level; '-' is stdin); nothing ever prompts
when stdin is not a terminal, -y answers yes. Exit status: 1 on errors, 2 on warnings with --strict.
A lab started with 'paceline lab up' is found automatically ($PACELINE_LAB or ~/.paceline/lab);
$PACELINE_NATS_URL points at any cluster's bus.
"""

CRM_LEVELS = ("configure", "node", "resource", "cib", "ra")


class CliError(Exception):
    """Printed as one line on stderr; exit status 1."""


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
    console: bool = False   # run as the ``paceline`` process itself (not called in-process): may exit directly
    one_shot: bool = False  # a live one-shot request has run: nothing is left to tear down but the interpreter


def parse_globals(argv: list[str]) -> Options:
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
        elif arg in ("-y", "--yes"):
            opts.yes = True
        elif arg == "--strict":
            opts.strict = True
        elif arg in ("-h", "--help"):
            opts.words = ["help"]
            return opts
        else:
            break
        i += 1
    opts.words = argv[i:]
    return opts


def main(argv: list[str] | None = None) -> int:
    console = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        opts = parse_globals(argv)
        opts.console = console
        code = dispatch(opts)
        if opts.console and opts.one_shot:
            exit_now(code)
        return code
    except CliError as exc:
        for line in str(exc).splitlines() or [""]:
            print(f"ERROR: {line}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def exit_now(code: int) -> None:
    """End the process once the output is out, skipping the interpreter's module-by-module teardown.

    A one-shot ``paceline status`` spends ~5 ms of its ~80 ms freeing modules it
    is about to lose anyway, and ``paceline simulate`` on a 2,000-resource CIB a
    fifth of its run freeing its heap; nothing else is pending by then.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def dispatch(opts: Options) -> int:
    words = opts.words
    head = words[0] if words else ""
    if head in ("help", "--help"):
        print(USAGE, end="")
        return 0
    if head == "--version":
        print("paceline 0.1.0")
        return 0
    if head == "lab":
        from paceline.lab.command import run_lab

        return run_lab(words[1:], opts.lab)
    if head == "simulate":
        from paceline.cli.simulate import main as simulate

        opts.one_shot = True      # a scheduling run leaves a large heap: not worth freeing object by object
        return simulate(words[1:])
    if head == "status":
        return show_status(opts, words[1:])
    if opts.script:
        if words:
            raise CliError(f"-f {opts.script} runs a file of commands; unexpected {' '.join(words)!r} after it")
        return run_shell(opts, script=read_script(opts.script))
    if not words or (len(words) == 1 and head in CRM_LEVELS):
        if not sys.stdin.isatty():
            return run_shell(opts, script=[*words, *sys.stdin.read().splitlines()])
        return run_shell(opts, level=head)
    if head not in CRM_LEVELS:
        raise CliError(f"unknown command {head!r}; expected one of: status, {', '.join(CRM_LEVELS)}, "
                       "simulate, lab (see paceline --help)")
    if head == "cib":
        return run_cib(opts, words[1:])
    return run_crm(opts, shlex.join(words))


def read_script(path: str) -> list[str]:
    try:
        return (sys.stdin.read() if path == "-" else Path(path).read_text()).splitlines()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None


def local_node(opts: Options) -> str:
    return opts.node or os.environ.get("PACELINE_NODE") or socket.gethostname()


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


def run_shell(opts: Options, script: list[str] | None = None, level: str = "") -> int:
    """The shell engine: interactive on a terminal, or a script (never prompting)."""
    from paceline.cli.shell import Shell
    from paceline.crm import CrmError

    backend = origin_backend(opts)
    shell = Shell(backend, interactive=script is None, yes=opts.yes, strict=opts.strict, shadow=opts.shadow)
    try:
        if script is not None:
            return shell.run_script(script)
        if level:
            try:
                shell.enter(level)
            except CrmError as exc:
                raise CliError(str(exc)) from None
        return shell.loop()
    finally:
        backend.close()


# ------------------------------------------------------------------ one-shot commands

def origin_backend(opts: Options) -> Any:
    """The CIB file, or the cluster through the gateway: what a session works on and shadows are copied from."""
    if opts.cib_file:
        from paceline.cli.simulate import explain_offline
        from paceline.client.backends import FileBackend

        return FileBackend(opts.cib_file, local_node(opts), explain_offline)
    from paceline.client.backends import LiveBackend

    return LiveBackend(gateway_client(opts), local_node(opts))


def offline_backend(opts: Options) -> Any:
    """The shadow CIB ($CIB_shadow) or CIB file a command works on without the cluster; None: the cluster."""
    if opts.shadow:
        from paceline.cli.simulate import explain_offline
        from paceline.client.shadow import ShadowStore

        return ShadowStore(explain=explain_offline).backend(opts.shadow, local_node(opts))
    return origin_backend(opts) if opts.cib_file else None


def run_cib(opts: Options, args: list[str]) -> int:
    """A one-shot ``cib`` command; the cluster (or --cib-file) is opened only by commands that need it."""
    from paceline.cli.cib_level import CibLevel
    from paceline.crm import CrmError

    level = CibLevel(lambda: origin_backend(opts), local_node(opts), current=opts.shadow, one_shot=True)
    try:
        return report(level.execute(args), opts.strict)
    except CrmError as exc:
        raise CliError(str(exc)) from None
    finally:
        level.close()


def run_crm(opts: Options, line: str) -> int:
    """One command line, applied at once: to the shadow or CIB file, or by the gateway (no lxml imported here)."""
    from paceline.cli.session_commands import is_session_command

    line = confirmed(opts, line)
    words = shlex.split(line)
    if words and words[0] == "configure" and is_session_command(words[1:]):
        return run_shell(opts, script=[line])      # save/load/erase/edit: a session of its own
    offline = offline_backend(opts)
    if offline is not None:
        from paceline.crm import CrmError

        try:
            output, _ = offline.run_lines([line], script=False)
        except CrmError as exc:
            raise CliError(str(exc)) from None
        return report(output, opts.strict)
    if words[:2] == ["resource", "restart"] and len(words) > 2:
        return restart_live(opts, words[2:])
    reply = live_request(opts, "crm", {"lines": [line], "node": local_node(opts), "script": False})
    return report(reply.get("output") or "", opts.strict)


def confirmed(opts: Options, line: str) -> str:
    """The line with ``-y`` added when it needs confirming and got it (-y, or a yes on the terminal).

    A script is never asked: its line goes unchanged and is refused with a hint to add -y.
    """
    from paceline.cli import confirm

    words = shlex.split(line)
    question = confirm.needs_confirmation(words[0], words[1:]) if words else None
    if question is None:
        return line
    interactive = sys.stdin.isatty()
    if confirm.answer(question, yes=opts.yes, interactive=interactive):
        return shlex.join([*words, "-y"])
    if interactive:
        raise CliError(f"{words[0]} {words[1]}: not confirmed; nothing done")
    return line


def restart_live(opts: Options, rscs: list[str]) -> int:
    from paceline.cli.restart import restart
    from paceline.client.gateway import ClientError

    client = gateway_client(opts)
    try:
        return report(restart(client, rscs, local_node(opts)), opts.strict)
    except ClientError as exc:
        raise CliError(str(exc)) from None
    finally:
        client.close()


def gateway_client(opts: Options) -> Any:
    from paceline.client.gateway import ClientError, GatewayClient, find_bus

    try:
        url, cluster = find_bus(opts.nats_url, opts.cluster, opts.lab)
    except ClientError as exc:
        raise CliError(str(exc)) from None
    return GatewayClient(url, cluster)


def live_request(opts: Options, endpoint: str, body: dict) -> dict:
    from paceline.client.gateway import ClientError

    client = gateway_client(opts)
    try:
        return client.request(endpoint, body)
    except ClientError as exc:
        raise CliError(str(exc)) from None
    finally:
        client.close()
        opts.one_shot = True


def parse_status_args(args: list[str]) -> tuple[str, bool]:
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


def show_status(opts: Options, args: list[str]) -> int:
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


if __name__ == "__main__":
    sys.exit(main())
