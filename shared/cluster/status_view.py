"""crm_mon-style text for an unpacked cluster: node list, resources, failed actions.

The layout is the one crm_simulate prints under "Current cluster status:", so
sysadmins read Paceline's status exactly as they read Pacemaker's.
"""

from __future__ import annotations

import time

from paceline.shared import cib, lrm
from paceline.shared.cluster import remote
from paceline.shared.cluster.model import ClusterState, FailedOp, Node, Resource, Role
from paceline.shared.cluster.values import is_true
from paceline.shared.lrm import EXEC_TEXT, RC_TEXT


def node_lines(state: ClusterState, unseen_unclean: bool = False) -> list[str]:
    """crm_mon's node list: a node in a state worth a word on a line of its own, the others summed up as
    Online and OFFLINE. ``unseen_unclean``: a node with no status entry at all counts as unclean (crm_mon
    says so; crm_simulate, after scheduling, says OFFLINE)."""
    lines: list[str] = []
    groups: dict[str, list[str]] = {}
    for node in map(remote.as_read, state.nodes.values()):
        kind = _KIND_WORDS.get(node.kind, _KIND_WORDS["cluster"])
        if node.kind == "guest" and not node.online and not node.unclean:
            continue          # crm_mon leaves out a guest whose container is not running
        if node_stands_out(node, unseen_unclean):
            lines.append(f"  * {kind[0]} {node.name}: {node_status_text(node, state, unseen_unclean)}")
        else:
            groups.setdefault(kind[1] if node.online else kind[2], []).append(node.name)
    for title in _LIST_ORDER:
        if groups.get(title):
            lines.append(f"  * {title}: [ {' '.join(groups[title])} ]")
    return lines


#: Per node kind: how crm_mon names a node on its own line, and its lists of online and offline nodes.
_KIND_WORDS = {"cluster": ("Node", "Online", "OFFLINE"), "remote": ("RemoteNode", "RemoteOnline", "RemoteOFFLINE"),
               "guest": ("GuestNode", "GuestOnline", "GuestOFFLINE")}
_LIST_ORDER = ("Online", "OFFLINE", "RemoteOnline", "RemoteOFFLINE", "GuestOnline", "GuestOFFLINE")


def node_word(node: Node) -> str:
    """How crm_mon names a node of this kind on a line of its own: Node, RemoteNode or GuestNode."""
    return _KIND_WORDS.get(node.kind, _KIND_WORDS["cluster"])[0]


def node_stands_out(node: Node, unseen_unclean: bool = False) -> bool:
    """Whether crm_mon lists a node on its own line rather than in the Online/OFFLINE summary."""
    return _unclean(node, unseen_unclean) or node.pending or node.standby or node.maintenance


def _unclean(node: Node, unseen_unclean: bool) -> bool:
    """Unclean as shown: with ``unseen_unclean``, a node with no status entry at all is too (Pacemaker takes
    every node for unclean until its state says otherwise, and crm_mon shows it so)."""
    return node.unclean or (unseen_unclean and not node.seen)


def node_status_text(node: Node, state: ClusterState, unseen_unclean: bool = False) -> str:
    """A node's state in crm_mon's words."""
    if _unclean(node, unseen_unclean):
        return "UNCLEAN (online)" if node.online else "UNCLEAN (pending)" if node.pending else "UNCLEAN (offline)"
    if node.pending:
        return "pending"
    if node.standby:
        if not node.online:
            return "OFFLINE (standby)"
        busy = any(node.name in p.status.active_on for p in state.primitives())
        return "standby (with active resources)" if busy else "standby"
    if node.maintenance:
        return "maintenance" if node.online else "OFFLINE (maintenance)"
    return "online" if node.online else "OFFLINE"


def _agent(rsc: Resource) -> str:
    return cib.agent_text(rsc.agent.get("class", ""), rsc.agent.get("provider"), rsc.agent.get("type", ""))


#: What crm_mon shows instead of the role while one of these operations is still in flight.
_PENDING_WORDS = {"start": "Starting", "stop": "Stopping", "migrate_to": "Migrating", "migrate_from": "Migrating",
                  "promote": "Promoting", "demote": "Demoting"}


def printable_id(rsc: Resource, state: ClusterState) -> str:
    """The name crm_mon shows: an anonymous clone's primitive instances (and group members) go by the cloned
    resource's own id, a globally unique clone's and a group instance by ``RSC:N``."""
    if rsc.clone_of is None or rsc.is_group or is_unique(state.by_id[rsc.clone_of]):
        return rsc.id
    return rsc.id.rsplit(":", 1)[0]


def is_unique(clone: Resource) -> bool:
    """A globally unique clone: its instances are told apart (and shown one by one)."""
    return is_true(clone.meta.get("globally-unique"))


def _failed_probe(rsc: Resource, node: str | None) -> int | None:
    """The rc of a probe that found ``rsc`` (any primitive of it) not installed on ``node`` (any node)."""
    for prim in rsc.primitives():
        for where, rc in prim.status.failed_probes.items():
            if node is None or where == node:
                return rc
    return None


def _in_promotable(rsc: Resource) -> bool:
    return rsc.top().promotable


def _displayed_role(rsc: Resource) -> Role:
    """The role crm_mon names: Started in a promotable clone is Unpromoted; an inactive one is Stopped."""
    if not rsc.status.active_on:
        return Role.STOPPED
    role = rsc.status.role if rsc.status.role > Role.STOPPED else Role.STARTED
    return Role.UNPROMOTED if role == Role.STARTED and _in_promotable(rsc) else role


def primitive_line(rsc: Resource, state: ClusterState, indent: str, pending: bool = True,
                   rsc_only: bool = False, shown_as: tuple[str, str | None] | None = None) -> str:
    """One resource as crm_mon prints it: name, agent, state and node, then its flags (``rsc_only``: without
    the node, as listed under a node; ``shown_as``: another name and node, as a bundle replica is shown)."""
    nodes = rsc.status.active_on
    node = nodes[0] if len(nodes) == 1 else (rsc.status.lock_node if not nodes else None)
    node = None if rsc_only else node
    if shown_as is not None:
        node = shown_as[1]
    role = _displayed_role(rsc)
    words = ["ORPHANED"] if rsc.orphan else []
    if rsc.status.failed or (rsc.status.blocked and nodes and not rsc.status.frozen):  # on-fail=block
        words += ["FAILED"] + ([role.text] if role > Role.UNPROMOTED else [])
    else:
        task = rsc.status.pending_task.get(nodes[0], "") if nodes and pending else ""
        words.append(_PENDING_WORDS.get(task) or role.text)
    if node is not None:
        words.append(node)
    probe = _failed_probe(rsc.top() if rsc.clone_of else rsc, node) if role == Role.STOPPED else None
    if probe is not None:
        words.append(f"({RC_TEXT.get(probe, 'unknown')}) ")     # crm_mon's own trailing space
    flags: list[str] = []
    if node is not None and node in state.nodes and _down_unclean(state.nodes[node]):
        flags.append("UNCLEAN")
    if node is not None and node == rsc.status.lock_node:
        flags.append("LOCKED")
    if pending and any(task == "monitor" for task in rsc.status.pending_task.values()):
        flags.append("Monitoring")
    role_set = configured_role(rsc)
    if role_set == Role.STOPPED:
        flags.append("disabled")
    elif role_set == Role.UNPROMOTED and _in_promotable(rsc):
        flags.append(f"target-role:{rsc.meta.get('target-role')}")
    if rsc.status.blocked:
        flags.append("blocked")
    elif rsc.maintenance:
        flags.append("maintenance")
    elif not rsc.managed:
        flags.append("unmanaged")
    if rsc.status.ignore_failure:
        flags.append("failure ignored")
    text = " ".join(words) + (f" ({', '.join(flags)})" if flags else "")
    if len(nodes) > 1 and not rsc_only:
        text += f" [ {' '.join(nodes)} ]"
    name = shown_as[0] if shown_as is not None else printable_id(rsc, state)
    return f"{indent}* {name}\t({_agent(rsc)}):\t {text}"


def when(stamp: int | None) -> str:
    """A history time stamp as crm_mon prints it (local time, ctime's layout); empty when unset or beyond
    what a calendar shows."""
    if stamp is None:
        return ""
    try:
        return time.strftime(cib.TIME_FORMAT, time.localtime(stamp))
    except (OverflowError, ValueError, OSError):
        return ""


def readable_interval(ms: int) -> str:
    """A duration as crm_mon writes it: ``10s``, ``1m30s``, ``1.500s``, ``250ms``. A unit is used only for
    more than one of it (1000 ms is ``1000ms``, one minute ``60s``), as Pacemaker does."""
    out = ""
    for size, unit in ((86_400_000, "d"), (3_600_000, "h"), (60_000, "m")):
        if ms > size:
            out += f"{ms // size}{unit}"
            ms %= size
    if ms > 1000:
        out += f"{ms // 1000}" + (f".{ms % 1000:03d}" if ms % 1000 else "") + "s"
    elif ms > 0:
        out += f"{ms}ms"
    return out or "0s"


_TWO_WORD_TASKS = ("migrate_to", "migrate_from")


def parse_op_key(key: str) -> tuple[str, str, int] | None:
    """(resource, task, interval ms) of an operation key ``RSC_TASK_INTERVAL``; None when it is not one."""
    head, _, interval = key.rpartition("_")
    if not head or not interval.isdigit():
        return None
    for task in _TWO_WORD_TASKS:
        if head.endswith("_" + task):
            return head[:-len(task) - 1], task, int(interval)
    rsc, _, task = head.rpartition("_")
    return (rsc, task, int(interval)) if rsc and task else None


#: crm_mon's words for an execution status that kept an action from giving a result.
_EXEC_WORDS = {**EXEC_TEXT, lrm.EXEC_PENDING: "Pending", lrm.EXEC_DONE: "Done", 8: "Internal communication failure",
               9: "Cannot execute now", 10: "No fence device", 11: "CIB secrets unavailable"}


def _friendly_failure(f: FailedOp) -> str:
    """A failed action in crm_mon's words: ``rsc 10s-interval monitor on node1 returned 'error' (reason)
    at TIME after 20ms``."""
    parsed = parse_op_key(f.key or lrm.op_key(f.rsc, f.task, f.interval_ms))
    rsc, task, interval = parsed if parsed else ("unknown resource", "unknown action", 0)
    text = f"{rsc} " + (f"{readable_interval(interval)}-interval " if interval else "")
    text += ("probe" if task == "monitor" and interval == 0 else task) + f" on {f.node or 'unknown node'}"
    if f.op_status == lrm.EXEC_DONE:
        text += f" returned '{RC_TEXT.get(f.rc, 'unknown')}'" + (f" ({f.exit_reason})" if f.exit_reason else "")
    else:
        text += f" could not be executed ({_EXEC_WORDS.get(f.op_status, 'UNKNOWN')}" + (
            f": {f.exit_reason}" if f.exit_reason else "") + ")"
    if f.rc_change is not None:
        text += f" at {when(f.rc_change)}"
    if f.exec_ms > 0:
        text += f" after {readable_interval(f.exec_ms)}"
    return text


def _technical_failure(f: FailedOp) -> str:
    """A failed action with every detail (crm_mon's ``--show-detail``)."""
    text = (f"{f.key or lrm.op_key(f.rsc, f.task, f.interval_ms)} on {f.node or 'unknown node'} "
            f"'{RC_TEXT.get(f.rc, 'unknown')}' ({f.rc}): call={f.call_id}, "
            f"status='{_EXEC_WORDS.get(f.op_status, 'UNKNOWN')}'")
    if f.exit_reason:
        text += f", exitreason='{f.exit_reason}'"
    if f.rc_change is not None:
        text += f", last-rc-change='{when(f.rc_change)}'"
    return text + f", queued={f.queue_ms}ms, exec={f.exec_ms}ms"


def failed_lines(state: ClusterState, detail: bool = False) -> list[str]:
    """The "Failed Resource Actions" items, in crm_mon's words (``detail``: with call ids and timings)."""
    show = _technical_failure if detail else _friendly_failure
    return [f"    * {show(f)}" for f in shown_failures(state)]


def shown_failures(state: ClusterState) -> list[FailedOp]:
    """The failures crm_mon lists: those recorded on a node that is online (the history of one that is not is
    no news: it is being fenced, or its resources are known stopped)."""
    return [f for f in state.failed_ops if f.node in state.nodes and state.nodes[f.node].online]


def _clone_header(clone: Resource, state: ClusterState, base: str) -> str:
    own = configured_role(clone)        # the clone's own target role (its instances' say Stopped (disabled))
    flags = [word for word, on in (("promotable", clone.promotable), ("unique", is_unique(clone)),
                                   ("disabled", own == Role.STOPPED or (own == Role.UNPROMOTED and clone.promotable)))
             if on]
    if clone.maintenance:
        flags.append("maintenance")
    elif not clone.managed and not (state.fencing_enabled and not state.have_fencing):
        flags.append("unmanaged")
    return f"  * Clone Set: {clone.id} [{base}]" + (f" ({', '.join(flags)})" if flags else "") + ":"


def configured_role(rsc: Resource) -> Role | None:
    """The target role set on the resource or inherited from its parents, as written (the model keeps only
    what limits scheduling: Unpromoted is not kept as a target role there)."""
    return Role.parse(rsc.meta.get("target-role"))


def _clone_role(clone: Resource) -> Role | None:
    """The clone's configured target role (its own, else its first instance's)."""
    role = configured_role(clone)
    if role is None and clone.children:
        role = configured_role(clone.children[0])
    return role


def _instance_lines(instance: Resource, state: ClusterState, inactive: bool) -> list[str]:
    """A clone instance shown on its own (a group instance with its members)."""
    if instance.is_group:
        return _group_lines(instance, state, "    ", inactive)
    if not instance.status.active_on and not inactive:
        return []
    return [primitive_line(instance, state, "    ")]


def _instance_node(instance: Resource, state: ClusterState) -> str | None:
    """Where a fully active instance runs when that is one node: listed by role rather than on its own."""
    nodes = {n for p in instance.primitives() for n in p.status.active_on}
    if len(nodes) != 1:
        return None
    node = nodes.pop()
    return None if _down_unclean(state.nodes[node]) else node


def _down_unclean(node: Node) -> bool:
    """Offline and unclean as the CIB says (before the scheduler brings a remote node online)."""
    node = remote.as_read(node)
    return not node.online and node.unclean


def _clone_lines(state: ClusterState, clone_id: str, inactive: bool = True) -> list[str]:
    """crm_mon's summary of a clone: instances that need a word of their own one by one, then the nodes where
    the others run (per role for a promotable clone), then, with ``inactive``, where none runs."""
    clone = state.by_id.get(clone_id)
    if clone is None or not clone.children:
        return []
    if not inactive and not any(p.status.active_on for p in clone.primitives()):
        return []
    instances = clone.children
    unique = is_unique(clone)
    body: list[str] = []
    promoted: list[str] = []
    started: list[str] = []
    for instance in instances:
        prims = instance.primitives()
        if unique:          # each instance on its own line, a stopped one too
            body += _instance_lines(instance, state, True)
            continue
        if any(p.status.pending_task for p in prims):        # an action in flight: said on its own line
            body += _instance_lines(instance, state, inactive)
            continue
        if not any(native_active(state, p) for p in prims):
            continue
        if any(p.orphan or not p.managed or p.status.failed for p in prims) \
                or not all(p.status.active_on for p in prims):
            body += _instance_lines(instance, state, inactive)
            continue
        node = _instance_node(instance, state)
        if node is None:
            body += _instance_lines(instance, state, inactive)
        elif max(p.status.role for p in prims) > Role.UNPROMOTED:
            promoted.append(node)
        else:
            started.append(node)
    order = {name: i for i, name in enumerate(state.nodes)}
    if promoted:
        body.append(f"    * Promoted: [ {' '.join(sorted(promoted, key=order.__getitem__))} ]")
    if started:
        word = "Started"
        if clone.promotable:
            word = "Unpromoted (target-role)" if _clone_role(clone) == Role.UNPROMOTED else "Unpromoted"
        body.append(f"    * {word}: [ {' '.join(sorted(started, key=order.__getitem__))} ]")
    configured = [i for i in instances if not i.orphan]     # a stopped orphaned instance is no stopped instance
    if inactive and not unique and len(configured) > len(promoted) + len(started):
        running = {n for p in clone.primitives() for n in p.status.active_on}
        where = {n.name for n in state.nodes.values() if not n.from_history} if state.symmetric else \
            {n for p in clone.primitives() for n in p.status.known_on}
        word = "Stopped (disabled)" if _clone_role(clone) == Role.STOPPED else "Stopped"
        by_word: dict[str, list[str]] = {}
        for n in state.nodes:
            if n in where and n not in running:
                probe = _failed_probe(clone, n)
                by_word.setdefault(word if probe is None else f"Stopped ({RC_TEXT.get(probe, 'unknown')})",
                                   []).append(n)
        body += [f"    * {w}: [ {' '.join(nodes)} ]" for w, nodes in sorted(by_word.items())]
    if not body and not (inactive and not promoted and not started):
        return []
    base = instances[0].id.rsplit(":", 1)[0]
    return [_clone_header(clone, state, base), *body]


def _group_lines(group: Resource, state: ClusterState, indent: str, inactive: bool = True) -> list[str]:
    """A group and its members (members not running left out unless ``inactive``)."""
    members = [primitive_line(m, state, indent + "  ") for m in group.children if inactive or m.status.active_on]
    if not members:
        return []
    left_out = len(group.children) - len(members)
    flags = [f"{left_out} member{'' if left_out == 1 else 's'} inactive"] if left_out else []
    if configured_role(group) == Role.STOPPED:
        flags.append("disabled")
    if group.maintenance:
        flags.append("maintenance")
    elif not group.managed and not (state.fencing_enabled and not state.have_fencing):
        flags.append("unmanaged")
    suffix = f" ({', '.join(flags)})" if flags else ""
    return [f"{indent}* Resource Group: {printable_id(group, state)}{suffix}:", *members]


#: The status page lists at most this many configuration errors (``paceline simulate`` prints them all).
MAX_CONFIG_ERRORS_SHOWN = 20


def _bundle_lines(bundle: Resource, state: ClusterState, inactive: bool = True) -> list[str]:
    """A bundle as crm_mon shows it (``pe__bundle_text``): a header naming its image, then one line per
    replica, named by its connection (else its container) and address, with the bundled resource's state (else
    the container's) on the node its container runs on."""
    data = bundle.bundle
    if data is None:
        return []
    flags = " (unique)" if data.unique else ""
    flags += " (maintenance)" if bundle.maintenance else " (unmanaged)" if not bundle.managed else ""
    lines = [f"  * Container bundle{' set' if len(data.replicas) > 1 else ''}: {bundle.id} [{data.image}]{flags}:"]
    for replica in data.replicas:
        shown = replica.child or replica.container
        if not inactive and not shown.status.active_on and not replica.container.status.active_on:
            continue
        name = (replica.remote or replica.container).id + (f" ({replica.ipaddr})" if replica.ipaddr else "")
        host = replica.container.status.active_on[0] if replica.container.status.active_on else None
        lines.append(primitive_line(shown, state, "    ", shown_as=(name, host)))
    return lines


def config_error_lines(state: ClusterState) -> list[str]:
    """The note under the status page about what of the configuration cannot be used.

    crm_mon leaves a resource Pacemaker cannot unpack out of its list without a word (crm_verify names it);
    a sysadmin looking for a resource in ``paceline status`` is told here why it is not there, and which
    values were replaced by their defaults."""
    errors = state.config_errors
    if not errors:
        return []
    lines = ["", "  * Configuration Errors:",
             *[f"    * {e}" for e in errors[:MAX_CONFIG_ERRORS_SHOWN]]]
    if len(errors) > MAX_CONFIG_ERRORS_SHOWN:
        lines.append(f"    * ... and {len(errors) - MAX_CONFIG_ERRORS_SHOWN} more")
    return lines


def resource_lines(state: ClusterState, inactive: bool = True, only_inactive: bool = False) -> list[str]:
    """crm_mon's "Full List of Resources" items (``inactive``: stopped ones too, as ``crm_mon -r``); with no
    resource at all, "No resources" (nothing active: "No active resources"). ``only_inactive``: those not
    wholly active (crm_mon ``-n -r`` lists the others under their nodes), nothing when there are none."""
    lines: list[str] = []
    clones_done: set[str] = set()
    # Neither inactive orphans nor the implicit connections of guest nodes (meta internal=true) are listed.
    shown = [r for r in state.resources
             if not (r.orphan and not r.status.active_on) and not is_true(r.meta.get("internal"))]
    for rsc in shown:
        if only_inactive and _wholly_active(state, rsc):
            continue
        if rsc.clone_of is not None:
            if rsc.clone_of not in clones_done:
                clones_done.add(rsc.clone_of)
                lines += _clone_lines(state, rsc.clone_of, inactive)
        elif rsc.is_group:
            lines += _group_lines(rsc, state, "  ", inactive)
        elif rsc.is_bundle:
            lines += _bundle_lines(rsc, state, inactive)
        elif inactive or rsc.status.active_on:
            lines.append(primitive_line(rsc, state, "  "))
    if not lines and not only_inactive:
        lines.append("  * No resources" if not shown or inactive else "  * No active resources")
    return lines


def native_active(state: ClusterState, rsc: Resource) -> bool:
    """Is a primitive active as crm_mon counts it (``native_active``)? Not when it is managed and runs only on
    nodes that are offline yet clean - a guest whose container is being recovered."""
    nodes = [remote.as_read(state.nodes[n]) for n in rsc.status.active_on if n in state.nodes]
    return any(node.unclean or node.online or not rsc.managed for node in nodes)


def _wholly_active(state: ClusterState, rsc: Resource) -> bool:
    """Every primitive of the resource (of its whole clone, for an instance) is active."""
    whole = state.by_id[rsc.clone_of] if rsc.clone_of is not None else rsc
    return all(p.status.active_on for p in whole.primitives())


def render_status(state: ClusterState, failed_actions: bool = True, config_errors: bool = True) -> list[str]:
    """crm_simulate's "Current cluster status" (crm_mon's page without its header); with ``config_errors``
    a note on the configuration errors found (``paceline simulate`` prints those as crm_simulate does,
    apart from the status)."""
    nodes = node_lines(state)
    lines = ["  * Node List:", *["  " + line for line in nodes], ""] if nodes else []
    lines.append("  * Full List of Resources:")
    lines += ["  " + line for line in resource_lines(state)]
    if failed_actions and (failures := failed_lines(state)):
        lines += ["", "  * Failed Resource Actions:", *failures]
    if config_errors:
        lines += config_error_lines(state)
    return lines
