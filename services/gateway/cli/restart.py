"""``resource restart`` against a live cluster: stop, wait until stopped, start, wait until started.

Offline a restart is just its two CIB changes; live, crmsh waits for the
cluster to act on each. The waiting watches the CIB's change announcements
(``cib.changed``) and re-reads the resource's state after each one, so it
returns as soon as the executor's result is recorded - no fixed sleeps.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from paceline.client.gateway import ClientError, GatewayClient

WAIT_SECONDS = 60.0


async def _state(client: GatewayClient, nc: Any, rsc: str, node: str) -> str:
    from paceline.shared import bus

    reply = await bus.request(nc, client.subjects.gateway("crm"), "crm",
                              {"lines": [f"resource status {rsc}"], "node": node, "script": False}, timeout=30)
    return reply.get("output") or ""


async def _set_and_wait(client: GatewayClient, nc: Any, rsc: str, node: str, action: str, running: bool) -> None:
    from paceline.shared import bus

    changed = asyncio.Event()

    async def on_change(msg: Any) -> None:
        changed.set()

    sub = await nc.subscribe(client.subjects.cib_changed, cb=on_change)
    try:
        try:
            await bus.request(nc, client.subjects.gateway("crm"), "crm",
                              {"lines": [f"resource {action} {rsc}"], "node": node, "script": False}, timeout=30)
        except bus.RemoteError as exc:
            raise ClientError(str(exc)) from None
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            changed.clear()
            lines = (await _state(client, nc, rsc, node)).splitlines()
            if lines and all(("NOT running" not in line) == running for line in lines):
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise ClientError(f"resource restart: {rsc} did not {'start' if running else 'stop'} "
                                  f"within {WAIT_SECONDS:g}s")
            try:
                await asyncio.wait_for(changed.wait(), timeout=min(left, 2.0))
            except TimeoutError:
                pass  # re-check anyway: a change may have landed between the read and the subscription
    finally:
        await sub.unsubscribe()


def restart(client: GatewayClient, rscs: list[str], node: str) -> str:
    nc = client.connect()
    out = []
    for rsc in rscs:
        client.run(_set_and_wait(client, nc, rsc, node, "stop", running=False))
        out.append(f"INFO: {rsc} stopped")
        client.run(_set_and_wait(client, nc, rsc, node, "start", running=True))
        out.append(f"INFO: {rsc} started")
    return "\n".join(out)
