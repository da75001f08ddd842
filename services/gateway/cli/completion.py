"""Tab completion and history for the interactive shell (GNU readline).

Completion knows the level's commands, resource ids, node names, agent specs
(from the executors, or this machine offline) and cluster options. A property
name is offered with its values (``stonith-enabled=true``/``=false``), so the
line stops at ``stonith-enabled=`` and a second Tab lists the choices under
crmsh's hint line ``stonith-enabled (boolean, [true]): ...``. The CIB used
for ids is re-read at most every few seconds.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from paceline.crm.cluster_options import OPTIONS

if TYPE_CHECKING:
    from paceline.cli.shell import Shell

CACHE_SECONDS = 3.0


class Completer:
    """readline's completer for one shell; also the ``Facts`` the registry's completers ask."""

    def __init__(self, shell: Shell):
        self.shell = shell
        self._cib: Any = None
        self._cib_source: Any = None   # the backend it was read from (``cib use`` switches backends)
        self._read_at = 0.0
        self.matches: list[str] = []

    # ------------------------------------------------------------ facts
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
        listing = self.shell.backend.catalog().listing() or {}
        specs = [f"ocf:{prov}:{t}" for prov, types in (listing.get("ocf") or {}).items() for t in types]
        return sorted(specs + [f"lsb:{t}" for t in listing.get("lsb") or []])

    def shadow_names(self) -> list[str]:
        return self.shell.cib.store.names()

    # ------------------------------------------------------------ candidates
    def candidates(self, before: list[str], text: str) -> list[str]:
        """What may come next after the words ``before``: the registry's levels, commands and completers."""
        from paceline.cli.commands import CLI
        from paceline.cli.shell import levels
        from paceline.crm.registry import NAVIGATION

        level = self.shell.level
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
        return command.complete(self, before[1:], text)

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
