"""crmsh's user preferences that change what the crm language accepts: ``crm -o core.NAME=VALUE``.

crmsh keeps them in its configuration (``crm options``) and takes them for one run with ``-o/--opt``.
Paceline honours the ones that change a command's outcome:

- ``core.ignore_missing_metadata`` (default no): define a primitive whose agent no node has (yet), as in a
  tutorial that configures ``lsb:httpd`` before httpd is installed. The agent's parameters are then not
  checked either: there is no meta-data to check them against.

A command line carries its preferences to the gateway (:class:`paceline.shared.messages.CrmRequest`), so the
checks made there are the ones the user asked for; the CLI sets them once for its whole run
(:func:`use`), as crmsh's ``-o`` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields

from paceline.crm.errors import CrmError

_TRUE = {"yes", "true", "on", "1", "y"}
_FALSE = {"no", "false", "off", "0", "n"}


@dataclass(frozen=True)
class Preferences:
    """The crmsh options a command is checked with (the field names are crmsh's, under ``core.``)."""

    ignore_missing_metadata: bool = False

    @classmethod
    def parse(cls, assignments: Iterable[str]) -> Preferences:
        """``core.NAME=VALUE`` assignments (``-o`` arguments); CrmError names the first bad one."""
        values: dict[str, bool] = {}
        known = {f.name for f in fields(cls)}
        for text in assignments:
            key, eq, value = text.partition("=")
            section, _, name = key.strip().partition(".")
            if not eq or not name:
                raise CrmError(f"option {text!r}: expected SECTION.NAME=VALUE, e.g. core.ignore_missing_metadata=yes")
            if section != "core" or name not in known:
                raise CrmError(f"unknown option {key.strip()!r} (known: "
                               f"{', '.join('core.' + k for k in sorted(known))})")
            values[name] = _boolean(key.strip(), value)
        return cls(**values)

    def to_wire(self) -> dict[str, str]:
        """The options that differ from crmsh's defaults, as the request carries them."""
        default = Preferences()
        return {f"core.{f.name}": "yes" if getattr(self, f.name) else "no"
                for f in fields(self) if getattr(self, f.name) != getattr(default, f.name)}

    @classmethod
    def from_wire(cls, options: Mapping[str, str]) -> Preferences:
        return cls.parse(f"{k}={v}" for k, v in options.items())


def _boolean(key: str, value: str) -> bool:
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise CrmError(f"option {key}: {value!r} is not a boolean (yes or no)")


_session = Preferences()


def use(preferences: Preferences) -> None:
    """Set the preferences of this process's commands (the CLI's ``-o`` options)."""
    global _session
    _session = preferences


def session() -> Preferences:
    """The preferences this process's commands run with (crmsh's defaults unless :func:`use` changed them)."""
    return _session
