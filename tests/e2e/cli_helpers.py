"""What the CLI end-to-end tests share: run a command that must succeed, read the status, wait for a state."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from tests.support.wait import until


def ok(lab, *words: str) -> str:
    """Run ``paceline WORDS...`` against the lab; it must succeed without a traceback."""
    out = lab.paceline(*words)
    assert out.returncode == 0, f"{words}: {out.stdout}{out.stderr}"
    assert "Traceback" not in out.stderr
    return out.stdout


def status_json(lab) -> dict:
    return json.loads(ok(lab, "status", "--output-as", "json"))


def walk(entries: list[dict]) -> Iterator[dict]:
    """Every resource entry of ``status --output-as json``, clones' instances and groups' members included."""
    for entry in entries:
        yield entry
        yield from walk(entry.get("children", []))


def running_on(lab, rsc: str) -> list[str]:
    return next((r["active_on"] for r in walk(status_json(lab)["resources"]) if r["id"] == rsc), [])


def dc_of(lab) -> str:
    """The DC the status page names (there must be one)."""
    m = re.search(r"Current DC: (\S+)", ok(lab, "status"))
    assert m and m.group(1) != "NONE"
    return m.group(1)


def wait_until(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.2) -> Any:
    """``tests.support.wait.until`` with the description first, as the CLI tests call it."""
    return until(check, what, timeout, interval)
