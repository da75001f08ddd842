"""A blocking client of the gateway for the ``paceline`` command: one bus connection for a whole session.

The CLI is synchronous (readline, an editor, a terminal). Requests go over
:mod:`paceline.shared.quickbus` - a plain socket, no asyncio, no nats-py -
because a one-shot ``paceline status`` is one request and importing nats-py
would cost four times what the request does. Streams (``status --watch``, the
waits of ``resource restart``) and buses with TLS or authentication use nats-py
on a private event loop, created only then. Nothing here imports lxml or the
scheduler.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from paceline.shared.credentials import ClientCredential
    from paceline.shared.messages import Message

R = TypeVar("R", bound="Message")


#: ClientError code: the request went out and no answer came, so it may or may not have been carried out.
NO_ANSWER = "no-answer"


class ClientError(Exception):
    """One line for the user: what failed and, if known, why."""

    def __init__(self, message: str, code: str = "", details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.details = details or {}


def client_error(exc: Exception) -> ClientError:
    """One request's failure, from either client, as the CLI reports it: the service's refusal as it is, an
    unanswered request as "no answer" (it may have been carried out), anything else as an unreachable bus."""
    from paceline.shared import bus, quickbus

    if isinstance(exc, bus.RemoteError):
        return ClientError(str(exc), exc.code, exc.details)
    if isinstance(exc, (bus.NoAnswer, quickbus.NoAnswer)):
        return ClientError(str(exc), NO_ANSWER)
    if "permissions violation" in str(exc).lower():
        user = os.environ.get("PACELINE_USER") or "admin"
        return ClientError(f"{exc}: user {user!r} may not do this (the observer credential is read-only)",
                           "forbidden")
    return ClientError(f"{exc} (is the gateway running?)")


def find_bus(nats_url: str | None, cluster: str | None, lab_dir: str | None) -> tuple[str, str]:
    """The bus to talk to, and the cluster name: flag, environment, or the running lab."""
    url = nats_url or os.environ.get("PACELINE_NATS_URL")
    cluster = cluster or os.environ.get("PACELINE_CLUSTER")
    if url:
        return url, cluster or "default"
    from paceline.client.labfile import NoLab, bus_of

    installed = installed_node(lab_dir)
    if installed is not None:
        return installed.nats_url, cluster or installed.cluster
    try:
        lab_url, lab_cluster = bus_of(Path(lab_dir) if lab_dir else None)
    except NoLab as exc:
        raise ClientError(f"no cluster to talk to: {exc}; or set PACELINE_NATS_URL") from None
    return lab_url, cluster or lab_cluster


#: The configuration file ``paceline cluster init/join`` writes on an installed node.
INSTALLED_CONFIG = Path("/etc/paceline/paceline.toml")


def installed_node(lab_dir: str | None) -> Any:
    """The configuration of the node this machine is (``PACELINE_CONFIG``, else ``/etc/paceline/paceline.toml``
    when no lab directory was named and no lab runs); None when it is none."""
    from paceline.client.labfile import NoLab, bus_of
    from paceline.shared import config

    path = os.environ.get("PACELINE_CONFIG")
    if not path:
        if lab_dir or os.environ.get("PACELINE_LAB") or not INSTALLED_CONFIG.is_file():
            return None
        try:
            bus_of(None)
            return None  # a running lab wins over the machine's own cluster, as before
        except NoLab:
            path = str(INSTALLED_CONFIG)
    try:
        return config.load(path, env={})
    except config.ConfigError as exc:
        raise ClientError(str(exc)) from None


def find_credential(lab_dir: str | None) -> ClientCredential | None:
    """The credential to connect with: ``PACELINE_CREDENTIALS`` (else the installed node's, else the running
    lab's) as user ``PACELINE_USER`` (default ``admin``); None for an open bus."""
    directory = os.environ.get("PACELINE_CREDENTIALS")
    installed = None if directory or os.environ.get("PACELINE_NATS_URL") else installed_node(lab_dir)
    if installed is not None:
        directory = installed.credentials
    elif not directory:
        from paceline.client.labfile import credentials_of

        directory = credentials_of(Path(lab_dir) if lab_dir else None)
    if not directory:
        return None
    from paceline.shared.credentials import CredentialError, Credentials

    try:
        return Credentials(Path(directory)).client(os.environ.get("PACELINE_USER") or "admin")
    except CredentialError as exc:
        raise ClientError(str(exc)) from None


class GatewayClient:
    """Requests to ``paceline.<cluster>.gateway.<endpoint>``, blocking."""

    def __init__(self, url: str, cluster: str, credential: ClientCredential | None = None):
        from paceline.shared.subjects import Subjects

        self.credential = credential
        self.url = url
        self.subjects = Subjects(cluster)
        self.quick: Any = None        # the QuickBus connection, while the bus lets us use it
        # PACELINE_QUICKBUS=0 forces nats-py for every request (a way out, and the benchmark's baseline)
        self.full_client_needed = os.environ.get("PACELINE_QUICKBUS", "1") == "0"
        self._loop: Any = None
        self.nc: Any = None

    @property
    def loop(self) -> Any:
        """The private event loop of the nats-py connection (made on first use)."""
        if self._loop is None:
            import asyncio

            self._loop = asyncio.new_event_loop()
        return self._loop

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def connect(self) -> Any:
        """The nats-py connection, for subscriptions and buses the quick client cannot speak to."""
        from paceline.shared import bus

        if self.nc is None:
            try:
                self.nc = self.run(bus.connect(self.url, "paceline-cli", retry_forever=False, connect_timeout=2,
                                               credential=self.credential))
            except bus.BusUnavailable as exc:
                raise ClientError(str(exc)) from None
        return self.nc

    def request(self, endpoint: str, body: dict[str, Any] | None = None, timeout: float = 30) -> dict[str, Any]:
        from paceline.shared import bus, codec

        subject = self.subjects.gateway(endpoint)
        if self.full_client_needed:
            return self._full_request(subject, endpoint, body, timeout)
        from paceline.shared import quickbus

        try:
            if self.quick is None:
                self.quick = quickbus.QuickBus(self.url, "paceline-cli", credential=self.credential)
            reply = self.quick.request(subject, codec.encode(endpoint, body or {}), timeout=timeout)
            return bus.reply_body(reply.headers, reply.data)
        except quickbus.NeedsFullClient:
            self.full_client_needed = True
            self._close_quick()
            return self._full_request(subject, endpoint, body, timeout)
        except (bus.RemoteError, quickbus.QuickBusError) as exc:
            raise client_error(exc) from None

    def call(self, request: Message, reply: type[R], timeout: float = 30) -> R:
        """A typed request to the gateway endpoint named by the request's kind, its reply read into ``reply``.

        A reply that does not read as ``reply`` is a ClientError with code ``malformed``.
        """
        from paceline.shared import codec

        body = self.request(request.KIND, request.to_body(), timeout=timeout)
        try:
            return reply.from_body(body)
        except codec.MalformedMessage as exc:
            raise ClientError(f"the gateway's answer to {request.KIND} is malformed: {exc}", "malformed") from None

    def _full_request(self, subject: str, endpoint: str, body: dict[str, Any] | None, timeout: float) -> dict[str, Any]:
        from paceline.shared import bus

        nc = self.connect()
        try:
            return self.run(bus.request(nc, subject, endpoint, body or {}, timeout=timeout))
        except (bus.RemoteError, bus.BusUnavailable) as exc:
            raise client_error(exc) from None

    def _close_quick(self) -> None:
        if self.quick is not None:
            self.quick.close()
            self.quick = None

    def close(self) -> None:
        self._close_quick()
        if self.nc is not None:
            try:
                self.run(self.nc.close())
            except Exception:  # closing a connection the server already dropped: nothing left to do
                pass
            self.nc = None
        if self._loop is not None:
            self._loop.close()
            self._loop = None
