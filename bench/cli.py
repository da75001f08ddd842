"""Wall time of one-shot ``paceline`` commands against a running lab (median of N runs each).

    paceline lab up --nodes primary,secondary
    .venv/bin/python bench/cli.py [--runs 20] [--lab DIR]

Measures ``paceline configure primitive ...`` (target < 300 ms; crmsh takes
about 1.7 s) and ``paceline status`` (target < 200 ms), each a fresh process
as a sysadmin or a script would run it. The primitives it creates are stopped
ones and are deleted again at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path


def paceline() -> list[str]:
    exe = Path(sys.executable).parent / "paceline"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "paceline.gateway.cli"]


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed: {proc.stderr.strip()}")
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--lab", help="lab directory (default: $PACELINE_LAB or ~/.paceline/lab)")
    args = ap.parse_args()
    env = dict(os.environ)
    if args.lab:
        env["PACELINE_LAB"] = args.lab
    tag = uuid.uuid4().hex[:6]
    ids = [f"bench{tag}{i}" for i in range(args.runs)]
    configure = [timed([*paceline(), "configure", "primitive", rid, "ocf:paceline:Dummy", "meta",
                        "target-role=Stopped"], env) for rid in ids]
    status = [timed([*paceline(), "status"], env) for _ in range(args.runs)]
    subprocess.run([*paceline(), "configure", "delete", *ids], capture_output=True, env=env)
    for name, samples, target in (("configure primitive", configure, 0.300), ("status", status, 0.200)):
        median = statistics.median(samples)
        verdict = "ok" if median < target else "over target"
        print(f"{name:<20} median {median * 1000:6.0f} ms  min {min(samples) * 1000:6.0f} ms  "
              f"max {max(samples) * 1000:6.0f} ms  (target < {target * 1000:.0f} ms: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
