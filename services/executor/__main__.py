"""``python -m paceline.executor`` / ``paceline-executor``: the executor of one node."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from paceline.executor import guest
from paceline.executor.runner import SBIN_DIR, AgentRunner, cluster_environment
from paceline.executor.service import Executor
from paceline.executor.standards import AgentPaths, parse_roots
from paceline.shared.runtime import ServiceContext, service_main

#: The service name (and credential role, ``remote@<node>``) of a remote node's executor.
REMOTE_SERVICE = "remote"


def build(ctx: ServiceContext) -> Executor:
    cfg = ctx.cfg
    paths = AgentPaths(ocf_root=Path(cfg.ocf_root), lsb_root=Path(cfg.lsb_root),
                       extra_ocf_roots=parse_roots(cfg.extra_ocf_roots, cfg.node), fence_dir=Path(cfg.fence_agent_dir))
    env = cluster_environment(os.environ, cfg.nats_url, cfg.cluster, node=cfg.node,
                              sbin_dir=Path(cfg.ha_sbin_dir or SBIN_DIR))
    runner = AgentRunner(paths, rsctmp=ctx.state_dir / "run", default_timeout=cfg.default_op_timeout, base_env=env)
    # Views propagate within a heartbeat; half the token timeout covers a DC a few heartbeats ahead of this node.
    return Executor(ctx.nc, ctx.subjects, cfg.node, runner, ctx.state_dir, ctx.log, patience=cfg.token_timeout / 2,
                    remote=ctx.service == REMOTE_SERVICE)


async def run(ctx: ServiceContext) -> None:
    executor = build(ctx)
    try:
        await executor.start()
        await ctx.stopping.wait()
    finally:
        await executor.stop()


def main(argv: list[str] | None = None) -> int:
    """``--remote``: run as a remote node (pacemaker_remoted's place): this executor only, with the node's
    ``remote@<node>`` credential, admitting the DC's actions once a connection resource links it."""
    args = list(sys.argv[1:] if argv is None else argv)
    remote = "--remote" in args
    service = REMOTE_SERVICE if remote else "executor"
    if remote and not _names_node(args) and not os.environ.get("PACELINE_NODE"):
        name = guest.guest_name()  # in a bundle's container: the replica's name (see paceline.executor.guest)
        if name:
            args += ["--node", name]
    return service_main(service, run, [a for a in args if a != "--remote"], needs_node=True,
                        extra_args=_remote_flag)


def _names_node(args: list[str]) -> bool:
    return any(a == "--node" or a.startswith("--node=") for a in args)


def _remote_flag(parser: argparse.ArgumentParser) -> None:
    """Show ``--remote`` in ``--help`` (it is read before parsing: it chooses the service name)."""
    parser.add_argument("--remote", action="store_true",
                        help="run as a remote node: an executor with no membership or policy of its own, "
                             "reached through an ocf:pacemaker:remote connection resource")


def remote_main(argv: list[str] | None = None) -> int:
    """``paceline-remote``: a remote node (``paceline-executor --remote``)."""
    return main(["--remote", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
