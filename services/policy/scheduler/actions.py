"""Actions and orderings: what must happen for the assignment to become true, and in which order.

Every action is optional or required, runnable or not. Creation marks the
obvious ones (a moving resource's stop and start are required); orderings
then propagate those flags until nothing changes, which is how a restart of
one resource drags the resources ordered after it, and how an action that
cannot run blocks what depends on it. The Transition Summary and the graph
are both read off the final flags.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from paceline.policy.scheduler import notifications, remote
from paceline.policy.scheduler.placement import counted_active, current_node
from paceline.shared.cluster.digests import definition_change
from paceline.shared.cluster.model import ClusterState, OneOrMore, Ordering, Resource, Role
from paceline.shared.cluster.scores import INF
from paceline.shared.cluster.values import is_true
from paceline.shared.lrm import OCF_NOT_RUNNING, OCF_RUNNING_PROMOTED, OCF_SUCCESS

# Ordering flags
IMPLIES_THEN = 1        # a required first makes then required
IMPLIES_FIRST = 2       # a required then makes first required
BLOCKS = 4              # an unrunnable first makes then unrunnable
INTERMEDIATE_STOP = 8   # stop -> start of one resource: a required or unrunnable start needs the stop
ASYMMETRIC = 16         # an unrunnable first makes then required and unrunnable (with exceptions)
ANY_BLOCKS = 32         # then is unrunnable once every such first is (a clone runs if any instance can)

_INVERSE = {"start": "stop", "stop": "start", "promote": "demote", "demote": "promote",
            "running": "stopped", "stopped": "running", "promoted": "demoted", "demoted": "promoted"}
# A clone's completion pseudo-action and the instance actions it completes.
_INSTANCE_TASK = {"running": "start", "stopped": "stop", "promoted": "promote", "demoted": "demote"}


@dataclass(eq=False, slots=True)
class Act:
    id: int
    task: str
    rsc: Resource | None
    node: str | None
    interval_ms: int = 0
    optional: bool = True
    runnable: bool = True
    pseudo: bool = False
    reason: str | None = None
    expected_rc: int = OCF_SUCCESS
    fence_reason: str = ""
    fence_op: str = ""           # a fencing action other than the cluster's fencing-action ("on": unfencing)
    meta: dict[str, str] | None = None     # meta the agent gets on top of the resource's (a notification's lists)
    # Orderings: (then, flags) where self is first, and (first, flags) where self is then. An empty tuple
    # until the first ordering arrives: most actions of a large cluster (its probes) never get one.
    after: list[tuple[Act, int]] | tuple[()] = ()
    before: list[tuple[Act, int]] | tuple[()] = ()

    @property
    def required(self) -> bool:
        return not self.optional

    def set_reason(self, text: str, overwrite: bool = False) -> None:
        if self.reason is None or overwrite:
            self.reason = text

    def describe(self) -> str:
        rid = self.rsc.id if self.rsc else ""
        return f"{rid}_{self.task}_{self.interval_ms}@{self.node}"


class ActionBuilder:
    def __init__(self, state: ClusterState):
        self.state = state
        self.actions: list[Act] = []
        self.by_rsc: dict[str, list[Act]] = {}
        self.fences: dict[str, Act] = {}
        self.reloads: dict[str, Act] = {}
        self.unfences: dict[str, Act] = {}
        self.clone_probes: dict[str, list[Act]] = {}   # clone id -> probes its instances make
        # Probes only ever order a start after them and never change flags after creation, so they are
        # kept out of the ordering graph that propagation walks (a fresh cluster has one per resource
        # per node): start action id -> the probes it waits for.
        self.probes_before: dict[int, list[Act]] = {}

    # ---------------------------------------------------------------- creation

    def new(self, task: str, rsc: Resource | None, node: str | None, interval_ms: int = 0, optional: bool = True,
            runnable: bool = True, pseudo: bool = False, expected_rc: int = OCF_SUCCESS,
            fence_reason: str = "") -> Act:
        act = Act(len(self.actions), task, rsc, node, interval_ms, optional, runnable, pseudo, None, expected_rc,
                  fence_reason)
        self.actions.append(act)
        if rsc is not None:
            acts = self.by_rsc.get(rsc.id)
            if acts is None:
                self.by_rsc[rsc.id] = [act]
            else:
                acts.append(act)
        return act

    def find(self, rsc: Resource, task: str, node: str | None = None, interval: int = 0) -> list[Act]:
        return [a for a in self.by_rsc.get(rsc.id, ()) if a.task == task and a.interval_ms == interval
                and (node is None or a.node == node)]

    def order(self, first: Act, then: Act, flags: int) -> None:
        if first is then:
            return
        if first.after:
            first.after.append((then, flags))
        else:
            first.after = [(then, flags)]
        if then.before:
            then.before.append((first, flags))
        else:
            then.before = [(first, flags)]

    def build(self) -> list[Act]:
        state = self.state
        self._fencing()
        for top in state.resources:
            if top.is_group:
                self._group_pseudo(top)
            for prim in top.primitives():
                self._primitive(prim)
        for top in state.resources:
            if top.is_group:
                self._group_orderings(top)
        for clone in state.clone_sets():
            self._clone_pseudo(clone)
        for prim in state.primitives():
            if prim.launcher is not None and remote.beside_launcher(state, prim):
                self._launcher_orderings(prim)
        remote.order_remote_actions(self)
        for o in state.orderings:
            self._user_ordering(o)
        for join in state.one_or_more:
            self._one_or_more(join)
        self._anti_colocation_orderings()
        self._fence_orderings()
        self._propagate()
        self._block_colocation_dependents()
        for prim in state.primitives():
            self._migrate(prim)
        for clone in state.clone_sets():
            if notifications.wants_notifications(clone):
                notifications.add_notifications(self, clone)
        return self.actions

    def _fencing(self) -> None:
        state = self.state
        managed = any(r.managed for r in state.primitives())
        unpack_order = [n for n in state.nodes.values() if n.unclean and n.fence_at_unpack]
        later = [n for n in state.nodes.values() if n.unclean and not n.fence_at_unpack]
        for node in unpack_order + later:
            can = managed and state.can_fence(node)
            act = self.new("stonith", None, node.name, optional=not can, runnable=can,
                           fence_reason=node.fence_reason or "node is unclean")
            self.fences[node.name] = act

    def node_ok(self, node: str | None) -> bool:
        if node is None:
            return False
        n = self.state.nodes.get(node)
        return n is not None and n.online and not n.unclean and not n.pending

    def _primitive(self, rsc: Resource) -> None:
        state = self.state
        target = rsc.assigned
        next_role = rsc.next_role or (Role.STARTED if target else Role.STOPPED)
        active = list(rsc.active_on)
        counted = counted_active(state, rsc)
        multiply = len(counted) > 1
        current = current_node(state, rsc)
        moving = current is not None and target is not None and current != target
        restart = rsc.failed and rsc.stop_if_failed
        start_required_anyway = restart or (multiply and rsc.multiple_active == "stop_start")
        change = definition_change(rsc, target) if target is not None and target in active else None
        # No agent reload of a start still in flight: stop it instead (the start follows the stop).
        stop_in_place = change == "reload" and target is not None and rsc.pending_task.get(target) == "start"
        if stop_in_place:
            change = None
        changed = change == "restart"
        if changed:
            start_required_anyway = True
        stops: list[Act] = []
        for node in active:
            fenced = node in self.fences and self.fences[node].runnable
            required = target is None or node != target or start_required_anyway or next_role == Role.STOPPED \
                or node in rsc.restart_on or stop_in_place
            if multiply and rsc.multiple_active == "stop_unexpected" and node == target:
                required = False
            stop = self.new("stop", rsc, node, optional=not required, pseudo=fenced)
            if target is None:
                stop.set_reason("node availability")
            elif multiply and rsc.multiple_active == "stop_unexpected" and node != target:
                stop.set_reason("being multiply active")
            if not fenced and not self.node_ok(node):
                stop.runnable = False
            if not rsc.managed:
                stop.optional = True
                stop.runnable = False
            stops.append(stop)
        start: Act | None = None
        if target is not None and next_role >= Role.STARTED:
            required = target not in active or start_required_anyway or moving
            start = self.new("start", rsc, target, optional=not required)
            if changed and rsc.managed:
                start.set_reason("resource definition change")
            self._start_runnability(rsc, start)
            if change == "reload" and rsc.managed and start.optional:
                reload = self.new("reload-agent", rsc, target, optional=False)
                reload.runnable = start.runnable
                self.reloads[rsc.id] = reload
                self.order(start, reload, 0)
            for stop in stops:
                self.order(stop, start, IMPLIES_THEN | INTERMEDIATE_STOP)
        elif stops:
            # A resource that stops keeps an (unrunnable) start so orderings can still see it.
            start = self.new("start", rsc, None, optional=True, runnable=False)
            for stop in stops:
                self.order(stop, start, IMPLIES_THEN | INTERMEDIATE_STOP)
        promote: Act | None = None
        if rsc.clone_of is not None and state.by_id[rsc.clone_of].promotable:
            promote = self._role_changes(rsc, stops, start, next_role)
        if start is not None and start.node is not None:
            self._recurring(rsc, start.node, start, promote, next_role)
        self._probes(rsc, start)
        if start is not None and start.node is not None and rsc.managed and self._needs_unfencing(rsc):
            # After the probes, as Pacemaker creates them first: a probe's need names the unfencing.
            self.order(self._unfence(start.node, f"required by {rsc.id} start"), start, IMPLIES_THEN)

    def _migrate(self, rsc: Resource) -> None:
        """Live migration (meta ``allow-migrate=true``): a healthy resource moving between two live nodes is
        handed over - ``migrate_to`` on the source, ``migrate_from`` on the target, then the source's stop -
        instead of being stopped and started again.

        Decided once the flags are settled, and only where nothing else is tied to the move: a resource
        whose start or stop is ordered with another resource's required action (something else restarts
        or moves with it) moves by stop and start, as does one in a group, a clone or a launcher.
        """
        if not is_true(rsc.meta.get("allow-migrate"), False) or not rsc.managed or rsc.failed \
                or rsc.parent is not None or rsc.clone_of is not None or rsc.launcher is not None \
                or rsc.launched or len(rsc.active_on) != 1:
            return
        source, target = rsc.active_on[0], rsc.assigned
        if target is None or target == source or not self.node_ok(source):
            return
        stops, starts = self.find(rsc, "stop", source), self.find(rsc, "start", target)
        if len(stops) != 1 or len(starts) != 1:
            return
        stop, start = stops[0], starts[0]
        if not (stop.required and start.required and stop.runnable and start.runnable) or stop.pseudo:
            return
        for act in (stop, start):
            for other, _flags in (*act.before, *act.after):
                if other.rsc is not rsc and other.required and other.rsc is not None \
                        and not remote.rides_on(self.state, rsc, other):
                    return
        meta = {"migrate_source": source, "migrate_target": target}
        migrate_to = self.new("migrate_to", rsc, source, optional=False)
        migrate_from = self.new("migrate_from", rsc, target, optional=False)
        migrate_to.meta = migrate_from.meta = meta
        for probe in self.probes_before.get(start.id, ()):
            self.order(probe, migrate_to, 0)
        self.order(migrate_to, migrate_from, 0)
        self.order(migrate_from, stop, 0)
        self.order(migrate_from, start, 0)
        start.pseudo = True          # the target took over by migrate_from: nothing left to start

    def _start_runnability(self, rsc: Resource, start: Act) -> None:
        state = self.state
        if not self.node_ok(start.node):
            start.runnable = False
            return
        if not rsc.managed:
            start.optional = True
            start.runnable = False
            return
        if rsc.requires != "nothing" and not state.quorate and state.no_quorum_policy != "ignore":
            if state.no_quorum_policy == "freeze":
                if not rsc.active_on:
                    start.runnable = False
                    start.set_reason("quorum freeze", overwrite=True)
            else:
                start.runnable = False
                start.set_reason("no quorum", overwrite=True)

    def _role_changes(self, rsc: Resource, stops: list[Act], start: Act | None, next_role: Role) -> Act | None:
        """A promotable instance's demote (before it stops or steps down) and promote (after it starts).

        Both exist whenever they could matter, optional unless the role
        changes: a required stop makes its demote required, and a required
        start (a restart or recovery) makes the promote required again.
        """
        for stop in stops:
            if rsc.role != Role.PROMOTED or stop.node is None:
                continue
            required = next_role < Role.PROMOTED or rsc.assigned != stop.node
            demote = self.new("demote", rsc, stop.node, optional=not required, pseudo=stop.pseudo)
            demote.runnable = stop.runnable
            if not rsc.managed:
                demote.optional = True
            self.order(demote, stop, IMPLIES_FIRST)
        if next_role != Role.PROMOTED or start is None or start.node is None:
            return None
        already = rsc.role == Role.PROMOTED and rsc.active_on == [start.node]
        promote = self.new("promote", rsc, start.node, optional=already)
        self._start_runnability(rsc, promote)
        if not start.runnable:
            promote.runnable = False
        self.order(start, promote, IMPLIES_THEN | BLOCKS)
        return promote

    def _recurring(self, rsc: Resource, node: str, start: Act, promote: Act | None, next_role: Role) -> None:
        """The monitors of the role the resource will have: role=Promoted ones (expecting OCF_RUNNING_PROMOTED)
        only after a promote, role-less and role=Unpromoted ones otherwise."""
        seen: set[tuple[str, int]] = set()
        promoted = next_role == Role.PROMOTED
        anchor = promote if promoted and promote is not None else start
        for op in rsc.ops:
            if op.name != "monitor" or op.interval_ms <= 0 or not op.enabled:
                continue
            if (op.name, op.interval_ms) in seen:
                continue
            seen.add((op.name, op.interval_ms))
            role = Role.parse(op.role)
            if role == Role.STOPPED or (role == Role.PROMOTED) != promoted:
                continue
            already = op.interval_ms in rsc.active_monitors.get(node, set())
            mon = self.new("monitor", rsc, node, interval_ms=op.interval_ms, optional=already and anchor.optional,
                           expected_rc=OCF_RUNNING_PROMOTED if promoted else OCF_SUCCESS)
            if not anchor.runnable:
                mon.runnable = False
            self.order(anchor, mon, IMPLIES_THEN | BLOCKS)

    def _probes(self, rsc: Resource, start: Act | None) -> None:
        state = self.state
        if not state.probes_enabled or rsc.orphan:
            return
        if rsc.launcher is not None and not remote.probed_when_launched(state, rsc):
            return
        exclusive = "exclusive" in rsc.discovery.values()
        discovery = rsc.discovery
        known_on = rsc.known_on
        clone_probes: list[Act] | None = None
        if rsc.clone_of is not None:
            # An anonymous clone is probed once per node, by whichever instance comes first: the executor
            # knows all instances by one id, so what one found there holds for all of them, and every
            # instance's start waits for all of the clone's probes.
            clone_probes = self.clone_probes.setdefault(rsc.history_id, [])
            known_on = set().union(*(i.known_on for i in state.clones[rsc.history_id]))
            known_on |= {p.node for p in clone_probes if p.node}
        probes: list[Act] = []
        for node in state.nodes.values():
            if not node.online or node.unclean or node.name in known_on:
                continue
            if node.kind != "cluster" and not remote.may_probe(state, rsc, node):
                continue
            if discovery:
                mode = discovery.get(node.name, "always")
                if mode == "never" or (exclusive and mode != "exclusive"):
                    continue
            probe = self.new("monitor", rsc, node.name, 0, False, not node.pending, False, OCF_NOT_RUNNING)
            probes.append(probe)
            if self._needs_unfencing(rsc):
                self.order(self._unfence(node.name, f"required by {rsc.id} monitor"), probe, 0)
            if start is not None and node.pending and not rsc.active_on:
                # A resource active nowhere cannot start until every node has been probed.
                start.runnable = False
        if clone_probes is not None:
            clone_probes.extend(probes)
            probes = list(clone_probes)
        if start is not None and probes:
            self.probes_before.setdefault(start.id, []).extend(probes)

    # ---------------------------------------------------------------- unfencing

    def _needs_unfencing(self, rsc: Resource) -> bool:
        """Fence devices (once any provides unfencing) and requires=unfencing resources wait for it."""
        is_device = rsc.agent.get("class") == "stonith"
        return (is_device and self.state.unfencing) or (not is_device and rsc.requires == "unfencing")

    def _unfence(self, node: str, reason: str) -> Act:
        """The node's "on" fencing action: ordered before the resource action that needs it.

        Optional while the node has been unfenced before (``#node-unfenced``):
        making it required would unfence the node, and so restart everything on
        it, whenever a resource is added. A node never unfenced needs it.
        """
        act = self.unfences.get(node)
        if act is None:
            n = self.state.nodes[node]
            act = self.new("stonith", None, node, runnable=self.state.can_fence(n) and n.online,
                           fence_reason="")
            act.fence_op = "on"
            self.unfences[node] = act
        if (self.state.nodes[node].attrs.get("#node-unfenced") or "0") == "0" and act.optional:
            act.optional = False
            act.fence_reason = reason
        return act

    # ---------------------------------------------------------------- groups

    def _group_pseudo(self, group: Resource) -> None:
        for task in ("start", "running", "stop", "stopped"):
            self.new(task, group, None, optional=True, pseudo=True)

    def _group_orderings(self, group: Resource) -> None:
        g = {t: self.find(group, t)[0] for t in ("start", "running", "stop", "stopped")}
        self.order(g["stop"], g["stopped"], BLOCKS)
        self.order(g["stopped"], g["start"], 0)
        self.order(g["start"], g["running"], BLOCKS)
        if any(not self.find(member, "start") for member in group.children):
            # A group is started only when every member can be: one that will not start keeps it from running.
            g["start"].runnable = False
        prev: Resource | None = None
        for member in group.children:
            for start in self.find(member, "start"):
                self.order(g["start"], start, IMPLIES_FIRST)
                self.order(start, g["running"], IMPLIES_THEN | BLOCKS)
            for stop in self.find(member, "stop"):
                self.order(g["stop"], stop, IMPLIES_FIRST)
                self.order(stop, g["stopped"], IMPLIES_THEN)
            if prev is not None:
                for first in self.find(prev, "start"):
                    for then in self.find(member, "start"):
                        self.order(first, then, IMPLIES_THEN | BLOCKS)
                for first in self.find(member, "stop"):
                    for then in self.find(prev, "stop"):
                        self.order(first, then, IMPLIES_FIRST)
                if member.active_on and not prev.active_on:
                    # A member added in the middle of a running group: the later members must stop before it
                    # starts (the usual stop-restart chain says nothing here), and a later member that cannot
                    # stop (unmanaged) keeps it from starting.
                    for first in self.find(member, "stop"):
                        for then in self.find(prev, "start"):
                            self.order(first, then, IMPLIES_FIRST | BLOCKS)
            prev = member

    # ---------------------------------------------------------------- clones

    def _clone_pseudo(self, clone: Resource) -> None:
        """The clone's own start/running, stop/stopped (and promote/promoted, demote/demoted) pseudo-actions.

        Orderings that name the clone attach to these. The clone counts as
        running (promoted) once any instance can start (be promoted), unlike a
        group, which needs every member. Instances stop and start as a set:
        every demote before any stop, every stop before any start, and
        promotions last, so a promoted instance moves by first stepping down.
        """
        phases = [("start", "running"), ("stop", "stopped")]
        if clone.promotable:
            phases += [("promote", "promoted"), ("demote", "demoted")]
        pseudo: dict[str, Act] = {}
        for begin, done in phases:
            pseudo[begin] = self.new(begin, clone, None, pseudo=True)
            pseudo[done] = self.new(done, clone, None, pseudo=True)
            growing = begin in ("start", "promote")
            if growing and not any(a.node is not None for p in clone.primitives() for a in self.find(p, begin)):
                pseudo[begin].runnable = pseudo[done].runnable = False
            self.order(pseudo[begin], pseudo[done], BLOCKS if growing else 0)
            for instance in clone.children:
                # A group instance joins through its own pseudo-actions, a primitive one through its actions.
                firsts = self.find(instance, begin) if instance.is_group else \
                    [a for a in self.find(instance, begin) if a.node is not None]
                lasts = self.find(instance, done) if instance.is_group else firsts
                for act in firsts:
                    self.order(pseudo[begin], act, IMPLIES_FIRST)
                for act in lasts:
                    self.order(act, pseudo[done], IMPLIES_THEN | (ANY_BLOCKS if growing else 0))
        self.order(pseudo["stopped"], pseudo["start"], 0)
        if clone.promotable:
            self.order(pseudo["demoted"], pseudo["stop"], 0)
            for before_promote in ("demoted", "stopped", "running"):
                self.order(pseudo[before_promote], pseudo["promote"], 0)

    def _launcher_orderings(self, rsc: Resource) -> None:
        """A launched resource starts after its launcher and stops before it."""
        launcher = rsc.launcher
        assert launcher is not None
        self._connect(launcher, "start", rsc, "start", IMPLIES_THEN | BLOCKS)
        self._connect(rsc, "stop", launcher, "stop", 0)

    # ---------------------------------------------------------------- user orderings

    def _first_actions(self, rsc: Resource, task: str) -> list[Act]:
        if rsc.is_group or rsc.is_clone:
            completion = {"start": "running", "stop": "stopped", "promote": "promoted", "demote": "demoted"}
            found = self.find(rsc, completion.get(task, task))
            return found
        found = self.find(rsc, task)
        if found:
            return found
        if task == "stop" and not rsc.active_on:
            return []
        if task in ("start", "stop"):
            return [self.new(task, rsc, None, optional=True, runnable=False)]
        return []

    def _then_actions(self, rsc: Resource, task: str) -> list[Act]:
        if rsc.is_group or rsc.is_clone:
            out = self.find(rsc, task)
            for member in rsc.children:
                out.extend(self._then_actions(member, task))
            return out
        return self.find(rsc, task)

    def _user_ordering(self, o: Ordering) -> None:
        if o.kind == "Serialize":
            return
        if o.kind == "Optional":
            flags = 0
        elif not o.symmetrical:
            flags = ASYMMETRIC
        else:
            flags = IMPLIES_THEN | (BLOCKS if o.first_action in ("start", "promote") else 0)
        self._connect(o.first, o.first_action, o.then, o.then_action, flags)
        if o.symmetrical and o.kind != "Serialize":
            inv_first = _INVERSE.get(o.then_action)
            inv_then = _INVERSE.get(o.first_action)
            if inv_first and inv_then:
                self._connect(o.then, inv_first, o.first, inv_then,
                              IMPLIES_FIRST if o.kind == "Mandatory" else 0)

    def _one_or_more(self, join: OneOrMore) -> None:
        """A ``require-all="false"`` set: its pseudo-action runs once any first has, and the thens wait for it."""
        pseudo = self.new(join.id, None, None, pseudo=True)
        firsts = [a for r in join.firsts for a in self._first_actions(r, join.first_action)]
        if not firsts:
            pseudo.runnable = False
        for first in firsts:
            self.order(first, pseudo, IMPLIES_THEN | ANY_BLOCKS)
        flags = 0 if join.kind != "Mandatory" else IMPLIES_THEN | BLOCKS
        for rsc in join.thens:
            for then in self._then_actions(rsc, join.then_action):
                self.order(pseudo, then, flags)

    def _connect(self, first_rsc: Resource, first_task: str, then_rsc: Resource, then_task: str,
                 flags: int) -> None:
        if first_rsc.is_clone and then_rsc.is_clone and is_true(then_rsc.meta.get("interleave"), False):
            self._connect_interleaved(first_rsc, first_task, then_rsc, then_task, flags)
            return
        firsts = self._first_actions(first_rsc, first_task)
        thens = self._then_actions(then_rsc, then_task)
        for first in firsts:
            for then in thens:
                self.order(first, then, flags)

    def _connect_interleaved(self, first: Resource, first_task: str, then: Resource, then_task: str,
                             flags: int) -> None:
        """``interleave=true`` on the then-clone: each of its instances waits only for the first-clone's
        instance on its own node, so one node's change restarts nothing elsewhere. Where the first-clone has
        no instance, a mandatory ordering keeps the then-instance from starting."""
        def node_of(instance: Resource, task: str) -> str | None:
            if task in ("stop", "demote"):
                return next((n for p in instance.primitives() for n in p.active_on), None)
            return instance.assigned

        firsts = {node: self._first_actions(i, first_task) for i in first.children
                  if (node := node_of(i, first_task)) is not None}
        for instance in then.children:
            node = node_of(instance, then_task)
            if node is None:
                continue
            thens = self._then_actions(instance, then_task)
            partners = firsts.get(node)
            if partners is None:
                if flags & BLOCKS:
                    self._without_partner(instance, thens, f"unrunnable {first.id} {first_task}")
                continue
            for a in partners:
                for b in thens:
                    self.order(a, b, flags)

    @staticmethod
    def _without_partner(instance: Resource, thens: list[Act], reason: str) -> None:
        """An interleaved instance whose partner instance cannot run on its node cannot run there either.

        One that runs nowhere yet is simply not placed (Pacemaker unassigns it:
        no summary line); one already running there must stop.
        """
        for act in thens:
            act.runnable = False
            act.set_reason(reason)
        if not any(p.active_on for p in instance.primitives()):
            for part in (instance, *instance.children):
                part.assigned = None
                part.next_role = Role.STOPPED

    def _anti_colocation_orderings(self) -> None:
        """-INFINITY colocations: stop one before starting the other on the same node."""
        for c in self.state.colocations:
            if c.score > -INF:
                continue
            for a, b in ((c.primary, c.dependent), (c.dependent, c.primary)):
                for stop in self._then_actions(a, "stop"):
                    for start in self._then_actions(b, "start"):
                        if stop.node is not None and stop.node == start.node:
                            self.order(stop, start, 0)

    def _fence_orderings(self) -> None:
        for node, fence in self.fences.items():
            if not fence.runnable:
                # Resources that need fencing cannot start elsewhere until this node is fenced.
                for act in self.actions:
                    if act.task == "start" and act.rsc is not None and node in act.rsc.active_on \
                            and act.rsc.requires in ("fencing", "unfencing"):
                        self.order(fence, act, BLOCKS)
                continue
            for act in self.actions:
                if act.task == "stop" and act.node == node and act.pseudo:
                    self.order(fence, act, IMPLIES_THEN)
                elif act.task == "start" and act.rsc is not None and \
                        act.rsc.requires in ("fencing", "unfencing"):
                    self.order(fence, act, 0)

    # ---------------------------------------------------------------- propagation

    def _propagate(self) -> None:
        # Actions without orderings (most probes) can neither change nor be changed by propagation.
        queue: deque[Act] = deque(a for a in reversed(self.actions) if a.after or a.before)
        queued = set(a.id for a in queue)

        def push(changed: bool, action: Act) -> None:
            if changed and action.id not in queued:
                queue.append(action)
                queued.add(action.id)

        while queue:
            act = queue.popleft()
            queued.discard(act.id)
            for then, flags in act.after:
                changed_then, changed_first = self._update(act, then, flags)
                push(changed_then, then)
                push(changed_first, act)
            for first, flags in act.before:
                changed_then, changed_first = self._update(first, act, flags)
                push(changed_first, first)
                push(changed_then, act)

    def _update(self, first: Act, then: Act, flags: int) -> tuple[bool, bool]:
        changed_then = changed_first = False
        same_rsc = first.rsc is then.rsc
        if flags & IMPLIES_THEN and then.optional and first.runnable and self._first_required(first, then):
            then.optional = False
            if not same_rsc and first.rsc is not None:
                then.set_reason(f"required {first.rsc.id} {first.task}")
            changed_then = True
        if flags & BLOCKS and not first.runnable and then.runnable:
            then.runnable = False
            if not same_rsc and first.rsc is not None:
                then.set_reason(f"unrunnable {first.rsc.id} {first.task}")
            elif first.rsc is None and first.pseudo:       # a set's one-or-more pseudo-action
                then.set_reason(f"unrunnable {first.task}")
            changed_then = True
        if flags & IMPLIES_FIRST and then.required and first.optional and self._then_required(first, then):
            first.optional = False
            changed_first = True
        if flags & INTERMEDIATE_STOP and first.optional and (then.required or not then.runnable):
            first.optional = False
            changed_first = True
        if flags & (IMPLIES_THEN | IMPLIES_FIRST | INTERMEDIATE_STOP) and first.task == "stop" \
                and not first.runnable and then.runnable and first.rsc is not None and first.rsc.blocked:
            then.runnable = False
            if not same_rsc:
                then.set_reason(f"unrunnable {first.rsc.id} {first.task}")
            changed_then = True
        if flags & ANY_BLOCKS and not first.runnable and then.runnable and \
                all(not f.runnable for f, f_flags in then.before if f_flags & ANY_BLOCKS):
            then.runnable = False
            changed_then = True
        if flags & ASYMMETRIC and not first.runnable and then.runnable:
            exempt = then.optional and (
                (then.task == "stop" and then.rsc is not None and not then.rsc.active_on)
                or (then.task == "start" and then.rsc is not None and then.rsc.active_on == [then.node]))
            if not exempt:
                then.runnable = False
                then.optional = False
                if first.rsc is not None and not same_rsc:
                    then.set_reason(f"unrunnable {first.rsc.id} {first.task}")
                changed_then = True
        return changed_then, changed_first

    def _first_required(self, first: Act, then: Act) -> bool:
        """Is ``first`` required, as far as ``then`` is concerned?

        A clone's running (stopped, promoted, demoted) is required once any
        instance's start is; a resource outside the clone ordered after it
        only cares about the instance on its own node - a new instance
        starting on another node restarts nothing here, as in Pacemaker.
        Instances of another clone ordered after it do care (without interleave).
        """
        rsc = first.rsc
        if not (first.pseudo and rsc is not None and rsc.is_clone and first.task in _INSTANCE_TASK):
            return first.required
        other = then.rsc
        if other is None or other.is_clone or other.clone_of is not None:
            return first.required
        node = then.node or (other.assigned if other.is_group else None)
        if node is None:
            return first.required
        task = _INSTANCE_TASK[first.task]
        return any(a.required for p in rsc.primitives() for a in self.find(p, task, node))

    def _then_required(self, first: Act, then: Act) -> bool:
        """Is ``then`` required, as far as ``first`` is concerned (the mirror of :meth:`_first_required`)?

        A clone's stop (demote) is required once any instance's is; a resource outside the clone ordered
        before it only cares about the instance on its own node (Pacemaker reads the clone's flags on the
        first action's node): an instance stopping elsewhere stops nothing here."""
        rsc = then.rsc
        other = first.rsc
        if rsc is None or then.task not in ("stop", "demote") or other is None or other.is_clone \
                or other.clone_of is not None or first.node is None:
            return True
        if rsc.clone_of is not None and then.node is not None:   # an instance's own action: only on that node
            return then.node == first.node
        if not (then.pseudo and rsc.is_clone):
            return True
        return any(a.required for p in rsc.primitives() for a in self.find(p, then.task, first.node))

    def _block_colocation_dependents(self) -> None:
        """A dependent mandatorily colocated with a primary that cannot start cannot start either."""
        changed = False
        for c in self.state.colocations:
            if c.score < INF:
                continue
            primary_starts = [a for p in c.primary.primitives() for a in self.find(p, "start")]
            if not primary_starts or any(a.runnable and a.node is not None for a in primary_starts):
                continue
            if all(not p.active_on for p in c.primary.primitives()) and \
                    all(a.node is None for a in primary_starts):
                continue
            for dep in c.dependent.primitives():
                for start in self.find(dep, "start"):
                    if start.runnable and start.node is not None:
                        start.runnable = False
                        start.set_reason(f"colocation with {c.primary.id}")
                        changed = True
        if changed:
            self._propagate()
