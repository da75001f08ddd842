"""Tab completion and history for the interactive shell (GNU readline).

Completion knows the level's commands, resource ids, node names, agent specs
(from the executors, or this machine offline) and cluster options. A property
name is offered with its values (``stonith-enabled=true``/``=false``), so the
line stops at ``stonith-enabled=`` and a second Tab lists the choices under
crmsh's hint line ``stonith-enabled (boolean, [true]): ...``. The CIB used
for ids is re-read at most every few seconds.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from paceline.cli.invocation import GLOBAL_OPTIONS
from paceline.crm.cluster_options import OPTIONS

if TYPE_CHECKING:
    from paceline.cli.invocation import Options
    from paceline.cli.shell import Shell
    from paceline.client.backends import Backend
    from paceline.crm.registry import Facts

CACHE_SECONDS = 3.0


class BackendFacts:
    """The ``Facts`` the registry's completers ask, read from a backend's CIB and agent catalog."""

    def cib(self) -> Any:
        raise NotImplementedError

    def backend(self) -> Backend:
        raise NotImplementedError

    def resource_ids(self) -> list[str]:
        from paceline.shared import cib

        return [el.get("id", "") for el in cib.resource_elements(self.cib())]

    def node_names(self) -> list[str]:
        from paceline.shared import cib

        return cib.node_names(self.cib())

    def object_ids(self) -> list[str]:
        from paceline.crm import show

        return [ident for ident, _ in show.objects(self.cib())]

    def agents(self) -> list[str]:
        listing = self.backend().catalog().listing() or {}
        specs = [f"ocf:{prov}:{t}" for prov, types in (listing.get("ocf") or {}).items() for t in types]
        return sorted(specs + [f"lsb:{t}" for t in listing.get("lsb") or []])

    def shadow_names(self) -> list[str]:
        from paceline.client.shadow import ShadowStore

        return ShadowStore().names()


def candidates(facts: Facts, level: str, before: list[str], text: str) -> list[str]:
    """What may come next after the words ``before`` at ``level`` ("" at the top): the registry's levels,
    commands and completers - for the shell's Tab and for bash's alike."""
    from paceline.cli.commands import CLI
    from paceline.cli.shell import levels
    from paceline.crm.registry import NAVIGATION

    if before[:1] == ["cd"]:
        return levels()
    if not level:
        if not before:
            return [*levels(), *NAVIGATION]
        level, before = before[0], before[1:]
    found = CLI.level(level)
    if not before:
        return [*(found.names() if found is not None else ()), *NAVIGATION]
    command = found.find(before[0]) if found is not None else None
    if command is None or command.complete is None:
        return []
    return command.complete(facts, before[1:], text)


class Completer(BackendFacts):
    """readline's completer for one shell; its facts come from the shell's session or backend."""

    def __init__(self, shell: Shell):
        self.shell = shell
        self._cib: Any = None
        self._cib_source: Any = None   # the backend it was read from (``cib use`` switches backends)
        self._read_at = 0.0
        self.matches: list[str] = []

    def cib(self) -> Any:
        session = self.shell.session
        if session is not None:
            return session.work
        backend = self.shell.backend
        if self._cib is None or self._cib_source is not backend or time.monotonic() - self._read_at > CACHE_SECONDS:
            self._cib, _ = backend.load()
            self._cib_source = backend
            self._read_at = time.monotonic()
        return self._cib

    def backend(self) -> Backend:
        return self.shell.backend

    def shadow_names(self) -> list[str]:
        return self.shell.cib.store.names()

    def candidates(self, before: list[str], text: str) -> list[str]:
        return candidates(self, self.shell.level, before, text)

    def complete(self, text: str, state: int) -> str | None:
        import readline

        if state == 0:
            line = readline.get_line_buffer()[:readline.get_begidx()]
            try:
                before = line.split()
                self.matches = sorted(c for c in set(self.candidates(before, text)) if c.startswith(text))
            except Exception:  # completion must never break the prompt (a bus hiccup, a bad CIB)
                self.matches = []
        return self.matches[state] if state < len(self.matches) else None

    def display(self, substitution: str, matches: Sequence[str], longest: int) -> None:
        """List matches; property ones under crmsh's ``name (type, [default]): description`` line."""
        import readline

        print()
        names = sorted({m.split("=", 1)[0] for m in matches})
        if all(n in OPTIONS for n in names) and matches:
            for name in names:
                print(OPTIONS[name].hint())
            values = [m.split("=", 1)[1] for m in matches if "=" in m and m.split("=", 1)[1]]
            if len(names) == 1 and values:
                print("    " + "  ".join(values))
        else:
            print("  ".join(matches))
        print(self.shell.prompt + readline.get_line_buffer(), end="", flush=True)


class History:
    def __init__(self, path: Any):
        self.path = path

    def save(self) -> None:
        import readline

        try:
            readline.set_history_length(1000)
            readline.write_history_file(str(self.path))
        except OSError:
            pass  # an unwritable home directory must not spoil leaving the shell


def install(shell: Shell) -> History:
    """Wire readline to ``shell``: completer, match display, history file."""
    import readline

    from paceline.cli.shell import history_path

    completer = Completer(shell)
    readline.set_completer(completer.complete)
    readline.set_completer_delims(" \t\n")
    readline.set_completion_display_matches_hook(completer.display)
    readline.parse_and_bind("tab: complete")
    path = history_path()
    try:
        readline.read_history_file(str(path))
    except OSError:
        pass  # no history yet
    return History(path)


# ---------------------------------------------------------------- bash, outside the shell

#: The global options (:data:`paceline.cli.invocation.GLOBAL_OPTIONS`), and those that take a value.
OPTION_NAMES = tuple(name for names, _value, _summary in GLOBAL_OPTIONS for name in names)
TAKES_VALUE = frozenset(name for names, value, _summary in GLOBAL_OPTIONS if value for name in names)
#: Words of a top-level program's usage worth offering: its options and its lowercase subcommands.
_PROGRAM_WORD = re.compile(r"^(--?[a-z][a-z-]*|[a-z][a-z-]+)$")

BASH_SCRIPT = """\
# bash completion for paceline, driven by its command registry (generated by: paceline --bash-completion).
# Each Tab asks the paceline being completed (paceline --complete LINE WORD) what may come next.
_paceline() {
    local IFS=$'\\n'
    COMPREPLY=($("${COMP_WORDS[0]}" --complete "${COMP_LINE:0:COMP_POINT}" "${COMP_WORDS[COMP_CWORD]}" \\
                 2>/dev/null))
    if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
        compopt -o nospace 2>/dev/null
    fi
}
complete -o default -F _paceline paceline
"""


class OneShotFacts(BackendFacts):
    """Facts for one Tab in bash: the CIB file, shadow or cluster the typed global options point at."""

    def __init__(self, opts: Options):
        self.opts = opts
        self._backend: Backend | None = None
        self._cib: Any = None

    def backend(self) -> Backend:
        if self._backend is None:
            from paceline.cli.invocation import offline_backend, origin_backend

            self._backend = offline_backend(self.opts) or origin_backend(self.opts)
        return self._backend

    def cib(self) -> Any:
        if self._cib is None:
            self._cib, _ = self.backend().load()
        return self._cib

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()


def complete_line(line: str) -> list[str]:
    """What may replace the last word of ``paceline ...`` typed so far (``line``, up to the cursor)."""
    words = line.split()
    if not line or line[-1].isspace():
        words.append("")
    before, text = words[1:-1], words[-1]
    i = 0
    while i < len(before) and before[i].startswith("-"):
        i += 1 if "=" in before[i] or before[i] not in TAKES_VALUE else 2
    if i > len(before):                       # the word is an option's value
        return option_values(text) if before[-1] in ("-o", "--opt") else []
    if text.startswith(("-o=", "--opt=")):
        flag, _, value = text.partition("=")
        return [f"{flag}={v}" for v in option_values(value)]
    rest = before[i:]
    if not rest:
        from paceline.cli.commands import CLI

        return [*OPTION_NAMES] if text.startswith("-") else [*CLI.names(), "help"]
    return _after_command(before[:i], rest, text)


def _after_command(globals_: list[str], rest: list[str], text: str) -> list[str]:
    from paceline.cli.commands import CLI, HELP_WORDS
    from paceline.cli.invocation import CliError, parse_globals
    from paceline.crm.registry import NAVIGATION

    if rest[0] == "help":
        level = CLI.level(rest[1]) if len(rest) > 1 else None
        return CLI.names() if len(rest) == 1 else level.names() if level is not None and len(rest) == 2 else []
    level = CLI.level(rest[0])
    if level is None:
        return []
    if not level.enterable:
        return [w for w in re.split(r"[\s\[\]|]+", level.args) if _PROGRAM_WORD.match(w)]
    if text.startswith("-") and len(rest) <= 2:
        return list(HELP_WORDS[:1])
    try:
        facts = OneShotFacts(parse_globals(globals_))
    except CliError:
        return []
    try:
        return [c for c in candidates(facts, "", rest, text) if len(rest) > 1 or c not in NAVIGATION]
    except Exception:  # no cluster, a bad CIB file: nothing to offer beats a traceback in the user's prompt
        return []
    finally:
        facts.close()


def option_values(text: str) -> list[str]:
    """``-o`` values: ``core.NAME=`` forms from the options' registry, then a boolean's values."""
    from paceline.crm.preferences import BY_NAME, OPTIONS

    name, eq, _ = text.partition("=")
    if eq and name in BY_NAME:
        option = BY_NAME[name]
        return [f"{name}=yes", f"{name}=no"] if option.kind == "boolean" else [f"{name}={option.default}"]
    return [f"{option.name}=" for option in OPTIONS]


def bash_main(args: list[str]) -> int:
    """``paceline --complete LINE [WORD]``: the candidates, one a line, as bash's current WORD should become
    (bash splits words at ``:`` and ``=``, so ``ocf:heartbeat:`` arrives as WORD ``:``: each candidate loses
    the part of the typed word that precedes WORD). At most 3 seconds: a Tab must never hang the prompt."""
    import signal

    if not args:
        return 1
    line, word = args[0], args[1] if len(args) > 1 else None
    signal.signal(signal.SIGALRM, lambda *_: os._exit(0))
    signal.alarm(3)
    typed = "" if not line or line[-1].isspace() else line.split()[-1]
    cut = len(typed) - len(word) if word is not None and typed.endswith(word) else 0
    for candidate in sorted(set(complete_line(line))):
        if candidate.startswith(typed):
            print(candidate[cut:])
    return 0
