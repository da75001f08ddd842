"""The agents installed on this machine, for commands run on a CIB file with no cluster (``--cib-file``).

Meta-data and ``validate-all`` go through the executor's own runner, so an
agent is called offline exactly as a node's executor would call it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from paceline.crm.agents import AgentCatalog
from paceline.executor import standards
from paceline.shared import config


def local_catalog(cfg: config.Config | None = None) -> AgentCatalog:
    """The agents installed on this machine (and Paceline's bundled ones).

    Meta-data and ``validate-all`` go through the executor's own runner, so an
    agent is called offline exactly as a node's executor would call it (OCF
    environment, fence agents' stdin protocol, timeouts).
    """
    cfg = cfg or config.load()
    from pathlib import Path

    paths = standards.AgentPaths(Path(cfg.ocf_root), Path(cfg.lsb_root))

    def on_runner(use: Callable[[Any], Any]) -> Any:
        """Run one coroutine of an AgentRunner made for it, with a scratch HA_RSCTMP."""
        import asyncio
        import tempfile

        from paceline.executor.runner import AgentRunner

        with tempfile.TemporaryDirectory(prefix="paceline-agent-") as rsctmp:
            return asyncio.run(use(AgentRunner(paths, Path(rsctmp), cfg.default_op_timeout)))

    def fetch(cls: str, provider: str, kind: str) -> str | None:
        ref = standards.AgentRef(cls, provider, kind)
        if ref.is_lsb:
            return standards.lsb_metadata(kind)
        try:
            return on_runner(lambda runner: runner.metadata(ref))
        except (standards.NotInstalled, standards.UnsupportedStandard, RuntimeError):
            return None

    def validate(cls: str, provider: str, kind: str, params: dict[str, str], rsc: str) -> dict[str, Any]:
        from paceline.executor import validation

        node = cfg.node or os.uname().nodename
        return on_runner(lambda runner: validation.validate(
            runner, standards.AgentRef(cls, provider, kind), params, node, rsc))

    return AgentCatalog(lambda: standards.list_agents(paths), fetch, validate)
