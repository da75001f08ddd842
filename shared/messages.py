"""Every message that travels on the bus: one frozen dataclass per kind, checked field by field on arrival.

Modelled on nats.py's ``nats/js/api.py`` (one typed class per API message):
each class knows its envelope ``KIND``, writes its wire form with
:meth:`Message.to_body` and reads one back with :meth:`Message.from_body`,
which raises :class:`~paceline.shared.codec.MalformedMessage` naming the field
that is missing or wrongly typed. The checking is one generic walk over the
class's type annotations (compiled once per class), so a class declares its
fields and nothing else; ``Annotated`` adds the few value rules a type cannot
say (not empty, not negative, a subject token) and the scalar-to-text
conversion of agent parameters. A class needing a rule across fields overrides
:meth:`Message.check`.

Wire names are the field names (``wire("class")`` where Python cannot spell
one), and the shapes are the ones the service READMEs document. Unknown keys
are ignored, so a newer sender can add fields without breaking older
receivers. Replies travel with the envelope kind ``reply`` whatever their
class (the ``KIND`` of a reply class is only its name in the READMEs).

This module imports nothing but the codec: the Pacemaker tool stand-ins load
it on every call.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from typing import (
    Annotated,
    Any,
    ClassVar,
    Self,
    TypeVar,
    Union,
    dataclass_transform,
    get_args,
    get_origin,
    get_type_hints,
)

from paceline.shared.codec import MalformedMessage, decode, encode

REPLY = "reply"
ERROR = "error"

# ------------------------------------------------------------------ value rules and the generic checker


class Rule:
    """A condition on a value its type cannot express, and how a violation reads in the error."""

    __slots__ = ("holds", "says")

    def __init__(self, holds: Callable[[Any], bool], says: str):
        self.holds, self.says = holds, says


NON_EMPTY = Rule(bool, "must not be empty")
NON_NEGATIVE = Rule(lambda value: value >= 0, "must not be negative")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")
TOKEN = Rule(lambda value: _TOKEN.match(value) is not None, "may only contain letters, digits, '-' and '_'")


class _Scalar:
    """Marks a text field that also takes a number or a boolean (agent parameters), stored as text."""


SCALAR = _Scalar()

#: A count, an id or a term: an integer that is never negative.
Count = Annotated[int, NON_NEGATIVE]
#: A name that must be given.
Name = Annotated[str, NON_EMPTY]
#: Agent parameters or operation meta: names to text (numbers and booleans are accepted and written as text).
Params = dict[str, Annotated[str, SCALAR]]

Check = Callable[[Any, str], Any]


def wire(name: str, **extra: Any) -> dict[str, Any]:
    """Field metadata: the name on the wire when Python cannot spell it (``class``)."""
    return {"wire": name, **extra}


#: Field metadata: leave the field out of the body while it is None (its absence means something).
OMIT_NONE = {"omit_none": True}


def _fail(path: str, value: Any, expected: str) -> MalformedMessage:
    return MalformedMessage(f"field {path!r} has type {type(value).__name__}, expected {expected}")


def _plain(expected: type, name: str) -> Check:
    def check(value: Any, path: str) -> Any:
        # the exact type: bool is an int to Python, never on the wire (True is no ring id)
        if type(value) is not expected:
            raise _fail(path, value, name)
        return value

    def number(value: Any, path: str) -> float:
        if type(value) not in (float, int):  # msgpack sends a whole number as an integer
            raise _fail(path, value, name)
        return float(value)

    return number if expected is float else check


def _scalar_text(value: Any, path: str) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (str, int, float)):
        return str(value)
    raise _fail(path, value, "text, a number or a boolean")


def _anything(value: Any, path: str) -> Any:
    return value


def _annotated(args: tuple[Any, ...]) -> Check:
    base, *extras = args
    inner = _scalar_text if SCALAR in extras else checker(base)
    rules = [extra for extra in extras if isinstance(extra, Rule)]

    def check(value: Any, path: str) -> Any:
        value = inner(value, path)
        for rule in rules:
            if not rule.holds(value):
                raise MalformedMessage(f"field {path!r} {rule.says}")
        return value

    return check


def _optional(args: tuple[Any, ...]) -> Check:
    options = [arg for arg in args if arg is not type(None)]
    if len(options) != 1:
        raise TypeError(f"a message field may be one type or None, not {args}")
    inner = checker(options[0])

    def check(value: Any, path: str) -> Any:
        return None if value is None else inner(value, path)

    return check


def _sequence(item_type: Any, make: type) -> Check:
    item = checker(item_type)

    def check(value: Any, path: str) -> Any:
        if not isinstance(value, (list, tuple)):
            raise _fail(path, value, "a list")
        return make(item(v, f"{path}[{i}]") for i, v in enumerate(value))

    return check


def _mapping(value_type: Any) -> Check:
    item = checker(value_type)

    def check(value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise _fail(path, value, "a map")
        out = {}
        for key, v in value.items():
            if not isinstance(key, str):
                raise MalformedMessage(f"field {path!r} has a key of type {type(key).__name__}, expected text")
            out[key] = item(v, f"{path}.{key}")
        return out

    return check


def _nested(cls: type[Message]) -> Check:
    def check(value: Any, path: str) -> Any:
        return cls.parse(value, path)

    return check


def checker(tp: Any) -> Check:
    """The check of one annotated type: returns the value (converted where the type says) or raises."""
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any:
        return _anything
    if origin is Annotated:
        return _annotated(args)
    if origin in (Union, types.UnionType):
        return _optional(args)
    if origin is list:
        return _sequence(args[0], list)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return _sequence(args[0], tuple)
    if origin is dict:
        return _mapping(args[1])
    if isinstance(tp, type) and issubclass(tp, Message):
        return _nested(tp)
    names = {str: "text", int: "an integer", float: "a number", bool: "a boolean"}
    if tp in names:
        return _plain(tp, names[tp])
    raise TypeError(f"no check for message field type {tp!r}")


class _Default:
    """What :func:`field` returns: a field's default (or how to make one) and its metadata."""

    __slots__ = ("default", "factory", "metadata")

    def __init__(self, default: Any, factory: Callable[[], Any] | None, metadata: dict[str, Any]):
        self.default, self.factory, self.metadata = default, factory, metadata


_MISSING: Any = object()


def field(*, default: Any = _MISSING, default_factory: Callable[[], Any] | None = None,
          metadata: dict[str, Any] | None = None) -> Any:
    """A message field's default and metadata, as ``dataclasses.field`` declares them."""
    return _Default(default, default_factory, metadata or {})


class _Field:
    """One field of a message class: its wire name, check and default (plain class: cheap to import)."""

    __slots__ = ("check", "default", "factory", "name", "omit_none", "wire")

    def __init__(self, name: str, wire: str, check: Check, default: Any, factory: Callable[[], Any] | None,
                 omit_none: bool):
        self.name, self.wire, self.check = name, wire, check
        self.default, self.factory, self.omit_none = default, factory, omit_none

    @property
    def required(self) -> bool:
        return self.default is _MISSING and self.factory is None

    def make_default(self) -> Any:
        return self.factory() if self.factory is not None else self.default


def _layout(cls: type) -> tuple[_Field, ...]:
    """A message class's fields in declaration order, with their checks and defaults."""
    out = []
    for name, hint in get_type_hints(cls, include_extras=True).items():
        if get_origin(hint) is ClassVar:
            continue
        declared = getattr(cls, name, _MISSING)
        spec = declared if isinstance(declared, _Default) else _Default(declared, None, {})
        out.append(_Field(name, spec.metadata.get("wire", name), checker(hint), spec.default, spec.factory,
                          bool(spec.metadata.get("omit_none"))))
    return tuple(out)


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
class Message:
    """Base of every bus message: a frozen record with a ``KIND`` and a checked wire form.

    Not a ``dataclasses.dataclass``: generating one costs ~0.4 ms per class at
    import, 20 ms for this module, on every call of an agent's tool stand-in
    (which loads this module; a plain class costs a few microseconds).
    The record behaviour (init, equality, repr, immutability) is generic here,
    from the field list each class works out on first use.
    """

    KIND: ClassVar[str] = ""
    _layouts: ClassVar[dict[type, tuple[_Field, ...]]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        fields = self._fields()
        if len(args) > len(fields):
            raise TypeError(f"{type(self).__name__} takes {len(fields)} fields, {len(args)} were given")
        for f, value in zip(fields, args, strict=False):
            object.__setattr__(self, f.name, value)
        for f in fields[len(args):]:
            if f.name in kwargs:
                object.__setattr__(self, f.name, kwargs.pop(f.name))
            elif f.required:
                raise TypeError(f"{type(self).__name__} needs field {f.name!r}")
            else:
                object.__setattr__(self, f.name, f.make_default())
        if kwargs:
            raise TypeError(f"{type(self).__name__} has no field {next(iter(kwargs))!r}")

    @classmethod
    def _fields(cls) -> tuple[_Field, ...]:
        """The class's fields with their checks, worked out on first use (a client pays only for what it uses)."""
        fields = Message._layouts.get(cls)
        if fields is None:
            fields = Message._layouts[cls] = _layout(cls)
        return fields

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in self._fields())

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable (a message as received or sent)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable (a message as received or sent)")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and type(other) is type(self) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self), self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in self._fields())
        return f"{type(self).__name__}({shown})"

    @classmethod
    def from_body(cls, body: Any) -> Self:
        """Read a received body; MalformedMessage names the first field that is missing or wrongly typed."""
        return cls.parse(body, "")

    @classmethod
    def parse(cls, body: Any, prefix: str) -> Self:
        """``from_body`` of a message nested in another one, its fields named ``prefix.field`` in errors."""
        if not isinstance(body, dict):
            raise _fail(prefix or "body", body, "a map")
        values: dict[str, Any] = {}
        dot = f"{prefix}." if prefix else ""
        for f in cls._fields():
            if f.wire in body:
                values[f.name] = f.check(body[f.wire], dot + f.wire)
            elif f.required:
                raise MalformedMessage(f"missing field {dot + f.wire!r}")
        message = cls(**values)
        message.check(prefix)
        return message

    def check(self, prefix: str) -> None:
        """Rules across fields (none by default); raise MalformedMessage naming the field at fault."""

    def to_body(self) -> dict[str, Any]:
        """The wire form: every field under its wire name (tuples as lists, nested messages as maps)."""
        body: dict[str, Any] = {}
        for f in self._fields():
            value = getattr(self, f.name)
            if value is None and f.omit_none:
                continue
            body[f.wire] = _to_wire(value)
        return body


def _to_wire(value: Any) -> Any:
    if isinstance(value, Message):
        return value.to_body()
    if isinstance(value, (list, tuple)):
        return [_to_wire(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_wire(v) for k, v in value.items()}
    return value


# ------------------------------------------------------------------ common


class ErrorReply(Message):
    """Any endpoint's error answer: ``malformed``, ``internal``, or the endpoint's own codes (README)."""

    KIND = ERROR
    code: str
    message: str
    details: dict[str, Any] | None = field(default=None, metadata=OMIT_NONE)


# ------------------------------------------------------------------ membership


class Heartbeat(Message):
    """What one membership process tells the others every interval: alive, its incarnation and ring id."""

    KIND = "heartbeat"
    node: Annotated[str, TOKEN]
    incarnation: Name
    ring_id: Count
    seq: Count
    votes: Count = 1
    #: The peers whose heartbeats this node received within the token timeout. A node counts a peer as a
    #: member only while the peer hears it too, so a node the others lost learns it from their heartbeats.
    hears: tuple[str, ...] = ()
    #: 0: this node's policy does not run; else its DC candidacy (the ring id when it last became a candidate
    #: of a quorate view). The member with the lowest (candidate, name) is the DC of a view.
    candidate: Count = 0

    def on_subject(self, subject: str) -> Self:
        """The heartbeat, if it arrived on its own node's subject (another node's would be a bug or a spoof)."""
        if subject.rsplit(".", 1)[-1] != self.node:
            raise MalformedMessage(f"heartbeat for node {self.node!r} arrived on {subject}")
        return self


class MembershipViewMessage(Message):
    """A node's membership view (published on change, and the query's answer): members and quorum together."""

    KIND = "membership.view"
    node: str
    incarnation: str
    ring_id: Count
    members: tuple[str, ...]
    quorate: bool
    total_votes: Count = 0
    expected_votes: Count = 0
    quorum: Count = 0
    two_node: bool = False
    waiting_for_all: bool = False
    joined: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()
    restarted: tuple[str, ...] = ()
    #: The DC this view elects: the member candidate with the lowest (candidacy, name); "" when none runs policy.
    dc: str = ""


class MembershipQuery(Message):
    """``membership.query.<node>``: the node's current view (answered with a MembershipViewMessage)."""

    KIND = "query"


# ------------------------------------------------------------------ cib-store


class CibChanged(Message):
    """A write the cib-store made: versions before and after, its scope, the node (status) and the writer."""

    KIND = "cib.changed"
    old: str
    new: str
    scope: str
    node: str = ""
    client: str = ""
    #: A status patch's ops (``paceline.shared.lrm.apply_status_ops``), so that the node's executor applies what
    #: others deleted (``resource cleanup``) to the history it holds.
    ops: list[dict[str, Any]] = field(default_factory=list)


class CibQuery(Message):
    """Read the whole CIB. ``fresh``: only from the bucket's leader, never the instance's last good copy (for
    readers that act on what they read: the DC, membership, the executor)."""

    KIND = "query"
    fresh: bool = False


class CibDocument(Message):
    """The whole CIB (configuration and status) as XML, and its version."""

    KIND = REPLY
    xml: str
    version: str
    #: Served from the instance's last good copy while the bucket had no leader (an election under way).
    stale: bool = False


class CibReplace(Message):
    """Replace the configuration, only on top of ``expected_version`` when given; ``with_status``: an import."""

    KIND = "replace"
    xml: str
    expected_version: str | None = None
    client: str = "cibadmin"
    with_status: bool = False


class CibModify(Message):
    """Replace one configuration section."""

    KIND = "modify"
    section: str
    xml: str
    client: str = "cibadmin"


class CibPatch(Message):
    """A status patch of one node (``paceline.shared.lrm``'s op language)."""

    KIND = "patch"
    node: str
    ops: list[dict[str, Any]]
    client: str = "unknown"


class CibErase(Message):
    KIND = "erase"
    client: str = "cibadmin"


class CibCluster(Message):
    """The DC's facts on the CIB root (``have-quorum``, ``dc-uuid``); None removes one."""

    KIND = "cluster"
    attrs: dict[str, Any]
    client: str = "policy"


class CibTickets(Message):
    """A change of the status section's tickets (``crm_ticket``, ``site ticket``): ticket id -> {attribute:
    value, or null to remove it}, or null to remove the ticket's state (``paceline.shared.cluster.tickets``)."""

    KIND = "tickets"
    changes: dict[str, Any]
    client: str = "crm"


class CibWriteReply(Message):
    """The version a write produced (None, with ``changed`` false, when there was nothing to write)."""

    KIND = REPLY
    version: str | None
    changed: bool


# ------------------------------------------------------------------ policy


class PolicyAlive(Message):
    """``policy.alive.<node>``: the node's policy instance runs (published every heartbeat interval)."""

    KIND = "policy.alive"
    node: Annotated[str, TOKEN]
    incarnation: Name


class DcAnnouncement(Message):
    """A policy instance became the DC of its membership view (term: that view's ring id)."""

    KIND = "dc"
    node: str
    term: Count


class TransitionStarted(Message):
    """A transition graph the DC starts executing (actions as ``policy.graph.Action.to_body``)."""

    KIND = "transition"
    term: Count
    cib_version: str
    transition_id: Count
    actions: list[dict[str, Any]] = field(default_factory=list)


class Fenced(Message):
    """One fencing attempt of the DC: target, device(s), action, result and who ran it; before the CIB record."""

    KIND = "fenced"
    target: str
    action: str
    result: str
    device: str = ""
    by: str = ""
    dc: str = ""
    term: int = 0
    reason: str = ""
    error: str = ""
    time: float = 0.0


class PolicyStatusQuery(Message):
    KIND = "query"


class PolicyStatus(Message):
    """One policy instance: whether it is the DC, the term and holder it knows, its last transition."""

    KIND = REPLY
    node: str
    is_dc: bool
    term: int
    holder: str
    transition: int
    #: The version of the CIB copy this instance would plan from if it became DC while the store cannot
    #: answer ("" before its first read): a standby DC is ready once it holds the newest configuration.
    cib_copy: str = ""


class ExplainRequest(Message):
    """``resource why RSC`` on a live cluster, answered by the DC from its own view of the CIB."""

    KIND = "explain"
    rsc: Name


class ExplainReply(Message):
    KIND = REPLY
    text: str


class DcFactsQuery(Message):
    """``policy.facts``: what the DC knows better than the CIB now (answered by the DC only)."""

    KIND = "query"


class DcFacts(Message):
    """The facts the DC plans with ahead of the CIB (``paceline.shared.cluster.overlay``), for readers of the
    CIB that must not show less than the DC knows: its membership view and the nodes it fenced, whose
    records it writes behind. Executors' histories are not sent (their CIB copies land on their own)."""

    KIND = REPLY
    dc: str
    members: tuple[str, ...]
    gone: tuple[str, ...] = ()
    unclean: tuple[str, ...] = ()
    #: Fenced node -> the status ops of its record (``paceline.shared.lrm``), until it is a member again.
    fenced: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


# ------------------------------------------------------------------ executor


class AgentSpec(Message):
    """An agent as the CIB names it: class, provider (OCF only) and type."""

    KIND = "agent"
    standard: Name = field(metadata=wire("class"))
    type: Name
    provider: str = ""

    def check(self, prefix: str) -> None:
        if self.standard == "ocf" and not self.provider:
            raise MalformedMessage(f"field {(prefix + '.' if prefix else '') + 'provider'!r}: an ocf agent needs one")


class ActionRequest(Message):
    """One operation the DC asks a node's executor to run: ``policy.graph.Action`` plus the DC's term."""

    KIND = "action"
    task: Name
    rsc: Name
    node: str
    agent: AgentSpec
    id: Count
    term: Count
    transition: Count
    interval_ms: Count = 0
    timeout_ms: Count = 0
    params: Params = field(default_factory=dict)
    meta: Params = field(default_factory=dict)
    expected_rc: int = 0
    digest: str = ""
    pseudo: bool = False
    inputs: list[int] = field(default_factory=list)
    #: The sending DC and the members of its view: an executor runs the action only when its own node's view
    #: elects the same DC over the same members (:mod:`paceline.shared.admission`).
    dc: str = ""
    members: tuple[str, ...] = ()


class OperationResult(Message):
    """What running one operation gave (``paceline.shared.lrm.OpResult`` on the wire): the action's reply and
    the ``executor.event.<node>`` event."""

    KIND = "op.result"
    rsc: str
    task: str
    interval_ms: int
    rc: int
    op_status: int = 0
    call_id: int = 0
    exec_ms: int = 0
    queue_ms: int = 0
    exit_reason: str = ""
    digest: str = ""
    transition_key: str = ""
    node: str = ""
    last_rc_change: int = 0
    expected_rc: int = 0


class MetadataRequest(Message):
    KIND = "metadata"
    agent: AgentSpec


class MetadataReply(Message):
    """An agent's meta-data XML and its parsed form (parameters, actions)."""

    KIND = REPLY
    xml: str
    info: dict[str, Any] = field(default_factory=dict)


class ValidateRequest(Message):
    """Run an agent's ``validate-all`` with these parameters; nothing is recorded."""

    KIND = "validate"
    agent: AgentSpec
    params: Params = field(default_factory=dict)
    rsc: str = ""
    timeout_ms: int = 0


class ValidateReply(Message):
    KIND = REPLY
    node: str
    rc: int
    op_status: int
    exit_reason: str = ""
    output: str = ""
    errors: str = ""
    exec_ms: int = 0


class AgentsRequest(Message):
    """The installed agents; with ``type``, also the OCF providers of that type."""

    KIND = "agents"
    type: str = ""


class AgentListing(Message):
    """A node's installed agents by class."""

    KIND = REPLY
    classes: list[str] = field(default_factory=list)
    ocf: dict[str, list[str]] = field(default_factory=dict)
    lsb: list[str] = field(default_factory=list)
    stonith: list[str] = field(default_factory=list)
    systemd: list[str] = field(default_factory=list)
    service: list[str] = field(default_factory=list)
    providers: list[str] | None = field(default=None, metadata=OMIT_NONE)


class FenceRequest(Message):
    """One fencing action of a device, run on the asked node (term-checked; not recorded)."""

    KIND = "fence"
    agent: AgentSpec
    action: str
    term: int
    params: Params = field(default_factory=dict)
    target: str = ""
    port: str = ""
    timeout_ms: int = 0
    dc: str = ""
    members: tuple[str, ...] = ()


class FenceReply(Message):
    KIND = REPLY
    rc: int
    op_status: int
    exit_reason: str = ""
    output: str = ""


class HistoryRequest(Message):
    """``executor.history.<node>``: the operation history the node's executor holds (it is the source of truth
    for what runs on its node; the CIB's copy may lag behind a JetStream election)."""

    KIND = "history"


class ExecutorHistory(Message):
    """A node's ``<lrm>`` element as its executor has it; ``seq`` grows with every change in one incarnation."""

    KIND = REPLY
    node: str
    incarnation: str
    seq: Count
    lrm: str


class ResetRequest(Message):
    """This node was fenced while alive: stop everything it runs and forget it. ``dc`` and ``term``: the DC
    whose fencing result this is, which the executor checks against its own view as it checks actions."""

    KIND = "reset"
    dc: str = ""
    term: int = 0


class StoppedResource(Message):
    KIND = "stopped"
    rsc: str
    rc: int


class ResetReply(Message):
    KIND = REPLY
    stopped: list[StoppedResource] = field(default_factory=list)


#: What the executor hosting a remote node's connection asks of that node's executor.
LINK_ACTIONS = ("open", "check", "close")


class RemoteLinkRequest(Message):
    """``executor.link.<remote>``: the executor running a remote node's connection resource opens, checks or
    closes the link to that node's executor (``paceline.executor.remote``). ``host`` is that cluster node;
    ``dc``, ``members`` and ``term`` are those of the DC action that asked (the remote executor admits actions
    by the host's membership view from then on)."""

    KIND = "link"
    action: Name  # open | check | close
    host: Name
    dc: str = ""
    members: tuple[str, ...] = ()
    term: Count = 0

    def check(self, prefix: str) -> None:
        if self.action not in LINK_ACTIONS:
            raise MalformedMessage(f"field {prefix + '.' if prefix else ''}'action': {self.action!r} is not one "
                                   f"of {', '.join(LINK_ACTIONS)}")


class RemoteLinkReply(Message):
    """A remote executor's link as it stands after the request: ``host`` is the cluster node whose
    connection it follows ("" when none), ``incarnation`` that of its history (new per process start)."""

    KIND = REPLY
    node: str
    host: str
    incarnation: str


# ------------------------------------------------------------------ gateway


class CrmRequest(Message):
    """crm command lines; ``script`` (default: more than one line) runs them like ``crm -f``; ``options``:
    crmsh's ``-o core.NAME=VALUE`` preferences they run with (``paceline.crm.preferences``)."""

    KIND = "crm"
    lines: list[str]
    node: str = ""
    script: bool | None = None
    options: dict[str, str] = field(default_factory=dict)


class CrmReply(Message):
    KIND = REPLY
    output: str
    changed: bool
    version: str | None


class StatusRequest(Message):
    """``show``: the text page's sections (crm_mon's switches ``-r -n -f -o -t -A`` by name, see
    ``paceline.shared.cluster.crm_mon.SHOW``); the default is ``crm status``'s ``-r``."""

    KIND = "status"
    format: str = "text"
    show: tuple[str, ...] = ("inactive",)


class StatusReply(Message):
    """``paceline status`` rendered by the gateway (crm_mon's layout, or its facts as JSON or XML); ``errors``:
    the configuration errors crm_mon would log apart from the text page, one line each."""

    KIND = REPLY
    text: str
    version: str
    errors: tuple[str, ...] = ()


class CibCopyRequest(Message):
    """The whole CIB: the working copy an interactive configure session stages on."""

    KIND = "cib"


class CommitRequest(Message):
    """A session's configuration, written only on top of the version it started from."""

    KIND = "commit"
    xml: str
    expected_version: str


class CommitReply(Message):
    KIND = REPLY
    version: str | None
    changed: bool = True


class GatewayAgentsRequest(Message):
    KIND = "agents"


class GatewayAgentListing(Message):
    """The union of the executors' listings (OCF by provider, LSB)."""

    KIND = REPLY
    ocf: dict[str, list[str]] = field(default_factory=dict)
    lsb: list[str] = field(default_factory=list)


class GatewayMetadataRequest(Message):
    """An agent's meta-data from the first node that has it (provider may be empty or null)."""

    KIND = "metadata"
    agent: dict[str, str | None]


class AgentXml(Message):
    KIND = REPLY
    xml: str


#: What an attribute request may do, and where: node scopes and the cluster option sets.
ATTRIBUTE_COMMANDS = ("get", "set", "delete")
ATTRIBUTE_SCOPES = ("nodes", "status", "crm_config", "rsc_defaults", "op_defaults")


class AttributeRequest(Message):
    """Read, set or delete one attribute: of a node (``nodes``: permanent, or its utilization; ``status``:
    transient) or a cluster option (``crm_config``, ``rsc_defaults``, ``op_defaults``; ``set_name`` picks a
    set). The edit is the crm command's (``node attribute|utilization|status-attr``, ``configure property``)."""

    KIND = "attribute"
    command: str
    scope: str
    name: Name
    node: str = ""
    value: str | None = None
    utilization: bool = False
    set_name: str = ""

    def check(self, prefix: str) -> None:
        if self.command not in ATTRIBUTE_COMMANDS:
            raise MalformedMessage(f"field 'command' is {self.command!r}, not one of {', '.join(ATTRIBUTE_COMMANDS)}")
        if self.scope not in ATTRIBUTE_SCOPES:
            raise MalformedMessage(f"field 'scope' is {self.scope!r}, not one of {', '.join(ATTRIBUTE_SCOPES)}")
        if self.scope in ("nodes", "status") and not self.node:
            raise MalformedMessage(f"field 'node' is needed for a {self.scope} attribute")
        if self.command == "set" and self.value is None:
            raise MalformedMessage("field 'value' is needed to set an attribute")


class AttributeReply(Message):
    """The value read (None: the attribute is not set), or the CIB version a change was written as."""

    KIND = REPLY
    value: str | None = None
    version: str | None = None


class NodesRequest(Message):
    KIND = "nodes"


class NodeInfo(Message):
    KIND = "node"
    name: str
    id: str
    online: bool


class NodesReply(Message):
    """The nodes the CIB declares, with their membership state, and whether the partition has quorum."""

    KIND = REPLY
    nodes: list[NodeInfo]
    quorate: bool


# ------------------------------------------------------------------ envelopes

M = TypeVar("M", bound=Message)


def pack(message: Message, kind: str | None = None) -> bytes:
    """The envelope of a request or event (``kind`` defaults to the class's); replies use ``kind=REPLY``."""
    return encode(kind or message.KIND, message.to_body())


def unpack(data: bytes, cls: type[M]) -> M:
    """A received envelope of ``cls``'s kind, read and checked; MalformedMessage on any defect."""
    return cls.from_body(decode(data, cls.KIND).body)
