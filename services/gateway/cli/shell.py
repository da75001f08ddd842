"""The interactive ``paceline`` shell and its script mode: crmsh's levels, prompts and exit codes.

``paceline`` alone on a terminal opens ``paceline(live)# `` (or
``paceline(FILE)# `` on a CIB file). Levels are crmsh's: ``configure`` stages
changes until ``commit``; ``node``, ``resource`` and ``ra`` act at once;
``status`` prints the cluster page; ``cib`` manages shadow CIBs and switches
every level to one (the prompt shows its name). The same engine runs scripts (``-f FILE``,
or commands piped on stdin): there nothing ever prompts - leaving the
configure level with uncommitted changes is refused unless ``-y`` says yes -
and every error names its line. Exit status: 1 if any command failed, 2 if
there were only warnings and ``--strict`` asked for it, else 0.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from paceline.cli import cib_level, confirm, settle
from paceline.cli.commands import CLI, asks_help, help_topic, is_own_session, is_resource_wait, shell_help
from paceline.cli.session import ConfigureSession
from paceline.client.backends import Backend
from paceline.crm import CrmError, split_words
from paceline.crm.dispatch import logical_lines
from paceline.crm.registry import NAVIGATION, QUIT, UP


def levels() -> list[str]:
    """The top-level words of the shell: its levels and ``status``."""
    return CLI.names(shell=True)


def level_commands(level: str) -> list[str]:
    """What ``ls`` lists at ``level`` (the levels themselves at the top)."""
    found = CLI.level(level) if level else None
    return found.names() if found is not None else levels()


class Shell:
    """One session: the current level, the staged configure session, and the error/warning tally."""

    def __init__(self, backend: Backend, *, interactive: bool, yes: bool = False, strict: bool = False,
                 out: TextIO | None = None, err: TextIO | None = None, ask: Callable[[str], str] = input,
                 shadow: str | None = None):
        self.cib = cib_level.CibLevel(backend, backend.local_node, current=shadow)
        self.interactive = interactive
        self.yes = yes
        self.strict = strict
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.ask = ask
        self.level = ""
        self.session: ConfigureSession | None = None
        self.errors = 0
        self.warnings = 0
        self.line_no: int | None = None

    # ------------------------------------------------------------ output
    @property
    def backend(self) -> Backend:
        """Where commands go: the shadow CIB in use (``cib use``), else the cluster or the CIB file."""
        return self.cib.backend()

    @property
    def prompt(self) -> str:
        return f"paceline({self.backend.name}){self.level}# "

    def emit(self, text: str) -> None:
        for line in text.splitlines():
            if line.startswith("WARNING:"):
                self.warnings += 1
                print(self._where(line), file=self.err)
            else:
                print(line, file=self.out)

    def _where(self, line: str) -> str:
        if self.line_no is None:
            return line
        head, _, rest = line.partition(": ")
        return f"{head}: line {self.line_no}: {rest}"

    def fail(self, message: str) -> None:
        self.errors += 1
        print(self._where(f"ERROR: {message}"), file=self.err)

    def exit_code(self) -> int:
        if self.errors:
            return 1
        return 2 if self.strict and self.warnings else 0

    # ------------------------------------------------------------ commands
    def run_line(self, text: str) -> bool:
        """Run one line; False when the session should end."""
        try:
            words = split_words(text)
        except CrmError as exc:
            self.fail(str(exc))
            return True
        if not words:
            return True
        try:
            return self.run_words(words)
        except CrmError as exc:
            self.fail(str(exc))
        return True

    def run_words(self, words: list[str]) -> bool:
        head = words[0]
        if head in QUIT:
            return not self.leave_level(quitting=True)
        if head in UP or (head == "cd" and words[1:] in ([".."], [])):
            self.leave_level()
            return True
        if head == "cd":
            target = CLI.level(words[1])
            if target is None or not target.shell or not target.enterable:
                enterable = ", ".join(lv.name for lv in CLI.levels if lv.shell and lv.enterable)
                raise CrmError(f"cd: no level {words[1]!r} (levels: {enterable})")
            if self.leave_level():
                self.enter(words[1])
            return True
        if head == "ls":
            self.emit("  ".join([*level_commands(self.level), *NAVIGATION]))
            return True
        if head == "help" and len(words) > 2:     # help LEVEL COMMAND
            self.emit(help_topic(words[1:]))
            return True
        if head == "help":
            topic = words[1] if len(words) > 1 else self.level
            self.emit(shell_help(topic, self.level))
            return True
        if asks_help([self.level, *words] if self.level else words):   # [LEVEL] COMMAND --help
            self.emit(help_topic([self.level, *words] if self.level else words))
            return True
        if not self.level:
            return self.top(words)
        self.in_level(self.level, words)
        return True

    def top(self, words: list[str]) -> bool:
        head = words[0]
        if head not in levels():
            raise CrmError(f"unknown command or level {head!r} (expected one of {', '.join(levels())}, "
                           "or cd, ls, help, quit)")
        if head == "status":
            self.emit(self.backend.status("text").rstrip("\n"))
        elif len(words) == 1:
            self.enter(head)
        elif head == "cib":
            self.emit(self.cib.execute(words[1:]))
            self.wait_if_asked(words)
        elif head == "configure" and is_own_session(words[1:]):
            session = ConfigureSession(self.backend)   # its own session, committed at once
            self.emit(session.execute(words[1:]))
            if session.dirty:
                self.emit(session.commit())
                self.wait_if_asked(["configure", "commit"])
        else:  # a one-shot command at the top level acts at once, as in crmsh
            self.run_confirmed(head, words[1:])
        return True

    def enter(self, level: str) -> None:
        if level == "configure" and self.session is None:
            self.session = ConfigureSession(self.backend)
        self.level = level

    def in_level(self, level: str, words: list[str]) -> None:
        if level == "cib":
            self.emit(self.cib.execute(words))
            self.wait_if_asked([level, *words])
            return
        if level != "configure":
            self.run_confirmed(level, words)
            return
        assert self.session is not None
        if words[0] == "refresh":
            if self.session.dirty and not self.confirm("Discard the uncommitted changes and re-read the CIB"):
                raise CrmError("configure refresh: there are uncommitted changes; 'commit' them first, "
                               "or answer yes (-y)")
            self.session.refresh()
            return
        self.emit(self.session.execute(words))
        if words[0] == "commit":   # staged commands wait for nothing: the commit is the change
            self.wait_if_asked(["configure", "commit"])

    def leave_level(self, quitting: bool = False) -> bool:
        """Go up one level; False (staying) if uncommitted configure changes are not settled."""
        if self.level == "configure" and self.session is not None and self.session.dirty:
            if not self.confirm("There are changes pending. Do you want to commit them"):
                if self.interactive:
                    self.emit("INFO: changes discarded")
                else:
                    self.fail("configure: there are uncommitted changes; 'commit' them, or run with -y to "
                              "commit on leaving")
                    return False
            else:
                self.emit(self.session.commit())
                self.wait_if_asked(["configure", "commit"])
        self.session = None if self.level == "configure" else self.session
        self.level = ""
        return True

    def run_confirmed(self, level: str, words: list[str]) -> None:
        """Run a live or file command, asking first when it needs confirming (a "yes" becomes ``-y``)."""
        if is_resource_wait([level, *words]):
            self.emit(settle.resource_wait(self.backend, words[1:], self.err))
            return
        question = confirm.needs_confirmation(level, words)
        if question is not None:
            if self.confirm(question):
                words = [*words, "-y"]
            elif self.interactive:
                self.emit(f"{level} {words[0]}: not confirmed; nothing done")
                return
        self.emit(self.backend.run(shlex.join([level, *words])))
        self.wait_if_asked([level, *words])

    def wait_if_asked(self, words: list[str]) -> None:
        """With ``-w`` (``core.wait``), wait after a command crmsh waits after, on a cluster (``cib commit``
        writes to the cluster even while a shadow is in use)."""
        if words[:2] == ["cib", "commit"]:
            settle.after(self.cib.origin(), words, self.err)
        else:
            settle.after(self.backend, words, self.err)

    def confirm(self, question: str) -> bool:
        return confirm.answer(question, yes=self.yes, interactive=self.interactive, ask=self.ask)

    # ------------------------------------------------------------ drivers
    def run_script(self, lines: Iterable[str]) -> int:
        for number, text in logical_lines(list(lines)):
            self.line_no = number
            if not self.run_line(text):
                break
        else:
            self.line_no = None
            if self.level == "configure" and self.session is not None and self.session.dirty:
                if self.yes:
                    self.emit(self.session.commit())
                else:
                    self.fail("configure: the script ended with uncommitted changes; nothing was written "
                              "('commit' them, or run with -y)")
        return self.exit_code()

    def loop(self) -> int:
        from paceline.cli.completion import install

        history = install(self)
        try:
            while True:
                try:
                    line = input(self.prompt)
                except EOFError:
                    print(file=self.out)
                    if self.leave_level(quitting=True):
                        break
                    continue
                except KeyboardInterrupt:
                    print("^C", file=self.out)
                    continue
                if not self.run_line(line):
                    break
        finally:
            history.save()
        return self.exit_code()


def history_path() -> Path:
    return Path(os.environ.get("PACELINE_HISTORY") or Path.home() / ".paceline_history")
