"""Commands that must be confirmed before they run, and the question each asks.

Kept apart from the crm language (no lxml) so the one-shot CLI can ask on a
terminal before it sends a line to the gateway. A script is never asked: the
command is refused unless it carries ``-y`` (the gateway says how).
"""

from __future__ import annotations

from collections.abc import Callable

#: Words that confirm a command on its own line (crmsh accepts ``--force`` too).
CONFIRM_WORDS = ("-y", "--yes", "--force")


def fence_question(uname: str) -> str:
    return (f"Fencing {uname} cuts its power (a reboot by default) and restarts every resource it runs on "
            f"other nodes. Fence {uname} now")


def needs_confirmation(level: str, words: list[str]) -> str | None:
    """The question to ask before running ``words`` at ``level``, or None when nothing needs asking."""
    if level == "node" and len(words) >= 2 and words[0] == "fence" \
            and not any(w in CONFIRM_WORDS for w in words[1:]):
        return fence_question(words[1])
    return None


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
