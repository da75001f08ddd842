"""Tickets: ``rsc_ticket`` dependencies and ticket states in the scheduler.

Each expected Transition Summary below is what Debian's crm_simulate 2.1.5 prints for the same CIB
(``/work/shared/tools/pcmk_oracle.py -x CIB -S``; ``python -m tests.unit.test_scheduler_tickets DIR``
writes every CIB of this module to DIR to check them again).
"""

from __future__ import annotations

import sys
from pathlib import Path

from paceline.policy.scheduler import instances
from paceline.policy.scheduler.tickets import promotion_ban
from paceline.shared.cib import parse_cib
from paceline.shared.cluster import render_status
from paceline.shared.cluster.tickets import read_states
from paceline.shared.cluster.unpack import unpack
from paceline.shared.lrm import pacemaker_digest

from tests.support.cibs import NOW, both_online, cib, folded, node_state, op, prim, run, up


def tickets(*states: str) -> str:
    """The status section's ``<tickets>``: ``"T"`` granted, ``"T:revoked"``, ``"T:standby"`` (granted)."""
    out = ""
    for spec in states:
        tid, _, how = spec.partition(":")
        granted = "false" if how == "revoked" else "true"
        standby = ' standby="true"' if how == "standby" else ""
        out += f'<ticket_state id="{tid}" granted="{granted}"{standby} last-granted="{int(NOW) - 60}"/>'
    return f"<tickets>{out}</tickets>" if out else ""


def dep(rsc: str, policy: str | None = None, role: str | None = None, ticket: str = "T") -> str:
    """``rsc_ticket`` of one resource."""
    extra = (f' loss-policy="{policy}"' if policy else "") + (f' rsc-role="{role}"' if role else "")
    return f'<rsc_ticket id="{rsc}-needs-{ticket}" rsc="{rsc}" ticket="{ticket}"{extra}/>'


def one_running(policy: str | None, *states: str, running: bool = True, options: dict[str, str] | None = None,
                resources: str = "") -> str:
    """d1 (running on node1 or not) depends on ticket T."""
    lrm = up("d1") if running else ""
    return cib(prim("d1") + resources, tickets(*states) + both_online(lrm), dep("d1", policy), options=options)


# ------------------------------------------------------------------ one primitive

def test_a_ticket_only_a_constraint_names_is_not_granted():
    assert folded(run(one_running(None, running=False))) == []
    assert folded(run(one_running(None, "T", running=False))) == ["* Start d1 ( node1 )"]


def test_standby_and_revoked_tickets_keep_a_stopped_resource_stopped_whatever_the_loss_policy():
    for policy in ("stop", "demote", "freeze", None):
        assert folded(run(one_running(policy, "T:standby", running=False))) == [], policy
        assert folded(run(one_running(policy, "T:revoked", running=False))) == [], policy


def test_loss_policy_stop_and_demote_stop_a_running_resource():
    for policy in ("stop", "demote", None):
        assert folded(run(one_running(policy, "T:revoked"))) == \
            ["* Stop d1 ( node1 ) due to node availability"], policy
    assert folded(run(one_running("stop", "T"))) == []


def test_standby_stops_even_a_frozen_resource():
    assert folded(run(one_running("freeze", "T:standby"))) == ["* Stop d1 ( node1 ) due to node availability"]


def test_loss_policy_freeze_leaves_a_running_resource_unmanaged_where_it_is():
    result = run(one_running("freeze", "T:revoked"))
    assert folded(result) == []
    d1 = result.state.by_id["d1"]
    assert not d1.managed and d1.status.blocked and d1.place.assigned == "node1"
    # Frozen, not failed: a frozen clone instance is not sorted behind its siblings as a failed one is, and
    # the status shows no FAILED.
    assert d1.status.frozen and not instances.did_fail(d1)
    assert not any("FAILED" in line for line in render_status(result.state))


def test_loss_policy_fence_fences_the_node_the_resource_runs_on():
    fencing = '<primitive id="fence" class="stonith" type="fence_dummy"/>'
    result = run(one_running("fence", "T:revoked", options={"stonith-enabled": "true"}, resources=fencing))
    assert folded(result) == ["* Fence (reboot) node1 'deadman ticket was lost'",
                              "* Stop d1 ( node1 ) due to node availability",
                              "* Start fence ( node2 )"]


def test_loss_policy_fence_without_fencing_is_stop_and_a_configuration_error():
    result = run(one_running("fence", "T:revoked"))
    assert folded(result) == ["* Stop d1 ( node1 ) due to node availability"]
    assert any("loss-policy=fence" in e and "using stop" in e for e in result.state.config_errors)


# ------------------------------------------------------------------ groups, clones, sets

def test_a_group_depends_member_by_member():
    group = f'<group id="g">{prim("a")}{prim("b")}</group>'
    status = tickets("T:revoked") + both_online(up("a", "b"))
    assert folded(run(cib(group, status, dep("g", "stop")))) == [
        "* Stop a ( node1 ) due to node availability", "* Stop b ( node1 ) due to node availability"]


def promotable(status: str, constraints: str) -> str:
    """A promotable clone ``ms`` of a Stateful ``s`` (promoted-max 1)."""
    clone = ('<clone id="ms"><meta_attributes id="ms-meta"><nvpair id="ms-p" name="promotable" value="true"/>'
             '</meta_attributes><primitive id="s" class="ocf" provider="pacemaker" type="Stateful">'
             '<operations><op id="s-m1" name="monitor" interval="10s" role="Promoted"/>'
             '<op id="s-m2" name="monitor" interval="11s" role="Unpromoted"/></operations></primitive></clone>')
    return cib(clone, status, constraints)


def stateful(role_rc: int) -> str:
    """``s`` running on a node: promoted (rc 8 of its probe) or unpromoted (rc 0)."""
    return (f'<lrm_resource id="s" class="ocf" provider="pacemaker" type="Stateful">'
            f'{op("s", "monitor", rc=role_rc, digest=pacemaker_digest({}))}</lrm_resource>')


def test_promoted_role_dependency_demotes_on_loss_and_never_promotes_without_the_ticket():
    status = both_online(stateful(8), stateful(0))
    attrs = {"master-s": "10"}
    states = node_state("node1", lrm=stateful(8), attrs=attrs) + node_state("node2", lrm=stateful(0), attrs=attrs)
    assert folded(run(promotable(tickets("T:revoked") + states, dep("ms", None, "Promoted")))) == [
        "* Demote s:0 ( Promoted -> Unpromoted node1 )"]
    assert folded(run(promotable(tickets("T") + states, dep("ms", None, "Promoted")))) == []
    # Stopped, without the ticket: the instances start, none is promoted.
    assert folded(run(promotable(both_online(), dep("ms", None, "Promoted")))) == [
        "* Start s:0 ( node1 )", "* Start s:1 ( node2 )"]
    # Without the ticket and loss-policy=stop for the promoted role, every instance stops.
    assert folded(run(promotable(tickets("T:revoked") + status, dep("ms", "stop", "Promoted")))) == [
        "* Stop s:0 ( Promoted node1 ) due to node availability",
        "* Stop s:1 ( Unpromoted node2 ) due to node availability"]


def test_resource_sets_each_with_its_role():
    resources = prim("d1") + prim("d2")
    constraint = ('<rsc_ticket id="sets" ticket="T" loss-policy="stop">'
                  '<resource_set id="sets-0"><resource_ref id="d1"/><resource_ref id="d2"/></resource_set>'
                  '</rsc_ticket>')
    status = tickets("T:revoked") + both_online(up("d1"), up("d2"))
    result = run(cib(resources, status, constraint))
    assert folded(result) == ["* Stop d1 ( node1 ) due to node availability",
                              "* Stop d2 ( node2 ) due to node availability"]
    assert [(d.id, d.rsc.id, d.loss_policy) for d in result.state.rsc_tickets] == [
        ("sets-0", "d1", "stop"), ("sets-0", "d2", "stop")]


def test_a_template_in_a_set_names_every_resource_made_from_it():
    resources = ('<template id="tpl" class="ocf" provider="heartbeat" type="Dummy"/>'
                 '<primitive id="d1" template="tpl"/><primitive id="d2" template="tpl"/>' + prim("d3"))
    constraint = ('<rsc_ticket id="t" ticket="T"><resource_set id="t-0" role="Started">'
                  '<resource_ref id="tpl"/></resource_set></rsc_ticket>')
    assert folded(run(cib(resources, both_online(), constraint))) == ["* Start d3 ( node1 )"]


# ------------------------------------------------------------------ reading

def test_ticket_states_are_read_from_the_status_section():
    root = parse_cib(cib("", tickets("A", "B:revoked", "C:standby") + both_online()))
    states = read_states(root)
    assert {t.id: (t.granted, t.standby, t.usable) for t in states.values()} == {
        "A": (True, False, True), "B": (False, False, False), "C": (True, True, False)}
    assert states["A"].last_granted == int(NOW) - 60


def test_what_cannot_be_used_is_a_configuration_error_and_changes_nothing():
    bad = ('<rsc_ticket id="no-ticket" rsc="d1"/>'
           '<rsc_ticket id="no-rsc" ticket="T"/>'
           '<rsc_ticket id="unknown" rsc="nothing" ticket="T"/>'
           '<rsc_ticket id="odd" rsc="d1" ticket="T" loss-policy="explode"/>')
    state = unpack(parse_cib(cib(prim("d1"), tickets("T") + both_online(), bad)), NOW)
    assert state.config_errors == [
        "rsc_ticket 'no-ticket': ticket is missing; constraint ignored",
        "rsc_ticket 'no-rsc': rsc is missing; constraint ignored",
        "rsc_ticket 'unknown': rsc='nothing', not a resource or tag that can be used; constraint ignored",
        "rsc_ticket 'odd': loss-policy='explode' is not one of stop, demote, fence, freeze; using stop"]
    assert [(d.id, d.loss_policy) for d in state.rsc_tickets] == [("odd", "stop")]


def test_promotion_ban_needs_a_dependency_of_the_clone_for_the_promoted_role():
    state = unpack(parse_cib(promotable(both_online(), dep("ms", None, "Promoted"))), NOW)
    assert promotion_ban(state, state.by_id["ms"]) < 0
    state = unpack(parse_cib(promotable(tickets("T") + both_online(), dep("ms", None, "Promoted"))), NOW)
    assert promotion_ban(state, state.by_id["ms"]) == 0


# ------------------------------------------------------------------ anonymous clone histories

def test_an_anonymous_clones_history_numbers_mean_nothing():
    # node1 recorded the instance as d:1, node2 as d:0: Pacemaker gives node1's the first free instance.
    clone = f'<clone id="c">{prim("d")}</clone>'
    status = tickets("T:revoked") + both_online(up("d:1"), up("d:0"))
    assert folded(run(cib(clone, status, dep("c", "stop")))) == [
        "* Stop d:0 ( node1 ) due to node availability", "* Stop d:1 ( node2 ) due to node availability"]


def _write_all(directory: str) -> None:
    """Write the CIBs of this module's tests to ``directory`` (for checking them with crm_simulate)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    import tests.support.cibs as cibs

    seen: list[str] = []
    real_run = cibs.run

    def capture(xml: str) -> object:
        seen.append(xml)
        return real_run(xml)

    module = sys.modules[__name__]
    module.run = capture  # type: ignore[attr-defined]
    try:
        for name in dir(module):
            if name.startswith("test_"):
                before = len(seen)
                try:
                    getattr(module, name)()
                except AssertionError as e:
                    print(f"{name}: FAILS ({e})")
                for i, xml in enumerate(seen[before:]):
                    (out / f"{name}-{i}.xml").write_text(xml)
    finally:
        module.run = real_run  # type: ignore[attr-defined]


if __name__ == "__main__":
    _write_all(sys.argv[1])
