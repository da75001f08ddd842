"""Remote nodes (``ocf:pacemaker:remote`` connections) and guest nodes (``remote-node`` on a VM) in the scheduler.

Each summary here is what Debian's crm_simulate 2.1.5 prints for the same CIB (checked with
../shared/tools/pcmk_oracle.py when the test was written); the graph checks are Pacemaker's orderings
around a connection (pcmk__order_remote_connection_actions).
"""

from __future__ import annotations

import pytest
from paceline.policy.graph import Action
from paceline.policy.scheduler import ScheduleResult
from paceline.shared.cib import parse_cib
from paceline.shared.cluster import remote, render_status, unpack
from paceline.shared.lrm import pacemaker_digest, params_digest

from tests.support.cibs import NOW, cib, folded, lrm_rsc, node_state, nvpairs, op, prim, run, up
from tests.support.crm_mon_oracle import CASES, CRM_MON, MISSING, compare

FENCING = {"stonith-enabled": "true"}
SHOOTER = '<primitive id="shooter" class="stonith" type="fence_xvm"/>'


def connection(rid: str = "remote1", meta: dict[str, str] | None = None, params: dict[str, str] | None = None) -> str:
    """An ocf:pacemaker:remote primitive: the connection that makes node ``rid``."""
    meta_xml = f'<meta_attributes id="{rid}-meta">{nvpairs(rid, meta)}</meta_attributes>' if meta else ""
    params_xml = f'<instance_attributes id="{rid}-ia">{nvpairs(rid + "-p", params)}</instance_attributes>' \
        if params else ""
    return (f'<primitive id="{rid}" class="ocf" provider="pacemaker" type="remote">{params_xml}{meta_xml}'
            f'<operations><op id="{rid}-mon" name="monitor" interval="60s" timeout="30s"/></operations></primitive>')


def conn_history(rid: str, *ops: str) -> str:
    return f'<lrm_resource id="{rid}" class="ocf" provider="pacemaker" type="remote">{"".join(ops)}</lrm_resource>'


def remote_state(name: str, lrm: str = "", attrs: dict[str, str] | None = None) -> str:
    """A remote or guest node's status entry (no membership of its own)."""
    transient = ""
    if attrs:
        transient = (f'<transient_attributes id="{name}"><instance_attributes id="status-{name}">'
                     f'{nvpairs(name, attrs)}</instance_attributes></transient_attributes>')
    return (f'<node_state id="{name}" uname="{name}" remote_node="true">{transient}'
            f'<lrm id="{name}"><lrm_resources>{lrm}</lrm_resources></lrm></node_state>')


def started(rid: str, call: int = 1) -> str:
    return lrm_rsc(rid, op(rid, "start", call=call, digest=params_digest({})))


def pin(rid: str, node: str, score: str = "INFINITY") -> str:
    return f'<rsc_location id="loc-{rid}" rsc="{rid}" node="{node}" score="{score}"/>'


def actions_by_key(result: ScheduleResult) -> dict[tuple[str | None, str, str | None], Action]:
    return {(a.rsc, a.task, a.node): a for a in result.graph.actions if a.interval_ms == 0}


# ---------------------------------------------------------------- remote nodes


def test_a_connection_resource_makes_a_node_that_runs_resources_once_connected():
    result = run(cib(connection() + prim("app"), node_state("node1") + node_state("node2"), pin("app", "remote1")))
    assert folded(result) == ["* Start remote1 ( node1 )", "* Start app ( remote1 )"]
    by_key = actions_by_key(result)
    conn_start = by_key[("remote1", "start", "node1")]
    # The probe and the start on the remote node wait for the connection.
    assert conn_start.id in by_key[("app", "start", "remote1")].inputs
    assert conn_start.id in by_key[("app", "monitor", "remote1")].inputs
    # Connections and fence devices never run on a remote node, nor are they probed there.
    assert "pcmk__primitive_assign: remote1 allocation score on remote1: -INFINITY" in result.scores
    assert ("remote1", "monitor", "remote1") not in by_key


def test_fence_devices_stay_off_remote_nodes():
    result = run(cib(SHOOTER + connection(), node_state("node1") + node_state("node2")))
    assert "pcmk__primitive_assign: shooter allocation score on remote1: -INFINITY" in result.scores
    assert not any(a.rsc == "shooter" and a.node == "remote1" for a in result.graph.actions)


def test_the_node_comes_from_the_configuration_and_keeps_its_nodes_section_attributes():
    xml = cib(connection(), node_state("node1") + node_state("node2") + remote_state("remote1"),
              extra_config="")
    xml = xml.replace("</nodes>", '<node id="remote1" uname="remote1" type="remote"><instance_attributes '
                                  'id="r-ia"><nvpair id="r-role" name="role" value="compute"/>'
                                  '</instance_attributes></node></nodes>')
    state = unpack(parse_cib(xml), NOW)
    node = state.nodes["remote1"]
    assert (node.kind, node.remote_rsc, node.attrs["role"], node.attrs["#kind"]) == ("remote", "remote1",
                                                                                   "compute", "remote")
    assert not node.online         # its connection does not run yet


def test_resources_on_a_remote_node_stop_before_its_connection_stops():
    status = (node_state("node1", lrm=conn_history("remote1", op("remote1", "start", digest=params_digest({}))))
              + node_state("node2") + remote_state("remote1", lrm=started("app")))
    result = run(cib(connection(meta={"target-role": "Stopped"}) + prim("app"), status,
                     pin("app", "remote1", "100")))
    assert folded(result) == ["* Stop remote1 ( node1 ) due to node availability",
                              "* Move app ( remote1 -> node1 )"]
    by_key = actions_by_key(result)
    assert by_key[("app", "stop", "remote1")].id in by_key[("remote1", "stop", "node1")].inputs


def test_a_failed_connection_is_recovered_and_the_remote_node_fenced():
    failed = conn_history("remote1", op("remote1", "start", call=1, digest=params_digest({})),
                          op("remote1", "monitor", rc=1, call=2, interval=60000, expected=0))
    status = node_state("node1", lrm=failed) + node_state("node2") + remote_state("remote1", lrm=started("app"))
    result = run(cib(SHOOTER + connection() + prim("app"), status, pin("app", "remote1"), options=FENCING))
    assert folded(result)[0] == "* Fence (reboot) remote1 'remote connection is unrecoverable'"
    assert "* Recover remote1 ( node1 )" in folded(result)
    # The stop on the fenced node is implied by the fencing: no action goes to it.
    assert not any(a.rsc == "app" and a.task == "stop" and not a.pseudo for a in result.graph.actions)


def test_a_remote_node_whose_connection_was_lost_is_fenced_only_if_it_cannot_come_back():
    # The connection stopped running, its node's resource still shows active: the connection is started
    # again elsewhere, and the fencing is revoked (the node was "unseen").
    status = node_state("node1") + node_state("node2") + remote_state("remote1", lrm=started("app"))
    back = run(cib(SHOOTER + connection() + prim("app"), status, pin("app", "remote1"), options=FENCING))
    assert folded(back) == ["* Start shooter ( node2 )", "* Start remote1 ( node1 )"]
    # The connection may run nowhere: the node is fenced and what ran there counts as stopped.
    gone = run(cib(SHOOTER + connection(meta={"target-role": "Stopped"}) + prim("app"), status,
                   pin("app", "remote1"), options=FENCING))
    assert folded(gone)[0] == ("* Fence (reboot) remote1 'app is active there (fencing will be revoked if remote "
                               "connection can be re-established elsewhere)'")
    assert folded(gone)[1:] == ["* Start shooter ( node1 )", "* Move app ( remote1 -> node2 )"]


def test_an_orphaned_connection_stops_and_its_node_with_it():
    history = conn_history("remote1", op("remote1", "start", digest=params_digest({})))
    status = node_state("node1", lrm=history) + node_state("node2") + remote_state("remote1", lrm=started("app"))
    result = run(cib(prim("app"), status))
    assert folded(result) == ["* Move app ( remote1 -> node1 )",
                              "* Stop remote1 ( node1 ) due to node availability"]
    # The node is in no resource's default table: it came from the history only.
    assert not any("on remote1" in line for line in result.scores)


# ---------------------------------------------------------------- guest nodes


def vm(meta: dict[str, str] | None = None) -> str:
    return prim("vm", meta={"remote-node": "guest1", **(meta or {})}, monitor="10s")


def test_a_vm_with_remote_node_makes_a_guest_node_with_an_implicit_connection():
    result = run(cib(vm() + prim("app"), node_state("node1") + node_state("node2"), pin("app", "guest1")))
    assert folded(result) == ["* Start vm ( node1 )", "* Start app ( guest1 )", "* Start guest1 ( node1 )"]
    state = result.state
    node = state.nodes["guest1"]
    conn = state.by_id["guest1"]
    assert (node.kind, node.attrs["#kind"], conn.launcher.id if conn.launcher else None) == ("guest", "container",
                                                                                           "vm")
    assert [(o.name, o.interval_ms, o.timeout_ms) for o in conn.ops] == [("monitor", 30000, 30000),
                                                                          ("start", 0, 60000)]
    by_key = actions_by_key(result)
    assert by_key[("vm", "start", "node1")].id in by_key[("guest1", "start", "node1")].inputs
    assert by_key[("guest1", "start", "node1")].id in by_key[("app", "start", "guest1")].inputs
    # The VM itself never runs on a remote or guest node (no nesting).
    assert "pcmk__primitive_assign: vm allocation score on guest1: -INFINITY" in result.scores


def test_remote_connect_timeout_and_address_reach_the_implicit_connection():
    result = run(cib(vm({"remote-addr": "10.0.0.9", "remote-port": "3122", "remote-connect-timeout": "90s"}),
                     node_state("node1") + node_state("node2")))
    conn = result.state.by_id["guest1"]
    assert conn.params == {"addr": "10.0.0.9", "port": "3122"}
    assert [(o.name, o.timeout_ms) for o in conn.ops if o.name == "start"] == [("start", 90000)]


def failed_vm() -> ScheduleResult:
    """A VM whose monitor failed, its guest running ``app``."""
    vm_history = lrm_rsc("vm", op("vm", "start", call=1, digest=params_digest({})),
                         op("vm", "monitor", rc=1, call=2, interval=10000, expected=0))
    guest_conn = conn_history("guest1", op("guest1", "start", call=3, digest=pacemaker_digest({})))
    status = (node_state("node1", lrm=vm_history + guest_conn) + node_state("node2")
              + remote_state("guest1", lrm=started("app")))
    return run(cib(vm() + prim("app"), status, pin("app", "guest1")))


def test_a_failed_vm_fences_its_guest_by_recovery():
    result = failed_vm()
    assert folded(result) == ["* Fence (reboot) guest1 (resource: vm) 'guest is unclean'",
                              "* Recover vm ( node1 )", "* Recover app ( guest1 )",
                              "* Restart guest1 ( node1 ) due to required vm start"]


def test_a_resource_whose_container_is_a_guest_vm_runs_on_the_guest():
    app = prim("app", meta={"container": "vm"})
    result = run(cib(vm() + app, node_state("node1") + node_state("node2")))
    assert "* Start app ( guest1 )" in folded(result)
    assert "pcmk__primitive_assign: app allocation score on node1: -INFINITY" in result.scores


# ---------------------------------------------------------------- status


def test_status_lists_remote_and_guest_nodes_as_crm_mon_does(tmp_path):
    status = (node_state("node1", lrm=conn_history("remote1", op("remote1", "start", digest=params_digest({})))
                         + started("vm") + conn_history("guest1", op("guest1", "start", digest=params_digest({}))))
              + node_state("node2") + remote_state("remote1") + remote_state("guest1"))
    xml = cib(connection() + vm(), status)
    page = render_status(unpack(parse_cib(xml), NOW))
    assert page[1:4] \
        == ["    * Online: [ node1 node2 ]", "    * RemoteOnline: [ remote1 ]", "    * GuestOnline: [ guest1 ]"]
    if CRM_MON is not None:         # and the whole page is Debian's crm_mon's
        path = tmp_path / "cib.xml"
        path.write_text(xml)
        assert compare(path, ["inactive"]) == []


def test_remote_module_names_nodes_and_connections():
    state = unpack(parse_cib(cib(connection() + vm(), node_state("node1") + node_state("node2"))), NOW)
    assert remote.node_of(state, state.by_id["remote1"]) is state.nodes["remote1"]
    assert remote.guest_container(state, state.nodes["guest1"]) is state.by_id["vm"]
    assert remote.guest_of_container(state, state.by_id["vm"]) is state.nodes["guest1"]
    assert remote.node_of(state, state.by_id["vm"]) is None


def test_a_remote_node_may_not_take_a_cluster_nodes_name():
    result = run(cib(connection("node2"), node_state("node1") + node_state("node2")))
    assert result.state.config_errors == ["remote node 'node2': a cluster node has that name; no remote node made"]
    assert result.state.nodes["node2"].kind == "cluster"


#: Shared Pacemaker cases with remote and guest nodes whose status page is Debian's crm_mon's, line for line
#: (every such case that matched when this was written, bundles aside).
CRM_MON_SAME = ["bug-cl-5247", "container-is-remote-node", "guest-node-host-dies", "remote-fence-unclean2",
                "remote-orphaned", "remote-recover", "remote-start-fail", "remote-startup-probes",
                "whitebox-fail2", "whitebox-imply-stop-on-fence", "whitebox-move", "whitebox-orphan-ms",
                "whitebox-unexpectedly-running"]


@pytest.mark.skipif(CRM_MON is None, reason=MISSING)
def test_remote_cases_status_pages_are_crm_mons(shared_dir):
    failing = {name: diff for name in CRM_MON_SAME
               if (diff := compare(CASES / "xml" / f"{name}.xml", ["inactive"]))}
    assert not failing, "\n".join(f"{name}:\n" + "\n".join(diff) for name, diff in failing.items())


def test_a_guests_fencing_is_a_pseudo_action_after_its_containers_stop():
    result = failed_vm()
    fence = next(a for a in result.graph.actions if a.task == "stonith")
    # The fencer is never asked: the container's recovery is the fencing; the engine completes it at once.
    assert (fence.node, fence.pseudo) == ("guest1", True)
    assert actions_by_key(result)[("vm", "stop", "node1")].id in fence.inputs
    # The status shows the guest as the CIB has it, before the scheduler planned its return.
    assert "GuestOnline" not in "\n".join(render_status(result.state))


def test_strange_remote_configurations_are_scheduled_without_fuss():
    odd = [
        # a guest named like a resource: refused, said once
        (prim("app") + prim("vm", meta={"remote-node": "app"}), "guest node 'app'"),
        # a VM naming itself as its guest
        (prim("vm", meta={"remote-node": "vm"}), "guest node 'vm'"),
        # a guest inside a clone (Pacemaker makes none either), a connection inside a group
        ('<clone id="c">' + prim("cvm", meta={"remote-node": "g9"}) + "</clone>"
         + '<group id="grp">' + connection("r9") + "</group>", None),
    ]
    for resources, error in odd:
        result = run(cib(resources, node_state("node1") + node_state("node2") + remote_state("ghost")))
        assert "g9" not in result.state.nodes and "r9" not in result.state.nodes
        if error is not None:
            assert any(e.startswith(error) for e in result.state.config_errors), result.state.config_errors


def test_a_connection_whose_host_died_moves_and_its_node_is_fenced_only_if_it_cannot():
    conn = conn_history("remote1", op("remote1", "start", digest=pacemaker_digest({})))
    shooter = lrm_rsc("shooter", op("shooter", "start", digest=pacemaker_digest({}))).replace(
        'class="ocf" provider="heartbeat" type="Dummy"', 'class="stonith" type="fence_xvm"')
    died = node_state("node1", online=False, lrm=conn).replace('expected="down"', 'expected="member"')
    status = died + node_state("node2", lrm=shooter) + remote_state("remote1", lrm=up("app"))
    resting = run(cib(SHOOTER + connection() + prim("app"), status, pin("app", "remote1"), options=FENCING))
    assert folded(resting) == ["* Fence (reboot) node1 'peer is no longer part of the cluster'",
                               "* Move remote1 ( node1 -> node2 )"]
    nowhere = run(cib(SHOOTER + connection() + prim("app"), status,
                      pin("app", "remote1") + pin("remote1", "node2", "-INFINITY"), options=FENCING))
    assert folded(nowhere) == ["* Fence (reboot) remote1 'resources are active but connection is unrecoverable'",
                               "* Fence (reboot) node1 'peer is no longer part of the cluster'",
                               "* Stop remote1 ( node1 ) due to node availability",
                               "* Move app ( remote1 -> node2 )"]


def test_a_connection_with_allow_migrate_migrates_and_its_nodes_resources_stay():
    conn = conn_history("remote1", op("remote1", "start", digest=pacemaker_digest({})))
    status = node_state("node1", lrm=conn) + node_state("node2") + remote_state("remote1", lrm=up("app"))
    moved = pin("remote1", "node1", "-INFINITY")
    result = run(cib(connection(meta={"allow-migrate": "true"}) + prim("app"), status, pin("app", "remote1") + moved))
    assert folded(result) == ["* Migrate remote1 ( node1 -> node2 )"]
    # What must move off the node anyway does not keep the connection from migrating.
    leaving = run(cib(connection(meta={"allow-migrate": "true"}) + prim("app"), status,
                      pin("app", "remote1", "10") + pin("app", "node2", "50") + moved))
    assert folded(leaving) == ["* Migrate remote1 ( node1 -> node2 )", "* Move app ( remote1 -> node2 )"]


def test_a_reconnect_interval_keeps_a_monitor_failure_until_the_node_was_fenced():
    failed = conn_history("remote1", op("remote1", "start", call=1, digest=pacemaker_digest({})),
                          op("remote1", "monitor", rc=1, call=2, interval=60000, expected=0))
    shooter = lrm_rsc("shooter", op("shooter", "start", digest=pacemaker_digest({}))).replace(
        'class="ocf" provider="heartbeat" type="Dummy"', 'class="stonith" type="fence_xvm"')

    def plan(fenced: str) -> list[str]:
        node = remote_state("remote1", lrm=up("app")).replace('remote_node="true"',
                                                              f'remote_node="true" node_fenced="{fenced}"')
        status = node_state("node1", lrm=failed) + node_state("node2", lrm=shooter) + node
        return folded(run(cib(SHOOTER + connection(params={"reconnect_interval": "30s"}) + prim("app"), status,
                              pin("app", "remote1", "100"), options=FENCING)))

    # The failure (100 s old) outlived the 30 s interval, but the node was never fenced: fence it now.
    assert plan("0") == ["* Fence (reboot) remote1 'remote connection is unrecoverable'",
                         "* Stop remote1 ( node1 ) due to node availability", "* Move app ( remote1 -> node1 )"]
    # Once fenced, the failure expires: the connection comes back (restarted: its parameters changed here),
    # and what runs behind it is left alone.
    assert plan("1") == ["* Restart remote1 ( node1 ) due to resource definition change"]
