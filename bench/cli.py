"""Wall time of one-shot ``paceline`` commands against a lab (median of N runs each).

    .venv/bin/python bench/cli.py [--runs 20] [--lab DIR] [--no-compare] [--open-bus]

Measures ``paceline configure primitive ...`` (target < 300 ms; crmsh takes
about 1.7 s) and ``paceline status`` (target < 200 ms), each a fresh process
as a sysadmin or a script would run it. Without ``--lab`` (and no lab running
at ``$PACELINE_LAB``) it starts a two-node lab in a temporary directory and
stops it at the end. Unless ``--no-compare``, every run is repeated with
``PACELINE_QUICKBUS=0`` (requests through nats-py and asyncio, as before the
quick client existed), interleaved so both see the same machine load, and the
ratio of the medians is printed. With ``--open-bus`` the baseline is instead a
second lab whose bus requires no credentials (``lab up --insecure``): the cost
of TLS and nkeys, in the same run. The primitives it creates are stopped ones
and are deleted again at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

TARGETS = {"configure primitive": 0.300, "status": 0.200}


def paceline() -> list[str]:
    exe = Path(sys.executable).parent / "paceline"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "paceline.cli.main"]


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed: {proc.stderr.strip()}")
    return elapsed


@contextlib.contextmanager
def lab_env(lab: str | None, insecure: bool = False) -> Iterator[dict[str, str]]:
    """The environment that points ``paceline`` at a lab: the given one, a running one, or a fresh one
    (``insecure``: always a fresh one, whose bus requires no credentials)."""
    env = dict(os.environ)
    env.pop("PACELINE_NATS_URL", None)
    env.pop("PACELINE_CREDENTIALS", None)
    if lab:
        env["PACELINE_LAB"] = lab
    running = not insecure and subprocess.run([*paceline(), "lab", "status"], capture_output=True,
                                              env=env).returncode == 0
    if running:
        yield env
        return
    with tempfile.TemporaryDirectory(prefix="paceline-bench-") as tmp:
        env["PACELINE_LAB"] = tmp
        extra = ["--insecure", "--cluster", "open"] if insecure else []
        up = subprocess.run([*paceline(), "lab", "up", "--nodes", "primary,secondary", *extra], capture_output=True,
                            text=True, env=env, timeout=120)
        try:
            if up.returncode != 0:
                sys.exit(f"lab up failed: {up.stderr.strip()}")
            yield env
        finally:
            subprocess.run([*paceline(), "lab", "down"], capture_output=True, env=env, timeout=60)


def report(name: str, samples: list[float], baseline: list[float], baseline_name: str = "via nats-py") -> None:
    median = statistics.median(samples)
    target = TARGETS[name]
    verdict = "ok" if median < target else "over target"
    line = (f"{name:<20} median {median * 1000:6.0f} ms  min {min(samples) * 1000:6.0f} ms  "
            f"max {max(samples) * 1000:6.0f} ms  (target < {target * 1000:.0f} ms: {verdict})")
    if baseline:
        before = statistics.median(baseline)
        line += f"\n{'':<20} {baseline_name} {before * 1000:6.0f} ms  -> ratio {median / before:.2f}"
    print(line)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--lab", help="lab directory (default: $PACELINE_LAB, or a fresh lab in a temporary directory)")
    ap.add_argument("--no-compare", action="store_true", help="skip the PACELINE_QUICKBUS=0 baseline runs")
    ap.add_argument("--open-bus", action="store_true",
                    help="compare with a second lab whose bus requires no credentials, instead of with nats-py")
    args = ap.parse_args()
    samples: dict[str, list[float]] = {name: [] for name in TARGETS}
    baseline: dict[str, list[float]] = {name: [] for name in TARGETS}
    tag = uuid.uuid4().hex[:6]
    ids: list[str] = []
    with lab_env(args.lab) as env, (lab_env(None, insecure=True) if args.open_bus
                                    else contextlib.nullcontext(None)) as open_env:
        variants = [(samples, env)]
        if open_env is not None:
            variants.append((baseline, open_env))
        elif not args.no_compare:
            variants.append((baseline, {**env, "PACELINE_QUICKBUS": "0"}))
        for _run in range(args.runs):
            for into, variant_env in variants:
                rid = f"bench{tag}{len(ids)}"
                ids.append(rid)
                into["configure primitive"].append(timed(
                    [*paceline(), "configure", "primitive", rid, "ocf:paceline:Dummy", "meta", "target-role=Stopped"],
                    variant_env))
                into["status"].append(timed([*paceline(), "status"], variant_env))
        subprocess.run([*paceline(), "configure", "delete", *ids], capture_output=True, env=env)
    for name in TARGETS:
        report(name, samples[name], baseline[name], "open bus" if args.open_bus else "via nats-py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
