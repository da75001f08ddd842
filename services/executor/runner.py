"""Turn an :class:`Operation` into an agent call and the agent's answer into rc + execution status.

Everything that is "the agent did not really answer" becomes an execution
status rather than an rc, as in Pacemaker: a missing agent is
EXEC_NOT_INSTALLED with rc 5, a timeout EXEC_TIMEOUT with rc 1, an agent
killed by a signal EXEC_ERROR with rc 1, an unknown class EXEC_NOT_SUPPORTED
with rc 3. The scheduler reads both. Each resource class has its own calling
convention: OCF (action argument, ``OCF_*`` environment), LSB (init script
actions, its own status codes), ``service`` (LSB if an init script exists,
else systemd), ``systemd`` (systemctl) and ``stonith`` (fence agents, stdin).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from paceline.executor import fencing, process, standards, systemd
from paceline.executor.operation import AgentOutcome, Operation
from paceline.shared import lrm

#: Stand-ins for the Pacemaker tools agents call (``crm_attribute``...), given to agents as ``HA_SBIN_DIR``:
#: small scripts beside this module that run ``paceline.cli.pcmk_tools`` with the executor's interpreter.
SBIN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sbin")

#: How much of an agent's stderr is kept for the log.
STDERR_TAIL = 2000
#: Resource classes whose meta-data the executor makes up (their agents have no meta-data action).
GENERATED_METADATA = ("lsb", "service", "systemd")
#: What would send an agent's ``paceline`` calls to a CIB file or a shadow copy instead of the live cluster.
OFFLINE_CIB_VARIABLES = ("CIB_file", "CIB_shadow")


def cluster_environment(base: Mapping[str, str], nats_url: str, cluster: str,
                        bin_dir: Path | None = None, *, node: str = "",
                        sbin_dir: Path | None = None) -> dict[str, str]:
    """The environment agents start from: ``base`` pointed at this executor's own cluster.

    Some agents talk back to the cluster, as Pacemaker's agents call ``crm_attribute``
    (``ocf:paceline:Stateful`` publishes its promotion score with ``paceline
    node status-attr``). Their ``paceline`` must be this installation's (the
    folder of the running interpreter, where the console script lives, comes
    first on PATH) and must reach the bus this executor serves, whatever the
    executor was configured with (flag, file or environment) and whichever lab
    happens to run on the host.

    ``sbin_dir`` becomes ``HA_SBIN_DIR``, where agents look for Pacemaker's
    tools. The executor passes :data:`SBIN_DIR` unless configured
    otherwise; that folder of stand-ins also goes on PATH right after the
    interpreter's (agents that call ``crm_attribute`` by bare name find it), and
    its scripts run this interpreter (``PACELINE_PYTHON``) and know the node
    (``PACELINE_NODE``).
    """
    env = {k: v for k, v in base.items() if k not in OFFLINE_CIB_VARIABLES}
    first = str(bin_dir or Path(sys.executable).parent)
    entries = env.get("PATH", os.defpath).split(os.pathsep)
    if entries[0] != first:
        entries.insert(0, first)
    if sbin_dir is not None and str(sbin_dir) == SBIN_DIR and SBIN_DIR not in entries:
        entries.insert(1, SBIN_DIR)
    env.update({"PATH": os.pathsep.join(entries), "PACELINE_NATS_URL": nats_url, "PACELINE_CLUSTER": cluster,
                "PACELINE_PYTHON": sys.executable})
    if node:
        env["PACELINE_NODE"] = node
    if sbin_dir is not None:
        env["HA_SBIN_DIR"] = str(sbin_dir)
    return env


class AgentRunner:
    def __init__(self, paths: standards.AgentPaths, rsctmp: Path, default_timeout: float,
                 base_env: Mapping[str, str] | None = None, kill_grace: float = process.KILL_GRACE,
                 systemd_running: bool | None = None):
        self.paths = paths
        self.rsctmp = rsctmp
        self.default_timeout = default_timeout
        self.base_env = dict(os.environ if base_env is None else base_env)
        self.kill_grace = kill_grace
        self.systemd_running = systemd.running() if systemd_running is None else systemd_running

    def timeout_ms(self, op: Operation) -> int:
        return op.timeout_ms or int(self.default_timeout * 1000)

    def service_class(self, ref: standards.AgentRef) -> str:
        """What ``service:NAME`` means here: LSB if an init script exists (Pacemaker looks first), else systemd."""
        try:
            standards.locate(standards.AgentRef("lsb", "", ref.type), self.paths)
            return "lsb"
        except standards.NotInstalled:
            return "systemd" if self.systemd_running else "lsb"

    async def run(self, op: Operation) -> AgentOutcome:
        standard = self.service_class(op.agent) if op.agent.standard == "service" else op.agent.standard
        if standard == "systemd":
            return await self._run_systemd(op)
        try:
            path = standards.locate(op.agent, self.paths)
        except standards.NotInstalled as exc:
            return AgentOutcome(lrm.OCF_ERR_INSTALLED, lrm.EXEC_NOT_INSTALLED, str(exc))
        except standards.UnsupportedStandard as exc:
            return AgentOutcome(lrm.OCF_ERR_UNIMPLEMENTED, lrm.EXEC_NOT_SUPPORTED, str(exc))
        if standard == "stonith":
            return await self._run_stonith(op, path)
        if standard in ("lsb", "service"):
            return await self._run_lsb(op, path)
        return await self._run_ocf(op, path)

    def _plain_env(self) -> dict[str, str]:
        return {k: v for k, v in self.base_env.items() if not k.startswith("OCF_")}

    async def _run_ocf(self, op: Operation, path: Path) -> AgentOutcome:
        self.rsctmp.mkdir(parents=True, exist_ok=True)
        timeout_ms = self.timeout_ms(op)
        env = standards.ocf_environment(
            op.agent, instance=op.rsc, task=op.task, params=op.params, meta=op.meta,
            timeout_ms=timeout_ms, interval_ms=op.interval_ms, node=op.node, paths=self.paths,
            rsctmp=self.rsctmp, base=self.base_env)
        return await self._execute([str(path), op.task], env, timeout_ms, lambda rc: rc)

    async def _run_lsb(self, op: Operation, path: Path) -> AgentOutcome:
        action = standards.LSB_ACTIONS.get(op.task)
        if action is None:
            return AgentOutcome(lrm.OCF_ERR_UNIMPLEMENTED, lrm.EXEC_DONE,
                                f"LSB scripts have no {op.task!r} action")
        return await self._execute([str(path), action], self._plain_env(), self.timeout_ms(op),
                                   lambda rc: standards.lsb_to_ocf(action, rc))

    async def _run_systemd(self, op: Operation) -> AgentOutcome:
        if not self.systemd_running:
            return AgentOutcome(lrm.OCF_ERR_INSTALLED, lrm.EXEC_NOT_INSTALLED,
                                f"{op.agent.spec}: {systemd.NOT_RUNNING_REASON}")
        argv = systemd.command(op.task, op.agent.type)
        if argv is None:
            return AgentOutcome(lrm.OCF_ERR_UNIMPLEMENTED, lrm.EXEC_DONE, f"systemd units have no {op.task!r} action")
        outcome = await self._execute(argv, self._plain_env(), self.timeout_ms(op),
                                      lambda rc: systemd.action_rc(op.task, rc))
        if argv[1] == "show" and outcome.op_status == lrm.EXEC_DONE and outcome.rc == lrm.OCF_SUCCESS:
            rc = systemd.read_state(outcome.output)
            reason = "" if rc != lrm.OCF_ERR_INSTALLED else f"unit {systemd.unit_name(op.agent.type)} not found"
            return AgentOutcome(rc, lrm.EXEC_DONE, reason, outcome.exec_ms, outcome.output, outcome.errors)
        return outcome

    async def _run_stonith(self, op: Operation, path: Path) -> AgentOutcome:
        """A fence device as a resource: start registers it (after a working monitor), stop unregisters."""
        marker = fencing.registration(self.rsctmp, op.rsc)
        if op.task == "stop":
            marker.unlink(missing_ok=True)
            return AgentOutcome(lrm.OCF_SUCCESS, lrm.EXEC_DONE)
        if op.task == "monitor" and not marker.exists():
            return AgentOutcome(lrm.OCF_NOT_RUNNING, lrm.EXEC_DONE)
        action = "monitor" if op.task == "start" else fencing.agent_action(op.task)
        if action is None:
            return AgentOutcome(lrm.OCF_ERR_UNIMPLEMENTED, lrm.EXEC_DONE, f"fence agents have no {op.task!r} action")
        outcome = await self.fence(path, action, op.params, self.timeout_ms(op), op.meta.get("stonith-target"))
        if op.task == "start" and outcome.rc == lrm.OCF_SUCCESS and outcome.op_status == lrm.EXEC_DONE:
            self.rsctmp.mkdir(parents=True, exist_ok=True)
            marker.touch()
        return outcome

    async def run_plain(self, argv: list[str], timeout_ms: int = 10000) -> AgentOutcome:
        """A helper command (e.g. listing systemd units) with the agents' timeout and kill rules."""
        return await self._execute(argv, self._plain_env(), timeout_ms, lambda rc: rc)

    async def fence(self, path: Path, action: str, params: Mapping[str, str], timeout_ms: int,
                    target: str | None = None) -> AgentOutcome:
        """Run one fence-agent action (also what a fencing request uses); rc in OCF terms."""
        to_ocf = fencing.status_rc if action == "status" else fencing.monitor_rc
        stdin = fencing.stdin_args(params, action, target).encode()
        return await self._execute([str(path)], self._plain_env(), timeout_ms, to_ocf, stdin=stdin)

    async def _execute(self, argv: list[str], env: dict[str, str], timeout_ms: int,
                       to_ocf: Callable[[int], int], stdin: bytes | None = None) -> AgentOutcome:
        try:
            done = await process.run(argv, env, timeout_ms / 1000, cwd="/", grace=self.kill_grace, stdin=stdin)
        except process.SpawnError as exc:
            # Present but unrunnable (bad interpreter line, no permission): not usable on this node.
            return AgentOutcome(lrm.OCF_ERR_INSTALLED, lrm.EXEC_NOT_INSTALLED, str(exc))
        exec_ms = int(done.elapsed * 1000)
        reason = standards.exit_reason(done.stderr)
        tail = done.stderr[-STDERR_TAIL:]
        what = argv[1] if len(argv) > 1 else argv[0]
        if done.timed_out:
            return AgentOutcome(lrm.OCF_ERR_GENERIC, lrm.EXEC_TIMEOUT,
                                reason or f"{what} timed out after {timeout_ms}ms", exec_ms, done.stdout, tail)
        code = done.returncode if done.returncode is not None else -1
        if code < 0:  # the agent itself died of a signal: it gave no answer at all
            return AgentOutcome(lrm.OCF_ERR_GENERIC, lrm.EXEC_ERROR,
                                reason or f"agent killed by signal {-code}", exec_ms, done.stdout, tail)
        return AgentOutcome(to_ocf(code), lrm.EXEC_DONE, reason, exec_ms, done.stdout, tail)

    async def metadata(self, ref: standards.AgentRef, timeout: float = 5.0) -> str:
        """An agent's meta-data XML; raises NotInstalled / UnsupportedStandard, or RuntimeError if it fails."""
        if ref.standard == "systemd" and not self.systemd_running:
            raise standards.NotInstalled(f"{ref.spec}: {systemd.NOT_RUNNING_REASON}")
        if ref.standard in GENERATED_METADATA:
            if ref.standard != "systemd" and self.service_class(ref) == "lsb":
                standards.locate(standards.AgentRef("lsb", "", ref.type), self.paths)
            return standards.lsb_metadata(ref.type, "systemd unit" if ref.standard == "systemd" else "LSB init script")
        path = standards.locate(ref, self.paths)
        op = Operation(task="meta-data", rsc=ref.type, node="", agent=ref, timeout_ms=int(timeout * 1000))
        if ref.standard == "stonith":
            outcome = await self.fence(path, "metadata", {}, op.timeout_ms)
        else:
            outcome = await self._run_ocf(op, path)
        if outcome.rc != lrm.OCF_SUCCESS or outcome.op_status != lrm.EXEC_DONE or not outcome.output.strip():
            raise RuntimeError(f"{ref.spec} meta-data failed (rc {outcome.rc}"
                               f"{': ' + outcome.exit_reason if outcome.exit_reason else ''})")
        return outcome.output
