"""configure-level commands against a running lab: each one's effect on the live cluster, one lab for all.

Resources are ``ocf:paceline:Dummy`` with their state file in the test's own
directory, so a test can make one "fail" behind the cluster's back by removing
the file and watch what the cluster does about it.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.cli_helpers import ok, running_on, status_json, wait_until, walk

pytestmark = pytest.mark.e2e


def resources(lab) -> dict[str, dict]:
    return {r["id"]: r for r in walk(status_json(lab)["resources"])}


def eventually(what: str, check, timeout: float = 30.0):
    return wait_until(what, check, timeout, interval=0.3)


def fail_count(lab, rsc: str, node: str) -> int:
    return int(ok(lab, "resource", "failcount", rsc, "show", node).rsplit("value=", 1)[1].split()[0])


@pytest.fixture(scope="module")
def clab(lab, tmp_path_factory):
    ok(lab, "configure", "property", "stonith-enabled=false")
    lab.state = tmp_path_factory.mktemp("state")
    return lab


def dummy(lab, rid: str, *extra: str) -> Path:
    state = lab.state / f"{rid}.state"
    ok(lab, "configure", "primitive", rid, "ocf:paceline:Dummy", "params", f"state={state}", *extra)
    return state


def test_template_and_monitor_commands_give_running_monitored_resources(clab):
    lab = clab
    ok(lab, "configure", "rsc_template", "tpl", "ocf:paceline:Dummy", "op", "monitor", "interval=2s")
    t1_state = lab.state / "t1.state"
    ok(lab, "configure", "primitive", "t1", "@tpl", "params", f"state={t1_state}")
    m1_state = dummy(lab, "m1")
    ok(lab, "configure", "monitor", "m1", "2s:20s")
    assert "rsc_template tpl ocf:paceline:Dummy" in ok(lab, "configure", "show", "tpl")
    for rsc, state in (("t1", t1_state), ("m1", m1_state)):
        node = eventually(f"{rsc} runs", lambda r=rsc: running_on(lab, r))[0]
        state.unlink()  # only a recurring monitor (the template's, or the one `monitor` added) notices
        eventually(f"{rsc}'s monitor found it stopped", lambda r=rsc, n=node: fail_count(lab, r, n) >= 1)
        eventually(f"{rsc} recovered", lambda s=state: s.exists())


def test_rename_moves_constraints_and_the_cluster_follows(clab):
    lab = clab
    dummy(lab, "old")
    ok(lab, "configure", "location", "l-old", "old", "100:", "secondary")
    eventually("old runs on secondary", lambda: running_on(lab, "old") == ["secondary"])
    assert "old to new" in ok(lab, "configure", "rename", "old", "new")
    assert ok(lab, "configure", "show", "l-old").strip() == "location l-old new 100: secondary"
    eventually("new runs on secondary, old is gone", lambda: running_on(lab, "new") == ["secondary"]
               and "old" not in resources(lab))


def test_save_erase_load_round_trip(clab, tmp_path):
    lab = clab
    saved = tmp_path / "cluster.crm"
    ok(lab, "configure", "save", str(saved))
    assert "primitive m1 Dummy" not in saved.read_text()      # agents outside heartbeat keep their class
    assert "primitive m1 ocf:paceline:Dummy" in saved.read_text()
    assert "committed" in ok(lab, "configure", "erase")
    assert "primitive" not in ok(lab, "configure", "show")
    assert "committed" in ok(lab, "configure", "load", "replace", str(saved))
    for rsc in ("t1", "m1", "new"):
        eventually(f"{rsc} runs again", lambda r=rsc: running_on(lab, r))
    assert ok(lab, "configure", "show").count("primitive") == 3


def test_refresh_discards_staged_changes_and_verify_and_show_xml(clab, tmp_path):
    lab = clab
    script = tmp_path / "staged.crm"
    script.write_text("configure\nprimitive staged ocf:paceline:Dummy\nrefresh\ncommit\n")
    ok(lab, "-y", "-f", str(script))                 # -y: a script may discard its staged changes
    assert "staged" not in ok(lab, "configure", "show")
    ok(lab, "configure", "verify")
    assert '<primitive id="m1" class="ocf" provider="paceline" type="Dummy">' in ok(lab, "configure", "show",
                                                                                       "xml", "m1")


def test_op_defaults_reach_every_operation(clab):
    lab = clab
    blocked_state = dummy(lab, "b1", "op", "monitor", "interval=2s")
    node = eventually("b1 runs", lambda: running_on(lab, "b1"))[0]
    ok(lab, "configure", "op_defaults", "on-fail=block")
    assert "on-fail=block" in ok(lab, "configure", "show")
    time.sleep(0.5)
    blocked_state.unlink()
    # on-fail=block from op_defaults: the failed monitor leaves b1 where it is, unmanaged, not restarted
    eventually("b1 is blocked", lambda: not resources(lab)["b1"]["managed"])
    time.sleep(3)
    assert not blocked_state.exists() and running_on(lab, "b1") == [node]


def test_clone_runs_an_instance_on_every_node_and_stops_as_one(clab):
    lab = clab
    ok(lab, "configure", "primitive", "cl", "ocf:paceline:Dummy", "op", "monitor", "interval=2s")
    ok(lab, "configure", "clone", "cl-clone", "cl")

    def nodes_running() -> set[str]:
        return {n for rid, r in resources(lab).items() if rid.startswith("cl:") for n in r["active_on"]}

    eventually("an instance on each node", lambda: nodes_running() == {"primary", "secondary"})
    assert "Started: [ primary secondary ]" in ok(lab, "status")
    ok(lab, "resource", "stop", "cl-clone")
    eventually("every instance stopped", lambda: not nodes_running())
    ok(lab, "resource", "start", "cl-clone")
    eventually("instances back", lambda: nodes_running() == {"primary", "secondary"})


def test_a_cloned_group_runs_whole_on_every_node_and_a_resource_follows_it(clab):
    lab = clab
    ok(lab, "configure", "primitive", "gm1", "ocf:paceline:Dummy", "op", "monitor", "interval=2s")
    ok(lab, "configure", "primitive", "gm2", "ocf:paceline:Dummy", "op", "monitor", "interval=2s")
    ok(lab, "configure", "group", "gm", "gm1", "gm2")
    ok(lab, "configure", "clone", "gm-clone", "gm")
    ok(lab, "configure", "primitive", "gm-user", "ocf:paceline:Dummy")
    ok(lab, "configure", "colocation", "user-with-gm", "inf:", "gm-user", "gm-clone")
    ok(lab, "configure", "order", "gm-then-user", "Mandatory:", "gm-clone", "gm-user")

    def members_on() -> dict[str, set[str]]:
        out: dict[str, set[str]] = {"gm1": set(), "gm2": set()}
        for member in walk(status_json(lab)["resources"]):
            base = member["id"].split(":")[0]
            if ":" in member["id"] and base in out:
                out[base] |= set(member["active_on"])
        return out

    both = {"primary", "secondary"}
    eventually("both members on both nodes", lambda: members_on() == {"gm1": both, "gm2": both})
    assert "Clone Set: gm-clone [gm]:" in ok(lab, "status")
    eventually("the user runs with an instance", lambda: running_on(lab, "gm-user") != [])
    node = running_on(lab, "gm-user")[0]
    ok(lab, "configure", "location", "no-gm-there", "gm-clone", "-inf:", node)
    eventually("the instance there stops and the user follows the other",
               lambda: members_on() == {"gm1": both - {node}, "gm2": both - {node}}
               and running_on(lab, "gm-user") == list(both - {node}))
    ok(lab, "configure", "delete", "no-gm-there", "user-with-gm", "gm-then-user", "gm-user")
    ok(lab, "resource", "stop", "gm-clone")
    eventually("every instance stopped", lambda: members_on() == {"gm1": set(), "gm2": set()})


def test_constraints_with_resource_sets_and_tags_take_effect(clab):
    lab = clab
    for rid in ("s1", "s2", "s3"):
        dummy(lab, rid)
    # Three resources make a set (crmsh's form): s2 goes with s1, s3 with s2 - all on one node.
    ok(lab, "configure", "colocation", "trio", "inf:", "s1", "s2", "s3")
    ok(lab, "configure", "order", "s1-first", "Mandatory:", "s1", "(", "s2", "s3", ")")

    def nodes() -> list[list[str]]:
        return [running_on(lab, r) for r in ("s1", "s2", "s3")]

    first = eventually("the trio together", lambda: nodes()[0] if nodes()[0] and nodes() == [nodes()[0]] * 3
                       else None)
    ok(lab, "configure", "tag", "the-trio", "s1", "s2", "s3")
    ok(lab, "configure", "location", "trio-away", "the-trio", "-inf:", first[0])
    eventually("the tagged trio moved together", lambda: nodes() == [[n] for n in ["primary", "secondary"]
                                                                     if n != first[0]] * 3)
    ok(lab, "resource", "stop", "s1")
    eventually("the set ordered after s1 stops with it", lambda: nodes() == [[], [], []])
    ok(lab, "configure", "delete", "trio-away", "the-trio", "trio", "s1-first", "s1", "s2", "s3")


def test_utilization_limits_what_runs_where_with_a_placement_strategy(clab):
    lab = clab
    for node in ("primary", "secondary"):
        ok(lab, "node", "utilization", node, "set", "slots", "1")
    for rid in ("u1", "u2", "u3"):
        dummy(lab, rid, "utilization", "slots=1")
    ok(lab, "configure", "property", "placement-strategy=utilization")

    def placed() -> list[str]:
        return sorted(n for r in ("u1", "u2", "u3") for n in running_on(lab, r))

    eventually("one slot used on each node, the third resource stopped",
               lambda: placed() == ["primary", "secondary"])
    ok(lab, "node", "utilization", "primary", "set", "slots", "2")
    eventually("room for the third", lambda: placed() == ["primary", "primary", "secondary"])
    ok(lab, "configure", "delete", "u1", "u2", "u3")
    ok(lab, "configure", "property", "placement-strategy=default")


def test_a_retried_identical_definition_succeeds_and_a_different_one_is_refused(clab):
    """The retry a user makes after 'the change may or may not have been applied' is safe."""
    lab = clab
    dummy(lab, "again", "op", "monitor", "interval=5s", "meta", "target-role=Stopped")
    before = ok(lab, "configure", "show", "xml")
    dummy(lab, "again", "op", "monitor", "interval=5s", "meta", "target-role=Stopped")  # the retry: no change
    assert ok(lab, "configure", "show", "xml") == before
    different = lab.paceline("configure", "primitive", "again", "ocf:paceline:Dummy")
    assert different.returncode == 1 and "already in use" in different.stderr
    ok(lab, "configure", "delete", "again")
