"""The one wire codec: msgpack maps inside a versioned envelope.

Every payload is ``{"v": SCHEMA_VERSION, "kind": str, "body": {...}}``. The kind
lets a subscriber check it got the message it expects; the version lets a newer
service refuse (rather than misread) an envelope it does not understand. Any
defect raises :class:`MalformedMessage`, the single error type services catch
to count-and-drop bad input.

A body whose msgpack is larger than :data:`COMPRESS_OVER` travels zlib-compressed
instead (``"z": bytes`` in place of ``"body"``): a whole CIB is XML, which
compresses tenfold, and NATS refuses any message over its ``max_payload`` (1 MiB
by default) - a cluster with a few hundred resources would otherwise stop being
able to read its own CIB. Decompression is capped at :data:`MAX_BODY`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import msgpack

SCHEMA_VERSION = 1
#: Bodies packed larger than this are sent compressed.
COMPRESS_OVER = 64 * 1024
#: The largest body a compressed envelope may unpack to (a bomb is a malformed message, not an outage).
MAX_BODY = 64 * 1024 * 1024


class MalformedMessage(ValueError):
    """A payload that is not a valid Paceline envelope (or not the kind expected)."""


@dataclass(frozen=True)
class Envelope:
    kind: str
    body: dict[str, Any]
    version: int = SCHEMA_VERSION


def encode(kind: str, body: dict[str, Any] | None = None) -> bytes:
    packed = msgpack.packb(body or {}, use_bin_type=True)
    if len(packed) > COMPRESS_OVER:
        return msgpack.packb({"v": SCHEMA_VERSION, "kind": kind, "z": zlib.compress(packed, 1)}, use_bin_type=True)
    return msgpack.packb({"v": SCHEMA_VERSION, "kind": kind, "body": body or {}}, use_bin_type=True)


def _inflate(data: Any) -> Any:
    """The body of a compressed envelope, refusing anything that is not one or would unpack too large."""
    if not isinstance(data, bytes):
        raise MalformedMessage("compressed body is not bytes")
    inflater = zlib.decompressobj()
    try:
        packed = inflater.decompress(data, MAX_BODY)
    except zlib.error as exc:
        raise MalformedMessage(f"compressed body does not inflate: {exc}") from None
    if inflater.unconsumed_tail:
        raise MalformedMessage(f"compressed body unpacks to more than {MAX_BODY} bytes")
    try:
        return msgpack.unpackb(packed, raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises several unrelated types
        raise MalformedMessage(f"compressed body is not msgpack: {exc}") from None


def decode(data: bytes, expect: str | tuple[str, ...] | None = None) -> Envelope:
    """Decode and check an envelope; ``expect`` names the acceptable kind(s)."""
    try:
        raw = msgpack.unpackb(data, raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises several unrelated types
        raise MalformedMessage(f"not msgpack: {exc}") from None
    if not isinstance(raw, dict):
        raise MalformedMessage(f"envelope is a {type(raw).__name__}, not a map")
    version, kind, body = raw.get("v"), raw.get("kind"), raw.get("body")
    if "z" in raw and body is None:
        body = _inflate(raw["z"])
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
