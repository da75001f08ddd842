"""Podman for the bundle tests: can a container run on this machine, with which options, from which image.

No container registry is reachable here, so the image is made locally: ``podman import`` of a tarball
holding only the top-level directories of a Debian root (``bin``, ``lib``, ``sbin`` as the merged-/usr
links). The container gets this machine's ``/usr`` and ``/etc``, the interpreter and the checkout
(with its virtualenv) by read-only bind mounts, so it runs this Paceline as the host does: a few kB of
image, nothing copied.

Where the tests run matters: in a container without ``CAP_SYS_RESOURCE`` podman's default limits
(``nofile``/``nproc`` raised to its own values) are refused, and with cgroups in hybrid mode (v1 plus an
empty v2 tree, as on this machine) ``crun`` refuses to run at all. :func:`run_options` finds the first
set of options that runs ``/bin/true`` - none, this machine's own limits, then ``runc`` with them - and
:func:`problem` says why nothing works, for the skip message.
"""

from __future__ import annotations

import functools
import io
import resource
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

#: The local image the bundle tests run (made by :func:`ensure_image`; never pulled).
IMAGE = "localhost/paceline-guest:skeleton"
REPO = Path(__file__).resolve().parents[2]
#: Top-level directories of the image; the merged-/usr links as Debian has them.
_DIRS = ("usr", "etc", "proc", "sys", "dev", "tmp", "run", "var/log", "var/lib", "root")
_LINKS = {"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64"}


def _podman(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)


def _skeleton() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in _DIRS:
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        for name, target in _LINKS.items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return buf.getvalue()


def ensure_image() -> None:
    """Import the skeleton image unless podman has it (idempotent; other test runs may share it)."""
    if _podman("image", "exists", IMAGE).returncode == 0:
        return
    done = subprocess.run(["podman", "import", "-", IMAGE], input=_skeleton(), capture_output=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"podman import failed: {done.stderr.decode(errors='replace').strip()}")


def host_mounts() -> list[str]:
    """``-v`` options giving the container this machine's system, interpreter and checkout, read-only."""
    sources = ["/usr", "/etc", sys.base_prefix, str(REPO)]
    out: list[str] = []
    for src in dict.fromkeys(sources):
        if not any(src != other and src.startswith(other + "/") for other in sources):
            out += ["-v", f"{src}:{src}:ro"]
    return out


#: Limits low enough to be lowering ones anywhere, high enough for an executor and its agents (measured: on
#: this machine, a nested container, nproc above some 32768-50000 is refused even below the shell's limit).
_LIMITS = (("nofile", resource.RLIMIT_NOFILE, 16384), ("nproc", resource.RLIMIT_NPROC, 32768))


def _limits() -> list[str]:
    out = []
    for name, which, cap in _LIMITS:
        hard = resource.getrlimit(which)[1]
        value = cap if hard == resource.RLIM_INFINITY else min(hard, cap)
        out += ["--ulimit", f"{name}={value}:{value}"]
    return out


@functools.lru_cache(maxsize=1)
def _probe() -> tuple[list[str] | None, str]:
    if shutil.which("podman") is None:
        return None, "podman is not installed (apt-get install podman runc)"
    try:
        ensure_image()
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        return None, str(exc)
    candidates = [[], _limits()]
    if shutil.which("runc"):
        candidates.append(["--runtime", "runc", *_limits()])
    errors = []
    for options in candidates:
        done = _podman("run", "--rm", "--net=host", *options, *host_mounts(), IMAGE, "/bin/true")
        if done.returncode == 0:
            return options, ""
        errors.append(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"rc {done.returncode}")
    return None, "podman cannot run a container here: " + "; ".join(dict.fromkeys(errors))


def run_options() -> list[str]:
    """The options this machine needs to run a container (only meaningful when :func:`problem` is "")."""
    return list(_probe()[0] or [])


def problem() -> str:
    """Why no container can run here ("" when one can)."""
    return _probe()[1]


def remove(name: str) -> None:
    """Remove a container this test run made (by its name; gone already is fine)."""
    _podman("rm", "-f", "-t", "0", name)
