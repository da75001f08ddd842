"""The node exporter: one /metrics endpoint per node, ha_cluster_exporter's port (9664) by default.

Served by the node's membership process, which runs on every node for as long as the node is in the
cluster and holds what the ``ha_cluster_corosync_*`` series report. One scrape returns:

- the cluster-level ``ha_cluster_pacemaker_*`` series, from the CIB (read from the cib-store at most once
  a second, whatever the scrape rate) through :mod:`paceline.membership.exporter`. Every node serves them,
  with the same values (one CIB; the DC from the membership, whose views agree across a partition), as
  ha_cluster_exporter does on every node of a Pacemaker cluster: the dashboards pick the DC's instance;
- this node's ``ha_cluster_corosync_*`` (its view: quorate as seen from here, ``local`` naming this node)
  and ``ha_cluster_sbd_*`` (its watchdog, where one is configured);
- ``ha_cluster_scrape_success``/``_duration_seconds`` per collector, as the exporter reports its own;
- the bus as this node sees it (``paceline_bus_*``) and JetStream's account (``paceline_jetstream_*``);
- every ``paceline_*`` series of the node's services, relayed from their internal endpoints (127.0.0.1,
  found by the ``<service>.metrics-port`` files in the state directory) and merged, each sample labelled
  with its service.

The HTTP server runs in a thread (prometheus-client's kind); what needs the bus is done on the service's
event loop, which the thread waits for (at most ``SCRAPE_TIMEOUT``). A port that is taken is logged and
the node runs on without an exporter: membership's heartbeats matter more than its metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import structlog
from nats.aio.client import Client
from paceline.membership import exporter, exposition, watchdog
from paceline.membership.exposition import Family
from paceline.membership.view import MembershipView
from paceline.shared import bus, cib, dc_facts
from paceline.shared.messages import CibDocument, CibQuery
from paceline.shared.subjects import Subjects
from prometheus_client import REGISTRY, generate_latest

#: The CIB is read at most this often (seconds), however many scrapers there are.
CIB_MAX_AGE = 1.0
#: How long a scrape waits for the bus (the CIB and JetStream's account, asked at once), and for each relayed
#: endpoint: together well within Prometheus's default scrape timeout (10 s).
SCRAPE_TIMEOUT = 3.0
RELAY_TIMEOUT = 1.0
PORT_SUFFIX = ".metrics-port"


@dataclass
class Inputs:
    """What the exporter reads from the membership service at scrape time."""

    view: Callable[[], MembershipView | None]
    node_ids: Callable[[], dict[str, str]]
    votes: Callable[[], list[tuple[str, int]]]


class NodeExporter:
    def __init__(self, nc: Client, subjects: Subjects, nats_url: str, state_dir: Path, inputs: Inputs,
                 log: structlog.BoundLogger, watchdog_timeout: float = 0.0, service: str = "membership"):
        self.nc = nc
        self.subjects = subjects
        self.nats_url = nats_url
        self.state_dir = state_dir
        self.inputs = inputs
        self.log = log
        self.watchdog_timeout = watchdog_timeout
        self.service = service
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: ThreadingHTTPServer | None = None
        self._cib: tuple[float, cib.Element | None] = (0.0, None)
        self._cib_lock = asyncio.Lock()
        self._unpack_lock = asyncio.Lock()

    # ------------------------------------------------------------ lifecycle
    def start(self, address: str, port: int) -> int | None:
        """Listen on ``address:port``; the bound port, or None when disabled or the port cannot be had."""
        if port < 0 or not address:
            return None
        self._loop = asyncio.get_running_loop()
        handler = _handler(self)
        try:
            self._server = ThreadingHTTPServer((address, port), handler)
        except OSError as exc:
            self.log.error("the node exporter cannot listen: running without it", address=address, port=port,
                           error=str(exc))
            return None
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="node-exporter", daemon=True).start()
        bound = int(self._server.server_address[1])
        self.log.info("node exporter listening", address=address, port=bound)
        return bound

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # ------------------------------------------------------------ one scrape (HTTP thread)
    def scrape(self) -> str:
        """The whole exposition of one scrape."""
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(self.collect(), self._loop)
        try:
            families = future.result(SCRAPE_TIMEOUT + 1)
        except Exception as exc:  # the loop is stopping, or the bus hung: the relayed part still helps
            self.log.warning("node exporter: cluster series unavailable", error=str(exc))
            families = []
        relayed = self.relay()
        return exposition.render(families) + relayed

    def relay(self) -> str:
        """This node's services' own metrics, merged into one text."""
        texts = [(self.service, generate_latest(REGISTRY).decode())]
        up = Family("paceline_exporter_service_up",
                    "1 when the node exporter read this service's own metrics endpoint in this scrape")
        for path in sorted(self.state_dir.glob(f"*{PORT_SUFFIX}")):
            service = path.name[: -len(PORT_SUFFIX)]
            if service == self.service:
                continue
            text = _fetch(path)
            up.add(1 if text is not None else 0, service=service)
            if text is not None:
                texts.append((service, text))
        return exposition.render([up]) + exposition.merge(texts)

    # ------------------------------------------------------------ on the event loop
    async def collect(self) -> list[Family]:
        now = time.time()
        families: list[Family] = []
        success = Family("ha_cluster_scrape_success", "Whether a collector succeeded")
        duration = Family("ha_cluster_scrape_duration_seconds", "The duration of a collector scrape in seconds")

        started = time.monotonic()
        view = self.inputs.view()
        # The two bus requests at once: a scrape waits for the slower, not for both in turn.
        root, jetstream = await asyncio.gather(self._read_cib(), self._jetstream_families())
        pacemaker: list[Family] = []
        if root is not None:
            try:
                # The DC as the membership elects it now ("" while none is); the CIB's dc-uuid only without a view.
                # In a thread: unpacking a large CIB takes a good part of a second, which the heartbeats
                # sharing this event loop cannot wait (the token timeout is 0.6 s).
                # One at a time: concurrent scrapes share the cached CIB tree.
                async with self._unpack_lock:
                    pacemaker = await asyncio.to_thread(exporter.pacemaker_families, root, now,
                                                        view.dc if view is not None else None)
            except Exception as exc:  # never let one odd CIB take the other collectors down
                self.log.warning("node exporter: pacemaker series failed", error=str(exc))
        families += pacemaker
        success.add(1 if pacemaker else 0, collector="pacemaker")
        duration.add(time.monotonic() - started, collector="pacemaker")

        started = time.monotonic()
        if view is not None:
            families += exporter.corosync_families(view, self.inputs.node_ids(), self._ring(), self.inputs.votes())
        success.add(1 if view is not None else 0, collector="corosync")
        duration.add(time.monotonic() - started, collector="corosync")

        if self.watchdog_timeout > 0:
            started = time.monotonic()
            device = self.state_dir / watchdog.SOCKET
            families += exporter.sbd_families(str(device), watchdog.listening(self.state_dir), self.watchdog_timeout,
                                              exporter.msgwait_seconds(root, now))
            success.add(1, collector="sbd")
            duration.add(time.monotonic() - started, collector="sbd")

        families += [success, duration, *self._bus_families(), *jetstream]
        return families

    async def _read_cib(self) -> cib.Element | None:
        """The CIB with the DC's facts over it, read at most once per ``CIB_MAX_AGE``; None when the store does
        not answer."""
        async with self._cib_lock:
            stamp, root = self._cib
            if root is not None and time.monotonic() - stamp < CIB_MAX_AGE:
                return root
            if not self.nc.is_connected:
                return None  # cut off from the bus: no CIB to report on (a stale one would mislead)
            try:
                reply = await bus.call(self.nc, self.subjects.cib("query"), CibQuery(), CibDocument,
                                       timeout=SCRAPE_TIMEOUT, service=self.service)
                root = cib.parse_cib(reply.xml)
            except (bus.BusUnavailable, bus.RemoteError, cib.CibError) as exc:
                self.log.debug("node exporter: no CIB", error=str(exc))
                return None
            # As the status page: what the DC knows (its view, the nodes it fenced) over its records written behind.
            await dc_facts.lay_dc_facts_over(self.nc, self.subjects, root, self.service)
            self._cib = (time.monotonic(), root)
            return root

    def _ring(self) -> exporter.Ring:
        server = self.nc.connected_url
        address = server.hostname if server is not None and server.hostname else _host(self.nats_url)
        return exporter.Ring(address=address or "", healthy=bool(self.nc.is_connected))

    def _bus_families(self) -> list[Family]:
        stats: dict[str, Any] = getattr(self.nc, "stats", {}) or {}
        connected = Family("paceline_bus_connected", "1 while this node's membership is connected to the bus")
        connected.add(1 if self.nc.is_connected else 0)
        out = [connected]
        for key, help_text in (("reconnects", "Times this node's membership reconnected to the bus"),
                               ("in_msgs", "Messages this node's membership received from the bus"),
                               ("out_msgs", "Messages this node's membership sent on the bus")):
            family = Family(f"paceline_bus_{key}_total", help_text, "counter")
            family.add(float(stats.get(key, 0)))
            out.append(family)
        return out

    async def _jetstream_families(self) -> list[Family]:
        """JetStream's account as the bus reports it (``$JS.API.INFO``): up, streams, storage, API errors."""
        up = Family("paceline_jetstream_up", "1 when JetStream answered an account info request in this scrape")
        if not self.nc.is_connected:
            up.add(0)
            return [up]
        try:
            info = await asyncio.wait_for(self.nc.jetstream(timeout=SCRAPE_TIMEOUT).account_info(), SCRAPE_TIMEOUT)
        except Exception as exc:  # no JetStream, no permission, no majority: all say "not up"
            self.log.debug("node exporter: no JetStream account info", error=str(exc))
            up.add(0)
            return [up]
        up.add(1)
        out = [up]
        for name, help_text, value in (
                ("streams", "Streams in the account", info.streams),
                ("consumers", "Consumers in the account", info.consumers),
                ("storage_bytes", "File storage the account uses", info.storage),
                ("memory_bytes", "Memory storage the account uses", info.memory)):
            family = Family(f"paceline_jetstream_{name}", help_text)
            family.add(float(value or 0))
            out.append(family)
        for name, help_text, value in (
                ("api_requests_total", "JetStream API requests of the account", info.api.total),
                ("api_errors_total", "JetStream API requests that failed", info.api.errors)):
            family = Family(f"paceline_jetstream_{name}", help_text, "counter")
            family.add(float(value or 0))
            out.append(family)
        return out


def _host(url: str) -> str:
    first = url.split(",")[0].strip()
    return urlsplit(first if "://" in first else f"nats://{first}").hostname or ""


def _fetch(port_file: Path) -> str | None:
    """One service's own exposition, or None when its endpoint does not answer (stopped, restarting)."""
    try:
        port = int(port_file.read_text().strip())
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=RELAY_TIMEOUT) as response:
            return str(response.read().decode())
    except (OSError, ValueError, urllib.error.URLError):
        return None


def _handler(node_exporter: NodeExporter) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                body = node_exporter.scrape().encode()
                self._reply(200, "text/plain; version=0.0.4; charset=utf-8", body)
            elif path == "/":
                self._reply(200, "text/html; charset=utf-8",
                            b"<html><head><title>Paceline node exporter</title></head><body>"
                            b"<h1>Paceline node exporter</h1><p><a href=\"/metrics\">Metrics</a></p></body></html>")
            else:
                self._reply(404, "text/plain; charset=utf-8", b"not found: try /metrics\n")

        def _reply(self, code: int, content_type: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # scrapes every few seconds would drown the service's log

    return Handler
