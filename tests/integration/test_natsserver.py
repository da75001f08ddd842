import nats
import pytest

pytestmark = pytest.mark.integration


async def test_embedded_server_has_jetstream(nats_server):
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    kv = await js.create_key_value(bucket="probe")
    rev = await kv.put("k", b"v")
    assert (await kv.get("k")).value == b"v"
    assert rev == 1
    await nc.close()
