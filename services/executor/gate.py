"""Whether this executor carries out what a DC asks: by its node's membership view, else by the DC's term.

With no lease, the rule that keeps two DCs from both acting is
:func:`paceline.shared.admission.refusal`: a request runs only when this
node's own membership view elects the DC that sent it, over the members it
planned with. Views of different nodes disagree only while a change
propagates (a heartbeat or so), so a refused request waits a little (about
half a token timeout) for a newer view that admits it before it is refused.

An executor that has never seen a view (run without membership, as in tests)
keeps the older fencing token: the persisted highest DC term. Once a view was
seen the term is not consulted any more: ring ids are each node's own count
and differ between nodes, and the view check replaces them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import structlog
from nats.aio.client import Client
from paceline.shared import admission, bus
from paceline.shared.messages import MembershipQuery, MembershipViewMessage
from paceline.shared.subjects import Subjects

#: How long the start-up query of the node's view may take (best effort: published views arrive anyway).
QUERY_TIMEOUT = 1.0
#: How long a refused request waits for a view that admits it, when the token timeout is not known.
DEFAULT_PATIENCE = 0.5


class TermStore:
    """The highest DC term seen, kept on disk so that a restarted executor still refuses old DCs."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.term = int(path.read_text().strip() or 0)
        except (OSError, ValueError):
            self.term = 0

    def admit(self, term: int) -> None:
        """Accept ``term`` (raising it if newer) or refuse it as stale."""
        if term < self.term:
            raise bus.UserError(f"action from DC term {term} refused: term {self.term} has been seen",
                                code="stale-term", details={"term": term, "current": self.term})
        if term > self.term:
            self.term = term
            with contextlib.suppress(OSError):
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.path.write_text(f"{term}\n")

    def clear(self) -> None:
        """Forget the term: a membership view now decides, and a term file must not outlive it (a forged
        far-future term would otherwise refuse every real DC after the next restart)."""
        self.term = 0
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)


class MembershipGate:
    """This node's current membership view and the admission of every DC request by it."""

    def __init__(self, node: str, terms: TermStore, patience: float = DEFAULT_PATIENCE, log: Any = None):
        self.node = node
        self.terms = terms
        self.patience = patience
        self.log = log or structlog.get_logger().bind(service="executor", node=node)
        self.view: MembershipViewMessage | None = None
        self._retired: set[str] = set()  # incarnations of this node's membership that were replaced
        self._newer = asyncio.Event()    # set (and replaced) whenever a view is taken
        self._sub: Any = None
        self._query: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ following the view
    async def follow(self, nc: Client, subjects: Subjects) -> None:
        """Subscribe to the node's views and ask for the current one in the background (never blocks start)."""
        self._sub = await bus.subscribe(nc, "executor", subjects.view(self.node), self._on_view,
                                        MembershipViewMessage)
        self._query = asyncio.create_task(self._ask(nc, subjects), name="membership query")

    async def close(self) -> None:
        if self._query is not None:
            self._query.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._query
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()

    async def _ask(self, nc: Client, subjects: Subjects) -> None:
        try:
            view = await bus.call(nc, subjects.membership_query(self.node), MembershipQuery(),
                                  MembershipViewMessage, timeout=QUERY_TIMEOUT, service="executor")
        except (bus.BusUnavailable, bus.RemoteError) as exc:
            self.log.debug("no membership view at start; waiting for one to be published", error=str(exc))
            return
        self.see(view)

    async def _on_view(self, view: MembershipViewMessage, _subject: str) -> None:
        self.see(view)

    def see(self, view: MembershipViewMessage) -> bool:
        """Take ``view`` unless it is older than the one held; True when taken.

        Older: a lower ring id from the same membership process (a query's answer overtaken by a published
        change). A restarted membership (new incarnation) counts its rings again from its peers' - possibly
        from zero when it is alone - so its views replace those of the process before it, whose late
        messages are ignored from then on.
        """
        if view.node != self.node or view.incarnation in self._retired:
            return False
        held = self.view
        if held is not None and view.incarnation == held.incarnation and view.ring_id < held.ring_id:
            return False
        if held is not None and view.incarnation != held.incarnation:
            self._retired.add(held.incarnation)
        if held is None:
            self.log.info("admitting DC requests by this node's membership view from now on")
            self.terms.clear()
        self.view = view
        self._newer.set()
        self._newer = asyncio.Event()
        return True

    # ------------------------------------------------------------ admission
    def _refusal(self, dc: str, members: Iterable[str]) -> str:
        """Why the held view refuses a request from ``dc`` planned over ``members``; "" when it admits it."""
        assert self.view is not None
        return admission.refusal(self.view.dc, self.view.members, dc, members)

    async def admit(self, dc: str, members: Iterable[str], term: int) -> None:
        """Return when the request may run; raise bus.UserError (``not-dc``, or ``stale-term`` before any view
        was seen) when it may not. A refused request waits up to :attr:`patience` for a view that admits it:
        the DC's view may simply be a heartbeat ahead of this node's."""
        if self.view is None:
            self.terms.admit(term)
            return
        members = tuple(members)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.patience
        while reason := self._refusal(dc, members):
            if not await self._next_view(deadline - loop.time()):
                view = self.view
                raise bus.UserError(f"refused: {reason}", code=admission.NOT_DC,
                                    details={"dc": view.dc, "members": list(view.members), "ring_id": view.ring_id})

    async def admit_reset(self, dc: str, term: int) -> None:
        """Return when a reset (this node was fenced) may run; raise bus.UserError when it may not.

        A reset is admitted as a fencing result is by membership
        (:func:`paceline.shared.admission.fencing_refusal`): it must name the DC this node's view elects.
        Before any view was seen, the persisted term decides, as it does for actions: a reset from an
        older DC than one already obeyed is refused.
        """
        if self.view is None:
            self.terms.admit(term)
            return
        if not dc or dc != self.view.dc:
            raise bus.UserError(f"reset refused: {dc or 'no DC'} is not the DC of this node's membership view "
                                f"(the DC is {self.view.dc or 'none'})", code=admission.NOT_DC,
                                details={"dc": self.view.dc, "ring_id": self.view.ring_id})

    async def _next_view(self, within: float) -> bool:
        """Wait up to ``within`` seconds for another view; False when none came."""
        if within <= 0:
            return False
        try:
            await asyncio.wait_for(self._newer.wait(), within)
        except TimeoutError:
            return False
        return True
