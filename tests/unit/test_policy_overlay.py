"""What the DC knows better than the CIB: laid over its copy, the plan follows it (pure, no bus)."""

from __future__ import annotations

from paceline.policy.scheduler import schedule
from paceline.shared import cib
from paceline.shared.cluster import fencing
from paceline.shared.cluster.overlay import Known, lay_over

from tests.support.cibs import NOW, node_state, prim, running
from tests.support.cibs import cib as make_cib


def lrm_of(*records: str) -> cib.Element:
    """An executor's ``<lrm>`` as it would answer ``executor.history``."""
    return cib.parse(f"<lrm><lrm_resources>{''.join(records)}</lrm_resources></lrm>")


def plan(root: cib.Element) -> list[str]:
    return [" ".join(line.split()) for line in schedule(root, now=NOW).summary]


def three_nodes(status: str, options: dict[str, str] | None = None) -> cib.Element:
    return cib.parse_cib(make_cib(prim("a") + prim("b"), status, nodes=("n1", "n2", "n3"), options=options))


def test_a_start_the_cib_never_recorded_is_not_started_twice():
    """The chaos bench's double start: n2's executor ran b but the CIB write was stuck behind a JetStream
    election; planning from the CIB alone starts b a second time."""
    status = node_state("n1", lrm=running("a")) + node_state("n2") + node_state("n3")
    from_cib = three_nodes(status)
    assert any("Start" in line and " b " in f" {line} " for line in plan(from_cib))
    root = three_nodes(status)
    lay_over(root, Known(members=frozenset({"n1", "n2", "n3"}), histories={"n2": lrm_of(running("b"))}))
    assert not [line for line in plan(root) if "Start" in line]


def test_members_are_online_and_lost_nodes_down_whatever_the_cib_still_says():
    status = node_state("n1", lrm=running("a")) + node_state("n2", lrm=running("b")) + node_state("n3", online=False)
    root = three_nodes(status)
    lay_over(root, Known(members=frozenset({"n1", "n3"}), gone=frozenset({"n2"})))
    states = {ns.get("uname"): ns.get("crmd") for ns in root.iterfind("status/node_state")}
    assert states == {"n1": "online", "n2": "offline", "n3": "online"}
    assert any("Move" in line or "Recover" in line or "Start" in line for line in plan(root) if " b " in f" {line} ")


def test_a_lost_node_that_runs_something_is_fenced_and_once_fenced_runs_nothing():
    status = node_state("n1") + node_state("n2", lrm=running("b")) + node_state("n3")
    options = {"stonith-enabled": "true"}
    root = three_nodes(status, options)
    members = frozenset({"n1", "n3"})
    lay_over(root, Known(members=members, gone=frozenset({"n2"}), histories={"n2": lrm_of(running("b"))}))
    assert schedule(root, now=NOW).state.nodes["n2"].unclean
    root = three_nodes(status, options)
    fenced = {"n2": fencing.victim_status_ops("reboot", int(NOW))}
    lay_over(root, Known(members=members, gone=frozenset({"n2"}), histories={"n2": lrm_of(running("b"))},
                         fenced=fenced))
    state = schedule(root, now=NOW).state
    assert not state.nodes["n2"].unclean and not state.nodes["n2"].online
    assert cib.node_state(root, "n2").find("lrm") is None


def test_histories_replace_the_cibs_copy_and_are_not_shared():
    history = lrm_of(running("b"))
    root = three_nodes(node_state("n1", lrm=running("a")) + node_state("n2") + node_state("n3"))
    lay_over(root, Known(members=frozenset({"n1", "n2", "n3"}), histories={"n1": history, "n2": history}))
    n1 = cib.node_state(root, "n1")
    assert [lr.get("id") for lr in n1.iterfind("lrm/lrm_resources/lrm_resource")] == ["b"]
    for lrm in n1.findall("lrm/lrm_resources"):
        lrm.clear()
    assert len(history.findall("lrm_resources/lrm_resource")) == 1  # the cached copy is intact


def test_a_node_lost_without_a_clean_shutdown_is_fenced_even_if_the_cibs_copy_shows_it_empty():
    """A hung node's resource must not start elsewhere before it is fenced. The DC's copy of the CIB may be
    stale (read before the node started anything) and its history unfetchable (the node hangs): as in
    Pacemaker, a node that was a member and vanished is unclean whatever its recorded history says."""
    status = node_state("n1") + node_state("n2") + node_state("n3")  # the stale copy: n2 runs nothing
    options = {"stonith-enabled": "true"}
    members = frozenset({"n1", "n3"})
    device = '<primitive id="fence" class="stonith" type="fence_x"/>'
    root = cib.parse_cib(make_cib(prim("a") + device, status, nodes=("n1", "n2", "n3"), options=options))
    lay_over(root, Known(members=members, gone=frozenset({"n2"}), unclean=frozenset({"n2"})))
    assert schedule(root, now=NOW).state.nodes["n2"].unclean
    assert any("Fence (reboot) n2" in line for line in plan(root)), plan(root)
    # Fenced since (by another DC, whose record the copy holds): cleanly down, nothing to fence.
    root = three_nodes(node_state("n1") + node_state("n2", online=False) + node_state("n3"), options)
    lay_over(root, Known(members=members, gone=frozenset({"n2"})))
    assert not schedule(root, now=NOW).state.nodes["n2"].unclean
    # Without fencing the scheduler reads it as merely offline, as Pacemaker does.
    root = three_nodes(status)
    lay_over(root, Known(members=members, gone=frozenset({"n2"}), unclean=frozenset({"n2"})))
    state = schedule(root, now=NOW).state
    assert not state.nodes["n2"].unclean and not state.nodes["n2"].online
