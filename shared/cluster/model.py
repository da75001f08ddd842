"""The unpacked cluster: nodes, resources and constraints as the scheduler reasons about them.

These are plain mutable records. ``unpack`` fills them from the CIB, placement
adds allowed-node scores and assignments, and action creation reads both; the
CIB element tree is never consulted again after unpacking.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING

from paceline.shared.cluster.rules import NvsetMemo
from paceline.shared.cluster.scores import INF

_TRUE = ("true", "yes", "y", "on", "1")

if TYPE_CHECKING:
    from paceline.shared.cluster.tickets import RscTicket, Ticket


class Role(IntEnum):
    UNKNOWN = 0
    STOPPED = 1
    STARTED = 2
    UNPROMOTED = 3
    PROMOTED = 4

    @classmethod
    def parse(cls, text: str | None) -> Role | None:
        return _ROLE_NAMES.get((text or "").lower())

    @property
    def text(self) -> str:
        return {0: "Unknown", 1: "Stopped", 2: "Started", 3: "Unpromoted", 4: "Promoted"}[self.value]


_ROLE_NAMES = {"stopped": Role.STOPPED, "started": Role.STARTED, "unpromoted": Role.UNPROMOTED,
               "slave": Role.UNPROMOTED, "promoted": Role.PROMOTED, "master": Role.PROMOTED}


# on-fail values, least to most severe (Pacemaker compares them by this order).
ON_FAIL_ORDER = ["ignore", "demote", "restart", "reset-remote", "restart-container", "ban", "block",
                 "stop", "standby", "fence"]


def on_fail_rank(value: str) -> int:
    return ON_FAIL_ORDER.index(value) if value in ON_FAIL_ORDER else 0


@dataclass
class Node:
    name: str
    id: str
    base_score: int = 0
    kind: str = "member"
    attrs: dict[str, str] = field(default_factory=dict)
    online: bool = False
    unclean: bool = False
    standby: bool = False
    maintenance: bool = False
    shutdown: bool = False
    pending: bool = False
    seen: bool = False
    expected_up: bool = False
    fence_reason: str | None = None
    fence_at_unpack: bool = False
    num_resources: int = 0          # primitives assigned here during this run (tie-break)
    capacity: dict[str, int] = field(default_factory=dict)   # <utilization> of the node
    fail_index: dict[str, tuple[int, int]] | None = None    # rsc -> (fail count, last failure), lazily
    # ---- remote and guest nodes (kind "remote" or "guest"; see remote.py)
    remote_rsc: str | None = None           # the connection resource that brings the node in
    unseen: bool = False                    # unclean only until its connection is placed somewhere
    remote_was_fenced: bool = False         # node_state node_fenced: fenced since the connection dropped
    remote_requires_reset: bool = False     # must be fenced (a guest: its container recovered)
    rsc_discovery: bool = True              # resource-discovery-enabled: probes run here
    from_history: bool = False              # made by an orphaned connection: in no resource's default table
    bundle_node: bool = False               # a bundle replica's guest node: in no resource's default table either,
    #: but those of the resources unpacked before its bundle made it, when the configuration declared it already
    #: (Pacemaker builds a table as it unpacks each resource)
    in_tables_of: set[str] = field(default_factory=set)
    declared: bool = False                  # a <node> entry names it (its attributes live there)
    #: (online, unclean, shutdown) as the CIB said, kept when the scheduler brings a remote node online for
    #: its connection's new place (the status shows the cluster as it was)
    as_read: tuple[bool, bool, bool] | None = None

    @property
    def available(self) -> bool:
        """May new resources be placed here?"""
        return (self.online and not self.unclean and not self.standby and not self.maintenance
                and not self.shutdown and not self.pending)

    def mark_unclean(self, reason: str, at_unpack: bool = True) -> None:
        self.unclean = True
        if self.fence_reason is None:
            self.fence_reason = reason
            self.fence_at_unpack = at_unpack


@dataclass
class OpDef:
    """One configured ``<op>``: what the agent is asked to run and how failures are treated."""

    name: str
    interval_ms: int
    timeout_ms: int
    role: str | None = None
    on_fail: str | None = None
    enabled: bool = True
    meta: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    op_id: str = ""


@dataclass
class FailedOp:
    """A failed history entry, kept for the "Failed Resource Actions" section."""

    rsc: str
    task: str
    interval_ms: int
    node: str
    rc: int
    op_status: int
    exit_reason: str
    call_id: int
    last_rc_change: int
    exec_ms: int = 0
    queue_ms: int = 0
    key: str = ""                   # operation_key (else the entry's id): what crm_mon names the action by
    rc_change: int | None = None    # last-rc-change alone, None when the entry has none


@dataclass
class HistoryOp:
    """One ``lrm_rsc_op`` entry as the scheduler needs it."""

    id: str
    task: str
    interval_ms: int
    rc: int
    op_status: int
    call_id: int
    expected_rc: int
    last_rc_change: int
    digest: str | None
    restart_digest: str | None
    secure_digest: str | None
    doc_index: int
    exit_reason: str = ""
    exec_ms: int = 0
    queue_ms: int = 0
    secure_params: str | None = None
    force_restart: str | None = None
    key: str = ""                   # operation_key, else the id
    rc_change: int | None = None    # last-rc-change alone (``last_rc_change`` falls back to last-run)
    migrate_source: str | None = None   # a migrate_to's or migrate_from's two nodes
    migrate_target: str | None = None
    on_node: str | None = None          # the node it ran on, as the entry records it


@dataclass
class Placement:
    """Where one scheduler run is placing a resource: its allowed-node table, the node chosen, and the flags
    that keep assignment and colocation merging from looping. Scratch state, written by placement only."""

    allowed: dict[str, int] = field(default_factory=dict)
    assigned: str | None = None
    assign_done: bool = False
    assigning: bool = False
    merging: bool = False


@dataclass(repr=False)
class Replica:
    """One replica of a bundle (``pcmk__bundle_replica_t``): its container, address, connection and the
    instance of the bundled resource that runs on its guest node (see bundle.py)."""

    offset: int
    container: Resource
    ip: Resource | None = None
    remote: Resource | None = None
    child: Resource | None = None
    ipaddr: str | None = None

    @property
    def node(self) -> str | None:
        """The guest node the replica makes (its connection's name)."""
        return self.remote.id if self.remote is not None else None

    def parts(self) -> list[Resource]:
        """Its primitives in Pacemaker's order: address, bundled instance, container, connection."""
        return [r for r in (self.ip, self.child, self.container, self.remote) if r is not None]


@dataclass(repr=False)
class BundleInfo:
    """What a bundle as a whole knows besides its resources (``pe__bundle_variant_data_t``)."""

    engine: str
    image: str
    replicas: list[Replica] = field(default_factory=list)
    per_host: int = 1
    child: Resource | None = None       # the clone of the bundled primitive
    unique: bool = False


@dataclass
class RscStatus:
    """What the CIB's status section says of a resource now (Pacemaker unpacks it from the operation history):
    its role and where it is active, failures, pending and migrating operations, and the history itself.
    Kept apart from the configuration (the rest of :class:`Resource`) and from one scheduler run's scratch
    state (:class:`Placement`): unpack writes it, the scheduler and the status pages read it."""

    role: Role = Role.STOPPED
    active_on: list[str] = field(default_factory=list)     # unpack order
    known_on: set[str] = field(default_factory=set)
    failed: bool = False
    stop_if_failed: bool = False
    blocked: bool = False
    frozen: bool = False                # blocked by a lost ticket's loss-policy=freeze: nothing failed
    ignore_failure: bool = False
    pending_task: dict[str, str] = field(default_factory=dict)   # node -> pending task
    fail_cleared: set[str] = field(default_factory=set)   # nodes whose fail count is being cleared
    #: node -> rc of a probe that found the agent not installed or misconfigured there (crm_mon shows the
    #: resource "Stopped (not installed)"; no failure to list: Pacemaker masks those)
    failed_probes: dict[str, int] = field(default_factory=dict)
    # ---- live migration found in the history (see migration_history.py)
    partial_migration: tuple[str, str] | None = None   # (source, target): migrate_to done, migrate_from not
    dangling_migrations: list[str] = field(default_factory=list)   # sources a completed migration left
    migration_failed: bool = False      # a failed migration: recover by stop and start, never migrate again
    lock_node: str | None = None        # shutdown lock: held for this node (see locks.py)
    lock_time: float = 0.0
    history: dict[str, list[HistoryOp]] = field(default_factory=dict)   # node -> sorted ops
    active_monitors: dict[str, set[int]] = field(default_factory=dict)  # node -> intervals
    # (node or None for every node, score, why): bans and pins found while reading the history
    unpack_scores: list[tuple[str | None, int, str]] = field(default_factory=list)


@dataclass(repr=False)
class Resource:
    id: str
    kind: str                                   # "primitive", "group", "clone" (a clone as a whole) or "bundle"
    parent: Resource | None = None
    children: list[Resource] = field(default_factory=list)
    agent: dict[str, str] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    node_params: dict[str, dict[str, str]] = field(default_factory=dict)   # per node when rules differ
    ops: list[OpDef] = field(default_factory=list)
    utilization: dict[str, int] = field(default_factory=dict)   # what it takes of a node's capacity
    priority: int = 0
    stickiness: int = 0
    migration_threshold: int = INF
    failure_timeout_ms: int = 0
    managed: bool = True
    maintenance: bool = False
    target_role: Role | None = None
    requires: str = "quorum"
    multiple_active: str = "stop_start"
    critical: bool = True
    orphan: bool = False
    doc_index: int = 0
    # ---- launcher (``container`` meta attribute): a resource that runs inside another one
    launcher: Resource | None = None
    launched: list[Resource] = field(default_factory=list)
    restart_on: set[str] = field(default_factory=set)      # nodes where a launched rsc's failure restarts us
    # ---- what the status section says of it now, in a record of its own
    status: RscStatus = field(default_factory=lambda: RscStatus())
    next_role: Role | None = None
    next_role_reason: str = ""
    clone_of: str | None = None         # the clone this is an instance of (id RSC:N)
    history_name: str | None = None     # an anonymous instance: the id its history names it by (clone_name)
    # ---- a clone as a whole (kind "clone"; its children are the instances)
    promotable: bool = False
    promoted_max: int = 1
    promoted_node_max: int = 1
    # ---- bundles: the bundle as a whole (kind "bundle") has its replicas here; its parts name it
    bundle: BundleInfo | None = None
    in_bundle: str | None = None        # the bundle this container, address, connection or clone belongs to
    #: the allowed-node table it starts from, instead of every node's own score: a bundled instance has its
    #: replica's guest node only, at 500 (``create_remote_resource``)
    pinned: dict[str, int] | None = None
    # ---- placement: one scheduler run's scratch state, in a record of its own
    place: Placement = field(default_factory=lambda: Placement())
    discovery: dict[str, str] = field(default_factory=dict)     # node -> always/never/exclusive
    this_with: list[Colocation] = field(default_factory=list)
    with_this: list[Colocation] = field(default_factory=list)

    _history_id: str | None = field(init=False, repr=False, default=None)    # history_id, once worked out
    _history_of: str | None = field(init=False, repr=False, default=None)    # for this clone_of
    is_group: bool = field(init=False, repr=False, default=False)   # kind == "group", asked very often
    is_clone: bool = field(init=False, repr=False, default=False)   # kind == "clone"
    is_bundle: bool = field(init=False, repr=False, default=False)  # kind == "bundle"

    def __post_init__(self) -> None:
        # Set here as well as declared: compiled (mypyc) dataclasses do not fill defaults of init=False fields.
        self._history_id = None
        self._history_of = None
        self.is_group = self.kind == "group"
        self.is_clone = self.kind == "clone"
        self.is_bundle = self.kind == "bundle"

    def __repr__(self) -> str:
        # Resources point at each other (parents, colocations, launchers): the generated repr would walk the
        # whole cluster, which is what a failing test's assertion message would try to print.
        return f"Resource({self.id!r}, {self.kind})"

    @property
    def base_id(self) -> str:
        """A clone instance's (or its member's) id without the instance number; anything else's own id."""
        return self.id.rsplit(":", 1)[0] if self.clone_of is not None else self.id

    @property
    def history_id(self) -> str:
        """The id the executor and the CIB status know it by: an anonymous clone's instances share their
        base id (one instance per node), a globally unique clone's are told apart (``RSC:N``), as Pacemaker
        records them. Asked very often: worked out once the resource is a clone instance."""
        if self.clone_of is None:
            return self.id
        if self._history_id is None or self._history_of != self.clone_of:
            unique = (self.meta.get("globally-unique") or "").lower() in _TRUE
            self._history_id = self.id if unique else self.base_id
            self._history_of = self.clone_of
        return self._history_id

    def primitives(self) -> list[Resource]:
        if not self.is_group and not self.is_clone and not self.is_bundle:
            return [self]
        return [m for c in self.children for m in c.primitives()]

    def top(self) -> Resource:
        return self.parent.top() if self.parent is not None else self

    def params_on(self, node: str | None) -> dict[str, str]:
        if node is not None and node in self.node_params:
            return self.node_params[node]
        return self.params

    @property
    def variant_rank(self) -> int:
        return 3 if self.is_bundle else 2 if self.is_clone else 1 if self.is_group else 0


@dataclass
class Colocation:
    id: str
    dependent: Resource
    primary: Resource
    score: int
    dependent_role: Role | None = None
    primary_role: Role | None = None
    node_attribute: str = "#uname"
    influence: bool = True

    @property
    def mandatory(self) -> bool:
        return self.score >= INF or self.score <= -INF


@dataclass
class Ordering:
    id: str
    first: Resource
    then: Resource
    first_action: str
    then_action: str
    kind: str = "Mandatory"
    symmetrical: bool = True
    forward: bool = True        # False: only the inverse (the forward half is a clone-one-or-more join)


@dataclass
class OneOrMore:
    """An ordering from a ``require-all="false"`` set: the thens may go once any one of the firsts has."""
    id: str                      # one-or-more:<set id>, as Pacemaker names its pseudo-action
    firsts: list[Resource]
    first_action: str
    thens: list[Resource]
    then_action: str
    kind: str = "Mandatory"
    required: int = 1            # how many firsts must be able to run (a clone's clone-min)


@dataclass
class Location:
    id: str
    rsc: Resource
    node_scores: list[tuple[str, int]]          # evaluated per node already
    role: Role | None = None
    discovery: str = "always"


@dataclass
class ClusterState:
    nodes: dict[str, Node]                      # in Pacemaker's node-name order
    resources: list[Resource]                   # top level, in assignment order
    by_id: dict[str, Resource]
    options: dict[str, str]
    now: float
    quorate: bool
    fencing_enabled: bool
    have_fencing: bool
    no_quorum_policy: str
    symmetric: bool
    stop_orphans: bool = True
    maintenance_mode: bool = False
    stop_all: bool = False
    probes_enabled: bool = True
    fencing_action: str = "reboot"
    unfencing: bool = False        # a fence device provides unfencing: nodes are unfenced before use
    dc_uuid: str | None = None
    execution_date_given: bool = False
    locations: list[Location] = field(default_factory=list)
    colocations: list[Colocation] = field(default_factory=list)
    orderings: list[Ordering] = field(default_factory=list)
    one_or_more: list[OneOrMore] = field(default_factory=list)
    tags: dict[str, list[str]] = field(default_factory=dict)     # tag id -> the ids it names
    template_members: dict[str, list[str]] = field(default_factory=dict)   # template id -> its primitives
    tickets: dict[str, Ticket] = field(default_factory=dict)     # ticket id -> its state (tickets.py)
    rsc_tickets: list[RscTicket] = field(default_factory=list)   # rsc_ticket dependencies (tickets.py)
    failed_ops: list[FailedOp] = field(default_factory=list)
    op_defaults: NvsetMemo = field(default_factory=lambda: NvsetMemo(None, "meta_attributes"))
    warnings: list[str] = field(default_factory=list)
    #: What of the configuration cannot be used, one line each naming the object, the attribute and the value:
    #: a resource left out, a value ignored for its default. Pacemaker's configuration errors (crm_verify's
    #: "config not valid"): the policy service logs them, ``paceline simulate`` and the status page show them.
    config_errors: list[str] = field(default_factory=list)
    _config_errors_seen: set[str] = field(default_factory=set, repr=False, compare=False)
    #: Every id of a resource, template or tag the configuration has, scheduled or not, and the ids of the
    #: resources left out for a configuration error: what a constraint naming no usable resource names.
    configured_ids: set[str] = field(default_factory=set, repr=False, compare=False)
    left_out: set[str] = field(default_factory=set, repr=False, compare=False)
    # clone id -> its instances; a cloned resource's own id (a primitive, a group or a group's member) -> its
    # instances (``RSC:0``, ``RSC:1``...), which the executor and the CIB status know by that one id
    clones: dict[str, list[Resource]] = field(default_factory=dict)
    _primitives: tuple[tuple[int, int], list[Resource]] | None = field(default=None, repr=False, compare=False)

    def config_error(self, text: str) -> None:
        """Record a configuration error once (a clone's instances read the same bad value each)."""
        if text not in self._config_errors_seen:
            self._config_errors_seen.add(text)
            self.config_errors.append(text)

    def unusable_reference(self, where: str, what: str, rid: str | None) -> None:
        """A constraint is ignored because ``what`` (``rsc='x'``) names no resource that can be used.

        Naming nothing in the configuration, or a resource left out for its own configuration error, is a
        configuration error (Pacemaker: "Ignoring constraint ... because 'x' is not a valid resource or
        tag"); naming one the scheduler does not support is only a warning: the configuration is valid,
        the limit is ours."""
        text = f"{where}: {what}, not a resource or tag that can be used; constraint ignored"
        if rid is not None and rid in self.configured_ids and rid not in self.left_out:
            self.warnings.append(text)
        else:
            self.config_error(text)

    def primitives(self) -> list[Resource]:
        """Every primitive in assignment order (a fresh list; cached while the resource list is unchanged)."""
        key = (id(self.resources), len(self.resources))
        cached = self._primitives
        if cached is None or cached[0] != key:
            cached = (key, [p for r in self.resources for p in r.primitives()])
            self._primitives = cached
        return list(cached[1])

    def forget_order(self) -> None:
        """The resource list was reordered in place: what was cached in its old order is stale."""
        self._primitives = None

    def clone_sets(self) -> list[Resource]:
        """Every clone as a whole (kind "clone"), in assignment order of its instances."""
        by_id = self.by_id
        return [by_id[cid] for cid in dict.fromkeys(p.clone_of for p in self.primitives() if p.clone_of)]

    def can_fence(self, node: Node | None = None) -> bool:
        """Without quorum only nodes in our own membership may be fenced."""
        if not self.fencing_enabled or not self.have_fencing:
            return False
        if self.quorate or self.no_quorum_policy == "ignore":
            return True
        return node is not None and node.online


_DIGITS = re.compile(r"([0-9]+)", re.ASCII)


def node_sort_key(name: str) -> tuple:
    """Pacemaker's node-name order: case-insensitive with digit runs compared as numbers.

    A run of digits compares by its length without leading zeros, then by its digits: the order of their
    values, without converting a node named with 5,000 digits (int() refuses that many)."""
    parts = _DIGITS.split(name.lower())
    out = []
    for i, p in enumerate(parts):
        if not p:
            continue
        if i % 2:       # split() puts the digit runs at odd positions
            digits = p.lstrip("0") or "0"
            out.append((0, len(digits), digits))
        else:
            out.append((1, 0, p))
    return tuple(out)
