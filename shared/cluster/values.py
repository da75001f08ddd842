"""Pacemaker's spelling of plain values in the CIB: booleans and renamed cluster options.

Scores live in :mod:`.scores`, durations and dates in :mod:`.timespec`.
"""

from __future__ import annotations

#: Cluster options renamed by Pacemaker: new name -> old names still accepted.
OPTION_ALIASES: dict[str, tuple[str, ...]] = {
    "fencing-enabled": ("stonith-enabled",),
    "fencing-action": ("stonith-action",),
    "fencing-timeout": ("stonith-timeout",),
    "fencing-max-attempts": ("stonith-max-attempts",),
    "fencing-watchdog-timeout": ("stonith-watchdog-timeout",),
    "fencing-reaction": ("stonith-reaction",),
    "stop-removed-resources": ("stop-orphan-resources",),
    "stop-removed-actions": ("stop-orphan-actions",),
}


def is_true(value: str | None, default: bool = False) -> bool:
    """Pacemaker's boolean spelling (true/yes/on/y/1 and the opposites); anything else is ``default``."""
    if value is None:
        return default
    v = value.strip().lower()
    if v in ("true", "yes", "on", "y", "1"):
        return True
    if v in ("false", "no", "off", "n", "0"):
        return False
    return default


def fold_option_aliases(options: dict[str, str]) -> None:
    """Give each renamed option its new name too, so both spellings of a CIB read the same."""
    for new, olds in OPTION_ALIASES.items():
        if new not in options:
            for old in olds:
                if old in options:
                    options[new] = options[old]
                    break
