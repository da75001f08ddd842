"""Who may publish and subscribe to what on the bus: one allow list per role, enforced by nats-server.

The services do not trust each other's good behaviour; the bus server refuses
a publish or a subscription outside the sender's allow list (NATS
``permissions``), so a stolen observer credential can read but not act, and a
node's credential cannot speak under another node's name. Everything here is
derived from :class:`paceline.shared.subjects.Subjects`, so a subject renamed
there is renamed here, and ``docs/bus.md``'s table is checked against
:func:`table` by a test.

Replies: a responder may answer the requests it received (``allow_responses``);
a requester subscribes to replies under its own inbox prefix only
(:func:`inbox_prefix`), so one role cannot read another's answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from paceline.shared.subjects import CIB_ENDPOINTS, EXECUTOR_ENDPOINTS, GATEWAY_ENDPOINTS, NODE_PATCHERS, Subjects

#: The services that run on every node, each with its own credential per node.
NODE_SERVICES = ("membership", "executor", "policy", "cib-store", "gateway")
#: Roles that are not tied to a node: the CLI and tools that change things, and read-only observers.
ADMIN, OBSERVER = "admin", "observer"
#: The one service of a remote node (pacemaker_remoted's place): an executor with no membership, no policy,
#: no store, reached through its connection resource (``paceline.executor.remote``); user ``remote@<node>``.
REMOTE = "remote"

#: Micro-service discovery ($SRV.PING/INFO/STATS): services answer it, anyone with a credential may ask.
SRV = "$SRV.>"
#: JetStream's API and the KV bucket subjects: only the cib-store holds the configuration's storage.
JETSTREAM = ("$JS.API.>", "$JS.ACK.>", "$JS.FC.>", "$KV.>")
#: JetStream's account info (usage, API errors): read-only, what the node exporter reports on the bus's storage.
JETSTREAM_INFO = "$JS.API.INFO"


@dataclass(frozen=True)
class Permissions:
    """One role's allow lists (NATS subject patterns)."""

    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    #: May answer requests it received (the reply subject is allowed once, for a while).
    responds: bool = True
    notes: str = field(default="", compare=False)


def user_name(role: str, node: str = "") -> str:
    """The name a credential goes by: ``admin``, ``observer`` or ``<service>@<node>``."""
    return f"{role}@{node}" if node else role


def inbox_prefix(user: str) -> str:
    """The reply-subject prefix of one user: its subscriptions to replies are limited to it."""
    return "_INBOX_" + user.replace("@", "_").replace(".", "_")


def permissions(s: Subjects, role: str, node: str = "") -> Permissions:
    """The allow lists of ``role`` (``admin``, ``observer`` or a node service with ``node``)."""
    inbox = inbox_prefix(user_name(role, node)) + ".>"
    p = s.prefix
    if role == OBSERVER:
        return Permissions(
            publish=(SRV, s.gateway("status"), s.policy_status("*"), s.membership_query("*")),
            subscribe=(inbox, f"{p}.>"), responds=False,
            notes="reads every event and asks for status; changes nothing")
    if role == ADMIN:
        return Permissions(
            publish=(SRV, f"{p}.gateway.>", *(s.cib(e) for e in CIB_ENDPOINTS), s.policy_status("*"), s.policy_explain,
                     s.policy_facts, s.membership_query("*"), s.executor("history", "*")),
            subscribe=(inbox, f"{p}.>"), responds=False,
            notes="the CLI and tools that change the configuration through the store's endpoints; no executor "
                  "actions, no heartbeats, never a node's status patch or the store's change events")
    if not node:
        raise ValueError(f"role {role!r} needs a node")
    by_role = {
        "membership": lambda: Permissions(
            publish=(SRV, s.heartbeat(node), s.view(node), s.cib("query"), s.cib_patch_by("membership", node),
                     s.executor("reset", node), s.policy_facts, JETSTREAM_INFO),
            subscribe=(inbox, SRV, s.heartbeats, s.membership_query(node), s.policy_alive(node), s.fenced,
                       s.cib_changed),
            notes="heartbeats and views under its own node's name; node_state entries in the CIB; JetStream's "
                  "account info (read-only) and the DC's facts for the node exporter"),
        "executor": lambda: Permissions(
            publish=(SRV, s.executor_event(node), s.cib("query"), s.cib_patch_by("executor", node),
                     s.membership_query(node),
                     s.gateway("attribute"), s.gateway("nodes"), s.executor("link", "*")),
            subscribe=(inbox, SRV, s.executor_action(node), *(s.executor(e, node) for e in EXECUTOR_ENDPOINTS),
                       s.view(node), s.cib_changed),
            notes="serves only its own node's executor subjects; reports results under its own node's name; "
                  "opens remote nodes' connections (executor.link)"),
        REMOTE: lambda: Permissions(
            publish=(SRV, s.executor_event(node), s.cib("query"), s.cib_patch_by("executor", node),
                     s.membership_query("*"), s.gateway("attribute"), s.gateway("nodes")),
            subscribe=(inbox, SRV, s.executor_action(node), *(s.executor(e, node) for e in EXECUTOR_ENDPOINTS),
                       s.views, s.fenced, s.cib_changed),
            notes="a remote node's executor: its own node's executor subjects and status only; follows the "
                  "view of the node its connection runs on; no heartbeat, view, policy or configuration write"),
        "policy": lambda: Permissions(
            publish=(SRV, s.executor_action("*"), s.executor("fence", "*"), s.executor("history", "*"), s.dc,
                     s.transition, s.fenced_by(node), s.policy_alive(node), s.membership_query(node),
                     *(s.cib(e) for e in ("query", "patch", "cluster"))),
            subscribe=(inbox, SRV, s.views, s.executor_events, s.dc, s.fenced, s.cib_changed,
                       s.policy_status(node), s.policy_explain, s.policy_facts),
            notes="the only role that sends executor actions, fencing requests and DC announcements"),
        "cib-store": lambda: Permissions(
            publish=(SRV, s.cib_changed, *JETSTREAM),
            subscribe=(inbox, SRV, *(s.cib(e) for e in CIB_ENDPOINTS), *(s.cib_patches_by(r) for r in NODE_PATCHERS)),
            notes="the only role with JetStream access: the configuration's storage"),
        "gateway": lambda: Permissions(
            publish=(SRV, *(s.cib(e) for e in ("query", "replace", "patch", "tickets")), s.policy_explain,
                     s.policy_facts, s.policy_status("*"), s.membership_query("*"),
                     *(s.executor(e, "*") for e in ("validate", "metadata", "agents", "history"))),
            subscribe=(inbox, SRV, *(s.gateway(e) for e in GATEWAY_ENDPOINTS), s.views, s.cib_changed),
            notes="answers the CLI and writes the configuration on its behalf"),
    }
    if role not in by_role:
        raise ValueError(f"unknown role {role!r} (one of: {', '.join((ADMIN, OBSERVER, *NODE_SERVICES, REMOTE))})")
    return by_role[role]()


def table(s: Subjects | None = None) -> list[tuple[str, str, str]]:
    """(role, publish, subscribe) rows for the documentation, ``<c>``/``<node>`` standing in for names."""
    s = s or Subjects("CLUSTER")
    rows = []
    for role in (*NODE_SERVICES, REMOTE, ADMIN, OBSERVER):
        perm = permissions(s, role, "" if role in (ADMIN, OBSERVER) else "NODE")

        def show(patterns: tuple[str, ...]) -> str:
            return ", ".join(f"`{x.replace('paceline.CLUSTER.', 'paceline.<c>.').replace('NODE', '<node>')}`"
                             for x in patterns)

        rows.append((role, show(perm.publish), show(perm.subscribe)))
    return rows


#: What each node service may write in the status section, by status-patch op (``paceline.shared.lrm``): an
#: executor its own node's operation history and transient attributes; membership node_state entries (its
#: own, and those of peers it lost).
STATUS_OPS_BY_ROLE = {
    "executor": frozenset({"lrm_op", "lrm_op_delete", "lrm_delete", "lrm_clear", "attr", "attr_incr",
                           "attr_clear_prefix"}),
    "membership": frozenset({"node_state"}),
}
#: The node_state attributes membership records (join state; never an operation's outcome).
MEMBERSHIP_ATTRS = frozenset({"id", "uname", "in_ccm", "crmd", "join", "expected", "crm-debug-origin"})
#: The node_state attributes of a remote node, which the executor running its connection resource records
#: (as Pacemaker's controller hosting the connection does): nothing else of that node, never its history.
REMOTE_NODE_ATTRS = frozenset({"id", "uname", "remote_node", "in_ccm", "crm-debug-origin"})


def status_patch_refusal(role: str, sender: str, node: str, ops: Iterable[Mapping[str, Any]],
                         remote_nodes: Iterable[str] = ()) -> str:
    """Why the cib-store refuses a status patch of ``node`` that ``role``'s service of node ``sender`` sent
    (the sender is read off the subject, which only that credential may publish); "" when it may write it.

    A node's executor credential could otherwise write another node's operation history - report that a
    resource stopped there while it runs - and the DC would start it a second time. The one exception:
    the node_state attributes of a remote node (``remote_nodes``: the remote and guest nodes the
    configuration names), which the executor running its connection writes up and down
    (:data:`REMOTE_NODE_ATTRS`).
    """
    allowed = STATUS_OPS_BY_ROLE.get(role)
    if allowed is None:
        return f"{role} does not write status patches on this subject"
    if role == "executor" and node != sender:
        return remote_state_refusal(sender, node, list(ops), remote_nodes)
    for op in ops:
        kind = op.get("op")
        if kind not in allowed:
            return f"{role} may not send status op {kind!r}"
        extra = set(op.get("attrs") or {}) - MEMBERSHIP_ATTRS if kind == "node_state" else set()
        if extra:
            return f"{role} may not set node_state attribute {sorted(extra)[0]!r}"
    return ""



def remote_state_refusal(sender: str, node: str, ops: list[Mapping[str, Any]], remote_nodes: Iterable[str]) -> str:
    """Why the executor of ``sender`` may not write this patch of another node's status; "" when it is the
    node_state of a configured remote node, marked ``remote_node="true"``, and nothing else."""
    refused = f"the executor of {sender} may write only its own node's status, not {node}'s"
    if node not in set(remote_nodes):
        return refused
    for op in ops:
        attrs = dict(op.get("attrs") or {})
        if op.get("op") != "node_state" or attrs.get("remote_node") != "true":
            return refused + " (of a remote node: only its node_state, with remote_node=\"true\")"
        extra = set(attrs) - REMOTE_NODE_ATTRS
        if extra:
            return f"an executor may not set remote node_state attribute {sorted(extra)[0]!r}"
    return ""
