"""The bus refuses whoever has no credential, and each credential only where its role allows (a real
nats-server configured from ``paceline keygen``'s output)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from nats.errors import NoRespondersError
from paceline.shared import bus
from paceline.shared.credentials import Credentials, authorization_block, keygen
from paceline.shared.natsserver import NatsServer, ServerAuth
from paceline.shared.subjects import Subjects

pytestmark = pytest.mark.integration

S = Subjects("sec")


@pytest.fixture(scope="module")
def secured(tmp_path_factory) -> Iterator[tuple[NatsServer, Credentials]]:
    base = tmp_path_factory.mktemp("auth")
    keygen(base / "creds", "sec", {"n1": [], "n2": []})
    creds = Credentials(base / "creds")
    cert, key, ca = creds.server_files("n1")
    server = NatsServer(store_dir=base / "js", name="n1",
                        auth=ServerAuth(cert, key, ca, authorization_block(creds, S))).start(base / "nats.log")
    try:
        yield server, creds
    finally:
        server.stop()


async def _connect(server: NatsServer, creds: Credentials, user: str, errors: list[str] | None = None):
    nc = await bus.connect(server.url, user, retry_forever=False, credential=creds.client(user))
    if errors is not None:
        async def on_error(exc: Exception) -> None:
            errors.append(str(exc))
        nc._error_cb = on_error  # the permission violations the server reports come here
    return nc


async def _delivered(server, creds, publisher: str, subject: str, errors: list[str]) -> bool:
    """Whether a message ``publisher`` sends on ``subject`` reaches an admin subscribed to it: True once it
    arrives, False once the server reports the publish as a permissions violation - whichever comes first, so
    neither answer depends on how fast a loaded machine delivers. The message is sent again every 0.5 s: about
    one run in five, nats-server 2.15.1 counted a fresh connection's first publish in (connz in_msgs 1) yet
    delivered it to none of the matching subscriptions it listed, and this test is about permissions."""
    watcher = await _connect(server, creds, "admin")
    seen = len(errors)
    sender = await _connect(server, creds, publisher, errors)
    arrived = asyncio.Event()

    async def on_message(_msg) -> None:
        arrived.set()

    try:
        await watcher.subscribe(subject, cb=on_message)
        await watcher.flush()
        await sender.publish(subject, b"x")
        await sender.flush()
        for attempt in range(100):
            if attempt and attempt % 5 == 0:
                await sender.publish(subject, b"x")
                await sender.flush()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), 0.1)
            if arrived.is_set():
                return True
            if any(subject in e for e in errors[seen:]):
                return False
        raise AssertionError(f"{publisher} on {subject}: neither delivered nor refused within 10 s")
    finally:
        await sender.close()
        await watcher.close()


async def _request(nc, subject: str):
    """A request, asked again while the server says no one answers (see ``_delivered``: a fresh subscription
    can be missed by a fresh connection's first message)."""
    for _ in range(20):
        try:
            return await nc.request(subject, b"", timeout=2)
        except NoRespondersError:
            await asyncio.sleep(0.25)
    raise AssertionError(f"no responder on {subject} within 5 s")


async def test_an_anonymous_client_is_refused_with_a_clear_message(secured):
    server, _ = secured
    with pytest.raises(bus.BusUnavailable, match="credential"):
        await bus.connect(server.url, "anonymous", retry_forever=False)


async def test_a_client_with_a_key_the_cluster_does_not_know_is_refused(secured, tmp_path: Path):
    server, _ = secured
    keygen(tmp_path / "other", "sec", {"n1": []})
    stranger = Credentials(tmp_path / "other").client("admin")
    with pytest.raises(bus.BusUnavailable, match=r"refused|[Aa]uthoriz|certificate"):
        await bus.connect(server.url, "stranger", retry_forever=False, credential=stranger)


async def test_the_observer_reads_events_but_may_not_change_anything(secured):
    server, creds = secured
    errors: list[str] = []
    assert not await _delivered(server, creds, "observer", S.cib("replace"), errors)
    assert not await _delivered(server, creds, "observer", S.executor_action("n1"), errors)
    assert any("permissions violation" in e.lower() for e in errors), errors
    observer = await _connect(server, creds, "observer")
    store = await _connect(server, creds, "cib-store@n1")
    try:
        sub = await observer.subscribe(S.cib_changed)
        await observer.flush()
        for _ in range(20):  # sent again while not delivered: see _delivered
            await store.publish(S.cib_changed, b"event")
            with contextlib.suppress(TimeoutError):
                assert (await sub.next_msg(timeout=0.5)).data == b"event"
                break
        else:
            raise AssertionError("the observer never received cib.changed")
    finally:
        await observer.close()
        await store.close()


async def test_a_node_speaks_only_under_its_own_name_and_only_policy_sends_actions(secured):
    server, creds = secured
    errors: list[str] = []
    assert await _delivered(server, creds, "membership@n1", S.heartbeat("n1"), errors)
    assert not await _delivered(server, creds, "membership@n1", S.heartbeat("n2"), errors)
    assert not await _delivered(server, creds, "executor@n1", S.executor_event("n2"), errors)
    assert not await _delivered(server, creds, "executor@n1", S.executor_action("n2"), errors)
    assert not await _delivered(server, creds, "admin", S.executor_action("n1"), errors)
    # status patches: each node service on its own role's and node's subject only
    assert await _delivered(server, creds, "executor@n1", S.cib_patch_by("executor", "n1"), errors)
    assert not await _delivered(server, creds, "executor@n1", S.cib_patch_by("executor", "n2"), errors)
    assert not await _delivered(server, creds, "executor@n1", S.cib("patch"), errors)
    assert not await _delivered(server, creds, "membership@n1", S.cib_patch_by("executor", "n1"), errors)
    # an admin changes the configuration through the store's endpoints, never as a node or as the store
    assert await _delivered(server, creds, "admin", S.cib("replace"), errors)
    assert not await _delivered(server, creds, "admin", S.cib_patch_by("executor", "n1"), errors)
    assert not await _delivered(server, creds, "admin", S.cib_changed, errors)
    assert await _delivered(server, creds, "policy@n2", S.executor_action("n1"), errors)


async def test_requests_and_replies_work_within_the_roles(secured):
    server, creds = secured
    executor = await _connect(server, creds, "executor@n1")
    policy = await _connect(server, creds, "policy@n2")
    try:
        async def answer(msg) -> None:
            await msg.respond(b"history of n1")

        await executor.subscribe(S.executor("history", "n1"), cb=answer)
        await executor.flush()
        reply = await _request(policy, S.executor("history", "n1"))
        assert reply.data == b"history of n1"
    finally:
        await executor.close()
        await policy.close()


async def test_the_quick_client_speaks_tls_and_nkeys_and_refuses_clearly_without(secured):
    from paceline.shared import quickbus

    server, creds = secured
    responder = await _connect(server, creds, "gateway@n1")
    try:
        async def answer(msg) -> None:
            await msg.respond(b"status page")

        await responder.subscribe(S.gateway("status"), cb=answer)
        await responder.flush()
        with quickbus.QuickBus(server.url, credential=creds.client("observer")) as q:
            for _ in range(2):  # a second request reuses the TLS connection
                reply = await asyncio.to_thread(q.request, S.gateway("status"), b"", 5.0)
                assert reply.data == b"status page"
        with pytest.raises(quickbus.NeedsFullClient):  # nats-py then says which credential is missing
            quickbus.QuickBus(server.url).request(S.gateway("status"), b"")
    finally:
        await responder.close()
