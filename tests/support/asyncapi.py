"""A real AsyncAPI validator for the tests: the AsyncAPI initiative's parser from npm, installed on first use.

``@asyncapi/parser`` (the library behind ``asyncapi validate``) and ``ajv`` are installed into a cache
directory, never the repository: ``$PACELINE_TEST_CACHE/asyncapi``, default ``~/.cache/paceline-test/asyncapi``.
Without node and npm, or without the npm registry, :func:`validator` says why and the tests skip with it.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

PACKAGES = ("@asyncapi/parser@3", "ajv@8")
SCRIPT = Path(__file__).with_name("asyncapi_check.js")


def cache_dir() -> Path:
    root = os.environ.get("PACELINE_TEST_CACHE") or Path.home() / ".cache" / "paceline-test"
    return Path(root) / "asyncapi"


def _installed(where: Path) -> bool:
    modules = where / "node_modules"
    return (modules / "@asyncapi" / "parser" / "package.json").exists() and (modules / "ajv" / "package.json").exists()


@functools.cache
def validator() -> tuple[Path | None, str]:
    """The directory the validator is installed in, or None and why it cannot be (installing it if needed; tried
    once per test session, so that a machine without the registry pays the wait once)."""
    where = cache_dir()
    if shutil.which("node") is None or shutil.which("npm") is None:
        return None, "node and npm are needed for the AsyncAPI validator (@asyncapi/parser); not installed"
    if _installed(where):
        return where, ""
    where.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(["npm", "install", "--prefix", str(where), "--no-audit", "--no-fund", "--loglevel=error",
                               "--fetch-retries=1", "--fetch-timeout=60000", *PACKAGES],
                              capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return None, f"npm install {' '.join(PACKAGES)} took over 10 minutes (no registry?)"
    if done.returncode != 0 or not _installed(where):
        errors = [line.removeprefix("npm error").strip() for line in done.stderr.splitlines()
                  if line.startswith("npm error") and line.strip() != "npm error"]
        errors.sort(key=lambda line: "reason" not in line)  # "request to URL failed, reason: ..." says most
        why = errors[0] if errors else f"npm exited with status {done.returncode}"
        return None, f"cannot install {' '.join(PACKAGES)} from npm into {where}: {why}"
    return where, ""


def check(where: Path, document: Path, samples: list[dict[str, Any]] | None = None) -> tuple[bool, list[dict]]:
    """Run the parser on ``document`` (and ajv on each sample ``{"channel", "payload"}``): (valid, findings)."""
    with tempfile.TemporaryDirectory() as tmp:
        args = ["node", str(SCRIPT), str(where), str(document)]
        if samples is not None:
            path = Path(tmp) / "samples.json"
            path.write_text(json.dumps(samples))
            args.append(str(path))
        done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    findings = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode not in (0, 1):
        findings.append({"severity": 0, "code": "node", "message": done.stderr.strip()[-2000:]})
    return done.returncode == 0, findings
