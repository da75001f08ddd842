"""Asking before a command that must be confirmed (the question itself is the command's, in the registry).

Kept apart from the crm language (no lxml) so the one-shot CLI can ask on a
terminal before it sends a line to the gateway. A script is never asked: the
command is refused unless it carries ``-y`` (the gateway says how).
"""

from __future__ import annotations

from collections.abc import Callable

from paceline.cli.commands import CLI


def needs_confirmation(level: str, words: list[str]) -> str | None:
    """The question to ask before running ``words`` at ``level``, or None when nothing needs asking."""
    found = CLI.level(level)
    command = found.find(words[0]) if found is not None and words else None
    return command.question(words[1:]) if command is not None else None


def answer(question: str, *, yes: bool, interactive: bool, ask: Callable[[str], str] = input) -> bool:
    """-y says yes; a script is never asked (no); a terminal is asked."""
    if yes:
        return True
    if not interactive:
        return False
    try:
        return ask(f"{question} (y/n)? ").strip().lower() in ("y", "yes")
    except EOFError:
        return False
