"""The real ocf:heartbeat:IPaddr2 in the netns lab: the floating address moves, and HTTP follows it.

Every node has its own network namespace; the address is a real kernel
address on the node's lab0, and the web server is reached only through it,
from the hub namespace (``ip netns exec HUB curl``). Which node answered is
read from the hub's neighbour table: the floating address must resolve to the
MAC address of the holder's lab0.
"""

from __future__ import annotations

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

IPADDR2 = Path("/usr/lib/ocf/resource.d/heartbeat/IPaddr2")
PORT = 8080  # inside the node namespaces, where nothing else listens

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="the netns lab needs root (network namespaces)"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="the netns lab needs 'ip' (Debian package iproute2)"),
    pytest.mark.skipif(shutil.which("curl") is None, reason="the test reaches the floating address with curl"),
    pytest.mark.skipif(not IPADDR2.exists(), reason=f"{IPADDR2} is missing (Debian package resource-agents)"),
]


class NetnsStory(Story):
    """The story's checks, with the address and the web server reached through the lab network."""

    plan: NetnsPlan

    def curl(self) -> str:
        proc = subprocess.run(["ip", "netns", "exec", self.plan.hub, "curl", "-sS", "-m", "2",
                               f"http://{self.plan.floating()}:{PORT}/"], capture_output=True, text=True)
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
        if "Served by Paceline" not in body:
            raise self.failed(f"http://{self.plan.floating()}:{PORT}/ from the hub: {body}")
        if self.answered_by() != node:
            raise self.failed(f"the hub reached {self.plan.floating()} at {self.answered_by()}, not at {node}")


def root_links() -> set[str]:
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines()}


def our_processes(lab_dir: Path) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and str(lab_dir).encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.fixture(scope="module")
def story(tmp_path_factory) -> Iterator[NetnsStory]:
    links_before = root_links()
    lab_dir = tmp_path_factory.mktemp("netns-lab")
    s = NetnsStory(lab_dir, echo=False, port=PORT)
    s.docroot = tmp_path_factory.mktemp("docroot")
    (s.docroot / "index.html").write_text("<h1>Served by Paceline</h1>\n")
    cluster = f"t{os.getpid()}"  # two test runs on one machine get different namespaces
    try:
        s.run("lab", "up", "--netns", "--nodes", "primary,secondary", "--cluster", cluster, "--dir", str(lab_dir))
        plan = Lab.load(lab_dir).plan
        assert plan is not None, "a netns lab has a plan"
        s.plan = plan
        yield s
    finally:
        s.teardown()
        assert not {n for n in existing_namespaces() if n.startswith(f"{cluster}-")}, "namespaces left behind"
        assert root_links() <= links_before, "links left behind in the root namespace"
        assert our_processes(lab_dir) == [], "processes left behind"


def test_floating_ip_follows_the_group_through_standby_and_node_loss(story: NetnsStory):
    ip = story.plan.floating()
    for words in (["property", "stonith-enabled=false"], ["property", "no-quorum-policy=ignore"],
                  ["rsc_defaults", "resource-stickiness=100"],
                  ["primitive", "webip", "ocf:heartbeat:IPaddr2", "params", f"ip={ip}", "cidr_netmask=24",
                   f"nic={story.plan.nic}", "op", "monitor", "interval=5s", "timeout=20s"],
                  ["primitive", "webserver", "ocf:paceline:http", "params", f"port={PORT}", "bind=0.0.0.0",
                   f"docroot={story.docroot}", "op", "monitor", "interval=2s", "timeout=20s"],
                  ["group", "webservice", "webip", "webserver"]):
        story.run("configure", *words)
    holder = story.wait_for("the group is started", story.group_on(None)).started_on("webip")
    assert holder is not None
    story.served_from(holder)

    other = next(n for n in story.plan.nodes if n != holder)
    story.run("node", "standby", holder)
    story.wait_for(f"the group runs on {other}", story.group_on(other))
    story.served_from(other)
    story.run("node", "online", holder)
    story.wait_for(f"{holder} is online", lambda st: holder in st.online)
    story.hold(f"the group stays on {other} (stickiness)", story.group_on(other), 2.0)

    story.run("lab", "kill", other)  # the node holding the address dies
    assert story.addresses(other) == [], "a killed node keeps no address"
    story.wait_for(f"the group runs on {holder} after {other} died",
                   lambda st: other in st.offline and story.group_on(holder)(st))
    story.served_from(holder)

    story.run("lab", "revive", other)
    assert story.addresses(other) == [story.plan.address(other)], "a revived node comes back without the address"
    st = story.wait_for("both nodes online and the group started on one of them",
                        lambda st: sorted(st.online) == ["primary", "secondary"] and story.group_on(None)(st))
    story.served_from(st.started_on("webip") or "")
