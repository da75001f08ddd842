"""Probes (Pacemaker's pcmk_sched_probes.c): a one-off monitor wherever a resource's state is not known.

Every online, clean node whose history says nothing of the resource is
probed (``resource-discovery`` may forbid it), and the resource's start waits
for every probe. An anonymous clone is probed once per node, by whichever
instance comes first: the executor knows all instances by one id, so what one
found there holds for all of them, and every instance's start waits for all of
the clone's probes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paceline.policy.scheduler import fencing, remote
from paceline.policy.scheduler.act import Act
from paceline.shared.cluster.model import Resource

if TYPE_CHECKING:
    from paceline.policy.scheduler.actions import ActionBuilder


def create_probes(b: ActionBuilder, rsc: Resource, start: Act | None) -> None:
    """The probes of one primitive; ``start`` (if any) waits for them."""
    state = b.state
    if not state.probes_enabled or rsc.orphan:
        return
    if rsc.launcher is not None and not remote.probed_when_launched(state, rsc):
        return
    exclusive = "exclusive" in rsc.discovery.values()
    discovery = rsc.discovery
    known_on = rsc.status.known_on
    clone_probes: list[Act] | None = None
    if rsc.clone_of is not None:
        clone_probes = b.clone_probes.setdefault(rsc.history_id, [])
        known = b.clone_known.get(rsc.history_id)
        if known is None:
            known = set().union(*(i.status.known_on for i in state.clones[rsc.base_id]
                                  if i.history_id == rsc.history_id))
            b.clone_known[rsc.history_id] = known
        known_on = known | {p.node for p in clone_probes if p.node}
    probes: list[Act] = []
    unfencing = fencing.needs_unfencing(b, rsc)     # the same for every node: asked once
    new_probe = b.probe_maker(rsc)
    for node in state.nodes.values():
        if not node.online or node.unclean or node.name in known_on:
            continue
        if node.kind != "cluster" and not remote.may_probe(state, rsc, node):
            continue
        if discovery:
            mode = discovery.get(node.name, "always")
            if mode == "never" or (exclusive and mode != "exclusive"):
                continue
        probe = new_probe(node.name, not node.pending)
        probes.append(probe)
        if unfencing:
            b.order(fencing.unfence(b, node.name, f"required by {rsc.id} monitor"), probe, 0)
        if start is not None and node.pending and not rsc.status.active_on:
            # A resource active nowhere cannot start until every node has been probed.
            start.runnable = False
    if clone_probes is not None:
        clone_probes.extend(probes)
        probes = list(clone_probes)
    if start is not None and probes:
        b.probes_before.setdefault(start.id, []).extend(probes)
