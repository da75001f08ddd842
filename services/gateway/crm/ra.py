"""The ``ra`` level: which resource agents the cluster has and what they take.

Answers come from an ``AgentSource`` - live, the executors (each node knows
what it has installed), offline this machine - so ``ra`` never guesses. ``info``
lays out an agent's meta-data the way crmsh does: the short description, the
long one, the parameters with type, default and description (``*`` marks the
required ones), then the advised operation timeouts.
"""

from __future__ import annotations

import textwrap
from typing import Any, Protocol

from lxml import etree
from paceline.gateway.crm.context import Context
from paceline.gateway.crm.words import Words, run_command


class AgentSource(Protocol):
    def listing(self) -> dict[str, Any] | None: ...

    def metadata_xml(self, cls: str, provider: str | None, kind: str) -> str | None: ...


def _source(ctx: Context, words: Words) -> AgentSource:
    if ctx.agents is None or ctx.agents.listing() is None:
        raise words.error("no executor answered; the installed agents cannot be listed")
    return ctx.agents


def classes(_root: Any, words: Words, ctx: Context) -> str:
    words.end()
    listing = _source(ctx, words).listing() or {}
    lines = []
    if listing.get("lsb"):
        lines.append("lsb")
    providers = sorted(listing.get("ocf") or {})
    if providers:
        lines.append("ocf / " + " ".join(providers))
    return "\n".join(lines)


def list_agents(_root: Any, words: Words, ctx: Context) -> str:
    cls = words.take("class (ocf or lsb)")
    provider = words.take_if(*((_source(ctx, words).listing() or {}).get("ocf") or {}))
    words.end()
    listing = _source(ctx, words).listing() or {}
    if cls == "lsb":
        names = list(listing.get("lsb") or [])
    elif cls == "ocf":
        ocf = listing.get("ocf") or {}
        names = sorted({t for prov, types in ocf.items() if provider in (None, prov) for t in types})
    else:
        raise words.unexpected(cls, "ocf or lsb (the classes the executors list)")
    return "\n".join(textwrap.wrap(" ".join(names), 100))


def providers(_root: Any, words: Words, ctx: Context) -> str:
    kind = words.take("agent type")
    words.take_if("ocf")
    words.end()
    ocf = (_source(ctx, words).listing() or {}).get("ocf") or {}
    found = sorted(prov for prov, types in ocf.items() if kind in types)
    if not found:
        raise words.error(f"no provider has an agent {kind!r}")
    return " ".join(found)


def resolve_agent(words: Words, ctx: Context, spec: str) -> tuple[str, str | None, str]:
    """``class:provider:type``, ``class:type`` or a bare type (heartbeat first, then the only provider)."""
    parts = spec.split(":")
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    if len(parts) == 2:
        return parts[0], None, parts[1]
    ocf = (_source(ctx, words).listing() or {}).get("ocf") or {}
    having = sorted(prov for prov, types in ocf.items() if spec in types)
    if "heartbeat" in having or not having:
        return "ocf", "heartbeat", spec
    if len(having) > 1:
        raise words.error(f"{spec!r} is ambiguous; name it as one of "
                          + ", ".join(f"ocf:{p}:{spec}" for p in having))
    return "ocf", having[0], spec


def _spec(agent: tuple[str, str | None, str]) -> str:
    return ":".join(part for part in agent if part)


def metadata(words: Words, ctx: Context, spec: str) -> tuple[tuple[str, str | None, str], etree._Element]:
    agent = resolve_agent(words, ctx, spec)
    xml = _source(ctx, words).metadata_xml(*agent)
    if not xml:
        raise words.error(f"no meta-data for {_spec(agent)!r} (not installed on any node?)")
    try:
        return agent, etree.fromstring(xml.encode(), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise words.error(f"the meta-data of {_spec(agent)} is not valid XML: {exc}") from None


def _text(el: etree._Element | None) -> str:
    return " ".join((el.text or "").split()) if el is not None else ""


def parameter_line(param: etree._Element) -> str:
    """``name* (type, [default]): short description`` - also the completion hint's format."""
    content = param.find("content")
    kind = content.get("type", "string") if content is not None else "string"
    default = content.get("default") if content is not None else None
    star = "*" if param.get("required", "0") in ("1", "true", "yes") else ""
    typ = f"{kind}, [{default}]" if default not in (None, "") else kind
    return f"{param.get('name')}{star} ({typ}): {_text(param.find('shortdesc'))}"


def info(_root: Any, words: Words, ctx: Context) -> str:
    spec = words.take("agent (class:provider:type)")
    words.end()
    agent, meta = metadata(words, ctx, spec)
    out = [f"{_text(meta.find('shortdesc')) or meta.get('name')} ({_spec(agent)})", ""]
    long = _text(meta.find("longdesc"))
    if long:
        out += [*textwrap.wrap(long, 78), ""]
    params = meta.findall("parameters/parameter")
    if params:
        out += ["Parameters (*: required, []: default):", ""]
        for p in params:
            out.append(parameter_line(p))
            desc = _text(p.find("longdesc"))
            if desc and desc != _text(p.find("shortdesc")):
                out += textwrap.wrap(desc, 74, initial_indent="    ", subsequent_indent="    ")
            out.append("")
    actions = meta.findall("actions/action")
    if actions:
        out += ["Operations' defaults (advisory minimum):", ""]
        for a in actions:
            extras = " ".join(f"{k}={a.get(k)}" for k in ("timeout", "interval", "depth") if a.get(k))
            out.append(f"    {a.get('name', ''):<16}{extras}".rstrip())
    return "\n".join(out).rstrip()


def validate(_root: Any, words: Words, ctx: Context) -> str:
    """Check parameters against the agent's meta-data: declared, required, integers and booleans well formed."""
    spec = words.take("agent (class:provider:type)")
    pairs = words.pairs()
    words.end()
    agent, meta = metadata(words, ctx, spec)
    declared = {p.get("name"): p for p in meta.iterfind("parameters/parameter")}
    given = dict(pairs)
    problems = [f"parameter {name!r} is not defined by {_spec(agent)}" for name in given if name not in declared]
    for name, p in declared.items():
        content = p.find("content")
        kind = content.get("type", "string") if content is not None else "string"
        if p.get("required", "0") in ("1", "true", "yes") and name not in given:
            problems.append(f"required parameter {name!r} is not set")
        elif name in given and not _well_typed(kind, given[name]):
            problems.append(f"parameter {name!r}={given[name]!r} is not a valid {kind}")
    if problems:
        raise words.error("; ".join(problems))
    return f"{_spec(agent)}: parameters are valid"


def _well_typed(kind: str, value: str) -> bool:
    if kind == "integer":
        return value.lstrip("+-").isdigit()
    if kind == "boolean":
        return value.lower() in ("1", "0", "true", "false", "yes", "no", "on", "off", "y", "n")
    return True


COMMANDS = {"classes": classes, "list": list_agents, "providers": providers, "info": info, "meta": info,
            "validate": validate}
READ_ONLY = frozenset(COMMANDS)


def ra(root: Any, args: list[str], ctx: Context) -> str:
    return run_command("ra", COMMANDS, root, args, ctx)
