"""crmsh's user preferences: ``crm -o core.NAME=VALUE``, one registry of the options Paceline knows.

crmsh keeps them in its configuration (``crm options``) and takes them for one run with ``-o/--opt``.
:data:`OPTIONS` lists the ones Paceline honours, each with its type, default and what it does; anything
else is refused with the closest known name (a misspelt option must not be silently ignored).

- ``core.ignore_missing_metadata`` (boolean, no): define a primitive whose agent no node has (yet), as in
  a tutorial that configures ``lsb:httpd`` before httpd is installed. The agent's parameters are then not
  checked either: there is no meta-data to check them against. The crm language reads it, so a command
  line carries it to the gateway (:class:`paceline.shared.messages.CrmRequest`): the checks made there are
  the ones the user asked for.
- ``core.wait`` (boolean, no): what ``-w``/``--wait`` says: after a change, wait until the cluster has
  settled (:mod:`paceline.cli.settle`).
- ``core.wait_timeout`` (seconds, 120; Paceline's own - crmsh waits for ever): how long ``-w`` and
  ``resource wait`` wait; 0 waits for ever, as crmsh does.
- ``core.force`` (boolean, no): answer yes where a command would ask, as ``-y``/crmsh's ``-F`` do.

The CLI parses ``-o`` once for its whole run, one-shot or shell alike (:func:`use`); only the options the
crm language reads travel with a command line (:meth:`Preferences.to_wire`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, NamedTuple

from paceline.crm.errors import CrmError

_TRUE = {"yes", "true", "on", "1", "y"}
_FALSE = {"no", "false", "off", "0", "n"}


class Option(NamedTuple):
    """One ``core.NAME`` option: its type (``boolean`` or ``seconds``), crmsh-style default, and whether the
    crm language reads it (then it travels with a command line to the gateway)."""

    name: str
    kind: str
    default: str
    summary: str
    crm: bool = False

    @property
    def field(self) -> str:
        return self.name.partition(".")[2]

    def hint(self) -> str:
        """``name (type, [default]): summary`` - crmsh's way of showing an option."""
        return f"{self.name} ({self.kind}, [{self.default}]): {self.summary}"


OPTIONS: tuple[Option, ...] = (
    Option("core.ignore_missing_metadata", "boolean", "no",
           "define a primitive whose agent no node has (yet); its parameters are then not checked", crm=True),
    Option("core.wait", "boolean", "no", "after a change, wait until the cluster has settled (as -w)"),
    Option("core.wait_timeout", "seconds", "120", "how long -w and 'resource wait' wait; 0: for ever "
           "(Paceline's own: crmsh always waits for ever)"),
    Option("core.force", "boolean", "no", "answer yes where a command would ask (as -y)"),
)
BY_NAME = {option.name: option for option in OPTIONS}


@dataclass(frozen=True)
class Preferences:
    """The options a run uses (field names are the options' names under ``core.``)."""

    ignore_missing_metadata: bool = False
    wait: bool = False
    wait_timeout: float = 120.0
    force: bool = False

    @classmethod
    def parse(cls, assignments: Iterable[str], base: Preferences | None = None) -> Preferences:
        """``core.NAME=VALUE`` assignments (``-o`` arguments) over ``base``; CrmError names the first bad one."""
        values: dict[str, Any] = {}
        for text in assignments:
            key, eq, value = text.partition("=")
            key = key.strip()
            if not eq or "." not in key:
                raise CrmError(f"option {text!r}: expected SECTION.NAME=VALUE, e.g. core.ignore_missing_metadata=yes")
            option = known(key)
            values[option.field] = _value(option, value)
        start = base or cls()
        return cls(**{**{f.name: getattr(start, f.name) for f in fields(cls)}, **values})

    def to_wire(self) -> dict[str, str]:
        """The options the crm language reads that differ from their defaults, as a request carries them."""
        default = Preferences()
        return {o.name: _text(getattr(self, o.field)) for o in OPTIONS
                if o.crm and getattr(self, o.field) != getattr(default, o.field)}

    @classmethod
    def from_wire(cls, options: Mapping[str, str]) -> Preferences:
        return cls.parse(f"{k}={v}" for k, v in options.items())


def known(name: str) -> Option:
    """The option called ``name``; an unknown one is refused with the closest known name."""
    option = BY_NAME.get(name)
    if option is not None:
        return option
    import difflib  # on use: only a misspelt name needs it

    close = difflib.get_close_matches(name, list(BY_NAME), n=1, cutoff=0.5)
    hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(BY_NAME)}"
    raise CrmError(f"unknown option {name!r} ({hint})")


def _value(option: Option, text: str) -> bool | float:
    word = text.strip().lower()
    if option.kind == "boolean":
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise CrmError(f"option {option.name}: {text!r} is not a boolean (yes or no)")
    try:
        seconds = float(word[:-1] if word.endswith("s") else word)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0 or seconds == float("inf"):
        raise CrmError(f"option {option.name}: {text!r} is not a number of seconds (0 or more)")
    return seconds


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:g}" if isinstance(value, float) else str(value)


_session = Preferences()


def use(preferences: Preferences) -> None:
    """Set the preferences of this process's commands (the CLI's ``-o`` options)."""
    global _session
    _session = preferences


def session() -> Preferences:
    """The preferences this process's commands run with (crmsh's defaults unless :func:`use` changed them)."""
    return _session
