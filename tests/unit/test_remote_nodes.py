"""Remote nodes at run time, the pure parts: which resources are connections, the link a remote executor
follows, a connection operation's result, what the remote credential and the host may do, and that remote
nodes never count for membership."""

from __future__ import annotations

from pathlib import Path

import pytest
from paceline.executor.remote import LinkState, outcome_of
from paceline.lab import buses
from paceline.lab.lab import Lab, LabError
from paceline.membership.node_state import CibNodes
from paceline.shared import cib, lrm
from paceline.shared.cluster.remote_nodes import is_connection, node_state_ops, remote_node_names
from paceline.shared.credentials import CredentialError, Credentials, add_remote, keygen
from paceline.shared.messages import RemoteLinkReply
from paceline.shared.permissions import REMOTE, permissions, status_patch_refusal
from paceline.shared.subjects import Subjects

S = Subjects("c")


def _cib(resources: str, nodes: str = '<node id="1" uname="n1"/><node id="2" uname="n2"/>') -> cib.Element:
    return cib.parse_cib(f'<cib><configuration><crm_config/><nodes>{nodes}</nodes><resources>{resources}'
                         '</resources><constraints/></configuration><status/></cib>')


CONNECTIONS = ('<primitive id="r1" class="ocf" provider="pacemaker" type="remote"/>'
               '<primitive id="d1" class="ocf" provider="pacemaker" type="Dummy"/>'
               '<group id="g"><primitive id="r2" class="ocf" provider="pacemaker" type="remote"/></group>'
               '<primitive id="x" class="ocf" provider="heartbeat" type="remote"/>')


def test_remote_nodes_are_connection_primitives_and_guests_named_by_remote_node():
    assert remote_node_names(_cib(CONNECTIONS)) == ["r1", "r2"]
    guest = ('<primitive id="vm1" class="ocf" provider="heartbeat" type="VirtualDomain"><meta_attributes id="m">'
             '<nvpair id="m-rn" name="remote-node" value="guest1"/></meta_attributes></primitive>')
    assert remote_node_names(_cib(guest)) == ["guest1"]
    assert remote_node_names(_cib("")) == []
    assert is_connection("ocf", "pacemaker", "remote") and not is_connection("ocf", "heartbeat", "remote")


def test_the_remote_node_state_is_pacemakers():
    (up,) = node_state_ops("r1", up=True)
    assert up == {"op": "node_state", "attrs": {"id": "r1", "uname": "r1", "remote_node": "true", "in_ccm": "true",
                                               "crm-debug-origin": "remote_node_up"}}
    (down,) = node_state_ops("r1", up=False)
    assert down["attrs"]["in_ccm"] == "false" and "crmd" not in down["attrs"] and "join" not in down["attrs"]


def test_the_last_open_wins_and_only_the_linked_host_closes():
    link = LinkState()
    assert link.apply("check", "n1") == ""
    assert link.apply("open", "n1") == "n1"
    assert link.apply("open", "n2") == "n2"       # moved, or its host lost and the DC started it elsewhere
    assert link.apply("close", "n1") == "n2"      # the old host's late stop does not cut the new link
    assert link.apply("close", "n2") == ""


@pytest.mark.parametrize(("task", "reply", "rc"), [
    ("start", RemoteLinkReply(node="r1", host="n1", incarnation="a"), lrm.OCF_SUCCESS),
    ("start", None, lrm.OCF_ERR_GENERIC),
    ("start", RemoteLinkReply(node="r1", host="n2", incarnation="a"), lrm.OCF_ERR_GENERIC),
    ("monitor", RemoteLinkReply(node="r1", host="n1", incarnation="a"), lrm.OCF_SUCCESS),
    ("monitor", RemoteLinkReply(node="r1", host="", incarnation="b"), lrm.OCF_NOT_RUNNING),  # restarted
    ("monitor", RemoteLinkReply(node="r1", host="n2", incarnation="a"), lrm.OCF_NOT_RUNNING),
    ("monitor", None, lrm.OCF_NOT_RUNNING),
    ("stop", None, lrm.OCF_SUCCESS),
])
def test_a_connection_operation_reads_the_remote_executors_answer(task, reply, rc):
    outcome = outcome_of(task, "n1", reply, "r1")
    assert (outcome.rc, outcome.op_status) == (rc, lrm.EXEC_DONE)
    assert bool(outcome.exit_reason) == (rc not in (lrm.OCF_SUCCESS,))


def test_the_remote_role_is_an_executor_of_its_own_node_and_nothing_more():
    perm = permissions(S, REMOTE, "r1")
    published = set(perm.publish)
    assert {S.executor_event("r1"), S.cib_patch_by("executor", "r1")} <= published
    forbidden = {S.heartbeat("r1"), S.view("r1"), S.policy_alive("r1"), S.dc, S.transition, S.fenced_by("r1"),
                 S.executor_action("*"), S.executor("link", "*"), S.cib_patch_by("membership", "r1"),
                 *(S.cib(e) for e in ("replace", "modify", "patch", "erase", "cluster"))}
    assert not published & forbidden
    assert not any(p.startswith(("$JS", "$KV")) for p in published)
    assert S.executor_action("r1") in perm.subscribe and S.executor("link", "r1") in perm.subscribe
    assert S.heartbeats not in perm.subscribe
    # only cluster nodes' executors reach a remote node's link; the DC alone sends actions
    assert S.executor("link", "*") in permissions(S, "executor", "n1").publish


def test_the_host_writes_a_configured_remote_nodes_node_state_and_nothing_else():
    up, down = node_state_ops("r1", True), node_state_ops("r1", False)
    result = [{"op": "lrm_op", "rsc": "d1", "record": {"id": "d1_last_0"}}]
    assert status_patch_refusal("executor", "n1", "r1", up, ["r1"]) == ""
    assert status_patch_refusal("executor", "n1", "r1", down, ["r1"]) == ""
    assert "only its own node" in status_patch_refusal("executor", "n1", "r1", up, [])       # not configured
    assert "only its own node" in status_patch_refusal("executor", "n1", "n2", up, ["r1"])   # a cluster node
    assert "remote_node" in status_patch_refusal("executor", "n1", "r1", result, ["r1"])
    crmd = [{"op": "node_state", "attrs": {**up[0]["attrs"], "crmd": "online"}}]
    assert "'crmd'" in status_patch_refusal("executor", "n1", "r1", crmd, ["r1"])
    plain = [{"op": "node_state", "attrs": {"in_ccm": "true"}}]
    assert status_patch_refusal("executor", "n1", "r1", plain, ["r1"]) != ""
    # the remote node's own executor writes its own history as any executor does, and no node_state
    assert status_patch_refusal("executor", "r1", "r1", result) == ""
    assert "node_state" in status_patch_refusal("executor", "r1", "r1", up)


def test_remote_nodes_never_count_for_quorum():
    root = _cib('<primitive id="r1" class="ocf" provider="pacemaker" type="remote"/>',
                '<node id="1" uname="n1"/><node id="2" uname="n2"/><node id="r1" uname="r1"/>'
                '<node id="r2" uname="r2" type="remote"/>')
    nodes = CibNodes.from_root(root)
    assert nodes.count == 2 and set(nodes.ids) == {"n1", "n2"}


def test_keygen_makes_one_remote_user_per_remote_node(tmp_path: Path):
    keygen(tmp_path / "k", "c", {"n1": []}, remotes=["r1"])
    creds = Credentials(tmp_path / "k")
    assert creds.remotes == ["r1"] and "remote@r1" in creds.users()
    assert not any(user.endswith("@r1") and user != "remote@r1" for user in creds.users())
    add_remote(tmp_path / "k", "r2")
    assert creds.remotes == ["r1", "r2"] and "remote@r2" in creds.users()
    for clash in ("n1", "r2"):
        with pytest.raises(CredentialError, match="already named"):
            add_remote(tmp_path / "k", clash)
    with pytest.raises(ValueError, match="may only contain"):
        add_remote(tmp_path / "k", "bad.name")


def test_a_lab_remote_node_reaches_every_bus_server_and_has_no_vote(tmp_path: Path):
    lab = Lab(dir=tmp_path, nodes=["a", "b"], remotes=["r"])
    for server in buses.plan(["a", "b"], [], None, single=False).values():
        lab._record(server)
    env = lab.remote_env("r")
    assert env["PACELINE_NATS_URL"] == lab.nats_url and "," in env["PACELINE_NATS_URL"]
    assert "PACELINE_EXPECTED_VOTES" not in env and "PACELINE_EXPORTER_PORT" not in env
    assert env["HA_VARRUN"] == str(lab.node_dir("r") / "run")
    with pytest.raises(LabError, match="distinct"):
        Lab._check_names(["a", "b"], [], False, ["a"])


def test_naming_a_remote_node_in_a_node_command_declares_it_as_pacemakers_tools_do():
    from paceline.crm import CrmError, execute

    from tests.support.crm import CTX

    root = cib.empty(["n1", "n2"])
    execute(root, "configure primitive r1 ocf:pacemaker:remote", CTX)
    execute(root, "node standby r1", CTX)
    node = cib.node_by_uname(root, "r1")
    assert node is not None and (node.get("id"), node.get("type")) == ("r1", "remote")
    standby = node.find("instance_attributes/nvpair[@name='standby']")
    assert standby is not None and standby.get("value") == "on"
    assert CibNodes.from_root(root).count == 2  # still no vote
    execute(root, "node online r1", CTX)
    assert len(root.findall("configuration/nodes/node[@uname='r1']")) == 1
    with pytest.raises(CrmError, match="no node 'r9'"):
        execute(root, "node standby r9", CTX)
