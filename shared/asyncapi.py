"""The bus as a machine-readable document: AsyncAPI 3.0, generated from the subjects and the message classes.

Tools that are not Paceline (a dashboard, an audit trail, a script in another language) learn the bus from
this document instead of the READMEs' tables. Every subject :class:`~paceline.shared.subjects.Subjects`
builds is a channel, found by walking the class (its node names and the cluster are channel parameters,
its ``*`` subscriptions are the channels' wildcard forms); every message class of
:mod:`paceline.shared.messages` that travels is a message whose payload schema is read from the class's
field annotations, so the document cannot promise a shape the checks on arrival refuse; each micro-service
endpoint is an operation with a reply. Who may publish and subscribe on a channel is read from
:mod:`paceline.shared.permissions`, the allow lists the bus server enforces.

The one thing only this module says is which message class travels on which subject (:data:`TRAFFIC`).
A subject without an entry, or an entry without a subject, stops the generation: a new subject cannot be
left out of the document, and ``tests/unit/test_asyncapi.py`` fails until ``docs/asyncapi.json`` is
written again with ``python -m paceline.shared.asyncapi docs/asyncapi.json``.
"""

from __future__ import annotations

import inspect
import json
import sys
import types
from collections.abc import Iterator
from typing import Annotated, Any, NamedTuple, Union, get_args, get_origin, get_type_hints

from paceline.shared import VERSION, permissions, subjects
from paceline.shared import messages as m
from paceline.shared.codec import COMPRESS_OVER, SCHEMA_VERSION
from paceline.shared.subjects import SERVICE_NAMES, Subjects

ASYNCAPI_VERSION = "3.0.0"
CONTENT_TYPE = "application/msgpack"


class Traffic(NamedTuple):
    """What travels on one subject: a request and its reply (a micro-service endpoint), or an event."""

    message: type[m.Message]
    reply: type[m.Message] | None = None
    #: Sent every interval whatever happens (keep-alives): ``paceline events`` leaves them out unless asked.
    periodic: bool = False


#: Which message travels on the subjects of each builder of :class:`Subjects` (``builder:member`` for the
#: builders of a family of subjects, such as ``cib:query``).
TRAFFIC: dict[str, Traffic] = {
    "heartbeat": Traffic(m.Heartbeat, periodic=True),
    "view": Traffic(m.MembershipViewMessage),
    "membership_query": Traffic(m.MembershipQuery, m.MembershipViewMessage),
    "cib:query": Traffic(m.CibQuery, m.CibDocument),
    "cib:replace": Traffic(m.CibReplace, m.CibWriteReply),
    "cib:modify": Traffic(m.CibModify, m.CibWriteReply),
    "cib:patch": Traffic(m.CibPatch, m.CibWriteReply),
    "cib:erase": Traffic(m.CibErase, m.CibWriteReply),
    "cib:cluster": Traffic(m.CibCluster, m.CibWriteReply),
    "cib:tickets": Traffic(m.CibTickets, m.CibWriteReply),
    "cib_patch_by:executor": Traffic(m.CibPatch, m.CibWriteReply),
    "cib_patch_by:membership": Traffic(m.CibPatch, m.CibWriteReply),
    "cib_changed": Traffic(m.CibChanged),
    "dc": Traffic(m.DcAnnouncement),
    "policy_alive": Traffic(m.PolicyAlive, periodic=True),
    "transition": Traffic(m.TransitionStarted),
    "fenced_by": Traffic(m.Fenced),
    "policy_status": Traffic(m.PolicyStatusQuery, m.PolicyStatus),
    "policy_explain": Traffic(m.ExplainRequest, m.ExplainReply),
    "policy_facts": Traffic(m.DcFactsQuery, m.DcFacts),
    "executor_action": Traffic(m.ActionRequest, m.OperationResult),
    "executor_event": Traffic(m.OperationResult),
    "executor:metadata": Traffic(m.MetadataRequest, m.MetadataReply),
    "executor:agents": Traffic(m.AgentsRequest, m.AgentListing),
    "executor:fence": Traffic(m.FenceRequest, m.FenceReply),
    "executor:validate": Traffic(m.ValidateRequest, m.ValidateReply),
    "executor:reset": Traffic(m.ResetRequest, m.ResetReply),
    "executor:history": Traffic(m.HistoryRequest, m.ExecutorHistory),
    "executor:link": Traffic(m.RemoteLinkRequest, m.RemoteLinkReply),
    "gateway:crm": Traffic(m.CrmRequest, m.CrmReply),
    "gateway:status": Traffic(m.StatusRequest, m.StatusReply),
    "gateway:cib": Traffic(m.CibCopyRequest, m.CibDocument),
    "gateway:commit": Traffic(m.CommitRequest, m.CommitReply),
    "gateway:agents": Traffic(m.GatewayAgentsRequest, m.GatewayAgentListing),
    "gateway:metadata": Traffic(m.GatewayMetadataRequest, m.AgentXml),
    "gateway:attribute": Traffic(m.AttributeRequest, m.AttributeReply),
    "gateway:nodes": Traffic(m.NodesRequest, m.NodesReply),
}

#: Builders of :class:`Subjects` that make other builders' subjects, not subjects of their own.
GENERIC = {"policy": "the policy subjects, each of which has a builder of its own (policy_alive, policy_status, "
                     "policy_explain, policy_facts)"}
#: Builder parameters that name a node, and what the node is on that subject.
NODE_PARAMETERS = {
    "node": "A node's name: the node that publishes (events) or serves (requests) on this subject.",
    "dc": "The DC's node name: only that node's policy may publish here, so a receiver knows who sent it.",
}
#: The stand-in cluster while walking the builders (Subjects checks the cluster is a subject token).
_CLUSTER = "CLUSTER"
#: The document's spelling of the cluster token.
CLUSTER_PARAMETER = "{cluster}"


class Pattern(NamedTuple):
    """One subject a builder of :class:`Subjects` makes: ``{cluster}`` and ``{node}``-like parameters, or
    ``*`` where the builder makes a wildcard subscription."""

    builder: str   # "heartbeat", or "cib:query" for one member of a family
    subject: str   # "paceline.{cluster}.membership.heartbeat.{node}"

    @property
    def wildcard(self) -> bool:
        return "*" in self.subject.split(".")


def _family(builder: str, parameter: str) -> tuple[str, ...]:
    """The values a family parameter takes: ``endpoint`` of builder X is one of ``X_ENDPOINTS``, a ``role``
    one of the node services that send status patches."""
    if parameter == "role":
        return subjects.NODE_PATCHERS
    family = getattr(subjects, f"{builder.upper()}_ENDPOINTS", None)
    if parameter != "endpoint" or family is None:
        raise ValueError(f"Subjects.{builder}: parameter {parameter!r} names no node and no known family")
    return tuple(family)


def _made_by(s: Subjects, builder: str, function: Any) -> Iterator[Pattern]:
    """Every subject one builder method makes: node parameters as ``{name}``, each member of a family."""
    parameters = list(inspect.signature(function).parameters)[1:]
    family = [p for p in parameters if p not in NODE_PARAMETERS]
    if len(family) > 1:
        raise ValueError(f"Subjects.{builder}: more than one family parameter {family}")
    members: tuple[str, ...] = _family(builder, family[0]) if family else ("",)
    for member in members:
        args = [member if p not in NODE_PARAMETERS else f"{{{p}}}" for p in parameters]
        yield Pattern(f"{builder}:{member}" if member else builder, _spelled(s, function(s, *args)))


def _spelled(s: Subjects, subject: str) -> str:
    return CLUSTER_PARAMETER.join(("paceline.", subject.removeprefix(s.prefix))) if subject.startswith(
        s.prefix + ".") else subject


def patterns() -> list[Pattern]:
    """Every subject :class:`Subjects` makes, found by walking its properties and builder methods (not a
    list kept by hand), in the class's order of names."""
    s = Subjects(_CLUSTER)
    found = []
    for name, member in inspect.getmembers(Subjects):
        if name.startswith("_") or name in GENERIC:
            continue
        if isinstance(member, property):
            value = getattr(s, name)
            if isinstance(value, str) and value.startswith(s.prefix + "."):  # not the prefix, not a bucket name
                found.append(Pattern(name, _spelled(s, value)))
        elif inspect.isfunction(member):
            found += _made_by(s, name, member)
    return found


# ------------------------------------------------------------------ matching subjects


def tokens_match(pattern: str, subject: str) -> bool:
    """Whether a NATS subject (or another pattern: ``*`` as a token) is covered by ``pattern``'s ``*``/``>``."""
    want, have = pattern.split("."), subject.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(have) > i
        if i >= len(have) or (token != "*" and token != have[i]):
            return False
    return len(want) == len(have)


def tokens_overlap(a: str, b: str) -> bool:
    """Whether some subject matches both patterns (``*`` and ``>`` on either side)."""
    left, right = a.split("."), b.split(".")
    for x, y in zip(left, right, strict=False):
        if ">" in (x, y):
            return True
        if x != y and "*" not in (x, y):
            return False
    return len(left) == len(right)


class Channel(NamedTuple):
    """One channel of the document: a subject with parameters, what travels there, and who may use it."""

    id: str
    address: str            # "paceline.{cluster}.executor.event.{node}"
    parameters: tuple[str, ...]
    builder: str
    traffic: Traffic
    wildcards: tuple[str, ...]  # the builders' "*" subscriptions to it

    @property
    def every_node(self) -> str:
        """The address with every node parameter a ``*``: the subscription to every node's subjects of it."""
        return ".".join("*" if t.startswith("{") and t != CLUSTER_PARAMETER else t for t in self.address.split("."))

    def in_cluster(self, cluster: str) -> str:
        """The subscription to this channel in one cluster."""
        return self.every_node.replace(CLUSTER_PARAMETER, cluster, 1)


def _channel_id(address: str) -> str:
    words = [t for t in address.split(".")[2:] if not t.startswith("{")]
    camel = [w.replace("-", "_").split("_") for w in words]
    flat = [part for parts in camel for part in parts if part]
    return flat[0] + "".join(p[:1].upper() + p[1:] for p in flat[1:])


def channels() -> list[Channel]:
    """The channels in subject order; raises ValueError if a subject has no traffic or traffic no subject."""
    found = patterns()
    plain = [p for p in found if not p.wildcard]
    missing = sorted(p.builder for p in plain if p.builder not in TRAFFIC)
    stale = sorted(set(TRAFFIC) - {p.builder for p in plain})
    if missing or stale:
        raise ValueError(f"asyncapi.TRAFFIC is out of date: no entry for {missing}, no subject for {stale}")
    out = []
    for p in sorted(plain, key=lambda p: p.subject):
        params = tuple(t[1:-1] for t in p.subject.split(".") if t.startswith("{"))
        channel = Channel(_channel_id(p.subject), p.subject, params, p.builder, TRAFFIC[p.builder], ())
        wild = tuple(w.builder for w in found if w.wildcard and w.subject == channel.every_node)
        out.append(channel._replace(wildcards=wild))
    orphans = {w.builder for w in found if w.wildcard} - {b for c in out for b in c.wildcards}
    if orphans:
        raise ValueError(f"wildcard subjects that match no channel: {sorted(orphans)}")
    ids = [c.id for c in out]
    if len(set(ids)) != len(ids):
        raise ValueError(f"two channels would have one id: {sorted(i for i in ids if ids.count(i) > 1)}")
    return out


def channel_of(subject: str, cluster: str, catalogue: list[Channel] | None = None) -> Channel | None:
    """The channel a received subject of ``cluster`` belongs to (None: not a subject Paceline defines)."""
    for channel in catalogue if catalogue is not None else channels():
        if tokens_match(channel.in_cluster(cluster), subject):
            return channel
    return None


# ------------------------------------------------------------------ who may use a channel


#: Every role the bus server knows, node services first.
ROLES = (*permissions.NODE_SERVICES, permissions.ADMIN, permissions.OBSERVER)


def allowed(channel: Channel, side: str) -> list[str]:
    """The roles whose allow list lets them ``publish`` or ``subscribe`` on the channel (a node service's own
    node's subjects; the wildcard subscriptions of the roles that take every node's)."""
    s = Subjects("c")
    subject = channel.address.replace(CLUSTER_PARAMETER, s.cluster)
    for parameter in channel.parameters:
        subject = subject.replace(f"{{{parameter}}}", "n1")
    out = []
    for role in ROLES:
        perm = permissions.permissions(s, role, "" if role in (permissions.ADMIN, permissions.OBSERVER) else "n1")
        if any(tokens_match(pattern, subject) for pattern in getattr(perm, side)):
            out.append(role)
    return out


# ------------------------------------------------------------------ payload schemas


_RULES: dict[int, dict[str, Any]] = {
    id(m.NON_EMPTY): {"minLength": 1},
    id(m.NON_NEGATIVE): {"minimum": 0},
    id(m.TOKEN): {"pattern": m._TOKEN.pattern},
}
_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _annotated_schema(args: tuple[Any, ...]) -> dict[str, Any]:
    base, *extras = args
    if m.SCALAR in extras:
        schema: dict[str, Any] = {"type": ["string", "number", "boolean"],
                                  "description": "text; a number or a boolean is read as its text"}
    else:
        schema = type_schema(base)
    for extra in extras:
        if isinstance(extra, m.Rule):
            if id(extra) not in _RULES:
                raise TypeError(f"no JSON Schema for the message rule {extra.says!r}")
            schema.update(_RULES[id(extra)])
    return schema


def type_schema(tp: Any) -> dict[str, Any]:
    """The JSON Schema of one field annotation, as :func:`paceline.shared.m.checker` reads it."""
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any:
        return {}
    if origin is Annotated:
        return _annotated_schema(args)
    if origin in (Union, types.UnionType):
        options = [arg for arg in args if arg is not type(None)]
        return {"anyOf": [type_schema(options[0]), {"type": "null"}]}
    if origin is list or (origin is tuple and len(args) == 2 and args[1] is Ellipsis):
        return {"type": "array", "items": type_schema(args[0])}
    if origin is dict:
        return {"type": "object", "additionalProperties": type_schema(args[1])}
    if isinstance(tp, type) and issubclass(tp, m.Message):
        return {"$ref": f"#/components/schemas/{tp.__name__}"}
    if tp in _SCALARS:
        return {"type": _SCALARS[tp]}
    raise TypeError(f"no JSON Schema for message field type {tp!r}")


def _with(schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A schema with more keywords (a bare ``$ref`` takes none beside it: it goes under ``allOf``)."""
    return {"allOf": [schema], **extra} if "$ref" in schema else {**schema, **extra}


def _jsonable(value: Any) -> Any:
    if isinstance(value, m.Message):
        return value.to_body()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _doc(cls: type) -> str:
    """A class's own docstring (not its base's), on one line per paragraph."""
    text = inspect.cleandoc(cls.__dict__.get("__doc__") or "")
    return "\n\n".join(" ".join(part.split()) for part in text.split("\n\n") if part.strip())


def field_notes(cls: type) -> dict[str, str]:
    """The ``#:`` comments above a class's fields (what the class says about each), by field name."""
    try:
        lines = inspect.getsource(cls).splitlines()
    except (OSError, TypeError):  # no source (a class made at run time): no notes
        return {}
    notes: dict[str, str] = {}
    pending: list[str] = []
    for line in lines:
        text = line.strip()
        if text.startswith("#:"):
            pending.append(text[2:].strip())
            continue
        name = text.split(":", 1)[0].strip()
        if pending and ":" in text and name.isidentifier():
            notes[name] = " ".join(pending)
        pending = []
    return notes


def body_schema(cls: type[m.Message]) -> dict[str, Any]:
    """The JSON Schema of a message's body: its wire fields, their types, the required ones and defaults."""
    hints = get_type_hints(cls, include_extras=True)
    notes = field_notes(cls)
    properties, required = {}, []
    for f in cls._fields():
        schema = type_schema(hints[f.name])
        if f.name in notes:
            schema = _with(schema, description=notes[f.name]) if "description" not in schema else schema
        if f.required:
            required.append(f.wire)
        elif not (f.omit_none and f.default is None):
            schema = _with(schema, default=_jsonable(f.make_default()))
        properties[f.wire] = schema
    out: dict[str, Any] = {"type": "object", "title": cls.__name__}
    if _doc(cls):
        out["description"] = _doc(cls)
    out["properties"] = properties
    if required:
        out["required"] = required
    return out


def _reached(classes: list[type[m.Message]]) -> list[type[m.Message]]:
    """The classes and every message class nested in their fields, each once, in the order met."""
    seen: list[type[m.Message]] = []
    todo = list(classes)
    while todo:
        cls = todo.pop(0)
        if cls in seen:
            continue
        seen.append(cls)
        hints = get_type_hints(cls, include_extras=True)
        todo += [t for f in cls._fields() for t in _nested(hints[f.name])]
    return seen


def _nested(tp: Any) -> list[type[m.Message]]:
    if isinstance(tp, type) and issubclass(tp, m.Message):
        return [tp]
    return [found for arg in get_args(tp) for found in _nested(arg)]


def envelope_schema(cls: type[m.Message], kind: str) -> dict[str, Any]:
    """A message as it travels: codec's envelope (schema version, kind) around the class's body."""
    return {
        "type": "object",
        "required": ["v", "kind"],
        "properties": {
            "v": {"const": SCHEMA_VERSION, "description": "the envelope's schema version (a receiver refuses "
                                                          "one it does not speak)"},
            "kind": {"const": kind},
            "body": {"$ref": f"#/components/schemas/{cls.__name__}"},
            "z": {"description": f"the body's msgpack, zlib-compressed (msgpack bin), in place of 'body' when "
                                 f"the body packs larger than {COMPRESS_OVER} bytes"},
        },
        "oneOf": [{"required": ["body"]}, {"required": ["z"]}],
    }


# ------------------------------------------------------------------ the document


def _message_key(cls: type[m.Message], as_reply: bool) -> str:
    """Replies travel with kind ``reply`` whatever their class: a class that is also sent as an event or a
    request has a second message for its reply form."""
    return f"{cls.__name__}Reply" if as_reply and cls.KIND not in (m.REPLY, m.ERROR) else cls.__name__


def _message(cls: type[m.Message], as_reply: bool) -> dict[str, Any]:
    kind = cls.KIND if cls.KIND == m.ERROR or not as_reply else m.REPLY
    doc = _doc(cls)
    out: dict[str, Any] = {"name": _message_key(cls, as_reply), "title": cls.__name__}
    if doc:
        out["summary"] = doc.split("\n\n")[0]
    out["contentType"] = CONTENT_TYPE
    out["payload"] = envelope_schema(cls, kind)
    return out


def _parameters(channel: Channel) -> dict[str, Any]:
    out: dict[str, Any] = {"cluster": {"description": "The cluster's name (the `cluster` setting; a lab's is "
                                                      "`lab`).", "default": "default"}}
    for name in channel.parameters:
        if name != "cluster":
            out[name] = {"description": NODE_PARAMETERS[name]}
    return out


def _channel(channel: Channel) -> dict[str, Any]:
    t = channel.traffic
    sort = "requests to a micro-service endpoint" if t.reply else "events"
    builder, _, member = channel.builder.partition(":")
    text = f"{sort.capitalize()} (`Subjects.{builder}{f'({member!r})' if member else ''}`)"
    text += f"; every node's: `{channel.every_node}`." if channel.wildcards else "."
    if t.periodic:
        text += " Sent every heartbeat interval."
    out: dict[str, Any] = {"address": channel.address, "title": channel.id, "description": text,
                           "messages": {_message_key(t.message, False): {
                               "$ref": f"#/components/messages/{_message_key(t.message, False)}"}},
                           "parameters": _parameters(channel),
                           "x-paceline-publishers": allowed(channel, "publish"),
                           "x-paceline-subscribers": allowed(channel, "subscribe")}
    if channel.wildcards:
        out["x-paceline-wildcard"] = channel.every_node
    return out


def _operation(channel: Channel) -> tuple[str, dict[str, Any]]:
    t = channel.traffic
    node_services = [r for r in allowed(channel, "subscribe" if t.reply else "publish")
                     if r in permissions.NODE_SERVICES]
    key = _message_key(t.message, False)
    op: dict[str, Any] = {
        "action": "receive" if t.reply else "send",
        "channel": {"$ref": f"#/channels/{channel.id}"},
        "summary": (f"{', '.join(node_services)} answers {t.message.__name__} with {t.reply.__name__}"
                    if t.reply else f"{', '.join(node_services)} publishes {t.message.__name__}"),
        "tags": [{"name": name} for name in node_services],
        "messages": [{"$ref": f"#/channels/{channel.id}/messages/{key}"}],
    }
    if t.reply:
        op["reply"] = {"channel": {"$ref": "#/channels/reply"},
                       "messages": [{"$ref": f"#/channels/reply/messages/{_message_key(t.reply, True)}"},
                                    {"$ref": "#/channels/reply/messages/ErrorReply"}]}
    verb = "serve" if t.reply else "publish"
    return verb + channel.id[:1].upper() + channel.id[1:], op


DESCRIPTION = """\
Every subject and message of a Paceline cluster's NATS bus: what a tool may subscribe to, and the requests \
it may send (`docs/bus-security.md`: what each credential may do).

Subjects are `paceline.<cluster>.<service>.<topic>[.<node>]`. Every payload is a msgpack map, the envelope \
`{v: schema version, kind, body}`; a body packing larger than COMPRESS_OVER bytes travels zlib-compressed as `z`. \
Requests are NATS requests to micro-service endpoints (`$SRV.PING.<service>` finds the instances); the \
reply goes to the requester's inbox with kind `reply` (or `error`: an ErrorReply). Unknown body fields are \
ignored, so fields may be added; a missing or mistyped field makes the message malformed (dropped, or \
answered with the `malformed` error).

Generated from `paceline.shared.subjects` and `paceline.shared.messages` by \
`python -m paceline.shared.asyncapi`; `paceline events` prints this traffic as it happens.""".replace(
    "COMPRESS_OVER", str(COMPRESS_OVER))


def document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the whole bus."""
    catalogue = channels()
    operations = dict(_operation(c) for c in catalogue)
    top = [c.traffic.message for c in catalogue]
    replies: list[type[m.Message]] = [m.ErrorReply, *(c.traffic.reply for c in catalogue if c.traffic.reply)]
    sent = {_message_key(cls, False): _message(cls, False) for cls in top}
    reply_keys = {_message_key(cls, True): _message(cls, True) for cls in replies}
    schemas = {cls.__name__: body_schema(cls) for cls in _reached([*top, *replies])}
    chans = {c.id: _channel(c) for c in catalogue}
    chans["reply"] = {"address": None, "title": "reply",
                      "description": "The requester's inbox (the NATS reply subject of a request): each reply "
                                     "comes here, the endpoint's own or an ErrorReply.",
                      "messages": {key: {"$ref": f"#/components/messages/{key}"} for key in reply_keys}}
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Paceline bus",
            "version": VERSION,
            "description": DESCRIPTION,
            "license": {"name": "GPL-2.0-or-later"},
            "tags": [{"name": name, "description": f"the {service} micro service"}
                     for name, service in SERVICE_NAMES.items()],
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {"node": {"host": "localhost:4222", "protocol": "nats",
                             "description": "any node's bus server (TLS and an nkey where the cluster has "
                                            "credentials; see docs/bus-security.md)"}},
        "channels": chans,
        "operations": operations,
        "components": {"messages": {**sent, **reply_keys}, "schemas": schemas},
    }


def render() -> str:
    """The document as committed: JSON, two-space indents, a final newline."""
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m paceline.shared.asyncapi [--check] [FILE]``: write the document (stdout without FILE), or
    with ``--check`` say whether FILE holds the document this code generates (exit 1 if not)."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    files = [a for a in args if a != "--check"]
    if len(files) > 1 or any(f.startswith("-") for f in files) or (check and not files):
        print("usage: python -m paceline.shared.asyncapi [--check] [FILE]", file=sys.stderr)
        return 2
    text = render()
    if not files:
        sys.stdout.write(text)
        return 0
    from pathlib import Path

    path = Path(files[0])
    if check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            print(f"{path} is out of date: run python -m paceline.shared.asyncapi {path}", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
