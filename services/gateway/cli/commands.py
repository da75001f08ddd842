"""The ``paceline`` command's registry: the crm levels plus what only the CLI has.

The same types as :mod:`paceline.crm.registry`, extended with the configure session's commands (staged
changes: ``commit``, ``refresh``, ``edit``, ``save``, ``load``, ``erase``), the ``status`` page, the
``cib`` level (shadow CIBs) and the one-shot ``simulate`` and ``lab``. The shell (``ls``, ``help``, ``cd``,
levels), tab completion and ``paceline --help`` all read :data:`CLI`. Kept free of lxml: the one-shot CLI
reads it before deciding whether it needs the crm language at all.

Handlers by level: a configure session command is ``(ConfigureSession, args) -> str``, a ``cib`` command
``(CibLevel, args) -> str``, a top-level command (``status``, ``simulate``, ``lab``) ``(Options, args) -> int``.
"""

from __future__ import annotations

from paceline.cli import toplevel
from paceline.crm.registry import (
    CONFIGURE,
    CRM,
    Command,
    Completer,
    Facts,
    Level,
    Registry,
    complete_objects,
)


def _shadows(facts: Facts, args: list[str], text: str) -> list[str]:
    """The first argument names an existing shadow."""
    return [] if args else facts.shadow_names()


def _shadow_or_live(facts: Facts, args: list[str], text: str) -> list[str]:
    from paceline.client.shadow import LIVE

    return [] if args else [LIVE, *facts.shadow_names()]


def _session(name: str, args: str, summary: str, own: bool = False) -> Command:
    return Command(name, args, summary, f"paceline.cli.session:ConfigureSession.{name}", session=True,
                   own_session=own, complete=complete_objects if name == "edit" else None,
                   waits=name == "commit" or own)


_SESSION = (
    CONFIGURE.get("show")._replace(args="[ID ... | type:TYPE ... | changed | xml [ID ...]]",
                                   summary="the configuration in crm syntax (or XML); 'changed': what is staged"),
    _session("commit", "", "write the staged changes as one CIB version (refused if the CIB changed meanwhile)"),
    _session("refresh", "", "drop the staged changes and read the CIB again"),
    _session("edit", "[ID ...]", "edit objects (all but nodes) as crm text in $EDITOR", own=True),
    _session("save", "[xml] FILE", "write the configuration to a file as crm text (or XML)", own=True),
    _session("load", "replace|update FILE", "read crm text: the whole configuration, or object by object",
             own=True),
    _session("erase", "", "empty the configuration (nodes stay)", own=True),
)


def _cib(name: str, args: str, summary: str, method: str = "", complete: Completer | None = None) -> Command:
    return Command(name, args, summary, f"paceline.cli.cib_level:CibLevel.{method or name}", complete=complete)


CIB = Level("cib", "shadow CIBs - a change prepared in a file (shadow.NAME in $CIB_shadow_dir or ~/.paceline/shadow)", (
    _cib("new", "NAME [withstatus] [force] [empty]", "copy the CIB into a shadow and use it"),
    _cib("use", "[NAME|live]", "work on that shadow (every level) or on the cluster again",
         complete=_shadow_or_live),
    _cib("commit", "[NAME] [force]", "write the shadow's configuration as one version (refused if the "
         "configuration changed since the shadow was copied, unless forced)",
         complete=_shadows)._replace(waits=True),
    _cib("diff", "[NAME]", "what committing would change, as crm lines (- live, + shadow)", complete=_shadows),
    _cib("reset", "NAME [withstatus]", "copy the CIB into the shadow again", complete=_shadows),
    _cib("delete", "NAME", "delete a shadow (not the one in use)", complete=_shadows),
    _cib("list", "", "the shadows (* marks the one in use)", method="list_shadows"),
    _cib("import", "FILE NAME [force]", "a CIB XML file as a shadow", method="import_file"),
), detail="one-shot commands use a shadow with CIB_shadow=NAME paceline ...")

#: ``resource wait``: Paceline's own (crmsh 4.4 has only ``-w``); the CLI runs it, never the gateway.
RESOURCE_WAIT = Command("wait", "", "wait until the cluster has settled: nothing left for it to do, every result "
                        "in the CIB (at most core.wait_timeout seconds, 120 by default)",
                        "paceline.cli.settle:resource_wait", read_only=True,
                        detail="exit status 124 when the wait runs out (-o core.wait_timeout=SECONDS; 0: no limit);\n"
                               "on a CIB file: whether the scheduler has anything left to do there")

STATUS, EVENTS, SIMULATE, KEYGEN, CLUSTER, TOOLS, LAB = (
    Level(t.name, t.summary, args=t.args, handler=t.handler, shell=t.shell, detail=t.detail)
    for t in toplevel.COMMANDS.values())

#: Everything ``paceline`` offers, in the order help lists it.
CLI: Registry = CRM.extended(
    CONFIGURE.with_commands(*_SESSION)._replace(
        summary="resources, constraints and options, staged on a working copy until 'commit'",
        detail="commands are staged on a working copy and written by 'commit' (one CIB version);\n"
               "typed as one command (paceline configure ...) a command acts at once"),
    CRM.get("node")._replace(summary=CRM.get("node").summary + "; acts at once"),
    CRM.get("resource").with_commands(RESOURCE_WAIT)._replace(
        summary=CRM.get("resource").summary + "; acts at once"),
    STATUS, EVENTS, CIB, SIMULATE, KEYGEN, CLUSTER, TOOLS, LAB,
)

_WIDTH = 38


def is_own_session(words: list[str]) -> bool:
    """Whether ``configure WORDS...`` typed as one command needs a configure session of its own
    (save, load, erase, edit: they work on a whole working copy)."""
    command = CLI.get("configure").find(words[0]) if words else None
    return command is not None and command.own_session


def is_read_only(words: list[str]) -> bool:
    """Whether ``LEVEL COMMAND ...`` only reads (an unknown command counts as one that writes)."""
    level = CLI.level(words[0]) if words else None
    command = level.find(words[1]) if level is not None and len(words) > 1 else None
    return command is not None and command.read_only


def waits(words: list[str]) -> bool:
    """Whether ``LEVEL COMMAND ...`` is one that ``-w`` waits after (crmsh's list; configure: any change)."""
    level = CLI.level(words[0]) if words else None
    command = level.find(words[1]) if level is not None and len(words) > 1 else None
    return command is not None and command.waits


def is_resource_wait(words: list[str]) -> bool:
    return words[:2] == ["resource", "wait"]


def _table(rows: list[tuple[str, str]], indent: str = "  ") -> list[str]:
    """``head  text`` rows; a head too wide for the column puts its text on the next line."""
    import textwrap

    out: list[str] = []
    for head, text in rows:
        wrapped = textwrap.wrap(text, 118 - _WIDTH) or [""]
        if len(indent + head) < _WIDTH:
            out.append(f"{indent + head:<{_WIDTH}}{wrapped[0]}".rstrip())
            wrapped = wrapped[1:]
        else:
            out.append(indent + head)
        out += [" " * _WIDTH + line for line in wrapped]
    return out


def command_rows(level: Level) -> list[tuple[str, str]]:
    """One row per command: its usage, and what it does (with its other names)."""
    rows = []
    for c in level.commands:
        also = f" (also: {', '.join(c.aliases)})" if c.aliases else ""
        rows.append((c.usage(), c.summary + also))
    return rows


#: Words that ask for help on the level or command before them (``paceline configure primitive --help``).
HELP_WORDS = ("--help", "-h")


def asks_help(words: list[str]) -> bool:
    """Whether ``LEVEL [COMMAND] --help`` asks for help rather than running: ``--help`` (or ``-h``) right after
    a crm level or one of its commands, as crmsh takes it."""
    level = CLI.level(words[0]) if words else None
    if level is None or not level.enterable:
        return False
    if len(words) > 1 and words[1] in HELP_WORDS:
        return True
    return len(words) > 2 and level.find(words[1]) is not None and words[2] in HELP_WORDS


def help_topic(words: list[str]) -> str:
    """``help``/``--help`` for ``[LEVEL [COMMAND]]`` (the help words themselves dropped): what both the one-shot
    CLI and the shell print. An unknown level or command is a one-line error."""
    from paceline.crm.errors import CrmError

    words = [w for w in words if w not in HELP_WORDS]
    if not words:
        return shell_help("")
    level = CLI.level(words[0])
    if level is None:
        raise CrmError(f"help: no level or command {words[0]!r} (one of {', '.join(CLI.names())})")
    if len(words) == 1 or not level.commands:
        return level_help(level)
    command = level.find(words[1])
    if command is None:
        raise CrmError(f"help: {level.name} has no command {words[1]!r} (one of {', '.join(level.names())})")
    return command_help(level, command)


def command_help(level: Level, command: Command) -> str:
    """One command: its usage, what it does, its other names, what else it has to say, and whether ``-w``
    waits after it."""
    lines = [f"{level.name} {command.usage()}", f"  {command.summary}"]
    if command.aliases:
        lines.append(f"  also: {', '.join(command.aliases)}")
    lines += [f"  {line}" for line in command.detail.splitlines()]
    if command.waits:
        lines.append("  with -w (--wait), returns once the cluster has settled")
    return "\n".join(lines)


def shell_help(topic: str, level: str = "") -> str:
    """What ``help [TOPIC]`` prints in the shell at ``level``: the levels, a level, or one command."""
    if not topic:
        levels = [lv for lv in CLI.levels if lv.shell]
        return "\n".join([f"levels: {', '.join(lv.name for lv in levels)}",
                          *_table([(lv.name, lv.summary) for lv in levels]),
                          "navigation: cd LEVEL, cd .., up, end, ls, help [LEVEL|COMMAND], quit"])
    current = CLI.level(level)
    command = current.find(topic) if current is not None else None
    if current is not None and command is not None:   # the level's own command first: node status, not status
        return command_help(current, command)
    found = CLI.level(topic)
    if found is not None and found.shell:
        return level_help(found)
    return f"{topic}: see 'help' for the levels"


def level_help(level: Level) -> str:
    """A level's summary, its commands with their usage, and what else it has to say."""
    lines = [f"{level.name}: {level.summary}"]
    if level.commands:
        lines += _table(command_rows(level))
    else:
        lines.append(f"  {level.name} {level.args}".rstrip())
    if level.detail:
        lines += level.detail.splitlines()
    return "\n".join(lines)


def usage() -> str:
    """``paceline --help``: every top-level command with its arguments, the levels with their commands."""
    rows = [("paceline", "the interactive shell (levels " + ", ".join(CLI.names(shell=True)) + ")")]
    for lv in CLI.levels:
        if lv.commands:
            rows.append((f"{lv.name} {lv.args}", f"{lv.summary}; commands: {', '.join(c.name for c in lv.commands)}"))
        else:
            rows.append((f"{lv.name} {lv.args}", lv.summary))
    return "\n".join(_table(rows))
