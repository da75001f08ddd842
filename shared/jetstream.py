"""Paceline's durable state in JetStream: KV buckets opened with the cluster's replication factor.

Every bucket Paceline creates is replicated on ``min(3, servers)`` JetStream
servers (``replicas`` setting; 0 means "work it out"), so that the state
survives the loss of any one machine's bus server. A bucket found with fewer
replicas than wanted (made before the cluster grew, or by an older version)
is scaled up in place: JetStream moves a stream to more peers without losing
it.

Just after the servers of a new cluster start, JetStream has no meta leader
yet and refuses to create streams ("JetStream system temporarily
unavailable"); :func:`open_kv` waits for it instead of failing the service.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

from nats.aio.client import Client
from nats.errors import NoRespondersError
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StreamConfig
from nats.js.errors import APIError, BucketNotFoundError, NoStreamResponseError, ServiceUnavailableError
from nats.js.kv import KeyValue

T = TypeVar("T")

#: What a JetStream request meets while the stream (or JetStream itself) has no leader - an election after a
#: server was lost, or a cluster still forming: transient, retried at start-up, served around by readers.
LEADERLESS: tuple[type[Exception], ...] = (TimeoutError, ServiceUnavailableError, NoStreamResponseError)

#: More copies than this buy little and slow every write (JetStream's own advice for R>3 is the same).
MAX_REPLICAS = 3
#: JetStream's error code for "no suitable peers for placement".
NO_SUITABLE_PEERS = 10005
#: How long a service waits for JetStream to become available before giving up on opening a bucket:
#: for ever - a node that boots while its cluster has no JetStream majority waits for one, as it must.
OPEN_PATIENCE = math.inf
#: A wait for JetStream is logged on the first try and then every this many tries.
LOG_EVERY = 20


def wanted_replicas(setting: int, nc: Client) -> int:
    """The replication factor to create buckets with: the setting, or (0) ``min(3, servers known)``.

    The servers known are the ones this connection's server reported in its
    INFO (``connect_urls`` lists every server of its cluster that clients may
    use); a lone server reports none.
    """
    if setting > 0:
        return setting
    info: dict[str, Any] = getattr(nc, "_server_info", None) or {}
    servers = len(set(info.get("connect_urls") or [])) or 1
    return min(MAX_REPLICAS, servers)


async def wait_ready(nc: Client, log: Any = None, patience: float = OPEN_PATIENCE, probe: float = 0.5) -> None:
    """Until JetStream answers its account-info request (a new cluster has elected its meta leader).

    Cheap probes with a short timeout: a JetStream API call made before that waits out the client's whole
    request timeout (5 s) for an answer that never comes.
    """
    import json

    deadline = time.monotonic() + patience
    while True:
        try:
            reply = json.loads((await nc.request("$JS.API.INFO", b"", timeout=probe)).data or b"{}")
            if not isinstance(reply, dict) or "error" not in reply:
                return
            reason = str(reply["error"])
        except (TimeoutError, NoRespondersError, ValueError) as exc:
            reason = str(exc) or type(exc).__name__
        if time.monotonic() > deadline:
            return  # let the caller's own request fail with JetStream's own error
        if log is not None:
            log.info("JetStream not ready yet; waiting", error=reason)
        await asyncio.sleep(0.1)


def stream_name(bucket: str) -> str:
    """The stream that holds a KV bucket (JetStream's naming)."""
    return f"KV_{bucket}"


async def open_kv(js: JetStreamContext, bucket: str, history: int, replicas: int,
                  log: Any = None, patience: float = OPEN_PATIENCE) -> KeyValue:
    """The bucket, created with ``replicas`` copies if missing, scaled up if it has fewer."""
    return await when_available(lambda: _open_once(js, bucket, history, replicas, log), bucket, log, patience)


async def when_available(attempt: Callable[[], Awaitable[T]], what: str, log: Any = None,
                         patience: float = OPEN_PATIENCE) -> T:
    """``attempt()``, repeated while JetStream (or the stream just created) has no leader yet.

    Only for a service's start-up: a user's request is never retried behind their back.
    """
    deadline = time.monotonic() + patience
    tries = 0
    while True:
        try:
            return await attempt()
        except LEADERLESS as exc:
            error: Exception = exc
        except APIError as exc:
            if not _not_ready(exc):
                raise
            error = exc
        if time.monotonic() > deadline:
            raise error
        if log is not None and tries % LOG_EVERY == 0:
            log.info("JetStream not ready yet; retrying", what=what, error=str(error) or type(error).__name__,
                     tries=tries)
        tries += 1
        await asyncio.sleep(0.5)


def _not_ready(exc: APIError) -> bool:
    """JetStream's answers while a new cluster is still forming: no meta leader yet (503), or not every server
    registered yet, so a replicated stream finds too few peers (10005)."""
    return exc.code in (503, 500) or exc.err_code == NO_SUITABLE_PEERS \
        or "temporarily unavailable" in str(exc.description or "")


async def _open_once(js: JetStreamContext, bucket: str, history: int, replicas: int, log: Any) -> KeyValue:
    try:
        kv = await js.key_value(bucket)
    except BucketNotFoundError:
        # Reads go to the stream leader (no direct gets): a replica that lags could answer a read with a
        # value older than a write already acknowledged to a user.
        return await js.create_key_value(KeyValueConfig(bucket=bucket, history=history, replicas=replicas))
    info = await js.stream_info(stream_name(bucket))
    config: StreamConfig = info.config
    if (config.num_replicas or 1) < replicas:
        await js.update_stream(replace(config, num_replicas=replicas))
        if log is not None:
            log.warning("bucket scaled up", bucket=bucket, replicas=replicas, were=config.num_replicas or 1)
    return kv
