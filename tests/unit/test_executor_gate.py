"""The executor's admission of DC requests: by its node's membership view once it has one, else by term."""

from __future__ import annotations

import asyncio

import pytest
from paceline.executor.gate import MembershipGate, TermStore
from paceline.shared import admission
from paceline.shared.bus import UserError
from paceline.shared.messages import MembershipViewMessage

PAIR = ("n1", "n2")


def view(ring_id: int, members: tuple[str, ...] = PAIR, dc: str = "n1", node: str = "n1",
         incarnation: str = "m1") -> MembershipViewMessage:
    return MembershipViewMessage(node=node, incarnation=incarnation, ring_id=ring_id, members=members,
                                 quorate=True, dc=dc)


@pytest.fixture
def gate(tmp_path) -> MembershipGate:
    return MembershipGate("n1", TermStore(tmp_path / "executor.term"), patience=0.05)


async def test_without_a_view_the_term_decides(gate):
    await gate.admit("", (), 4)
    with pytest.raises(UserError) as err:
        await gate.admit("n1", PAIR, 3)
    assert err.value.code == "stale-term"


async def test_with_a_view_only_its_dc_over_its_members_is_admitted_and_terms_do_not_count(gate):
    await gate.admit("", (), 4)
    assert gate.see(view(7))
    await gate.admit("n1", ["n2", "n1"], 1)
    for dc, members in (("n2", PAIR), ("n1", ("n1",)), ("", PAIR)):
        with pytest.raises(UserError) as err:
            await gate.admit(dc, members, 9)
        assert err.value.code == admission.NOT_DC and err.value.details["dc"] == "n1"


def test_older_views_and_other_nodes_views_are_ignored(gate):
    assert gate.see(view(7))
    assert not gate.see(view(6, dc="n2"))
    assert not gate.see(view(9, dc="n2", node="n2"))
    assert gate.see(view(7, dc="n2"))                   # same ring, new verdict (a candidate appeared)
    assert gate.view is not None and gate.view.dc == "n2"


def test_a_restarted_membership_replaces_the_old_one_for_good(gate):
    assert gate.see(view(7))
    assert gate.see(view(1, dc="n2", incarnation="m2"))  # counts its rings again
    assert not gate.see(view(8, incarnation="m1"))       # a late message of the process it replaced
    assert gate.view is not None and (gate.view.incarnation, gate.view.ring_id) == ("m2", 1)


async def test_a_refused_request_waits_for_a_view_that_admits_it(gate):
    gate.patience = 1.0
    gate.see(view(7))
    trio = ("n1", "n2", "n3")
    pending = asyncio.create_task(gate.admit("n1", trio, 0))
    await asyncio.sleep(0.02)
    gate.see(view(8, members=PAIR, dc="n2"))             # still not admitted: keeps waiting
    await asyncio.sleep(0.02)
    assert not pending.done()
    gate.see(view(9, members=trio))
    await asyncio.wait_for(pending, 0.5)


async def test_a_forged_far_future_term_does_not_outlive_the_first_view(tmp_path):
    """Before its first view an executor goes by the highest term it saw; a forged one (999999999) would refuse
    every real DC after each restart. The first view decides from then on and the term file is removed."""
    path = tmp_path / "executor.term"
    gate = MembershipGate("n1", TermStore(path), patience=0.05)
    await gate.admit("", (), 999_999_999)
    assert path.exists()
    assert gate.see(view(3))
    assert not path.exists()
    restarted = MembershipGate("n1", TermStore(path), patience=0.05)
    await restarted.admit("n1", PAIR, 4)  # before its own first view: term 4 is not refused


async def test_a_reset_is_obeyed_only_from_the_dc_of_the_nodes_view_or_by_term_before_any_view(gate):
    await gate.admit_reset("n2", 5)            # no view yet: the term decides
    with pytest.raises(UserError) as err:
        await gate.admit_reset("n2", 4)
    assert err.value.code == "stale-term"
    assert gate.see(view(7))
    await gate.admit_reset("n1", 0)            # the view's DC: terms no longer count
    for dc in ("n2", ""):
        with pytest.raises(UserError) as err:
            await gate.admit_reset(dc, 999_999_999)
        assert err.value.code == admission.NOT_DC and "not the DC" in str(err.value)


def test_a_fencing_result_counts_only_from_the_dc_it_names_and_this_nodes_view_elects():
    assert admission.fencing_refusal("n1", "n1", "n1") == ""
    assert "names n1" in admission.fencing_refusal("n1", "n3", "n1")   # n3's policy posing as the DC
    assert "not the DC" in admission.fencing_refusal("n1", "n3", "n3")
    assert "elects no DC" in admission.fencing_refusal("", "n1", "n1")
