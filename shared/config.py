"""The one config loader: defaults, then a TOML file, then PACELINE_* environment variables.

Every service reads the same :class:`Config`, so one file can describe a node.
The environment wins over the file because that is how the lab and containers
override single settings without writing files.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "PACELINE_"
#: ``PACELINE_*`` variables that are not settings of this file, and who reads them (not warned about).
OTHER_VARIABLES = {
    "PACELINE_CONFIG": "the configuration file (this module)",
    "PACELINE_LAB": "the lab directory (paceline lab, the CLI)",
    "PACELINE_LAB_DIR": "set by a lab on every process it starts: tells them from a recycled pid (shared.pidfiles)",
    "PACELINE_HISTORY": "the shell's history file",
    "PACELINE_QUICKBUS": "0: the CLI uses nats-py for every request",
    "PACELINE_PYTHON": "the interpreter the executor's Pacemaker tool stand-ins run",
    "PACELINE_SHARED": "the reference material the tests and benches read",
    "PACELINE_TEST_CACHE": "where tests keep downloaded tools (the AsyncAPI validator)",
}
#: Config fields that are not settings.
_NOT_SETTINGS = ("extra", "warnings")


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the setting and its source."""


@dataclass
class Config:
    cluster: str = "default"
    nats_url: str = "nats://127.0.0.1:4222"
    #: The node this process speaks for (membership, executor; policy's host).
    node: str = ""
    log_format: str = "console"  # console | json
    #: Copies of every KV bucket Paceline creates; 0: min(3, the bus servers of the cluster).
    replicas: int = 0
    log_level: str = "info"
    #: 0 picks a free port; -1 disables the /metrics endpoint.
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    #: The node exporter (served by membership, one per node): ha_cluster_exporter's series and every
    #: service's own, on ha_cluster_exporter's port. Port -1 or an empty address: no node exporter.
    exporter_address: str = "0.0.0.0"
    exporter_port: int = 9664
    #: Where a process writes what it must find again (metrics port file, agent state).
    state_dir: str = ""
    #: The directory ``paceline keygen`` made; empty: the bus is open (no TLS, no nkeys).
    credentials: str = ""
    #: The user the CLI and tools connect as (``admin`` or ``observer``); services use ``<service>@<node>``.
    user: str = "admin"

    # membership (corosync's totem, in our terms)
    heartbeat_interval: float = 0.1
    token_timeout: float = 0.6
    expected_votes: int = 0  # 0: number of nodes in the CIB's <nodes>
    two_node: bool = False
    wait_for_all: bool = False
    #: Seconds the node's watchdog waits for a pet before it resets the node; 0: no watchdog is petted.
    watchdog_timeout: float = 0.0

    # policy
    replan_delay: float = 0.05

    # executor
    ocf_root: str = "/usr/lib/ocf"
    lsb_root: str = "/etc/init.d"
    default_op_timeout: float = 20.0
    #: More OCF roots searched before the bundled agents (``:``-separated; ``{node}`` is this node's name).
    extra_ocf_roots: str = ""
    #: Where fence agents (class ``stonith``) are installed.
    fence_agent_dir: str = "/usr/sbin"
    #: ``HA_SBIN_DIR`` of agents (where they find crm_attribute & co.); empty: the executor's Paceline stand-ins.
    ha_sbin_dir: str = ""

    # gateway
    http_port: int = -1  # -1: no HTTP API

    #: Keys of the config file that are not settings (kept, and warned about in :attr:`warnings`).
    extra: dict[str, Any] = field(default_factory=dict)
    #: Unknown keys and ``PACELINE_*`` variables, each with the closest known name: services log them at start.
    warnings: list[str] = field(default_factory=list)

    @property
    def subjects(self):  # imported lazily: subjects validates the cluster name
        from paceline.shared.subjects import Subjects

        return Subjects(self.cluster)


def _coerce(name: str, raw: Any, typ: Any, source: str) -> Any:
    try:
        if typ is bool or typ == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(text)
        if typ is int or typ == "int":
            return int(raw)
        if typ is float or typ == "float":
            return float(raw)
        return str(raw)
    except (TypeError, ValueError):
        kind = getattr(typ, "__name__", typ)
        raise ConfigError(f"{source}: {name} must be a {kind}, got {raw!r}") from None


def load(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None,
         **overrides: Any) -> Config:
    """Build the effective config; ``overrides`` (e.g. from command-line flags) win over everything."""
    env = dict(os.environ if env is None else env)
    cfg = Config()
    fields = {f.name: f for f in dataclasses.fields(Config) if f.name not in _NOT_SETTINGS}
    path = path or env.get(ENV_PREFIX + "CONFIG")
    if path:
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text())
        except FileNotFoundError:
            raise ConfigError(f"config file {p} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {p}: {exc}") from None
        for key, value in data.items():
            name = key.replace("-", "_")
            if name in fields:
                setattr(cfg, name, _coerce(name, value, fields[name].type, str(p)))
            else:
                cfg.extra[name] = value
                cfg.warnings.append(f"config file {p}: unknown setting {key!r} ignored"
                                    f"{_closest(name, list(fields))}")
    cfg.warnings += unknown_variables(env, list(fields))
    for name, f in fields.items():
        value = env.get(ENV_PREFIX + name.upper())
        if value is not None:
            setattr(cfg, name, _coerce(name, value, f.type, ENV_PREFIX + name.upper()))
    for name, value in overrides.items():
        if value is not None:
            if name not in fields:
                raise ConfigError(f"unknown setting {name!r}")
            setattr(cfg, name, _coerce(name, value, fields[name].type, "command line"))
    cfg.subjects  # noqa: B018 - validates the cluster name early
    return cfg


def _closest(name: str, known: list[str]) -> str:
    match = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def unknown_variables(env: dict[str, str], settings: list[str]) -> list[str]:
    """A warning for each ``PACELINE_*`` variable that is neither a setting nor one of :data:`OTHER_VARIABLES`
    - a misspelt variable would otherwise be ignored without a word."""
    known = [ENV_PREFIX + s.upper() for s in settings] + list(OTHER_VARIABLES)
    return [f"environment: unknown variable {name} ignored{_closest(name, known)}"
            for name in sorted(env) if name.startswith(ENV_PREFIX) and name not in known]
