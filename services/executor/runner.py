"""Turn an :class:`Operation` into an agent call and the agent's answer into rc + execution status.

Everything that is "the agent did not really answer" becomes an execution
status rather than an rc, as in Pacemaker: a missing agent is
EXEC_NOT_INSTALLED with rc 5, a timeout EXEC_TIMEOUT with rc 1, an
unsupported class EXEC_NOT_SUPPORTED with rc 3. The scheduler reads both.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from paceline.executor import process, standards
from paceline.executor.operation import AgentOutcome, Operation
from paceline.shared import lrm

#: How much of an agent's stderr is kept for the log.
STDERR_TAIL = 2000


class AgentRunner:
    def __init__(self, paths: standards.AgentPaths, rsctmp: Path, default_timeout: float,
                 base_env: Mapping[str, str] | None = None, kill_grace: float = process.KILL_GRACE):
        self.paths = paths
        self.rsctmp = rsctmp
        self.default_timeout = default_timeout
        self.base_env = dict(os.environ if base_env is None else base_env)
        self.kill_grace = kill_grace

    def timeout_ms(self, op: Operation) -> int:
        return op.timeout_ms or int(self.default_timeout * 1000)

    async def run(self, op: Operation) -> AgentOutcome:
        try:
            path = standards.locate(op.agent, self.paths)
        except standards.NotInstalled as exc:
            return AgentOutcome(lrm.OCF_ERR_INSTALLED, lrm.EXEC_NOT_INSTALLED, str(exc))
        except standards.UnsupportedStandard as exc:
            return AgentOutcome(lrm.OCF_ERR_UNIMPLEMENTED, lrm.EXEC_NOT_SUPPORTED, str(exc))
        if op.agent.is_lsb:
            return await self._run_lsb(op, path)
        return await self._run_ocf(op, path)

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
        env = {k: v for k, v in self.base_env.items() if not k.startswith("OCF_")}
        return await self._execute([str(path), action], env, self.timeout_ms(op),
                                   lambda rc: standards.lsb_to_ocf(action, rc))

    async def _execute(self, argv: list[str], env: dict[str, str], timeout_ms: int,
                       to_ocf: Callable[[int], int]) -> AgentOutcome:
        try:
            done = await process.run(argv, env, timeout_ms / 1000, cwd="/", grace=self.kill_grace)
        except process.SpawnError as exc:
            # Present but unrunnable (bad interpreter line, no permission): not usable on this node.
            return AgentOutcome(lrm.OCF_ERR_INSTALLED, lrm.EXEC_NOT_INSTALLED, str(exc))
        exec_ms = int(done.elapsed * 1000)
        reason = standards.exit_reason(done.stderr)
        tail = done.stderr[-STDERR_TAIL:]
        if done.timed_out:
            return AgentOutcome(lrm.OCF_ERR_GENERIC, lrm.EXEC_TIMEOUT,
                                reason or f"{argv[1]} timed out after {timeout_ms}ms", exec_ms, done.stdout, tail)
        code = done.returncode if done.returncode is not None else -1
        if code < 0:  # the agent itself died of a signal: it gave no answer at all
            return AgentOutcome(lrm.OCF_ERR_GENERIC, lrm.EXEC_ERROR,
                                reason or f"agent killed by signal {-code}", exec_ms, done.stdout, tail)
        return AgentOutcome(to_ocf(code), lrm.EXEC_DONE, reason, exec_ms, done.stdout, tail)

    async def metadata(self, ref: standards.AgentRef, timeout: float = 5.0) -> str:
        """An agent's meta-data XML; raises NotInstalled / UnsupportedStandard, or RuntimeError if it fails."""
        path = standards.locate(ref, self.paths)
        if ref.is_lsb:
            return standards.lsb_metadata(ref.type)
        op = Operation(task="meta-data", rsc=ref.type, node="", agent=ref, timeout_ms=int(timeout * 1000))
        outcome = await self._run_ocf(op, path)
        if outcome.rc != lrm.OCF_SUCCESS or outcome.op_status != lrm.EXEC_DONE or not outcome.output.strip():
            raise RuntimeError(f"{ref.spec} meta-data failed (rc {outcome.rc}"
                               f"{': ' + outcome.exit_reason if outcome.exit_reason else ''})")
        return outcome.output
