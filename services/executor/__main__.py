"""``python -m paceline.executor`` / ``paceline-executor``: the executor of one node."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from paceline.executor.runner import SBIN_DIR, AgentRunner, cluster_environment
from paceline.executor.service import Executor
from paceline.executor.standards import AgentPaths, parse_roots
from paceline.shared.runtime import ServiceContext, service_main


def build(ctx: ServiceContext) -> Executor:
    cfg = ctx.cfg
    paths = AgentPaths(ocf_root=Path(cfg.ocf_root), lsb_root=Path(cfg.lsb_root),
                       extra_ocf_roots=parse_roots(cfg.extra_ocf_roots, cfg.node), fence_dir=Path(cfg.fence_agent_dir))
    env = cluster_environment(os.environ, cfg.nats_url, cfg.cluster, node=cfg.node,
                              sbin_dir=Path(cfg.ha_sbin_dir or SBIN_DIR))
    runner = AgentRunner(paths, rsctmp=ctx.state_dir / "run", default_timeout=cfg.default_op_timeout, base_env=env)
    # Views propagate within a heartbeat; half the token timeout covers a DC a few heartbeats ahead of this node.
    return Executor(ctx.nc, ctx.subjects, cfg.node, runner, ctx.state_dir, ctx.log, patience=cfg.token_timeout / 2)


async def run(ctx: ServiceContext) -> None:
    executor = build(ctx)
    try:
        await executor.start()
        await ctx.stopping.wait()
    finally:
        await executor.stop()


def main(argv: list[str] | None = None) -> int:
    return service_main("executor", run, argv, needs_node=True)


if __name__ == "__main__":
    sys.exit(main())
