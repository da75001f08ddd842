"""Pacemaker's cluster options (``crm configure property``): type, default and what each one does.

crmsh shows these while completing a property name - ``stonith-enabled
(boolean, [true]): ...`` - so a sysadmin sees the type and the default before
typing a value; ``property`` warns about names that are not in this table
(a typo there is silently ignored by the cluster).
"""

from __future__ import annotations

from paceline.shared.cluster.option_table import OPTIONS, READ_ONLY, ClusterOption  # noqa: F401 - re-exported


def unknown_option_warning(name: str) -> str | None:
    """A WARNING line for a property name Pacemaker does not know, or None."""
    if name in OPTIONS or name in READ_ONLY:
        return None
    close = [o for o in OPTIONS if o.startswith(name[:5])][:3]
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return f"WARNING: property {name}: not a known cluster option{hint}"


def property_candidates(text: str) -> list[str]:
    """Completions of a ``property`` word: ``name=`` forms; a single matching name expands to its values,
    so that readline stops at ``name=`` and a second Tab lists them."""
    name, eq, _ = text.partition("=")
    names = [n for n in OPTIONS if n.startswith(name)] if not eq else [name] if name in OPTIONS else []
    if len(names) == 1:
        option = OPTIONS[names[0]]
        values = option.values() or (option.default,) if option.default else option.values()
        forms = [f"{option.name}={v}" for v in values]
        return forms if len(forms) > 1 else [*forms, f"{option.name}="]
    return [f"{n}=" for n in names]
