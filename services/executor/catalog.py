"""The agents installed on this node and their parsed meta-data, for crmsh's ``ra`` commands.

Listing directories and running ``meta-data`` for every ``ra info`` would
cost a process per question, so both are cached and dropped when an agent
directory changes (its modification time moves when an agent is added,
removed or renamed) or the agent file itself changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lxml import etree
from paceline.executor import standards, systemd
from paceline.executor.runner import AgentRunner

Stamp = tuple[tuple[str, float], ...]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return -1.0


def _text(el: etree._Element | None, tag: str) -> str:
    found = el.find(tag) if el is not None else None
    return (found.text or "").strip() if found is not None else ""


def parse_metadata(xml: str) -> dict[str, Any]:
    """OCF meta-data as plain data: parameters (type, default, required...) and advised action timeouts.

    Raises ValueError when the text is not a ``resource-agent`` document.
    """
    try:
        root = etree.fromstring(xml.strip().encode(), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"meta-data is not XML: {exc}") from None
    if root.tag != "resource-agent":
        raise ValueError(f"meta-data root is <{root.tag}>, not <resource-agent>")
    params = []
    for p in root.iterfind("parameters/parameter"):
        content = p.find("content")
        params.append({
            "name": p.get("name", ""), "shortdesc": _text(p, "shortdesc"), "longdesc": _text(p, "longdesc"),
            "type": content.get("type", "string") if content is not None else "string",
            "default": content.get("default") if content is not None else None,
            "values": [o.get("value", "") for o in content.iterfind("option")] if content is not None else [],
            "required": p.get("required") == "1", "unique": p.get("unique") == "1",
            "reloadable": p.get("reloadable") == "1", "deprecated": p.find("deprecated") is not None,
        })
    actions = [{k: a.get(k) for k in ("name", "timeout", "interval", "depth", "role", "start-delay") if a.get(k)}
               for a in root.iterfind("actions/action")]
    return {"name": root.get("name", ""), "version": root.get("version") or _text(root, "version"),
            "shortdesc": _text(root, "shortdesc"), "longdesc": _text(root, "longdesc"),
            "parameters": params, "actions": actions}


class AgentCatalog:
    def __init__(self, runner: AgentRunner):
        self.runner = runner
        self._listing: tuple[Stamp, dict[str, Any]] | None = None
        self._meta: dict[standards.AgentRef, tuple[Stamp, str, dict[str, Any]]] = {}

    def _stamp(self, *extra: Path) -> Stamp:
        dirs = [*self.runner.paths.watched_dirs(), *extra]
        return tuple((str(d), _mtime(d)) for d in dirs)

    async def listing(self) -> dict[str, Any]:
        """``{"classes": [...], "ocf": {provider: [types]}, "lsb": ..., "stonith": ..., ...}``."""
        stamp = self._stamp()
        if self._listing is None or self._listing[0] != stamp:
            units = await self._systemd_units()
            agents = standards.list_agents(self.runner.paths, units)
            agents["classes"] = list(standards.CLASSES)
            self._listing = (stamp, agents)
        return self._listing[1]

    async def _systemd_units(self) -> list[str]:
        if not self.runner.systemd_running:
            return []
        done = await self.runner.run_plain(systemd.list_command())
        return systemd.read_unit_list(done.output) if done.rc == 0 else []

    async def providers(self, kind: str) -> list[str]:
        """OCF providers that have an agent called ``kind`` (crmsh's ``ra providers``)."""
        return sorted(p for p, types in (await self.listing())["ocf"].items() if kind in types)

    async def metadata(self, ref: standards.AgentRef) -> tuple[str, dict[str, Any]]:
        """The meta-data XML and its parsed form (raises what ``AgentRunner.metadata`` raises, or ValueError)."""
        extra: list[Path] = []
        if ref.standard in ("ocf", "stonith"):
            extra.append(standards.locate(ref, self.runner.paths))
        stamp = self._stamp(*extra)
        cached = self._meta.get(ref)
        if cached is None or cached[0] != stamp:
            xml = await self.runner.metadata(ref)
            cached = (stamp, xml, parse_metadata(xml))
            self._meta[ref] = cached
        return cached[1], cached[2]
