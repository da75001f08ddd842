"""The ``ra`` level: which resource agents the cluster has and what they take.

Answers come from an ``AgentSource`` - live, the executors (each node knows
what it has installed), offline this machine - so ``ra`` never guesses. ``info``
lays out an agent's meta-data the way crmsh does: the short description, the
long one, the parameters with type, default and description (``*`` marks the
required ones), then the advised operation timeouts. ``validate`` checks the
parameters against the meta-data and then lets the agent judge them itself
(its ``validate-all``, run by an executor - or, offline, on this machine - as
``crm_resource --validate`` does), showing the exit code's OCF meaning and
what the agent printed.
"""

from __future__ import annotations

import textwrap
from typing import Any, Protocol

from lxml import etree
from paceline.crm.context import Context
from paceline.crm.words import Words
from paceline.shared import cib, lrm

#: ``6 -> "OCF_ERR_CONFIGURED"``: the OCF names of exit codes, from the one place that defines them.
OCF_RC_NAMES = {value: name for name, value in vars(lrm).items()
                if name.startswith("OCF_") and isinstance(value, int) and not isinstance(value, bool)}


#: Fence-agent parameters the fencer fills in per request; their meta-data marks ``action`` required all the same.
FENCER_SUPPLIED = frozenset(("action", "port", "plug", "nodename"))


class AgentSource(Protocol):
    def listing(self) -> dict[str, Any] | None: ...

    def metadata_xml(self, cls: str, provider: str | None, kind: str) -> str | None: ...

    def validate(self, cls: str, provider: str | None, kind: str, params: dict[str, str],
                 rsc: str = "") -> dict[str, Any] | None:
        """The executor's answer to ``validate-all`` (``rc``, ``op_status``, ``exit_reason``, ``output``,
        ``errors``, ``node``), or None when no executor could run it."""
        ...


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


def parameter_problems(agent: tuple[str, str | None, str], meta: etree._Element, given: dict[str, str]) -> list[str]:
    """What the meta-data alone says is wrong: undeclared or missing required parameters, malformed values."""
    declared = {p.get("name"): p for p in meta.iterfind("parameters/parameter")}
    problems = [f"parameter {name!r} is not defined by {_spec(agent)}" for name in given if name not in declared
                and not (agent[0] == "stonith" and name.startswith("pcmk_"))]
    for name, p in declared.items():
        if agent[0] == "stonith" and name in FENCER_SUPPLIED:
            continue
        content = p.find("content")
        kind = content.get("type", "string") if content is not None else "string"
        if p.get("required", "0") in ("1", "true", "yes") and name not in given:
            problems.append(f"required parameter {name!r} is not set")
        elif name in given and not _well_typed(kind, given[name]):
            problems.append(f"parameter {name!r}={given[name]!r} is not a valid {kind}")
    return problems


def rc_meaning(rc: int) -> str:
    """``OCF_ERR_CONFIGURED (rc 6, not configured)``, as a sysadmin reads an agent's exit code."""
    name, text = OCF_RC_NAMES.get(rc), lrm.RC_TEXT.get(rc)
    if name is None:
        return f"rc {rc}"
    return f"{name} (rc {rc}, {text})" if text else f"{name} (rc {rc})"


def describe_validation(verdict: dict[str, Any]) -> tuple[bool, str, list[str]]:
    """Whether the agent accepted the parameters, its verdict in words, and what it printed (indented)."""
    rc, status = int(verdict.get("rc", lrm.OCF_ERR_GENERIC)), int(verdict.get("op_status", lrm.EXEC_DONE))
    accepted = rc == lrm.OCF_SUCCESS and status == lrm.EXEC_DONE
    where = f"validate-all on {verdict['node']}" if verdict.get("node") else "validate-all"
    how = rc_meaning(rc) if status == lrm.EXEC_DONE else f"{lrm.EXEC_TEXT.get(status, f'status {status}')}, " \
        + rc_meaning(rc)
    reason = verdict.get("exit_reason") or ""
    said = [line for text in (verdict.get("errors") or "", verdict.get("output") or "")
            for line in text.splitlines() if line.strip() and not line.startswith("ocf-exit-reason:")]
    return accepted, f"{where}: {how}" + (f": {reason}" if reason else ""), [f"  {line}" for line in said]


def _primitive(root: Any, rsc: str) -> Any:
    if root is None or ":" in rsc:
        return None
    return next((p for p in cib.primitives(root) if p.get("id") == rsc), None)


def validate(root: Any, words: Words, ctx: Context) -> str:
    """Check parameters against the meta-data, then have the agent's ``validate-all`` judge them.

    ``ra validate AGENT name=value ...`` checks the given parameters;
    ``ra validate RSC [name=value ...]`` those of a configured primitive (the
    given ones override). Errors: anything the meta-data rules out, or an agent
    that does not answer 0.
    """
    target = words.take("agent (class:provider:type) or primitive id")
    pairs = dict(words.pairs())
    words.end()
    rsc, spec = "", target
    prim = _primitive(root, target)
    if prim is not None:
        if not prim.get("class"):
            raise words.error(f"primitive {target!r} takes its agent from a template; validate the template's agent")
        rsc, spec = target, cib.agent_spec(prim)
        pairs = {**cib.nvset_values(prim, "instance_attributes"), **pairs}
    agent, meta = metadata(words, ctx, spec)
    problems = parameter_problems(agent, meta, pairs)
    verdict = _source(ctx, words).validate(*agent, pairs, rsc)
    printed: list[str]
    if verdict is None:
        accepted, said, printed = True, "validate-all could not run (no executor answered), meta-data checks only", []
    else:
        accepted, said, printed = describe_validation(verdict)
    if problems or not accepted:
        raise words.error("\n".join([*problems, f"{_spec(agent)}: {said}", *printed]))
    return "\n".join([f"{_spec(agent)}: parameters are valid ({said})", *printed])


def _well_typed(kind: str, value: str) -> bool:
    if kind == "integer":
        return value.lstrip("+-").isdigit()
    if kind == "boolean":
        return value.lower() in ("1", "0", "true", "false", "yes", "no", "on", "off", "y", "n")
    return True
