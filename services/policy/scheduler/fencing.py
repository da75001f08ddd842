"""Fencing and unfencing actions, and what waits for them (Pacemaker's pcmk_sched_fencing.c).

Every unclean node gets a fencing action (runnable where the cluster can
fence it). Stops on a node being fenced become pseudo-actions implied by the
fencing; resources that require fencing start elsewhere only after it.
Fence devices (once any provides unfencing) and ``requires=unfencing``
resources wait for their node's unfencing ("on").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paceline.policy.scheduler.act import BLOCKS, IMPLIES_THEN, Act
from paceline.shared.cluster.model import Resource

if TYPE_CHECKING:
    from paceline.policy.scheduler.actions import ActionBuilder


def create_fencing(b: ActionBuilder) -> None:
    """A fencing action per unclean node: those found unclean while unpacking first."""
    state = b.state
    managed = any(r.managed for r in state.primitives())
    unpack_order = [n for n in state.nodes.values() if n.unclean and n.fence_at_unpack]
    later = [n for n in state.nodes.values() if n.unclean and not n.fence_at_unpack]
    for node in unpack_order + later:
        can = managed and state.can_fence(node)
        act = b.new("stonith", None, node.name, optional=not can, runnable=can,
                    fence_reason=node.fence_reason or "node is unclean")
        b.fences[node.name] = act


def fence_orderings(b: ActionBuilder) -> None:
    """Stops implied by fencing come after it; starts of resources that require fencing wait for it."""
    for node, fence in b.fences.items():
        if not fence.runnable:
            # Resources that need fencing cannot start elsewhere until this node is fenced.
            for act in b.actions:
                if act.task == "start" and act.rsc is not None and node in act.rsc.status.active_on \
                        and act.rsc.requires in ("fencing", "unfencing"):
                    b.order(fence, act, BLOCKS)
            continue
        for act in b.actions:
            if act.task == "stop" and act.node == node and act.pseudo:
                b.order(fence, act, IMPLIES_THEN)
            elif act.task == "start" and act.rsc is not None and \
                    act.rsc.requires in ("fencing", "unfencing"):
                b.order(fence, act, 0)


def needs_unfencing(b: ActionBuilder, rsc: Resource) -> bool:
    """Fence devices (once any provides unfencing) and requires=unfencing resources wait for it."""
    is_device = rsc.agent.get("class") == "stonith"
    return (is_device and b.state.unfencing) or (not is_device and rsc.requires == "unfencing")


def unfence(b: ActionBuilder, node: str, reason: str, force: bool = False) -> Act:
    """The node's "on" fencing action: ordered before the resource action that needs it.

    Optional while the node has been unfenced before (``#node-unfenced``):
    making it required would unfence the node, and so restart everything on
    it, whenever a resource is added. A node never unfenced needs it, and so
    does one whose fence device's parameters changed (``force``: Pacemaker's
    trigger_unfencing from pcmk__check_action_config).
    """
    act = b.unfences.get(node)
    if act is None:
        n = b.state.nodes[node]
        act = b.new("stonith", None, node, runnable=b.state.can_fence(n) and n.online, fence_reason="")
        act.fence_op = "on"
        b.unfences[node] = act
    if (force or (b.state.nodes[node].attrs.get("#node-unfenced") or "0") == "0") and act.optional:
        act.optional = False
        act.fence_reason = reason
    return act


def unfence_for_device_change(b: ActionBuilder, rsc: Resource, node: str, reload: bool = False) -> None:
    """A fence device whose parameters changed unfences its node again, where unfencing is in use and the
    node is up (trigger_unfencing)."""
    n = b.state.nodes[node]
    if b.state.unfencing and rsc.agent.get("class") == "stonith" and n.online and not n.unclean \
            and not n.shutdown:
        unfence(b, node, "Device parameters changed" + (" (reload)" if reload else ""), force=True)
