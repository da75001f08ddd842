"""``docs/asyncapi.json`` is what ``paceline.shared.asyncapi`` generates, covers every subject and message
class, agrees with the services' READMEs, and is a valid AsyncAPI 3.0 document by the AsyncAPI parser."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Annotated, Any

import pytest
from paceline.shared import asyncapi, messages, subjects
from paceline.shared.messages import Count, Message, Name, Params, field
from paceline.shared.subjects import Subjects

from tests.support import asyncapi as validator

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "asyncapi.json"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return asyncapi.document()


def test_the_committed_document_is_the_generated_one():
    assert COMMITTED.read_text(encoding="utf-8") == asyncapi.render(), (
        "docs/asyncapi.json is out of date: run python -m paceline.shared.asyncapi docs/asyncapi.json")


def test_the_check_mode_says_whether_a_file_is_current(tmp_path: Path, capsys):
    stale = tmp_path / "asyncapi.json"
    stale.write_text("{}\n")
    assert asyncapi.main(["--check", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert asyncapi.main([str(stale)]) == 0
    assert asyncapi.main(["--check", str(stale)]) == 0


def _subjects_of_every_member() -> dict[str, list[str]]:
    """Walked here on its own: each public member of Subjects and the subjects it makes, node parameters as
    ``*`` (what a channel's address matches with its node parameters as wildcards)."""
    s = Subjects("CLUSTER")
    out: dict[str, list[str]] = {}
    for name, member in inspect.getmembers(Subjects):
        if name.startswith("_"):
            continue
        if isinstance(member, property):
            out[name] = [getattr(s, name)]
        elif inspect.isfunction(member):
            params = list(inspect.signature(member).parameters)[1:]
            families = {"endpoint": getattr(subjects, f"{name.upper()}_ENDPOINTS", ("anything",)),
                        "role": subjects.NODE_PATCHERS}
            family = next((families[p] for p in params if p in families), ("",))
            out[name] = [member(s, *[value if p in families else "*" for p in params]) for value in family]
    return out


def test_every_subject_pattern_of_subjects_py_is_a_channel(document: dict[str, Any]):
    every_node = {c.every_node: c.id for c in asyncapi.channels()}
    in_document = {".".join("*" if t.startswith("{") and t != "{cluster}" else t for t in c["address"].split("."))
                   for c in document["channels"].values() if c["address"]}
    assert set(every_node) == in_document
    for name, made in _subjects_of_every_member().items():
        if name in ("cluster", "prefix", "cib_bucket") or name in asyncapi.GENERIC:
            continue  # not subjects: the name, the prefix, the KV bucket; and the builders of other builders
        for subject in made:
            spelled = subject.replace("paceline.CLUSTER.", "paceline.{cluster}.")
            assert spelled in in_document, f"Subjects.{name} makes {subject}, which is no channel"


def test_the_generic_builders_make_only_subjects_of_other_builders():
    """``policy(endpoint)`` is left out of the walk: each subject it makes has a builder of its own."""
    s = Subjects("CLUSTER")
    named = {s.policy_alive("*"), s.policy_status("*"), s.policy_explain}
    used = {s.policy(f"alive.{'*'}"), s.policy(f"status.{'*'}"), s.policy("explain")}
    assert used == named and set(asyncapi.GENERIC) == {"policy"}


def test_the_catalog_and_the_channels_agree():
    """``subjects.catalog()`` (the READMEs' check) and the walk find the same subjects."""
    catalogue = {c.replace("<c>", "{cluster}").replace(".<node>", ".*") for c in subjects.catalog()}
    walked = {p.subject.replace("{node}", "*").replace("{dc}", "*") for p in asyncapi.patterns()}
    assert catalogue == walked


def test_every_message_class_is_in_the_document(document: dict[str, Any]):
    classes = {name for name, cls in inspect.getmembers(messages, inspect.isclass)
               if issubclass(cls, Message) and cls is not Message and cls.__module__ == messages.__name__}
    assert classes == set(document["components"]["schemas"])


def test_a_subject_without_traffic_stops_the_generation(monkeypatch):
    monkeypatch.delitem(asyncapi.TRAFFIC, "transition")
    with pytest.raises(ValueError, match=r"no entry for \['transition'\]"):
        asyncapi.channels()


def test_traffic_for_no_subject_stops_the_generation(monkeypatch):
    monkeypatch.setitem(asyncapi.TRAFFIC, "gateway:nothing", asyncapi.Traffic(messages.NodesRequest))
    with pytest.raises(ValueError, match="no subject for"):
        asyncapi.channels()


def test_requests_are_operations_with_a_reply_and_events_are_sent(document: dict[str, Any]):
    ops = document["operations"]
    serve = ops["serveExecutorAction"]
    assert serve["action"] == "receive" and serve["tags"] == [{"name": "executor"}]
    assert [m["$ref"] for m in serve["reply"]["messages"]] == [
        "#/channels/reply/messages/OperationResultReply", "#/channels/reply/messages/ErrorReply"]
    event = ops["publishExecutorEvent"]
    assert event["action"] == "send" and "reply" not in event
    assert document["components"]["messages"]["OperationResult"]["payload"]["properties"]["kind"] == {
        "const": "op.result"}
    assert document["components"]["messages"]["OperationResultReply"]["payload"]["properties"]["kind"] == {
        "const": "reply"}


def test_node_parameters_and_wildcards(document: dict[str, Any]):
    channel = document["channels"]["policyFenced"]
    assert channel["address"] == "paceline.{cluster}.policy.fenced.{dc}"
    assert set(channel["parameters"]) == {"cluster", "dc"}
    assert channel["x-paceline-wildcard"] == "paceline.{cluster}.policy.fenced.*"
    assert channel["x-paceline-publishers"] == ["policy"]


def test_who_may_publish_comes_from_the_permissions(document: dict[str, Any]):
    assert document["channels"]["executorAction"]["x-paceline-publishers"] == ["policy"]
    assert "observer" in document["channels"]["membershipHeartbeat"]["x-paceline-subscribers"]
    assert "observer" in document["channels"]["gatewayStatus"]["x-paceline-publishers"]


def test_channel_of_a_received_subject():
    catalogue = asyncapi.channels()

    def found(subject: str) -> str:
        channel = asyncapi.channel_of(subject, "lab", catalogue)
        return channel.id if channel else ""

    assert found("paceline.lab.executor.event.n1") == "executorEvent"
    assert found("paceline.lab.cib.patch") == "cibPatch"
    assert found("paceline.lab.cib.patch.executor.n1") == "cibPatchExecutor"
    assert asyncapi.channel_of("paceline.other.cib.patch", "lab", catalogue) is None
    assert asyncapi.channel_of("paceline.lab.cib.bogus", "lab", catalogue) is None


@pytest.mark.parametrize(("pattern", "subject", "match"), [
    ("a.*.c", "a.b.c", True), ("a.>", "a.b.c", True), ("a.>", "a", False), ("a.*", "a.b.c", False),
    ("a.b", "a.b", True), ("a.b", "a.c", False), ("*", "a", True),
])
def test_tokens_match(pattern: str, subject: str, match: bool):
    assert asyncapi.tokens_match(pattern, subject) is match


@pytest.mark.parametrize(("a", "b", "overlap"), [
    (">", "a.b", True), ("a.*.c", "a.b.*", True), ("a.b", "a.c", False), ("a.>", "a", False),
    ("a.*", "a.b.c", False), ("x.heartbeat.*", "x.heartbeat.n1", True),
])
def test_tokens_overlap(a: str, b: str, overlap: bool):
    assert asyncapi.tokens_overlap(a, b) is overlap
    assert asyncapi.tokens_overlap(b, a) is overlap


class _Sample(Message):
    """A sample.

    Second paragraph."""

    KIND = "sample"
    name: Name
    count: Count
    ratio: float
    #: Labels, as the sender
    #: chose them.
    tags: tuple[str, ...] = ()
    params: Params = field(default_factory=dict)
    maybe: str | None = None
    gone: int | None = field(default=None, metadata=messages.OMIT_NONE)
    anything: Any = None
    agent: messages.AgentSpec | None = None
    token: Annotated[str, messages.TOKEN] = "x"
    renamed: str = field(default="", metadata=messages.wire("class"))


def test_body_schema_follows_the_annotations():
    schema = asyncapi.body_schema(_Sample)
    props = schema["properties"]
    assert schema["required"] == ["name", "count", "ratio"]
    assert schema["description"] == "A sample.\n\nSecond paragraph."
    assert props["name"] == {"type": "string", "minLength": 1}
    assert props["count"] == {"type": "integer", "minimum": 0}
    assert props["ratio"] == {"type": "number"}
    assert props["tags"] == {"type": "array", "items": {"type": "string"}, "description": "Labels, as the sender chose "
                             "them.", "default": []}
    assert props["params"]["additionalProperties"]["type"] == ["string", "number", "boolean"]
    assert props["maybe"] == {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
    assert props["gone"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    assert props["anything"] == {"default": None}
    assert props["agent"] == {"anyOf": [{"$ref": "#/components/schemas/AgentSpec"}, {"type": "null"}],
                              "default": None}
    assert props["token"]["pattern"] == "^[A-Za-z0-9_-]+$"
    assert "class" in props and "renamed" not in props


def test_a_rule_without_a_schema_is_refused():
    odd = messages.Rule(lambda v: v % 2 == 1, "must be odd")
    with pytest.raises(TypeError, match="must be odd"):
        asyncapi.type_schema(Annotated[int, odd])
    with pytest.raises(TypeError, match="no JSON Schema"):
        asyncapi.type_schema(set[int])


SERVICES = ("membership", "cib-store", "executor", "policy", "gateway")
CLASS = re.compile(r"`([A-Z][A-Za-z]+)`")


def _readme_rows() -> list[tuple[str, str]]:
    """(service, row) for every row of the services' bus tables where the service serves or publishes."""
    rows = []
    for service in SERVICES:
        for line in (ROOT / "services" / service / "README.md").read_text().splitlines():
            cells = line.split("|")
            if line.startswith("|") and len(cells) > 3 and re.search(r"serve|publish", cells[2]):
                rows.append((service, line))
    return rows


def test_the_readmes_name_the_message_of_each_channel_their_service_serves_or_publishes():
    rows = _readme_rows()
    for channel in asyncapi.channels():
        spelled = channel.address.replace("{cluster}", "<c>").replace("{node}", "<node>").replace("{dc}", "<node>")
        wild = channel.every_node.replace("{cluster}", "<c>")
        found = [row for _, row in rows if f"`{spelled}`" in row or f"`{wild}`" in row]
        assert found, f"no README row serves or publishes {spelled}"
        named = {name for row in found for name in CLASS.findall(row)}
        reply = channel.traffic.reply
        replied = reply is not None and any("→" in row for row in found)
        expected = {channel.traffic.message.__name__, *([reply.__name__] if reply and replied else [])}
        assert expected <= named, f"{spelled}: the README names {sorted(named)}, the document {sorted(expected)}"


def test_the_document_is_valid_asyncapi_by_the_asyncapi_parser():
    where, why = validator.validator()
    if where is None:
        pytest.skip(why)
    valid, findings = validator.check(where, COMMITTED)
    assert valid, json.dumps(findings, indent=1)


def test_the_validator_refuses_a_broken_document(tmp_path: Path):
    """The check can fail: a dangling reference and a wrong schema type are errors."""
    where, why = validator.validator()
    if where is None:
        pytest.skip(why)
    broken = json.loads(COMMITTED.read_text())
    broken["operations"]["serveCibQuery"]["reply"]["messages"][0]["$ref"] = "#/channels/reply/messages/Nope"
    broken["components"]["schemas"]["CibQuery"]["properties"]["fresh"]["type"] = "strin"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    valid, findings = validator.check(where, path)
    assert not valid
    assert {f["code"] for f in findings} >= {"invalid-ref", "asyncapi-document-resolved"}


def test_message_bodies_match_their_payload_schemas():
    """Bodies the message classes write validate against the document's schemas (ajv), and a body missing a
    required field or of a wrong type does not."""
    where, why = validator.validator()
    if where is None:
        pytest.skip(why)
    action = messages.ActionRequest(task="start", rsc="d1", node="n1", agent=messages.AgentSpec("ocf", "Dummy",
                                    "paceline"), id=3, term=2, transition=1, params={"a": "1"}, members=("n1",))
    view = messages.MembershipViewMessage(node="n1", incarnation="x", ring_id=4, members=("n1", "n2"), quorate=True)
    good = [("executorAction", action), ("membershipView", view),
            ("executorEvent", messages.OperationResult(rsc="d1", task="start", interval_ms=0, rc=0))]
    samples = [{"channel": c, "payload": {"v": 1, "kind": msg.KIND, "body": msg.to_body()}} for c, msg in good]
    valid, findings = validator.check(where, COMMITTED, samples)
    assert valid, json.dumps(findings, indent=1)
    bad_body = {**action.to_body(), "term": -1}
    del bad_body["rsc"]
    bad = [{"channel": "executorAction", "payload": {"v": 1, "kind": "action", "body": bad_body}},
           {"channel": "membershipView", "payload": {"v": 1, "kind": "heartbeat", "body": view.to_body()}}]
    valid, findings = validator.check(where, COMMITTED, bad)
    assert not valid
    assert sum(1 for f in findings if "errors" in f) == 2
