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

from paceline.shared.cib import FEATURE_SET
from paceline.shared.lrm import OCF_ERR_GENERIC, OCF_ERR_INSTALLED, OCF_ERR_PERM, OCF_NOT_RUNNING, OCF_SUCCESS
from paceline.shared.messages import AgentSpec

BUNDLED_ROOT = Path(__file__).resolve().parent / "agents"
OCF_VERSION = ("1", "1")
EXIT_REASON_PREFIX = "ocf-exit-reason:"
#: Pacemaker keeps exit reasons short; a whole stack trace does not belong in the CIB.
EXIT_REASON_MAX = 128
#: The monitor depth (OCF 1.1, section "Check levels"), an op parameter rather than a resource one.
CHECK_LEVEL = "OCF_CHECK_LEVEL"

#: LSB scripts know these actions; anything else is "unimplemented" for them.
LSB_ACTIONS = {"start": "start", "stop": "stop", "monitor": "status", "status": "status",
               "restart": "restart", "reload": "force-reload", "force-reload": "force-reload"}
# LSB status codes in the range reserved for applications, as Pacemaker reads them.
LSB_STATUS_NOT_INSTALLED = 150
LSB_STATUS_INSUFFICIENT_PRIV = 151


class NotInstalled(Exception):
    """The agent named by a resource definition does not exist (as an executable) on this node."""


class UnsupportedStandard(Exception):
    """A resource class this executor does not know."""


#: The resource classes this executor runs (crmsh's ``ra classes``).
CLASSES = ("lsb", "ocf", "service", "stonith", "systemd")


@dataclass(frozen=True)
class AgentRef:
    standard: str  # the CIB's "class"
    provider: str
    type: str

    @classmethod
    def from_spec(cls, spec: AgentSpec) -> AgentRef:
        """The agent a request names (its AgentSpec was checked on arrival: class and type given, ocf's provider)."""
        return cls(spec.standard, spec.provider, spec.type)

    @classmethod
    def from_body(cls, agent: Any) -> AgentRef:
        """An agent map as requests carry it (``{class, provider, type}``); MalformedMessage if it is not one."""
        return cls.from_spec(AgentSpec.parse(agent, "agent"))

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
        # Pacemaker's "service" class means LSB when an init script exists (checked first), else systemd.
        return self.standard in ("lsb", "service")


@dataclass(frozen=True)
class AgentPaths:
    ocf_root: Path
    lsb_root: Path
    bundled_root: Path = BUNDLED_ROOT
    #: Searched after ``ocf_root`` and before the bundled agents, each laid out like an OCF root.
    extra_ocf_roots: tuple[Path, ...] = ()
    fence_dir: Path = Path("/usr/sbin")

    @property
    def ocf_bases(self) -> list[Path]:
        """Where ``PROVIDER/TYPE`` is looked up, in order of precedence."""
        return ([self.ocf_root / "resource.d"] + [r / "resource.d" for r in self.extra_ocf_roots]
                + [self.bundled_root / "ocf"])

    @property
    def fence_dirs(self) -> list[Path]:
        return [self.fence_dir, self.bundled_root / "stonith"]

    def watched_dirs(self) -> list[Path]:
        """Directories whose modification time tells that agents were added or removed."""
        dirs = [self.lsb_root, *self.fence_dirs]
        for base in self.ocf_bases:
            dirs.append(base)
            if base.is_dir():
                dirs.extend(p for p in base.iterdir() if p.is_dir())
        return dirs


def parse_roots(text: str, node: str) -> tuple[Path, ...]:
    """The ``extra_ocf_roots`` setting: ``:``-separated directories, ``{node}`` replaced by the node name."""
    return tuple(Path(part.replace("{node}", node)) for part in text.split(":") if part.strip())


def _safe_name(name: str) -> bool:
    return bool(name) and "/" not in name and name not in (".", "..") and "\0" not in name


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _first_executable(ref: AgentRef, candidates: list[Path]) -> Path:
    for path in candidates:
        if _executable(path):
            return path
    where = " or ".join(str(p) for p in candidates)
    raise NotInstalled(f"{ref.spec} is not installed (no executable {where})")


def locate(ref: AgentRef, paths: AgentPaths) -> Path:
    """The executable of an ocf, lsb/service or stonith agent; NotInstalled (with the places looked at).

    ``systemd`` units have no executable of their own (see :mod:`paceline.executor.systemd`).
    """
    names = (ref.provider, ref.type) if ref.standard == "ocf" else (ref.type,)
    if ref.standard not in CLASSES:
        raise UnsupportedStandard(f"resource class {ref.standard!r} is not supported by this executor "
                                  f"(supported: {', '.join(CLASSES)})")
    if not all(_safe_name(n) for n in names):
        raise NotInstalled(f"{ref.spec} is not a valid agent name")
    if ref.standard == "ocf":
        return _first_executable(ref, [base / ref.provider / ref.type for base in paths.ocf_bases])
    if ref.standard == "stonith":
        return _first_executable(ref, [d / ref.type for d in paths.fence_dirs])
    if ref.standard == "systemd":
        raise NotInstalled(f"{ref.spec} is a systemd unit, not an executable")
    return _first_executable(ref, [paths.lsb_root / ref.type])


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
    env["OCF_RESKEY_crm_feature_set"] = FEATURE_SET
    for name, value in params.items():
        # Pacemaker passes this one op parameter under its own name: it is the OCF depth of a monitor.
        env[name if name == CHECK_LEVEL else f"OCF_RESKEY_{name}"] = str(value)
    for name, value in meta.items():
        env[meta_env_name(name)] = str(value)
    if CHECK_LEVEL not in env and meta.get(CHECK_LEVEL):
        env[CHECK_LEVEL] = str(meta[CHECK_LEVEL])
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


def _executables(directory: Path, prefix: str = "") -> set[str]:
    if not directory.is_dir():
        return set()
    return {a.name for a in directory.iterdir()
            if a.name.startswith(prefix) and not a.name.startswith(".") and _executable(a)}


def list_agents(paths: AgentPaths, systemd_units: list[str] | None = None) -> dict[str, Any]:
    """Installed agents by class (crmsh's ``ra list``).

    ``{"ocf": {provider: [types]}, "lsb": [...], "stonith": [...], "systemd": [...], "service": [...]}``;
    fence agents are the ``fence_*`` executables, as Pacemaker's fencer lists them.
    """
    ocf: dict[str, set[str]] = {}
    for base in paths.ocf_bases:
        if base.is_dir():
            for provider in base.iterdir():
                if provider.is_dir():
                    ocf.setdefault(provider.name, set()).update(_executables(provider))
    lsb = sorted(_executables(paths.lsb_root))
    stonith: set[str] = set()
    for d in paths.fence_dirs:
        stonith |= _executables(d, "fence_")
    systemd = sorted(systemd_units or [])
    return {"ocf": {p: sorted(t) for p, t in sorted(ocf.items())}, "lsb": lsb, "stonith": sorted(stonith),
            "systemd": systemd, "service": sorted(set(lsb) | set(systemd))}


def lsb_metadata(name: str, kind: str = "LSB init script") -> str:
    """LSB scripts and systemd units have no meta-data action; describe one as an OCF agent would (no parameters)."""
    name = escape(name, {'"': "&quot;"})
    actions = "".join(f'<action name="{a}" timeout="15s"/>' for a in ("start", "stop", "status", "monitor"))
    return (f'<?xml version="1.0"?><resource-agent name="{name}" version="0.1"><version>1.1</version>'
            f'<longdesc lang="en">{kind} {name}</longdesc><shortdesc lang="en">{name}</shortdesc>'
            f"<parameters/><actions>{actions}</actions></resource-agent>")
