"""The quick request/reply client against a real nats-server, and the CLI client built on it."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import nats
import pytest
from paceline.client.gateway import ClientError, GatewayClient
from paceline.shared import bus, codec, quickbus
from paceline.shared.messages import CrmReply, CrmRequest
from paceline.shared.natsserver import NatsServer
from paceline.shared.subjects import Subjects

pytestmark = pytest.mark.integration


async def ask(q: quickbus.QuickBus, subject: str, payload: bytes, timeout: float = 2.0) -> quickbus.Reply:
    """The quick client blocks: run it off the loop that serves the responders."""
    return await asyncio.to_thread(q.request, subject, payload, timeout)


async def test_request_reply_reuses_one_connection(nats_server):
    nc = await nats.connect(nats_server.url)

    async def echo(msg):
        await msg.respond(b"echo:" + msg.data)

    await nc.subscribe("t.echo", cb=echo)
    await nc.flush()
    with quickbus.QuickBus(nats_server.url) as q:
        assert (await ask(q, "t.echo", b"one")).data == b"echo:one"
        sock = q.sock
        big = b"x" * 200_000   # more than one recv() worth, in both directions
        assert (await ask(q, "t.echo", big)).data == b"echo:" + big
        assert q.sock is sock
    await nc.close()


async def test_reply_headers_and_empty_payload(nats_server):
    nc = await nats.connect(nats_server.url)

    async def answer(msg):
        await nc.publish(msg.reply, b"", headers={"Nats-Service-Error-Code": "418", "Nats-Service-Error": "teapot"})

    await nc.subscribe("t.headers", cb=answer)
    await nc.flush()
    with quickbus.QuickBus(nats_server.url) as q:
        reply = await ask(q, "t.headers", b"")
    assert reply.data == b""
    assert reply.headers == {"Nats-Service-Error-Code": "418", "Nats-Service-Error": "teapot"}
    with pytest.raises(bus.RemoteError, match="teapot"):
        bus.reply_body(reply.headers, reply.data)
    await nc.close()


async def test_no_responders_and_timeout(nats_server):
    nc = await nats.connect(nats_server.url)

    async def ignore(msg):
        pass

    await nc.subscribe("t.silent", cb=ignore)
    await nc.flush()
    with quickbus.QuickBus(nats_server.url) as q:
        with pytest.raises(quickbus.NoResponders, match=r"no service answers on t\.nobody"):
            await ask(q, "t.nobody", b"")
        with pytest.raises(quickbus.QuickBusError, match=r"no answer on t\.silent within 0\.2s"):
            await ask(q, "t.silent", b"", timeout=0.2)
    await nc.close()


async def test_a_late_reply_is_not_taken_for_the_next_one(nats_server):
    nc = await nats.connect(nats_server.url)

    async def slow_then_fast(msg):
        if msg.data == b"slow":
            await asyncio.sleep(0.4)
        await msg.respond(msg.data)

    await nc.subscribe("t.mixed", cb=slow_then_fast, pending_msgs_limit=10)
    await nc.flush()
    with quickbus.QuickBus(nats_server.url) as q:
        with pytest.raises(quickbus.QuickBusError):
            await ask(q, "t.mixed", b"slow", timeout=0.1)
        assert (await ask(q, "t.mixed", b"fast")).data == b"fast"
    await nc.close()


async def test_unreachable_bus_and_oversized_request(nats_server):
    from paceline.shared.natsserver import free_port

    with pytest.raises(quickbus.QuickBusError, match="cannot reach the bus"):
        quickbus.QuickBus(f"nats://127.0.0.1:{free_port()}").request("t.x", b"")
    with quickbus.QuickBus(nats_server.url) as q:
        q.connect()
        with pytest.raises(quickbus.QuickBusError, match="exceeds the bus's limit"):
            q.request("t.x", b"x" * (q.max_payload + 1))


class AuthServer(NatsServer):
    def command(self) -> list[str]:
        return [*super().command(), "--user", "admin", "--pass", "s3cret"]


class PingingServer(NatsServer):
    """A server that PINGs every second and drops a client after one unanswered PING."""

    def command(self) -> list[str]:
        conf = self.store_dir / "ping.conf"
        conf.write_text('ping_interval: "1s"\nping_max: 1\n')
        return [*super().command(), "-c", str(conf)]


@pytest.fixture
def auth_server(tmp_path):
    server = AuthServer(store_dir=tmp_path / "js").start(log_file=tmp_path / "nats.log")
    try:
        yield server
    finally:
        server.stop()


async def test_auth_needs_the_full_client_and_the_gateway_client_falls_back(auth_server):
    with pytest.raises(quickbus.NeedsFullClient):
        quickbus.QuickBus(auth_server.url).connect()
    url = f"nats://admin:s3cret@127.0.0.1:{auth_server.port}"
    nc = await nats.connect(url)

    async def status(msg):
        await msg.respond(codec.encode("status", {"text": "fine"}))

    await nc.subscribe(Subjects("t").gateway("status"), cb=status)
    await nc.flush()
    client = GatewayClient(url, "t")
    try:
        reply = await asyncio.to_thread(client.request, "status", {})
        assert reply == {"text": "fine"}
        assert client.full_client_needed and client.quick is None
    finally:
        # the fallback's event loop belongs to the worker thread's calls; close from there too
        await asyncio.to_thread(client.close)
        await nc.close()


async def test_server_pings_are_answered(tmp_path):
    server = PingingServer(store_dir=tmp_path / "js").start(log_file=tmp_path / "nats.log")
    try:
        nc = await nats.connect(server.url)

        async def slow(msg):
            await asyncio.sleep(2.5)   # the server PINGs the waiting client twice meanwhile
            await msg.respond(b"done")

        await nc.subscribe("t.slow", cb=slow)
        await nc.flush()
        with quickbus.QuickBus(server.url) as q:
            assert (await ask(q, "t.slow", b"", timeout=5)).data == b"done"
        await nc.close()
    finally:
        server.stop()


async def test_a_connection_the_server_dropped_while_idle_is_made_again(tmp_path):
    server = PingingServer(store_dir=tmp_path / "js").start(log_file=tmp_path / "nats.log")
    try:
        nc = await nats.connect(server.url)

        async def echo(msg):
            await msg.respond(msg.data)

        await nc.subscribe("t.echo", cb=echo)
        await nc.flush()
        with quickbus.QuickBus(server.url) as q:
            assert (await ask(q, "t.echo", b"before")).data == b"before"
            first = q.sock
            await asyncio.sleep(2.5)   # idle: the server's PINGs go unanswered and it drops the client
            assert (await ask(q, "t.echo", b"after")).data == b"after"
            assert q.sock is not first
        await nc.close()
    finally:
        server.stop()


async def test_gateway_client_maps_service_errors(nats_server):
    nc = await bus.connect(nats_server.url, "test", retry_forever=False)
    svc = bus.MicroService(nc, "gateway", "0.1.0")

    async def crm(req: CrmRequest) -> CrmReply:
        if req.lines == ["bad"]:
            raise bus.UserError("configure: no such thing", code="crm", details={"line": 1})
        return CrmReply(output="ok\n", changed=False, version="0.1.0")

    svc.endpoint("crm", Subjects("t").gateway("crm"), crm, CrmRequest)
    await svc.start()
    client = GatewayClient(nats_server.url, "t")
    try:
        assert (await asyncio.to_thread(client.request, "crm", {"lines": ["good"]}))["output"] == "ok\n"
        reply = await asyncio.to_thread(client.call, CrmRequest(lines=["good"]), CrmReply)
        assert reply == CrmReply(output="ok\n", changed=False, version="0.1.0")
        with pytest.raises(ClientError, match="malformed request: field 'lines' has type str") as err:
            await asyncio.to_thread(client.request, "crm", {"lines": "good"})
        assert err.value.code == "malformed"
        with pytest.raises(ClientError, match="configure: no such thing") as err:
            await asyncio.to_thread(client.request, "crm", {"lines": ["bad"]})
        assert err.value.code == "crm" and err.value.details == {"line": 1}
        with pytest.raises(ClientError, match=r"no service answers.*is the gateway running"):
            await asyncio.to_thread(client.request, "status", {})
    finally:
        client.close()
        await svc.stop()
        await nc.close()


async def test_a_one_shot_request_loads_neither_nats_py_nor_asyncio(nats_server):
    """The point of the quick client: ``paceline status``'s process never imports the async stack."""
    nc = await nats.connect(nats_server.url)

    async def status(msg):
        await msg.respond(codec.encode("status", {"text": "Cluster Summary:\n"}))

    await nc.subscribe(Subjects("t").gateway("status"), cb=status)
    await nc.flush()
    probe = ("import sys\n"
             "from paceline.cli.main import main\n"
             "code = main(['--nats-url', sys.argv[1], '--cluster', 't', 'status'])\n"
             "heavy = sorted(m for m in ('nats', 'asyncio', 'lxml', 'structlog') if m in sys.modules)\n"
             "print('loaded:', heavy, 'code:', code)\n")
    proc = await asyncio.to_thread(subprocess.run, [sys.executable, "-c", probe, nats_server.url],
                                   capture_output=True, text=True, timeout=30)
    assert proc.stdout.splitlines() == ["Cluster Summary:", "loaded: [] code: 0"], proc.stderr
    await nc.close()
