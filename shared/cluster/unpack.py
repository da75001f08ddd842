"""CIB -> ClusterState: options, nodes and their online state, resources, constraints.

The resource history in ``<status>`` is read by :mod:`history`; this module
prepares everything it needs (which nodes are online, which resources exist)
and then calls it, so ``unpack`` returns a state that fully describes the
cluster as Pacemaker would see it before placement.
"""

from __future__ import annotations

import copy
import functools
import re

from lxml import etree
from paceline.shared import cib
from paceline.shared.cib import Element
from paceline.shared.cluster import bundle as bundle_model
from paceline.shared.cluster import history, remote, sets, tickets
from paceline.shared.cluster.checks import OP_ATTRIBUTES, RESOURCE_META, option_problem
from paceline.shared.cluster.model import (
    BundleInfo,
    ClusterState,
    Colocation,
    Location,
    Node,
    OneOrMore,
    OpDef,
    Ordering,
    Replica,
    Resource,
    Role,
    node_sort_key,
)
from paceline.shared.cluster.option_table import OPTIONS
from paceline.shared.cluster.options import cluster_options, node_attribute_map
from paceline.shared.cluster.rules import NvsetMemo, RuleContext, evaluate, nvsets, rule_score
from paceline.shared.cluster.scores import INF, format_score, parse_score, score_or_none
from paceline.shared.cluster.timespec import LAST_EPOCH, MAX_OP_MS, interval_ms, parse_interval_ms, parse_op_ms
from paceline.shared.cluster.values import (
    INT64_MAX,
    INT64_MIN,
    OPTION_ALIASES,
    is_true,
    leading_int,
    shown,
    whole_int,
)

DEFAULT_TIMEOUT_MS = 20000


def unpack(root: Element, now: float, date_given: bool = False) -> ClusterState:
    """The cluster a CIB describes, evaluated at ``now`` (``date_given``: the CIB's own execution-date).

    Whatever the CIB holds, this returns: a value that cannot be used is replaced by its default and a
    resource that cannot be used is left out, each noted in ``config_errors`` (as Pacemaker logs its
    configuration errors and schedules the rest). A CIB stored before the store checked values can hold
    anything, and one bad object must not stop the whole cluster from being managed.
    """
    options = cluster_options(root, now)
    option_errors = _drop_unusable_options(options)
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
    for error in option_errors:
        state.config_error(error)
    state.no_quorum_policy = _no_quorum_policy(options.get("no-quorum-policy", "stop"), state, root)
    _unpack_nodes(root, state)
    implicit = remote.add_resource_nodes(cib.section(root, "resources", create=False), state)
    _unpack_resources(root, state, implicit)
    remote.link_connections(state)
    _node_states(root, state)
    if not state.quorate and state.no_quorum_policy == "fence":
        for node in state.nodes.values():
            if node.online:
                node.mark_unclean("cluster does not have quorum")
    history.unpack_history(root, state)
    _unpack_constraints(root, state)
    tickets.unpack(root, state, _resolve_many)
    return state


def cib_now(root: Element, clock_now: float) -> tuple[float, bool]:
    """The time a CIB is evaluated at: its ``execution-date`` (crm_simulate's ``--date``) when it has one,
    else ``clock_now``; and whether the CIB gave it (a stamp that is no date between 1970 and 9999 is none)."""
    stamp = whole_int(root.get("execution-date"), None, -1, LAST_EPOCH + 1)
    if stamp is not None and 0 <= stamp <= LAST_EPOCH:
        return float(stamp), True
    return clock_now, False


#: Values Pacemaker still accepts though the option table (what a write may set) does not offer them: the
#: deprecated "poweroff" (off), and "fence", Pacemaker 3's name for "suicide".
_ACCEPTED_TOO = {"stonith-action": ("poweroff",), "no-quorum-policy": ("fence",)}


def _drop_unusable_options(options: dict[str, str]) -> list[str]:
    """Remove every cluster option whose value Pacemaker would refuse, so that its default applies; a line
    for each ("Using default value for cluster option 'X' because 'Y' is invalid").

    Both spellings of a renamed option go (they were folded onto one another)."""
    errors: list[str] = []
    renamed = {old: new for new, olds in OPTION_ALIASES.items() for old in olds}
    for name, value in list(options.items()):
        checked = next((old for old in OPTION_ALIASES.get(name, ()) if old in OPTIONS), name)
        if value.strip().lower() in _ACCEPTED_TOO.get(checked, ()):
            continue
        why = option_problem(checked, value)
        if why is None or name not in options:
            continue
        for spelling in (name, renamed.get(name), *OPTION_ALIASES.get(name, ())):
            if spelling is not None and options.get(spelling) == value:
                del options[spelling]
        errors.append(f"cluster option {checked}={shown(value)} is {why}; using the default")
    return errors


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
    names: set[str] = set()
    for el in cib.node_elements(root):
        kind = el.get("type") or "member"
        if kind == "remote" and (remote_node := remote.configured_node(el, state)) is not None:
            nodes.append(remote_node)
            continue
        if kind not in ("member", "normal", ""):
            if kind not in ("remote", "ping"):
                state.config_error(f"node {shown(el.get('uname') or el.get('id') or '')}: type={shown(kind)} "
                                   "is not a node type (member, remote or ping); node ignored")
            continue
        if not el.get("id"):
            state.config_error(f"node {shown(el.get('uname') or '')}: id is missing; node ignored")
            continue
        name = el.get("uname") or el.get("id") or ""
        if name in names:
            state.config_error(f"node {shown(el.get('id') or '')}: uname={shown(name)} is another node's "
                               "name too; node ignored")
            continue
        node = Node(name=name, id=el.get("id", name), base_score=_score(state, f"node {name!r}", "score",
                                                                         el.get("score"), 0),
                    kind="cluster")
        names.add(name)
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
    number = whole_int(value, None, -1, 1)      # an epoch "since" stamp, of any length
    if number is not None and value.strip().isascii() and value.strip().isdigit():
        return 1 if number > 0 else 0
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
        if node.kind != "cluster":
            remote.first_pass(ns, node)
            continue
        node.seen = True
        transient = ns.find("transient_attributes")
        if transient is not None:
            node.attrs.update(nvsets(transient, "instance_attributes",
                                     RuleContext(node_attrs=node.attrs, now=state.now)))
            # Capacities the node reports for itself add to the configured ones, which win (add_node_attrs).
            reported = _utilization(transient, state, f"node {node.name!r} status")
            node.capacity = {**reported, **node.capacity}
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
    text = ns.get("in_ccm") or ""
    since = whole_int(text, None, 0, INT64_MAX) if text.isascii() and text.isdigit() else None
    if timeout_ms <= 0 or since is None or since <= 0:
        return False
    return state.now >= since + timeout_ms / 1000


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

#: The resource classes Pacemaker's schema allows (an ``ocf`` agent names its provider too).
RESOURCE_CLASSES = ("ocf", "lsb", "heartbeat", "stonith", "upstart", "service", "systemd", "nagios")
#: A clone is given at most this many instances, or one per node if there are more nodes: placement puts one
#: instance on a node, so more could never run, and a clone-max of 10**20 would otherwise have the scheduler
#: build instances until memory runs out (10,000 already take it a minute).
MAX_CLONE_INSTANCES = 1000
#: Integer meta attributes are C ints in Pacemaker.
_INT_MAX = 2**31 - 1


def _unpack_resources(root: Element, state: ClusterState, implicit: list[Element]) -> None:
    resources = cib.section(root, "resources", create=False)
    conf = root.find("configuration")
    rsc_defaults = conf.find("rsc_defaults") if conf is not None else None
    op_defaults = conf.find("op_defaults") if conf is not None else None
    state.op_defaults = NvsetMemo(op_defaults, "meta_attributes")
    defaults = NvsetMemo(rsc_defaults, "meta_attributes")
    any_unfencing = root.find(".//nvpair[@name='requires'][@value='unfencing']") is not None or \
        root.find(".//nvpair[@name='provides'][@value='unfencing']") is not None
    reader = _ResourceReader(state, defaults, any_unfencing)
    order = 0
    top: list[Resource] = []
    if resources is None:
        return
    for el in [*cib.elements(resources), *implicit]:
        if el.tag not in ("primitive", "group", "clone", "master", "bundle"):
            continue
        if el.tag == "bundle":
            unpacked = [reader.bundle(el)]
        else:
            unpacked = reader.clone(el) if el.tag in ("clone", "master") else [reader.one(el, None)]
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
            state.config_error(f"resource {rsc.id!r}: container={shown(name)} is not a primitive that can be used; "
                               "ignored")
            continue
        rsc.launcher = launcher
        launcher.launched.append(rsc)


class _Meta:
    """One resource's meta attributes as the scheduler reads them, with where each value was set.

    A value Pacemaker would refuse is reported once, naming the element (or ``rsc_defaults``) that set it,
    with what is used instead: a clone's instances and every resource inheriting a default read the same
    value, and say the same line.
    """

    def __init__(self, state: ClusterState, values: dict[str, str], sources: dict[str, str]):
        self.state = state
        self.values = values
        self.sources = sources

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def report(self, name: str, why: str, instead: str) -> None:
        value = self.values.get(name, "")
        self.state.config_error(f"{self.sources.get(name, 'rsc_defaults')}: {name}={shown(value)} is {why}; "
                                f"{instead}")

    def problem(self, name: str) -> str | None:
        """Why the value of ``name`` is one Pacemaker would refuse (None: it is fine, or unset)."""
        value = self.values.get(name)
        if value is None or value in ("#default", "default"):
            return None
        return _meta_problem(name, value)

    def checked(self, name: str, instead: str) -> None:
        if name not in self.values:     # the usual case: asked of every resource, set on few
            return
        why = self.problem(name)
        if why is not None:
            self.report(name, why, instead)

    def boolean(self, name: str, default: bool) -> bool:
        """A boolean as Pacemaker reads a resource's: a value that is no boolean is false (crm_is_true)."""
        value = self.values.get(name)
        if value is None or value == "default":
            return default
        if self.problem(name) is not None:
            self.report(name, "not a boolean (true or false)", "treated as false")
            return False
        return is_true(value, default)

    def count(self, names: tuple[str, ...], default: int) -> int:
        """The first of ``names`` set (new name first, then its old alias) as Pacemaker reads such a count:
        the integer it starts with, 0 when it starts with none, 0 for a negative one."""
        for name in names:
            value = self.values.get(name)
            if value is None:
                continue
            number = leading_int(value, 0, 0, _INT_MAX) or 0
            why = self.problem(name)
            if why is not None:
                self.report(name, why, f"using {number}")
            return number
        return default

    def score(self, name: str, default: int) -> int:
        value = self.values.get(name)
        if value is None or value == "default":
            return default
        number = parse_score(value, default)
        why = self.problem(name)
        if why is not None:     # the message only when there is one: a default stickiness is read by every resource
            self.report(name, why, f"using {format_score(number)}")
        return number


@functools.lru_cache(maxsize=4096)
def _meta_problem(name: str, value: str) -> str | None:
    """RESOURCE_META's check of one value, once per name and value: every resource inheriting a default reads
    the same one. Bounded, as a long-lived DC reads many CIBs."""
    check = RESOURCE_META.get(name)
    return None if check is None else check(value)


class _ResourceReader:
    """Turns resource elements into Resources, leaving out (with a configuration error) what cannot be used.

    As Pacemaker's unpack_resources does: a resource without an id, a primitive whose agent is not fully
    named, one whose template does not exist, a clone of nothing or of something that cannot be used, is
    ignored and the rest is scheduled; a group keeps the members that can be used. An id given to two
    resources is used by the first only (the schema Pacemaker checks every CIB against refuses both).
    """

    def __init__(self, state: ClusterState, rsc_defaults: NvsetMemo, any_unfencing: bool):
        self.state = state
        self.rsc_defaults = rsc_defaults
        self.any_unfencing = any_unfencing
        self.claimed: dict[str, Element] = {}       # configured id -> the element that has it
        self.bundle_nodes_made: set[str] = set()    # the guest nodes of the bundles read so far
        # A clone's instances share their element: its operations are read once (the list is never changed).
        self._ops: dict[tuple[int, tuple[tuple[str, str], ...]], list[OpDef]] = {}

    def _claim(self, el: Element) -> bool:
        """Whether ``el`` may be used under its id: it has one and no other resource element had it first."""
        rid = el.get("id")
        if not rid:
            self.state.config_error(f"<{el.tag}> resource without an id: ignored")
            return False
        holder = self.claimed.setdefault(rid, el)
        if holder is not el:
            self.state.config_error(f"{el.tag} {rid!r}: id is another resource's too; the later one is ignored")
            return False
        return True

    def _leave_out(self, el: Element, why: str) -> None:
        """``el`` cannot be used: say why, and remember it (a constraint naming it is a configuration error)."""
        self.state.config_error(why)
        self.state.left_out.add(el.get("id") or "")

    def _register(self, rid: str, rsc: Resource, where: str) -> bool:
        if rid in self.state.by_id:
            self.state.config_error(f"{where}: {rid!r} is another resource's id too; ignored")
            return False
        self.state.by_id[rid] = rsc
        return True

    def _defaults(self, ctx: RuleContext) -> dict[str, str]:
        """rsc_defaults' meta attributes (a bad value among them is reported, as ``rsc_defaults``, by each
        resource that reads it: the same line, so once)."""
        return self.rsc_defaults.get(ctx)

    def _nodes_known(self) -> int:
        """How many nodes there are as this resource is read: a bundle's guest nodes only exist once the bundle
        is read (a clone's default ``clone-max`` counts the nodes Pacemaker knows when it unpacks the clone)."""
        return sum(1 for n in self.state.nodes.values()
                   if not n.bundle_node or n.declared or n.name in self.bundle_nodes_made)

    def bundle(self, el: Element) -> Resource | None:
        """A bundle expanded as Pacemaker's ``pe__unpack_bundle`` expands it (see bundle.py): its replicas'
        containers, addresses and connections, and the clone of its primitive, each unpacked as configured
        resources inheriting the bundle's meta attributes. The bundle is one assignment unit."""
        state = self.state
        if not self._claim(el):
            return None
        bid = el.get("id", "")
        where = f"bundle {bid!r}"
        spec = bundle_model.parse(el)
        if spec is None:
            self._leave_out(el, f"{where} names no container engine (docker, podman, rkt); resource ignored")
            return None
        if spec.primitive is not None and not spec.manages_inside:
            self._leave_out(el, f"{where}: its primitive cannot be managed without ip-range-start or "
                            "control-port; resource ignored")
            return None
        explicit = _explicit_meta(el, state)
        inherited = dict.fromkeys(explicit, where)
        meta = dict(explicit)
        for k, v in self._defaults(RuleContext(now=state.now)).items():
            meta.setdefault(k, v)
        rsc = Resource(id=bid, kind="bundle", meta=meta)
        _parse_meta(rsc, state, self.any_unfencing, _Meta(state, meta, inherited))
        if not self._register(bid, rsc, where):
            return None
        info = BundleInfo(engine=spec.engine, image=spec.image or "", per_host=spec.per_host, unique=spec.unique)
        rsc.bundle = info
        taken = set(state.by_id) | set(self.claimed)
        for rx in bundle_model.replica_elements(spec, taken):
            container = self.one(rx.container, None, explicit, None, inherited)
            ip = self.one(rx.ip, None, explicit, None, inherited) if rx.ip is not None else None
            guest = state.nodes.get(rx.remote.get("id", "")) if rx.remote is not None else None
            if guest is not None and guest.declared:     # what was unpacked before the node was made knows it
                guest.in_tables_of = set(state.by_id) - {bid}
            conn = self.one(rx.remote, None, explicit, None, inherited) if rx.remote is not None else None
            if guest is not None:
                self.bundle_nodes_made.add(guest.name)
            if container is not None:
                info.replicas.append(Replica(rx.offset, container, ip, conn, ipaddr=rx.ipaddr))
        clone_el = bundle_model.clone_element(spec)
        if clone_el is not None:
            instances = self.clone(clone_el, explicit, inherited)
            info.child = state.by_id.get(spec.clone_id) if instances else None
        for replica in info.replicas:
            child = info.child.children[replica.offset] if info.child and replica.offset < len(info.child.children) \
                else None
            replica.child = child
            if child is not None:
                if replica.node is not None:
                    child.pinned = {replica.node: 500}
                    child.discovery[replica.node] = "exclusive"     # probed on its own guest node only
                if replica.ipaddr is not None:
                    child.meta["external-ip"] = replica.ipaddr
                # Utilization set on the bundled primitive is the container's (there is nowhere else to set it).
                replica.container.utilization, child.utilization = child.utilization, {}
        for part in [p for r in info.replicas for p in (r.container, r.ip, r.remote) if p is not None]:
            part.in_bundle = bid
            rsc.children.append(part)
        if info.child is not None:
            info.child.in_bundle = bid
            for instance in info.child.children:
                instance.in_bundle = bid
            rsc.children.append(info.child)
        return rsc

    def clone(self, el: Element, inherited: dict[str, str] | None = None,
              inherited_from: dict[str, str] | None = None) -> list[Resource | None]:
        """A clone of a primitive or a group: ``clone-max`` instances ``RSC:0``, ``RSC:1``, ... of it.

        Each instance is scheduled as a primitive (group, with members
        ``MEMBER:N``) of its own, inheriting the clone's meta attributes;
        placement keeps them on different nodes (``clone-node-max`` 1). The clone itself becomes a resource of
        kind "clone" (children: the instances) that constraints can name and that
        promotion works on; it is not in the assignment list, its instances are.
        A promotable clone (``promotable=true``, or the old ``master`` element)
        promotes up to ``promoted-max`` instances (a group instance with all its members).
        """
        state = self.state
        if not self._claim(el):
            return []
        cid = el.get("id", "")
        where = f"{el.tag} {cid!r}"
        explicit = _explicit_meta(el, state)
        meta = dict(explicit)
        sources = dict.fromkeys(explicit, where)
        for k, v in (inherited or {}).items():      # a bundle's clone inherits the bundle's meta attributes
            if k not in meta:
                meta[k] = v
                sources[k] = (inherited_from or {}).get(k, "rsc_defaults")
        reading = _Meta(state, meta, sources)
        child = next(cib.elements(el, "primitive", "group"), None)
        promotable = el.tag == "master" or reading.boolean("promotable", False)
        if child is None:
            self._leave_out(el, f"{where} has nothing to clone; resource ignored")
            return []
        count = reading.count(("clone-max",), self._nodes_known())
        node_max = reading.count(("clone-node-max",), 1)
        ceiling = max(len(state.nodes), MAX_CLONE_INSTANCES)
        if count > ceiling:
            reading.report("clone-max", f"more instances than {len(state.nodes)} nodes can run",
                           f"creating {ceiling}")
            count = ceiling
        if "resource-stickiness" not in meta and \
                "resource-stickiness" not in self._defaults(RuleContext(now=state.now)):
            meta["resource-stickiness"] = "1"      # a clone's instances stay where they run unless told otherwise
        # clone-max=0: one instance all the same, orphaned, that a history of the clone can be matched to
        # (as Pacemaker's clone unpacking creates one); it never runs.
        instances = [self.one(child, None, meta, f"{child.get('id')}:{i}", sources) for i in range(max(count, 1))]
        if any(i is None for i in instances):
            for instance in instances:
                for part in [] if instance is None else [instance, *instance.children]:
                    state.by_id.pop(part.id, None)
            self._leave_out(el, f"{where}: its {child.tag} {child.get('id')!r} cannot be used; resource ignored")
            return []
        kept = [i for i in instances if i is not None]
        clone = Resource(id=cid, kind="clone", meta=meta, children=kept)
        if not self._register(cid, clone, where):
            for instance in kept:
                for part in (instance, *instance.children):
                    state.by_id.pop(part.id, None)
            return []
        _parse_meta(clone, state, self.any_unfencing, reading)
        clone.promotable = promotable
        clone.promoted_max = reading.count(("promoted-max", "master-max"), 1)
        clone.promoted_node_max = reading.count(("promoted-node-max", "master-node-max"), 1)
        if Role.parse(meta.get("target-role")) == Role.UNPROMOTED:
            clone.promoted_max = 0
        for instance in kept:
            for part in (instance, *instance.children):
                part.clone_of = cid
                part.orphan = count == 0
                state.clones.setdefault(part.base_id, []).append(part)
                if node_max == 0:       # no instance may run on any node
                    part.status.unpack_scores.append((None, -INF, f"clone {cid}: clone-node-max=0"))
        state.clones[cid] = kept
        return list(kept)

    def one(self, el: Element, parent: Resource | None, inherited: dict[str, str] | None = None,
            instance_id: str | None = None, inherited_from: dict[str, str] | None = None) -> Resource | None:
        """One resource; ``inherited`` holds the meta attributes explicitly set on its ancestors, nearest first,
        ``inherited_from`` where each was set (``instance_id``: the id of one clone instance of it)."""
        state = self.state
        if not self._claim(el):
            return None
        rid = instance_id or el.get("id") or ""
        where = f"{el.tag} {el.get('id')!r}"
        origin = el                    # where it sits in the CIB (a template's expansion sits nowhere)
        if el.tag == "primitive" and el.get("template") is not None:
            expanded = expand_template(el)
            if expanded is None:
                self._leave_out(el, f"{where}: template={shown(el.get('template') or '')} names no template; "
                                "resource ignored")
                return None
            el = expanded
        if el.tag == "primitive" and not self._usable_agent(origin, el, where):
            return None
        agent = {k: el.get(k, "") for k in ("class", "provider", "type") if el.get(k)}
        explicit = _explicit_meta(el, state)
        meta: dict[str, str] = dict(explicit)
        sources = dict.fromkeys(explicit, where)
        for k, v in (inherited or {}).items():
            if k not in meta:
                meta[k] = v
                sources[k] = (inherited_from or {}).get(k, "rsc_defaults")
        ctx = RuleContext(now=state.now, agent=agent if el.tag == "primitive" else None)
        for k, v in self._defaults(ctx).items():
            meta.setdefault(k, v)
        meta = {k: v for k, v in meta.items() if v != "#default"}
        rsc = Resource(id=rid, kind=el.tag, parent=parent, agent=agent, meta=meta)
        reading = _Meta(state, meta, sources)
        _parse_meta(rsc, state, self.any_unfencing, reading)
        if not self._register(rid, rsc, where):
            return None
        if el.tag == "group":
            for_members = dict(explicit)
            members_from = dict.fromkeys(explicit, where)
            for k, v in (inherited or {}).items():
                if k not in for_members:
                    for_members[k] = v
                    members_from[k] = (inherited_from or {}).get(k, "rsc_defaults")
            suffix = rid[len(el.get("id", "")):]       # ":N" in a clone instance of the group
            for child in el.iterfind("primitive"):
                member = self.one(child, rsc, for_members, f"{child.get('id')}{suffix}" if suffix else None,
                                  members_from)
                if member is not None:
                    rsc.children.append(member)
            if not rsc.children:
                del state.by_id[rid]
                self._leave_out(el, f"{where} has no members that can be used; resource ignored")
                return None
            return rsc
        if agent.get("class") == "stonith":
            state.have_fencing = True
            if (meta.get("provides") or "").lower() == "unfencing" and state.fencing_enabled:
                state.unfencing = True
        _parse_params(el, rsc, state, origin)
        ops_key = (id(el), tuple(sorted(agent.items())))
        ops = self._ops.get(ops_key)
        if ops is None:
            ops = self._ops[ops_key] = _parse_ops(el, rsc, state, where)
        rsc.ops = ops
        rsc.utilization = _utilization(el, state, where)
        return rsc

    def _usable_agent(self, origin: Element, el: Element, where: str) -> bool:
        """Whether a primitive names its agent as Pacemaker's schema requires: a known class, a provider for
        ocf, a type. Without one there is nothing to run (the executor could only fail every action)."""
        cls, provider, kind = el.get("class"), el.get("provider"), el.get("type")
        problem = None
        if not cls:
            problem = "class is missing"
        elif cls not in RESOURCE_CLASSES:
            problem = f"class={shown(cls)} is not a resource class ({', '.join(RESOURCE_CLASSES)})"
        elif cls == "ocf" and not provider:
            problem = "provider is missing (an ocf agent is named by its provider too)"
        elif not kind:
            problem = "type is missing"
        if problem is None:
            return True
        self._leave_out(origin, f"{where}: {problem}; resource ignored")
        return False


def _explicit_meta(el: Element, state: ClusterState) -> dict[str, str]:
    return nvsets(el, "meta_attributes", RuleContext(now=state.now))


def _utilization(el: Element, state: ClusterState, where: str | None = None) -> dict[str, int]:
    """A node's capacities or a resource's needs (``<utilization>``), as whole numbers."""
    out: dict[str, int] = {}
    where = where or f"{el.tag} {el.get('id')!r}"
    for name, value in nvsets(el, "utilization", RuleContext(now=state.now)).items():
        number = whole_int(value, None, INT64_MIN, INT64_MAX)
        if number is None:
            state.config_error(f"{where}: utilization {name}={shown(value)} is not a whole number; ignored")
        else:
            out[name] = number
    return out


#: What ``multiple-active`` may say; anything else is the default, stop_start.
MULTIPLE_ACTIVE = ("block", "stop_only", "stop_start", "stop_unexpected")
#: Boolean meta attributes read elsewhere with the default false: a value that is no boolean is false there too.
_FALSE_BY_DEFAULT = ("globally-unique", "interleave", "notify", "ordered", "allow-migrate",
                     "allow-unhealthy-nodes", "maintenance")


def _parse_meta(rsc: Resource, state: ClusterState, any_unfencing: bool, meta_reading: _Meta | None = None) -> None:
    """Read the meta attributes the scheduler acts on; a value Pacemaker would refuse is reported and replaced
    as Pacemaker replaces it."""
    meta = rsc.meta
    reading = meta_reading if meta_reading is not None else _Meta(state, meta, {})
    rsc.priority = reading.score("priority", 0)
    rsc.stickiness = reading.score("resource-stickiness", 0)
    threshold = meta.get("migration-threshold")
    if threshold is None:
        rsc.migration_threshold = INF
    else:
        value = parse_score(threshold, -1)
        rsc.migration_threshold = INF if value < 0 else value
        reading.checked("migration-threshold", "failures never move the resource" if value <= 0
                        else f"using {format_score(value)}")
    timeout = meta.get("failure-timeout")
    rsc.failure_timeout_ms = interval_ms(timeout) if timeout else 0
    if timeout:
        reading.checked("failure-timeout", "using 0: failures do not expire")
    rsc.managed = reading.boolean("is-managed", True)
    if is_true(meta.get("maintenance"), False) or state.maintenance_mode:
        rsc.managed = False
        rsc.maintenance = True
    role = Role.parse(meta.get("target-role"))
    if role is None and meta.get("target-role") not in (None, "default"):
        reading.checked("target-role", "ignored")
    if role is not None and role != Role.STARTED:
        rsc.target_role = role if role in (Role.STOPPED, Role.STARTED) else None
        if role in (Role.UNPROMOTED, Role.PROMOTED):
            rsc.target_role = None
    rsc.multiple_active = meta.get("multiple-active", "stop_start")
    if rsc.multiple_active not in MULTIPLE_ACTIVE:
        reading.checked("multiple-active", "using stop_start")
        rsc.multiple_active = "stop_start"
    rsc.critical = reading.boolean("critical", True)
    for name in _FALSE_BY_DEFAULT:
        reading.checked(name, "treated as false")
    requires = meta.get("requires")
    if requires is not None and requires not in ("nothing", "quorum", "fencing", "unfencing"):
        reading.checked("requires", "using the default")
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
    for child in cib.elements(source):
        if child.tag == "operations":
            ops += list(child.iterfind("op"))
        else:
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
    has_rules = any(child.find("rule") is not None for src in sources
                    for child in cib.elements(src, "instance_attributes"))

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


def _op_ms(state: ClusterState, where: str, name: str, text: str, default_ms: int) -> int:
    """An operation's interval or timeout in ms: clipped to 32 bits as Pacemaker clips it, ``default_ms`` (with a
    configuration error) when ``text`` is no duration, as Pacemaker falls back ("Using 0 instead of ...")."""
    ms = parse_op_ms(text)
    if ms is None:
        state.config_error(f"{where}: {name}={shown(text)} is not a duration (such as 10s, 5min, 500ms or PT1M); "
                           f"using {default_ms} ms")
        return default_ms
    if ms == MAX_OP_MS and (parse_interval_ms(text) or MAX_OP_MS + 1) > MAX_OP_MS:
        state.config_error(f"{where}: {name}={shown(text)} is longer than an operation may take or wait "
                           f"(49 days); using {MAX_OP_MS} ms")
    return ms


def _parse_ops(el: Element, rsc: Resource, state: ClusterState, where: str | None = None) -> list[OpDef]:
    """The resource's ``<op>`` definitions. One that cannot be used is reported: without a name, or with a
    role that is none, it is ignored (as Pacemaker ignores it); a bad interval, timeout, start-delay, on-fail
    or enabled is replaced by what Pacemaker uses instead (0, 20s, 0, the default, enabled)."""
    # Children picked by tag rather than find()/iterfind(): lxml's path matching costs more than walking the
    # one or two children a primitive has, and this runs for every primitive.
    ops_el = next(cib.elements(el, "operations"), None)
    out: list[OpDef] = []
    if ops_el is None:
        return out
    where = where or f"{el.tag} {el.get('id')!r}"
    seen: dict[tuple[str, int], str] = {}
    for op in list(cib.elements(ops_el, "op")):
        opdef = _parse_op(op, rsc, state, where, seen)
        if opdef is not None:
            out.append(opdef)
    return out


def _op_problem(key: str, value: str | None) -> str | None:
    check = OP_ATTRIBUTES.get(key)
    return None if value is None or check is None or value == "#default" else check(value)


def _parse_op(op: Element, rsc: Resource, state: ClusterState, where: str,
              seen: dict[tuple[str, int], str]) -> OpDef | None:
    """One ``<op>`` (None: ignored). Runs once per op of a large CIB: the where-strings of the messages are
    only made when there is something to say, and contexts only when there are sets to evaluate."""
    attrs = cib.attributes(op)
    op_where = f"{where}: op {shown(attrs.get('id') or '')}"
    name = attrs.get("name", "")
    if not name:
        state.config_error(f"{op_where}: name is missing; operation ignored")
        return None
    ms = _op_ms(state, op_where, "interval", attrs.get("interval", "0"), 0)
    has_sets = len(op) > 0
    op_meta = nvsets(op, "meta_attributes", RuleContext(now=state.now)) if has_sets else {}
    ctx = RuleContext(now=state.now, agent=rsc.agent, op=(name, ms))
    defaults = state.op_defaults.get(ctx)

    def pick(key: str) -> tuple[str | None, str]:
        """The op's value of ``key`` (its attribute, its meta attributes, op_defaults) and who set it."""
        value = attrs.get(key)
        if value is not None:
            return value, op_where
        if key in op_meta:
            return op_meta[key], op_where
        return defaults.get(key), "op_defaults"

    timeout, timeout_from = pick("timeout")
    role, role_from = pick("role")
    if role is not None and Role.parse(role) is None:
        state.config_error(f"{role_from}: role={shown(role)} is not a role; operation ignored")
        return None
    on_fail, on_fail_from = pick("on-fail")
    if (why := _op_problem("on-fail", on_fail)) is not None and \
            (on_fail or "").lower() not in ("nothing", "migrate"):
        state.config_error(f"{on_fail_from}: on-fail={shown(on_fail or '')} is {why}; using the default")
    enabled_text, enabled_from = pick("enabled")
    enabled = is_true(enabled_text, True)
    if _op_problem("enabled", enabled_text) is not None:      # Pacemaker runs it (checked with crm_simulate)
        state.config_error(f"{enabled_from}: enabled={shown(enabled_text or '')} is not a boolean (true or "
                           "false); the operation stays enabled")
    # Everything the <op> says beyond its identity reaches the agent as CRM_meta_* (start-delay,
    # on-fail, OCF_CHECK_LEVEL, ...), as Pacemaker passes it; meta_attributes win over attributes.
    meta = {k: v for k, v in attrs.items() if k not in OP_IDENTITY}
    meta.update(op_meta)
    delay = meta.get("start-delay")
    if delay is not None and parse_op_ms(delay) is None:
        state.config_error(f"{op_where}: start-delay={shown(delay)} is not a duration (such as 10s, 5min, "
                           "500ms or PT1M); using 0")
        meta["start-delay"] = "0"
    key = (name, ms)
    if key in seen:
        state.config_error(f"{op_where}: duplicates op {shown(seen[key])} (the same name and interval); "
                           "the first one is used")
    seen.setdefault(key, attrs.get("id") or "")
    return OpDef(name, ms,
                 _op_ms(state, timeout_from, "timeout", timeout, DEFAULT_TIMEOUT_MS) if timeout else DEFAULT_TIMEOUT_MS,
                 role, on_fail, enabled, meta, nvsets(op, "instance_attributes", ctx) if has_sets else {},
                 attrs.get("id", ""))


def op_timeout_ms(state: ClusterState, rsc: Resource, task: str, interval: int) -> int:
    """Timeout of an action: its op definition, else op_defaults, else 20 s (also for an op_defaults timeout
    that is no duration, as Pacemaker falls back)."""
    for op in rsc.ops:
        if op.name == task and op.interval_ms == interval:
            return op.timeout_ms
    ctx = RuleContext(now=state.now, agent=rsc.agent, op=(task, interval))
    value = state.op_defaults.get(ctx).get("timeout")
    if value:
        return _op_ms(state, "op_defaults", "timeout", value, DEFAULT_TIMEOUT_MS)
    return DEFAULT_TIMEOUT_MS


# ------------------------------------------------------------------ constraints

def _unpack_constraints(root: Element, state: ClusterState) -> None:
    for tag in root.iterfind("configuration/tags/tag"):
        state.tags[tag.get("id", "")] = [ref.get("id", "") for ref in tag.iterfind("obj_ref")]
    resources = cib.section(root, "resources", create=False)
    if resources is not None:
        state.configured_ids = {i for el in resources.iter("primitive", "group", "clone", "master", "bundle",
                                                           "template") if (i := el.get("id"))}
        # A constraint naming a template names every primitive made from it (Pacemaker's template_rsc_sets).
        for el in resources.iter("primitive"):
            template = el.get("template")
            if template is not None and el.get("id") and template not in state.tags:
                state.template_members.setdefault(template, []).append(el.get("id", ""))
    state.configured_ids |= set(state.tags)
    cons = cib.section(root, "constraints", create=False)
    if cons is None:
        return
    for el in cib.elements(cons):
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
    if rid in state.template_members and rid not in state.by_id:
        return [state.by_id[r] for r in state.template_members[rid] if r in state.by_id]
    found = _resolve_rsc(state, rid)
    return [] if found is None else [found]


def _resolve_sides(el: Element, state: ClusterState, kind: str, one: str, other: str
                   ) -> tuple[list[Resource], list[Resource]] | None:
    """The resources on each side of an order or colocation, or None (with a configuration error) when it
    cannot be used."""
    first, second = _resolve_many(state, el.get(one)), _resolve_many(state, el.get(other))
    for attr, found in ((one, first), (other, second)):
        if not found:
            value = el.get(attr)
            where = f"{kind} {shown(el.get('id') or '')}"
            if value is None:
                state.config_error(f"{where}: {attr} is missing; constraint ignored")
            else:
                state.unusable_reference(where, f"{attr}={shown(value)}", value)
            return None
    return first, second


def _score(state: ClusterState, where: str, attr: str, text: str | None, default: int) -> int:
    """A score attribute; one that is no score is reported and ``default`` used, as Pacemaker's char2score
    falls back."""
    if text is None:
        return default
    value = score_or_none(text)
    if value is None:
        state.config_error(f"{where}: {attr}={shown(text)} is not a score (an integer, INFINITY or -INFINITY); "
                           f"using {default}")
        return default
    return value


def _role_attr(el: Element, state: ClusterState, where: str, attr: str) -> Role | None:
    """A constraint's role filter; one that is no role is reported and ignored (the constraint holds for every
    role, as Pacemaker applies it)."""
    text = el.get(attr)
    role = Role.parse(text)
    if text is not None and role is None:
        state.config_error(f"{where}: {attr}={shown(text)} is not a role; the constraint holds for every role")
    return None if role in (None, Role.STARTED) else role


def _unpack_order(el: Element, state: ClusterState) -> None:
    where = f"order {shown(el.get('id') or '')}"
    kind = el.get("kind")
    if kind is None:
        score = el.get("score")
        kind = "Mandatory" if score is None or _score(state, where, "score", score, 0) != 0 else "Optional"
    if kind not in ("Mandatory", "Optional", "Serialize"):
        state.config_error(f"{where}: kind={shown(kind)} is not one of Mandatory, Optional, Serialize; "
                           "using Mandatory")
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
    oid = el.get("id", "")
    for first in sides[0]:
        required = _instances_required(el, first)
        for then in sides[1]:
            if required:
                state.one_or_more.append(OneOrMore(id=f"clone-one-or-more:{oid}", firsts=list(first.children),
                                                   first_action=first_action, thens=[then], then_action=then_action,
                                                   kind=kind, required=required))
            state.orderings.append(Ordering(id=oid, first=first, then=then, first_action=first_action,
                                            then_action=then_action, kind=kind, symmetrical=symmetrical,
                                            forward=not required))


def _instances_required(el: Element, first: Resource) -> int:
    """How many instances of a clone ordered first must be able to run before the then-side may: its
    ``clone-min``, or 1 for the deprecated ``require-all="false"`` of the order (0: an ordinary ordering), as
    Pacemaker's order unpacking creates its ``clone-one-or-more`` pseudo-action."""
    if not first.is_clone:
        return 0
    text = first.meta.get("clone-min")
    if text is not None:
        return leading_int(text, 0, 0, _INT_MAX) or 0
    return 1 if el.get("require-all") is not None and not is_true(el.get("require-all"), True) else 0


def colocation_sort_key(other: Resource) -> tuple:
    """Pacemaker's cmp_colocation_priority: higher priority first, then the higher variant, then (between
    clones) a promotable one first, then the id."""
    return (-other.priority, -other.variant_rank, 0 if other.is_clone and other.promotable else 1, other.id)


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
    where = f"colocation {shown(el.get('id') or '')}"
    score = _score(state, where, "score", el.get("score"), 0)
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
                dependent_role=_role_attr(el, state, where, "rsc-role"),
                primary_role=_role_attr(el, state, where, "with-rsc-role"),
                node_attribute=el.get("node-attribute") or "#uname",
                influence=influence if influence is not None else dependent.critical))


#: What ``resource-discovery`` may say.
_DISCOVERY = ("always", "never", "exclusive")


def _unpack_location(el: Element, state: ClusterState) -> None:
    where = f"location {shown(el.get('id') or '')}"
    targets: list[tuple[Resource, tuple[str, ...]]] = []
    #: per resource named through a resource set: the set's role and score, which stand in for the constraint's
    from_set: dict[int, tuple[Role | None, str | None]] = {}
    rid = el.get("rsc")
    if rid is not None:
        if rid in state.clones:     # a location on a clone holds for each of its instances
            targets += [(instance, ()) for instance in state.clones[rid]]
        elif rid in state.tags:     # and one on a tag for each resource it names (instances of a clone too)
            for rsc in _resolve_many(state, rid):
                targets += [(i, ()) for i in state.clones.get(rsc.id, [])] if rsc.is_clone else [(rsc, ())]
        else:
            named = _resolve_rsc(state, rid)
            if named is None:
                state.unusable_reference(where, f"rsc={shown(rid)}", rid)
                return
            targets.append((named, ()))
    elif el.get("rsc-pattern") is not None:
        pattern = el.get("rsc-pattern", "")
        invert = pattern.startswith("!")
        try:
            regex = re.compile(pattern[1:] if invert else pattern)
        except (re.error, OverflowError, RecursionError):
            state.config_error(f"{where}: rsc-pattern={shown(pattern)} is not a regular expression; "
                               "constraint ignored")
            return
        # Only top-level resources are matched (unpack_rsc_location): not a group's members, a clone's
        # instances or a bundle's parts.
        for rsc in [r for r in state.by_id.values() if r.parent is None and r.clone_of is None and r.in_bundle is None]:
            m = regex.search(rsc.id)
            found = (rsc, ()) if invert and m is None else \
                (rsc, (m.group(0), *[g or "" for g in m.groups()])) if not invert and m is not None else None
            if found is not None:       # a clone's location holds for each of its instances, as by name
                targets += [(i, found[1]) for i in state.clones[rsc.id]] if rsc.is_clone else [found]
    elif el.find("resource_set") is not None:
        # Every resource of every set gets the location, with the set's role and score (unpack_location_set).
        for rset in el.iterfind("resource_set"):
            set_role = _role_attr(rset, state, where, "role")
            for ref in rset.iterfind("resource_ref"):
                for rsc in _resolve_many(state, ref.get("id")):
                    for target in (state.clones.get(rsc.id, []) if rsc.is_clone else [rsc]):
                        targets.append((target, ()))
                        from_set[id(target)] = (set_role, rset.get("score"))
    else:
        state.config_error(f"{where}: names no resource (rsc, rsc-pattern or a resource set); "
                           "constraint ignored")
        return
    discovery = el.get("resource-discovery") or "always"
    if discovery not in _DISCOVERY:
        state.config_error(f"{where}: resource-discovery={shown(discovery)} is not one of "
                           f"{', '.join(_DISCOVERY)}; using always")
        discovery = "always"
    role = _role_attr(el, state, where, "role")
    node_name = el.get("node")
    node_score = _score(state, where, "score", el.get("score"), 0) if node_name is not None else 0
    rule = el.find("rule")
    rule_role = _role_attr(rule, state, where, "role") if rule is not None and node_name is None else None
    for rsc, subs in targets:
        scores: list[tuple[str, int]] = []
        set_role, set_score = from_set.get(id(rsc), (None, None))
        if node_name is not None:
            if node_name not in state.nodes:
                continue
            scores.append((node_name, node_score if set_score is None
                           else _score(state, where, "score", set_score, 0)))
        else:
            if rule is None:
                continue
            role = set_role or role or rule_role
            for node in state.nodes.values():
                ctx = RuleContext(node_attrs=node.attrs, now=state.now, agent=rsc.agent,
                                  params=rsc.params_on(node.name), meta=rsc.meta, submatches=subs)
                if not evaluate(rule, ctx):
                    continue
                score = rule_score(rule, node.attrs, subs)
                if score is not None:
                    scores.append((node.name, score))
        state.locations.append(Location(id=el.get("id", ""), rsc=rsc, node_scores=scores, role=set_role or role,
                                        discovery=discovery))
