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
no DC answers. The executors' histories are not part of the facts (they are
large, and their CIB copies are written by their owners a moment after each
result); only when the CIB read is the store's last good copy - its stream is
electing a leader, and no mirror write lands - does a reader also ask each
member's executor for its history, as the DC does, so that what the survivors
started meanwhile shows as started.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Iterable

from nats.aio.client import Client
from paceline.shared import bus, cib
from paceline.shared.cib import Element
from paceline.shared.cluster import remote_nodes
from paceline.shared.cluster.overlay import Known, lay_over
from paceline.shared.messages import DcFacts, DcFactsQuery, ExecutorHistory, HistoryRequest
from paceline.shared.subjects import Subjects

#: How long a reader waits for the DC: a status page must not hang on a DC that is paused or electing.
FACTS_TIMEOUT = 1.0
#: How long the DC, and a reader of a stale CIB, wait for the executors' histories.
HISTORY_PATIENCE = 0.5


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


async def executor_history(nc: Client, subjects: Subjects, node: str, service: str,
                           patience: float = HISTORY_PATIENCE) -> ExecutorHistory | None:
    """``node``'s operation history as its executor holds it; None when the executor does not answer in time."""
    with contextlib.suppress(bus.BusUnavailable, bus.RemoteError):
        return await bus.call(nc, subjects.executor("history", node), HistoryRequest(), ExecutorHistory,
                              timeout=patience, service=service)
    return None


async def histories(nc: Client, subjects: Subjects, nodes: Iterable[str], service: str) -> dict[str, Element]:
    """The ``<lrm>`` elements of the executors of ``nodes`` that answer (all asked at once); an answer that
    is not an ``<lrm>`` element is left out, as the DC leaves it out."""
    names = sorted(set(nodes))
    replies = await asyncio.gather(*(executor_history(nc, subjects, node, service) for node in names))
    found: dict[str, Element] = {}
    for node, reply in zip(names, replies, strict=True):
        element = parse_history(reply.lrm) if reply is not None else None
        if element is not None:
            found[node] = element
    return found


def parse_history(xml: str) -> Element | None:
    """An executor's ``<lrm>`` element; None when the text is not one."""
    try:
        element = cib.parse(xml)
    except cib.CibError:
        return None
    return element if element.tag == "lrm" else None


async def lay_dc_facts_over(nc: Client, subjects: Subjects, root: Element, service: str,
                            stale: bool = False) -> DcFacts | None:
    """Make ``root`` (a private copy of the CIB) show what the DC knows, and - when ``root`` is the store's
    last good copy (``stale``) - what the members' and remote nodes' executors hold; the facts laid, or None
    when no DC answered (``root`` is then left as it is)."""
    facts = await ask(nc, subjects, service)
    if facts is None:
        return None
    known = known_of(facts)
    if stale:
        nodes = [*facts.members, *remote_nodes.remote_node_names(root)]
        known = dataclasses.replace(known, histories=await histories(nc, subjects, nodes, service))
    lay_over(root, known)
    return facts
