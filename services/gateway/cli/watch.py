"""``paceline status --watch``: redraw the status page whenever the cluster changes - no polling.

The CIB store announces every write on ``cib.changed`` and each membership
service announces its view on ``membership.view.<node>``; either one means the
page may read differently now, so it is fetched from the gateway and drawn
again. Bursts (a transition writes many operation results) are coalesced into
one redraw. Ctrl-C ends it quietly with status 0.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

from paceline.client.gateway import ClientError, GatewayClient

CLEAR = "\033[H\033[2J"
COALESCE_SECONDS = 0.1


async def _watch(client: GatewayClient, fmt: str, nc: Any, stop: asyncio.Event, show: tuple[str, ...]) -> None:
    from paceline.shared import bus

    changed = asyncio.Event()

    async def on_event(msg: Any) -> None:
        changed.set()

    await nc.subscribe(client.subjects.cib_changed, cb=on_event)
    await nc.subscribe(client.subjects.views, cb=on_event)
    changed.set()
    while not stop.is_set():
        await changed.wait()
        await asyncio.sleep(COALESCE_SECONDS)
        changed.clear()
        try:
            reply = await bus.request(nc, client.subjects.gateway("status"), "status",
                                      {"format": fmt, "show": list(show)}, timeout=10)
            page = reply["text"]
        except (bus.RemoteError, bus.BusUnavailable) as exc:
            page = f"(status unavailable: {exc})\n"
        prefix = CLEAR if sys.stdout.isatty() else ""
        sys.stdout.write(prefix + page + ("" if prefix else "\n"))
        sys.stdout.flush()


def watch_status(client: GatewayClient, fmt: str = "text", show: tuple[str, ...] = ("inactive",)) -> int:
    """Run until Ctrl-C or SIGTERM (status 0); 1 if the bus cannot be reached."""
    try:
        nc = client.connect()
    except ClientError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    task = client.loop.create_task(_watch(client, fmt, nc, stop, show))

    def interrupt() -> None:
        # Python 3.11's wait_for (under every NATS request) drops a cancellation that arrives together
        # with the reply, so the flag ends the loop even when the cancel is lost.
        stop.set()
        task.cancel()

    # Ctrl-C cancels the watch task from the event loop itself: a KeyboardInterrupt raised wherever the
    # loop happened to be (possibly inside the NATS client's own tasks) could leave the close hanging.
    for sig in (signal.SIGINT, signal.SIGTERM):
        client.loop.add_signal_handler(sig, interrupt)
    try:
        client.run(task)
    except (asyncio.CancelledError, KeyboardInterrupt):
        pass
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            client.loop.remove_signal_handler(sig)
        client.close()
    return 0
