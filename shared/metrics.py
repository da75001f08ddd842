"""Prometheus metrics common to all services, and the per-service /metrics endpoint.

Names follow prometheus-client conventions: ``paceline_`` namespace, base units,
``_total`` counters, ``_seconds`` histograms. Service-specific metrics live next
to the service but register in the same default registry.

Each service's endpoint is internal (127.0.0.1, a free port written to ``<service>.metrics-port`` in its
state directory): what is scraped is the node exporter, served by the node's membership on
ha_cluster_exporter's port, which relays every service's metrics with ha_cluster_exporter's series
(``paceline.membership.node_exporter``, ``docs/monitoring.md``). Counters and histograms expose no
``_created`` series: in Prometheus's text format each would be one more gauge per label set, which nothing
reads.
"""

from __future__ import annotations

from pathlib import Path

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics, start_http_server

disable_created_metrics()

UP = Gauge("paceline_up", "1 while the service is running and connected to the bus", ["service"])
REQUESTS = Counter("paceline_requests_total", "Requests handled, by endpoint and outcome",
                   ["service", "endpoint", "outcome"])
REQUEST_SECONDS = Histogram("paceline_request_duration_seconds", "Time spent handling a request",
                            ["service", "endpoint"],
                            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                     0.5, 1, 2.5, 5, 10))
MALFORMED = Counter("paceline_malformed_messages_total",
                    "Messages dropped because they could not be decoded", ["service", "subject"])
SLOW_CONSUMER = Counter("paceline_slow_consumer_dropped_messages_total",
                        "Messages the bus client dropped because a subscription's handler fell behind (its "
                        "pending limit was reached)", ["client", "subject"])


def serve(port: int, host: str = "127.0.0.1", port_file: Path | None = None) -> int | None:
    """Start the /metrics HTTP endpoint; returns the bound port (useful when port is 0).

    The port is written to ``port_file`` so the lab and tests can find services
    that picked a free port.
    """
    if port < 0:
        return None
    server, _thread = start_http_server(port, addr=host)
    bound = server.server_address[1]
    if port_file is not None:
        port_file.parent.mkdir(parents=True, exist_ok=True)
        port_file.write_text(f"{bound}\n")
    return bound
