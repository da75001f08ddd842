"""A crm command typed on the command line (``paceline configure primitive ...``), and the shell engine.

One line is applied at once: to the shadow or CIB file in process, or sent to the gateway, which applies
it to the live CIB (no lxml imported here for that). A configure session command (``save``, ``load``,
``erase``, ``edit``), a script (``-f FILE``, or lines piped on stdin) and the interactive shell all run in
:class:`paceline.cli.shell.Shell`.
"""

from __future__ import annotations

import shlex
import sys

from paceline.cli.invocation import (
    EXIT_INDETERMINATE,
    CliError,
    Options,
    gateway_client,
    live_request,
    local_node,
    offline_backend,
    origin_backend,
    report,
)


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


def run_cib(opts: Options, args: list[str]) -> int:
    """A one-shot ``cib`` command; the cluster (or --cib-file) is opened only by commands that need it."""
    from paceline.cli.cib_level import CibLevel
    from paceline.crm import CrmError

    level = CibLevel(lambda: origin_backend(opts), local_node(opts), current=opts.shadow, one_shot=True)
    try:
        code = report(level.execute(args), opts.strict)
    except CrmError as exc:
        raise CliError(str(exc)) from None
    finally:
        level.close()
    return settled(opts, ["cib", *args], code, origin=True)   # -w after cib commit: the cluster it went to


def run_crm(opts: Options, line: str) -> int:
    """One command line, applied at once: to the shadow or CIB file, or by the gateway (no lxml imported here)."""
    from paceline.cli.commands import is_own_session, is_resource_wait

    line = confirmed(opts, line)
    words = crm_words(line)
    if words[:1] == ["configure"] and is_own_session(words[1:]):
        return run_shell(opts, script=[line])      # save/load/erase/edit: a session of its own
    if is_resource_wait(words):
        return settled(opts, words, wait=True)
    offline = offline_backend(opts)
    if offline is not None:
        from paceline.crm import CrmError

        try:
            output = offline.run(line)
        except CrmError as exc:
            raise CliError(str(exc)) from None
        return report(output, opts.strict)
    if words[:2] == ["resource", "restart"] and len(words) > 2:
        return settled(opts, words, restart_live(opts, words[2:]))
    try:
        reply = live_request(opts, "crm", {"lines": [line], "node": local_node(opts), "script": False,
                                           "options": opts.preferences.to_wire()})
    except CliError as exc:
        raise unknown_outcome(exc, words) from None
    return settled(opts, words, report(reply.get("output") or "", opts.strict))


def settled(opts: Options, words: list[str], code: int = 0, wait: bool = False, origin: bool = False) -> int:
    """``resource wait`` (``wait``), or crmsh's ``-w`` after a command that ran: wait for the cluster to settle
    (:mod:`paceline.cli.settle`); exit status 124 (Pacemaker's CRM_EX_TIMEOUT) when it did not in time.
    ``origin``: the command wrote to the cluster (or CIB file) even though a shadow is in use (``cib commit``)."""
    from paceline.cli import settle
    from paceline.cli.commands import waits
    from paceline.crm import CrmError

    if not wait and not (opts.preferences.wait and waits(words)):
        return code
    backend = origin_backend(opts) if origin else offline_backend(opts) or origin_backend(opts)
    try:
        if wait:
            report(settle.resource_wait(backend, words[2:]), opts.strict)
        else:
            settle.after(backend, words)
    except settle.NotSettled as exc:
        raise CliError(str(exc), status=settle.EXIT_TIMEOUT) from None
    except CrmError as exc:
        raise CliError(str(exc)) from None
    finally:
        backend.close()
        opts.one_shot = True
    return code


def crm_words(line: str) -> list[str]:
    """The words of a command line, read as the gateway reads them: in time linear in its length (shlex takes
    seconds on a long value), and a line over the size limits (:mod:`paceline.shared.limits`) is refused
    here with one line, rather than sent to fail as a bus error."""
    from paceline.crm import CrmError
    from paceline.crm.words import split_words

    try:
        return split_words(line)
    except CrmError as exc:
        raise CliError(str(exc)) from None


def unknown_outcome(exc: CliError, words: list[str]) -> CliError:
    """A change that went out without an answer coming back is neither done nor failed: say so, distinctly."""
    from paceline.cli.commands import is_read_only
    from paceline.client.gateway import NO_ANSWER

    if exc.code != NO_ANSWER or is_read_only(words):
        return exc
    return CliError(f"{exc}\nthe change may or may not have been applied; check with 'paceline configure show' "
                    "or 'paceline status' before trying again", status=EXIT_INDETERMINATE, code=exc.code)


def confirmed(opts: Options, line: str) -> str:
    """The line with ``-y`` added when it needs confirming and got it (-y, or a yes on the terminal).

    A script is never asked: its line goes unchanged and is refused with a hint to add -y.
    """
    from paceline.cli import confirm

    words = crm_words(line)
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
