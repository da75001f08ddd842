"""Every message kind a running service subscribes to or serves, sent malformed: counted, dropped, never fatal.

A whole one-node cluster in-process over a real nats-server (cib-store,
membership, executor, policy as DC, gateway). For each subject a service
listens on, a body of the right kind with a wrongly typed required field (or,
for kinds without fields, an envelope of another kind) is sent; the receiving
service must count it in ``paceline_malformed_messages_total`` under its own
name and the subject, answer a request with the ``malformed`` error, and go on
answering valid requests afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from paceline.cib_store.service import run as run_cib_store
from paceline.executor.__main__ import run as run_executor
from paceline.gateway.service import run as run_gateway
from paceline.membership.service import run as run_membership
from paceline.policy.service import run as run_policy
from paceline.shared import bus, codec, messages
from paceline.shared.messages import Message
from paceline.shared.subjects import Subjects
from prometheus_client import REGISTRY

from tests.servicekit import running
from tests.support.wait import until_async
from tests.unit.test_messages import SAMPLES

pytestmark = pytest.mark.integration
S = Subjects("default")
NODE = "n1"


@contextlib.asynccontextmanager
async def one_node(url: str, tmp_path: Path) -> AsyncIterator[Any]:
    """cib-store, then membership, executor, policy and gateway of NODE; yields once the policy is the DC."""
    async with contextlib.AsyncExitStack() as stack:
        store = await stack.enter_async_context(running("cib-store", run_cib_store, url, tmp_path / "cib"))
        await bus.request(store.nc, S.cib("replace"), "replace", {
            "xml": '<cib epoch="1" admin_epoch="0" num_updates="0"><configuration><crm_config/><nodes>'
                   f'<node id="1" uname="{NODE}"/></nodes><resources/><constraints/></configuration><status/></cib>'})
        for name, run, node in (("membership", run_membership, NODE), ("executor", run_executor, NODE),
                                ("policy", run_policy, NODE), ("gateway", run_gateway, "")):
            await stack.enter_async_context(running(name, run, url, tmp_path / name, node=node))
        await until_async(lambda: is_dc(store.nc), "the policy of n1 is the DC", 15)
        yield store


async def is_dc(nc: Any) -> bool:
    try:
        status = await bus.call(nc, S.policy_status(NODE), messages.PolicyStatusQuery(), messages.PolicyStatus,
                                timeout=1)
    except (bus.BusUnavailable, bus.RemoteError):
        return False
    return status.is_dc


def malformed(cls: type[Message]) -> bytes:
    """An envelope of ``cls``'s kind whose first required field has the wrong type; for a kind without fields
    (nothing in it can be wrong), an envelope of another kind."""
    required = [f for f in cls._fields() if f.required]
    if not required:
        return codec.encode(f"not-{cls.KIND}", {})
    first = required[0].wire
    wrong = 7 if isinstance(SAMPLES[cls][first], str) else "seven"
    return codec.encode(cls.KIND, {**SAMPLES[cls], first: wrong})


def count(service: str, subject: str) -> float:
    return REGISTRY.get_sample_value("paceline_malformed_messages_total",
                                     {"service": service, "subject": subject}) or 0.0


#: (service, subject, message class) of every request endpoint.
REQUESTS: list[tuple[str, str, type[Message]]] = [
    ("membership", S.membership_query(NODE), messages.MembershipQuery),
    *(("cib-store", S.cib(cls.KIND), cls) for cls in (messages.CibQuery, messages.CibReplace, messages.CibModify,
                                                      messages.CibPatch, messages.CibErase, messages.CibCluster)),
    *(("cib-store", S.cib_patch_by(role, NODE), messages.CibPatch) for role in ("executor", "membership")),
    ("executor", S.executor_action(NODE), messages.ActionRequest),
    *(("executor", S.executor(cls.KIND, NODE), cls) for cls in (messages.MetadataRequest, messages.AgentsRequest,
                                                               messages.FenceRequest, messages.ValidateRequest,
                                                               messages.ResetRequest)),
    ("policy", S.policy_status(NODE), messages.PolicyStatusQuery),
    ("policy", S.policy_explain, messages.ExplainRequest),
    *(("gateway", S.gateway(cls.KIND), cls) for cls in (
        messages.CrmRequest, messages.StatusRequest, messages.CibCopyRequest, messages.CommitRequest,
        messages.GatewayAgentsRequest, messages.GatewayMetadataRequest, messages.AttributeRequest,
        messages.NodesRequest)),
]

#: (subject published on, message class, the services subscribed to it).
EVENTS: list[tuple[str, type[Message], tuple[str, ...]]] = [
    (S.heartbeat(NODE), messages.Heartbeat, ("membership",)),  # only declared nodes' subjects are followed
    (S.cib_changed, messages.CibChanged, ("membership", "executor", "policy")),
    (S.fenced_by("intruder"), messages.Fenced, ("membership", "policy")),
    (S.view("intruder"), messages.MembershipViewMessage, ("policy",)),
    (S.executor_event("intruder"), messages.OperationResult, ("policy",)),
]


async def test_every_kind_sent_malformed_is_counted_and_the_services_keep_serving(nats_server, tmp_path):
    async with one_node(nats_server.url, tmp_path) as store:
        nc = store.nc
        for service, subject, cls in REQUESTS:
            before = count(service, subject)
            msg = await nc.request(subject, malformed(cls), timeout=5)
            reply = codec.decode(msg.data)
            assert (reply.kind, reply.body["code"]) == ("error", "malformed"), (subject, reply)
            assert count(service, subject) == before + 1, subject

        before_events = {(svc, subject): count(svc, subject) for subject, _cls, svcs in EVENTS for svc in svcs}
        for subject, cls, _services in EVENTS:
            await nc.publish(subject, malformed(cls))
        for (svc, subject), before in before_events.items():
            def counted(svc: str = svc, subject: str = subject, before: float = before) -> bool:
                return count(svc, subject) == before + 1

            await until_async(counted, f"{svc} counted the malformed message on {subject}", 5)

        # every service still answers
        await bus.call(nc, S.membership_query(NODE), messages.MembershipQuery(), messages.MembershipViewMessage)
        await bus.call(nc, S.cib("query"), messages.CibQuery(), messages.CibDocument)
        listing = await bus.call(nc, S.executor("agents", NODE), messages.AgentsRequest(type="Dummy"),
                                 messages.AgentListing)
        assert listing.providers is not None and "paceline" in listing.providers
        assert await is_dc(nc)
        nodes = await bus.call(nc, S.gateway("nodes"), messages.NodesRequest(), messages.NodesReply)
        assert [(n.name, n.online) for n in nodes.nodes] == [(NODE, True)]
