"""The ``paceline`` command: crmsh's levels and language, one-shot or from a file, live or offline.

Global options come first (``--cib-file``, ``-f``, ``--nats-url``, ``--lab``,
``--node``); the first word then picks a level or top-level command of the
registry (:data:`paceline.cli.commands.CLI`): ``status``, ``simulate``, ``lab``
or a crm level (``configure``, ``node``, ``resource``, ``ra``, ``cib``). Against
a cluster the words go to the gateway, which applies them to the live CIB; with
``--cib-file`` (or ``CIB_file``) the very same code edits a file and no cluster
is needed. User errors print one line and exit 1; nothing ever prompts.
"""

from __future__ import annotations

import os
import sys

from paceline.cli import toplevel
from paceline.cli.invocation import CliError, Options, parse_globals, read_script

GLOBALS = "usage: paceline [--cib-file FILE] [-f FILE] [-y] [-w] [--strict] [-o core.NAME=VALUE] [--nats-url URL] " \
          "[--lab DIR] [--node NODE] [COMMAND ...]"
NOTES = """\
-f FILE runs one command a line (as typed at the top level; '-' is stdin); nothing ever prompts
when stdin is not a terminal, -y answers yes. -w/--wait: after a change, return once the cluster
has settled (dots on a terminal; exit 124 after core.wait_timeout). -o/--opt sets one of crmsh's
options for this run:
{options}
'paceline LEVEL [COMMAND] --help' shows a level or a command.
Exit status: 1 on errors, 2 on warnings with --strict, 112 when a change went out but no answer
came back (it may or may not have been applied: check, then retry - defining an object exactly as
it is succeeds and changes nothing).
A lab started with 'paceline lab up' is found automatically ($PACELINE_LAB or ~/.paceline/lab);
$PACELINE_NATS_URL points at any cluster's bus. 'paceline help LEVEL' lists a level's commands.
"""


def main(argv: list[str] | None = None) -> int:
    console = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--complete"]:         # bash's Tab (the script of --bash-completion): before any option
        from paceline.cli.completion import bash_main

        return bash_main(argv[1:])
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
        return exc.status
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


def help_text(topic: list[str]) -> str:
    """``paceline help``: the usage of every command; ``paceline help LEVEL [COMMAND]`` (or ``paceline LEVEL
    [COMMAND] --help``): that level's commands, or that command - the same text as ``help`` in the shell."""
    from paceline.cli.commands import help_topic, usage
    from paceline.crm.errors import CrmError

    if not topic:
        from paceline.crm.preferences import OPTIONS

        options = "\n".join(f"  {option.hint()}" for option in OPTIONS)
        return f"{GLOBALS}\n\n{usage()}\n\n{NOTES.format(options=options)}"
    try:
        return help_topic(topic) + "\n"
    except CrmError as exc:
        raise CliError(str(exc)) from None


def dispatch(opts: Options) -> int:
    """The first word picks the registry's level or top-level command."""
    from paceline.crm.preferences import use

    use(opts.preferences)   # -o, -w: the same values for every command of the run, one-shot or shell
    words = opts.words
    head = words[0] if words else ""
    if head in ("help", "--help") and words[1:] == ["--man"]:
        from paceline.cli.manpage import manpage

        print(manpage(), end="")
        return 0
    if head in ("help", "--help"):
        print(help_text(words[1:]), end="")
        return 0
    if head == "--bash-completion":
        from paceline.cli.completion import BASH_SCRIPT

        print(BASH_SCRIPT, end="")
        return 0
    if head == "--version":
        from paceline.shared import VERSION

        print(f"paceline {VERSION}")
        return 0
    if head in toplevel.COMMANDS:        # status, simulate, lab
        return toplevel.run(head, opts, words[1:])
    from paceline.cli.commands import CLI, asks_help
    from paceline.cli.oneshot import run_cib, run_crm, run_shell

    if asks_help(words):               # paceline configure --help, paceline node standby --help
        print(help_text(words), end="")
        return 0
    level = CLI.level(head)
    if opts.script:
        if words:
            raise CliError(f"-f {opts.script} runs a file of commands; unexpected {' '.join(words)!r} after it")
        return run_shell(opts, script=read_script(opts.script))
    if not words or (len(words) == 1 and level is not None and level.enterable):
        if not sys.stdin.isatty():
            return run_shell(opts, script=[*words, *sys.stdin.read().splitlines()])
        return run_shell(opts, level=head)
    if level is None:
        raise CliError(f"unknown command {head!r}; expected one of: {', '.join(CLI.names())} "
                       "(see paceline --help)")
    if head == "cib":
        return run_cib(opts, words[1:])
    import shlex  # on use: a one-shot simulate or status never joins words

    return run_crm(opts, shlex.join(words))


if __name__ == "__main__":
    sys.exit(main())
