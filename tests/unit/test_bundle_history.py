"""A bundled resource's history belongs to the replica whose guest node it is on; anywhere else it is an
orphan's (``pe__find_bundle_replica``), as crm_simulate 2.1.5 shows for this CIB: a primitive that ran on a
cluster node before it was put in a bundle is stopped there as an orphan, not moved into a replica."""

from __future__ import annotations

from tests.support.cibs import cib, folded, node_state, run, running

BUNDLE = ('<bundle id="web"><podman image="img" replicas="2"/><network control-port="3121"/>'
          '<primitive id="wd" class="ocf" provider="heartbeat" type="Dummy"/></bundle>')


def test_a_bundled_resources_history_on_a_cluster_node_is_an_orphans():
    status = node_state("primary", lrm=running("wd")) + node_state("secondary")
    result = run(cib(BUNDLE, status, nodes=("primary", "secondary")))
    assert folded(result) == ["* Start web-podman-0 ( primary )", "* Start web-0 ( primary )",
                              "* Start wd:0 ( web-0 )", "* Start web-podman-1 ( secondary )",
                              "* Start web-1 ( secondary )", "* Start wd:1 ( web-1 )",
                              "* Stop wd ( primary ) due to node availability"]
    assert result.state.by_id["wd"].orphan


def test_the_orphan_does_not_take_the_history_a_replica_made_on_its_guest_node():
    guest = node_state("web-0", lrm=running("wd"))      # its container and connection run on primary
    host = running("wd") + running("web-podman-0", call=2) + running("web-0", call=3)
    status = node_state("primary", lrm=host) + node_state("secondary") + guest
    result = run(cib(BUNDLE, status, nodes=("primary", "secondary")))
    assert result.state.by_id["wd:0"].status.active_on == ["web-0"]
    assert result.state.by_id["wd"].status.active_on == ["primary"]
