"""What the OCF and LSB standards say about finding an agent, calling it and reading its answer.

Kept free of I/O beyond looking for files so that the rules (environment
variables, LSB-to-OCF exit codes, exit reasons) can be tested as plain
functions. Bundled agents live in ``agents/ocf/PROVIDER/TYPE`` beside this
module (no ``resource.d`` level); the system's agents in
``OCF_ROOT/resource.d/PROVIDER/TYPE`` win over them, so an administrator can
replace a bundled agent without touching Paceline.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from paceline.shared import codec
from paceline.shared.lrm import OCF_ERR_GENERIC, OCF_ERR_INSTALLED, OCF_ERR_PERM, OCF_NOT_RUNNING, OCF_SUCCESS

BUNDLED_ROOT = Path(__file__).resolve().parent / "agents"
OCF_VERSION = ("1", "1")
EXIT_REASON_PREFIX = "ocf-exit-reason:"
#: Pacemaker keeps exit reasons short; a whole stack trace does not belong in the CIB.
EXIT_REASON_MAX = 128

#: LSB scripts know these actions; anything else is "unimplemented" for them.
LSB_ACTIONS = {"start": "start", "stop": "stop", "monitor": "status", "status": "status",
               "restart": "restart", "reload": "force-reload", "force-reload": "force-reload"}
# LSB status codes in the range reserved for applications, as Pacemaker reads them.
LSB_STATUS_NOT_INSTALLED = 150
LSB_STATUS_INSUFFICIENT_PRIV = 151


class NotInstalled(Exception):
    """The agent named by a resource definition does not exist (as an executable) on this node."""


class UnsupportedStandard(Exception):
    """A resource class this executor cannot run (e.g. stonith: fencing is not its job)."""


@dataclass(frozen=True)
class AgentRef:
    standard: str  # the CIB's "class"
    provider: str
    type: str

    @classmethod
    def from_body(cls, agent: Any) -> AgentRef:
        if not isinstance(agent, dict):
            raise codec.MalformedMessage("field 'agent' must be a map with class, provider and type")
        standard = codec.field(agent, "class", str)
        provider = codec.field(agent, "provider", str, "")
        kind = codec.field(agent, "type", str)
        if not standard or not kind:
            raise codec.MalformedMessage("agent class and type must not be empty")
        if standard == "ocf" and not provider:
            raise codec.MalformedMessage("an ocf agent needs a provider")
        return cls(standard, provider, kind)

    @property
    def spec(self) -> str:
        """crmsh's spelling, e.g. ``ocf:paceline:Dummy`` or ``lsb:nginx``."""
        return ":".join(p for p in (self.standard, self.provider, self.type) if p)

    def record(self) -> dict[str, str]:
        """The attributes an ``lrm_resource`` element carries."""
        out = {"class": self.standard, "type": self.type}
        if self.provider:
            out["provider"] = self.provider
        return out

    @property
    def is_lsb(self) -> bool:
        # Pacemaker's "service" class means systemd-or-LSB; LSB is the part we can run.
        return self.standard in ("lsb", "service")


@dataclass(frozen=True)
class AgentPaths:
    ocf_root: Path
    lsb_root: Path
    bundled_root: Path = BUNDLED_ROOT


def _safe_name(name: str) -> bool:
    return bool(name) and "/" not in name and name not in (".", "..") and "\0" not in name


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def locate(ref: AgentRef, paths: AgentPaths) -> Path:
    """The executable for an agent; NotInstalled (with the places looked at) when there is none."""
    if ref.standard == "ocf":
        if not (_safe_name(ref.provider) and _safe_name(ref.type)):
            raise NotInstalled(f"{ref.spec} is not a valid agent name")
        candidates = [paths.ocf_root / "resource.d" / ref.provider / ref.type,
                      paths.bundled_root / "ocf" / ref.provider / ref.type]
    elif ref.is_lsb:
        if not _safe_name(ref.type):
            raise NotInstalled(f"{ref.spec} is not a valid agent name")
        candidates = [paths.lsb_root / ref.type]
    else:
        raise UnsupportedStandard(f"resource class {ref.standard!r} is not supported by this executor")
    for path in candidates:
        if _executable(path):
            return path
    where = " or ".join(str(p) for p in candidates)
    raise NotInstalled(f"{ref.spec} is not installed (no executable {where})")


def meta_env_name(name: str) -> str:
    return "OCF_RESKEY_CRM_meta_" + name.replace("-", "_")


def ocf_environment(ref: AgentRef, *, instance: str, task: str, params: Mapping[str, str],
                    meta: Mapping[str, str], timeout_ms: int, interval_ms: int, node: str,
                    paths: AgentPaths, rsctmp: Path, base: Mapping[str, str]) -> dict[str, str]:
    """The environment of an OCF agent call (OCF 1.1 plus the CRM_meta variables Pacemaker adds)."""
    env = {k: v for k, v in base.items() if not k.startswith(("OCF_", "HA_RSCTMP"))}
    env.update({
        "OCF_ROOT": str(paths.ocf_root),
        "OCF_RA_VERSION_MAJOR": OCF_VERSION[0],
        "OCF_RA_VERSION_MINOR": OCF_VERSION[1],
        "OCF_RESOURCE_INSTANCE": instance,
        "OCF_RESOURCE_TYPE": ref.type,
        "OCF_RESOURCE_PROVIDER": ref.provider,
        "HA_RSCTMP": str(rsctmp),
    })
    functions = paths.ocf_root / "lib" / "heartbeat"
    if functions.is_dir():
        env["OCF_FUNCTIONS_DIR"] = str(functions)
    for name, value in params.items():
        env[f"OCF_RESKEY_{name}"] = str(value)
    for name, value in meta.items():
        env[meta_env_name(name)] = str(value)
    # Set last: the operation's own values beat anything copied from the resource's meta.
    env[meta_env_name("name")] = task
    env[meta_env_name("interval")] = str(interval_ms)
    env[meta_env_name("timeout")] = str(timeout_ms)
    env[meta_env_name("on_node")] = node
    return env


def lsb_to_ocf(action: str, code: int) -> int:
    """Pacemaker's reading of LSB exit codes.

    ``status`` has its own table: 1 and 2 ("dead, but a pid/lock file remains")
    mean not running just like 3. Other actions share the OCF meaning for 0-7.
    """
    if action == "status":
        if code == 0:
            return OCF_SUCCESS
        if code in (1, 2, 3):
            return OCF_NOT_RUNNING
        if code == LSB_STATUS_NOT_INSTALLED:
            return OCF_ERR_INSTALLED
        if code == LSB_STATUS_INSUFFICIENT_PRIV:
            return OCF_ERR_PERM
        return OCF_ERR_GENERIC
    return code if 0 <= code <= OCF_NOT_RUNNING else OCF_ERR_GENERIC


def exit_reason(stderr: str) -> str:
    """The last ``ocf-exit-reason:`` line an agent printed, trimmed to a CIB-friendly length."""
    reason = ""
    for line in stderr.splitlines():
        if line.startswith(EXIT_REASON_PREFIX):
            reason = line[len(EXIT_REASON_PREFIX):].strip()
    return reason[:EXIT_REASON_MAX]


def list_agents(paths: AgentPaths) -> dict[str, Any]:
    """Installed agents by standard: ``{"ocf": {provider: [types]}, "lsb": [names]}`` (crmsh's ``ra list``)."""
    ocf: dict[str, set[str]] = {}
    for base in (paths.ocf_root / "resource.d", paths.bundled_root / "ocf"):
        if not base.is_dir():
            continue
        for provider in base.iterdir():
            if provider.is_dir():
                found = {a.name for a in provider.iterdir() if _executable(a) and not a.name.startswith(".")}
                ocf.setdefault(provider.name, set()).update(found)
    lsb = sorted(a.name for a in paths.lsb_root.iterdir() if _executable(a)) if paths.lsb_root.is_dir() else []
    return {"ocf": {p: sorted(t) for p, t in sorted(ocf.items())}, "lsb": lsb}


def lsb_metadata(name: str) -> str:
    """LSB scripts have no meta-data action; describe one the way an OCF agent would (no parameters)."""
    name = escape(name, {'"': "&quot;"})
    actions = "".join(f'<action name="{a}" timeout="15s"/>' for a in ("start", "stop", "status", "monitor"))
    return (f'<?xml version="1.0"?><resource-agent name="{name}" version="0.1"><version>1.1</version>'
            f'<longdesc lang="en">LSB init script {name}</longdesc><shortdesc lang="en">{name}</shortdesc>'
            f"<parameters/><actions>{actions}</actions></resource-agent>")
