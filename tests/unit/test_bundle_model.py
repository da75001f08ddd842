"""The bundle expansion (paceline.shared.cluster.bundle): names, parameters and the guest nodes Pacemaker makes.

The parameters are compared with what Pacemaker's ``pe__unpack_bundle`` writes, since the op digests a CIB's
history records were taken over exactly those values.
"""

from __future__ import annotations

from lxml import etree
from paceline.shared.cluster import bundle
from paceline.shared.cluster.unpack import unpack

BUNDLE = """
<bundle id="web">
  <podman image="img:1" replicas="2" options="--log-driver=journald"/>
  <network ip-range-start="10.0.0.254" host-interface="eth0" host-netmask="24">
    <port-mapping id="p80" port="80"/>
  </network>
  <storage>
    <storage-mapping id="root" source-dir-root="/srv" target-dir="/var/www" options="rw"/>
  </storage>
  <primitive id="httpd" class="ocf" provider="heartbeat" type="apache"/>
</bundle>
"""


def _spec(text: str = BUNDLE) -> bundle.BundleSpec:
    spec = bundle.parse(etree.fromstring(text))
    assert spec is not None
    return spec


def _params(el: etree._Element | None) -> dict[str, str]:
    assert el is not None
    return {nv.get("name", ""): nv.get("value", "") for nv in el.iterfind("instance_attributes/nvpair")}


def test_addresses_wrap_into_the_next_subnet_octet() -> None:
    assert bundle.addresses(_spec()) == ["10.0.0.254", "10.0.1.1"]
    assert bundle.next_ip("10.0.254.9") is None
    assert bundle.next_ip("fe80::1") is None


def test_replica_names_follow_pacemaker() -> None:
    replicas = bundle.replica_elements(_spec())
    assert [r.container.get("id") for r in replicas] == ["web-podman-0", "web-podman-1"]
    assert [r.ip.get("id") for r in replicas if r.ip is not None] == ["web-ip-10.0.0.254", "web-ip-10.0.1.1"]
    assert [r.remote.get("id") for r in replicas if r.remote is not None] == ["web-0", "web-1"]
    clone = bundle.clone_element(_spec())
    assert clone is not None and clone.get("id") == "web-clone"


def test_container_parameters() -> None:
    first = bundle.replica_elements(_spec())[0]
    params = _params(first.container)
    assert params["image"] == "img:1"
    assert params["run_opts"] == (
        " -h web-0 -e PCMK_stderr=1 -e PCMK_remote_port=3121 -v /srv/web-0:/var/www:rw"
        " -v /etc/pacemaker/authkey:/etc/pacemaker/authkey -v /var/log/pacemaker/bundles/web-0:/var/log"
        " -p 10.0.0.254:80:80 -p 10.0.0.254:3121:3121 --log-driver=journald "
        " --add-host=web-0:10.0.0.254 --add-host=web-1:10.0.1.1")
    assert params["mount_points"] == "/srv/web-0,/var/log/pacemaker/bundles/web-0"
    assert params["run_cmd"] == "/usr/sbin/pacemaker-remoted"
    assert _params(first.ip) == {"ip": "10.0.0.254", "nic": "eth0", "cidr_netmask": "24"}
    assert _params(first.remote) == {"addr": "10.0.0.254", "port": "3121"}


def test_without_a_primitive_only_containers() -> None:
    spec = _spec('<bundle id="b"><docker image="i" network="host"/></bundle>')
    replica = bundle.replica_elements(spec)[0]
    assert replica.remote is None and replica.ip is None
    assert _params(replica.container)["run_opts"] == " --restart=no -e PCMK_stderr=1 --net=host " \
        "-e PCMK_remote_port=3121 "
    assert bundle.clone_element(spec) is None


def test_promoted_bundle_clone_keeps_the_master_name() -> None:
    spec = _spec('<bundle id="db"><docker image="i" promoted-max="1"/><network control-port="3123"/>'
                 '<primitive id="s" class="ocf" provider="pacemaker" type="Stateful"/></bundle>')
    assert spec.replicas == 1 and spec.clone_id == "db-master"
    replica = bundle.replica_elements(spec)[0]
    assert replica.remote is not None and _params(replica.remote) == {"addr": "#uname", "port": "3123"}


def test_unpack_makes_guest_nodes_and_instances() -> None:
    cib = etree.fromstring(
        '<cib><configuration><crm_config/><nodes><node id="1" uname="n1"/></nodes>'
        f'<resources>{BUNDLE}</resources><constraints/></configuration><status/></cib>')
    state = unpack(cib, 0)
    web = state.by_id["web"]
    assert web.bundle is not None
    assert [r.node for r in web.bundle.replicas] == ["web-0", "web-1"]
    assert [r.child.id for r in web.bundle.replicas if r.child is not None] == ["httpd:0", "httpd:1"]
    assert state.nodes["web-0"].kind == "guest" and state.nodes["web-0"].bundle_node
    assert state.by_id["web-1"].launcher is state.by_id["web-podman-1"]
    assert state.by_id["httpd:1"].pinned == {"web-1": 500}
