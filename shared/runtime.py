"""The common ``main`` of every service: flags, config, logging, /metrics, bus connection, signals.

A service supplies only ``run(ctx)``, a coroutine that sets up its subscriptions
and endpoints and then waits for ``ctx.stopping``. Keeping the shell identical
makes every service start, log and stop the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from nats.aio.client import Client
from paceline.shared import bus, config, credentials, logs, metrics, permissions, sdnotify
from paceline.shared.credentials import ClientCredential, CredentialError

#: Where a node keeps its state unless told otherwise (the systemd units' ``StateDirectory=``).
DEFAULT_STATE_DIR = "/var/lib/paceline"


@dataclass
class ServiceContext:
    service: str
    cfg: config.Config
    nc: Client
    log: structlog.BoundLogger
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def subjects(self):
        return self.cfg.subjects

    @property
    def state_dir(self) -> Path:
        """The ``state_dir`` setting, else systemd's ``$STATE_DIRECTORY`` (``StateDirectory=paceline``), else
        /var/lib/paceline: what a node keeps must outlive a reboot, so never /tmp."""
        path = Path(self.cfg.state_dir or os.environ.get("STATE_DIRECTORY", "").split(":")[0] or DEFAULT_STATE_DIR)
        path.mkdir(parents=True, exist_ok=True)
        return path


def parser(service: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"paceline-{service}", description=f"Paceline {service} service")
    p.add_argument("--config", help="TOML config file (default: $PACELINE_CONFIG)")
    p.add_argument("--node", help="node this process speaks for")
    p.add_argument("--cluster", help="cluster name (subject prefix)")
    p.add_argument("--nats-url", help="NATS server URL")
    p.add_argument("--state-dir", help="directory for this process's state")
    p.add_argument("--metrics-port", type=int, help="port of /metrics (0: any free port, -1: off)")
    p.add_argument("--log-format", choices=["console", "json"])
    p.add_argument("--log-level")
    return p


def service_main(service: str, run: Callable[[ServiceContext], Awaitable[None]],
                 argv: list[str] | None = None, needs_node: bool = False,
                 extra_args: Callable[[argparse.ArgumentParser], None] | None = None) -> int:
    p = parser(service)
    if extra_args:
        extra_args(p)
    args = p.parse_args(argv)
    try:
        cfg = config.load(args.config, node=args.node, cluster=args.cluster, nats_url=args.nats_url,
                          state_dir=args.state_dir, metrics_port=args.metrics_port,
                          log_format=args.log_format, log_level=args.log_level)
    except config.ConfigError as exc:
        print(f"paceline-{service}: {exc}", file=sys.stderr)
        return 2
    if needs_node and not cfg.node:
        print(f"paceline-{service}: a node name is required (--node or PACELINE_NODE)", file=sys.stderr)
        return 2
    cfg.extra.update({k: v for k, v in vars(args).items() if v is not None})
    log = logs.setup(service, cfg.log_format, cfg.log_level, cfg.node)
    for warning in cfg.warnings:  # misspelt settings are ignored, but never silently
        log.warning(warning)
    try:
        return asyncio.run(_serve(service, cfg, log, run))
    except KeyboardInterrupt:
        return 0


def service_credential(cfg: config.Config, service: str) -> ClientCredential | None:
    """The credential a service of this node connects with (``<service>@<node>``), when the bus wants one."""
    creds = credentials.locate(cfg.credentials)
    if creds is None:
        return None
    if not cfg.node:
        raise CredentialError(f"a credential is per node: paceline-{service} needs --node or PACELINE_NODE")
    return creds.client(permissions.user_name(service, cfg.node))


async def _serve(service: str, cfg: config.Config, log: structlog.BoundLogger,
                 run: Callable[[ServiceContext], Awaitable[None]]) -> int:
    try:
        credential = service_credential(cfg, service)
        nc = await bus.connect(cfg.nats_url, f"paceline-{service}-{cfg.node or 'any'}", credential=credential)
    except (bus.BusUnavailable, CredentialError) as exc:
        log.error("cannot start", error=str(exc))
        return 1
    ctx = ServiceContext(service=service, cfg=cfg, nc=nc, log=log)
    port = metrics.serve(cfg.metrics_port, cfg.metrics_host, ctx.state_dir / f"{service}.metrics-port")
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, ctx.stopping.set)
    log.info("started", nats=cfg.nats_url, metrics_port=port)
    # Ready for systemd (Type=notify) once connected to the bus; the watchdog is petted from this event loop,
    # so a service whose loop hangs is restarted (WatchdogSec=).
    sdnotify.notify(f"READY=1\nSTATUS=connected to {cfg.nats_url}")
    petting = _pet_watchdog()
    try:
        await run(ctx)
    finally:
        sdnotify.notify("STOPPING=1")
        if petting is not None:
            petting.cancel()
        metrics.UP.labels(service).set(0)
        with contextlib.suppress(Exception):  # the bus may already be gone at shutdown
            await nc.drain()
        log.info("stopped")
    return 0


def _pet_watchdog() -> asyncio.Task[None] | None:
    """A task sending WATCHDOG=1 at half systemd's WatchdogSec, when systemd watches this process."""
    interval = sdnotify.watchdog_interval()
    if interval is None:
        return None

    async def pet() -> None:
        while True:
            sdnotify.notify("WATCHDOG=1")
            await asyncio.sleep(interval)

    return asyncio.get_running_loop().create_task(pet(), name="sd-watchdog")
