"""CIB -> ClusterState: options, nodes and their online state, resources, constraints.

The resource history in ``<status>`` is read by :mod:`history`; this module
prepares everything it needs (which nodes are online, which resources exist)
and then calls it, so ``unpack`` returns a state that fully describes the
cluster as Pacemaker would see it before placement.
"""

from __future__ import annotations

import copy
import re

from lxml import etree
from paceline.shared import cib
from paceline.shared.cib import Element
from paceline.shared.cluster import history, sets
from paceline.shared.cluster.model import (
    ClusterState,
    Colocation,
    Location,
    Node,
    OpDef,
    Ordering,
    Resource,
    Role,
    node_sort_key,
)
from paceline.shared.cluster.options import cluster_options, node_attribute_map
from paceline.shared.cluster.rules import NvsetMemo, RuleContext, evaluate, nvsets, rule_score
from paceline.shared.cluster.scores import INF, parse_score
from paceline.shared.cluster.timespec import interval_ms
from paceline.shared.cluster.values import is_true

DEFAULT_TIMEOUT_MS = 20000


def unpack(root: Element, now: float, date_given: bool = False) -> ClusterState:
    """The cluster a CIB describes, evaluated at ``now`` (``date_given``: the CIB's own execution-date)."""
    options = cluster_options(root, now)
    fencing_enabled = is_true(options.get("fencing-enabled"), True)
    quorate = is_true(root.get("have-quorum"), False)
    state = ClusterState(
        nodes={}, resources=[], by_id={}, options=options, now=now, quorate=quorate,
        fencing_enabled=fencing_enabled, have_fencing=is_true(options.get("have-watchdog"), False),
        no_quorum_policy="stop", symmetric=is_true(options.get("symmetric-cluster"), True),
        stop_orphans=is_true(options.get("stop-removed-resources"), True),   # or stop-orphan-resources (folded)
        maintenance_mode=is_true(options.get("maintenance-mode"), False),
        stop_all=is_true(options.get("stop-all-resources"), False),
        probes_enabled=is_true(options.get("enable-startup-probes"), True),
        fencing_action=options.get("fencing-action", "reboot") or "reboot",
        dc_uuid=root.get("dc-uuid"), execution_date_given=date_given)
    state.no_quorum_policy = _no_quorum_policy(options.get("no-quorum-policy", "stop"), state, root)
    _unpack_nodes(root, state)
    _unpack_resources(root, state)
    _node_states(root, state)
    if not state.quorate and state.no_quorum_policy == "fence":
        for node in state.nodes.values():
            if node.online:
                node.mark_unclean("cluster does not have quorum")
    history.unpack_history(root, state)
    _unpack_constraints(root, state)
    return state


def cib_now(root: Element, clock_now: float) -> tuple[float, bool]:
    """The time a CIB is evaluated at: its ``execution-date`` (crm_simulate's ``--date``) when it has one,
    else ``clock_now``; and whether the CIB gave it."""
    stamp = root.get("execution-date")
    if stamp:
        try:
            return float(int(stamp)), True
        except ValueError:
            pass
    return clock_now, False


def _no_quorum_policy(value: str, state: ClusterState, root: Element) -> str:
    value = (value or "stop").lower()
    if value in ("ignore", "freeze", "demote"):
        return value
    if value in ("fence", "suicide"):
        if state.fencing_enabled and (state.quorate or root.get("no-quorum-panic") is not None):
            return "fence"
        return "stop"
    return "stop"


# ------------------------------------------------------------------ nodes

def _unpack_nodes(root: Element, state: ClusterState) -> None:
    startup_fencing = state.fencing_enabled and is_true(state.options.get("startup-fencing"), True)
    nodes: list[Node] = []
    for el in cib.node_elements(root):
        if (el.get("type") or "member") not in ("member", "normal", ""):
            continue
        name = el.get("uname") or el.get("id") or ""
        node = Node(name=name, id=el.get("id", name), base_score=parse_score(el.get("score"), 0),
                    kind="cluster")
        node.attrs = node_attribute_map(el, state.options, state.dc_uuid, state.now)
        node.capacity = _utilization(el, state)
        if startup_fencing:
            node.unclean = True
            node.fence_reason = None
        nodes.append(node)
    nodes.sort(key=lambda n: node_sort_key(n.name))
    state.nodes = {n.name: n for n in nodes}


def _state_flag(value: str | None, true_word: str) -> int:
    """in_ccm/crmd: a word, or an epoch "since" stamp; -1 when absent."""
    if value is None:
        return -1
    if value == true_word or (value.lower() in ("true", "yes", "1") and true_word == "true"):
        return 1
    if value.isdigit():
        return 1 if int(value) > 0 else 0
    return 0


def _node_states(root: Element, state: ClusterState) -> None:
    status = root.find("status")
    if status is None:
        return
    by_id = {n.id: n for n in state.nodes.values()}
    for ns in status.iterfind("node_state"):
        node = by_id.get(ns.get("id", "")) or state.nodes.get(ns.get("uname", ""))
        if node is None or node.seen:
            continue
        node.seen = True
        transient = ns.find("transient_attributes")
        if transient is not None:
            node.attrs.update(nvsets(transient, "instance_attributes",
                                     RuleContext(node_attrs=node.attrs, now=state.now)))
        node.unclean = False
        node.fence_reason = None
        node.expected_up = ns.get("expected") == "member"
        node.shutdown = (node.attrs.get("shutdown") or "0") != "0"
        if state.fencing_enabled:
            _online_with_fencing(ns, node, _pending_too_long(ns, state))
        else:
            _online_without_fencing(ns, node)
        if is_true(node.attrs.get("standby")):
            node.standby = True
        if is_true(node.attrs.get("maintenance")):
            node.maintenance = True
    for node in state.nodes.values():
        # Nodes never seen still have their configured attributes.
        if not node.seen and is_true(node.attrs.get("standby")):
            node.standby = True


def _online_without_fencing(ns: Element, node: Node) -> None:
    member = _state_flag(ns.get("in_ccm"), "true") > 0
    crmd = _state_flag(ns.get("crmd"), "online") > 0
    join = ns.get("join", "down")
    if member and crmd and join == "member":
        node.online = True
    elif member and not crmd and node.expected_up:
        node.online = False
        node.unclean = True
        node.fence_reason = "peer is unexpectedly down"
    elif member and crmd:
        node.online = False
        node.pending = join == "pending"
    else:
        node.online = False


def _pending_too_long(ns: Element, state: ClusterState) -> bool:
    """node-pending-timeout: a node that joined the membership (``in_ccm`` is the epoch it joined)
    but never joined the controller within the timeout is fenced."""
    timeout_ms = interval_ms(state.options.get("node-pending-timeout") or "0")
    since = ns.get("in_ccm") or ""
    if timeout_ms <= 0 or not since.isdigit() or int(since) <= 0:
        return False
    return state.now >= int(since) + timeout_ms / 1000


def _online_with_fencing(ns: Element, node: Node, pending_too_long: bool = False) -> None:
    member_flag = _state_flag(ns.get("in_ccm"), "true")
    member = member_flag > 0
    crmd = _state_flag(ns.get("crmd"), "online") > 0
    join = ns.get("join", "down")
    expected = ns.get("expected")
    node.online = member
    if node.shutdown:
        node.online = crmd
        return
    if member_flag < 0:
        node.mark_unclean("peer has not been seen by the cluster")
        return
    if join == "banned":
        node.mark_unclean("peer failed Pacemaker membership criteria")
        return
    if is_true(node.attrs.get("terminate")):
        if member or crmd:
            node.mark_unclean("fencing was requested")
        return
    if expected != "member":
        if pending_too_long:
            node.mark_unclean("peer pending timed out on joining the process group")
        elif member or crmd:
            node.pending = True
        else:
            node.online = False
        return
    if not member:
        node.mark_unclean("peer is no longer part of the cluster")
        return
    if not crmd:
        node.mark_unclean("peer process is no longer available")
        return
    if join == "member":
        return
    if join in ("pending", "down"):
        node.pending = True
        return
    node.mark_unclean("peer was in an unknown state")


# ------------------------------------------------------------------ resources

def _unpack_resources(root: Element, state: ClusterState) -> None:
    resources = cib.section(root, "resources", create=False)
    conf = root.find("configuration")
    rsc_defaults = conf.find("rsc_defaults") if conf is not None else None
    op_defaults = conf.find("op_defaults") if conf is not None else None
    state.op_defaults = NvsetMemo(op_defaults, "meta_attributes")
    defaults = NvsetMemo(rsc_defaults, "meta_attributes")
    any_unfencing = root.find(".//nvpair[@name='requires'][@value='unfencing']") is not None or \
        root.find(".//nvpair[@name='provides'][@value='unfencing']") is not None
    order = 0
    top: list[Resource] = []
    if resources is None:
        return
    for el in resources:
        if not isinstance(el.tag, str) or el.tag not in ("primitive", "group", "clone", "master"):
            continue
        unpacked = _unpack_clone(el, state, defaults, any_unfencing) if el.tag in ("clone", "master") else \
            [_unpack_one(el, None, state, defaults, any_unfencing)]
        for rsc in unpacked:
            if rsc is None:
                continue
            rsc.doc_index = order
            order += 1
            top.append(rsc)
    top.sort(key=lambda r: -r.priority)   # stable: CIB order among equal priorities
    state.resources = top
    _link_launchers(state)


def _link_launchers(state: ClusterState) -> None:
    """Resolve ``container`` meta attributes: a primitive launched inside another primitive.

    The launched resource must run where its launcher runs, start after it and
    stop before it, and a failure of the launched resource restarts the
    launcher. A launcher that is missing, a group, or the resource itself is
    ignored (a group's ``container`` is inherited by every member, including
    the launcher itself when it is a member).
    """
    for rsc in list(state.by_id.values()):
        name = rsc.meta.get("container")
        if rsc.is_group or not name or name == rsc.id:
            continue
        launcher = state.by_id.get(name)
        if launcher is None or launcher.is_group:
            state.warnings.append(f"resource {rsc.id}: launcher {name} is not a primitive; ignored")
            continue
        rsc.launcher = launcher
        launcher.launched.append(rsc)


def _unpack_clone(el: Element, state: ClusterState, rsc_defaults: NvsetMemo,
                  any_unfencing: bool) -> list[Resource | None]:
    """A clone of a primitive or a group: ``clone-max`` instances ``RSC:0``, ``RSC:1``, ... of it.

    Each instance is scheduled as a primitive (group, with members
    ``MEMBER:N``) of its own, inheriting the clone's meta attributes;
    placement keeps them on different nodes (``clone-node-max`` 1). The clone itself becomes a resource of kind
    "clone" (children: the instances) that constraints can name and that
    promotion works on; it is not in the assignment list, its instances are.
    A promotable clone (``promotable=true``, or the old ``master`` element)
    promotes up to ``promoted-max`` instances. Promotable clones of groups are
    not supported yet and are reported as a warning, not guessed at.
    """
    cid = el.get("id", "")
    meta = _explicit_meta(el, state)
    child = next((c for c in el if isinstance(c.tag, str) and c.tag in ("primitive", "group")), None)
    promotable = el.tag == "master" or is_true(meta.get("promotable"), False)
    if child is None:
        state.warnings.append(f"clone {cid} clones nothing; ignored")
        return []
    if promotable and child.tag == "group":
        state.warnings.append(f"clone {cid}: promotable clones of a group are not supported yet; ignored")
        return []
    count = _meta_int(meta, ("clone-max",), len(state.nodes))
    if "resource-stickiness" not in meta and "resource-stickiness" not in rsc_defaults.get(RuleContext(now=state.now)):
        meta["resource-stickiness"] = "1"      # a clone's instances stay where they run unless told otherwise
    instances = [_unpack_one(child, None, state, rsc_defaults, any_unfencing, meta, f"{child.get('id')}:{i}")
                 for i in range(max(0, count))]
    kept = [i for i in instances if i is not None]
    clone = Resource(id=cid, kind="clone", meta=meta, children=kept)
    _parse_meta(clone, state, any_unfencing)
    clone.promotable = promotable
    clone.promoted_max = _meta_int(meta, ("promoted-max", "master-max"), 1)
    clone.promoted_node_max = _meta_int(meta, ("promoted-node-max", "master-node-max"), 1)
    if Role.parse(meta.get("target-role")) == Role.UNPROMOTED:
        clone.promoted_max = 0
    for instance in kept:
        for part in (instance, *instance.children):
            part.clone_of = cid
            state.clones.setdefault(part.history_id, []).append(part)
    state.by_id[cid] = clone
    state.clones[cid] = kept
    return list(kept)


def _meta_int(meta: dict[str, str], names: tuple[str, ...], default: int) -> int:
    """The first of ``names`` set in ``meta`` as a whole number (new name first, then its old alias)."""
    for name in names:
        if name in meta:
            try:
                return int(meta[name])
            except ValueError:
                return default
    return default


def _explicit_meta(el: Element, state: ClusterState) -> dict[str, str]:
    return nvsets(el, "meta_attributes", RuleContext(now=state.now))


def _unpack_one(el: Element, parent: Resource | None, state: ClusterState, rsc_defaults: NvsetMemo,
                any_unfencing: bool, inherited: dict[str, str] | None = None,
                instance_id: str | None = None) -> Resource | None:
    """One resource; ``inherited`` holds the meta attributes explicitly set on its ancestors, nearest first
    (``instance_id``: the id of one clone instance of it)."""
    rid = instance_id or el.get("id") or ""
    origin = el                    # where it sits in the CIB (a template's expansion sits nowhere)
    if el.tag == "primitive" and el.get("template"):
        expanded = expand_template(el)
        if expanded is None:
            state.warnings.append(f"primitive {rid}: template {el.get('template')} does not exist; ignored")
            return None
        el = expanded
    agent = {k: el.get(k, "") for k in ("class", "provider", "type") if el.get(k)}
    explicit = _explicit_meta(el, state)
    meta: dict[str, str] = dict(explicit)
    for k, v in (inherited or {}).items():
        meta.setdefault(k, v)
    ctx = RuleContext(now=state.now, agent=agent if el.tag == "primitive" else None)
    for k, v in rsc_defaults.get(ctx).items():
        meta.setdefault(k, v)
    meta = {k: v for k, v in meta.items() if v != "#default"}
    rsc = Resource(id=rid, kind=el.tag, parent=parent, agent=agent, meta=meta)
    _parse_meta(rsc, state, any_unfencing)
    state.by_id[rid] = rsc
    if el.tag == "group":
        for_members = dict(explicit)
        for k, v in (inherited or {}).items():
            for_members.setdefault(k, v)
        suffix = rid[len(el.get("id", "")):]       # ":N" in a clone instance of the group
        for child in el.iterfind("primitive"):
            member = _unpack_one(child, rsc, state, rsc_defaults, any_unfencing, for_members,
                                 f"{child.get('id')}{suffix}" if suffix else None)
            if member is not None:
                rsc.children.append(member)
        if not rsc.children:
            del state.by_id[rid]
            state.warnings.append(f"group {rid} has no members; ignored")
            return None
        return rsc
    if agent.get("class") == "stonith":
        state.have_fencing = True
        if (meta.get("provides") or "").lower() == "unfencing" and state.fencing_enabled:
            state.unfencing = True
    _parse_params(el, rsc, state, origin)
    rsc.ops = _parse_ops(el, rsc, state)
    rsc.utilization = _utilization(el, state)
    return rsc


def _utilization(el: Element, state: ClusterState) -> dict[str, int]:
    """A node's capacities or a resource's needs (``<utilization>``), as whole numbers."""
    out: dict[str, int] = {}
    for name, value in nvsets(el, "utilization", RuleContext(now=state.now)).items():
        try:
            out[name] = int(value)
        except ValueError:
            state.warnings.append(f"{el.get('id')}: utilization {name}={value!r} is not a whole number; ignored")
    return out


def _parse_meta(rsc: Resource, state: ClusterState, any_unfencing: bool) -> None:
    meta = rsc.meta
    rsc.priority = parse_score(meta.get("priority"), 0)
    stick = meta.get("resource-stickiness")
    rsc.stickiness = parse_score(stick, 0) if stick not in (None, "default") else 0
    threshold = meta.get("migration-threshold")
    if threshold is None:
        rsc.migration_threshold = INF
    else:
        value = parse_score(threshold, -1)
        rsc.migration_threshold = INF if value < 0 else value
    rsc.failure_timeout_ms = interval_ms(meta.get("failure-timeout")) if meta.get("failure-timeout") else 0
    rsc.managed = is_true(meta.get("is-managed"), True)
    if is_true(meta.get("maintenance"), False) or state.maintenance_mode:
        rsc.managed = False
        rsc.maintenance = True
    role = Role.parse(meta.get("target-role"))
    if role is not None and role != Role.STARTED:
        rsc.target_role = role if role in (Role.STOPPED, Role.STARTED) else None
        if role in (Role.UNPROMOTED, Role.PROMOTED):
            rsc.target_role = None
    rsc.multiple_active = meta.get("multiple-active", "stop_start")
    rsc.critical = is_true(meta.get("critical"), True)
    requires = meta.get("requires")
    if requires in ("nothing", "quorum", "fencing", "unfencing"):
        rsc.requires = requires
    elif rsc.agent.get("class") == "stonith":
        rsc.requires = "quorum"
    elif any_unfencing:
        rsc.requires = "unfencing"
    elif state.fencing_enabled:
        rsc.requires = "fencing"
    elif state.no_quorum_policy == "ignore":
        rsc.requires = "nothing"
    else:
        rsc.requires = "quorum"


def expand_template(el: Element) -> Element | None:
    """A primitive that names a ``rsc_template``, as one element: the template's agent, the primitive's
    own attribute sets first (so its values win over the template's), then the template's, and the
    template's operations except those the primitive redefines (same name and interval)."""
    root = el.getroottree().getroot()
    template = next((t for t in root.iterfind("configuration/resources/template") if t.get("id") ==
                     el.get("template")), None)
    if template is None:
        return None
    out = etree.Element("primitive", {k: v for k, v in cib.attributes(template).items() if k != "id"})
    out.set("id", el.get("id", ""))
    own_ops = _copy_sets_take_ops(el, out)
    template_ops = _copy_sets_take_ops(template, out)
    if own_ops or template_ops:
        redefined = {(op.get("name"), interval_ms(op.get("interval", "0"))) for op in own_ops}
        ops = etree.SubElement(out, "operations")
        for op in own_ops + [op for op in template_ops
                             if (op.get("name"), interval_ms(op.get("interval", "0"))) not in redefined]:
            ops.append(copy.deepcopy(op))
    return out


def _copy_sets_take_ops(source: Element, out: Element) -> list[Element]:
    """Append copies of ``source``'s attribute sets to ``out``; return its operations for merging."""
    ops: list[Element] = []
    for child in source:
        if child.tag == "operations":
            ops += list(child.iterfind("op"))
        elif isinstance(child.tag, str):
            out.append(copy.deepcopy(child))
    return ops


def _param_sources(el: Element, origin: Element) -> list[Element]:
    out = [el]
    parent = origin.getparent()
    while parent is not None and parent.tag in ("group", "clone"):
        out.append(parent)
        parent = parent.getparent()
    return out


def _parse_params(el: Element, rsc: Resource, state: ClusterState, origin: Element) -> None:
    sources = _param_sources(el, origin)
    has_rules = any(child.tag == "instance_attributes" and child.find("rule") is not None
                    for src in sources for child in src)

    def collect(node_attrs: dict[str, str] | None) -> dict[str, str]:
        out: dict[str, str] = {}
        ctx = RuleContext(node_attrs=node_attrs, now=state.now, agent=rsc.agent)
        for src in sources:
            for k, v in nvsets(src, "instance_attributes", ctx).items():
                out.setdefault(k, v)
        return out

    rsc.params = collect(None)
    if has_rules:
        rsc.node_params = {n.name: collect(n.attrs) for n in state.nodes.values()}


OP_IDENTITY = ("id", "name", "interval", "timeout")


def _parse_ops(el: Element, rsc: Resource, state: ClusterState) -> list[OpDef]:
    ops_el = el.find("operations")
    out: list[OpDef] = []
    if ops_el is None:
        return out
    for op in ops_el.iterfind("op"):
        name = op.get("name", "")
        ms = interval_ms(op.get("interval", "0"))
        op_meta = nvsets(op, "meta_attributes", RuleContext(now=state.now))
        ctx = RuleContext(now=state.now, agent=rsc.agent, op=(name, ms))
        defaults = state.op_defaults.get(ctx)

        def pick(key: str, op_meta: dict[str, str] = op_meta, defaults: dict[str, str] = defaults,
                 op: Element = op) -> str | None:
            if op.get(key) is not None:
                return op.get(key)
            if key in op_meta:
                return op_meta[key]
            return defaults.get(key)

        timeout = pick("timeout")
        # Everything the <op> says beyond its identity reaches the agent as CRM_meta_* (start-delay,
        # on-fail, OCF_CHECK_LEVEL, ...), as Pacemaker passes it; meta_attributes win over attributes.
        meta = {k: v for k, v in cib.attributes(op).items() if k not in OP_IDENTITY}
        meta.update(op_meta)
        out.append(OpDef(
            name=name, interval_ms=ms,
            timeout_ms=interval_ms(timeout) if timeout else DEFAULT_TIMEOUT_MS,
            role=pick("role"), on_fail=pick("on-fail"),
            enabled=is_true(pick("enabled"), True), meta=meta,
            params=nvsets(op, "instance_attributes", ctx), op_id=op.get("id", "")))
    return out


def op_timeout_ms(state: ClusterState, rsc: Resource, task: str, interval: int) -> int:
    """Timeout of an action: its op definition, else op_defaults, else 20 s."""
    for op in rsc.ops:
        if op.name == task and op.interval_ms == interval:
            return op.timeout_ms
    ctx = RuleContext(now=state.now, agent=rsc.agent, op=(task, interval))
    value = state.op_defaults.get(ctx).get("timeout")
    if value:
        return interval_ms(value)
    return DEFAULT_TIMEOUT_MS


# ------------------------------------------------------------------ constraints

def _unpack_constraints(root: Element, state: ClusterState) -> None:
    for tag in root.iterfind("configuration/tags/tag"):
        state.tags[tag.get("id", "")] = [ref.get("id", "") for ref in tag.iterfind("obj_ref")]
    cons = cib.section(root, "constraints", create=False)
    if cons is None:
        return
    for el in cons:
        if not isinstance(el.tag, str):
            continue
        if el.tag == "rsc_order":
            _unpack_order(el, state)
        elif el.tag == "rsc_colocation":
            _unpack_colocation(el, state)
        elif el.tag == "rsc_location":
            _unpack_location(el, state)


def _resolve_rsc(state: ClusterState, rid: str | None) -> Resource | None:
    if rid is None:
        return None
    return state.by_id.get(rid)


def _resolve_many(state: ClusterState, rid: str | None) -> list[Resource]:
    """The resources an id stands for in a constraint: a tag stands for every resource it names."""
    if rid in state.tags:
        return [state.by_id[r] for r in state.tags[rid] if r in state.by_id]
    found = _resolve_rsc(state, rid)
    return [] if found is None else [found]


def _resolve_sides(el: Element, state: ClusterState, kind: str, one: str, other: str
                   ) -> tuple[list[Resource], list[Resource]] | None:
    """The resources on each side of an order or colocation, or None (with a warning) when it cannot be used."""
    first, second = _resolve_many(state, el.get(one)), _resolve_many(state, el.get(other))
    if not first or not second:
        state.warnings.append(f"{kind} {el.get('id')} references an unknown resource; ignored")
        return None
    return first, second


def _unpack_order(el: Element, state: ClusterState) -> None:
    kind = el.get("kind")
    if kind is None:
        score = el.get("score")
        kind = "Mandatory" if score is None or parse_score(score, 0) != 0 else "Optional"
    if kind not in ("Mandatory", "Optional", "Serialize"):
        state.warnings.append(f"order {el.get('id')}: invalid kind {kind!r}, using Mandatory")
        kind = "Mandatory"
    symmetrical = is_true(el.get("symmetrical"), kind != "Serialize") and kind != "Serialize"
    if el.find("resource_set") is not None:
        found = sets.read_sets(el, state, "order", _resolve_many)
        if found is not None:
            pairs, joins = sets.orderings(el.get("id", ""), found, kind, symmetrical)
            state.orderings += pairs
            state.one_or_more += joins
        return
    sides = _resolve_sides(el, state, "order", "first", "then")
    if sides is None:
        return
    first_action = el.get("first-action") or "start"
    then_action = el.get("then-action") or first_action
    for first in sides[0]:
        for then in sides[1]:
            state.orderings.append(Ordering(id=el.get("id", ""), first=first, then=then, first_action=first_action,
                                            then_action=then_action, kind=kind, symmetrical=symmetrical))


def colocation_sort_key(other: Resource) -> tuple:
    return (-other.priority, -other.variant_rank, other.id)


def insert_colocation(lst: list[Colocation], coloc: Colocation, by_primary: bool) -> None:
    """Keep Pacemaker's list order: by the other side's priority/variant/id, new entries first among equals."""
    key = colocation_sort_key(coloc.primary if by_primary else coloc.dependent)
    for i, existing in enumerate(lst):
        other_existing = existing.primary if by_primary else existing.dependent
        if colocation_sort_key(other_existing) >= key:
            lst.insert(i, coloc)
            return
    lst.append(coloc)


def add_colocation(state: ClusterState, coloc: Colocation) -> None:
    state.colocations.append(coloc)
    insert_colocation(coloc.dependent.this_with, coloc, by_primary=True)
    insert_colocation(coloc.primary.with_this, coloc, by_primary=False)


def _unpack_colocation(el: Element, state: ClusterState) -> None:
    score = parse_score(el.get("score"), 0)
    influence_text = el.get("influence")
    influence = is_true(influence_text, True) if influence_text is not None else None
    if el.find("resource_set") is not None:
        found = sets.read_sets(el, state, "colocation", _resolve_many)
        for coloc in sets.colocations(el.get("id", ""), found or [], score, influence):
            coloc.node_attribute = el.get("node-attribute") or "#uname"
            add_colocation(state, coloc)
        return
    sides = _resolve_sides(el, state, "colocation", "rsc", "with-rsc")
    if sides is None or score == 0:
        return
    for dependent in sides[0]:
        for primary in sides[1]:
            if dependent is primary:
                continue
            add_colocation(state, Colocation(
                id=el.get("id", ""), dependent=dependent, primary=primary, score=score,
                dependent_role=_role_filter(el.get("rsc-role")), primary_role=_role_filter(el.get("with-rsc-role")),
                node_attribute=el.get("node-attribute") or "#uname",
                influence=influence if influence is not None else dependent.critical))


def _role_filter(text: str | None) -> Role | None:
    role = Role.parse(text)
    return None if role in (None, Role.STARTED) else role


def _unpack_location(el: Element, state: ClusterState) -> None:
    targets: list[tuple[Resource, tuple[str, ...]]] = []
    rid = el.get("rsc")
    if rid is not None:
        if rid in state.clones:     # a location on a clone holds for each of its instances
            targets += [(instance, ()) for instance in state.clones[rid]]
        elif rid in state.tags:     # and one on a tag for each resource it names (instances of a clone too)
            for rsc in _resolve_many(state, rid):
                targets += [(i, ()) for i in state.clones[rsc.id]] if rsc.is_clone else [(rsc, ())]
        else:
            named = _resolve_rsc(state, rid)
            if named is None:
                state.warnings.append(f"location {el.get('id')} references unknown resource {rid}; ignored")
                return
            targets.append((named, ()))
    elif el.get("rsc-pattern") is not None:
        pattern = el.get("rsc-pattern", "")
        invert = pattern.startswith("!")
        regex = re.compile(pattern[1:] if invert else pattern)
        for rsc in list(state.by_id.values()):
            m = regex.search(rsc.id)
            if invert and m is None:
                targets.append((rsc, ()))
            elif not invert and m is not None:
                targets.append((rsc, (m.group(0), *[g or "" for g in m.groups()])))
    else:
        return
    discovery = el.get("resource-discovery") or "always"
    role = _role_filter(el.get("role"))
    for rsc, subs in targets:
        scores: list[tuple[str, int]] = []
        node_name = el.get("node")
        if node_name is not None:
            if node_name not in state.nodes:
                continue
            scores.append((node_name, parse_score(el.get("score"), 0)))
        else:
            rule = el.find("rule")
            if rule is None:
                continue
            rule_role = _role_filter(rule.get("role"))
            role = role or rule_role
            for node in state.nodes.values():
                ctx = RuleContext(node_attrs=node.attrs, now=state.now, agent=rsc.agent,
                                  params=rsc.params_on(node.name), meta=rsc.meta, submatches=subs)
                if not evaluate(rule, ctx):
                    continue
                score = rule_score(rule, node.attrs, subs)
                if score is not None:
                    scores.append((node.name, score))
        state.locations.append(Location(id=el.get("id", ""), rsc=rsc, node_scores=scores, role=role,
                                        discovery=discovery))
