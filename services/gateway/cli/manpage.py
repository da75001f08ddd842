"""``paceline help --man``: the paceline(1) manual page, in groff's man macros, generated from the registry.

Every level and command of :data:`paceline.cli.commands.CLI` (usage, summary, other names, details, whether
``-w`` waits after it), every ``-o`` option of :data:`paceline.crm.preferences.OPTIONS` and every global
option of :data:`paceline.cli.invocation.GLOBAL_OPTIONS` are written from the same tables that ``--help``,
the shell and completion read, so the page cannot drift from the program. ``make install`` writes it to
``$(VENV)/share/man/man1/paceline.1`` (``man -l`` reads it from there, or add the directory to MANPATH).
"""

from __future__ import annotations

from datetime import date

from paceline.cli.commands import CLI, Command, Level
from paceline.cli.invocation import GLOBAL_OPTIONS
from paceline.crm.preferences import OPTIONS

ENVIRONMENT = (
    ("CIB_file", "work on this CIB file instead of the cluster (as --cib-file; crmsh and Pacemaker's tools read it)"),
    ("CIB_shadow", "work on this shadow CIB (see the cib level)"),
    ("CIB_shadow_dir", "where shadow CIBs are kept (default ~/.paceline/shadow)"),
    ("PACELINE_LAB", "the lab to talk to (default ~/.paceline/lab)"),
    ("PACELINE_NATS_URL", "the bus of any cluster"),
    ("PACELINE_HISTORY", "the shell's history file (default ~/.paceline_history)"),
    ("EDITOR", "the editor of configure edit"),
)
EXIT_STATUS = (
    ("0", "success"),
    ("1", "an error (one line on stderr; nothing was changed)"),
    ("2", "warnings only, with --strict"),
    ("112", "a change went out but no answer came back: it may or may not have been applied"),
    ("124", "-w or resource wait ran out of time before the cluster settled (core.wait_timeout)"),
)


def text(words: str) -> str:
    """Plain text for a groff line: backslashes and hyphens escaped, a leading control character defused."""
    out = words.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + out if out.startswith((".", "'")) else out


def _paragraphs(lines: list[str]) -> list[str]:
    return [text(line) for line in lines if line.strip()]


def _command(level: Level, command: Command) -> list[str]:
    lines = [".TP", f".B {text(level.name + ' ' + command.name)}" + (f" {text(command.args)}" if command.args else ""),
             text(command.summary)]
    if command.aliases:
        lines += [".br", text("Also: " + ", ".join(command.aliases) + ".")]
    for detail in command.detail.splitlines():
        lines += [".br", text(detail)]
    if command.waits:
        lines += [".br", text("With -w, returns once the cluster has settled.")]
    return lines


def _level(level: Level) -> list[str]:
    lines = [f".SS {text(level.name)}", text(level.summary[:1].upper() + level.summary[1:] + ".")]
    if not level.commands:
        return [*lines, ".TP", f".B {text(level.name)} {text(level.args)}".rstrip(), text(level.summary)]
    for command in level.commands:
        lines += _command(level, command)
    for detail in level.detail.splitlines():
        lines += [".PP", text(detail)]
    return lines


def manpage(today: date | None = None) -> str:
    """The whole page, ending in a newline."""
    from paceline.shared import VERSION

    when = (today or date.today()).isoformat()
    lines = [
        f'.TH PACELINE 1 "{when}" "paceline {VERSION}" "User Commands"',
        ".SH NAME",
        "paceline \\- the command line of a Paceline high-availability cluster (crmsh's levels and language)",
        ".SH SYNOPSIS",
        ".B paceline",
        text("[OPTIONS] [LEVEL COMMAND [ARGUMENTS...]]"),
        ".br",
        ".B paceline",
        text("[OPTIONS] -f FILE"),
        ".SH DESCRIPTION",
        text("paceline manages a Paceline cluster with crmsh's levels and language: configure (resources, "
             "constraints and options), node, resource, ra (resource agents) and cib (shadow CIBs), plus "
             "status, simulate and the programs below. A command typed on the command line acts at once; "
             "paceline alone opens the interactive shell, where the configure level stages changes until "
             "commit. With --cib-file (or CIB_file) the same commands edit a CIB file and no cluster is needed."),
        ".PP",
        text("paceline LEVEL [COMMAND] --help, help LEVEL [COMMAND] in the shell, and this page are written "
             "from the same table of commands."),
        ".SH OPTIONS",
    ]
    for names, value, summary in GLOBAL_OPTIONS:
        lines += [".TP", ".B " + text(", ".join(names)) + (f" {text(value)}" if value else ""), text(summary)]
    lines += [".SS crmsh options (-o core.NAME=VALUE)"]
    for option in OPTIONS:
        lines += [".TP", f".B {text(option.name)}", text(f"{option.kind}, default {option.default}: {option.summary}")]
    lines += [".SH COMMANDS"]
    for level in CLI.levels:
        lines += _level(level)
    lines += [".SH EXIT STATUS"]
    for code, meaning in EXIT_STATUS:
        lines += [".TP", f".B {code}", text(meaning)]
    lines += [".SH ENVIRONMENT"]
    for name, meaning in ENVIRONMENT:
        lines += [".TP", f".B {text(name)}", text(meaning)]
    lines += [".SH FILES", ".TP", ".I ~/.paceline_history", "the shell's history", ".TP",
              ".I ~/.paceline/shadow/shadow.NAME", "shadow CIBs",
              ".SH SEE ALSO", ".BR crm (8),", ".BR crm_mon (8),", ".BR crm_simulate (8),", ".BR cibadmin (8)"]
    return "\n".join(lines) + "\n"
