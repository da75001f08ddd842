"""``paceline events``: the bus as it happens, one decoded line per message, for people and for scripts.

Every message under the cluster's prefix is decoded (msgpack envelope -> fields) and checked against the
message class its subject carries (:mod:`paceline.shared.asyncapi` knows which), so a line says what a
service would make of it: a message that is not an envelope, has the wrong kind or a missing or mistyped
field is printed as ``MALFORMED`` with the reason, never a crash. ``--json`` prints one JSON object a line
for ``jq`` (``time``, ``subject``, ``channel``, ``type``, ``kind``, ``message``; the node ``parameters`` of a
per-node subject; ``malformed`` when it is); without it a short line: the time, the subject below the
prefix, the kind and the fields that differ from their defaults.

The FILTER is a NATS subject filter below ``paceline.<cluster>.`` (``executor.event.*``, ``cib.>``,
``policy.dc``; a whole subject with the prefix is accepted too). The keep-alives (heartbeats, policy
``alive``) are left out unless ``--all`` or the filter matches nothing else. Replies travel to the
requesters' own inboxes, which no other credential may read: requests are shown, their answers are not.
Ctrl-C or SIGTERM ends it with status 0; ``--count N`` after N lines, ``--timeout SECONDS`` after that long
(status 1 if ``--count`` lines had not come by then).
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import os
import signal
import sys
import time
from dataclasses import dataclass
from typing import Any, NamedTuple

from paceline.cli.invocation import CliError, Options, gateway_client
from paceline.shared import asyncapi, codec
from paceline.shared.asyncapi import Channel

USAGE = "events [--json] [--all] [--count N] [--timeout SECONDS] [FILTER]"
HELP = f"""\
usage: paceline {USAGE}
The cluster's bus messages as they happen, decoded, one line each (the channels and the messages'
fields are in docs/asyncapi.json).
  FILTER             a NATS subject filter below paceline.<cluster>. (default: everything), e.g.
                     executor.event.*, cib.>, policy.transition
  --json             one JSON object a line: time, subject, channel, type, kind, message, parameters (a
                     per-node subject's node), malformed and size (a message the services would refuse)
  --all              the keep-alives too (heartbeats, policy alive): left out unless the filter matches
                     only them
  --count N          stop after N lines
  --timeout SECONDS  stop after that long (status 1 if --count lines had not come by then)
Ctrl-C stops it (status 0). Requests are shown, not their replies (they go to the requester's inbox).
"""
#: A string longer than this (or on several lines) is shown by its length on a text line.
LONGEST_TEXT = 48
#: Items of a list, or keys of a map, a text line shows before it says how many more there are.
MOST_ITEMS = 6


@dataclass
class EventOptions:
    json: bool = False
    all: bool = False
    count: int | None = None
    timeout: float | None = None
    filter: str = ">"
    filtered: bool = False
    help: bool = False


def _number(flag: str, text: str, kind: type) -> Any:
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value <= 0:
        raise CliError(f"events: {flag} takes a positive {'whole ' if kind is int else ''}number, not {text!r}")
    return value


def parse(args: list[str]) -> EventOptions:
    """The command's own options; a bad one is a one-line error."""
    out = EventOptions()
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, value = arg.partition("=")
        if name in ("--count", "--timeout"):
            if not eq:
                i += 1
                if i >= len(args):
                    raise CliError(f"events: {name} needs a value")
                value = args[i]
            if name == "--count":
                out.count = _number(name, value, int)
            else:
                out.timeout = _number(name, value, float)
        elif arg == "--json":
            out.json = True
        elif arg == "--all":
            out.all = True
        elif arg in ("-h", "--help"):
            out.help = True
        elif arg.startswith("-"):
            raise CliError(f"events: unknown option {arg!r} (usage: paceline {USAGE})")
        elif out.filtered:
            raise CliError(f"events: one FILTER only, got {out.filter!r} and {arg!r}")
        else:
            check_filter(arg)
            out.filter, out.filtered = arg, True
        i += 1
    return out


def subscription(cluster: str, wanted: str) -> str:
    """The NATS subject to subscribe to for a FILTER below ``paceline.<cluster>.`` (or spelled with it)."""
    prefix = f"paceline.{cluster}."
    relative = wanted.removeprefix(prefix)
    if relative.startswith("paceline.") and relative.count(".") >= 2:
        raise CliError(f"events: {wanted!r} is not below {prefix} (the FILTER is relative to the cluster's prefix, "
                       "e.g. executor.event.*)")
    check_filter(relative)
    return prefix + relative


def check_filter(wanted: str) -> None:
    """Refuse what NATS would not take as a subject filter, before connecting."""
    tokens = wanted.split(".")
    bad = (not wanted or any(not t or any(c.isspace() for c in t) for t in tokens)
           or any(("*" in t or ">" in t) and t not in ("*", ">") for t in tokens) or ">" in tokens[:-1])
    if bad:
        raise CliError(f"events: {wanted!r} is not a subject filter (tokens separated by '.', '*' for one token, "
                       "'>' for all the rest, e.g. executor.event.* or cib.>)")


def keepalives_shown(options: EventOptions, cluster: str, catalogue: list[Channel]) -> bool:
    """Keep-alives flood a terminal: shown with ``--all``, or when the filter matches only keep-alives."""
    if options.all:
        return True
    wanted = subscription(cluster, options.filter)
    touched = [c for c in catalogue if asyncapi.tokens_overlap(wanted, c.in_cluster(cluster))]
    return bool(touched) and all(c.traffic.periodic for c in touched)


# ------------------------------------------------------------------ one message


class Event(NamedTuple):
    """One received message as decoded: ``problem`` says why it is malformed ("" when it is not)."""

    subject: str
    channel: Channel | None
    kind: str
    body: Any
    problem: str
    size: int


def decode(subject: str, data: bytes, cluster: str, catalogue: list[Channel]) -> Event:
    """Decode a message and check it as the service it is meant for would; never raises."""
    channel = asyncapi.channel_of(subject, cluster, catalogue)
    try:
        envelope = codec.decode(data)
    except codec.MalformedMessage as exc:
        return Event(subject, channel, "", None, str(exc), len(data))
    problem = ""
    if channel is not None:
        expected = channel.traffic.message
        if envelope.kind != expected.KIND:
            problem = f"expected a {expected.KIND} message, got {envelope.kind!r}"
        else:
            try:
                expected.from_body(envelope.body)
            except codec.MalformedMessage as exc:
                problem = str(exc)
    return Event(subject, channel, envelope.kind, envelope.body, problem, len(data))


def plain(value: Any) -> Any:
    """A decoded msgpack value as JSON can carry it (bytes as base64 text, non-finite numbers as text)."""
    if isinstance(value, dict):
        return {(k.decode("utf-8", "replace") if isinstance(k, bytes) else str(k)): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return "base64:" + base64.b64encode(value).decode()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)  # a msgpack extension type


def iso_time(when: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(when, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_line(event: Event, when: float) -> str:
    """One JSON object: time (UTC, ISO 8601), subject, channel (the AsyncAPI document's id), kind, message."""
    channel = event.channel
    out: dict[str, Any] = {"time": iso_time(when), "subject": event.subject,
                           "channel": channel.id if channel else None,
                           "type": ("request" if channel.traffic.reply else "event") if channel else None,
                           "kind": event.kind or None, "message": plain(event.body)}
    if channel is not None and len(channel.parameters) > 1:
        out["parameters"] = parameters(channel, event.subject)
    if event.problem:
        out["malformed"] = event.problem
        out["size"] = event.size
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


def parameters(channel: Channel, subject: str) -> dict[str, str]:
    """The channel's node parameters as this subject fills them (``{"node": "n1"}``; ``dc`` on policy.fenced)."""
    tokens = dict(zip(channel.address.split("."), subject.split("."), strict=False))
    return {name: tokens[f"{{{name}}}"] for name in channel.parameters if name != "cluster"}


def short(value: Any) -> str:
    """A field's value in a few characters: long texts (XML, agent output) by their length."""
    if isinstance(value, str):
        if "\n" in value or len(value) > LONGEST_TEXT:
            return f"<{len(value)} chars>"
        return value if value and not any(c.isspace() or c in "\"=,[]{}" for c in value) else json.dumps(value)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, (list, tuple)):
        if any(isinstance(v, (dict, list, tuple)) for v in value):
            return f"[{_many(len(value), 'item')}]"
        shown = [short(v) for v in value[:MOST_ITEMS]]
        more = [f"+{len(value) - MOST_ITEMS}"] if len(value) > MOST_ITEMS else []
        return "[" + ",".join(shown + more) + "]"
    if isinstance(value, dict):
        if len(value) > MOST_ITEMS or any(isinstance(v, (dict, list, tuple)) for v in value.values()):
            return f"{{{_many(len(value), 'key')}}}"
        return "{" + ",".join(f"{k}={short(v)}" for k, v in value.items()) + "}"
    return str(value)


def _many(count: int, thing: str) -> str:
    return f"{count} {thing}{'' if count == 1 else 's'}"


_DEFAULTS: dict[type, dict[str, Any]] = {}


def _defaults(cls: type) -> dict[str, Any]:
    """A message class's wire defaults, as the AsyncAPI document gives them (fields left at one are not shown)."""
    if cls not in _DEFAULTS:
        props = asyncapi.body_schema(cls)["properties"]
        _DEFAULTS[cls] = {name: schema["default"] for name, schema in props.items() if "default" in schema}
    return _DEFAULTS[cls]


def summary(event: Event) -> str:
    """``name=value`` for each field of the body that is not at its default."""
    if not isinstance(event.body, dict):
        return ""
    defaults = _defaults(event.channel.traffic.message) if event.channel and not event.problem else {}
    missing = object()
    return " ".join(f"{k}={short(v)}" for k, v in event.body.items() if defaults.get(k, missing) != v)


def text_line(event: Event, when: float, prefix: str) -> str:
    """``HH:MM:SS.mmm SUBJECT KIND field=value ...`` (the subject without the cluster's prefix)."""
    stamp = time.strftime("%H:%M:%S", time.localtime(when)) + f".{int(when * 1000) % 1000:03d}"
    words = [stamp, event.subject.removeprefix(prefix), event.kind]
    if event.problem:
        words.append(f"MALFORMED ({event.problem}; {event.size} bytes)")
    words.append(summary(event))
    return " ".join(word for word in words if word)


# ------------------------------------------------------------------ following the bus


class Follower:
    """Prints each message of the subscription as it comes, until enough were printed or it is told to stop."""

    def __init__(self, options: EventOptions, cluster: str):
        self.options, self.cluster = options, cluster
        self.prefix = f"paceline.{cluster}."
        self.catalogue = asyncapi.channels()
        self.keepalives = keepalives_shown(options, cluster, self.catalogue)
        self.printed = 0
        self.done = asyncio.Event()
        self.broken_pipe = False

    def line(self, subject: str, data: bytes, when: float) -> str | None:
        """The line for one message; None when it is not shown (a keep-alive)."""
        event = decode(subject, data, self.cluster, self.catalogue)
        if event.channel is not None and event.channel.traffic.periodic and not self.keepalives:
            return None
        return json_line(event, when) if self.options.json else text_line(event, when, self.prefix)

    async def on_message(self, msg: Any) -> None:
        if self.done.is_set():
            return
        shown = self.line(msg.subject, msg.data, time.time())
        if shown is None:
            return
        try:
            sys.stdout.write(shown + "\n")
            sys.stdout.flush()
        except BrokenPipeError:  # the reader went away (| head): nothing more to do
            self.broken_pipe = True
            self.done.set()
            return
        self.printed += 1
        if self.options.count is not None and self.printed >= self.options.count:
            self.done.set()

    async def follow(self, nc: Any, stop: asyncio.Event) -> str:
        """Subscribe, say so on stderr, and wait: returns why it ended (``""``: as asked)."""
        subject = subscription(self.cluster, self.options.filter)
        await nc.subscribe(subject, cb=self.on_message)
        await nc.flush()
        hidden = not self.keepalives and any(c.traffic.periodic and asyncapi.tokens_overlap(subject, c.in_cluster(
            self.cluster)) for c in self.catalogue)
        left_out = "; keep-alives left out (--all shows them)" if hidden else ""
        print(f"listening on {subject}{left_out}", file=sys.stderr, flush=True)
        deadline = None if self.options.timeout is None else time.monotonic() + self.options.timeout
        while not (self.done.is_set() or stop.is_set()):
            if nc.is_closed:
                return f"lost the bus after {self.printed} events"
            if deadline is not None and time.monotonic() >= deadline:
                wanted = self.options.count
                return f"{self.printed} of {wanted} events within {self.options.timeout:g} s" if wanted else ""
            wait = 0.5 if deadline is None else max(0.0, min(0.5, deadline - time.monotonic()))
            try:
                await asyncio.wait_for(self.done.wait(), wait)
            except TimeoutError:
                pass
        return ""


def command(opts: Options, args: list[str]) -> int:
    """``paceline events``: status 0 when ended as asked (Ctrl-C included), 1 if the bus is lost or --count is not
    reached within --timeout."""
    options = parse(args)
    if options.help:
        print(HELP, end="")
        return 0
    if opts.cib_file or opts.shadow:
        raise CliError("events needs a live cluster (it prints the bus's messages), not a CIB file or shadow")
    from paceline.client.gateway import ClientError

    client = gateway_client(opts)
    subscription(client.subjects.cluster, options.filter)  # a bad filter is refused before connecting
    follower = Follower(options, client.subjects.cluster)
    try:
        nc = client.connect()
    except ClientError as exc:
        client.close()
        raise CliError(str(exc)) from None
    stop = asyncio.Event()
    task = client.loop.create_task(follower.follow(nc, stop))

    def interrupt() -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        client.loop.add_signal_handler(sig, interrupt)
    try:
        ended = client.run(task)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            client.loop.remove_signal_handler(sig)
        client.close()
    if follower.broken_pipe:
        # stdout's reader is gone: point it at /dev/null so the interpreter's last flush does not complain
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if ended:
        raise CliError(ended)
    return 0
