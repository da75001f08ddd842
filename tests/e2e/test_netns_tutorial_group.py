"""The tutorial's whole group with real agents in the netns lab: a floating address, a file system, a web server.

Debian's own ``ocf:heartbeat:IPaddr2``, ``ocf:heartbeat:Filesystem`` and
``ocf:heartbeat:apache`` (with the real apache2) are grouped as the tutorial
groups them - address, then file system, then the web server serving from the
mounted directory - and the group goes through a start, a standby, a return to
online, and the loss of the node running it (fenced by the lab's
``fence_paceline``). At every step the page fetched through the floating
address, from the hub namespace, must carry a marker that exists only inside
the file system.

The file system is ext4 in an image file on a loop device: the shared disk both
nodes see, as a SAN or DRBD device is in the tutorial. NFS is not used: it
needs the kernel's NFS client, which this kernel does not have (no ``nfs`` in
``/proc/filesystems``, no modules to load); a userspace NFS server alone would
leave nothing able to mount it.

Mount namespaces: ``ip netns exec``, which starts each of a node's services,
gives every process it starts a mount namespace of its own (a slave of the
host's), so the file system ``Filesystem`` mounts is seen by that node's
executor, its agents and the apache it starts, and by nothing else - not by the
other node, not by this test. Where it is mounted is therefore read from each
node's executor (``/proc/PID/mountinfo``), and the web server can only serve the
marker from where the mount is. Still shared by the nodes: the process table
(apache's agent stops with ``pkill -f`` over the whole machine; harmless here,
as a group stops on one node before it starts on the other) and the file tree
outside the mount (``HA_VARRUN`` is per node in the lab, so pid files are not).

A sampler watches, for the whole test, where each resource is active - by the
status page and by the machines themselves (addresses, mounts, apache
processes) - and no sample may find one active on two nodes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from paceline.lab.lab import Lab
from paceline.lab.netns import existing_namespaces
from paceline.lab.story import Status

from tests.e2e.bus_recorder import BusRecorder
from tests.e2e.cli_helpers import walk
from tests.e2e.netns_lab import NETNS_SKIPS, NetnsStory, netns_story, processes_mentioning

AGENTS = Path("/usr/lib/ocf/resource.d/heartbeat")
APACHE2 = Path("/usr/sbin/apache2")
APACHE_MODULES = Path("/usr/lib/apache2/modules")
PORT = 8080  # inside the node namespaces, where nothing else listens
GROUP = ("webip", "webfs", "webserver")
#: Every tool the agents and the fixtures run, and the Debian package that has it.
TOOLS = {"mkfs.ext4": "e2fsprogs", "losetup": "mount", "fuser": "psmisc", "fsck": "util-linux",
         "unshare": "util-linux", "perl": "perl-base"}

pytestmark = [
    *NETNS_SKIPS,
    *[pytest.mark.skipif(not (AGENTS / a).exists(), reason=f"{AGENTS / a} is missing (Debian package resource-agents)")
      for a in ("IPaddr2", "Filesystem", "apache")],
    pytest.mark.skipif(not APACHE2.exists(), reason=f"{APACHE2} is missing (Debian package apache2)"),
    *[pytest.mark.skipif(shutil.which(t) is None, reason=f"'{t}' is missing (Debian package {p})")
      for t, p in TOOLS.items()],
]


@dataclass
class SharedDisk:
    """An ext4 file system in an image file, attached to a loop device: the disk the group mounts."""

    work: Path
    device: str
    mountpoint: Path
    marker: str

    @property
    def apache_conf(self) -> Path:
        return self.work / "apache" / "httpd.conf"


def sh(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True)


def apache_config(mountpoint: Path, root: Path, log: Path) -> str:
    """A minimal apache serving ``mountpoint``, with the status page the agent's monitor reads.

    No PidFile: the agent then passes its own, under ``HA_VARRUN`` (the node's
    run directory in the lab); the runtime directory is the node's too. The
    error log goes with the lab's logs, so a failed step shows its end.
    """
    modules = ["mpm_event", "authz_core", "authz_host", "dir", "status"]
    loads = "\n".join(f"LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so" for m in modules)
    return f"""ServerRoot "{root}"
ServerName localhost
Listen {PORT}
{loads}
User www-data
Group www-data
DefaultRuntimeDir ${{HA_VARRUN}}
ErrorLog "{log}"
LogLevel warn
DocumentRoot "{mountpoint}"
DirectoryIndex index.html
<Directory "{mountpoint}">
    Require all granted
</Directory>
<Location /server-status>
    SetHandler server-status
    Require local
</Location>
"""


@pytest.fixture(scope="module")
def disk() -> Iterator[SharedDisk]:
    # Not under pytest's folder (mode 0700): apache's workers (www-data) must reach the mount point.
    work = Path(tempfile.mkdtemp(prefix="paceline-webfs-"))
    work.chmod(0o755)
    device = ""
    try:
        marker = f"tutorial group {uuid.uuid4().hex}"
        content, image, mountpoint = work / "content", work / "disk.img", work / "www"
        content.mkdir()
        mountpoint.mkdir()
        (content / "index.html").write_text(f"<html><body><h1>{marker}</h1></body></html>\n")
        with open(image, "wb") as f:
            f.truncate(16 << 20)
        made = sh("mkfs.ext4", "-q", "-F", "-d", str(content), str(image))
        assert made.returncode == 0, f"mkfs.ext4 -d failed: {made.stderr}"
        attached = sh("losetup", "-f", "--show", str(image))
        if attached.returncode != 0:
            pytest.skip(f"no loop device to attach the file system to (losetup -f: {attached.stderr.strip()})")
        device = attached.stdout.strip()
        tried = sh("unshare", "--mount", "sh", "-c", f"mount -t ext4 {device} {mountpoint} && umount {mountpoint}")
        if tried.returncode != 0:
            pytest.skip(f"this machine cannot mount {device} (as Filesystem would): {tried.stderr.strip()}")
        (work / "apache").mkdir()
        yield SharedDisk(work, device, mountpoint, marker)
    finally:
        if device:
            sh("losetup", "-d", device)
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def story(disk: SharedDisk, tmp_path_factory) -> Iterator[NetnsStory]:
    with netns_story(tmp_path_factory.mktemp("netns-lab"), PORT) as s:
        s.marker = disk.marker
        disk.apache_conf.write_text(apache_config(disk.mountpoint, disk.apache_conf.parent,
                                                  s.lab_dir / "logs" / "apache-webserver.log"))
        yield s
    assert processes_mentioning(disk.apache_conf) == [], "web servers left behind"


# ---------------------------------------------------------------- where things really are
def executor_pid(story: NetnsStory, node: str) -> int | None:
    """The node's executor: its mount namespace is the one the node's agents mount in."""
    return Lab.load(story.lab_dir).procs.get(f"{node}/executor")


def mounted_on(story: NetnsStory, disk: SharedDisk, node: str) -> bool:
    """Whether the disk is mounted at the mount point as the node's agents see it."""
    pid = executor_pid(story, node)
    try:
        lines = Path(f"/proc/{pid}/mountinfo").read_text().splitlines() if pid else []
    except OSError:  # the node just died
        return False
    # mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
    return any(line.split()[4] == str(disk.mountpoint) and line.split(" - ")[1].split()[:2] == ["ext4", disk.device]
               for line in lines)


def serves_on(story: NetnsStory, disk: SharedDisk, node: str) -> bool:
    """Whether an apache of our configuration runs in the node's network namespace."""
    ns = story.plan.namespace(node)
    if ns not in existing_namespaces():
        return False
    for pid in sh("ip", "netns", "pids", ns).stdout.split():
        try:
            if str(disk.apache_conf).encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def overlaps(readings: list[tuple[str, bool]]) -> list[tuple[str, str]]:
    """Nodes seen active at the same moment, from readings taken one node after the other, in time order.

    Two readings are never simultaneous, so one node holding at a reading is
    counted as an overlap with another only when that other node held both at
    its reading just before and at its reading just after: a move between the
    two never looks like an overlap, and one that spans those three readings
    is always found (one shorter than a sample can slip between samples).
    """
    found = []
    for i, (node, held) in enumerate(readings):
        if not held:
            continue
        for other in {n for n, _ in readings} - {node}:
            before = [h for n, h in readings[:i] if n == other][-1:]
            after = [h for n, h in readings[i + 1:] if n == other][:1]
            if before == after == [True]:
                found.append((other, node))
    return found


@dataclass
class Sampler:
    """Samples, until stopped, where each resource of the group is active: by the status page (``active_on``)
    and by the machines themselves (the address, the mount, the apache processes)."""

    story: NetnsStory
    disk: SharedDisk
    interval: float = 0.25
    samples: int = 0
    seen: dict[str, set[str]] = field(default_factory=dict)  # what -> the nodes it was ever seen active on
    problems: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def probes(self) -> dict[str, Callable[[str], bool]]:
        return {"address": lambda n: self.story.plan.floating() in self.story.addresses(n),
                "mount": lambda n: mounted_on(self.story, self.disk, n),
                "apache": lambda n: serves_on(self.story, self.disk, n)}

    def sample(self) -> None:
        at = time.strftime("%H:%M:%S")
        for what, probe in self.probes().items():
            readings = [(n, probe(n)) for _ in range(2) for n in self.story.plan.nodes]
            self.seen.setdefault(what, set()).update(n for n, held in readings if held)
            self.problems += [f"{at} {what} active on {a} and {b}" for a, b in overlaps(readings)]
        done = self.story.run("status", "--output-as", "json", ok=False, quiet=True)
        if done.returncode == 0:
            for entry in walk(json.loads(done.stdout)["resources"]):
                if len(entry.get("active_on", [])) > 1:
                    self.problems.append(f"{at} the status shows {entry['id']} active on {entry['active_on']}")
        self.samples += 1

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sample()
            except Exception as exc:  # reported by the test, not lost with the thread
                self.problems.append(f"the sampler failed: {exc!r}")
                return

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, name="where-is-it", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)


# ---------------------------------------------------------------- the steps
def group_on(node: str | None) -> Callable[[Status], bool]:
    """Every member of the group started on ``node`` (None: on any one node)."""
    def check(st: Status) -> bool:
        where = {st.started_on(rsc) for rsc in GROUP}
        return len(where) == 1 and None not in where and (node is None or where == {node})
    return check


def served_from(story: NetnsStory, disk: SharedDisk, node: str) -> None:
    """The page with the file system's marker comes through the floating address from ``node``, the only node
    with the address, the mount and apache."""
    story.served_from(node)
    for what, probe in (("mounted", mounted_on), ("serving", serves_on)):
        where = [n for n in story.plan.nodes if probe(story, disk, n)]
        if where != [node]:
            raise story.failed(f"the file system should be {what} on {node} only, it is on {where}")
    if (disk.mountpoint / "index.html").exists():
        raise story.failed(f"{disk.mountpoint} shows the file system's content outside the node's mount namespace")


def test_the_tutorial_group_fails_over_with_its_file_system(story: NetnsStory, disk: SharedDisk):
    started = time.monotonic()
    took: dict[str, float] = {}
    fence_log = disk.work / "fence.log"
    with Sampler(story, disk) as sampler:
        for words in (["property", "stonith-enabled=true", "no-quorum-policy=ignore"],
                      ["rsc_defaults", "resource-stickiness=100"],
                      ["primitive", "fencer", "stonith:fence_paceline", "params", "hosts=primary,secondary",
                       f"state_dir={disk.work / 'power'}", f"log={fence_log}", "op", "monitor", "interval=10s"],
                      ["primitive", "webip", "ocf:heartbeat:IPaddr2", "params", f"ip={story.plan.floating()}",
                       "cidr_netmask=24", f"nic={story.plan.nic}", "op", "monitor", "interval=5s", "timeout=20s"],
                      ["primitive", "webfs", "ocf:heartbeat:Filesystem", "params", f"device={disk.device}",
                       f"directory={disk.mountpoint}", "fstype=ext4",
                       "op", "start", "timeout=60s", "op", "stop", "timeout=60s",
                       "op", "monitor", "interval=5s", "timeout=40s"],
                      ["primitive", "webserver", "ocf:heartbeat:apache", "params", f"configfile={disk.apache_conf}",
                       f"httpd={APACHE2}", f"statusurl=http://localhost:{PORT}/server-status",
                       "op", "start", "timeout=40s", "op", "stop", "timeout=60s",
                       "op", "monitor", "interval=5s", "timeout=20s"],
                      ["group", "webservice", *GROUP]):
            story.run("configure", *words)
        at = time.monotonic()
        st = story.wait_for("the group is started", group_on(None), timeout=40)
        took["start"] = time.monotonic() - at
        holder = st.started_on("webip")
        assert holder is not None
        mount_namespaces = {os.readlink(f"/proc/{executor_pid(story, n)}/ns/mnt") for n in story.plan.nodes}
        assert len(mount_namespaces | {os.readlink("/proc/self/ns/mnt")}) == 3, \
            "each node's agents should mount in a namespace of their own, not the other node's nor the host's"
        served_from(story, disk, holder)
        print(f"\n$ paceline status\n{st.text}")

        other = next(n for n in story.plan.nodes if n != holder)
        at = time.monotonic()
        story.run("node", "standby", holder)
        story.wait_for(f"the group runs on {other}", group_on(other), timeout=40)
        took["standby move"] = time.monotonic() - at
        served_from(story, disk, other)
        story.run("node", "online", holder)
        story.wait_for(f"{holder} is online, the group still on {other} (stickiness)",
                       lambda st: holder in st.online and group_on(other)(st), timeout=40)

        with BusRecorder(Lab.load(story.lab_dir)) as rec:
            at = time.monotonic()
            story.run("lab", "kill", other)  # the node running the group crashes
            story.wait_for(f"the group runs on {holder} after {other} died",
                           lambda st: other in st.offline and group_on(holder)(st), timeout=40)
            took["node loss"] = time.monotonic() - at
        served_from(story, disk, holder)
        lines = fence_log.read_text().splitlines() if fence_log.exists() else []
        assert any(line.split()[1:3] == ["reboot", other] for line in lines), f"{other} was not fenced: {lines}"
        # Shared storage is mounted by the survivor only once the dead node is known to be off.
        fenced = rec.index(lambda kind, body: kind == "fenced" and body["target"] == other and body["result"] == "ok")
        mounted = rec.index(lambda kind, body: kind == "op.result" and body["rsc"] == "webfs"
                            and body["task"] == "start" and body["node"] == holder)
        assert fenced < mounted, f"webfs was mounted on {holder} before {other} was fenced: {rec.events}"

        story.run("lab", "revive", other)
        story.wait_for(f"{other} is back, the group stays on {holder}",
                       lambda st: sorted(st.online) == sorted(story.plan.nodes) and group_on(holder)(st), timeout=40)
        served_from(story, disk, holder)
    print(f"the tutorial group: {time.monotonic() - started:.1f}s in all; "
          + ", ".join(f"{step} {secs:.1f}s" for step, secs in took.items())
          + f"; {sampler.samples} samples, seen active: {sampler.seen}")
    assert sampler.problems == [], "\n".join(sampler.problems)
    assert sampler.samples >= 10, f"only {sampler.samples} samples were taken"
    assert all(sampler.seen.get(what) == set(story.plan.nodes) for what in ("address", "mount", "apache")), \
        f"the sampler should have seen every part of the group on both nodes, it saw {sampler.seen}"
