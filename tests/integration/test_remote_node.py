"""A remote node over a real, secured nats-server: its executor (a real ``paceline-executor --remote``
process with the ``remote@r1`` credential), a cluster node's executor that runs its connection resource, and
a cib-store, each a real process with its own credential; the test speaks as the DC (``policy@n1``).

What a remote node must do: refuse actions until a connection links it, then run them and record them in
its own status; its connection's monitor fails once it is gone. What it must not: anything of membership,
policy or the store beyond its own status - the bus server refuses it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from paceline.shared import bus, cib
from paceline.shared.credentials import Credentials, authorization_block, keygen
from paceline.shared.messages import Fenced, MembershipViewMessage, pack
from paceline.shared.natsserver import NatsServer, ServerAuth
from paceline.shared.subjects import Subjects

from tests.integration.test_bus_auth import _connect, _delivered
from tests.support.wait import until_async

pytestmark = pytest.mark.integration

CLUSTER = "rem"
S = Subjects(CLUSTER)
HOST, REMOTE = "n1", "r1"
DUMMY = {"class": "ocf", "provider": "paceline", "type": "Dummy"}
CONNECTION = {"class": "ocf", "provider": "pacemaker", "type": "remote"}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[NatsServer, Credentials, Path, dict[str, subprocess.Popen[bytes]]]]:
    """A secured bus server with the cluster's credentials (node n1, remote node r1), and the processes."""
    base = tmp_path_factory.mktemp("remote")
    keygen(base / "creds", CLUSTER, {HOST: []}, remotes=[REMOTE])
    creds = Credentials(base / "creds")
    cert, key, ca = creds.server_files(HOST)
    server = NatsServer(store_dir=base / "js", name=HOST,
                        auth=ServerAuth(cert, key, ca, authorization_block(creds, S))).start(base / "nats.log")
    procs: dict[str, subprocess.Popen[bytes]] = {}

    def spawn(name: str, argv: list[str]) -> None:
        env = {**os.environ, "PACELINE_CREDENTIALS": str(creds.directory), "PACELINE_CLUSTER": CLUSTER,
               "PACELINE_NATS_URL": server.url, "PACELINE_EXPORTER_PORT": "-1"}
        env.pop("PACELINE_LAB", None)
        log = open(base / f"{name}.log", "ab")  # noqa: SIM115 - the process writes it until the end
        procs[name] = subprocess.Popen([sys.executable, "-m", *argv, "--state-dir", str(base / name),
                                        "--metrics-port", "-1"], env=env, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)

    spawn("cib-store", ["paceline.cib_store", "--node", HOST])
    spawn("executor", ["paceline.executor", "--node", HOST])
    spawn("remote", ["paceline.executor", "--remote", "--node", REMOTE])
    try:
        yield server, creds, base, procs
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        server.stop()


async def _as(server: NatsServer, creds: Credentials, user: str) -> Any:
    return await bus.connect(server.url, user, retry_forever=False, credential=creds.client(user))


def _action(task: str, rsc: str, node: str, agent: dict[str, str], *, interval_ms: int = 0,
            expected_rc: int = 0, **extra: Any) -> dict[str, Any]:
    """An action as the DC sends it (no membership runs here: the executors admit by term until a view is
    published)."""
    return {"id": 1, "transition": 1, "term": 1, "task": task, "rsc": rsc, "node": node, "interval_ms": interval_ms,
            "timeout_ms": 10000, "agent": agent, "params": {}, "meta": {}, "expected_rc": expected_rc,
            "digest": "", "inputs": [], "pseudo": False, **extra}


async def _ask(nc: Any, node: str, body: dict[str, Any]) -> dict[str, Any]:
    return await bus.request(nc, S.executor_action(node), "action", body, timeout=15)


async def _answers(nc: Any, subject: str, kind: str) -> bool:
    """One request that counts as "not yet" while no service has subscribed (a service process that has just
    been started is not listening at once, and no-responders is what the bus says then)."""
    try:
        await bus.request(nc, subject, kind, {}, timeout=0.5)
    except (bus.BusUnavailable, bus.RemoteError) as exc:
        raise AssertionError(str(exc)) from None
    return True


async def _serving(nc: Any, node: str) -> None:
    await until_async(lambda: _answers(nc, S.executor("history", node), "history"),
                      f"the executor of {node} serves", 30, interval=0.1)


async def _status(nc: Any) -> cib.Element:
    return cib.parse_cib((await bus.request(nc, S.cib("query"), "query", {"fresh": True}))["xml"])


async def test_a_remote_node_runs_actions_only_while_its_connection_links_it(site):
    server, creds, base, _procs = site
    dc = await _as(server, creds, f"policy@{HOST}")
    admin = await _as(server, creds, "admin")
    try:
        await _serving(dc, HOST)
        await _serving(dc, REMOTE)
        # the store must know r1 as a remote node before the host may record its node_state
        await until_async(lambda: _answers(admin, S.cib("query"), "query"), "the store answers", 30, interval=0.2)
        root = cib.empty([HOST])
        resources = root.find("configuration/resources")
        assert resources is not None
        resources.append(cib.parse(f'<primitive id="{REMOTE}" class="ocf" provider="pacemaker" type="remote"/>'))
        await bus.request(admin, S.cib("replace"), "replace", {"xml": cib.serialize(root), "client": "test"})

        with pytest.raises(bus.RemoteError) as refused:
            await _ask(dc, REMOTE, _action("start", "d1", REMOTE, DUMMY))
        assert refused.value.code == "not-connected"
        assert not (base / "remote" / "run" / "Dummy-d1.state").exists()

        probe = await _ask(dc, HOST, _action("monitor", REMOTE, HOST, CONNECTION, expected_rc=7))
        assert probe["rc"] == 7                                    # not linked yet: a probe finds it stopped
        assert (await _ask(dc, HOST, _action("start", REMOTE, HOST, CONNECTION)))["rc"] == 0
        assert (await _ask(dc, HOST, _action("monitor", REMOTE, HOST, CONNECTION, interval_ms=1000)))["rc"] == 0

        assert (await _ask(dc, REMOTE, _action("start", "d1", REMOTE, DUMMY)))["rc"] == 0
        assert (base / "remote" / "run" / "Dummy-d1.state").exists()
        history = await bus.request(dc, S.executor("history", REMOTE), "history", {})
        assert history["node"] == REMOTE and 'id="d1_last_0"' in history["lrm"]

        async def recorded() -> bool:
            ns = cib.node_state(await _status(admin), REMOTE, create=False)
            assert ns is not None and ns.get("remote_node") == "true" and ns.get("in_ccm") == "true", ns
            assert ns.find(".//lrm_rsc_op[@id='d1_last_0']") is not None
            return True

        await until_async(recorded, "r1's node_state (by n1's executor) and history (by r1's) are in the CIB", 20,
                          interval=0.2)
        await _host_writes_only_remote_node_states(server, creds)
        assert (await _ask(dc, HOST, _action("stop", REMOTE, HOST, CONNECTION)))["rc"] == 0
        with pytest.raises(bus.RemoteError) as unlinked:
            await _ask(dc, REMOTE, _action("stop", "d1", REMOTE, DUMMY))
        assert unlinked.value.code == "not-connected"
        assert (await _ask(dc, HOST, _action("start", REMOTE, HOST, CONNECTION)))["rc"] == 0
    finally:
        await dc.close()
        await admin.close()


async def _host_writes_only_remote_node_states(server: NatsServer, creds: Credentials) -> None:
    """The host's executor credential writes a configured remote node's node_state, and nothing else of it."""
    host = await _as(server, creds, f"executor@{HOST}")
    attrs = {"id": REMOTE, "uname": REMOTE, "remote_node": "true", "in_ccm": "true"}
    up: dict[str, Any] = {"op": "node_state", "attrs": attrs}
    result = {"op": "lrm_op", "rsc": "d1", "agent": DUMMY,
              "record": {"id": "d1_last_0", "operation": "stop", "call-id": "999", "rc-code": "0", "op-status": "0"}}
    try:
        for node, ops in ((REMOTE, [result]), (REMOTE, [{**up, "attrs": {**attrs, "crmd": "online"}}]),
                          (REMOTE, [{"op": "node_state", "attrs": {"in_ccm": "true"}}]), ("r9", [up])):
            with pytest.raises(bus.RemoteError) as err:
                await bus.request(host, S.cib_patch_by("executor", HOST), "patch",
                                  {"node": node, "client": "executor", "ops": ops})
            assert err.value.code == "forbidden", (node, ops)
        await bus.request(host, S.cib_patch_by("executor", HOST), "patch",
                          {"node": REMOTE, "client": "executor", "ops": [up]})
    finally:
        await host.close()


async def test_a_fenced_remote_node_stops_everything_when_its_hosts_dc_says_so(site):
    """No power switch in a test: a remote node fenced while its executor lives on emulates the power cut, as a
    cluster node's membership has its executor do - only for the DC its host's view elects."""
    server, creds, base, _procs = site
    dc = await _as(server, creds, f"policy@{HOST}")
    membership = await _as(server, creds, f"membership@{HOST}")
    state = base / "remote" / "run" / "Dummy-d1.state"
    try:
        assert (await _ask(dc, HOST, _action("start", REMOTE, HOST, CONNECTION)))["rc"] == 0
        assert (await _ask(dc, REMOTE, _action("start", "d1", REMOTE, DUMMY)))["rc"] == 0 and state.exists()
        view = MembershipViewMessage(node=HOST, incarnation="m1", ring_id=4, members=(HOST,), quorate=True, dc=HOST)
        await membership.publish(S.view(HOST), pack(view))   # the host's view, which the linked remote follows

        async def admits_by_the_hosts_view() -> bool:
            with pytest.raises(bus.RemoteError) as err:
                await _ask(dc, REMOTE, _action("monitor", "d1", REMOTE, DUMMY, expected_rc=0))
            assert err.value.code == "not-dc", err.value      # planned over no members: not the view's DC
            return True

        await until_async(admits_by_the_hosts_view, "r1 admits by n1's view", 10, interval=0.1)
        fenced = Fenced(target=REMOTE, action="off", result="ok", device="fence1", by=HOST, dc="n2", term=4)
        await dc.publish(S.fenced_by(HOST), pack(fenced))   # names another DC than its sender: ignored
        await dc.publish(S.fenced_by(HOST), pack(Fenced(**{**fenced.to_body(), "dc": HOST})))
        await until_async(lambda: not state.exists(), "the fenced remote node stopped d1", 10, interval=0.05)
        with pytest.raises(bus.RemoteError) as unlinked:
            await _ask(dc, REMOTE, _action("start", "d1", REMOTE, DUMMY, dc=HOST, members=[HOST]))
        assert unlinked.value.code == "not-connected"        # the link went with the power
    finally:
        await dc.close()
        await membership.close()


async def test_a_lost_remote_executor_fails_its_connections_monitor(site):
    server, creds, _base, procs = site
    dc = await _as(server, creds, f"policy@{HOST}")
    try:
        await _serving(dc, REMOTE)
        mandate: dict[str, Any] = {"dc": HOST, "members": [HOST]}  # the DC of a view published before, if any
        assert (await _ask(dc, HOST, _action("start", REMOTE, HOST, CONNECTION, **mandate)))["rc"] == 0
        procs["remote"].kill()
        procs["remote"].wait(10)
        reply = await _ask(dc, HOST, _action("monitor", REMOTE, HOST, CONNECTION, interval_ms=1000, **mandate))
        assert reply["rc"] == 7 and "does not answer" in reply["exit_reason"]
    finally:
        await dc.close()


async def test_the_remote_credential_is_refused_membership_policy_and_store_writes(site):
    server, creds, _base, _procs = site
    errors: list[str] = []
    user = f"remote@{REMOTE}"
    for subject in (S.heartbeat(REMOTE), S.view(REMOTE), S.policy_alive(REMOTE), S.dc, S.transition,
                    S.fenced_by(REMOTE), S.cib("replace"), S.cib("modify"), S.cib("patch"), S.cib("erase"),
                    S.cib("cluster"), S.cib_patch_by("membership", REMOTE), S.cib_patch_by("executor", HOST),
                    S.executor_action(HOST), S.executor("link", HOST), S.executor("reset", HOST),
                    S.executor_event(HOST)):
        assert not await _delivered(server, creds, user, subject, errors), subject
    # what it must do: report its own results and write its own status
    for subject in (S.executor_event(REMOTE), S.cib_patch_by("executor", REMOTE)):
        assert await _delivered(server, creds, user, subject, errors), subject
    # a cluster node's executor (the connection's host) may reach the link; the remote may not listen to others'
    assert await _delivered(server, creds, f"executor@{HOST}", S.executor("link", REMOTE), errors)
    nc = await _connect(server, creds, user, errors)
    try:
        with contextlib.suppress(Exception):  # no JetStream for it: the store's bucket is out of reach
            await nc.request("$JS.API.INFO", b"", timeout=1)
        await until_async(lambda: any("$js.api.info" in e.lower() for e in errors), "the server refuses JetStream", 5,
                          interval=0.05)
        for subject in (S.executor_action(HOST), S.heartbeats, S.policy_explain):
            await nc.subscribe(subject)
            await nc.flush()
            await until_async(functools.partial(_refused_subscription, errors, subject),
                              f"the server refuses the subscription to {subject}", 5, interval=0.05)
    finally:
        with contextlib.suppress(Exception):
            await nc.close()


def _refused_subscription(errors: list[str], subject: str) -> bool:
    return any(subject in e and "subscription" in e.lower() for e in errors)
