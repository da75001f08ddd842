"""The real ocf:heartbeat:IPaddr2 in the netns lab: the floating address moves, and HTTP follows it.

How the address and the web server are reached, and which node answered, is
read as :mod:`tests.e2e.netns_lab` describes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.netns_lab import NETNS_SKIPS, NetnsStory, netns_story

IPADDR2 = Path("/usr/lib/ocf/resource.d/heartbeat/IPaddr2")
PORT = 8080  # inside the node namespaces, where nothing else listens

pytestmark = [
    *NETNS_SKIPS,
    pytest.mark.skipif(not IPADDR2.exists(), reason=f"{IPADDR2} is missing (Debian package resource-agents)"),
]


@pytest.fixture(scope="module")
def story(tmp_path_factory) -> Iterator[NetnsStory]:
    with netns_story(tmp_path_factory.mktemp("netns-lab"), PORT) as s:
        s.docroot = tmp_path_factory.mktemp("docroot")
        (s.docroot / "index.html").write_text("<h1>Served by Paceline</h1>\n")
        yield s


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
