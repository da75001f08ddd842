"""``paceline events``: its options, the filter, and how one message becomes a line (decoded, checked, short)."""

from __future__ import annotations

import json

import msgpack
import pytest
from paceline.cli import events
from paceline.cli.invocation import CliError
from paceline.shared import asyncapi, codec, messages
from paceline.shared.messages import pack

CATALOGUE = asyncapi.channels()
PREFIX = "paceline.lab."
WHEN = 1796592181.25  # 2026-12-06T21:23:01.250Z


def event(subject: str, data: bytes) -> events.Event:
    return events.decode(PREFIX + subject, data, "lab", CATALOGUE)


def result(**extra) -> messages.OperationResult:
    return messages.OperationResult(rsc="web", task="start", interval_ms=0, rc=0, **extra)


def test_options():
    chosen = events.parse(["--json", "--count", "3", "--timeout=2.5", "executor.event.*"])
    assert (chosen.json, chosen.count, chosen.timeout, chosen.filter, chosen.all) == (True, 3, 2.5, "executor.event.*",
                                                                                        False)
    assert events.parse([]).filter == ">"
    assert events.parse(["--help"]).help


@pytest.mark.parametrize(("args", "error"), [
    (["--count", "0"], "--count takes a positive whole number, not '0'"),
    (["--count", "x"], "--count takes a positive whole number"),
    (["--timeout", "nan"], "--timeout takes a positive number"),
    (["--timeout"], "--timeout needs a value"),
    (["--colour"], "unknown option '--colour'"),
    (["a.b", "c"], "one FILTER only"),
    (["cib..changed"], "not a subject filter"),
    (["cib.>.x"], "not a subject filter"),
    (["cib.chan*"], "not a subject filter"),
    (["cib changed"], "not a subject filter"),
])
def test_bad_options_are_one_line_errors(args: list[str], error: str):
    with pytest.raises(CliError, match=error.replace("*", r"\*")) as caught:
        events.parse(args)
    assert "\n" not in str(caught.value)


def test_a_cib_file_has_no_bus_to_follow():
    from paceline.cli.invocation import Options

    with pytest.raises(CliError, match="events needs a live cluster"):
        events.command(Options(cib_file="cib.xml"), [])


def test_the_filter_is_below_the_cluster_prefix():
    assert events.subscription("lab", ">") == "paceline.lab.>"
    assert events.subscription("lab", "executor.event.*") == "paceline.lab.executor.event.*"
    assert events.subscription("lab", "paceline.lab.cib.changed") == "paceline.lab.cib.changed"
    with pytest.raises(CliError, match=r"not below paceline\.lab\."):
        events.subscription("lab", "paceline.other.cib.changed")


@pytest.mark.parametrize(("args", "shown"), [
    ([], False), (["--all"], True), (["membership.heartbeat.*"], True), (["membership.heartbeat.n1"], True),
    (["policy.alive.*"], True), (["membership.>"], False), (["policy.>"], False), (["cib.>"], False),
])
def test_keepalives_only_when_asked_for(args: list[str], shown: bool):
    assert events.keepalives_shown(events.parse(args), "lab", CATALOGUE) is shown


def test_an_event_is_decoded_and_checked():
    got = event("executor.event.n1", pack(result(node="n1", call_id=7)))
    assert got.channel is not None and got.channel.id == "executorEvent"
    assert (got.kind, got.problem) == ("op.result", "")
    assert got.body["rsc"] == "web"


def test_a_text_line_shows_the_fields_not_at_their_default(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    import time

    time.tzset()
    line = events.text_line(event("executor.event.n1", pack(result(node="n1", call_id=7))), WHEN, PREFIX)
    assert line == "21:23:01.250 executor.event.n1 op.result rsc=web task=start interval_ms=0 rc=0 call_id=7 node=n1"


def test_a_json_line_carries_the_whole_message():
    line = events.json_line(event("executor.event.n1", pack(result(node="n1"))), WHEN)
    parsed = json.loads(line)
    assert parsed["time"] == "2026-12-06T21:23:01.250Z"
    assert parsed["subject"] == "paceline.lab.executor.event.n1"
    assert (parsed["channel"], parsed["type"], parsed["kind"]) == ("executorEvent", "event", "op.result")
    assert parsed["message"] == result(node="n1").to_body()
    assert parsed["parameters"] == {"node": "n1"}
    assert "malformed" not in parsed and "\n" not in line


def test_requests_are_marked_as_such():
    parsed = json.loads(events.json_line(event("gateway.crm", pack(messages.CrmRequest(lines=["status"]))), WHEN))
    assert (parsed["channel"], parsed["type"], parsed["kind"]) == ("gatewayCrm", "request", "crm")
    assert "parameters" not in parsed
    fenced = event("policy.fenced.n2", pack(messages.Fenced(target="n1", action="reboot", result="ok")))
    assert json.loads(events.json_line(fenced, WHEN))["parameters"] == {"dc": "n2"}


def test_not_msgpack_is_malformed_not_a_crash():
    got = event("cib.changed", b"\xc1garbage")
    assert got.problem.startswith("not msgpack") and got.body is None
    line = events.text_line(got, WHEN, PREFIX)
    assert " cib.changed MALFORMED (not msgpack" in line and "8 bytes)" in line
    parsed = json.loads(events.json_line(got, WHEN))
    assert parsed["malformed"].startswith("not msgpack") and parsed["size"] == 8 and parsed["message"] is None


def test_a_wrong_kind_or_a_mistyped_field_is_malformed():
    wrong_kind = event("cib.changed", pack(messages.DcAnnouncement(node="n1", term=3)))
    assert wrong_kind.problem == "expected a cib.changed message, got 'dc'"
    mistyped = event("policy.dc", codec.encode("dc", {"node": "n1", "term": "three"}))
    assert mistyped.problem == "field 'term' has type str, expected an integer"
    line = events.text_line(mistyped, WHEN, PREFIX)
    assert "policy.dc dc MALFORMED (field 'term' has type str, expected an integer;" in line
    assert line.endswith("node=n1 term=three")
    not_a_map = msgpack.packb({"v": 1, "kind": "dc", "body": []})
    assert "MALFORMED (envelope lacks" in events.text_line(event("policy.dc", not_a_map), WHEN, PREFIX)
    newer = event("policy.dc", msgpack.packb({"v": 2, "kind": "dc", "body": {}}))
    assert "unsupported schema version 2" in newer.problem


def test_an_unknown_subject_is_shown_decoded():
    got = event("something.new", codec.encode("new", {"a": 1}))
    assert got.channel is None and got.problem == "" and got.kind == "new"
    parsed = json.loads(events.json_line(got, WHEN))
    assert parsed["channel"] is None and parsed["message"] == {"a": 1}


def test_values_are_short_on_a_text_line():
    assert events.short("<cib>" + "x" * 100) == "<105 chars>"
    assert events.short("two\nlines") == "<9 chars>"
    assert events.short("has space") == '"has space"'
    assert events.short("") == '""'
    assert events.short(["a", "b"]) == "[a,b]"
    assert events.short(list(range(10))) == "[0,1,2,3,4,5,+4]"
    assert events.short([{"op": "lrm_op"}]) == "[1 item]"
    assert events.short([[1], [2]]) == "[2 items]"
    assert events.short({"have-quorum": "1", "dc-uuid": "n1"}) == "{have-quorum=1,dc-uuid=n1}"
    assert events.short({"a": {"b": 1}}) == "{1 key}"
    assert events.short(None) == "null" and events.short(True) == "true" and events.short(b"ab") == "<2 bytes>"


def test_json_can_carry_anything_msgpack_decodes():
    weird = {"b": b"\x00\x01", "f": float("inf"), "ext": msgpack.ExtType(5, b"x"), "t": (1, 2)}
    assert events.plain(weird) == {"b": "base64:AAE=", "f": "inf", "ext": [5, "base64:eA=="], "t": [1, 2]}
    data = msgpack.packb({"v": 1, "kind": "x", "body": {"raw": b"\xff"}}, use_bin_type=True)
    assert json.loads(events.json_line(event("cib.changed", data), WHEN))["message"] == {"raw": "base64:/w=="}


def test_a_keepalive_is_left_out_unless_asked_for():
    beat = pack(messages.Heartbeat(node="n1", incarnation="i", ring_id=1, seq=2))
    quiet = events.Follower(events.parse([]), "lab")
    assert quiet.line(PREFIX + "membership.heartbeat.n1", beat, WHEN) is None
    assert quiet.line(PREFIX + "policy.dc", pack(messages.DcAnnouncement(node="n1", term=3)), WHEN)
    loud = events.Follower(events.parse(["--all"]), "lab")
    assert "heartbeat" in (loud.line(PREFIX + "membership.heartbeat.n1", beat, WHEN) or "")
