import zlib

import msgpack
import pytest
from paceline.shared import codec


def test_round_trip_keeps_kind_and_body():
    env = codec.decode(codec.encode("heartbeat", {"node": "a", "seq": 3}), expect="heartbeat")
    assert env.kind == "heartbeat" and env.body == {"node": "a", "seq": 3} and env.version == codec.SCHEMA_VERSION


@pytest.mark.parametrize("payload, needle", [
    (b"\xc1", "not msgpack"),
    (msgpack.packb([1, 2]), "not a map"),
    (msgpack.packb({"v": 99, "kind": "x", "body": {}}), "unsupported schema version 99"),
    (msgpack.packb({"v": 1, "kind": 5, "body": {}}), "lacks a string 'kind'"),
    (msgpack.packb({"v": 1, "kind": "x", "body": []}), "map 'body'"),
])
def test_malformed_payloads_raise_one_error_type(payload, needle):
    with pytest.raises(codec.MalformedMessage, match=needle):
        codec.decode(payload)


def test_unexpected_kind_is_malformed():
    with pytest.raises(codec.MalformedMessage, match="expected a query or patch message, got 'heartbeat'"):
        codec.decode(codec.encode("heartbeat"), expect=("query", "patch"))


def test_field_checks_presence_and_type():
    body = {"n": 1, "s": "x", "flag": True}
    assert codec.field(body, "n", int) == 1
    assert codec.field(body, "missing", str, "d") == "d"
    with pytest.raises(codec.MalformedMessage, match="missing field 'missing'"):
        codec.field(body, "missing", str)
    with pytest.raises(codec.MalformedMessage, match="field 's' has type str"):
        codec.field(body, "s", int)
    with pytest.raises(codec.MalformedMessage, match="field 'flag' has type bool"):
        codec.field(body, "flag", int)


def test_a_large_body_travels_compressed_and_comes_back_whole():
    big = {"xml": "<cib>" + "<primitive id='p' class='ocf'/>" * 100_000 + "</cib>"}
    data = codec.encode("doc", big)
    assert len(data) < codec.COMPRESS_OVER * 2 < len(big["xml"])  # under NATS's 1 MiB by far
    assert codec.decode(data, "doc").body == big
    assert len(codec.encode("small", {"a": 1})) < 64  # small bodies stay plain


@pytest.mark.parametrize("z, needle", [
    ("not bytes", "not bytes"),
    (b"not zlib", "does not inflate"),
    (zlib.compress(b"\xc1"), "not msgpack"),
    (zlib.compress(bytes(codec.MAX_BODY + 1)), "more than"),
])
def test_a_bad_compressed_body_is_malformed(z, needle):
    data = msgpack.packb({"v": codec.SCHEMA_VERSION, "kind": "doc", "z": z}, use_bin_type=True)
    with pytest.raises(codec.MalformedMessage, match=needle):
        codec.decode(data)
