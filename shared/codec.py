"""The one wire codec: msgpack maps inside a versioned envelope.

Every payload is ``{"v": SCHEMA_VERSION, "kind": str, "body": {...}}``. The kind
lets a subscriber check it got the message it expects; the version lets a newer
service refuse (rather than misread) an envelope it does not understand. Any
defect raises :class:`MalformedMessage`, the single error type services catch
to count-and-drop bad input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgpack

SCHEMA_VERSION = 1


class MalformedMessage(ValueError):
    """A payload that is not a valid Paceline envelope (or not the kind expected)."""


@dataclass(frozen=True)
class Envelope:
    kind: str
    body: dict[str, Any]
    version: int = SCHEMA_VERSION


def encode(kind: str, body: dict[str, Any] | None = None) -> bytes:
    return msgpack.packb({"v": SCHEMA_VERSION, "kind": kind, "body": body or {}}, use_bin_type=True)


def decode(data: bytes, expect: str | tuple[str, ...] | None = None) -> Envelope:
    """Decode and check an envelope; ``expect`` names the acceptable kind(s)."""
    try:
        raw = msgpack.unpackb(data, raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises several unrelated types
        raise MalformedMessage(f"not msgpack: {exc}") from None
    if not isinstance(raw, dict):
        raise MalformedMessage(f"envelope is a {type(raw).__name__}, not a map")
    version, kind, body = raw.get("v"), raw.get("kind"), raw.get("body")
    if version != SCHEMA_VERSION:
        raise MalformedMessage(f"unsupported schema version {version!r} (this build speaks {SCHEMA_VERSION})")
    if not isinstance(kind, str) or not isinstance(body, dict):
        raise MalformedMessage("envelope lacks a string 'kind' or a map 'body'")
    if expect is not None:
        kinds = (expect,) if isinstance(expect, str) else expect
        if kind not in kinds:
            raise MalformedMessage(f"expected a {' or '.join(kinds)} message, got {kind!r}")
    return Envelope(kind=kind, body=body, version=version)


def field(body: dict[str, Any], name: str, typ: type | tuple[type, ...], default: Any = ...) -> Any:
    """Fetch a typed field from a decoded body, raising MalformedMessage when absent or mistyped."""
    if name not in body:
        if default is ...:
            raise MalformedMessage(f"missing field {name!r}")
        return default
    value = body[name]
    if not isinstance(value, typ) or (isinstance(value, bool) and typ in (int, (int,))):
        raise MalformedMessage(f"field {name!r} has type {type(value).__name__}")
    return value
