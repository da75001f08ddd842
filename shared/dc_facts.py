"""The cluster as the DC knows it: a CIB copy with the DC's own facts laid over (``policy.facts``).

The DC acts on what it learns first - its membership view, the nodes it
fenced - and writes those facts into the CIB behind (``policy/recorder.py``),
so that recovery never waits for a JetStream leader election. Each executor
mirrors its own results into the CIB on its own. While the CIB's stream has no
leader both sets of writes wait, and when it has one again they land in no
particular order: a CIB read in between can show a fenced node still running
its resources next to their recovery on a survivor, which Pacemaker's CIB
(where the fencing record always lands first) never shows.

Readers that show the cluster to people - the status page, the node exporter -
therefore lay the DC's facts over the CIB exactly as the DC does before it plans
(:func:`paceline.shared.cluster.overlay.lay_over`), and show the CIB alone when
no DC answers. The executors' histories are not part of the facts: they are
large, and their CIB copies are written by their owners.
"""

from __future__ import annotations

from nats.aio.client import Client
from paceline.shared import bus
from paceline.shared.cib import Element
from paceline.shared.cluster.overlay import Known, lay_over
from paceline.shared.messages import DcFacts, DcFactsQuery
from paceline.shared.subjects import Subjects

#: How long a reader waits for the DC: a status page must not hang on a DC that is paused or electing.
FACTS_TIMEOUT = 1.0


def facts_of(known: Known, dc: str) -> DcFacts:
    """The wire form of what the DC lays over its CIB, without the executors' histories."""
    return DcFacts(dc=dc, members=tuple(sorted(known.members)), gone=tuple(sorted(known.gone)),
                   unclean=tuple(sorted(known.unclean)),
                   fenced={node: [dict(op) for op in ops] for node, ops in known.fenced.items()})


def known_of(facts: DcFacts) -> Known:
    """The facts as :func:`lay_over` takes them."""
    return Known(members=frozenset(facts.members), gone=frozenset(facts.gone), unclean=frozenset(facts.unclean),
                 fenced={node: list(ops) for node, ops in facts.fenced.items()})


async def ask(nc: Client, subjects: Subjects, service: str, timeout: float = FACTS_TIMEOUT) -> DcFacts | None:
    """The DC's facts, or None when no DC answers in time (none elected, stepping down, paused)."""
    try:
        return await bus.call(nc, subjects.policy_facts, DcFactsQuery(), DcFacts, timeout=timeout, service=service)
    except (bus.BusUnavailable, bus.RemoteError):
        return None


async def lay_dc_facts_over(nc: Client, subjects: Subjects, root: Element, service: str) -> DcFacts | None:
    """Make ``root`` (a private copy of the CIB) show what the DC knows; the facts laid, or None if none were."""
    facts = await ask(nc, subjects, service)
    if facts is not None:
        lay_over(root, known_of(facts))
    return facts
