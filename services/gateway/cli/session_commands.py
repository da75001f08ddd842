"""Configure commands that belong to an editing session rather than to the crm language.

``save``, ``load``, ``erase`` and ``edit`` work on a whole working copy of the
CIB. Typed at the configure level they are staged like everything else; typed
as one command (``paceline configure load replace FILE``, as crmsh allows) they
run in a session of their own that is committed at once. Kept free of lxml so
the one-shot CLI can tell without loading the crm language.
"""

from __future__ import annotations

SESSION_COMMANDS = ("save", "load", "erase", "edit")


def is_session_command(words: list[str]) -> bool:
    """Whether ``configure WORDS...`` (``words`` after ``configure``) needs a session of its own."""
    return bool(words) and words[0] in SESSION_COMMANDS
