"""Where a lab lives and which bus it runs, read without the lab machinery.

Every live CLI command that was not given a bus looks here, so this module
imports nothing heavier than json: the lab itself (processes, namespaces, the
CIB) is :mod:`paceline.lab.lab`'s business.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

STATE_FILE = "lab.json"


class NoLab(LookupError):
    """No lab is recorded in the directory; the message says where we looked and what to do."""


def default_dir() -> Path:
    env = os.environ.get("PACELINE_LAB")
    return Path(env) if env else Path.home() / ".paceline" / "lab"


def credentials_of(directory: Path | None = None) -> str | None:
    """The credentials directory the lab in ``directory`` made, if it made any (and is running)."""
    d = directory or default_dir()
    try:
        value = json.loads((d / STATE_FILE).read_text()).get("credentials")
    except (OSError, ValueError, AttributeError):
        return None
    return str(value) if value else None


def bus_of(directory: Path | None = None) -> tuple[str, str]:
    """The NATS URL and cluster name of the lab in ``directory`` (default: the default lab)."""
    d = directory or default_dir()
    try:
        data = json.loads((d / STATE_FILE).read_text())
        return str(data["nats_url"]), str(data.get("cluster", "default"))
    except FileNotFoundError:
        raise NoLab(f"no lab is running in {d} (start one with: paceline lab up)") from None
    except (ValueError, KeyError, TypeError):
        raise NoLab(f"{d / STATE_FILE} is not a lab's state file") from None
