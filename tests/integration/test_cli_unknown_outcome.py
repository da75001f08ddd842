"""A change whose answer never comes: the CLI says the outcome is unknown, with its own exit status.

The gateway stand-in takes the request and then the bus server dies before any answer can travel back -
the case in which the change may well have been applied (issue 11: 36 of 358 commands failed this way and
were in the CIB all the same).
"""

from __future__ import annotations

import asyncio
import os

import nats
import pytest
from paceline.cli.invocation import EXIT_INDETERMINATE
from paceline.lab.story import paceline_argv
from paceline.shared.natsserver import NatsServer
from paceline.shared.subjects import Subjects

pytestmark = pytest.mark.integration


async def _run_while_the_bus_dies(server: NatsServer, *words: str) -> tuple[int, str, bool]:
    """Run ``paceline WORDS`` against a gateway stand-in that kills the server on receiving the request."""
    nc = await nats.connect(server.url, max_reconnect_attempts=0)
    received = asyncio.Event()

    async def take_and_die(msg) -> None:
        received.set()
        assert server.proc is not None
        server.proc.kill()

    await nc.subscribe(Subjects("t").gateway("crm"), cb=take_and_die)
    await nc.flush()
    env = {**os.environ, "PACELINE_NATS_URL": server.url, "PACELINE_CLUSTER": "t"}
    proc = await asyncio.create_subprocess_exec(*paceline_argv(), *words, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    _out, err = await asyncio.wait_for(proc.communicate(), 60)
    try:
        await nc.close()
    except Exception:  # its server is gone
        pass
    assert proc.returncode is not None
    return proc.returncode, err.decode(), received.is_set()


async def test_a_change_without_an_answer_is_reported_as_unknown(nats_server: NatsServer) -> None:
    code, err, received = await _run_while_the_bus_dies(nats_server, "configure", "primitive", "p1",
                                                        "ocf:paceline:Dummy")
    assert received
    assert code == EXIT_INDETERMINATE, err
    assert "may or may not have been applied" in err and "Traceback" not in err


async def test_a_read_without_an_answer_is_a_plain_error(nats_server: NatsServer) -> None:
    code, err, received = await _run_while_the_bus_dies(nats_server, "configure", "show")
    assert received
    assert code == 1, err
    assert "may or may not" not in err and "Traceback" not in err
