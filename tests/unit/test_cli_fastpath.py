"""The pure parts of the CLI's fast path: URLs and header blocks of the quick client, and what it imports."""

from __future__ import annotations

import subprocess
import sys

import pytest
from paceline.shared import quickbus


@pytest.mark.parametrize(("url", "expected"), [
    ("nats://127.0.0.1:4333", ("127.0.0.1", 4333)),
    ("nats://localhost", ("localhost", 4222)),
    ("127.0.0.1:5000", ("127.0.0.1", 5000)),
])
def test_parse_url(url, expected):
    assert quickbus.parse_url(url) == expected


def test_a_cluster_is_a_comma_separated_list_tried_in_order():
    assert quickbus.split_urls("nats://10.0.0.1:4222, nats://10.0.0.2:4222,") == \
        ["nats://10.0.0.1:4222", "nats://10.0.0.2:4222"]
    assert quickbus.split_urls("nats://a:1") == ["nats://a:1"]


@pytest.mark.parametrize("url", ["tls://127.0.0.1:4222", "nats://user:pw@127.0.0.1:4222", "nats://tok@host:1"])
def test_urls_that_need_the_full_client(url):
    with pytest.raises(quickbus.NeedsFullClient):
        quickbus.parse_url(url)


def test_bad_port_is_one_clear_error():
    with pytest.raises(quickbus.QuickBusError, match="bad port"):
        quickbus.parse_url("nats://127.0.0.1:99999")


def test_parse_headers_status_and_fields():
    assert quickbus.parse_headers(b"NATS/1.0 503\r\n\r\n") == ("503", {})
    status, headers = quickbus.parse_headers(
        b"NATS/1.0\r\nNats-Service-Error-Code: 400\r\nNats-Service-Error: bad: request\r\n\r\n")
    assert status == ""
    assert headers == {"Nats-Service-Error-Code": "400", "Nats-Service-Error": "bad: request"}
    assert quickbus.parse_headers(b"NATS/1.0 408 Request Timeout\r\n\r\n")[0] == "408"


def test_hosts_skip_the_idna_codec_when_ascii():
    assert quickbus.ascii_bytes("127.0.0.1") == b"127.0.0.1"
    assert quickbus.ascii_bytes("bücher.example") == "bücher.example"


def test_the_live_cli_modules_import_no_async_stack():
    """What ``paceline status`` loads before it talks to the bus: no nats-py, asyncio, lxml or scheduler."""
    probe = ("import sys\n"
             "import paceline.cli.main, paceline.client.gateway, paceline.client.labfile\n"
             "import paceline.shared.quickbus, paceline.shared.bus, paceline.shared.codec\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('nats', 'asyncio', 'lxml', 'structlog', 'prometheus_client') or m.startswith('paceline.policy')))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "[]", out.stderr


def test_quickbus_can_be_turned_off(monkeypatch):
    from paceline.client.gateway import GatewayClient

    monkeypatch.setenv("PACELINE_QUICKBUS", "0")
    assert GatewayClient("nats://127.0.0.1:1", "t").full_client_needed
    monkeypatch.delenv("PACELINE_QUICKBUS")
    assert not GatewayClient("nats://127.0.0.1:1", "t").full_client_needed
