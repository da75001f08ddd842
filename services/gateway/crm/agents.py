"""What agents exist and what their meta-data says: for crm's checks on ``primitive`` and the ``ra`` level.

crmsh refuses an agent that is not installed, a missing required parameter
and a parameter the agent does not declare. The answers come from the
executors (live: each node knows what it has installed) or from this machine
(``--cib-file``). An agent no node has - an unknown type or a provider no node
has at all - is refused unless the user says to go ahead
(:mod:`paceline.crm.preferences`); where nothing can be known (no executor
answered; systemd, service and stonith classes) the definition is accepted. Both the listing and the meta-data
are fetched lazily and only once, because asking every executor costs a round
trip per node and most commands need neither.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from paceline.crm.context import AgentMeta

MetaFetch = Callable[[str, str, str], "str | None"]
ListingFetch = Callable[[], "dict[str, Any] | None"]
#: ``(class, provider, type, params, rsc)`` -> the ``validate-all`` verdict (see ``ra.AgentSource.validate``).
Validator = Callable[[str, str, str, "dict[str, str]", str], "dict[str, Any] | None"]
_UNSET = object()


def merge_listings(listings: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """One listing of what any node has: the union of the executors' ``{"ocf": {...}, "lsb": [...]}``."""
    merged: dict[str, Any] = {"ocf": {}, "lsb": []}
    for have in listings:
        for provider, types in (have.get("ocf") or {}).items():
            merged["ocf"][provider] = sorted(set(merged["ocf"].get(provider, [])) | set(types))
        merged["lsb"] = sorted(set(merged["lsb"]) | set(have.get("lsb") or []))
    return merged


class AgentCatalog:
    """Installed agents and their meta-data; also the ``AgentSource`` the crm ``ra`` level reads."""

    def __init__(self, listing: dict[str, Any] | ListingFetch | None, fetch_meta: MetaFetch,
                 validator: Validator | None = None):
        self._listing: Any = listing if not callable(listing) else _UNSET
        self._list_fn: ListingFetch | None = listing if callable(listing) else None
        self.fetch_meta = fetch_meta
        self.validator = validator
        self._meta: dict[tuple[str, str, str], AgentMeta | None] = {}
        self._xml: dict[tuple[str, str, str], str | None] = {}

    def listing(self) -> dict[str, Any] | None:
        """``{"ocf": {provider: [types]}, "lsb": [names]}``, or None when no executor answered."""
        if self._listing is _UNSET:
            self._listing = self._list_fn() if self._list_fn else None
        return self._listing

    def known(self, cls: str, provider: str | None, kind: str) -> bool | None:
        """Whether some node has the agent; None when that cannot be told (no executor answered, or a class
        the listing does not cover). A provider no node has is as unknown as a type it lacks."""
        listing = self.listing()
        if listing is None:
            return None
        if cls == "ocf":
            return kind in (listing.get("ocf", {}).get(provider or "") or ())
        if cls == "lsb":
            return kind in (listing.get("lsb") or ())
        return None  # systemd, service and stonith cannot be checked here yet

    def metadata_xml(self, cls: str, provider: str | None, kind: str) -> str | None:
        key = (cls, provider or "", kind)
        if key not in self._xml:
            self._xml[key] = self.fetch_meta(*key) if self.known(*key) is not False else None
        return self._xml[key]

    def validate(self, cls: str, provider: str | None, kind: str, params: dict[str, str],
                 rsc: str = "") -> dict[str, Any] | None:
        """The agent's own verdict on ``params`` (its ``validate-all``); None when nothing can run it."""
        return self.validator(cls, provider or "", kind, dict(params), rsc) if self.validator else None

    def meta(self, cls: str, provider: str | None, kind: str) -> AgentMeta | None:
        key = (cls, provider or "", kind)
        if key not in self._meta:
            xml = self.metadata_xml(*key) if self.known(*key) else None
            try:
                self._meta[key] = AgentMeta.from_xml(xml) if xml else None
            except Exception:  # an agent printing garbage as meta-data: skip the parameter check
                self._meta[key] = None
        return self._meta[key]
