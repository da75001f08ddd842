"""Why a resource goes where it goes: every contribution to its score on every node.

Pacemaker's allocation scores are the most opaque part of it for its users:
``crm_simulate -s`` prints only the sums. ``explain`` runs the very same
scheduling pass with a :class:`~paceline.policy.scheduler.ledger.Ledger`
watching one resource (and a group's members), then lists per node each step
that changed the score -- node score, history bans, location constraints,
stickiness, failure bans, colocations in either direction, target-role -- the
node's own state, the final score and the node chosen. ``paceline simulate
--explain RSC`` prints :meth:`Explanation.text`; the shell's ``resource why``
calls :func:`explain` directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from paceline.policy.scheduler import promotion, schedule
from paceline.policy.scheduler.activity import current_node
from paceline.policy.scheduler.ledger import Entry, Ledger
from paceline.policy.scheduler.location import failures_counted
from paceline.shared import cib
from paceline.shared.cluster.model import ClusterState, Node, Resource, Role
from paceline.shared.cluster.rules import RuleContext, nvsets
from paceline.shared.cluster.scores import INF, format_score
from paceline.shared.cluster.unpack import MAX_CLONE_INSTANCES
from paceline.shared.cluster.values import leading_int


def node_condition(node: Node) -> str:
    """Why a node can or cannot take resources, in the words crm_mon uses."""
    if node.unclean:
        return "unclean"
    if not node.online:
        return "offline"
    if node.pending:
        return "pending"
    if node.shutdown:
        return "shutting down"
    if node.maintenance:
        return "maintenance"
    if node.standby:
        return "standby"
    return "available"


@dataclass
class NodeScores:
    node: str
    condition: str
    contributions: list[Entry]
    score: int | None              # None: the resource has no entry for the node (never allowed there)
    failures: int = 0

    @property
    def usable(self) -> bool:
        return self.condition == "available" and self.score is not None and self.score >= 0

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "condition": self.condition, "score": _score_or_none(self.score),
                "usable": self.usable, "failures": self.failures,
                "contributions": [{"source": e.source, "before": _score_or_none(e.before),
                                   "after": format_score(e.after), "change": _change(e)}
                                  for e in self.contributions]}


@dataclass
class ResourceScores:
    """One resource's table: a primitive, or a group's own table."""

    id: str
    kind: str
    agent: str
    running_on: list[str]
    assigned: str | None
    managed: bool
    nodes: list[NodeScores]
    notes: list[str] = field(default_factory=list)
    action: str | None = None          # its Transition Summary line, if any
    utilization: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "agent": self.agent, "running_on": self.running_on,
                "assigned": self.assigned, "managed": self.managed, "action": self.action, "notes": self.notes,
                "utilization": self.utilization, "nodes": [n.to_dict() for n in self.nodes]}


@dataclass
class Explanation:
    resource: str
    kind: str
    parts: list[ResourceScores]
    placement_strategy: str = "default"
    node_utilization: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"resource": self.resource, "kind": self.kind, "placement_strategy": self.placement_strategy,
                "node_utilization": self.node_utilization, "parts": [p.to_dict() for p in self.parts]}

    def text(self) -> str:
        lines: list[str] = []
        for part in self.parts:
            lines += _part_lines(part)
            lines.append("")
        if any(p.utilization for p in self.parts):
            lines.append(f"placement-strategy={self.placement_strategy}; node capacities:")
            for node, caps in self.node_utilization.items():
                text = ", ".join(f"{k}={v}" for k, v in caps.items()) or "none declared"
                lines.append(f"  {node}: {text}")
        return "\n".join(lines).rstrip() + "\n"


def explain(cib_root: cib.Element, rsc_id: str, now: float | None = None) -> Explanation:
    """Schedule ``cib_root`` watching ``rsc_id``; raises KeyError when the CIB has no such resource."""
    watched = _watch_set(cib_root, rsc_id)
    ledger = Ledger(watched=watched)
    result = schedule(cib_root, now, ledger)
    state = result.state
    rsc = state.by_id.get(rsc_id)
    if rsc is None:
        raise KeyError(f"no resource {rsc_id!r} in the CIB")
    actions = _summary_by_rsc(result.summary)
    if rsc.is_clone:       # the clone itself is never placed: its instances are
        members = [m for i in rsc.children for m in ([i, *i.children] if i.is_group else [i])]
    else:
        members = [rsc, *rsc.children] if rsc.is_group else [rsc]
    parts = [_resource_scores(state, ledger, m, actions.get(m.id), cib_root) for m in members]
    strategy = state.options.get("placement-strategy", "default") or "default"
    capacities = {}
    if any(p.utilization for p in parts):
        for el in cib.node_elements(cib_root):
            name = el.get("uname") or el.get("id") or ""
            capacities[name] = nvsets(el, "utilization", RuleContext(now=state.now))
    return Explanation(resource=rsc.id, kind=rsc.kind, parts=parts, placement_strategy=strategy,
                       node_utilization=capacities)


def _watch_set(root: cib.Element, rsc_id: str) -> set[str]:
    el = cib.find_resource(root, rsc_id)
    if el is None:
        # A removed resource only exists in the status section; the scheduler still knows it.
        return {rsc_id}
    ids = {rsc_id, *(child.get("id", "") for child in el.iterfind("primitive"))}
    if el.tag in ("clone", "master"):
        # Its instances RSC:0, RSC:1, ... (never more than one per node, unless clone-max says so).
        count = max(len(cib.node_elements(root)), _clone_max(el))
        cloned = [c.get("id", "") for c in el if c.tag in ("primitive", "group")]
        cloned += [m.get("id", "") for c in el.iterfind("group") for m in c.iterfind("primitive")]
        ids |= {f"{base}:{i}" for base in cloned for i in range(count)}
    return ids


def _clone_max(el: cib.Element) -> int:
    """The clone-max it says (0 when none), never more instances than the scheduler creates."""
    value = nvsets(el, "meta_attributes", RuleContext()).get("clone-max")
    return leading_int(value, 0, 0, MAX_CLONE_INSTANCES) or 0


def _summary_by_rsc(summary: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in summary:
        words = line.split()
        if len(words) >= 3 and words[0] == "*" and not words[1].startswith("Fence"):
            out.setdefault(words[2], " ".join(words[1:]))
    return out


def _resource_scores(state: ClusterState, ledger: Ledger, rsc: Resource, action: str | None,
                     root: cib.Element) -> ResourceScores:
    entries = ledger.entries.get(rsc.id, [])
    nodes = []
    for node in state.nodes.values():
        mine = [e for e in entries if e.node == node.name]
        failures = 0 if rsc.is_group else failures_counted(state, rsc, node)
        nodes.append(NodeScores(node=node.name, condition=node_condition(node), contributions=mine,
                                score=rsc.place.allowed.get(node.name), failures=failures))
    running = sorted({n for p in rsc.primitives() for n in p.status.active_on})
    agent = ":".join(x for x in (rsc.agent.get("class"), rsc.agent.get("provider"), rsc.agent.get("type")) if x)
    el = cib.find_resource(root, rsc.id)
    utilization = nvsets(el, "utilization", RuleContext(now=state.now)) if el is not None else {}
    part = ResourceScores(id=rsc.id, kind=rsc.kind, agent=agent, running_on=running, assigned=rsc.place.assigned,
                          managed=rsc.managed, nodes=nodes, action=action, utilization=utilization)
    part.notes = _notes(state, rsc, nodes)
    return part


def _notes(state: ClusterState, rsc: Resource, nodes: list[NodeScores]) -> list[str]:
    notes: list[str] = []
    if rsc.parent is not None:
        position = rsc.parent.children.index(rsc)
        if position == 0:
            notes.append(f"first member of group {rsc.parent.id}: the group's constraints apply here, and "
                         f"later members' preferences are added to it")
        else:
            prev = rsc.parent.children[position - 1]
            notes.append(f"member {position + 1} of group {rsc.parent.id}: must run with {prev.id}")
    if rsc.is_group:
        notes.append(f"group of {', '.join(c.id for c in rsc.children)}: members are placed in order, "
                     f"each with the one before it")
    if rsc.clone_of is not None and rsc.parent is None:
        clone = state.by_id[rsc.clone_of]
        notes.append(f"instance of clone {clone.id}: at most one instance per node")
        if clone.promotable and rsc.place.assigned is not None:
            score = promotion.promotion_score(state, rsc, rsc.place.assigned)
            published = f"master-{rsc.history_id}={score}" if score is not None else "none published (-1)"
            role = (rsc.next_role or Role.STARTED).text
            notes.append(f"promotable: {role} on {rsc.place.assigned}; promotion score there {published}")
    if rsc.launcher is not None:
        notes.append(f"launched by {rsc.launcher.id}: runs where it runs")
    if rsc.launched:
        notes.append(f"launches {', '.join(r.id for r in rsc.launched)}: their failures count against it")
    if not rsc.managed:
        why = "maintenance" if rsc.maintenance else \
            "blocked after a failure" if rsc.status.blocked else "is-managed=false"
        notes.append(f"unmanaged ({why}): the cluster leaves it where it is")
    if state.fencing_enabled and not state.have_fencing:
        notes.append("fencing is enabled but no fencing device is configured: nothing is started or stopped")
    if state.stop_all:
        notes.append("stop-all-resources=true: nothing runs")
    if rsc.next_role == Role.STOPPED and rsc.next_role_reason not in ("", "no node"):
        notes.append(f"must stop: {rsc.next_role_reason}")
    if not rsc.is_group and rsc.migration_threshold not in (0, INF):
        counted = [f"{n.node}: {n.failures}" for n in nodes if n.failures]
        notes.append(f"migration-threshold={rsc.migration_threshold}" +
                     (f" (failures {', '.join(counted)})" if counted else ""))
    notes.append(_choice(state, rsc, nodes))
    return notes


def _choice(state: ClusterState, rsc: Resource, nodes: list[NodeScores]) -> str:
    if rsc.place.assigned is None:
        if not rsc.managed:
            return "not placed: unmanaged and not running"
        usable = [n for n in nodes if n.usable]
        return "not placed: " + ("it must stop" if usable else "no available node has a score of 0 or more")
    best = rsc.place.allowed.get(rsc.place.assigned, 0)
    tied = [n.node for n in nodes if n.usable and n.score == best]
    text = f"goes to {rsc.place.assigned} (score {format_score(best)})"
    if len(tied) > 1 and not rsc.is_group:
        current = current_node(state, rsc)
        text += (f"; tie with {', '.join(t for t in tied if t != rsc.place.assigned)} broken by fewer resources "
                 f"placed, then the current node ({current or 'none'}), then the node name")
    return text


def _change(e: Entry) -> str:
    if e.before is None:
        return f"= {format_score(e.after)}"
    if abs(e.before) >= INF or abs(e.after) >= INF:
        return f"{format_score(e.before)} -> {format_score(e.after)}"
    delta = e.after - e.before
    return f"+{delta}" if delta >= 0 else str(delta)


def _score_or_none(score: int | None) -> str | None:
    return None if score is None else format_score(score)


def _part_lines(part: ResourceScores) -> list[str]:
    where = f"running on {', '.join(part.running_on)}" if part.running_on else "not running"
    head = f"{part.id}" + (f" ({part.agent})" if part.agent else f" ({part.kind})") + f": {where}"
    lines = [head]
    if part.action:
        lines.append(f"  transition: {part.action}")
    for note in part.notes:
        lines.append(f"  {note}")
    if part.utilization:
        lines.append("  utilization: " + ", ".join(f"{k}={v}" for k, v in part.utilization.items()))
    width = max([len(n.node) for n in part.nodes] + [4])
    for n in part.nodes:
        marker = "  <- chosen" if n.node == part.assigned else ""
        final = "not allowed (no entry)" if n.score is None else format_score(n.score)
        usable = "" if n.usable or n.score is None else (
            "; unusable: node " + n.condition if n.condition != "available" else "; unusable: negative")
        lines.append(f"  {n.node:<{width}}  [{n.condition}]  final {final}{usable}{marker}")
        for e in n.contributions:
            lines.append(f"      {_change(e):>22}  {e.source}")
    return lines
