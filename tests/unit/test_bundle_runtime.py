"""Bundles at run time, the pure parts: a container's executor finds its guest node's name in its mounts, the
guest nodes a ``<bundle>`` makes are remote nodes, and a guest's connection start waits for the executor its
container is still starting."""

from __future__ import annotations

import asyncio
from pathlib import Path

from paceline.executor import guest
from paceline.executor.operation import Operation
from paceline.executor.remote import Connections
from paceline.executor.standards import AgentRef
from paceline.shared import cib, lrm
from paceline.shared.cluster.remote_nodes import remote_node_names
from paceline.shared.messages import RemoteLinkReply, RemoteLinkRequest
from paceline.shared.subjects import Subjects

#: /proc/self/mountinfo of a bundle replica's container as podman 4.3 makes it (run_opts of Pacemaker's bundle).
MOUNTINFO = """\
78 52 0:44 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/containers/storage/overlay/l/X
88 78 254:0 /var/log/pacemaker/bundles/web-1 /var/log rw,relatime - ext4 /dev/vda rw
89 78 254:0 /etc/pacemaker/authkey /etc/pacemaker/authkey rw,relatime - ext4 /dev/vda rw
90 78 254:0 /srv/my\\040dir/db-0 /srv rw,relatime - ext4 /dev/vda rw
"""


def test_a_replica_is_named_by_the_log_directory_pacemaker_mounts_for_it(tmp_path: Path):
    assert guest.name_from_mountinfo(MOUNTINFO) == "web-1"
    assert guest.name_from_mountinfo(MOUNTINFO, "/srv") == "db-0"  # octal escapes read back
    assert guest.name_from_mountinfo("78 52 0:44 / / rw - overlay overlay rw\n") == ""   # not in a bundle
    assert guest.name_from_mountinfo("91 78 254:3 / /var/log rw - ext4 /dev/vdb rw\n") == ""  # a filesystem
    info = tmp_path / "mountinfo"
    info.write_text(MOUNTINFO)
    assert guest.guest_name(info) == "web-1"
    assert guest.guest_name(tmp_path / "missing") == ""


def _cib(resources: str) -> cib.Element:
    return cib.parse_cib(f"<cib><configuration><crm_config/><nodes/><resources>{resources}</resources>"
                         "<constraints/></configuration><status/></cib>")


def test_a_bundle_with_a_primitive_inside_makes_one_guest_node_per_replica():
    inner = '<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/>'
    assert remote_node_names(_cib(f'<bundle id="web"><podman image="i" replicas="2"/>{inner}</bundle>')) == \
        ["web-0", "web-1"]
    assert remote_node_names(_cib(f'<bundle id="db"><docker image="i" promoted-max="3"/>{inner}</bundle>')) == \
        ["db-0", "db-1", "db-2"]   # replicas defaults to promoted-max
    assert remote_node_names(_cib(f'<bundle id="one"><rkt image="i"/>{inner}</bundle>')) == ["one-0"]
    assert remote_node_names(_cib('<bundle id="bare"><podman image="i" replicas="3"/></bundle>')) == []
    assert remote_node_names(_cib(f'<bundle id="odd"><podman image="i" replicas="x"/>{inner}</bundle>')) == ["odd-0"]


class _Asker(Connections):
    """The host's connections with the bus replaced: the guest's executor answers from the ``ready``-th ask."""

    def __init__(self, ready: int):
        super().__init__(nc=None, subjects=Subjects("c"), node="n1")  # type: ignore[arg-type]
        self.asked = 0
        self.ready = ready
        self._record = lambda remote, up: None  # type: ignore[method-assign]

    async def _ask(self, remote: str, req: RemoteLinkRequest, timeout: float) -> RemoteLinkReply | None:
        self.asked += 1
        return RemoteLinkReply(node=remote, host=req.host, incarnation="i") if self.asked >= self.ready else None


def _start(meta: dict[str, str], timeout_ms: int = 3000) -> Operation:
    return Operation(task="start", rsc="web-0", node="n1", agent=AgentRef("ocf", "pacemaker", "remote"),
                     timeout_ms=timeout_ms, meta=meta)


def test_a_guest_connection_start_waits_for_the_executor_its_container_is_starting(monkeypatch):
    monkeypatch.setattr("paceline.executor.remote.GUEST_RETRY", 0.01)
    conns = _Asker(ready=3)
    outcome = asyncio.run(conns.run(_start({"container": "web-podman-0"})))
    assert outcome.rc == lrm.OCF_SUCCESS and conns.asked == 3
    remote = _Asker(ready=3)  # a remote node's connection (no container) fails at once, as before
    assert asyncio.run(remote.run(_start({}))).rc == lrm.OCF_ERR_GENERIC and remote.asked == 1
    never = _Asker(ready=10**6)
    outcome = asyncio.run(never.run(_start({"container": "web-podman-0"}, timeout_ms=100)))
    assert outcome.rc == lrm.OCF_ERR_GENERIC and "does not answer" in outcome.exit_reason
    assert "run command of container web-podman-0" in outcome.exit_reason  # the likely cause, for the user


def test_a_remote_executor_lost_between_monitors_wakes_its_connection_monitor(monkeypatch):
    """Pacemaker learns at once that a remote connection dropped; here the host keeps asking and, at the first
    unanswered ask, has the connection's recurring monitor run now."""
    monkeypatch.setattr("paceline.executor.remote.WATCH_INTERVAL", 0.01)
    conns = _Asker(ready=1)
    lost: list[str] = []
    conns.lost = lost.append

    async def scenario() -> None:
        assert (await conns.run(_start({"container": "web-podman-0"}))).rc == lrm.OCF_SUCCESS
        await asyncio.sleep(0.05)
        assert lost == []                      # still answering: nothing to do
        conns.ready = 10**6                    # the executor is gone
        for _ in range(100):
            if lost:
                break
            await asyncio.sleep(0.01)
        assert lost == ["web-0"]
        await conns.close(0)

    asyncio.run(scenario())


def test_waking_a_recurring_monitor_runs_it_now():
    from paceline.executor.recurring import RecurringMonitors
    from paceline.shared.lrm import OpResult

    runs: list[str] = []

    async def run_once(op: Operation) -> OpResult:
        runs.append(op.rsc)
        return OpResult(rsc=op.rsc, task=op.task, interval_ms=op.interval_ms, rc=0, op_status=0, call_id=1)

    async def report(op: Operation, result: OpResult) -> None:
        return None

    async def scenario() -> None:
        monitors = RecurringMonitors(run_once, report)
        op = Operation(task="monitor", rsc="web-0", node="n1", agent=AgentRef("ocf", "pacemaker", "remote"),
                       interval_ms=3_600_000)
        monitors.schedule(op, await run_once(op))
        assert monitors.wake("web-0") == 1 and monitors.wake("other") == 0
        for _ in range(100):
            if len(runs) == 2:
                break
            await asyncio.sleep(0.01)
        assert runs == ["web-0", "web-0"]      # the hour-long interval did not have to pass
        await monitors.cancel_all()

    asyncio.run(scenario())
