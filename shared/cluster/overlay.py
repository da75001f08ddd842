"""What the DC knows better than the CIB, laid over its copy before it plans.

The CIB is written through JetStream, and a JetStream stream whose leader died
accepts no write (and serves no fresh read) for the 4-10 s its Raft takes to
elect another. The DC must not wait for that to recover a lost node's
resources, and it must never plan from a status that lacks what it already
knows, or it would start a second copy of something that runs. So the DC
plans from the CIB's configuration and transient attributes, with three
facts laid over the status, each from the party that knows it first:

- which nodes are up: from the DC's own membership view (members online;
  nodes known gone offline; those its view listed since they were last fenced
  unclean, as Pacemaker records every node that leaves without a clean
  shutdown, so the scheduler fences them before their resources start
  elsewhere - whatever a CIB copy that may be stale says they ran);
- what runs where: from each node's executor, which holds the authoritative
  history of its node (the CIB's copy is a mirror that may lag);
- which nodes were fenced: from the DC's own fencer, as Pacemaker's controller
  records it (cleanly down, no history, no transient attributes), until the
  node is a member again.

Pure: the policy service gathers the facts and applies this to its private
copy of the CIB.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from paceline.shared import cib, lrm
from paceline.shared.cib import Element


@dataclass(frozen=True)
class Known:
    """The facts the DC lays over the CIB (see the module docstring)."""

    members: frozenset[str]
    #: Nodes that are not members and known to be gone (seen and lost, or absent from a settled view).
    gone: frozenset[str] = frozenset()
    #: Gone nodes the DC's view listed since they were last fenced: they left without a clean shutdown.
    unclean: frozenset[str] = frozenset()
    #: Node -> its ``<lrm>`` element as its executor holds it (or as the DC last fetched it).
    histories: Mapping[str, Element] = field(default_factory=dict)
    #: Node -> the status ops the fencer recorded for it (its CIB write may still be pending).
    fenced: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)


def lay_over(root: Element, known: Known) -> None:
    """Apply ``known`` to ``root`` (the DC's own copy of the CIB), in place."""
    for node in sorted(known.members):
        _set_state(cib.node_state(root, node), cib.NODE_STATE_MEMBER)
    for node in sorted(known.gone - known.members):
        ns = cib.node_state(root, node, create=node in known.unclean)
        if ns is not None:
            _set_state(ns, cib.NODE_STATE_LOST)
            if node in known.unclean:
                ns.set("expected", "member")
    for node, history in sorted(known.histories.items()):
        if node in known.fenced and node not in known.members:
            continue  # fenced since: what it ran is gone with it
        ns = cib.node_state(root, node, create=node in known.members)
        if ns is not None:
            _replace_lrm(ns, history)
    for node, ops in sorted(known.fenced.items()):
        if node not in known.members:
            lrm.apply_status_ops(cib.node_state(root, node), ops)


def _set_state(ns: Element, attrs: Mapping[str, str]) -> None:
    for name, value in attrs.items():
        ns.set(name, value)


def _replace_lrm(ns: Element, history: Element) -> None:
    """Put the executor's ``<lrm>`` where the CIB's was (a copy: the cached element is reused)."""
    for old in ns.findall("lrm"):
        ns.remove(old)
    ns.append(copy.deepcopy(history))
