"""Every bus message kind: a valid body round-trips, a missing or wrongly typed field is refused by from_body.

One parametrised case per message class of :mod:`paceline.shared.messages`
(a class without a sample body here fails the test, so a new kind cannot go
untested). Each sample sets every field, so every field's check is exercised.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from paceline.shared import codec, messages
from paceline.shared.messages import MalformedMessage, Message

AGENT = {"class": "ocf", "provider": "paceline", "type": "Dummy"}
STONITH = {"class": "stonith", "provider": "", "type": "fence_paceline"}

#: A valid body of every message class, every field set.
SAMPLES: dict[type[Message], dict[str, Any]] = {
    messages.ErrorReply: {"code": "conflict", "message": "the CIB changed", "details": {"result": {"rc": 1}}},
    messages.Heartbeat: {"node": "n1", "incarnation": "ab12", "ring_id": 3, "seq": 7, "votes": 1,
                         "hears": ["n2"], "candidate": 3},
    messages.MembershipViewMessage: {
        "node": "n1", "incarnation": "ab12", "ring_id": 4, "members": ["n1", "n2"], "quorate": True,
        "total_votes": 2, "expected_votes": 3, "quorum": 2, "two_node": False, "waiting_for_all": False,
        "joined": ["n2"], "lost": ["n3"], "restarted": [], "dc": "n1"},
    messages.MembershipQuery: {},
    messages.CibChanged: {"old": "0.4.1", "new": "0.5.0", "scope": "configuration", "node": "", "client": "crm",
                          "ops": []},
    messages.CibQuery: {"fresh": True},
    messages.CibDocument: {"xml": "<cib/>", "version": "0.5.0", "stale": True},
    messages.CibReplace: {"xml": "<cib/>", "expected_version": "0.4.1", "client": "crm", "with_status": False},
    messages.CibModify: {"section": "resources", "xml": "<resources/>", "client": "cibadmin"},
    messages.CibPatch: {"node": "n1", "ops": [{"op": "lrm_clear"}], "client": "executor"},
    messages.CibErase: {"client": "cibadmin"},
    messages.CibCluster: {"attrs": {"have-quorum": "1", "dc-uuid": None}, "client": "policy"},
    messages.CibTickets: {"changes": {"ticketA": {"granted": "false", "standby": None}, "old": None}, "client": "crm"},
    messages.CibWriteReply: {"version": "0.5.1", "changed": True},
    messages.DcAnnouncement: {"node": "n1", "term": 2},
    messages.PolicyAlive: {"node": "n1", "incarnation": "abc"},
    messages.HistoryRequest: {},
    messages.ExecutorHistory: {"node": "n1", "incarnation": "abc", "seq": 4, "lrm": "<lrm/>"},
    messages.TransitionStarted: {"term": 2, "cib_version": "0.5.1", "transition_id": 9,
                                 "actions": [{"id": 1, "task": "start"}]},
    messages.Fenced: {"target": "n2", "action": "reboot", "result": "ok", "device": "fence1", "by": "n1", "dc": "n1",
                      "term": 2, "reason": "node lost", "error": "", "time": 1700000000.5},
    messages.PolicyStatusQuery: {},
    messages.PolicyStatus: {"node": "n1", "is_dc": True, "term": 2, "holder": "n1", "transition": 9,
                            "cib_copy": "0.5.12"},
    messages.ExplainRequest: {"rsc": "web"},
    messages.ExplainReply: {"text": "web on n1: 0\n"},
    messages.DcFactsQuery: {},
    messages.DcFacts: {"dc": "n1", "members": ["n1"], "gone": ["n2"], "unclean": [],
                       "fenced": {"n2": [{"op": "lrm_clear"}]}},
    messages.AgentSpec: AGENT,
    messages.ActionRequest: {
        "task": "monitor", "rsc": "web", "node": "n1", "agent": AGENT, "id": 4, "term": 2, "transition": 9,
        "interval_ms": 10000, "timeout_ms": 20000, "params": {"state": "/tmp/x"}, "meta": {"start-delay": "0"},
        "expected_rc": 0, "digest": "abc", "pseudo": False, "inputs": [1, 2], "dc": "n1", "members": ["n1", "n2"]},
    messages.OperationResult: {
        "rsc": "web", "task": "start", "interval_ms": 0, "rc": 0, "op_status": 0, "call_id": 3, "exec_ms": 12,
        "queue_ms": 0, "exit_reason": "", "digest": "abc", "transition_key": "4:9:0:paceline", "node": "n1",
        "last_rc_change": 1700000000, "expected_rc": 0},
    messages.MetadataRequest: {"agent": AGENT},
    messages.MetadataReply: {"xml": "<resource-agent/>", "info": {"name": "Dummy", "parameters": []}},
    messages.ValidateRequest: {"agent": AGENT, "params": {"fake": "1"}, "rsc": "web", "timeout_ms": 20000},
    messages.ValidateReply: {"node": "n1", "rc": 6, "op_status": 0, "exit_reason": "bad", "output": "",
                             "errors": "bad parameter", "exec_ms": 5},
    messages.AgentsRequest: {"type": "Dummy"},
    messages.AgentListing: {"classes": ["lsb", "ocf"], "ocf": {"paceline": ["Dummy"]}, "lsb": ["nginx"],
                            "stonith": ["fence_paceline"], "systemd": [], "service": ["nginx"],
                            "providers": ["paceline"]},
    messages.FenceRequest: {"agent": STONITH, "action": "reboot", "term": 2, "params": {"hosts": "n1 n2"},
                            "target": "n2", "port": "2", "timeout_ms": 60000, "dc": "n1",
                            "members": ["n1", "n3"]},
    messages.FenceReply: {"rc": 0, "op_status": 0, "exit_reason": "", "output": "n1\nn2\n"},
    messages.ResetRequest: {"dc": "n1", "term": 7},
    messages.StoppedResource: {"rsc": "web", "rc": 0},
    messages.ResetReply: {"stopped": [{"rsc": "web", "rc": 0}]},
    messages.RemoteLinkRequest: {"action": "open", "host": "n1", "dc": "n2", "members": ["n1", "n2"], "term": 3},
    messages.RemoteLinkReply: {"node": "r1", "host": "n1", "incarnation": "0123abcd"},
    messages.CrmRequest: {"lines": ["configure show"], "node": "n1", "script": False,
                          "options": {"core.ignore_missing_metadata": "yes"}},
    messages.CrmReply: {"output": "primitive web ...", "changed": False, "version": "0.5.1"},
    messages.StatusRequest: {"format": "text", "show": ["bynode", "inactive"]},
    messages.StatusReply: {"text": "Cluster Summary:", "version": "0.5.1", "errors": ["primitive 'x': no type"]},
    messages.CibCopyRequest: {},
    messages.CommitRequest: {"xml": "<cib/>", "expected_version": "0.5.1"},
    messages.CommitReply: {"version": "0.6.0", "changed": True},
    messages.GatewayAgentsRequest: {},
    messages.GatewayAgentListing: {"ocf": {"paceline": ["Dummy"]}, "lsb": []},
    messages.GatewayMetadataRequest: {"agent": {"class": "lsb", "provider": None, "type": "nginx"}},
    messages.AgentXml: {"xml": "<resource-agent/>"},
    messages.AttributeRequest: {"command": "set", "scope": "status", "name": "master-web", "node": "n1",
                                "value": "10", "utilization": False, "set_name": ""},
    messages.AttributeReply: {"value": "10", "version": "0.5.2"},
    messages.NodesRequest: {},
    messages.NodeInfo: {"name": "n1", "id": "1", "online": True},
    messages.NodesReply: {"nodes": [{"name": "n1", "id": "1", "online": True}], "quorate": True},
}

CLASSES = sorted((cls for _name, cls in inspect.getmembers(messages, inspect.isclass)
                  if issubclass(cls, Message) and cls is not Message), key=lambda cls: cls.__name__)


def wrong_type(value: Any) -> Any:
    """A value of another type than the sample's: what a field must refuse."""
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, (int, float)):
        return "7"
    if isinstance(value, str):
        return 7
    if isinstance(value, dict):
        return ["not", "a", "map"]
    if isinstance(value, list):
        return "not a list"
    return 7  # None (an optional text): a number is not text


def test_every_message_class_has_a_sample():
    assert sorted(cls.__name__ for cls in SAMPLES) == [cls.__name__ for cls in CLASSES]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_message_kind(cls: type[Message]):
    sample = SAMPLES[cls]
    # a valid body round-trips, also through the envelope
    message = cls.from_body(sample)
    assert message.to_body() == sample
    assert cls.from_body(message.to_body()) == message
    assert messages.unpack(messages.pack(message), cls) == message
    assert set(sample) == {f.wire for f in cls._fields()}, "the sample sets every field"
    for f in cls._fields():
        # a wrongly typed field is refused, named
        with pytest.raises(MalformedMessage, match=f"'{f.wire}"):
            cls.from_body({**sample, f.wire: wrong_type(sample[f.wire])})
        # a missing required field is refused, named; an optional one takes its default
        rest = {k: v for k, v in sample.items() if k != f.wire}
        if f.required:
            with pytest.raises(MalformedMessage, match=f"missing field '{f.wire}'"):
                cls.from_body(rest)
        else:
            try:
                assert getattr(cls.from_body(rest), f.name) == f.make_default()
            except MalformedMessage as exc:  # a rule across fields needs it in this sample (an ocf provider)
                assert f"'{f.wire}'" in str(exc)
    with pytest.raises(MalformedMessage, match="expected a map"):
        cls.from_body(["not", "a", "map"])


def test_unknown_fields_are_ignored_and_the_envelope_kind_is_checked():
    body = {**SAMPLES[messages.CibChanged], "added-later": 1}
    assert messages.CibChanged.from_body(body) == messages.CibChanged.from_body(SAMPLES[messages.CibChanged])
    with pytest.raises(MalformedMessage, match=r"expected a cib\.changed message, got 'heartbeat'"):
        messages.unpack(codec.encode("heartbeat", body), messages.CibChanged)


@pytest.mark.parametrize(("cls", "change", "needle"), [
    (messages.Heartbeat, {"node": "bad.name"}, "'node' may only contain"),
    (messages.Heartbeat, {"incarnation": ""}, "'incarnation' must not be empty"),
    (messages.Heartbeat, {"seq": -1}, "'seq' must not be negative"),
    (messages.Heartbeat, {"ring_id": True}, "'ring_id' has type bool"),
    (messages.ActionRequest, {"agent": {"class": "ocf", "type": "Dummy"}}, "'agent.provider': an ocf agent"),
    (messages.ActionRequest, {"agent": {"class": "", "type": "Dummy"}}, "'agent.class' must not be empty"),
    (messages.ActionRequest, {"params": {"a": [1]}}, "'params.a' has type list"),
    (messages.ActionRequest, {"interval_ms": -5}, "'interval_ms' must not be negative"),
    (messages.ActionRequest, {"rsc": ""}, "'rsc' must not be empty"),
    (messages.CibPatch, {"ops": ["lrm_clear"]}, r"'ops\[0\]' has type str"),
    (messages.ResetReply, {"stopped": [{"rsc": "web"}]}, r"missing field 'stopped\[0\].rc'"),
    (messages.RemoteLinkRequest, {"action": "reboot", "host": "n1"}, r"'action': 'reboot' is not one of"),
    (messages.AttributeRequest, {"command": "rename"}, "'command' is 'rename'"),
    (messages.AttributeRequest, {"scope": "cluster"}, "'scope' is 'cluster'"),
    (messages.AttributeRequest, {"node": ""}, "'node' is needed"),
    (messages.AttributeRequest, {"value": None}, "'value' is needed"),
])
def test_value_rules(cls: type[Message], change: dict[str, Any], needle: str):
    with pytest.raises(MalformedMessage, match=needle):
        cls.from_body({**SAMPLES[cls], **change})


def test_conversions():
    action = messages.ActionRequest.from_body({**SAMPLES[messages.ActionRequest],
                                               "params": {"n": 3, "on": True, "x": 1.5}})
    assert action.params == {"n": "3", "on": "true", "x": "1.5"}  # agents get text, booleans as Pacemaker's
    view = messages.MembershipViewMessage.from_body(SAMPLES[messages.MembershipViewMessage])
    assert view.members == ("n1", "n2")  # immutable, and a list again on the wire
    assert messages.Fenced.from_body({**SAMPLES[messages.Fenced], "time": 3}).time == 3.0
    assert messages.AgentListing().to_body().get("providers", "absent") == "absent"  # no type asked: no providers
    assert messages.ErrorReply("internal", "boom").to_body() == {"code": "internal", "message": "boom"}


def test_messages_are_immutable_records():
    beat = messages.Heartbeat("n1", "ab", 1, 2)
    assert beat == messages.Heartbeat(node="n1", incarnation="ab", ring_id=1, seq=2, votes=1)
    assert len({beat, messages.Heartbeat("n1", "ab", 1, 2)}) == 1
    assert repr(beat) == "Heartbeat(node='n1', incarnation='ab', ring_id=1, seq=2, votes=1, hears=(), candidate=0)"
    with pytest.raises(AttributeError):
        beat.seq = 3  # type: ignore[misc]
    with pytest.raises(TypeError, match="needs field 'seq'"):
        messages.Heartbeat("n1", "ab", 1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="has no field 'color'"):
        messages.Heartbeat("n1", "ab", 1, 2, color="red")  # type: ignore[call-arg]
