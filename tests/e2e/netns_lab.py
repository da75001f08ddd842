"""What the netns end-to-end tests share: a netns lab run as the story runs it, and reading its network.

Every node has its own network namespace; a floating address is a real
kernel address on the node's lab0, and a service behind it is reached only
through it, from the hub namespace (``ip netns exec HUB curl``). Which node
answered is read from the hub's neighbour table: the floating address must
resolve to the MAC address of the holder's lab0.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from paceline.lab.lab import Lab
from paceline.lab.netns import NetnsPlan, existing_namespaces
from paceline.lab.story import Story

#: The skips every netns test needs (each says what is missing).
NETNS_SKIPS = [
    pytest.mark.skipif(os.geteuid() != 0, reason="the netns lab needs root (network namespaces)"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="the netns lab needs 'ip' (Debian package iproute2)"),
    pytest.mark.skipif(shutil.which("curl") is None, reason="the test reaches the floating address with curl"),
]


class NetnsStory(Story):
    """The story's checks, with the address and the web server reached through the lab network."""

    plan: NetnsPlan
    #: What the page served through the floating address must contain.
    marker: str = "Served by Paceline"

    def curl(self) -> str:
        proc = subprocess.run(["ip", "netns", "exec", self.plan.hub, "curl", "-sS", "-m", "2",
                               f"http://{self.plan.floating()}:{self.port}/"], capture_output=True, text=True)
        return proc.stdout if proc.returncode == 0 else f"curl failed: {proc.stderr.strip()}"

    def addresses(self, node: str) -> list[str]:
        ns = self.plan.namespace(node)
        if ns not in existing_namespaces():
            return []
        out = subprocess.run(["ip", "-n", ns, "-o", "-4", "addr", "show", "dev", self.plan.nic],
                             capture_output=True, text=True).stdout
        return re.findall(r"inet (\S+)/", out)

    def holders(self) -> list[str]:
        return [n for n in self.plan.nodes if self.plan.floating() in self.addresses(n)]

    def mac(self, node: str) -> str:
        out = subprocess.run(["ip", "-n", self.plan.namespace(node), "-o", "link", "show", "dev", self.plan.nic],
                             capture_output=True, text=True, check=True).stdout
        m = re.search(r"link/ether (\S+)", out)
        assert m, out
        return m.group(1)

    def answered_by(self) -> str | None:
        """The node whose MAC the hub used for the floating address (right after a successful curl)."""
        out = subprocess.run(["ip", "-n", self.plan.hub, "neigh", "show", self.plan.floating()],
                             capture_output=True, text=True).stdout
        m = re.search(r"lladdr (\S+)", out)
        return next((n for n in self.plan.nodes if m and self.addresses(n) and self.mac(n) == m.group(1)), None)

    def served_from(self, node: str) -> None:
        """curl through the floating address answers, and from ``node``, which alone holds the address."""
        if self.holders() != [node]:
            raise self.failed(f"{self.plan.floating()} should be on {node} only, it is on {self.holders()}")
        body = self.curl()
        if self.marker not in body:
            raise self.failed(f"http://{self.plan.floating()}:{self.port}/ from the hub: {body}")
        if self.answered_by() != node:
            raise self.failed(f"the hub reached {self.plan.floating()} at {self.answered_by()}, not at {node}")


def root_links() -> set[str]:
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines()}


def processes_mentioning(text: str | Path) -> list[int]:
    """Processes whose command line contains ``text`` (a lab's or a test's folder): what is left behind."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and str(text).encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@contextlib.contextmanager
def netns_story(lab_dir: Path, port: int, nodes: tuple[str, ...] = ("primary", "secondary")) -> Iterator[NetnsStory]:
    """``paceline lab up --netns`` in ``lab_dir``, as a story; after it, nothing of the lab may be left:
    no namespace, no link in the root namespace, no process."""
    probe = f"t{os.getpid()}-probe"  # a container may forbid namespaces even to root: a skip, not a failure
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"this machine cannot make network namespaces (ip netns add: {made.stderr.strip()})")
    links_before = root_links()
    story = NetnsStory(lab_dir, echo=False, port=port)
    cluster = f"t{os.getpid()}"  # two test runs on one machine get different namespaces
    try:
        story.run("lab", "up", "--netns", "--nodes", ",".join(nodes), "--cluster", cluster, "--dir", str(lab_dir))
        plan = Lab.load(lab_dir).plan
        assert plan is not None, "a netns lab has a plan"
        story.plan = plan
        yield story
    finally:
        story.teardown()
        assert not {n for n in existing_namespaces() if n.startswith(f"{cluster}-")}, "namespaces left behind"
        assert root_links() <= links_before, "links left behind in the root namespace"
        assert processes_mentioning(lab_dir) == [], "processes left behind"
