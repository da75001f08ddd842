"""Where a shell session's commands go: the live cluster (through the gateway) or a CIB file.

Both give the same five things: the CIB with its version (a configure
session's working copy), running one crm line at once (node and resource
levels, one-shot lines), committing a staged configuration only on top of the
version it started from, the status page, and the agent catalog.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from paceline.client.gateway import ClientError, GatewayClient
from paceline.client.local_agents import local_catalog
from paceline.crm import Context, CrmError, preferences, run_lines
from paceline.crm.agents import AgentCatalog
from paceline.shared import cib

#: ``resource why`` on a CIB no cluster runs: the scheduler, offline (given by the CLI, which may run it).
OfflineExplain = Callable[[cib.Element, str], str]


class Backend(Protocol):
    name: str
    local_node: str

    def load(self) -> tuple[cib.Element, str]: ...

    def run(self, line: str) -> str: ...

    def commit(self, work: cib.Element, base_version: str) -> str: ...

    def status(self, fmt: str = "text") -> str: ...

    def status_page(self, fmt: str = "text", show: tuple[str, ...] = ("inactive",)) -> tuple[str, list[str]]: ...

    def catalog(self) -> AgentCatalog: ...

    def context(self, root: cib.Element) -> Context: ...

    def close(self) -> None: ...


class CommitConflict(CrmError):
    """The configuration moved on since the version a commit was based on; nothing was written."""


def _same_configuration(a: str, b: str) -> bool:
    return cib.Version.parse(a).epoch == cib.Version.parse(b).epoch and \
        cib.Version.parse(a).admin_epoch == cib.Version.parse(b).admin_epoch


class LiveBackend:
    """The cluster, through the gateway's ``cib``, ``crm``, ``commit``, ``status`` and ``agents`` endpoints."""

    name = "live"

    def __init__(self, client: GatewayClient, local_node: str):
        self.client = client
        self.local_node = local_node
        self._catalog: AgentCatalog | None = None

    def load(self) -> tuple[cib.Element, str]:
        reply = self._ask("cib")
        return cib.parse_cib(reply["xml"]), reply["version"]

    def run(self, line: str) -> str:
        return self._ask("crm", {"lines": [line], "node": self.local_node, "script": False,
                                 "options": preferences.session().to_wire()}).get("output", "")

    def commit(self, work: cib.Element, base_version: str) -> str:
        try:
            reply = self.client.request("commit", {"xml": cib.serialize(work, pretty=False),
                                                   "expected_version": base_version})
        except ClientError as exc:
            raise (CommitConflict if exc.code == "conflict" else CrmError)(str(exc)) from None
        return reply["version"]

    def status(self, fmt: str = "text") -> str:
        return self._ask("status", {"format": fmt})["text"]

    def status_page(self, fmt: str = "text", show: tuple[str, ...] = ("inactive",)) -> tuple[str, list[str]]:
        reply = self._ask("status", {"format": fmt, "show": list(show)})
        return reply["text"], list(reply.get("errors") or [])

    def catalog(self) -> AgentCatalog:
        if self._catalog is None:
            self._catalog = AgentCatalog(self._listing, self._metadata)
        return self._catalog

    def _listing(self) -> dict[str, Any] | None:
        try:
            return self._ask("agents")
        except CrmError:
            return None

    def _metadata(self, cls: str, provider: str, kind: str) -> str | None:
        try:
            return self._ask("metadata", {"agent": {"class": cls, "provider": provider, "type": kind}})["xml"]
        except CrmError:
            return None

    def context(self, root: cib.Element) -> Context:
        catalog = self.catalog()
        return Context(local_node=self.local_node, agent_known=catalog.known, agent_meta=catalog.meta,
                       agents=catalog)

    def close(self) -> None:
        self.client.close()

    def _ask(self, endpoint: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            return self.client.request(endpoint, body)
        except ClientError as exc:
            raise CrmError(str(exc)) from None


class FileBackend:
    """A CIB file: read for every command, written atomically (temporary file, then rename).

    ``explain`` answers ``resource why`` (none: the command says it cannot).
    """

    def __init__(self, path: str, local_node: str, explain: OfflineExplain | None = None):
        self.path = Path(path)
        self.explain = explain
        self.name = self.path.name
        self.local_node = local_node
        self._catalog: AgentCatalog | None = None

    def load(self) -> tuple[cib.Element, str]:
        try:
            root = cib.parse_cib(self.path.read_bytes())
        except FileNotFoundError:
            raise CrmError(f"CIB file {self.path} does not exist") from None
        except cib.CibError as exc:
            raise CrmError(f"CIB file {self.path}: {exc}") from None
        return root, str(cib.version(root))

    def save(self, root: cib.Element) -> str:
        v = cib.version(root)
        cib.set_version(root, cib.Version(v.admin_epoch, v.epoch + 1, 0))
        cib.stamp_change(root, "crm")
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(cib.serialize(root))
        tmp.replace(self.path)
        return str(cib.version(root))

    def run_lines(self, lines: list[str], script: bool) -> tuple[str, CrmError | None]:
        """Lines applied to the file; a script keeps what worked (crmsh's ``-f``) and returns the failure."""
        root, _ = self.load()
        outcome, failure = run_lines(root, lines, self.context(root), script)
        if outcome.changed:
            self.save(root)
        return outcome.output, failure

    def run(self, line: str) -> str:
        output, _ = self.run_lines([line], script=False)
        return output

    def close(self) -> None:
        """Nothing held open: the file is read and written whole by every command."""

    def commit(self, work: cib.Element, base_version: str) -> str:
        current, version = self.load()
        if not _same_configuration(version, base_version):
            raise CommitConflict(f"commit: {self.path} changed since this session read it (version "
                                 f"{base_version}, now {version}); nothing was written - 'refresh' and make the "
                                 "changes again")
        new = copy.deepcopy(work)
        status = new.find("status")
        if status is not None:
            new.remove(status)
        current_status = current.find("status")
        if current_status is not None:
            new.append(current_status)
        return self.save(new)

    def status(self, fmt: str = "text") -> str:
        return self.status_page(fmt)[0]

    def status_page(self, fmt: str = "text", show: tuple[str, ...] = ("inactive",)) -> tuple[str, list[str]]:
        """The file's status page (``show``: its sections, see crm_mon.render) and its configuration errors,
        which crm_mon logs apart from the page."""
        from paceline.shared.cluster.crm_mon import page_and_notes

        return page_and_notes(self.load()[0], fmt, time.time(), show)

    def catalog(self) -> AgentCatalog:
        if self._catalog is None:
            self._catalog = local_catalog()
        return self._catalog

    def context(self, root: cib.Element) -> Context:
        catalog = self.catalog()
        explain = self.explain
        return Context(local_node=self.local_node, agent_known=catalog.known, agent_meta=catalog.meta,
                       agents=catalog, explain=(lambda rsc: explain(root, rsc)) if explain is not None else None)
